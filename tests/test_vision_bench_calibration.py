"""A bench camera that knows where the screen is: ``onshi-rig calibrate`` keeps it in the bench
file, the bench hands it to the watcher, and a switched-off panel is then ``off``, not
``unknown``."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from harness.bench import Bench
from harness.cli import main
from harness.errors import BadInput
from harness.vision.geometry import Calibration

CAMERA, READER = "cam-canon", "canon"


def based_bench(tmp_path: Path, extra: str = "") -> Path:
    """A bench file deriving from the shipped emulated bench. Device paths in a base file
    resolve against the deriving file: it sits beside fixtures/devices as the shipped one."""
    base = Bench.load().path
    (tmp_path / "devices").symlink_to(base.parent.parent / "devices")
    (tmp_path / "benches").mkdir()
    path = tmp_path / "benches" / "desk.yaml"
    path.write_text(f"base: {base}\n{extra}", encoding="utf-8")
    return path


#: The shipped bench's cameras are calibrated: this takes cam-canon's calibration away
#: (``null`` removes a base's key), as on a camera never calibrated.
UNCALIBRATED = f"cameras:\n  - {{name: {CAMERA}, calibration: null}}\n"


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bench file after ``onshi-rig calibrate --camera cam-canon``."""
    path = based_bench(tmp_path_factory.mktemp("calibrated"), UNCALIBRATED)
    assert main(["calibrate", "--camera", CAMERA, "--bench", str(path)]) == 0
    return path


def test_calibrate_writes_a_sidecar_and_names_it_in_the_bench_file(calibrated: Path) -> None:
    data = yaml.safe_load(calibrated.read_text(encoding="utf-8"))
    (entry,) = data["cameras"]
    assert entry == {"name": CAMERA, "calibration": "desk.cam-canon.calibration.json"}
    saved = json.loads((calibrated.parent / entry["calibration"]).read_text(encoding="utf-8"))
    assert saved["frame_size"] == [1920, 1080] and saved["screen_size"] == [1024, 600]
    # The base's other cameras are untouched, and the calibrated one keeps what it watches.
    bench = Bench.load(calibrated)
    camera = next(c for c in bench.spec.cameras if c.name == CAMERA)
    assert camera.watches == READER and camera.source == "emulated"
    shipped = {c.name: c.calibration for c in Bench.load().spec.cameras}
    assert all(c.calibration == shipped[c.name] for c in bench.spec.cameras if c.name != CAMERA)


def test_a_switched_off_panel_is_off_once_the_camera_knows_the_screen(
        calibrated: Path) -> None:
    with Bench.load(calibrated) as bench:
        watcher = bench.watcher(READER)
        known = watcher.keeper.calibration
        assert known is not None  # from the bench file, before any frame
        assert watcher.look().state == "first"
        bench.switch(READER, False)
        dark = watcher.look()
        assert dark.state == "off", dark.decision.why
        assert dark.decision.blank
        # The screen was not looked for again: the bench file's corners are still used.
        assert watcher.keeper.calibration is known


def test_without_a_calibration_a_dark_panel_is_unknown(tmp_path: Path) -> None:
    """What the calibration buys: a dark panel on a camera that never saw the screen shows
    nothing to find it by."""
    with Bench.load(based_bench(tmp_path, UNCALIBRATED)) as bench:
        watcher = bench.watcher(READER)
        bench.switch(READER, False)
        obs = watcher.look()
        assert obs.state == "unknown" and watcher.keeper.calibration is None


def test_a_second_calibrate_rewrites_the_named_file_only(calibrated: Path) -> None:
    text = calibrated.read_text(encoding="utf-8")
    assert main(["calibrate", "--camera", CAMERA, "--bench", str(calibrated)]) == 0
    assert calibrated.read_text(encoding="utf-8") == text


def test_an_inline_calibration_is_used(calibrated: Path, tmp_path: Path) -> None:
    saved = Calibration.load(calibrated.parent / "desk.cam-canon.calibration.json")
    inline = json.dumps(saved.as_json())
    path = based_bench(tmp_path, f"cameras:\n  - {{name: {CAMERA}, calibration: {inline}}}\n")
    got = Bench.load(path).camera_calibration(CAMERA)
    assert got is not None and got.shift(saved) < 0.01


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ("calibration: missing.json", "no such calibration file"),
        ("calibration: {quad: [[0, 0], [10, 0]], frame_size: [1920, 1080], "
         "screen_size: [1024, 600]}", "quad must be four"),
        ("calibration: {quad: [[0, 0], [900, 0], [900, 500], [0, 500]], "
         "frame_size: [1920, 1080]}", "screen_size"),
    ],
)
def test_a_bad_calibration_is_refused_with_file_and_line(tmp_path: Path, entry: str,
                                                        problem: str) -> None:
    # A camera of this file's own (a base's calibration would fill in a missing key).
    path = based_bench(tmp_path, "cameras:\n  - name: cam-own\n    watches: canon\n"
                                 f"    source: emulated\n    {entry}\n")
    with pytest.raises(BadInput, match=problem) as caught:
        Bench.load(path)
    # file:line: field: problem (the line of the entry or of its calibration key)
    assert re.match(rf"{re.escape(str(path))}:[3-6]: cameras\[", str(caught.value)), caught.value


def test_calibrate_refuses_an_unknown_camera(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    path = based_bench(tmp_path)
    assert main(["calibrate", "--camera", "cam-nowhere", "--bench", str(path)]) == 2
    assert "no camera 'cam-nowhere'" in capsys.readouterr().err
    assert path.read_text(encoding="utf-8").count("\n") == 1  # unchanged


def test_a_calibration_written_inline_in_the_base_is_overridden_here(tmp_path: Path) -> None:
    """(hunt K2-8) The shipped bench writes cam-canon's calibration inline; a bench file
    deriving from it says nothing of cameras. calibrate once refused, telling the user to
    remove from this file what only the base holds: it now names its sidecar in this
    file's own entry for the camera, which overrides the base's (never edited)."""
    path = based_bench(tmp_path)
    base = Bench.load().path
    before = base.read_bytes()
    assert main(["calibrate", "--camera", CAMERA, "--bench", str(path)]) == 0
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert data["cameras"] == [{"name": CAMERA, "calibration": f"desk.{CAMERA}.calibration.json"}]
    assert (path.parent / f"desk.{CAMERA}.calibration.json").is_file()
    assert base.read_bytes() == before


def test_a_calibration_written_inline_in_this_file_is_named_at_its_line(
        tmp_path: Path, capsys) -> None:  # noqa: ANN001
    path = based_bench(tmp_path, f"cameras:\n  - name: {CAMERA}\n    calibration:\n"
                                 "      quad: [[571, 187], [1453, 141], [1446, 688], [607, 669]]\n"
                                 "      frame_size: [1920, 1080]\n"
                                 "      screen_size: [1024, 600]\n")
    text = path.read_text(encoding="utf-8")
    assert main(["calibrate", "--camera", CAMERA, "--bench", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:4: cameras[0].calibration: written inline" in err, err
    assert path.read_text(encoding="utf-8") == text
