"""Real-bench set-up mistakes and the rig's own errors are never the maker failing (hunt
K2-10, K2-19, K2-20).

A face-auth reader no camera watches failed every flow with a bare ``StopIteration``, an
``operator.terminal`` that is no terminal with ``termios.error``, a camera ``source:`` file
OpenCV cannot read with ``RigError``: all as ``FAIL ... canon``. Where the bench file alone
shows it, certify refuses it up front (``file:line: field: problem``, exit 2); otherwise the
bench fault (``camera.unavailable``, ``operator.unavailable``), not run; and any test that
stops on an error of the rig's own (not a verdict, not a bench fault) is ``rig.error``, its
requirements not run with the error and where it rose, never failed against the maker."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from flow_helpers import certify_suite_text
from test_certify_bench_faults import bench_file, certify, stopped_by_the_bench

from harness.bench import Bench, BenchReader, default_bench_path
from harness.errors import BenchFault
from harness.loading import load_yaml_model
from harness.model.bench_spec import BenchSpec
from harness.model.profiles import ProfileSet, default_profiles_dir
from harness.operator import OperatorUnavailable, Step, TtyOperator
from harness.paths import project_file
from harness.report.certification import build_report

#: A real bench of one Canon reader (the sysfs fixture's), scripted: what the hunt ran.
REAL = f"""bench: real-one
kind: real
usb_devices: sysfs
sysfs_root: {project_file("fixtures/sysfs/terminal-a")}
terminal: {{name: terminal, usb_ports: []}}
readers:
  - name: canon-1
    kind: face_auth_reader
    maker: canon
    usb: {{vid: "FFFF", pid: "F002", path: "1-3", placeholder: true}}
"""


def test_a_real_face_auth_reader_no_camera_watches_is_refused_up_front(
        tmp_path: Path) -> None:
    bench = tmp_path / "bench.yaml"
    bench.write_text(REAL + "operator: {script: op.yaml}\n", encoding="utf-8")
    (tmp_path / "op.yaml").write_text('- ask: "."\n', encoding="utf-8")
    out = tmp_path / "out"
    proc = certify("--bench", str(bench), "--vendor", "canon", "--out", str(out))
    assert proc.returncode == 2, proc.stdout[-3000:] + proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == (
        f"onshi-rig certify: {bench}:7: readers[0]: face-auth reader 'canon-1' has no camera "
        "on its screen (cameras[].watches: canon-1)"), proc.stderr
    assert not out.exists()


def test_an_operator_terminal_that_is_no_terminal_is_refused_up_front(
        tmp_path: Path) -> None:
    bench = tmp_path / "bench.yaml"
    bench.write_text(REAL + "operator: {terminal: /dev/null}\ncameras: [{name: cam, "
                     "watches: canon-1, source: 'http://127.0.0.1:9/c.mjpg', "
                     "latency_s: 0}]\n",
                     encoding="utf-8")
    proc = certify("--bench", str(bench), "--vendor", "canon", "--out", str(tmp_path / "o"))
    assert proc.returncode == 2, proc.stdout[-3000:] + proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == (
        f"onshi-rig certify: {bench}:11: operator.terminal: /dev/null is not a terminal "
        "(nobody could read the questions there)"), proc.stderr
    # In the run (a terminal that changed since): the bench fault, never termios.error.
    with pytest.raises(OperatorUnavailable, match="/dev/null .* is not a terminal"):
        TtyOperator("/dev/null").ask(Step("take the card out of canon"), 5)


def test_a_camera_recording_opencv_cannot_read_is_the_benchs_fault(tmp_path: Path) -> None:
    source = tmp_path / "recording.avi"
    source.write_text("not a video\n", encoding="utf-8")
    bench = bench_file(tmp_path, f"cameras: [{{name: cam-canon, source: {source}}}]\n")
    stopped_by_the_bench(tmp_path, bench, "canon", "canon-CON-01 and not also", "CON-01",
                         f"bench fault (camera.unavailable): cam-canon: video {source}: "
                         "OpenCV cannot read it")


def test_eyes_on_a_reader_no_camera_watches_are_a_bench_fault() -> None:
    spec = load_yaml_model(default_bench_path(), BenchSpec, layered=True)
    cameras = [c for c in spec.cameras if c.watches != "canon"]
    bench = Bench(spec.model_copy(update={"cameras": cameras}), default_bench_path())
    bench.readers = [BenchReader(r, None) for r in bench.spec.readers]  # as open() lists them
    with pytest.raises(BenchFault, match=r"^bench fault \(camera.unavailable\): canon: no "
                                         r"camera of the bench file watches it"):
        bench.watcher("canon")


SUITE = '''
import pytest

@pytest.mark.requirement("AUTH-01")
@pytest.mark.maker("canon")
def test_flow(judge):
    next(iter(()))  # the rig's own bug: a bare StopIteration before any verdict

@pytest.mark.requirement("AUTH-02")
@pytest.mark.maker("canon")
def test_verdict():
    assert False, "the reader showed pin_entry"

@pytest.mark.requirement("AUTH-03")
@pytest.mark.maker("canon")
def test_device_timeout():
    from harness.errors import DeviceTimeout
    raise DeviceTimeout("canon", "staff_passcode", 10)
'''


def test_a_test_stopped_by_the_rigs_own_error_fails_no_maker(tmp_path: Path) -> None:
    suite = tmp_path / "test_rig_error_suite.py"
    _, spec, collector = certify_suite_text(tmp_path, suite.name, SUITE)
    flow = collector.tests[f"{suite.name}::test_flow"]
    assert flow.outcome == "bench_fault", flow
    assert flow.reason.startswith("bench fault (rig.error): the rig: stopped on its own "
                                  "error, not a verdict: StopIteration at "), flow.reason
    assert f"{suite.name}:7" in flow.reason
    # An assert of a suite stays a verdict against the maker; so does a reader that never
    # answered a bounded wait (what the device did, not the rig's error).
    assert collector.tests[f"{suite.name}::test_verdict"].outcome == "failed"
    assert collector.tests[f"{suite.name}::test_device_timeout"].outcome == "failed"
    now = dt.datetime.now().astimezone()
    report = build_report(bench_path=default_bench_path(), spec=spec,
                          profiles=ProfileSet.load(default_profiles_dir()),
                          tests=collector.tests, started=now, ended=now, only={"canon"})
    rows = report["makers"]["canon"]
    assert rows["AUTH-01"]["status"] == "not_run", rows["AUTH-01"]
    assert rows["AUTH-02"]["status"] == "failed"
