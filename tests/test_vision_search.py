"""Before a camera has ever found its screen, the keeper searches the frame at most every
SEARCH_EVERY_S of frame time (harness/vision/locate.py): in between it looks where the last
search guessed, and a panel that lights up there is searched for, and found, at once."""

from __future__ import annotations

import pytest
from vision_helpers import BENCH_SEEDS, classifier, device_camera, references, screen

import harness.vision.locate as locate_module
from harness.emulation.camera_model import CameraModel
from harness.vision.locate import SEARCH_EVERY_S, CalibrationKeeper
from harness.vision.reference import ReferenceSet


@pytest.fixture
def searches(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Each search of a whole frame, counted."""
    done: list[float] = []
    real = locate_module.locate

    def counted(frame, clf):  # noqa: ANN001, ANN202
        done.append(1.0)
        return real(frame, clf)

    monkeypatch.setattr(locate_module, "locate", counted)
    return done


def _atlas(seed: int) -> tuple[ReferenceSet, CameraModel, CalibrationKeeper]:
    """Atlas's references, a bench camera on its reader, a keeper that has found nothing."""
    return (references("atlas"), device_camera("atlas", seed),
            CalibrationKeeper(classifier("atlas")))


@pytest.mark.parametrize("shown", ["off", "foreign"])
def test_a_screen_not_found_is_searched_for_at_most_every_few_seconds(
        searches: list[float], shown: str) -> None:
    refs, cam, keeper = _atlas(BENCH_SEEDS[0])
    # A dark panel, or a screen of another maker's reader (no reference matches it).
    panel = screen("atlas", refs.get("off")) if shown == "off" else \
        screen("canon", references("canon").get("consent_1"))
    if shown == "foreign":
        panel = __import__("cv2").resize(panel, refs.size)
    t = 0.0
    while t < SEARCH_EVERY_S - 0.3:
        decision, _ = keeper.classify(cam.capture(panel, t).image, t)
        assert not decision.known or decision.blank
        t += 0.25
    assert len(searches) == 1 and keeper.calibration is None
    keeper.classify(cam.capture(panel, SEARCH_EVERY_S + 0.1).image, SEARCH_EVERY_S + 0.1)
    assert len(searches) == 2


def test_a_panel_lit_between_searches_is_found_at_once(searches: list[float]) -> None:
    refs, cam, keeper = _atlas(BENCH_SEEDS[1])
    dark = screen("atlas", refs.get("off"))
    keeper.classify(cam.capture(dark, 0.0).image, 0.0)
    keeper.classify(cam.capture(dark, 0.25).image, 0.25)
    assert len(searches) == 1
    decision, _ = keeper.classify(cam.capture(screen("atlas", refs.get("first")), 0.5).image,
                                  0.5)
    assert decision.state == "first" and keeper.calibration is not None
    assert len(searches) == 2


def test_without_a_time_every_frame_is_searched(searches: list[float]) -> None:
    refs, cam, keeper = _atlas(BENCH_SEEDS[0])
    dark = screen("atlas", refs.get("off"))
    for t in (0.0, 0.25, 0.5):
        keeper.classify(cam.capture(dark, t).image)
    assert len(searches) == 3
