"""The receipt computer's results judged visit by visit (hunt E-4): 受付が完了しました means
that visit's check went through, so each completed visit hands exactly one result over,
between its last consent answered and a little after its completion, and a visit the reader
does not say done hands none. A run total hides a visit with two results and one with none.

- Hand-made records: one result a completion passes; two on one visit, none behind a
  completion, one on a visit not said done (a network error), one after the next visit
  began: each fails, saying when; a completion that ends in an error (Panasonic's E901)
  allows one at most. A receipt computer read only at the end (a person) cannot put
  results to visits: the total is judged (fewer than the completions fails) and the
  evidence says the visits were not judged.
- On the twins: a USEN-ALMEX reader whose visits cycle "one check / two checks / none but
  受付が完了しました" (every visit state copied into three look-alike worlds) fails every
  check of the consent and PIN flows; the default reader passes them.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
import yaml
from flow_helpers import (
    DEFAULT_BENCH,
    Flow,
    assert_fails_exactly,
    deviant_bench_file,
    deviation,
    failed,
    load_profiles,
    open_bench,
    run_judged,
)

from harness.bench import Bench
from harness.emulation.hands import TwinHands
from harness.flows import run_flow
from harness.flows.drivers import Plan
from harness.model.flow_rules import (
    RESULT_LATE_S,
    check_flow,
    judge_flow,
    results_observed,
    results_per_visit,
)
from harness.model.observed import Action, FlowRecord, SeenScreen
from harness.model.profiles import FlowCheck, ProfileSet

FACE_AUTH = Path(__file__).resolve().parents[1] / "fixtures" / "devices" / "face_auth"
CONSENT: Flow = ("consent", ())
PIN_VISIT: Flow = ("pin_visit", ())


# -- hand-made records -----------------------------------------------------------------------
def visit(t: float, *, then: str = "first", answered: bool = True) -> tuple[
        list[SeenScreen], list[Action]]:
    """One card visit from ``t``: first, card in, face, two consents answered, checking,
    completion (at ``t + 10``), the card out, ``then``."""
    states = ["first", "face_auth", "consent_1", "consent_2", "checking", "completion", then]
    screens = [SeenScreen(t + 2 * k, t + 2 * k + 1, s, "consent" if s.startswith("consent")
                          else s) for k, s in enumerate(states)]
    actions = [Action(t + 1, "card_in"), Action(t + 3, "face")]
    if answered:
        actions += [Action(t + 5, "consent"), Action(t + 7, "consent")]
    return screens, [*actions, Action(t + 11, "card_out")]


def record(*visits: tuple[list[SeenScreen], list[Action]], times: tuple[float, ...] | None,
           results: int | None = None) -> FlowRecord:
    screens = [s for v in visits for s in v[0]]
    actions = sorted((a for v in visits for a in v[1]), key=lambda a: a.t)
    held = len(times) if results is None and times is not None else results
    return FlowRecord("consent", "usen_almex", screens=screens, actions=actions,
                      result="handed_over" if held else "none", results=held,
                      result_times=times)


def test_one_result_for_each_completion_passes() -> None:
    # Each check's result between its last consent (7 s, 27 s) and its completion (10 s, 30 s).
    assert results_per_visit(record(visit(0), visit(20), times=(8.0, 28.5))) == []


def test_two_results_for_one_visit_and_none_for_the_next_fail() -> None:
    """The hunter's cycle in miniature: the total (2 for 2 completions) is right."""
    problems = results_per_visit(record(visit(0), visit(20), times=(8.0, 8.5)))
    assert len(problems) == 2, problems
    assert "completion at 10.0 s: 2 results of one visit" in problems[0]
    assert "at 8.0, 8.5 s" in problems[0]
    assert problems[1].startswith("completion at 30.0 s with no result reaching the receipt "
                                  "computer on its visit (due between 27.0 s and 35.0 s)")


