"""The operator at a real bench: asked on the controlling terminal under pytest's capture,
bounded for real, answered from a script, and never leaking a PIN to the timeline."""

from __future__ import annotations

import datetime as dt
import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import textwrap
import threading
import time
import tty
from pathlib import Path
from types import SimpleNamespace

import pytest

from harness.bench import check_bench_file, default_bench_path
from harness.errors import BadInput, BenchFault, DeviceTimeout
from harness.flows.setup import wait_for_delivery
from harness.hands import OWN_PIN, ManualHands, Patient, PinEntry
from harness.loading import validate_data
from harness.model.bench_spec import BenchSpec
from harness.model.clock import VirtualClock
from harness.model.profiles import ProfileSet, default_profiles_dir
from harness.model.timeline import Timeline
from harness.operator import (
    NO_TTY,
    OperatorRefused,
    OperatorSilent,
    OperatorUnavailable,
    ScriptedOperator,
    Step,
    TtyOperator,
)
from harness.report.certification import (
    CertificationCollector,
    TestRecord,
    build_report,
    operator_steps,
)

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import time
from pathlib import Path

import pytest

from harness.bench import check_bench_file, default_bench_path
from harness.errors import DeviceTimeout
from harness.hands import OWN_PIN, ManualHands
from harness.model.clock import VirtualClock
from harness.model.profiles import ProfileSet, default_profiles_dir
from harness.model.timeline import Timeline


def test_asked_on_the_terminal():
    clock = VirtualClock()
    timeline = Timeline(clock)
    hands = ManualHands(clock, timeout_s={bound}, timeline=timeline)
    try:
        hands.card_out("canon")
        hands.pin("canon", "4321", entry=OWN_PIN)
        started = time.monotonic()
        with pytest.raises(DeviceTimeout, match="no answer to 'take the card out of atlas' within"):
            hands.card_out("atlas")
        Path("elapsed").write_text(str(time.monotonic() - started))
    finally:
        timeline.write_jsonl(Path("timeline.jsonl"))
"""


def _read_until(fd: int, pattern: str, seen: bytearray, limit_s: float = 30) -> None:
    deadline = time.monotonic() + limit_s
    while not re.search(pattern, seen.decode(errors="replace")):
        left = deadline - time.monotonic()
        assert left > 0, f"no {pattern!r} on the terminal; it shows: {seen.decode()!r}"
        if select.select([fd], [], [], left)[0]:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the child is gone
                chunk = b""
            assert chunk, f"terminal closed before {pattern!r}: {seen.decode()!r}"
            seen += chunk


def _reap(pid: int, limit_s: float = 20) -> int:
    """The child's exit status; a child that hangs (an unbounded wait) is killed, not
    waited for forever."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    return os.waitpid(pid, 0)[1]


def test_a_prompt_under_capture_is_shown_on_the_terminal_and_bounded(tmp_path: Path) -> None:
    bound = 1.5
    (tmp_path / "test_child.py").write_text(CHILD.format(bound=bound))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    pid, master = pty.fork()  # the child's controlling terminal is the pty
    if pid == 0:
        os.chdir(tmp_path)
        # WITH pytest's capture: stdin/stdout are pytest's, /dev/tty is the pty.
        os.execve(sys.executable, [sys.executable, "-m", "pytest", "-q", "-p",
                                   "no:cacheprovider", "test_child.py"], env)
    seen = bytearray()
    try:
        _read_until(master, r"\[operator\] take the card out of canon - press Enter", seen)
        os.write(master, b"\n")
        _read_until(master, r"type the card's own PIN 4321 on canon", seen)  # the person sees it
        time.sleep(0.3)  # a slow person: the seconds on the timeline say so
        os.write(master, b"\n")
        _read_until(master, r"take the card out of atlas", seen)
        # Nobody answers: the step times out at the bound, and the child's test passes.
        _read_until(master, r"\d+ passed|failed|error", seen)
    finally:
        status = _reap(pid)
        os.close(master)
    text = seen.decode(errors="replace")
    assert os.waitstatus_to_exitcode(status) == 0, text
    assert "no answer within 1.5 s" in text and "1 passed" in text
    elapsed = float((tmp_path / "elapsed").read_text())
    assert bound <= elapsed <= bound + 1.5
    events = [json.loads(line) for line in (tmp_path / "timeline.jsonl").read_text().splitlines()]
    kinds = [(e["kind"], e["what"]) for e in events]
    assert kinds == [
        ("operator.asked", "take the card out of canon"),
        ("operator.answered", "take the card out of canon"),
        ("operator.asked", "type the card's own PIN **** on canon"),
        ("operator.answered", "type the card's own PIN **** on canon"),
        ("operator.asked", "take the card out of atlas"),
        ("operator.timeout", "take the card out of atlas")]
    assert all(e["by"] == "terminal" for e in events)
    assert events[3]["seconds"] >= 0.3 and events[5]["seconds"] == bound
    assert "4321" not in (tmp_path / "timeline.jsonl").read_text()


