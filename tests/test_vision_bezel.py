"""The ring around the screen (harness/vision/bezel.py) says whether the camera moved: the
same whatever the screen shows and however the exposure drifts, different after a knock.
The calibration keeper searches the frame again only when it is different."""

from __future__ import annotations

import numpy as np
import pytest
from vision_helpers import BENCH_SEEDS, device_camera, references, screen

from harness.emulation.camera_model import CameraModel
from harness.vision.bezel import Ring
from harness.vision.geometry import Calibration


def _ring_and_camera(seed: int) -> tuple[Ring, CameraModel, tuple[int, int]]:
    refs = references("atlas")
    cam = device_camera("atlas", seed)
    capture = cam.capture(screen("atlas", refs.get("first")), 1.0)
    ring = Ring.of(capture.image, Calibration(capture.quad, capture.image.shape[1::-1],
                                              refs.size))
    assert ring is not None
    return ring, cam, refs.size


@pytest.mark.parametrize("seed", BENCH_SEEDS[:2])
def test_the_ring_is_the_same_whatever_the_screen_shows(seed: int) -> None:
    ring, cam, _ = _ring_and_camera(seed)
    refs = references("atlas")
    # Other screens, a dark panel, and minutes later (exposure and white balance drifted).
    for name, t in (("error_901", 2.0), ("completion", 95.0), ("off", 400.0),
                    ("consent_1", 1800.0)):
        assert ring.same_in(cam.capture(screen("atlas", refs.get(name)), t).image), name


@pytest.mark.parametrize("seed", BENCH_SEEDS[:2])
def test_a_knocked_camera_changes_the_ring(seed: int) -> None:
    ring, cam, _ = _ring_and_camera(seed)
    refs = references("atlas")
    cam.bump()
    assert not ring.same_in(cam.capture(screen("atlas", refs.get("first")), 3.0).image)


def test_a_screen_outside_the_frame_has_no_ring() -> None:
    frame = np.zeros((1080, 1920, 3), np.uint8)
    quad = np.array([[1915, 1075], [1919, 1075], [1919, 1079], [1915, 1079]], np.float32)
    assert Ring.of(frame, Calibration(quad, (1920, 1080), (1024, 600))) is None