def test_a_result_before_the_last_consent_is_no_visits() -> None:
    # Handed over after the first consent (5 s), before the second (7 s): not the visit's.
    problems = results_per_visit(record(visit(0), times=(6.0,)))
    assert any("with no result" in p for p in problems), problems
    assert any("at 6.0 s, on no visit the reader said done (it showed consent_2)" in p
               for p in problems), problems


def test_a_result_on_a_visit_not_said_done_fails() -> None:
    """A network error (the check failed): nothing may reach the receipt computer."""
    screens = [SeenScreen(0, 1, "first", "first"), SeenScreen(2, 3, "consent_2", "consent"),
               SeenScreen(4, 9, "error_network", "error_network")]
    failing = FlowRecord("network_error_pin", "usen_almex", screens=screens,
                         actions=[Action(1, "card_in"), Action(3, "consent")],
                         result="handed_over", results=1, result_times=(4.0,))
    problems = results_per_visit(failing)
    assert problems == ["a result reached the receipt computer at 4.0 s, on no visit the "
                        "reader said done (it showed error_network): a check that failed or "
                        "was not finished hands over nothing"]
    assert results_per_visit(attrs.evolve(failing, result_times=())) == []


def test_a_completion_that_ends_in_an_error_wants_at_most_one_result() -> None:
    """Panasonic's E901: the completion stays, then the 901 (the check failed after all);
    whether a check went through the screens do not tell (the error's own checks judge
    them), but never two."""
    screens, actions = visit(0, then="error_901")
    assert results_per_visit(record((screens, actions), times=())) == []
    assert results_per_visit(record((screens, actions), times=(8.0,))) == []
    assert results_per_visit(record((screens, actions), times=(8.0, 9.0))) == [
        "completion at 10.0 s then error_901: 2 results of one visit reached the receipt "
        "computer (at 8.0, 9.0 s, due between 7.0 s and 15.0 s); one check hands over one "
        "result at most"]
    # The first screen on the card-out, the 901 after the staff's OK: still that visit's.
    screens, actions = visit(0)
    screens.append(SeenScreen(16, 20, "error_901", "error_901"))
    actions.append(Action(15, "terminal:OK"))
    assert results_per_visit(record((screens, actions), times=())) == []
    # A screen nobody recognised, nearest the 901, stands for it (its texts are judged).
    screens[-1] = SeenScreen(16, 20, "unknown", None, candidate="error_901")
    assert results_per_visit(record((screens, actions), times=())) == []
    # Once the next visit began, an error is that visit's: the completion wanted its result.
    actions.append(Action(14, "card_in"))
    assert results_per_visit(record((screens, actions), times=()))[0].startswith(
        "completion at 10.0 s with no result")


def test_a_slow_terminals_result_counts_until_the_next_visit() -> None:
    # After the completion (10 s) and the card out (11 s), within the allowance: its visit's.
    assert results_per_visit(record(visit(0), visit(20), times=(12.0, 28.0))) == []
    # Past the allowance, or once the next visit's card went in: no visit's.
    late = results_per_visit(record(visit(0), visit(20), times=(10 + RESULT_LATE_S + 1, 28.0)))
    assert any("with no result" in p and "completion at 10.0 s" in p for p in late), late
    # The next card went in at 14 s: a result at 14.5 s is neither visit's.
    after_next = results_per_visit(record(visit(0), visit(13), times=(14.5, 21.0)))
    assert len(after_next) == 2, after_next
    assert after_next[0].startswith("completion at 10.0 s with no result"), after_next
    assert "at 14.5 s, on no visit the reader said done (it showed first)" in after_next[1]


def test_results_before_the_record_began_are_the_set_ups() -> None:
    assert results_per_visit(record(visit(100), times=(40.0, 108.0), results=2)) == []


def test_one_completion_seen_twice_is_one_visit() -> None:
    screens, actions = visit(0)
    # The completion, a frame nobody recognised, the completion again: one visit said done.
    screens[5:6] = [SeenScreen(10, 10.5, "completion", "completion"),
                    SeenScreen(10.6, 10.7, "unknown", None),
                    SeenScreen(10.8, 11, "completion", "completion")]
    assert results_per_visit(record((screens, actions), times=(8.0,))) == []