def test_no_terminal_fails_the_step_at_once() -> None:
    code = textwrap.dedent("""
        import time
        from harness.hands import OWN_PIN, ManualHands
        from harness.model.clock import VirtualClock
        from harness.model.timeline import Timeline
        clock = VirtualClock()
        timeline = Timeline(clock)
        started = time.monotonic()
        try:
            ManualHands(clock, timeout_s=60, timeline=timeline).card_out("canon")
        except Exception as exc:
            print(type(exc).__name__, time.monotonic() - started, exc)
        print([e.kind for e in timeline])
    """)
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", code], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, start_new_session=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True)
    assert time.monotonic() - started < 30
    first, events = done.stdout.splitlines()
    name, seconds, message = first.split(" ", 2)
    assert name == "OperatorUnavailable" and float(seconds) < 1
    assert message.startswith(f"bench fault (operator.unavailable): operator: {NO_TTY}")
    assert events == "['operator.asked', 'operator.failed']"


def _scripted(tmp_path: Path, script: str, timeout_s: float = 60
              ) -> tuple[ManualHands, VirtualClock, Timeline]:
    path = tmp_path / "operator.yaml"
    path.write_text(textwrap.dedent(script))
    clock = VirtualClock()
    timeline = Timeline(clock)
    hands = ManualHands(clock, timeout_s=timeout_s, timeline=timeline,
                        operator=ScriptedOperator.load(path, clock))
    return hands, clock, timeline


def test_the_scripted_operator_answers_after_its_delays(tmp_path: Path) -> None:
    hands, clock, timeline = _scripted(tmp_path, """
        - ask: "4321"          # the PIN is never in the text a script sees
          never: true
        - ask: "^take the card out of canon$"
          after_s: 7
        - ask: "type the card's own PIN \\\\*\\\\*\\\\*\\\\* on canon"
          after_s: 2.5
        - ask: "visual-confirmation passcode"
          answer: "0815"
        - ask: receipt computer
          answer: "patient-1, patient-2"
        - ask: LAN cable
          answer: "no"
        - ask: outage
          never: true
        - ask: restart
          after_s: 61
    """)
    hands.card_out("canon")
    assert clock.now() == 7
    hands.pin("canon", "4321", entry=OWN_PIN)
    assert clock.now() == 9.5
    assert hands.issue_passcode() == "0815"
    assert hands.received_results() == ["patient-1", "patient-2"]
    with pytest.raises(OperatorRefused, match="refused: loosen the terminal's LAN cable"):
        hands.lan_cable(seated=False)
    with pytest.raises(DeviceTimeout,
                       match=r"no answer to 'start a long network outage \(.*\)' within 60 s"):
        hands.outage("long")
    assert clock.now() == 69.5  # waited the bound, on the bench clock
    with pytest.raises(DeviceTimeout, match="within 60 s"):
        hands.restart_reader("canon")  # answers after the bound: too late
    with pytest.raises(OperatorUnavailable, match=r"no answer for 'take the card out of atlas'"):
        hands.card_out("atlas")
    answered = {e.data["what"]: e.data for e in timeline.events("operator.answered")}
    assert answered["take the card out of canon"]["seconds"] == 7
    assert answered["type the card's own PIN **** on canon"]["seconds"] == 2.5
    # The passcode OQS issued is typed by the person: recorded by its length only.
    assert answered["issue a visual-confirmation passcode in OQS"]["answer"] == "(4 digits)"
    assert [e.kind for e in timeline][-2:] == ["operator.asked", "operator.failed"]
    assert all(e.data["by"] == "script operator.yaml" for e in timeline)
    assert not any(re.search(r"4321|0815", repr(e)) for e in timeline)


def test_no_secret_reaches_the_timeline_whatever_the_step(tmp_path: Path) -> None:
    hands, _, timeline = _scripted(tmp_path, """
        - ask: "."
    """)
    from harness.hands import Phone

    hands.card_in("canon", Patient("patient-9", "9876"))
    hands.pin("canon", "9876", entry=OWN_PIN)
    hands.pin("canon", "1111", entry=PinEntry(wrong=True))
    hands.phone_pin("canon", Phone("phone-1", "android", "5555"), "5555")
    hands.passcode("canon", "2468")
    assert len(timeline) == 10
    assert not any(re.search(r"9876|1111|5555|2468", repr(e)) for e in timeline)
    steps = operator_steps(timeline.events(), "t::x")
    assert [s["what"] for s in steps][1:] == [
        "type the card's own PIN **** on canon",
        "type a deliberately WRONG PIN **** on canon (on purpose; a wrong PIN counts against "
        "the card's tries)",
        "type phone-1's certificate PIN **** on canon",
        "type the passcode **** on canon"]


