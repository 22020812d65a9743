"""Finding the screen in a camera's view, keeping the calibration, noticing a knocked camera.

The camera model says where the screen's corners landed in each frame (``Capture.quad``):
that is the ground truth the found corners are held to.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from vision_helpers import (
    FRAME,
    camera,
    classifier,
    corner_error,
    describe,
    device_camera,
    references,
    screen,
)

from harness.emulation import camera_model, camera_scene
from harness.emulation.screen_renderer import Drawn
from harness.errors import BadInput
from harness.vision import locate as locating
from harness.vision.geometry import Calibration
from harness.vision.locate import CalibrationKeeper, ScreenNotFound, locate

#: Corners found from a frame must be this close to the truth (frame pixels), "about 2 px":
#: the screen is 450-900 px wide in a 1280x720 frame. Readers' corners are found to
#: 0.3-0.7 px; the terminal's desktop (a dark taskbar along the panel's bottom edge) to ~2.4.
CORNER_PX = 2.5

#: (device, reference, camera seed, hand-held): each device on two bench cameras and
#: hand-held; dense pages, sparse ones, dark ones (Atlas), the terminal's desktop and dialogs.
LOCATE_CASES = [
    ("panasonic", "consent_2", 1, False),
    ("panasonic", "checking", 2, False),
    ("panasonic", "place_card", 6, True),
    ("canon", "first@staff", 1, False),
    ("canon", "error_901", 2, False),
    ("canon", "please_wait", 5, True),
    ("usen_almex", "consent_wait", 1, False),
    ("usen_almex", "sp_choose", 2, False),
    ("usen_almex", "visual_confirm", 5, True),
    ("fujitsu_japan", "error_901", 1, False),
    ("fujitsu_japan", "first@smartphone", 2, False),
    ("fujitsu_japan", "consent_1", 6, True),
    ("atlas", "starting", 1, False),
    ("atlas", "pin_entry", 2, False),
    ("atlas", "first@staff+smartphone", 5, True),
    ("terminal", "desktop", 1, False),
    ("terminal", "check_error_1", 1, False),
    ("terminal", "check_error_2", 2, False),
    ("terminal", "no_update", 5, True),
]


@pytest.mark.parametrize(("device", "name", "seed", "hand_held"), LOCATE_CASES,
                         ids=[f"{d}-{n}-{'hand' if h else 'bench'}{s}"
                              for d, n, s, h in LOCATE_CASES])
def test_locate_finds_the_screen_and_what_it_shows(device: str, name: str, seed: int,
                                                    hand_held: bool) -> None:
    ref = references(device).get(name)
    cam = device_camera(device, seed, hand_held=hand_held)
    t = 2.0 + seed
    capture = cam.capture(screen(device, ref, t), t)
    found = locate(capture.image, classifier(device))
    error = corner_error(found.calibration.quad, capture.quad)
    assert found.decision.state == ref.state, describe(found.decision)
    assert error <= CORNER_PX, (
        f"corners {error:.2f} px off (found by {found.calibration.method}): "
        f"{np.round(found.calibration.quad, 1).tolist()} for {np.round(capture.quad, 1).tolist()}")
    assert found.calibration.frame_size == FRAME
    assert tuple(found.calibration.screen_size) == tuple(references(device).size)


def test_locate_in_a_full_hd_frame() -> None:
    ref = references("canon").get("consent_1")
    capture = camera(3, frame=(1920, 1080)).capture(screen("canon", ref, 1.0), 1.0)
    found = locate(capture.image, classifier("canon"))
    assert found.decision.state == "consent_1", describe(found.decision)
    assert corner_error(found.calibration.quad, capture.quad) <= CORNER_PX
    assert found.calibration.frame_size == (1920, 1080)


def test_no_screen_in_the_picture() -> None:
    """The bench without any reader on it: no screen found, or nothing recognised, never a
    state."""
    bench = camera_scene.render_bench(np.random.default_rng(1), FRAME[1], FRAME[0])
    try:
        found = locate(bench, classifier("canon"))
    except ScreenNotFound:
        return
    assert not found.decision.known, describe(found.decision)


# -- the calibration file ---------------------------------------------------------------------


def test_calibration_save_load_roundtrip(tmp_path: Path) -> None:
    ref = references("fujitsu_japan").get("consent_2")
    clf = classifier("fujitsu_japan")
    capture = device_camera("fujitsu_japan", 1).capture(screen("fujitsu_japan", ref, 1.0), 1.0)
    found = locate(capture.image, clf).calibration
    path = tmp_path / "cam1.json"
    found.save(path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert set(data) == {"quad", "frame_size", "screen_size", "method"}
    loaded = Calibration.load(path)
    assert corner_error(loaded.quad, found.quad) <= 0.01  # saved to 1/100 px
    assert loaded.quad.shape == (4, 2)
    assert tuple(loaded.frame_size) == tuple(found.frame_size) == FRAME
    assert tuple(loaded.screen_size) == tuple(found.screen_size) == (1024, 600)
    assert loaded.method == found.method
    # The loaded calibration cuts out the same screen and sees the same state.
    a = found.rectify(capture.image, clf.fine_size).astype(int)
    b = loaded.rectify(capture.image, clf.fine_size).astype(int)
    assert np.abs(a - b).mean() < 1.0
    assert clf.classify(loaded.rectify(capture.image, clf.fine_size)).state == "consent_2"
    # Saved again, the file is the same.
    loaded.save(tmp_path / "again.json")
    assert (tmp_path / "again.json").read_text() == path.read_text()


GOOD = {"quad": [[10, 20], [500, 25], [505, 300], [8, 310]], "frame_size": [1280, 720],
        "screen_size": [1024, 600], "method": "quad"}
MALFORMED = {
    "not JSON": "{quad: nope",
    "a list": "[1, 2, 3]",
    "null": "null",
    "no quad": json.dumps({k: v for k, v in GOOD.items() if k != "quad"}),
    "three corners": json.dumps({**GOOD, "quad": GOOD["quad"][:3]}),
    "corners not numbers": json.dumps({**GOOD, "quad": [["a", "b"]] * 4}),
    "no frame size": json.dumps({k: v for k, v in GOOD.items() if k != "frame_size"}),
    "frame size of three numbers": json.dumps({**GOOD, "frame_size": [1280, 720, 3]}),
    "frame size a string": json.dumps({**GOOD, "frame_size": "ab"}),
    "not UTF-8": b"\xff\xfe\x00\x01",
}


@pytest.mark.parametrize("what", list(MALFORMED))
def test_a_malformed_calibration_file_is_bad_input_naming_it(tmp_path: Path, what: str) -> None:
    path = tmp_path / "cam.json"
    content = MALFORMED[what]
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(BadInput) as caught:
        Calibration.load(path)
    assert caught.value.path == str(path)
    assert str(path) in str(caught.value)
    assert "Traceback" not in str(caught.value)


def test_a_good_calibration_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "cam.json"
    path.write_text(json.dumps(GOOD), encoding="utf-8")
    loaded = Calibration.load(path)
    assert loaded.quad.tolist() == GOOD["quad"]
    assert tuple(loaded.frame_size) == (1280, 720) and loaded.method == "quad"


def test_a_missing_calibration_file_is_bad_input_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "cam.json"
    with pytest.raises(BadInput, match="no such calibration file") as caught:
        Calibration.load(path)
    assert str(path) in str(caught.value)


def test_a_directory_given_as_calibration_file_is_bad_input(tmp_path: Path) -> None:
    """``--calibration some/dir/`` is a user's slip like a missing file; Calibration.load
    catches FileNotFoundError, ValueError, KeyError and TypeError but not the other
    OSErrors (IsADirectoryError, PermissionError), which reach the CLI as tracebacks."""
    with pytest.raises(BadInput) as caught:
        Calibration.load(tmp_path)
    assert str(tmp_path) in str(caught.value)


# -- the keeper --------------------------------------------------------------------------------


@pytest.fixture
def locate_calls(monkeypatch: pytest.MonkeyPatch) -> list[np.ndarray]:
    """Every frame CalibrationKeeper looks for the screen in."""
    calls: list[np.ndarray] = []
    real = locating.locate

    def counting(frame: np.ndarray, clf, **how):  # noqa: ANN001, ANN003, ANN202
        calls.append(frame)
        return real(frame, clf, **how)

    monkeypatch.setattr(locating, "locate", counting)
    return calls


def test_keeper_calibrates_on_the_first_frame_and_keeps_it(locate_calls) -> None:
    clf = classifier("canon")
    refs = references("canon")
    cam = device_camera("canon", 1)
    keeper = CalibrationKeeper(clf)
    sequence = ["first", "first@staff", "face_auth", "consent_1", "consent_2", "checking",
                "completion", "first"]
    capture = None
    for k, name in enumerate(sequence):
        t = 0.7 * k
        capture = cam.capture(screen("canon", refs.get(name), t), t)
        decision, moved = keeper.classify(capture.image)
        assert decision.state == refs.get(name).state, f"{name}: {describe(decision)}"
        assert not moved
        if k == 0:
            first = keeper.calibration
            assert first is not None
            assert corner_error(first.quad, capture.quad) <= CORNER_PX
        assert keeper.calibration is first
    assert len(locate_calls) == 1
    assert keeper.last_move_px is None


@pytest.mark.parametrize(("maker", "seed"), [("canon", 2), ("fujitsu_japan", 3), ("atlas", 1)])
def test_keeper_notices_a_knocked_camera(maker: str, seed: int, locate_calls) -> None:
    clf = classifier(maker)
    refs = references(maker)
    cam = device_camera(maker, seed)
    keeper = CalibrationKeeper(clf, patience=3)
    names = ["first", "consent_1", "consent_2", "checking"]
    t = 0.0

    def frame(k: int):  # noqa: ANN202
        nonlocal t
        t += 0.5
        ref = refs.get(names[k % len(names)])
        return ref, cam.capture(screen(maker, ref, t), t)

    for k in range(3):
        ref, before = frame(k)
        decision, moved = keeper.classify(before.image)
        assert decision.state == ref.state and not moved
    old = keeper.calibration
    cam.bump()
    moves = []
    for k in range(keeper.patience + 1):
        ref, after = frame(k)
        decision, moved = keeper.classify(after.image)
        if moved:
            moves.append(k)
            assert decision.state == ref.state, describe(decision)
    assert len(moves) == 1, f"moved on frames {moves} of {keeper.patience + 1} after the knock"
    assert len(locate_calls) == 2  # the first frame, then once after the knock
    assert keeper.calibration is not old
    assert corner_error(keeper.calibration.quad, after.quad) <= CORNER_PX
    truth_shift = corner_error(before.quad, after.quad)
    assert truth_shift > keeper.moved_px
    assert keeper.last_move_px == pytest.approx(truth_shift, abs=2 * CORNER_PX)
    # Recognised again from the new place, without looking for the screen again.
    for k in range(len(names)):
        ref, later = frame(k)
        decision, moved = keeper.classify(later.image)
        assert decision.state == ref.state and not moved, describe(decision)
        assert decision.score >= keeper.recheck_below
    assert len(locate_calls) == 2


def test_a_foreign_screen_is_not_a_moved_camera(locate_calls) -> None:
    """The reader shows something the references do not hold (a new message): scores drop,
    the keeper looks again, finds nothing better, and keeps its calibration."""
    clf = classifier("canon")
    refs = references("canon")
    cam = device_camera("canon", 4)
    keeper = CalibrationKeeper(clf, patience=2)
    capture = cam.capture(screen("canon", refs.get("first"), 0.0), 0.0)
    decision, moved = keeper.classify(capture.image)
    assert decision.state == "first" and not moved
    kept = keeper.calibration
    foreign = screen("canon", Drawn("closed", "closed", ("本日の受付は終了しました",)), 1.0)
    for k in range(keeper.patience + 1):
        t = 1.0 + 0.5 * k
        decision, moved = keeper.classify(cam.capture(foreign, t).image)
        assert not decision.known, describe(decision)
        assert not moved
    assert keeper.calibration.shift(kept) == 0.0
    assert keeper.last_move_px is None
    looked = len(locate_calls)
    assert looked >= 2  # it did look again
    capture = cam.capture(screen("canon", refs.get("consent_1"), 9.0), 9.0)
    decision, moved = keeper.classify(capture.image)
    assert decision.state == "consent_1" and not moved
    assert len(locate_calls) == looked


def test_a_dark_panel_does_not_fix_the_calibration(locate_calls) -> None:
    """A reader switched off at start-up: a dark panel says nothing of where the screen is;
    the keeper calibrates on the first page with content."""
    clf = classifier("panasonic")
    refs = references("panasonic")
    cam = device_camera("panasonic", 1)
    keeper = CalibrationKeeper(clf)
    for k in range(2):
        decision, moved = keeper.classify(cam.capture(screen("panasonic", refs.get("off"),
                                                             0.5 * k), 0.5 * k).image)
        assert keeper.calibration is None and not moved
        assert decision.state in ("off", "unknown")
    capture = cam.capture(screen("panasonic", refs.get("starting"), 2.0), 2.0)
    decision, moved = keeper.classify(capture.image)
    assert decision.state == "starting" and not moved, describe(decision)
    assert keeper.calibration is not None
    assert corner_error(keeper.calibration.quad, capture.quad) <= CORNER_PX


def test_keeper_survives_frames_without_a_screen() -> None:
    keeper = CalibrationKeeper(classifier("atlas"))
    bench = camera_scene.render_bench(np.random.default_rng(2), FRAME[1], FRAME[0])
    decision, moved = keeper.classify(bench)
    assert not decision.known and not moved
    assert keeper.calibration is None


# -- a harsh desk: a quad must lie on the panel's border ---------------------------------------


def test_a_quad_across_the_page_is_not_on_the_border() -> None:
    """The screen's true corners lie on the panel's border; the same quad with its bottom
    raised across the page (as keypoints matched on the text alone can put it, leaving a
    button out) does not, nor one pushed out over the bezel."""
    cam = device_camera("canon", 2)
    capture = cam.capture(screen("canon", references("canon").get("first@smartphone"), 2.0),
                          2.0)
    grey = cv2.cvtColor(capture.image, cv2.COLOR_BGR2GRAY)
    quad = capture.quad.astype(np.float32)
    assert locating._on_border(grey, quad)
    raised = quad.copy()
    raised[2:] += 0.15 * (quad[[1, 0]] - quad[2:])  # bottom corners towards the top ones
    assert not locating._on_border(grey, raised)
    centre = quad.mean(axis=0)
    assert not locating._on_border(grey, centre + 1.12 * (quad - centre))


def test_harsh_hand_photos_of_near_duplicates_are_never_named_wrongly() -> None:
    """Photos of the first screen with and without its buttons on a harsh desk (a finger, a
    hot spot, motion blur), the screen found from nothing: the reference drawn or unknown."""
    effects = camera_model.CameraEffects.harsh()
    refs = references("canon")
    clf = classifier("canon")
    wrong, named = [], 0
    # (camera, screen, moment): 1614 once had keypoints matched on the text alone put the
    # bottom above the button, and the photo named `first`.
    photos = ((1614, "first@smartphone", 1), (1610, "first@staff", 0),
              (1612, "first@staff", 2), (1616, "first@staff+smartphone", 0),
              (1615, "first@smartphone", 2), (1611, "first", 1))
    for seed, name, k in photos:
        cam = camera_model.CameraModel(seed, hand_held=True, effects=effects)
        t = 3.1 * k + 0.37 * len(name)
        frame = cam.capture(screen("canon", refs.get(name), t), t).image
        try:
            d = locate(frame, clf).decision
        except ScreenNotFound:
            continue
        if d.reference == name:
            named += 1
        elif d.known:
            wrong.append(f"{name} (camera {seed}): {describe(d)}")
    assert not wrong, "\n".join(wrong)
    assert named >= 4, f"only {named} of 6 photos named"


@pytest.mark.parametrize("name", ["starting", "first@smartphone", "checking"])
def test_a_finger_across_the_border_does_not_hide_the_screen(name: str) -> None:
    """A hand photo (camera 3605 on a harsh desk) with a finger across the panel's bottom
    edge: the outline found bends round the finger, the sheets of paper beside it look
    nothing like a screen. The places are aligned on their content and mended (a corner,
    a side put back), and the screen is found to within a pixel and named; without that,
    every one of these photos came back unknown."""
    refs = references("panasonic")
    cam = camera_model.CameraModel(3605, hand_held=True,
                                   effects=camera_model.CameraEffects.harsh())
    capture = cam.capture(screen("panasonic", refs.get(name), 3.0), 3.0)
    found = locate(capture.image, classifier("panasonic"))
    assert found.decision.reference == name, describe(found.decision)
    assert corner_error(found.calibration.quad, capture.quad) <= 1.0


def test_a_place_is_mended_by_its_corners_and_by_the_screens_proportions() -> None:
    """A corner dragged to a finger's tip comes back where the other three put it; a side
    taken out over a bezel's band (or in, short of a header) comes back where the opposite
    side and the screen's proportions put it, whichever side it is."""
    true = np.float32([[100, 50], [740, 50], [740, 410], [100, 410]])  # 640x360: 16:9
    aspect = 640 / 360
    dragged = true.copy()
    dragged[2] += (35.0, 20.0)
    assert min(corner_error(q, true) for q in locating._mended(dragged, aspect)) < 1e-3
    for side in range(4):
        ends = [side, (side + 1) % 4]
        centre = true.mean(axis=0)
        for push in (0.2, -0.15):  # out over a band, in short of a header
            moved = true.copy()
            outward = (true[ends].mean(axis=0) - centre)
            moved[ends] += push * outward
            mended = locating._mended(moved, aspect)
            assert min(corner_error(q, true) for q in mended) < 1e-3, (side, push)


