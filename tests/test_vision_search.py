"""Before a camera has ever found its screen, the keeper searches the frame at most every
SEARCH_EVERY_S of frame time (harness/vision/locate.py): in between it looks where the last
search guessed, and a panel that lights up there is searched for, and found, at once. A
calibrated camera whose screen shows nothing the references know searches again less and
less often while the searches find nothing better (SEARCH_BACKOFF_MAX_S), and at the usual
pace again once a screen was recognised."""

from __future__ import annotations

import pytest
from vision_helpers import BENCH_SEEDS, classifier, device_camera, references, screen

import harness.vision.locate as locate_module
from harness.emulation.camera_model import CameraModel
from harness.vision.locate import SEARCH_BACKOFF_MAX_S, SEARCH_EVERY_S, CalibrationKeeper
from harness.vision.reference import ReferenceSet


@pytest.fixture
def searches(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Each search of a whole frame, counted."""
    done: list[float] = []
    real = locate_module.locate

    def counted(frame, clf, **how):  # noqa: ANN001, ANN003, ANN202
        done.append(1.0)
        return real(frame, clf, **how)

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


def test_a_calibrated_camera_on_an_unknown_screen_searches_less_and_less(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """(A camera whose bench file gives its calibration, on another maker's reader: each
    search of the whole frame cost two seconds of CPU, every third look, for minutes.)"""
    refs, cam, finder = _atlas(BENCH_SEEDS[2])
    first = screen("atlas", refs.get("first"))
    finder.classify(cam.capture(first, 0.0).image, 0.0)
    assert finder.calibration is not None
    keeper = CalibrationKeeper(classifier("atlas"), calibration=finder.calibration)
    at: list[float] = []
    now = [0.0]
    real = locate_module.locate
    found: list[object] = []  # the first search's answer, given again (searches cost)

    def search(frame, clf, **how):  # noqa: ANN001, ANN003, ANN202
        at.append(now[0])
        if not found:
            found.append(real(frame, clf, **how))
        return found[0]

    monkeypatch.setattr(locate_module, "locate", search)
    foreign = __import__("cv2").resize(screen("canon", references("canon").get("consent_1")),
                                       refs.size)
    step = 1.0
    t = 0.0
    while t < 110.0:
        now[0] = t
        decision, moved = keeper.classify(cam.capture(foreign, t).image, t)
        assert not decision.known and not moved
        t += step
    # Each fruitless search waits twice as long as the one before, from SEARCH_EVERY_S up to
    # SEARCH_BACKOFF_MAX_S; every third unknown look is due.
    gaps = [b - a for a, b in zip(at, at[1:], strict=False)]
    assert at[0] == 2 * step, at
    waits = [min(SEARCH_EVERY_S * 2 ** k, SEARCH_BACKOFF_MAX_S) for k in range(len(gaps))]
    assert all(w <= g < w + 3 * step + 1e-9 for g, w in zip(gaps, waits, strict=True)), (at, waits)
    assert len(at) < 10 and max(gaps) >= SEARCH_BACKOFF_MAX_S
    # The reader's own screen recognised: the next unknown screen is searched at once again
    # (once due), not a back-off later.
    now[0] = t
    assert keeper.classify(cam.capture(first, t).image, t)[0].state == "first"
    keeper._ring = None  # (the ring would tell the camera did not move: no search at all)
    count = len(at)
    for k in range(1, 4):
        now[0] = t + k * step
        keeper.classify(cam.capture(foreign, t + k * step).image, t + k * step)
    assert len(at) == count + 1 and at[-1] == t + 3 * step


def test_a_knock_the_ring_sees_is_searched_at_once_whatever_the_back_off(
        searches: list[float]) -> None:
    """The back-off holds only while no ring tells whether the camera moved: knocked onto
    a screen no reference knows (a fruitless search), then its own screen again at the new
    place, the camera is searched for at once and found moved, not a back-off later."""
    refs, cam, keeper = _atlas(BENCH_SEEDS[3])
    first = screen("atlas", refs.get("first"))
    foreign = __import__("cv2").resize(screen("canon", references("canon").get("consent_1")),
                                       refs.size)
    t = 0.0
    for _ in range(3):  # found, recognised: the ring around it taken
        assert keeper.classify(cam.capture(first, t).image, t)[0].state == "first"
        t += 0.25
    cam.bump()
    for _ in range(keeper.patience):  # the third look is due: the ring differs, a search
        decision, moved = keeper.classify(cam.capture(foreign, t).image, t)
        assert not decision.known and not moved
        t += 0.25
    assert len(searches) == 2  # the first find, then the fruitless one after the knock
    seen = []
    for _ in range(keeper.patience):  # within SEARCH_EVERY_S of the fruitless search
        seen.append(keeper.classify(cam.capture(first, t).image, t))
        t += 0.25
    assert keeper.patience * 0.25 < SEARCH_EVERY_S  # (the back-off would still hold)
    assert len(searches) == 3 and seen[-1][0].state == "first" and seen[-1][1], seen


def test_a_fixed_cameras_search_does_not_look_for_a_hidden_border(
        searches: list[float], monkeypatch: pytest.MonkeyPatch) -> None:
    """A fixed camera's search of a screen no reference knows costs the outline's search
    only, before its screen was found and once calibrated: places mended and keypoints
    matched (a photo's border hidden by a finger) cost several times that on every such
    search, for what a later look sees anyway. The same picture as a photo is still
    searched for a hidden border."""
    refs, cam, finder = _atlas(BENCH_SEEDS[2])
    hidden: list[str] = []
    for name in ("_elsewhere", "_locate_by_features"):
        real = getattr(locate_module, name)

        def counted(*args, _name=name, _real=real):  # noqa: ANN001, ANN002, ANN202
            hidden.append(_name)
            return _real(*args)

        monkeypatch.setattr(locate_module, name, counted)
    foreign = __import__("cv2").resize(screen("canon", references("canon").get("consent_1")),
                                       refs.size)
    finder.classify(cam.capture(foreign, 0.0).image, 0.0)
    assert searches and not hidden and finder.calibration is None
    t = SEARCH_EVERY_S + 0.5  # the next search, on the reader's own screen
    finder.classify(cam.capture(screen("atlas", refs.get("first")), t).image, t)
    assert finder.calibration is not None
    keeper = CalibrationKeeper(classifier("atlas"), calibration=finder.calibration)
    searches.clear()
    for k in range(4):
        decision, moved = keeper.classify(cam.capture(foreign, float(k)).image, float(k))
        assert not decision.known and not moved
    assert searches and not hidden
    photo = cam.capture(foreign, 5.0).image
    assert not locate_module.locate(photo, classifier("atlas")).decision.known
    assert hidden == ["_elsewhere", "_locate_by_features"]
