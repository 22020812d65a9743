"""Files nested deeper than a decoder recurses, and waits no platform can time (hunt L).

Python's JSON decoder and tomllib recurse into arrays and tables: 100,000 ``[`` (or a few
thousand in TOML) exhaust the stack and ended in a RecursionError traceback, exit 1, from a
report folder, a calibration file, a bench naming one, ``--resume``, ``--compared-with`` and
onshi-rig.toml. A pdudaemon's 1e12 s timeout passed the bench file and then overflowed the
socket's time_t in every switching (a traceback from scan, bench faults from certify).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_bad_input_more import bench, run

from harness.cli import main
from harness.errors import BadInput
from harness.loading import json_loads
from harness.paths import project_file

DEEP_JSON = "[" * 100_000 + "]" * 100_000


def test_json_nested_too_deep_is_malformed_json() -> None:
    with pytest.raises(ValueError, match="nested too deep"):
        json_loads(DEEP_JSON)
    with pytest.raises(ValueError, match="nested too deep"):
        json_loads(DEEP_JSON.encode())
    assert json_loads("[[1]]") == [[1]]


@pytest.mark.parametrize("command", [["report", "render"], ["report", "diff", "{run}"],
                                     ["report", "allure"]])
def test_a_report_nested_too_deep_is_named(command: list[str], tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "certification.json").write_text(DEEP_JSON)
    argv = [part.format(run=run_dir) for part in command]
    assert run(capsys, *argv, str(run_dir)) == (2, [
        f"{run_dir}/certification.json:1: not JSON: nested too deep"])


def test_resume_of_a_report_nested_too_deep_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "certification.json").write_text(DEEP_JSON)
    code, lines = run(capsys, "certify", "--resume", "--out", str(tmp_path), "--vendor",
                      "canon")
    assert code == 2 and len(lines) == 1 and "nested too deep" in lines[0], lines


def test_a_calibration_nested_too_deep_is_named(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    deep = tmp_path / "cal.json"
    deep.write_text(DEEP_JSON)
    picture = project_file("fixtures/screens/canon/first.png")
    code, lines = run(capsys, "classify", "--vendor", "canon", "--calibration", str(deep),
                      str(picture))
    assert code == 2 and lines == [
        f"{deep}: cannot read it as JSON (nested too deep: line 1 column 1 (char 0))"]
    # and named by a bench file's camera: refused as the bench loads, naming the file
    path = bench(tmp_path, "cameras:\n  - {name: cam-canon, calibration: cal.json}\n")
    code, lines = run(capsys, "scan", "--bench", str(path))
    assert (code, lines) == (2, [f"{path}:4: cameras[cam-canon].calibration: cal.json: cannot "
                                 "read it as JSON (nested too deep: line 1 column 1 (char 0))"])


def test_an_onshi_rig_toml_nested_too_deep_is_named(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.config import _CACHE

    (tmp_path / "onshi-rig.toml").write_text(
        '# the lab\nprofiles = "p"\nbench = ' + "[" * 5000 + "]" * 5000 + "\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("harness.config._CACHE", dict(_CACHE))
    assert main(["scan"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "onshi-rig.toml:3: bench: not valid TOML: nested too deep"]


@pytest.mark.parametrize(("entry", "field"), [
    ("instruments:\n  - {name: pdu, kind: pdudaemon, url: 'http://127.0.0.1:1', "
     "hostname: h, ports: [1], timeout_s: 1e12}\n", "instruments[pdu].timeout_s"),
    ("faults:\n  - {fault: camera.frozen, target: cam-canon, during: canon-E901-02, "
     "after_s: 1e300}\n", "faults[0].after_s"),
])
def test_a_wait_beyond_a_day_is_bad_input(entry: str, field: str, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    path = bench(tmp_path, entry)
    code, lines = run(capsys, "scan", "--bench", str(path))
    assert code == 2 and f"{path}:4: {field}: Input should be less than or equal to 86400" \
        in lines, lines


@pytest.mark.parametrize("key", ["reply_timeout_s", "motion_timeout_s"])
def test_a_robots_timeouts_are_bounded(key: str) -> None:
    from harness.loading import validate_data
    from harness.model.robot_spec import RobotSpec

    assert validate_data(RobotSpec, {"port": "emulated", key: 86_400}, "b.yaml")
    with pytest.raises(BadInput, match=f"{key}: Input should be less than or equal to 86400"):
        validate_data(RobotSpec, {"port": "emulated", key: 1e12}, "b.yaml")