def _profiles(*steps: tuple[int, float], rows: int = 6, n: int = 40) -> np.ndarray:
    """Profiles (outside -> inside) that start at the first level and change to each later
    one at its column, a little blurred as a side's samples are."""
    line = np.full(n, steps[0][1], np.float32)
    for column, level in steps[1:]:
        line[column:] = level
    return cv2.GaussianBlur(np.tile(line, (rows, 1)), (0, 0), sigmaX=1.0, sigmaY=0.01)


@pytest.mark.parametrize(("steps", "border", "sign"), [
    # a lit page in its black bezel: the step up
    (((0, 90.0), (8, 12.0), (20, 230.0)), 19, 1.0),
    # a taskbar along the page: the step from the bezel up to it, not the stronger one on
    (((0, 12.0), (12, 60.0), (24, 230.0)), 11, 1.0),
    # no bezel darker than the page (a white desk around a grey page): the strongest edge
    (((0, 235.0), (15, 120.0)), 14, -1.0),
])
def test_a_side_is_put_on_the_panels_border(steps: tuple[tuple[int, float], ...],
                                             border: int, sign: float) -> None:
    profile = _profiles(*steps)
    idx, found = locating._border_positions(profile, np.diff(profile, axis=1))
    assert found == sign
    assert idx.tolist() == [border] * len(idx)


def test_the_borders_polarity_is_the_sign_of_the_median_vote() -> None:
    """Counted, not sorted (it is asked four times per place tried): the same as
    ``sign(median(votes))`` for any mix of votes, odd or even in number, ties included."""
    rng = np.random.default_rng(3)
    for _ in range(3000):
        votes = rng.choice([-1.0, 0.0, 1.0], size=int(rng.integers(0, 11)),
                           p=rng.dirichlet([1.0, 1.0, 1.0]))
        want = float(np.sign(np.median(votes))) if len(votes) else 0.0
        assert locating._median_sign(votes) == want, votes
