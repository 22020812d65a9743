"""The eyes on bad input and in odd places: a dark box beside a screen nobody knows, a
calibration that no longer fits the frame, names that would leave the screens folder, a
stream password, a deviated panel look."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from vision_helpers import camera, references, screen

from harness.cli import main
from harness.emulation.device_spec import load_device_spec
from harness.emulation.screen_renderer import ScreenRenderer
from harness.emulation.world import maker_file
from harness.errors import BadInput
from harness.vision.classify import Classifier
from harness.vision.geometry import Calibration
from harness.vision.locate import CalibrationKeeper, locate


@pytest.fixture(scope="module")
def panasonic() -> Classifier:
    return Classifier(references("panasonic"))


def test_a_dark_box_beside_a_foreign_screen_is_not_a_switched_off_panel(panasonic) -> None:  # noqa: ANN001
    frame = camera(3).capture(screen("canon", references("canon").get("consent_1")), 0.0).image
    cv2.rectangle(frame, (40, 700), (520, 1000), (12, 12, 12), -1)  # a black box on the desk
    assert locate(frame, panasonic).decision.state == "unknown"


def test_a_calibration_half_outside_the_frame_answers_unknown(panasonic) -> None:  # noqa: ANN001
    capture = camera(1).capture(screen("panasonic", references("panasonic").get("first")), 0.0)
    shifted = Calibration(capture.quad + np.float32([900, 0]), (1920, 1080), (1024, 600))
    decision = panasonic.classify_frame(capture.image, shifted)
    assert decision.state == "unknown" and "lies in this frame" in decision.why


@pytest.mark.parametrize("quad, problem", [
    ([[0, 0], [100, 0], [200, 0], [0, 100]], "convex"),
    ([[0, 0], [1e30, 0], [1e30, 1e30], [0, 1e30]], "far outside"),
    ([[0, 0], [1, 0], [1, 1], [0, 1]], "no area"),
])
def test_implausible_calibration_files_are_refused(tmp_path: Path, quad, problem) -> None:  # noqa: ANN001
    path = tmp_path / "cal.json"
    path.write_text(json.dumps({"quad": quad, "frame_size": [1920, 1080],
                                "screen_size": [1024, 600]}))
    with pytest.raises(BadInput, match=problem):
        Calibration.load(path)


def test_the_keeper_starts_afresh_when_the_frame_size_changes(panasonic) -> None:  # noqa: ANN001
    ref = references("panasonic").get("first")
    keeper = CalibrationKeeper(panasonic)
    assert keeper.classify(camera(2).capture(screen("panasonic", ref), 0.0).image)[0].known
    small = camera(2, frame=(1280, 720)).capture(screen("panasonic", ref), 0.0).image
    decision, moved = keeper.classify(small)
    assert decision.state == "first" and not moved
    assert keeper.calibration is not None and keeper.calibration.frame_size == (1280, 720)


@pytest.mark.parametrize("argv, message", [
    (["classify", "--vendor", "../canon", "x.png"], "use letters, digits"),
    (["learn", "--vendor", "canon", "--state", "s", "--name", "../../x", "--source", "a.avi"],
     "use letters, digits"),
    (["references", "--device", "nosuch"], "known: atlas, canon"),
    (["classify", "--screens", "/nonexistent", "--vendor", "canon", "x.png"],
     "no such folder"),
])
def test_names_and_folders_are_checked(argv, message, capsys) -> None:  # noqa: ANN001
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_a_stream_password_never_reaches_the_output(tmp_path: Path, capsys) -> None:
    code = main(["learn", "--vendor", "canon", "--state", "first", "--screens", str(tmp_path),
                 "--source", "http://labuser:S3cretPw@127.0.0.1:9/x.mjpg"])
    captured = capsys.readouterr()
    assert code == 2
    assert "S3cretPw" not in captured.out + captured.err


def test_a_deviated_panel_look_is_drawn_afresh() -> None:
    look = load_device_spec(maker_file("canon")).display
    assert look is not None
    refs = references("canon")
    assert ScreenRenderer(look).prime(refs) > 0
    red = look.model_copy(update={"normal": look.normal.model_copy(
        update={"background": "#ff0000"})})
    renderer = ScreenRenderer(red)
    assert renderer.prime(refs) == 0  # the pictures were drawn in another look


def _png_header(width: int, height: int) -> bytes:
    """A PNG whose header declares ``width`` x ``height`` (its data is a few bytes)."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body)))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2,
                                                              0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b""))


def test_a_huge_declared_image_is_refused_before_decoding(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A 20000x20000 header (3 GB decoded) is an error line of classify, and a reference
    screen of that size is bad input naming the index: neither is decoded."""
    import shutil

    from harness.vision.reference import ReferenceSet, screens_dir_for

    huge = tmp_path / "huge.png"
    huge.write_bytes(_png_header(20000, 20000))
    code = main(["classify", "--vendor", "canon", str(huge)])
    out, err = capsys.readouterr()
    assert code == 2 and "Traceback" not in out + err
    assert "huge.png" in out + err and "20000x20000" in out + err
    screens = tmp_path / "screens"
    shutil.copytree(screens_dir_for("canon"), screens)
    (screens / "first.png").write_bytes(_png_header(20000, 20000))
    with pytest.raises(BadInput, match=r"references\.first\.file: first\.png: declares "
                                       r"20000x20000"):
        ReferenceSet.load(screens)
