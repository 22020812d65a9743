"""``onshi-rig certify`` and the bench's own faults: a test that did not meet the fault the
bench file asked for decides nothing; a fault the bench cannot take, a relay port or a
camera missing, are the bench's (refused up front, or a bench fault), never the maker
failing (hunt K: K-13, K-1, K-8, K-5). The faults' own detection: tests/test_faults_*.py."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cli_fork import run_cli

from harness.bench import Bench, default_bench_path
from harness.errors import BenchFault
from harness.paths import project_file

CERTIFY_ARGS = ["certify", "--no-evidence", "--jobs", "1", "--quiet"]
EMULATED = project_file("fixtures/benches/emulated.yaml")


def certify(*args: str) -> subprocess.CompletedProcess[str]:
    return run_cli([*CERTIFY_ARGS, *args], timeout=300, cwd=project_file("."))


def bench_file(tmp_path: Path, text: str, base: Path = EMULATED) -> Path:
    path = tmp_path / "bench.yaml"
    path.write_text(f"base: {base}\nbench: f\n{text}", encoding="utf-8")
    return path


def report_of(out: Path) -> dict[str, Any]:
    return json.loads((out / "certification.json").read_text(encoding="utf-8"))


def only_test(report: dict[str, Any], wanted: str) -> tuple[str, dict[str, Any]]:
    [(nodeid, test)] = [(n, t) for n, t in report["tests"].items()
                        if n.endswith(f"[{wanted}]")]
    return nodeid, test


def stopped_by_the_bench(tmp_path: Path, bench: Path, maker: str, select: str, req: str,
                         fault: str) -> dict[str, Any]:
    """``req`` of ``maker`` certified alone (``-k select``) on ``bench``: exit 3, one bench
    fault that begins with ``fault``, the requirement not run (never failed or passed)."""
    out = tmp_path / "out"
    proc = certify("--bench", str(bench), "--vendor", maker, "--out", str(out), "--",
                   "-k", select)
    assert proc.returncode == 3, proc.stdout[-3000:] + proc.stderr
    report = report_of(out)
    [found] = report["bench_faults"]
    assert found["fault"].startswith(fault), found
    assert report["makers"][maker][req]["status"] == "not_run"
    return report


def test_a_test_whose_fault_never_struck_decides_nothing(tmp_path: Path) -> None:
    """K-13: the fault is due after the test's end (fault.unstruck): the requirement it
    alone decides is not run with that reason, not passed on its verdicts; exit 3, and the
    JUnit file says the same (an error, no pass)."""
    bench = bench_file(tmp_path, 'faults:\n  - {fault: camera.frozen, target: cam-canon, '
                                 'during: "canon-E901-03", after_s: 80000}\n')
    out = tmp_path / "out"
    proc = certify("--bench", str(bench), "--vendor", "canon", "--out", str(out), "--",
                   "-k", "canon-E901-03 and not also")
    assert proc.returncode == 3, proc.stdout[-3000:] + proc.stderr
    report = report_of(out)
    nodeid, test = only_test(report, "canon-E901-03")
    assert test["outcome"] == "bench_fault" and test["verdicts"], test  # it had judged
    row = report["makers"]["canon"]["E901-03"]
    assert row["status"] == "not_run" and row["verdicts"] == []
    assert row["reasons"][0].startswith(f"{nodeid}: bench fault (fault.unstruck): cam-canon")
    assert report["passed"] is False and "PASSED: all" not in proc.stdout
    junit = (out / "junit.xml").read_text(encoding="utf-8")
    assert 'errors="1"' in junit and 'failures="0"' in junit


def test_a_fault_struck_and_never_noticed_is_not_a_pass(tmp_path: Path) -> None:
    """K-1: Atlas's camera frozen during a Canon test, which never looks at it: the fault
    struck unnoticed (fault.unnoticed): the requirement is not run, exit 3, never a pass
    with ``bench_faults: []``."""
    bench = bench_file(tmp_path, 'faults:\n  - {fault: camera.frozen, target: cam-atlas, '
                                 'during: "canon-E901-01", after_s: 1}\n')
    stopped_by_the_bench(tmp_path, bench, "canon", "canon-E901-01 and not also", "E901-01",
                         "bench fault (fault.unnoticed): cam-atlas: the bench file's fault "
                         "camera.frozen on cam-atlas struck")


def test_a_fault_this_run_leaves_out_is_said(tmp_path: Path) -> None:
    """K-1: a fault whose tests --vendor leaves out is not exercised: said on the console
    with the bench file's line, before the run (a shared bench file is no mistake)."""
    bench = bench_file(tmp_path, 'faults:\n  - {fault: camera.frozen, target: cam-atlas, '
                                 'during: "atlas-E901-01", after_s: 1}\n')
    proc = certify("--plan", "--bench", str(bench), "--vendor", "canon")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
    assert (f"warning: {bench}:4: faults[0]: camera.frozen during 'atlas-E901-01' is not "
            "exercised in this run") in proc.stderr
    proc = certify("--plan", "--bench", str(bench), "--vendor", "atlas")
    assert proc.returncode == 0 and "warning" not in proc.stderr, proc.stderr


