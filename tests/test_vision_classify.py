"""Which reference state a camera frame shows: every maker's every reference through the
emulated camera, the near duplicates, the twins' deviations, and foreign screens that must be
``unknown`` (never the closest state).

Frames are cut out with the camera's ground-truth corners, so these tests are about the
classifier alone; finding the screen is test_vision_calibration's business.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Callable

import attrs
import cv2
import numpy as np
import pytest
from seed_texts import E901_TEXTS
from vision_helpers import (
    BENCH_SEEDS,
    DEVICES,
    FRAME,
    HAND_HELD_SEEDS,
    TERMINAL,
    camera,
    classifier,
    classifier_of,
    describe,
    device_camera,
    rectified,
    references,
    renderer,
    screen,
    shoot,
)

from harness.emulation.camera_model import CameraEffects, CameraModel
from harness.emulation.screen_renderer import Drawn
from harness.emulation.world import MAKERS
from harness.vision.classify import (
    _BLUR_BANK,
    _BLUR_PAD,
    UNKNOWN,
    Classifier,
    Decision,
    _grey,
    _plane_on,
    _scaled,
    glare_mask,
    spot_mask,
)
from harness.vision.geometry import Calibration
from harness.vision.locate import ScreenNotFound, locate
from harness.vision.reference import Reference

#: Two bench cameras and one hand-held one per device, so each device is seen from three
#: poses with their own blur, noise, exposure drift and glare.
SHOT_CAMERAS = {d: ((BENCH_SEEDS[i % 4], BENCH_SEEDS[(i + 1) % 4]), HAND_HELD_SEEDS[i % 2])
                for i, d in enumerate(DEVICES)}


@attrs.frozen(eq=False)
class Shot:
    ref: Reference
    how: str
    fine: np.ndarray


@pytest.fixture(scope="module")
def shots() -> Callable[[str], list[Shot]]:
    """Every reference of a device as its twin draws it (clock running, loading circle
    turning), through the device's cameras: the references alternate between the two bench
    cameras, every fourth one is also taken hand-held; times spread over a minute so the
    exposure, white balance and glare drift. Built once per device (~1 s each)."""
    cache: dict[str, list[Shot]] = {}

    def get(device: str) -> list[Shot]:
        if device not in cache:
            clf = classifier(device)
            seeds, held_seed = SHOT_CAMERAS[device]
            bench = [device_camera(device, seed) for seed in seeds]
            held = device_camera(device, held_seed, hand_held=True)
            out = []
            for k, ref in enumerate(references(device)):
                t = 0.5 + 2.3 * k
                panel = screen(device, ref, t)
                out.append(Shot(ref, f"bench camera {seeds[k % 2]}, t={t:g}",
                                rectified(bench[k % 2].capture(panel, t), clf)))
                if k % 4 == 0:
                    out.append(Shot(ref, f"hand-held camera {held_seed}, t={t:g}",
                                    rectified(held.capture(panel, t), clf)))
            cache[device] = out
        return cache[device]

    return get


def decision_is_consistent(d: Decision, clf: Classifier) -> list[str]:
    """What is wrong with a known decision's bookkeeping (empty: nothing)."""
    problems = []
    if not d.score >= clf.accept:
        problems.append(f"score {d.score:.3f} below accept {clf.accept}")
    if not d.margin > 0:
        problems.append(f"margin {d.margin:.3f} not positive")
    if d.runner_up == d.state:
        problems.append("the runner-up is the winning state itself")
    if d.runner_up is None and len(d.scores) > 1:
        problems.append("no runner-up, though other states were scored")
    if d.runner_up is not None:
        if d.runner_up not in d.scores:
            problems.append(f"runner-up {d.runner_up} has no score")
        elif d.margin > d.score - d.scores[d.runner_up] + 1e-3:
            problems.append("margin larger than the gap to the runner-up")
    if d.scores.get(d.state) is None or abs(d.scores[d.state] - d.score) > 1e-3:
        problems.append("scores[state] is not the decision's score")
    return problems


# -- every reference -----------------------------------------------------------------------


def test_primed_renderers_draw_the_references() -> None:
    """The tests below film what the twins draw; at t=0 with no wall clock that is the
    reference picture itself (clock --:--, loading circle at 0 degrees), pixel for pixel
    but next to the masked clock: its anti-aliased text reaches a few pixels past its box
    and is drawn again over the primed page."""
    for device in DEVICES:
        for ref in references(device):
            drawn = screen(device, ref, 0.0, wallclock=None)
            differ = np.any(drawn != ref.image, axis=2)
            for region in ref.regions_of("mask"):
                x, y, w, h = region.box
                differ[max(0, y - 4) : y + h + 4, max(0, x - 4) : x + w + 4] = False
            assert not differ.any(), f"{device}/{ref.name}: {np.argwhere(differ)[:5]}"


@pytest.mark.parametrize("device", DEVICES)
def test_every_reference_is_recognised_through_the_camera(device: str, shots) -> None:
    clf = classifier(device)
    wrong = []
    for shot in shots(device):
        d = clf.classify(shot.fine)
        problems = [] if d.state == shot.ref.state else [f"state {d.state}"]
        if d.known:
            problems += decision_is_consistent(d, clf)
            if d.reference != shot.ref.name:
                problems.append(f"won by reference {d.reference}")
        if problems:
            wrong.append(f"{shot.ref.name} ({shot.how}): {'; '.join(problems)}: {describe(d)}")
    assert not wrong, "\n".join(wrong)


