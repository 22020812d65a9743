"""Bench faults: the names, the bench file's ``faults:``, and how a test a fault stopped
reaches the certification (its requirements ``not_run`` with the fault, never ``failed``
against the maker). Each fault's own detection: tests/test_faults_*.py."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from flow_helpers import certify_suite_text

from harness.bench import default_bench_path
from harness.emulation.faults import _handlers
from harness.errors import BadInput, BenchFault
from harness.loading import load_yaml_model
from harness.model.bench_faults import FAULT_KINDS
from harness.model.bench_spec import BenchSpec
from harness.model.profiles import ProfileSet, default_profiles_dir
from harness.report.certification import build_report
from harness.report.html import render_html

#: A suite of three tests on Canon: one judges USB-02 and passes, one hits a bench fault
#: before judging anything, one judges SP-05 (passed) and then hits a bench fault.
SUITE = '''
import pytest
from harness.errors import BenchFault
from harness.model.verdict import Verdict

@pytest.mark.requirement("USB-02")
@pytest.mark.maker("canon")
def test_judged(judge):
    judge(Verdict("USB-02", "canon", "canon", "passed", "no hub", "no hub"))

@pytest.mark.requirement("E901-02")
@pytest.mark.maker("canon")
def test_stopped_by_the_bench():
    raise BenchFault("camera.frozen", "canon-cam", "the same frame since t=12 s (4 looks)")

@pytest.mark.requirement("SP-05")
@pytest.mark.maker("canon")
def test_judged_then_stopped(judge):
    judge(Verdict("SP-05", "canon", "canon", "passed", "reader on a 3.0 port", "on 3.0"))
    raise BenchFault("relay.silent", "relay1", "no reply to 'relay on 0' within 2 s")
'''


def test_every_fault_has_its_handler_and_says_how_it_is_noticed() -> None:
    assert set(_handlers()) == set(FAULT_KINDS)
    assert all(kind.what and kind.noticed for kind in FAULT_KINDS.values())


def test_a_bench_fault_leaves_what_it_stopped_not_run(tmp_path: Path,
                                                       capfd: pytest.CaptureFixture[str]) -> None:
    code, spec, collector = certify_suite_text(tmp_path, "test_suite.py", SUITE)
    out = capfd.readouterr().out
    assert code == pytest.ExitCode.TESTS_FAILED
    # Reported as the fault's own line, no traceback.
    assert "bench fault (camera.frozen): canon-cam: the same frame since t=12 s" in out
    assert "raise BenchFault" not in out and "Traceback" not in out
    outcomes = {t.nodeid.rsplit("::", 1)[1]: t.outcome for t in collector.tests.values()}
    assert outcomes == {"test_judged": "passed", "test_stopped_by_the_bench": "bench_fault",
                        "test_judged_then_stopped": "bench_fault"}
    now = dt.datetime.now().astimezone()
    report = build_report(bench_path=default_bench_path(), spec=spec,
                          profiles=ProfileSet.load(default_profiles_dir()),
                          tests=collector.tests, started=now, ended=now, only={"canon"})
    rows = report["makers"]["canon"]
    assert rows["USB-02"]["status"] == "passed"
    # Stopped before judging: not run, the fault the reason; never failed against Canon.
    assert rows["E901-02"]["status"] == "not_run"
    assert len(rows["E901-02"]["reasons"]) == 1
    assert rows["E901-02"]["reasons"][0].endswith(
        "test_suite.py::test_stopped_by_the_bench: bench fault (camera.frozen): canon-cam: "
        "the same frame since t=12 s (4 looks)")
    # A verdict handed in before the fault stands (it was judged whole).
    assert rows["SP-05"]["status"] == "passed"
    assert [f["fault"].split(":")[0] for f in report["bench_faults"]] == [
        "bench fault (camera.frozen)", "bench fault (relay.silent)"]
    assert report["passed"] is False
    # The HTML report says the bench failed, above the failures, with each fault.
    html = render_html(tmp_path, report)
    block = html[html.index('id="bench-faults"'):html.index('id="failure-')]
    assert "The bench failed, not the reader (2)" in block
    assert "test_stopped_by_the_bench</code>: bench fault (camera.frozen): canon-cam" in block
    assert "test_judged_then_stopped</code>: bench fault (relay.silent): relay1" in block
    # What a person did at the bench (a real bench's operator) has its own table.
    report["operator"] = [
        {"test": "t1", "who": "operator", "what": "Press the power button of canon",
         "at": 12.5, "outcome": "answered", "seconds": 3.25},
        {"test": "t2", "who": "operator", "what": "Unplug the USB cable of canon", "at": 40.0,
         "outcome": "timeout", "reason": "no answer within 300 s"}]
    html = render_html(tmp_path, report)
    table = html[html.index('id="operator"'):]
    assert "What a person did at the bench (2 steps)" in table
    assert "Press the power button of canon</td>" in table and "3.2 s" in table
    assert "timeout: no answer within 300 s" in table


BENCH = """\
base: {base}
bench: faulty
kind: emulated
faults:
{faults}
"""


@pytest.mark.parametrize(("faults", "problem"), [
    ("  - {fault: camera.melted, target: canon-cam, during: canon}",
     "faults.0.fault: no such fault 'camera.melted'"),
    ("  - {fault: camera.frozen, target: canon, during: canon}",
     "faults[0].target: camera.frozen strikes a camera: no camera named 'canon'"),
    ("  - {fault: camera.frozen, during: canon}",
     "faults[0].target: camera.frozen strikes a camera: no camera named None"),
    ("  - {fault: pcscd.restarted, target: canon, during: canon}",
     "faults[0].target: pcscd.restarted strikes the bench's pcscd, not 'canon'"),
    ("  - {fault: reader.gone, target: canon, during: ''}",
     "faults.0.during"),
    ("  - {fault: reader.gone, target: canon, during: canon, after_s: .inf}",
     "faults.0.after_s"),
    ("  - {fault: reader.gone, target: canon, during: canon, after_s: -1}",
     "faults.0.after_s"),
])
def test_a_bench_files_faults_are_checked_at_load(tmp_path: Path, faults: str,
                                                  problem: str) -> None:
    bench = tmp_path / "faulty.yaml"
    bench.write_text(BENCH.format(base=default_bench_path(), faults=faults), encoding="utf-8")
    with pytest.raises(BadInput) as caught:
        load_yaml_model(bench, BenchSpec, layered=True)
    text = str(caught.value)
    assert f"{bench}:" in text and problem.replace("[0]", ".0").split(":")[0] in \
        text.replace("[0]", ".0"), text
    assert problem.split(": ", 1)[1] in text if ": " in problem else True, text


def test_a_bench_fault_names_its_kind_device_and_bound() -> None:
    fault = BenchFault("relay.silent", "relay1", "no reply within 2 s", bound_s=2.0)
    assert str(fault) == "bench fault (relay.silent): relay1: no reply within 2 s"
    assert (fault.fault, fault.device, fault.bound_s) == ("relay.silent", "relay1", 2.0)
