"""The person at a real bench saying a step cannot be done (hunt L1), answering neither done
nor no (L9), and the box's person never printing a code (L10).

A refusal ("no OQS access here", "no phone") is the bench failing, not the reader: the
requirements of the test are ``not_run`` with the bench fault ``operator.refused`` naming
the step and the person's words; never ``failed`` under "What the bench saw", never a
Python class path as the reason."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from flow_helpers import certify_suite_text

from harness.bench import default_bench_path
from harness.errors import BenchFault
from harness.hands import OWN_PIN, ManualHands, Patient, PinEntry
from harness.model.clock import VirtualClock
from harness.model.profiles import ProfileSet, default_profiles_dir
from harness.model.timeline import Timeline
from harness.operator import OperatorRefused, OperatorSilent, reading
from harness.report.certification import build_report, operator_steps
from harness.report.html import render_html

#: A flow test and a walk-like test (many requirements at once), each stopped by a person
#: who cannot do a step.
SUITE = '''
import pytest
from harness.hands import ManualHands
from harness.model.clock import VirtualClock

def _hands(answer):
    return ManualHands(VirtualClock(), ask=lambda shown: answer)

@pytest.mark.requirement("AUTH-01")
@pytest.mark.maker("canon")
def test_flow():
    _hands("no: the lab has no OQS access").issue_passcode()

@pytest.mark.requirement("AUTH-02", "SP-01", "CON-01")
@pytest.mark.maker("canon")
def test_walks():
    _hands("n").usb_cable("canon", plugged=False)
'''


def test_a_refused_step_leaves_the_requirements_not_run_as_a_bench_fault(
        tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    # A module name of its own: tests/test_bench_faults.py runs a test_suite.py of its own
    # in the same worker, and a second module of one name is not imported again.
    suite = tmp_path / "test_refused_suite.py"
    _, spec, collector = certify_suite_text(tmp_path, suite.name, SUITE)
    out = capfd.readouterr().out
    assert "harness.operator" not in out and "Traceback" not in out
    outcomes = {t.nodeid.rsplit("::", 1)[1]: t.outcome for t in collector.tests.values()}
    assert outcomes == {"test_flow": "bench_fault", "test_walks": "bench_fault"}
    now = dt.datetime.now().astimezone()
    report = build_report(bench_path=default_bench_path(), spec=spec,
                          profiles=ProfileSet.load(default_profiles_dir()),
                          tests=collector.tests, started=now, ended=now, only={"canon"})
    rows = report["makers"]["canon"]
    for req in ("AUTH-01", "AUTH-02", "SP-01", "CON-01"):
        assert rows[req]["status"] == "not_run", (req, rows[req])
        assert not any("harness." in r for r in rows[req]["reasons"])
    assert rows["AUTH-01"]["reasons"][0].endswith(
        "test_refused_suite.py::test_flow: bench fault (operator.refused): operator: refused: issue a "
        "visual-confirmation passcode in OQS (answered 'no: the lab has no OQS access' "
        "after 0.0 s)")
    assert [f["fault"] for f in report["bench_faults"]] == [
        "bench fault (operator.refused): operator: refused: issue a visual-confirmation "
        "passcode in OQS (answered 'no: the lab has no OQS access' after 0.0 s)",
        "bench fault (operator.refused): operator: refused: pull canon's USB cable out of the "
        "terminal (answered 'n' after 0.0 s)"]
    html = render_html(tmp_path, report)
    block = html[html.index('id="bench-faults"'):html.index('id="failure-')]
    assert "The bench failed, not the reader (2)" in block
    assert "operator.refused" in block
    # Under the failures (what the reader did) only the requirements no test covered;
    # the refused ones are among the not-run.
    articles = re.findall(r'<article class="(\w+)" id="[\w-]+-canon-([\w-]+)">(.*?)</article>',
                          html, re.S)
    assert {req for kind, req, body in articles if "operator.refused" in body} == {
        "AUTH-01", "AUTH-02", "SP-01", "CON-01"}
    assert all(kind == "notrun" for kind, _, body in articles if "operator.refused" in body)
    assert "OperatorRefused" not in html


def _hands(answers: list[str], monkeypatch: pytest.MonkeyPatch,
           timeout_s: float = 300) -> tuple[ManualHands, list[str], Timeline]:
    """Hands whose operator gives ``answers`` in turn, one a question, 10 s each."""
    clock = VirtualClock()
    timeline = Timeline(clock)
    shown: list[str] = []
    monkeypatch.setenv("PYTEST_CURRENT_TEST", "suites/test_flows.py::test_flow_requirement"
                                              "[canon-AUTH-01] (call)")

    def ask(question: str) -> str:
        shown.append(question)
        clock.advance(10)
        return answers.pop(0)

    return ManualHands(clock, ask=ask, timeout_s=timeout_s, timeline=timeline), shown, timeline


def test_the_prompt_names_the_test_its_step_and_the_time_left(
        monkeypatch: pytest.MonkeyPatch) -> None:
    hands, shown, _ = _hands(["", "yes", "maybe", "ok"], monkeypatch, timeout_s=300)
    hands.card_in("canon", Patient("patient-1", "1111"))
    hands.card_out("canon")
    hands.consent("canon")  # answered "maybe": asked again, with the time that is left
    test = "suites/test_flows.py::test_flow_requirement[canon-AUTH-01]"
    assert shown[0].startswith(f"\n--- {test}: step 1 of this test; answer within 300 s\n"
                               "[operator] place patient-1's My Number card on canon - ")
    assert f"--- {test}: step 2 of this test; answer within 300 s\n" in shown[1]
    assert f"--- {test}: step 3 of this test; answer within 300 s\n" in shown[2]
    assert f"--- {test}: step 3 of this test; answer within 290 s\n" in shown[3]
    assert "'maybe' is neither" in shown[3]
    # A new test starts counting again.
    monkeypatch.setenv("PYTEST_CURRENT_TEST", "suites/x.py::t (call)")
    hands_answers = ["", ""]
    hands2 = ManualHands(VirtualClock(), ask=lambda q: shown.append(q) or hands_answers.pop())
    hands2.card_out("canon")
    assert "--- suites/x.py::t: step 1 of this test" in shown[-1]


@pytest.mark.parametrize("typed", ["can't", "skip", "n/a", "nope", "later"])
def test_an_answer_neither_done_nor_no_is_asked_again_not_taken_as_done(
        typed: str, monkeypatch: pytest.MonkeyPatch) -> None:
    hands, shown, timeline = _hands([typed, typed, typed, typed, typed], monkeypatch)
    with pytest.raises(OperatorSilent) as caught:
        hands.card_out("canon")
    assert len(shown) == 4  # asked, then asked again three times
    assert caught.value.fault == "operator.silent"
    assert f"neither done nor no: {typed!r}" in str(caught.value)
    steps = operator_steps(timeline.events(), "t")
    assert [s["outcome"] for s in steps] == ["unclear"] * 3 + ["timeout"]


def test_an_unclear_answer_then_done_is_done_and_recorded(
        monkeypatch: pytest.MonkeyPatch) -> None:
    hands, shown, timeline = _hands(["skip", "done"], monkeypatch)
    hands.card_out("canon")
    assert len(shown) == 2
    steps = operator_steps(timeline.events(), "t")
    assert [s["outcome"] for s in steps] == ["unclear", "answered"]


def test_the_bound_is_the_steps_whole_not_per_question(
        monkeypatch: pytest.MonkeyPatch) -> None:
    hands, shown, _ = _hands(["eh", "eh", "no idea"], monkeypatch, timeout_s=20)
    with pytest.raises(OperatorSilent, match="within 20 s"):
        hands.card_out("canon")
    assert len(shown) == 2  # 10 s each: the bound spent after the second


def test_what_an_answer_says() -> None:
    for done in ("", "y", "Yes", " done ", "OK", "はい"):
        assert reading(done, done_or_no=True) == "done"
    for no in ("no", "N", "No: no phone here", "no, the lab has no OQS access", "いいえ"):
        assert reading(no, done_or_no=True) == "refused"
    for unclear in ("nothing", "nope", "can't", "skip", "1234"):
        assert reading(unclear, done_or_no=True) == "unclear"
    # A step asking what a screen shows takes its text; only a bare no refuses it.
    assert reading("5.1.0", done_or_no=False) == "done"
    assert reading("no reader found", done_or_no=False) == "done"
    assert reading("no", done_or_no=False) == "refused"
    assert reading("No: the lab has no OQS access", done_or_no=False) == "refused"


def test_no_code_reaches_the_record_through_a_refusal_or_an_unclear_answer(
        monkeypatch: pytest.MonkeyPatch) -> None:
    hands, _, timeline = _hands(["4321", "no 4321 is refused"], monkeypatch)
    with pytest.raises(OperatorRefused) as caught:
        hands.pin("canon", "4321", entry=OWN_PIN)
    assert "4321" not in str(caught.value) + repr(list(timeline.events()))
    assert "answered 'no **** is refused'" in str(caught.value)
    assert isinstance(caught.value, BenchFault)
    # The PIN typed back at the rig's prompt instead of on the reader: asked again, and
    # kept by its length only.
    hands, _, timeline = _hands(["9999", ""], monkeypatch)
    hands.pin("canon", "9999", entry=PinEntry(wrong=True))
    assert "9999" not in repr(list(timeline.events()))
    [unclear] = timeline.events("operator.unclear")
    assert unclear.data["answer"] == "(4 digits)"


def test_the_box_person_never_prints_a_code(capsys: pytest.CaptureFixture[str]) -> None:
    from harness.emulation.box import person as box

    assert box._masked("type the code (deliberately NOT the phone's certificate PIN: SP-02 "
                       "must refuse it) 3579 on canon") == (
        "type the code (deliberately NOT the phone's certificate PIN: SP-02 must refuse it) "
        "**** on canon")
    assert box._masked("type the passcode 123456 on canon") == "type the passcode **** on canon"
    kept = ("switch everything off; restore the terminal's before upgrade image, set its clock "
            "to 2026-01-19T19:50:00+09:00; reset the readers; put every cable back")
    assert box._masked(kept) == kept  # a date, a time, a version: not codes
    typed = box._refuse("type the passcode 2468 on atlas", "not a step the person knows")
    assert typed == "no: not a step the person knows"
    err = capsys.readouterr().err
    assert "2468" not in err and re.search(r"refused 'type the passcode \*\*\*\* on atlas'", err)


#: A test stopped (Ctrl-C) while the person is at a step: the restore they did before it
#: must stay in the record of the run.
INTERRUPTED = '''
import pytest
from types import SimpleNamespace
from harness.hands import ManualHands
from harness.model.clock import VirtualClock
from harness.model.timeline import Timeline

@pytest.fixture
def bench():
    return SimpleNamespace(timeline=Timeline(VirtualClock()))

def _asked(shown):
    if "My Number card" in shown:
        raise KeyboardInterrupt  # Ctrl-C at the prompt
    return ""

@pytest.mark.requirement("AUTH-01")
@pytest.mark.maker("canon")
def test_flow(bench):
    hands = ManualHands(bench.timeline.clock, ask=_asked, timeline=bench.timeline)
    hands.restore("after_upgrade")
    hands.card_in("canon", __import__("harness.hands").hands.Patient("patient-1", "1111"))
'''


def test_an_interrupted_run_keeps_the_steps_of_the_test_under_way(tmp_path: Path) -> None:
    # (Its own module name: another test's "test_suite" is imported already.)
    code, spec, collector = certify_suite_text(tmp_path, "test_stopped_suite.py", INTERRUPTED)
    assert code == pytest.ExitCode.INTERRUPTED
    [record] = collector.tests.values()
    # The step it stopped in (asked, not answered) is listed too (hunt K2-18): a person
    # half-way through it is what a lab must know before --resume asks it again.
    assert [(s["what"], s["outcome"]) for s in record.operator] == [
        ("switch everything off; restore the terminal's after upgrade image; reset the "
         "readers; put every cable back", "answered"),
        ("place patient-1's My Number card on canon", "interrupted")]
    assert record.operator[-1]["seconds"] >= 0
    now = dt.datetime.now().astimezone()
    report = build_report(bench_path=default_bench_path(), spec=spec,
                          profiles=ProfileSet.load(default_profiles_dir()),
                          tests=collector.tests, started=now, ended=now, only={"canon"})
    assert [s["outcome"] for s in report["operator"]] == ["answered", "interrupted"]


def test_an_intermittent_outage_is_asked_in_english(monkeypatch: pytest.MonkeyPatch) -> None:
    hands, shown, _ = _hands(["", ""], monkeypatch)
    hands.outage("intermittent", 600)
    hands.outage("long")
    assert "[operator] start an intermittent network outage for 600 s" in shown[0]
    assert "[operator] start a long network outage (the lab's" in shown[1]