def test_the_report_lists_the_operator_steps(tmp_path: Path) -> None:
    hands, _, timeline = _scripted(tmp_path, """
        - ask: canon
          after_s: 3
        - ask: atlas
          never: true
        - ask: usen_almex
          answer: "no"
          after_s: 1
    """, timeout_s=10)
    hands.card_out("canon")
    with pytest.raises(DeviceTimeout):
        hands.card_out("atlas")
    # The collector takes each test's new steps off the bench's timeline as it reports,
    # onto the test's properties (a pytest-xdist worker's reach its controller that way),
    # and the record gets them from the test's last report.
    path = default_bench_path()
    spec = check_bench_file(path)
    collector = CertificationCollector(spec)
    for nodeid in ("suites/x.py::t", "suites/x.py::u"):
        collector.tests[nodeid] = TestRecord(nodeid, (), ())
    bench = SimpleNamespace(timeline=timeline)

    def run(nodeid: str) -> None:
        item = SimpleNamespace(nodeid=nodeid, funcargs={"bench": bench}, user_properties=[])
        for when in ("setup", "call", "teardown"):
            collector.pytest_runtest_makereport(item)  # type: ignore[arg-type]
            collector.pytest_runtest_logreport(SimpleNamespace(  # type: ignore[arg-type]
                nodeid=nodeid, when=when, user_properties=list(item.user_properties),
                failed=False, skipped=False, passed=True))

    run("suites/x.py::t")
    hands.card_out("canon")  # in the next test
    with pytest.raises(OperatorRefused):
        hands.card_out("usen_almex")  # "no": the step could not be done
    run("suites/x.py::u")
    now = dt.datetime.now().astimezone()
    report = build_report(bench_path=path, spec=spec,
                          profiles=ProfileSet.load(default_profiles_dir()),
                          tests=collector.tests, started=now, ended=now)
    assert report["operator"] == [
        {"test": "suites/x.py::t", "who": "script operator.yaml",
         "what": "take the card out of canon", "at": 3, "outcome": "answered", "seconds": 3},
        {"test": "suites/x.py::t", "who": "script operator.yaml",
         "what": "take the card out of atlas", "at": 13, "outcome": "timeout", "seconds": 10},
        {"test": "suites/x.py::u", "who": "script operator.yaml",
         "what": "take the card out of canon", "at": 16, "outcome": "answered", "seconds": 3},
        {"test": "suites/x.py::u", "who": "script operator.yaml",
         "what": "take the card out of usen_almex", "at": 17, "outcome": "refused",
         "seconds": 1}]


BENCH = {"bench": "b", "kind": "real"}


@pytest.mark.parametrize("section, problem", [
    ({"timeout_s": 0}, "greater than 0"),
    ({"timeout_s": -5}, "greater than 0"),
    ({"timeout_s": float("inf")}, "finite"),
    ({"timeout": 5}, "unknown field"),
    ({"script": 3}, "string"),
    ({"script": "ops.yaml", "terminal": "/dev/ttyUSB1"}, "give a script or a terminal, not both"),
    ({"terminal": "ttyUSB1"}, "should match pattern"),
])
def test_the_operator_section_is_checked(section: dict, problem: str) -> None:
    with pytest.raises(BadInput, match=problem) as caught:
        validate_data(BenchSpec, {**BENCH, "operator": section}, "bench.yaml")
    assert "operator" in str(caught.value)


def test_the_operator_section_defaults_and_reads() -> None:
    assert validate_data(BenchSpec, BENCH, "b.yaml").operator.timeout_s == 300
    spec = validate_data(BenchSpec, {**BENCH, "operator": {"timeout_s": 12.5,
                                                           "script": "ops.yaml"}}, "b.yaml")
    assert (spec.operator.timeout_s, spec.operator.script) == (12.5, "ops.yaml")


