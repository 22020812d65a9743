"""ERR-11 proved through run_flow: on a network error the PC (the terminal) is restarted
first and the check tried again; only if it still fails is the router restarted, and a check
then goes through (the support vendor's お知らせ 《 オンライン資格確認端末のネットワーク関連のトラブル時に… 》 ②).

Which wrong bench or driver a weaker check would pass: a router whose restart does not clear
the fault (a check that saw only the restarts, not a check going through after them); a
driver that restarts the router first, or also when the PC's restart already helped, or
without trying a check in between (the pure rule's tests below).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from flow_helpers import (
    Flow,
    assert_fails_exactly,
    deviant_bench_file,
    deviation,
    failed,
    open_bench,
    run_judged,
)

from harness.bench import Bench
from harness.model.observed import Action, FlowRecord, SeenScreen
from harness.model.profiles import Escalation, ProfileSet
from harness.model.recovery_rules import check_escalation

PC: Flow = ("network_recovery", ("network_stuck_pc",))
ROUTER: Flow = ("network_recovery", ("network_stuck_router",))
READER = "usen_almex"
REMEDIES = ["reboot_terminal", "router_restart"]


def _remedies(record: FlowRecord) -> list[str]:
    return [a.what for a in record.actions if a.what in REMEDIES]


def test_a_fault_the_pc_clears_never_restarts_the_router(
        default_bench: Bench, profiles: ProfileSet) -> None:
    record, judged = run_judged(default_bench, profiles, READER, PC)
    # (AUTH-03's and SP-01's 'only when' halves are judged on its first screens too)
    assert set(judged) == {"ERR-11", "AUTH-03", "SP-01"} and failed(judged) == set(), judged
    assert _remedies(record) == ["reboot_terminal"]
    # The trouble was seen before the remedy: the reader's network error.
    assert record.screens[0].shows == "error_network"
    assert record.result == "handed_over"


def test_a_fault_only_the_router_clears_restarts_it_after_the_pc(
        default_bench: Bench, profiles: ProfileSet) -> None:
    record, judged = run_judged(default_bench, profiles, READER, ROUTER)
    assert set(judged) == {"ERR-11"} and failed(judged) == set(), judged
    assert _remedies(record) == REMEDIES
    # The check after the PC's restart still failed: the error shown again before the router.
    restart = next(a.t for a in record.actions if a.what == "router_restart")
    assert "error_network" in [s.shows for s in record.screens if 0 < s.t < restart][1:]
    assert record.result == "handed_over"


def test_a_router_whose_restart_does_not_help_fails_exactly_err11(
        tmp_path: Path, profiles: ProfileSet) -> None:
    path = deviant_bench_file(tmp_path, "router-restart-useless", terminal={"deviations": [
        deviation("network.router_clears", [], "restarting the router clears nothing")]})
    for bench in open_bench(path):
        record, judged = run_judged(bench, profiles, READER, ROUTER)
        assert_fails_exactly(judged, {"ERR-11": "no check went through after the last remedy"})
        # The PC, the router, and (the reader still on its error) the PC once more: none helps.
        assert _remedies(record) == [*REMEDIES, "reboot_terminal"]


# -- the pure rule, on records a wrong driver would leave ------------------------------------
RULE = Escalation(steps=REMEDIES)


def _record(*events: tuple[float, str]) -> FlowRecord:
    """Actions by name; ``completion`` stands for the reader showing a check done."""
    record = FlowRecord("network_recovery", READER)
    for t, what in events:
        if what == "completion":
            record.screens.append(SeenScreen(t=t, until=t + 1, state="completion",
                                             shows="completion"))
        else:
            record.actions.append(Action(t, what))
    return record


@pytest.mark.parametrize(("events", "why"), [
    pytest.param([(1, "card_in"), (5, "router_restart"), (9, "card_in"), (10, "completion")],
                 "router_restart at 5.0 s before reboot_terminal", id="router-first"),
    pytest.param([(1, "card_in"), (5, "reboot_terminal"), (9, "card_in"), (10, "completion"),
                  (15, "router_restart"), (19, "card_in"), (20, "completion")],
                 "although a check went through after reboot_terminal", id="router-not-needed"),
    pytest.param([(1, "card_in"), (5, "reboot_terminal"), (15, "router_restart"),
                  (19, "card_in"), (20, "completion")],
                 "without a check tried after reboot_terminal", id="no-check-between"),
    pytest.param([(1, "card_in"), (2, "completion"), (5, "reboot_terminal"), (9, "card_in"),
                  (10, "completion")],
                 "a check must fail before the first remedy", id="no-error-first"),
    pytest.param([(1, "card_in"), (5, "reboot_terminal"), (9, "card_in"),
                  (15, "router_restart"), (19, "card_in")],
                 "no check went through after the last remedy", id="never-recovers"),
    pytest.param([(1, "card_in"), (9, "card_in")],
                 "no check went through and no remedy was tried", id="no-remedy-at-all"),
])
def test_the_rule_refuses_a_wrong_order(events: list[tuple[float, str]], why: str) -> None:
    problems = check_escalation(RULE, _record(*events))
    assert any(why in p for p in problems), problems


@pytest.mark.parametrize("events", [
    pytest.param([(1, "card_in"), (5, "reboot_terminal"), (9, "card_in"), (10, "completion")],
                 id="pc-helped"),
    pytest.param([(1, "card_in"), (5, "reboot_terminal"), (9, "card_in"),
                  (15, "router_restart"), (19, "card_in"), (20, "completion")],
                 id="router-after-pc"),
    pytest.param([(1, "card_in"), (5, "reboot_terminal"), (9, "card_in"),
                  (15, "router_restart"), (19, "card_in"), (25, "reboot_terminal"),
                  (29, "card_in"), (30, "completion")],
                 id="pc-again-after-router"),
])
def test_the_rule_holds_for_the_notices_order(events: list[tuple[float, str]]) -> None:
    assert check_escalation(RULE, _record(*events)) == []