def test_atlas_starting_screen_is_not_a_switched_off_panel() -> None:
    """Atlas's start-up page (a short 起動中 on navy, the footer) through the default bench
    camera. Its high-passed contrast is ~4.2 grey levels, just above the blank-panel cut
    (classify.FLAT_STD = 4.0): with a little less exposure it falls under it and the lit
    page is answered 'off', a switched-off reader (score ~0.82)."""
    clf = classifier("atlas")
    ref = references("atlas").get("starting")
    wrong = []
    for seed in (3, 9):
        d = clf.classify(rectified(camera(seed).capture(screen("atlas", ref, 17.0), 17.0), clf))
        if d.state != "starting":
            wrong.append(f"bench camera {seed}, t=17: {describe(d)}")
    assert not wrong, "\n".join(wrong)


def test_a_lit_page_with_an_unknown_short_text_is_not_a_switched_off_panel() -> None:
    """Atlas's navy page with a short message the references do not hold (終了): its
    high-passed contrast is under classify.FLAT_STD, nothing with content is recognised, so
    the blank-panel rule answers: the 'off' reference is within FLAT_LEVEL (60 grey levels)
    of a lit navy page (~45 through the camera against ~21), and the lit page is read as a
    switched-off reader (score ~0.8) instead of unknown."""
    clf = classifier("atlas")
    panel = screen("atlas", Drawn("starting", "starting", ("終了",)), 6.0)
    wrong = []
    for cam, how in ((camera(1), "bench"), (camera(5, hand_held=True), "hand-held")):
        d = shoot(clf, cam, panel, 6.0)
        if d.state == "off":
            wrong.append(f"{how}: {describe(d)}")
    assert not wrong, "\n".join(wrong)


# -- near duplicates -----------------------------------------------------------------------

#: Screens that differ by little: a loading circle over the same page, a 戻る button, the
#: words of the question, the dialog's message.
NEAR_DUPLICATES = [
    *((m, "consent_2", "consent_wait") for m in ("usen_almex", "fujitsu_japan")),
    *((m, "first", "place_card") for m in MAKERS),
    ("canon", "first@staff", "place_card"),
    *((m, "consent_1", "consent_2") for m in MAKERS),
    (TERMINAL, "check_error_1", "check_error_2"),
]


@pytest.mark.parametrize(("device", "a", "b"), NEAR_DUPLICATES,
                         ids=[f"{d}-{a}-{b}" for d, a, b in NEAR_DUPLICATES])