@pytest.mark.parametrize("script, problem", [
    ("- ask: '(unclosed'\n", "not a regular expression"),
    # a repeat Python's re cannot count (OverflowError, not re.error): no traceback
    ("- ask: 'a{99999999999}'\n", "not a regular expression"),
    ("- ask: x\n  after_s: -1\n", "greater than or equal to 0"),
    ("- ask: x\n  wait: 3\n", "unknown field"),
    # silent and answering at once: which one the author meant is not the rig's guess
    ("- ask: x\n  never: true\n  answer: 'done'\n", "never: true answers nothing: drop answer"),
    ("- ask: x\n  never: true\n  after_s: 5\n", "never: true answers nothing: drop after_s"),
    ("ask: x\n", "list"),
])
def test_a_bad_script_is_bad_input(tmp_path: Path, script: str, problem: str) -> None:
    path = tmp_path / "ops.yaml"
    path.write_text(script)
    with pytest.raises(BadInput, match=problem):
        ScriptedOperator.load(path, VirtualClock())


def test_the_bench_file_says_how_the_operator_is_asked(tmp_path: Path) -> None:
    (tmp_path / "benches").mkdir()
    (tmp_path / "benches" / "ops.yaml").write_text("- ask: canon\n  after_s: 4\n")
    spec = validate_data(BenchSpec, {**BENCH, "operator": {"timeout_s": 9, "script": "ops.yaml"}},
                         "b.yaml")
    clock = VirtualClock()
    bench = SimpleNamespace(spec=spec, path=tmp_path / "benches" / "b.yaml", clock=clock,
                            timeline=Timeline(clock))
    hands = ManualHands.for_bench(bench)  # type: ignore[arg-type]
    assert isinstance(hands.operator, ScriptedOperator) and hands.timeout_s == 9
    hands.card_out("canon")
    assert clock.now() == 4 and len(bench.timeline) == 2
    default = ManualHands.for_bench(SimpleNamespace(  # type: ignore[arg-type]
        spec=validate_data(BenchSpec, BENCH, "b.yaml"), path=bench.path, clock=clock,
        timeline=bench.timeline))
    assert isinstance(default.operator, TtyOperator) and default.timeout_s == 300
    assert default.operator.tty == "/dev/tty" and default.operator.who == "terminal"
    # The terminal the bench file names (a console at the bench; a box's pty), at its scale.
    named = ManualHands.for_bench(SimpleNamespace(  # type: ignore[arg-type]
        spec=validate_data(BenchSpec, {**BENCH, "clock": {"scale": 4},
                                       "operator": {"terminal": "/dev/ttyUSB1"}}, "b.yaml"),
        path=bench.path, clock=clock, timeline=bench.timeline))
    assert isinstance(named.operator, TtyOperator)
    assert (named.operator.tty, named.operator.scale, named.operator.who) == (
        "/dev/ttyUSB1", 4, "terminal /dev/ttyUSB1")


def test_asked_on_the_terminal_the_bench_file_names_in_bench_seconds() -> None:
    """A terminal other than the rig's (a pty here, as a box offers): the question on it,
    the answer read back, both timed in bench seconds at the bench's scale."""
    master, slave = pty.openpty()
    tty.setraw(slave)
    path = os.ttyname(slave)
    operator = TtyOperator(path, scale=10)
    shown: list[bytes] = []

    def person() -> None:
        got = b""
        while not got.endswith(b": "):
            got += os.read(master, 1024)
        shown.append(got)
        time.sleep(0.1)  # a wall tenth of a second: one bench second at scale 10
        os.write(master, b"5.1.0\n")

    thread = threading.Thread(target=person)
    thread.start()
    try:
        answer = operator.ask(Step("open the list", "type the version"), 30)
        thread.join(5)
        assert shown == [b"[operator] open the list - type the version: "]
        # The person may read the question before the operator's clock starts (it starts
        # once the question is written): a bench second less what a loaded machine takes
        # between the two; a scale of 1 would give a tenth.
        assert answer.text == "5.1.0" and 0.5 <= answer.seconds < 10, answer
        # Nobody answers: 3 bench s at scale 10 is 0.3 wall s, and the fault says 3 s.
        started = time.monotonic()
        with pytest.raises(OperatorSilent, match="no answer to 'never' within 3 s"):
            operator.ask(Step("never"), 3)
        assert 0.3 <= time.monotonic() - started < 2
    finally:
        os.close(master)
        os.close(slave)
    gone = TtyOperator("/dev/pts/no-such-terminal")
    with pytest.raises(OperatorUnavailable) as caught:
        gone.ask(Step("x"), 1)
    # The bench's fault, not the reader's: the requirement is not run, with this reason.
    assert isinstance(caught.value, BenchFault)
    assert str(caught.value) == (
        "bench fault (operator.unavailable): operator: cannot open the operator's terminal "
        "/dev/pts/no-such-terminal (bench file operator.terminal): No such file or directory")
    # The terminal going away while a question waits (a pty's other end closed: EIO).
    master, slave = os.openpty()
    closer = threading.Timer(0.3, os.close, args=(master,))
    closer.start()
    try:
        with pytest.raises(OperatorUnavailable, match=r"operator\.unavailable.*closed|I/O"):
            TtyOperator(os.ttyname(slave)).ask(Step("take the card out of canon"), 5)
    finally:
        closer.join()
        os.close(slave)