def test_a_fault_strikes_once_whatever_the_workers(tmp_path: Path) -> None:
    """K2-7: ``during: E901-01`` names a test of Canon's and one of Atlas's; on two workers
    (a maker's tests on one) each worker took "the first test it ran" and the fault struck
    twice (Atlas's test stopped as fault.unnoticed on Canon's camera). Once, as with
    ``--jobs 1``: in the first test of the suites' order, Canon's."""
    bench = bench_file(tmp_path, 'faults:\n  - {fault: camera.frozen, target: cam-canon, '
                                 'during: "E901-01", after_s: 1}\n')
    out = tmp_path / "out"
    proc = certify("--jobs", "2", "--bench", str(bench), "--vendor", "canon",
                   "--vendor", "atlas", "--out", str(out), "--", "-k", "E901-01 and not also")
    assert proc.returncode == 3, proc.stdout[-3000:] + proc.stderr
    report = report_of(out)
    ran = {n: t for n, t in report["tests"].items() if t["outcome"] != "not_run"}
    assert {t["folder"] for t in ran.values()} == {"worker-gw0", "worker-gw1"}  # two workers
    [found] = report["bench_faults"]
    assert found["fault"].startswith("bench fault (camera.frozen): cam-canon:"), found
    assert found["test"] == only_test(report, "canon-E901-01")[0]
    assert only_test(report, "atlas-E901-01")[1]["outcome"] == "passed"


@pytest.mark.parametrize(("fault", "problem"), [
    ("{fault: reader.gone, target: canon, during: canon-E901-01, after_s: 1}",
     "faults[0].target: reader.gone strikes a PC/SC reader: 'canon' is none (the bench's: "
     "abcircle-cir315a-02, "),
    ("{fault: robot.error, during: canon-E901-01, after_s: 1}",
     "faults[0].target: robot.error strikes the bench's robot: the bench has none"),
    ("{fault: operator.silent, during: canon-E901-01}",
     "faults[0].target: operator.silent: an emulated bench has no operator to silence"),
])
def test_a_fault_the_bench_cannot_take_is_bad_input(tmp_path: Path, fault: str,
                                                     problem: str) -> None:
    """K-8: accepted before, then the injection's refusal failed Canon's E901-01: now the
    bench file's line, exit 2, nothing run."""
    bench = bench_file(tmp_path, f"faults:\n  - {fault}\n")
    out = tmp_path / "out"
    proc = certify("--bench", str(bench), "--vendor", "canon", "--out", str(out))
    assert proc.returncode == 2, proc.stdout[-3000:] + proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith(
        f"onshi-rig certify: {bench}:4: {problem}"), proc.stderr
    assert "Traceback" not in proc.stderr and not out.exists()


def test_a_fault_refused_when_due_is_a_bench_fault() -> None:
    """K-8: a fault the bench refuses when its after_s comes (mid-test, on the clock) is a
    bench fault (fault.uninjected), not the RigError the test would fail on; clear() names
    it as never struck, whatever caught it."""
    bench = Bench.load(default_bench_path()).open()
    try:
        bench.faults.inject("operator.silent", after_s=1)
        with pytest.raises(BenchFault) as caught:
            bench.clock.sleep(2)
        assert caught.value.fault == "fault.uninjected"
        assert "operator.silent could not be injected" in str(caught.value)
        assert bench.faults.clear() == [("operator.silent", "operator")]
    finally:
        bench.close()


def test_a_camera_that_never_opens_is_the_benchs_fault(tmp_path: Path) -> None:
    """K-5: a camera whose stream cannot be opened: a bench fault (camera.unavailable) and
    the requirement not run, exit 3; never Canon failing CON-01."""
    bench = bench_file(tmp_path, 'cameras: [{name: cam-canon, source: '
                                 '"http://127.0.0.1:9/cam-canon.mjpg"}]\n')
    stopped_by_the_bench(tmp_path, bench, "canon", "canon-CON-01 and not also", "CON-01",
                         "bench fault (camera.unavailable): cam-canon: camera cam-canon: "
                         "cannot open stream")


LAB = project_file("fixtures/benches/lab-example.yaml")


def test_a_real_benchs_missing_relay_port_is_refused_up_front(tmp_path: Path) -> None:
    """K-5: the relay board's USB-serial adapter unplugged: the bench file's line, exit 2,
    before anything runs (as ``scan`` refuses it); never every requirement failed. The
    cameras of a maker --vendor leaves out are not asked for."""
    bench = bench_file(tmp_path, "instruments:\n  - {name: mains, port: /dev/onshi-absent}\n"
                       "cameras:\n  - {name: cam-terminal, source: /dev/onshi-absent-cam}\n"
                       "  - {name: cam-atlas, source: 'http://127.0.0.1:9/a.mjpg', latency_s: 0}\n",
                       base=LAB)
    out = tmp_path / "out"
    proc = certify("--bench", str(bench), "--vendor", "atlas", "--out", str(out))
    assert proc.returncode == 2, proc.stdout[-3000:] + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines[-2:] == [
        f"onshi-rig certify: {bench}:4: instruments[mains].port: /dev/onshi-absent: no such "
        "device (relay 'mains': is it plugged in?)",
        f"{bench}:6: cameras[cam-terminal].source: /dev/onshi-absent-cam: no such device (camera "
        "'cam-terminal': is it plugged in?)"], proc.stderr
    assert "cam-panasonic" not in proc.stderr and not out.exists()


def test_a_real_bench_that_cannot_be_opened_is_a_bench_fault(tmp_path: Path) -> None:
    """K-5: a bench that fails to open in the run (a relay port that is no serial port;
    here the first part it fails on is whichever this machine lacks): every test a bench
    fault (bench.unavailable), not run, exit 3; never failed against the maker."""
    bench = bench_file(tmp_path, "instruments:\n  - {name: mains, port: /dev/null}\n"
                       "cameras:\n  - {name: cam-terminal, source: 'http://127.0.0.1:9/t', latency_s: 0}\n"
                       "  - {name: cam-atlas, source: 'http://127.0.0.1:9/a.mjpg', latency_s: 0}\n",
                       base=LAB)
    stopped_by_the_bench(tmp_path, bench, "atlas", "atlas-1-USB-02", "USB-02",
                         "bench fault (bench.unavailable): bench.yaml: cannot open the "
                         "bench: ")