def test_near_duplicates_are_told_apart(device: str, a: str, b: str) -> None:
    clf = classifier(device)
    refs = references(device)
    bench = device_camera(device, 1)
    held = device_camera(device, 5, hand_held=True)
    problems = []
    for shown, other in ((a, b), (b, a)):
        ref, twin = refs.get(shown), refs.get(other)
        # The other one alone: its near duplicate must not pass for it.
        only_twin = classifier_of(device, lambda r, twin=twin: r.name == twin.name)
        for cam, how, t in ((bench, "bench", 4.0), (held, "hand-held", 9.5)):
            fine = rectified(cam.capture(screen(device, ref, t), t), clf)
            d = clf.classify(fine)
            where = f"{shown} ({how})"
            if d.state != ref.state or d.reference != shown:
                problems.append(f"{where}: {describe(d)}")
                continue
            problems += [f"{where}: {p}" for p in decision_is_consistent(d, clf)]
            if twin.state in d.scores and d.scores[twin.state] >= clf.accept:
                problems.append(f"{where}: {other} scores {d.scores[twin.state]}")
            alone = only_twin.classify(fine)
            if alone.known:
                problems.append(f"{where} under {other}'s reference alone: {describe(alone)}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("maker", ["usen_almex", "fujitsu_japan"])
def test_the_loading_circle_is_recognised_at_any_angle(maker: str) -> None:
    clf = classifier(maker)
    ref = references(maker).get("consent_wait")
    period = renderer(maker).look.spinner.period_s
    cam = camera(3)
    for eighth in range(8):
        t = 20 + period * (eighth / 8 + 0.03)
        d = shoot(clf, cam, screen(maker, ref, t), t)
        assert d.state == "consent_wait", f"{eighth}/8 of a turn: {describe(d)}"
        assert d.margin > 0.05, describe(d)


def test_the_first_screens_variants_are_one_state() -> None:
    """first, first@staff, first@smartphone...: different pictures, one state; the decision
    names the variant that won, and the runner-up is another state, never 'first' again."""
    for maker in MAKERS:
        clf = classifier(maker)
        cam = camera(6, hand_held=True)
        variants = [r for r in references(maker) if r.state == "first"]
        assert len(variants) >= 2, maker
        for k, ref in enumerate(variants):
            t = 3.0 + k
            d = shoot(clf, cam, screen(maker, ref, t), t)
            assert (d.state, d.reference) == ("first", ref.name), f"{maker}: {describe(d)}"
            assert d.runner_up != "first" and d.margin > 0.05, f"{maker}: {describe(d)}"


# -- the twins' deviations ------------------------------------------------------------------


@pytest.mark.parametrize("keep", [0, 1], ids=["first line only", "second line only"])
def test_fujitsu_901_with_a_line_missing_is_not_error_901(keep: int) -> None:
    """Fujitsu Japan's 901 screen has two texts (notice 7福薬業発第367号, 記 2. ②); a twin that drops one
    draws a different screen, which must not pass for error_901."""
    ref = references("fujitsu_japan").get("error_901")
    assert list(ref.texts) == E901_TEXTS["fujitsu_japan"]  # the reference is the seed's
    clf = classifier("fujitsu_japan")
    panel = screen("fujitsu_japan", Drawn("error_901", "error_901",
                                          (E901_TEXTS["fujitsu_japan"][keep],)), 2.0)
    for cam in (camera(2), camera(5, hand_held=True)):
        d = shoot(clf, cam, panel, 2.0)
        assert d.state != "error_901", describe(d)
        assert d.scores.get("error_901", 0.0) < clf.accept, describe(d)


@pytest.mark.parametrize("text", ["少々お待ちください", "ただいま確認しています", "処理中です"])
def test_canon_please_wait_with_another_text_is_not_please_wait(text: str) -> None:
    clf = classifier("canon")
    panel = screen("canon", Drawn("please_wait", "please_wait", (text,)), 5.0)
    for cam in (camera(4), camera(6, hand_held=True)):
        d = shoot(clf, cam, panel, 5.0)
        assert d.state != "please_wait", describe(d)
        assert d.scores.get("please_wait", 0.0) < clf.accept, describe(d)


def test_another_text_of_the_same_length_is_not_the_reference() -> None:
    """Each maker's checking page (資格確認中です) with another seven-character message drawn
    in its place: a reader that says 通信エラーです (a communication error) must not be read
    as 'checking'. The text is a must-match region, but it is compared at 512 px width after
    a 1.5 px blur, where two different lines of the same length in the same place still
    correlate at ~0.8."""
    wrong = []
    for maker in MAKERS:
        clf = classifier(maker)
        checking = references(maker).get("checking")
        assert checking.texts == ("資格確認中です",)
        panel = screen(maker, Drawn("checking", "checking", ("通信エラーです",)), 3.0)
        for cam, how in ((camera(1), "bench"), (camera(6, hand_held=True), "hand-held")):
            d = shoot(clf, cam, panel, 3.0)
            if d.known:
                wrong.append(f"{maker} ({how}): {describe(d)}")
    assert not wrong, "\n".join(wrong)


def test_a_dialog_missing_from_the_references_is_unknown(shots) -> None:
    """Each terminal dialog under the terminal's other references: a dialog the references do
    not hold is unknown, never the closest one. Several dialogs differ only by their title
    (and a button's label): the title is a must-match region, but its 22 px type is ~9 px
    at the 512 px width regions are compared at, after a 1.5 px blur."""
    wrong = []
    for shot in shots(TERMINAL):
        state = shot.ref.state
        without = classifier_of(TERMINAL, lambda r, state=state: r.state != state)
        d = without.classify(shot.fine)
        if d.known:
            wrong.append(f"{shot.ref.name} ({shot.how}) without {state}: {describe(d)}")
    assert not wrong, "\n".join(wrong)


# -- foreign screens -------------------------------------------------------------------------


def foreign_panel(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Another device's picture on this device's panel (stretched to its size)."""
    if image.shape[1::-1] == tuple(size):
        return image
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def test_every_canon_screen_is_unknown_to_panasonic() -> None:
    clf = classifier("panasonic")
    cam = camera(4)
    wrong, scores = [], []
    for k, ref in enumerate(references("canon")):
        if ref.state == "off":
            continue  # a dark panel is a dark panel, whoever made it
        t = 1.0 + k
        d = shoot(clf, cam, foreign_panel(screen("canon", ref, t), clf.references.size), t)
        scores.append(f"{ref.name}: {d.state} {d.score:.3f}")
        if d.known:
            wrong.append(f"{ref.name}: {describe(d)}")
    assert not wrong, "\n".join(wrong) + "\nall scores: " + ", ".join(scores)


@pytest.mark.parametrize("maker", MAKERS)
def test_other_devices_screens_are_unknown(maker: str) -> None:
    """A sample of every other device's screens (the terminal's desktop and dialogs
    included) under this maker's references."""
    clf = classifier(maker)
    cam = camera(2)
    wrong = []
    for other in DEVICES:
        if other == maker:
            continue
        for k, ref in enumerate(list(references(other))[1::8]):  # [0] is 'off'
            t = 2.0 + k
            d = shoot(clf, cam, foreign_panel(screen(other, ref, t), clf.references.size), t)
            if d.known:
                wrong.append(f"{other}/{ref.name}: {describe(d)}")
    assert not wrong, "\n".join(wrong)


def natural_image(size: tuple[int, int], seed: int) -> np.ndarray:
    """Something natural-ish: smooth colour gradients, fine grain, filled shapes, lines."""
    w, h = size
    rng = np.random.default_rng(seed)
    low = rng.uniform(30, 220, (3, 4, 3)).astype(np.float32)
    image = cv2.resize(low, (w, h), interpolation=cv2.INTER_CUBIC)
    grain = rng.standard_normal((h // 4, w // 4, 3)).astype(np.float32)
    image += cv2.resize(grain, (w, h), interpolation=cv2.INTER_LINEAR) * 12
    image = np.clip(image, 0, 255).astype(np.uint8)
    for _ in range(25):
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
        r = int(rng.integers(10, h // 4))
        match rng.integers(3):
            case 0:
                cv2.circle(image, (x, y), r, colour, -1, cv2.LINE_AA)
            case 1:
                cv2.rectangle(image, (x, y), (x + r, y + 2 * r // 3), colour, -1)
            case _:
                end = (int(rng.integers(0, w)), int(rng.integers(0, h)))
                cv2.line(image, (x, y), end, colour, int(rng.integers(2, 9)), cv2.LINE_AA)
    return image


@pytest.mark.parametrize("device", DEVICES)
def test_natural_images_and_a_blank_white_panel_are_unknown(device: str) -> None:
    clf = classifier(device)
    size = clf.references.size
    cam = device_camera(device, 3)
    panels = {
        "natural image": natural_image(size, 1),
        "blank white panel": np.full((size[1], size[0], 3), 250, np.uint8),
    }
    for k, (what, panel) in enumerate(panels.items()):
        d = shoot(clf, cam, panel, 4.0 + 7 * k)
        assert d.state == UNKNOWN, f"{what}: {describe(d)}"


def test_blank_rectified_panels_of_any_brightness() -> None:
    """Uniform screens straight to the classifier (no camera, no border): dark ones are the
    switched-off reference, a lit blank one is no state (a blank white area is not a
    switched-off screen)."""
    for device in DEVICES:
        clf = classifier(device)
        w, h = clf.fine_size
        for level in (0, 10, 25):
            d = clf.classify(np.full((h, w, 3), level, np.uint8))
            assert (d.state, d.reference) == ("off", "off"), f"{device} {level}: {describe(d)}"
        for level in (160, 230, 255):
            d = clf.classify(np.full((h, w, 3), level, np.uint8))
            assert d.state == UNKNOWN, f"{device} {level}: {describe(d)}"


@pytest.mark.parametrize("device", DEVICES)
def test_a_dark_panel_is_the_switched_off_reference(device: str) -> None:
    clf = classifier(device)
    refs = references(device)
    assert refs.get("off").state == "off"
    w, h = refs.size
    cam = device_camera(device, 6, hand_held=True)
    for k, level in enumerate((0, 12)):
        d = shoot(clf, cam, np.full((h, w, 3), level, np.uint8), 2.0 + 11 * k)
        assert (d.state, d.reference) == ("off", "off"), f"level {level}: {describe(d)}"
        assert d.score >= clf.accept


# -- the decision as data ---------------------------------------------------------------------


def test_decision_json_holds_state_score_and_margin_and_nothing_of_the_image() -> None:
    clf = classifier("canon")
    cam = camera(1)
    ref = references("canon").get("consent_1")
    known = shoot(clf, cam, screen("canon", ref, 1.0), 1.0)
    foreign = shoot(clf, cam, natural_image(clf.references.size, 3), 2.0)
    assert known.known and not foreign.known
    for d in (known, foreign):
        data = d.as_json()
        assert {"state", "score", "margin"} <= set(data)
        assert "image" not in data  # the CLI adds the file name; a decision has none
        assert set(data) <= {"state", "score", "margin", "reference", "shows", "overlay",
                             "runner_up", "why"}
        again = json.loads(json.dumps(data))
        assert again == data
        assert isinstance(again["state"], str)
        assert type(again["score"]) is float and type(again["margin"]) is float
        assert again["score"] == pytest.approx(d.score, abs=1e-4)
        assert again["margin"] == pytest.approx(d.margin, abs=1e-4)
    assert known.as_json()["state"] == "consent_1"
    assert known.as_json()["reference"] == "consent_1"
    assert known.as_json()["runner_up"] == known.runner_up
    assert "why" not in known.as_json()
    assert foreign.as_json()["state"] == UNKNOWN and foreign.as_json()["why"]


# -- a real desk (CameraEffects.harsh) ---------------------------------------------------------


@functools.cache
def _harsh_camera(seed: int, hand_held: bool) -> CameraModel:
    cam = CameraModel(seed, hand_held=hand_held, effects=CameraEffects.harsh())
    cam.capture(np.full((600, 1024, 3), 128, np.uint8), 0.0)  # the desk, drawn once
    return cam


def harsh_camera(seed: int, *, hand_held: bool = False) -> CameraModel:
    """A camera on a desk at the harsh extremes (see CameraEffects.harsh): a copy of one
    built once (drawing a desk costs ~0.4 s)."""
    return copy.deepcopy(_harsh_camera(seed, hand_held))


#: Allowed unknowns of the sample below (wrong answers: none). The benchmark
#: (benchmarks/harsh_recognition.py) measures the share over thousands of frames.
HARSH_UNKNOWN = {"bench": 2, "hand": 2}


def test_a_harsh_desk_never_names_a_screen_wrongly() -> None:
    """Every device's references through a harsh bench camera (calibrated: the true corners)
    and a sample as hand-held photos (the screen found in each, as ``onshi-rig classify``
    does): the reference drawn (first@staff is not first), or unknown; never another."""
    wrong, unknown = [], {"bench": [], "hand": []}
    cam, held = harsh_camera(41), harsh_camera(61, hand_held=True)
    for n, device in enumerate(DEVICES):
        clf, refs = classifier(device), references(device)
        content = [r for r in refs if r.state != "off"]
        for k, ref in enumerate(content[n % 3 :: 3]):
            t = 1.3 * k + 20 * n
            capture = cam.capture(screen(device, ref, t), t)
            d = clf.classify_frame(capture.image, Calibration(capture.quad, FRAME, refs.size))
            if d.reference != ref.name:
                (wrong if d.known else unknown["bench"]).append(f"{device}/{ref.name} bench "
                                                               f"{describe(d)}")
        for ref in content[n + 1 :: 9][:1]:
            held.bump()  # another photo, another pose
            capture = held.capture(screen(device, ref, 2.0 + n), 2.0 + n)
            try:
                d = locate(capture.image, clf).decision
            except ScreenNotFound as exc:
                unknown["hand"].append(f"{device}/{ref.name} photo: {exc}")
                continue
            if d.reference != ref.name:
                (wrong if d.known else unknown["hand"]).append(f"{device}/{ref.name} photo "
                                                              f"{describe(d)}")
    assert not wrong, "\n".join(wrong)
    for how, limit in HARSH_UNKNOWN.items():
        assert len(unknown[how]) <= limit, "\n".join(unknown[how])


@pytest.mark.parametrize("maker", ["canon", "fujitsu_japan"])
def test_foreign_screens_on_a_harsh_desk_stay_unknown(maker: str) -> None:
    """Other makers' screens, the terminal's desktop and a natural image, on this maker's
    panel through a harsh camera (blur matching, glare masking and all): unknown."""
    clf = classifier(maker)
    cam = harsh_camera(80)
    size = clf.references.size
    panels = [(f"{other}/{ref.name}", screen(other, ref, 3.0))
              for other in DEVICES if other != maker
              for ref in list(references(other))[2::10]]
    panels.append(("natural image", natural_image(size, 5)))
    wrong = []
    for k, (what, panel) in enumerate(panels):
        t = 0.9 * k
        capture = cam.capture(foreign_panel(panel, size), t)
        d = clf.classify_frame(capture.image, Calibration(capture.quad, FRAME, size))
        if d.known:
            wrong.append(f"{what}: {describe(d)}")
    assert not wrong, "\n".join(wrong)


# -- a lamp's hot spot (classify.spot_mask) -------------------------------------------------


def _with_spot(fine: np.ndarray, centre: tuple[float, float], sigma: float,
               peak: float = 110.0) -> np.ndarray:
    """A rectified screen (BGR) with a lamp's hot spot added as the camera model draws one:
    a flat-topped Gaussian, clipping at white."""
    h, w = fine.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w]
    blob = np.minimum(1.0, 1.6 * np.exp(-((xx - centre[0]) ** 2 + (yy - centre[1]) ** 2)
                                        / (2 * sigma * sigma))) * peak
    return np.clip(fine.astype(np.float32) + blob[..., None], 0, 255).astype(np.uint8)


def _prepared(clf: Classifier, name: str):  # noqa: ANN202 - the classifier's own record
    return next(p for p in clf._prepared if p.ref.name == name)


def test_a_clipped_spot_is_masked_where_it_is_and_a_clipped_button_is_not() -> None:
    """Clipped light that is round and fades out (a lamp's image) is masked over its halo,
    wherever it lies among other clipped pixels; a clipped white button (a rectangle with a
    hard border) and specks of noise are not."""
    page = np.full((288, 512), 120, np.uint8)
    cv2.rectangle(page, (30, 40), (130, 80), 250, -1)  # a white button, clipped
    page[10, 500] = page[280, 5] = 255  # specks, stretching the clipped pixels' box
    spotted = _with_spot(cv2.cvtColor(page, cv2.COLOR_GRAY2BGR), (400.0, 200.0), 9.0, 140.0)
    mask = glare_mask(cv2.cvtColor(spotted, cv2.COLOR_BGR2GRAY))
    assert mask is not None and mask.shape == page.shape
    ys, xs = np.nonzero(mask)
    # Round about the spot's centre, over its halo (past the clipped core of about 10 px).
    assert abs(xs.mean() - 400) < 1.5 and abs(ys.mean() - 200) < 1.5
    assert 16 <= xs.max() - 400 <= 30 and 16 <= 200 - ys.min() <= 30
    assert not mask[40:81, 30:131].any() and not mask[10, 500] and not mask[280, 5]
    assert glare_mask(page) is None


def test_the_lights_plane_is_fitted_on_what_a_spot_leaves_seen() -> None:
    """A region's light under a hot spot: the plane through the pixels left seen, not pulled
    up by the spot; a region seen along one row only gets the best plane of that row."""
    h, w = 40, 120
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    light = (60 + 30 * xx / w + 12 * yy / h).astype(np.float32)
    patch = light.copy()
    patch[10:25, 70:95] = 255  # the spot
    keep = np.ones((h, w), bool)
    keep[8:27, 68:97] = False
    assert np.allclose(_plane_on(patch, keep.ravel()), light, atol=1e-3)
    assert not np.allclose(_plane_on(patch, np.ones(h * w, bool)), light, atol=1)
    row = (50 + 40 * np.arange(w, dtype=np.float32) / w)[None, :]
    assert np.allclose(_plane_on(row, np.ones(w, bool)), row, atol=1e-3)


def test_a_hot_spot_over_a_button_is_found_where_it_is() -> None:
    """A spot that does not clip (over canon's blue 職員用ボタン) and has text in it: found
    against the reference, and the mask covers its middle, not the far side of the screen."""
    clf = classifier("canon")
    ref = references("canon").get("first@staff")
    fine = rectified(camera(2).capture(screen("canon", ref, 3.0), 3.0), clf)
    fw, fh = clf.fine_size
    x, y, w, h = ref.region("button:職員用ボタン").box
    centre = ((x + w / 2) * fw / 1024, (y + h / 2) * fh / 600)
    prep = _prepared(clf, "first@staff")
    mask = spot_mask(cv2.cvtColor(_with_spot(fine, centre, 10.0), cv2.COLOR_BGR2GRAY),
                     prep.smooth, prep.masked)
    assert mask is not None
    assert mask[int(centre[1]), int(centre[0])]
    assert mask.mean() < 0.08, f"the mask covers {100 * mask.mean():.0f} % of the screen"
    assert spot_mask(cv2.cvtColor(fine, cv2.COLOR_BGR2GRAY), prep.smooth, prep.masked) is None


@pytest.mark.parametrize(("device", "shown", "against"), [
    ("canon", "place_card", "first@staff"),      # another button, narrower: its ends
    ("fujitsu_japan", "first", "first@staff"),   # the button missing altogether
    ("panasonic", "consent_2", "consent_1"),     # other words in one place
])
def test_what_a_near_duplicate_has_and_the_frame_lacks_is_not_hidden_as_a_spot(
        device: str, shown: str, against: str) -> None:
    """What a near duplicate has and the frame lacks leaves light over that reference too (a
    white page where it has a button): a classifier knowing only the near duplicate finds
    nothing at first, looks for a hot spot, and must not hide that difference as one. On
    a harsh desk (a real spot besides) and through a plain camera: never named."""
    clf = classifier(device)
    only_twin = classifier_of(device, lambda r: r.name == against)
    ref, size = references(device).get(shown), references(device).size
    problems = []
    cameras = ((harsh_camera(1501), "harsh bench"), (harsh_camera(61, hand_held=True),
                                                    "harsh hand-held"),
               (device_camera(device, 5, hand_held=True), "hand-held"))
    for cam, how in cameras:
        for t in (4.0, 55.0, 58.5):
            capture = cam.capture(screen(device, ref, t), t)
            fine = rectified(capture, clf)
            d = only_twin.classify_frame(capture.image, Calibration(capture.quad, FRAME, size))
            if d.known:
                problems.append(f"{how} t={t}: {describe(d)}")
            mask = spot_mask(cv2.cvtColor(fine, cv2.COLOR_BGR2GRAY),
                             _prepared(only_twin, against).smooth,
                             _prepared(only_twin, against).masked)
            if mask is not None and mask.mean() > 0.06:
                problems.append(f"{how} t={t}: {100 * mask.mean():.0f} % taken for a spot")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(("device", "shown", "twin", "button"), [
    ("canon", "first@staff", "first", "button:職員用ボタン"),
    ("fujitsu_japan", "first@smartphone", "first", "button:スマートフォンを利用"),
])
def test_a_spot_hiding_the_button_near_duplicates_differ_by_fails_closed(
        device: str, shown: str, twin: str, button: str) -> None:
    """A hot spot right over the one button that tells two references apart: the frame is
    the reference drawn or unknown, never the near duplicate; and to a classifier that
    knows only the near duplicate it is unknown (what a spot hides is no evidence for it)."""
    clf = classifier(device)
    only_twin = classifier_of(device, lambda r: r.name == twin)
    ref = references(device).get(shown)
    fw, fh = clf.fine_size
    x, y, w, h = ref.region(button).box
    sw, sh = references(device).size
    centre = ((x + w / 2) * fw / sw, (y + h / 2) * fh / sh)
    problems = []
    for k, (cam, how) in enumerate(((device_camera(device, 1), "bench"),
                                    (device_camera(device, 6, hand_held=True), "hand-held"))):
        t = 2.0 + k
        fine = rectified(cam.capture(screen(device, ref, t), t), clf)
        for sigma in (8.0, 12.0, 16.0):
            spotted = _with_spot(fine, centre, sigma)
            d = clf.classify(spotted)
            if d.known and d.reference != shown:
                problems.append(f"{how}, spot sigma {sigma}: {describe(d)}")
            alone = only_twin.classify(spotted)
            if alone.known:
                problems.append(f"{how}, spot sigma {sigma}, {twin} alone: {describe(alone)}")
    assert not problems, "\n".join(problems)


def test_a_near_duplicate_under_a_harsh_spot_is_never_named_wrongly() -> None:
    """Canon's first screens (with and without each button) through a harsh bench camera
    whose hot spot wanders over the buttons: each frame is the reference drawn or unknown,
    and most are the reference drawn."""
    clf, refs = classifier("canon"), references("canon")
    cam = harsh_camera(1501)  # its spot crosses the buttons' row at t = 55-62 s
    wrong, right, total = [], 0, 0
    names = ["first", "first@staff", "first@smartphone", "first@staff+smartphone"]
    for k in range(16):
        t = 54.0 + 0.5 * k
        ref = refs.get(names[k % 4])
        capture = cam.capture(screen("canon", ref, t), t)
        d = clf.classify_frame(capture.image, Calibration(capture.quad, FRAME, refs.size))
        total += 1
        if d.reference == ref.name:
            right += 1
        elif d.known:
            wrong.append(f"{ref.name} at t={t}: {describe(d)}")
    assert not wrong, "\n".join(wrong)
    assert right >= total - 3, f"only {right} of {total} named"


#: (device, harsh bench camera): a lamp's spot on the glass (3501, 5500); a gain and the
#: room's light in the glass that lift the panel's black to about 40 grey levels (4501:
#: within ClassifierParams.flat_level of the reference's, not 'a blank screen unlike any
#: blank reference').
DARK_ON_A_DESK = [("fujitsu_japan", 3501), ("terminal", 5500), ("usen_almex", 4501),
                  ("canon", 4501)]


@pytest.mark.parametrize(("device", "seed"), DARK_ON_A_DESK,
                         ids=[f"{d}-{s}" for d, s in DARK_ON_A_DESK])
def test_a_dark_panel_on_a_harsh_desk_is_off(device: str, seed: int) -> None:
    """A switched-off panel on a harsh desk (moiré bands, a lamp's spot, a bright camera,
    through a calibrated bench camera): still the 'off' reference, not unknown."""
    clf, refs = classifier(device), references(device)
    off = next(r for r in refs if r.state == "off")
    cam = harsh_camera(seed)
    problems = []
    for k in range(4):
        t = 4.0 + 15.4 * k
        capture = cam.capture(screen(device, off, t), t)
        d = clf.classify_frame(capture.image, Calibration(capture.quad, FRAME, refs.size))
        if d.state != off.state:
            problems.append(f"t={t}: {describe(d)}")
    assert not problems, "\n".join(problems)


def test_a_lit_navy_page_on_a_dim_harsh_camera_is_not_off() -> None:
    """Atlas's sparse navy pages through a dim harsh bench camera (gain and gamma low, a
    spot, moiré, blur): their text may be lost, but a lit navy page is not a switched-off
    panel (its blue stays above its red; a dark panel is grey). Unknown is fine, `off` is
    named wrongly."""
    clf, refs = classifier("atlas"), references("atlas")
    cam = harsh_camera(4500)
    wrong = []
    for k in range(12):
        t = 80.0 + 1.4 * k
        ref = refs.get(("checking", "starting", "completion")[k % 3])
        capture = cam.capture(screen("atlas", ref, t), t)
        d = clf.classify_frame(capture.image, Calibration(capture.quad, FRAME, refs.size))
        if d.state == "off":
            wrong.append(f"{ref.name} at t={t}: {describe(d)}")
    assert not wrong, "\n".join(wrong)


def test_a_calibrated_cameras_later_looks_see_the_regions_the_first_did() -> None:
    """A calibration's first look warps each region on its own; later ones cut the regions
    out of one map of the whole screen. Both read the same pixels: the near duplicate's
    button decides alike, with the same scores, on every look."""
    device = "atlas"
    clf = Classifier(references(device))
    ref = references(device).get("first@staff")
    cam = device_camera(device, 1)
    capture = cam.capture(screen(device, ref, 4.0), 4.0)
    frame = capture.image
    calibration = Calibration(capture.quad, frame.shape[1::-1], clf.references.size)
    looks = [clf.classify_frame(frame, calibration) for _ in range(3)]
    assert [d.reference for d in looks] == ["first@staff"] * 3, [describe(d) for d in looks]
    for later in looks[1:]:
        assert later.scores.keys() == looks[0].scores.keys()
        for state, score in looks[0].scores.items():
            assert later.scores[state] == pytest.approx(score, abs=0.005), state
    # The map of the whole screen was made (the second look) and cut for every region: no
    # region has maps of its own, only the record of its first look's plain warp.
    assert any("screen" in key for key in clf._maps)
    regions = {key: maps for key, maps in clf._maps.items()
               if "screen" not in key and "fine" not in key}
    assert regions and all(maps is None for maps in regions.values())


@pytest.mark.parametrize("size", [(1, 50), (40, 1), (1, 1), (2, 2), (3, 70), (150, 600)])
def test_the_lights_plane_of_any_patch_is_its_least_squares_plane(
        size: tuple[int, int]) -> None:
    """A region as thin as a row (a learnt reference may have one) gets the best line, as
    the pseudo-inverse gives it, not an error; any other its least-squares plane."""
    h, w = size
    patch = np.random.default_rng(1).normal(size=size).astype(np.float32)
    patch += np.arange(w, dtype=np.float32)[None, :] * 0.3 + np.arange(h)[:, None] * 0.2
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    basis = np.stack([np.ones(h * w), xx.ravel() / w, yy.ravel() / h], axis=1)
    best = (basis @ (np.linalg.pinv(basis) @ patch.ravel())).reshape(h, w)
    got = Classifier(references("atlas"))._plane(patch)
    assert got.shape == size
    assert float(np.abs(got - best).max()) < 1e-5 * max(1.0, float(np.abs(best).max()))


@pytest.mark.parametrize("kept", ["most", "a row", "a column", "a pixel", "two rows"])
def test_the_lights_plane_under_a_spot_is_the_least_squares_plane_of_what_is_seen(
        kept: str) -> None:
    """The plane through the pixels a spot leaves seen, from their moments, is the one the
    pseudo-inverse gives on those pixels alone; where they lie on a line (a row or a column
    seen), the best line."""
    h, w = 60, 240
    rng = np.random.default_rng(7)
    patch = rng.normal(90, 25, (h, w)).astype(np.float32)
    keep = np.zeros((h, w), bool)
    if kept == "most":
        keep = rng.random((h, w)) > 0.3
    elif kept == "a row":
        keep[17, 30:200] = True
    elif kept == "a column":
        keep[5:50, 101] = True
    elif kept == "a pixel":
        keep[3, 4] = True
    else:
        keep[[8, 40], 10:230] = True
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    basis = np.stack([np.ones(h * w), xx.ravel() / w, yy.ravel() / h], axis=1)
    seen = keep.ravel()
    best = (basis @ (np.linalg.pinv(basis[seen]) @ patch.ravel()[seen])).reshape(h, w)
    got = _plane_on(patch, seen)
    assert got.shape == (h, w)
    assert float(np.abs(got - best).max()) < 1e-4 * float(np.abs(best).max())


def test_the_lights_plane_through_any_one_row_or_diagonal_is_the_best_line() -> None:
    """Pixels left on one line, wherever it lies (rounding once made a row away from the
    top look like three independent columns, and the plane blew up): the best line."""
    rng = np.random.default_rng(11)
    for h, w in ((2, 600), (3, 70), (7, 40), (40, 40)):
        patch = rng.normal(100, 30, (h, w)).astype(np.float32)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
        basis = np.stack([np.ones(h * w), xx.ravel() / w, yy.ravel() / h], axis=1)
        masks = [np.zeros((h, w), bool) for _ in range(h + 1)]
        for r in range(h):
            masks[r][r, :] = True
        for k in range(min(h, w)):
            masks[h][k, k] = True
        for keep in masks:
            seen = keep.ravel()
            best = basis @ np.linalg.lstsq(basis[seen], patch.ravel()[seen].astype(np.float64),
                                           rcond=None)[0]
            got = _plane_on(patch, seen).ravel()
            assert float(np.abs(got - best).max()) < 1e-3, (h, w, np.argwhere(keep)[0])


@pytest.mark.parametrize("scale", [1.0, 0.7])
def test_a_reference_blurred_as_the_camera_blurs_is_its_region_blurred_in_colour(
        scale: float) -> None:
    """The blurred reference patches are made in grey (a linear map, as a blur is), from
    the region's surroundings resized once for every blur of the bank: each is, within
    rounding, the colour surroundings resized, blurred, then made grey, and cut where the
    region lies."""
    clf = Classifier(references("atlas"))
    ref = references("atlas").get("first@staff")
    for region in (r for r in ref.regions if r.kind == "match"):
        bx, by, bw, bh = region.box
        m = int(np.ceil(_BLUR_PAD / scale))
        x0, y0 = max(0, bx - m), max(0, by - m)
        x1 = min(ref.image.shape[1], bx + bw + m)
        y1 = min(ref.image.shape[0], by + bh + m)
        area = ref.image[y0:y1, x0:x1]
        if scale != 1.0:
            area = cv2.resize(area, (round((x1 - x0) * scale), round((y1 - y0) * scale)),
                              interpolation=cv2.INTER_AREA)
        x, y, w, h = _scaled(region.box, scale)
        ox, oy = x - round(x0 * scale), y - round(y0 * scale)
        for k, kernel in enumerate(_BLUR_BANK):
            colour = cv2.filter2D(area, -1, kernel, borderType=cv2.BORDER_REPLICATE)
            expected = _grey(colour)[oy : oy + h, ox : ox + w]
            got = clf._blurred_patch(ref, region.box, scale, k)
            assert got.shape == expected.shape == (h, w)
            # Three roundings to 8 bits in the colour path, none in grey.
            assert float(np.abs(got - expected).max()) <= 2.0, (region.box, k)


def test_the_warp_maps_kept_stay_within_their_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each calibration seen twice keeps a map of the whole screen (megabytes): cameras
    and calibrations found anew, one after another, do not pile them up past the bound."""
    import harness.vision.classify as classify

    monkeypatch.setattr(classify, "WARP_MAP_BYTES", 12 << 20)
    device = "atlas"
    clf = Classifier(references(device))
    cam = device_camera(device, 1)
    capture = cam.capture(screen(device, references(device).get("first"), 4.0), 4.0)
    frame = capture.image
    peak = 0
    for shift in range(6):
        quad = capture.quad + np.float32([shift * 0.5, 0.0])
        calibration = Calibration(quad, frame.shape[1::-1], clf.references.size)
        for _ in range(2):
            assert clf.classify_frame(frame, calibration).reference == "first"
        kept = sum(m[0].nbytes + m[1].nbytes for m in clf._maps.values() if m is not None)
        assert kept == clf._map_bytes
        peak = max(peak, kept)
    assert 0 < peak <= 12 << 20
    assert any("screen" in key for key in clf._maps)  # the last calibration's, kept


def test_an_unknown_answer_bounds_the_states_not_looked_at_closely() -> None:
    """An unknown decision names every state: scored closely (``scores``) or bounded by its
    global score (``at_most``), and its margin is to the best of them: a near miss's
    reading (harness/vision/by_text.py) knows every rival it must rule out."""
    clf = classifier("atlas")
    cam = camera(2)
    d = shoot(clf, cam, foreign_panel(screen("canon", references("canon").get("first"), 2.0),
                                      clf.references.size), 2.0)
    assert not d.known and d.runner_up is not None, describe(d)
    assert d.at_most and not set(d.at_most) & set(d.scores), d
    states = {r.state for r in clf.references if r.state != "off"}
    assert set(d.scores) | set(d.at_most) == states, d
    others = [v for s, v in {**d.at_most, **d.scores}.items() if s != d.runner_up]
    assert abs((d.score - d.margin) - max(others)) < 1e-3, d