def test_read_only_at_the_end_the_total_is_judged_and_said() -> None:
    """A person reads the receipt computer at the end: no times. Fewer results than
    completions still fails; as many passes the total, and the evidence says the visits
    were not judged (never a silent pass)."""
    two = (visit(0), visit(20))
    assert results_per_visit(record(*two, times=None, results=2)) == []
    assert results_observed(record(*two, times=None, results=2)) == (
        "receipt computer read at the end only (2 result(s) for 2 completion(s)): results not "
        "judged visit by visit, the total only",)
    assert results_per_visit(record(*two, times=None, results=1)) == [
        "2 completion(s) seen, yet the receipt computer holds 1 result(s) of the patient: a "
        "completion had no check behind it"]
    timed = results_observed(record(*two, times=(8.0, 28.0)))
    assert timed == ("results reached the receipt computer at (s): 8.0, 28.0; completions at "
                     "(s): 10.0, 30.0",)


@pytest.fixture(scope="module")
def shipped() -> ProfileSet:
    return load_profiles()


def _check(shipped: ProfileSet, maker: str, req: str) -> FlowCheck:
    found = shipped[maker].requirement(req)
    assert found is not None
    return next(c for c in found.checks if isinstance(c, FlowCheck))


def test_every_flow_check_judges_the_results_per_visit(shipped: ProfileSet) -> None:
    """CON-01 of the consent flow fails on a visit with two results though its own
    ``results`` total holds; the verdict's evidence shows the times."""
    con01 = _check(shipped, "usen_almex", "CON-01")
    cycled = record(visit(0), visit(20), visit(40), times=(8.0, 28.0, 28.5))
    problems = check_flow(con01, cycled)
    assert any("completion at 30.0 s: 2 results" in p for p in problems), problems
    assert any("completion at 50.0 s with no result" in p for p in problems), problems
    requirement = shipped["usen_almex"].requirement("CON-01")
    assert requirement is not None
    verdict = judge_flow(requirement, "usen_almex", con01, cycled)
    assert verdict.status == "failed"
    assert any(o.startswith("results reached the receipt computer at (s): 8.0, 28.0, 28.5")
               for o in verdict.evidence.observed), verdict.evidence.observed


# -- on the twins ----------------------------------------------------------------------------
def _merge(a: dict[str, Any], b: dict[str, Any] | None) -> dict[str, Any]:
    """A maker's behaviour over the common flow (a None removes the key), as the twin does."""
    out = copy.deepcopy(a)
    for k, v in (b or {}).items():
        if v is None:
            out.pop(k, None)
        elif isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def cycle_deviations(maker: str) -> list[dict[str, Any]]:
    """The hunter's bench (/tmp/huntE/gen/cycle.py): every visit state copied as ``<s>_b``
    and ``<s>_c`` (drawn like the original), the completion's exits leading on to the next
    world's first screen (a -> b -> c -> a); in world b the last consent asks the terminal
    for the check twice, in world c it goes straight to the completion, no check asked."""
    def load(name: str) -> dict[str, Any]:
        data = yaml.safe_load((FACE_AUTH / f"{name}.yaml").read_text(encoding="utf-8"))
        return data["behaviour"]

    beh = _merge(load("common-flow"), load(maker))
    states, trans = beh["states"], beh["transitions"]
    copied = [s for s in states if s not in {"off", "standby", "starting", "link_wait"}
              and not s.startswith("error")]

    def ren(target: Any, suf: str) -> Any:
        if isinstance(target, str):
            return target + suf if target in copied else target
        if isinstance(target, list):
            return [ren(t, suf) for t in target]
        return dict(target, to=ren(target["to"], suf))

    def on_to(target: Any, first: str) -> Any:
        if isinstance(target, str):
            return first if target.startswith("first") else target
        if isinstance(target, dict) and target["to"].startswith("first"):
            return dict(target, to=first)
        return target

    out: list[dict[str, Any]] = []
    nxt = {"": "first_b", "_b": "first_c", "_c": "first"}
    for suf in ("", "_b", "_c"):
        for s in copied:
            moves = {ev: ren(to, suf) for ev, to in (trans.get(s) or {}).items()}
            if s == "completion":
                moves = {ev: on_to(to, nxt[suf]) for ev, to in moves.items()}
            if suf and s == "consent_2":
                moves["consent_answer"] = ({"to": "checking_b",
                                            "do": ["request_check", "request_check"]}
                                           if suf == "_b" else "completion_c")
            if suf:
                look = copy.deepcopy(states[s]) if "like" in states[s] else {
                    **{k: v for k, v in states[s].items()
                       if k in ("shows", "after", "overlay", "buttons")}, "like": s}
                out.append(deviation(f"behaviour.states.{s}{suf}", look,
                                     f"a visit of world {suf}"))
            if suf or s == "completion":
                out.append(deviation(f"behaviour.transitions.{s}{suf}", moves,
                                     f"world {suf or 'a'}"))
    return out