def test_a_restore_switches_the_relays_off_before_the_operator_is_asked(tmp_path: Path) -> None:
    """The bench's power-on routine starts from everything off: the devices on relay
    channels are switched off by the rig, then the operator restores the rest."""
    (tmp_path / "ops.yaml").write_text("- ask: '^switch everything off'\n  after_s: 2\n")
    clock = VirtualClock()
    timeline = Timeline(clock)
    spec = validate_data(BenchSpec, {
        **BENCH, "operator": {"script": "ops.yaml"},
        "terminal": {"power": {"relay": "mains", "channel": 0}},
        "instruments": [{"name": "mains", "kind": "numato_relay", "port": "/dev/null"}]},
        "b.yaml")
    bench = SimpleNamespace(spec=spec, path=tmp_path / "b.yaml", clock=clock, timeline=timeline,
                            switch_all_off=lambda: timeline.record("terminal", "power.switched",
                                                                   on=False))
    hands = ManualHands.for_bench(bench)  # type: ignore[arg-type]
    hands.restore("after_upgrade")
    assert [(e.kind, e.t) for e in timeline] == [
        ("power.switched", 0), ("operator.asked", 0), ("operator.answered", 2)]
    # No relay channels: nothing to switch, the operator does it all.
    bare = ManualHands.for_bench(SimpleNamespace(  # type: ignore[arg-type]
        spec=validate_data(BenchSpec, {**BENCH, "operator": {"script": "ops.yaml"}}, "b.yaml"),
        path=bench.path, clock=clock, timeline=timeline))
    assert bare.switch_all_off is None


def test_a_restore_that_sets_the_terminals_clock_sets_the_benchs_date(tmp_path: Path) -> None:
    """A real bench's date is the terminal's once the operator set it (UPD-01's nights on a
    distribution test environment), not the host's calendar; bench seconds run on."""
    import datetime as dt

    from harness.model.clock import JST, RealClock

    (tmp_path / "ops.yaml").write_text("- ask: '^switch everything off'\n  after_s: 0\n")
    clock = RealClock()
    timeline = Timeline(clock)
    bench = SimpleNamespace(
        spec=validate_data(BenchSpec, {**BENCH, "operator": {"script": "ops.yaml"}}, "b.yaml"),
        path=tmp_path / "b.yaml", clock=clock, timeline=timeline)
    hands = ManualHands.for_bench(bench)  # type: ignore[arg-type]
    assert abs((clock.wallclock() - dt.datetime.now(JST)).total_seconds()) < 5
    night = dt.datetime(2026, 1, 19, 19, 50, tzinfo=JST)
    hands.restore("before_upgrade", night)
    assert dt.timedelta(0) <= clock.wallclock() - night < dt.timedelta(seconds=5)


def test_awaiting_the_delivery_is_one_step_bounded_by_the_night(tmp_path: Path) -> None:
    hands, clock, timeline = _scripted(tmp_path, """
        - ask: "^keep the bench switched on until 配信実績の確認 .* lists 顔認証ライブラリ 5.1.0$"
          answer: "5.1.0"
          after_s: 2400
        """, timeout_s=30)
    assert hands.await_delivery("顔認証ライブラリ", "5.1.0", 12 * 3600) == {"顔認証ライブラリ": "5.1.0"}
    assert clock.now() == 2400  # longer than any other step may take (30 s)
    [asked] = timeline.events("operator.asked")
    assert asked.data["timeout_s"] == 12 * 3600
    # Not there when the bound runs out: the set-up says so, and the run's checks fail.
    profile = ProfileSet.load(default_profiles_dir())["panasonic"]
    problems: list[str] = []
    late, _, _ = _scripted(tmp_path, """
        - ask: "配信実績の確認"
          answer: "5.0.0"
        """)
    run = SimpleNamespace(hands=late, problem=problems.append)
    assert wait_for_delivery(run, profile) is False  # type: ignore[arg-type]
    assert problems == ["the upgrade (顔認証ライブラリ 5.1.0) was not delivered within 12 h of "
                        "bench time; the delivery list showed 顔認証ライブラリ 5.0.0"]