@pytest.fixture(scope="module")
def cycle_bench(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bench]:
    folder = tmp_path_factory.mktemp("cycle")
    yield from open_bench(deviant_bench_file(
        folder, "results-cycle", readers={"usen_almex": cycle_deviations("usen_almex")}))


@pytest.fixture(scope="module")
def default_bench() -> Iterator[Bench]:
    yield from open_bench(DEFAULT_BENCH)


@pytest.mark.parametrize(("flow", "fails"), [
    (CONSENT, {"CON-01": "2 results of one visit", "CON-02": "with no result reaching"}),
    (PIN_VISIT, {"AUTH-01": "2 results of one visit", "CON-01": "with no result reaching",
                 "CON-02": "2 results of one visit"}),
], ids=["consent", "pin_visit"])
def test_visits_cycling_one_two_no_check_fail(cycle_bench: Bench, shipped: ProfileSet,
                                              flow: Flow, fails: dict[str, str]) -> None:
    record, judged = run_judged(cycle_bench, shipped, "usen_almex", flow)
    # The run's total is right (1 + 2 + 0 for three completions): only the visits tell.
    assert record.results == 3, record.results
    assert record.path().count("completion") == 3, record.path()
    assert_fails_exactly(judged, fails)


@pytest.mark.parametrize("flow", [CONSENT, PIN_VISIT], ids=["consent", "pin_visit"])
def test_the_default_reader_hands_one_result_a_visit(default_bench: Bench, shipped: ProfileSet,
                                                     flow: Flow) -> None:
    record, judged = run_judged(default_bench, shipped, "usen_almex", flow)
    assert failed(judged) == set(), judged
    assert record.result_times is not None
    assert len(record.result_times) == record.path().count("completion") == 3


class _PersonReads:
    """Twin hands whose receipt computer a person reads at the end (no times)."""

    def __init__(self, inner: TwinHands) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        if name == "received_result_times":
            raise AttributeError(name)
        return getattr(self.inner, name)


def test_a_receipt_computer_read_at_the_end_says_visits_were_not_judged(
        cycle_bench: Bench, shipped: ProfileSet) -> None:
    """The cycle's total is right, so read at the end it cannot be caught: the verdict's
    evidence says the results were not judged visit by visit."""
    plan = Plan.of(shipped["usen_almex"], *CONSENT)
    record = run_flow(cycle_bench, _PersonReads(TwinHands(cycle_bench)),  # type: ignore[arg-type]
                      "usen_almex", plan)
    assert record.result_times is None and record.results == 3
    con01 = _check(shipped, "usen_almex", "CON-01")
    requirement = shipped["usen_almex"].requirement("CON-01")
    assert requirement is not None
    verdict = judge_flow(requirement, "usen_almex", con01, record)
    assert "receipt computer read at the end only (3 result(s) for 3 completion(s)): results " \
           "not judged visit by visit, the total only" in verdict.evidence.observed
