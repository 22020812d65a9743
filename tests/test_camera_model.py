"""The camera model: frames line up with the ground-truth quad, effects are really applied."""

from __future__ import annotations

import functools
import math

import attrs
import cv2
import numpy as np
import pytest

from harness.emulation.camera_model import CameraEffects, CameraModel, Capture

SMALL = (480, 270)  # most tests need geometry, not pixels: small frames keep them fast
W, H = 1024, 600


def structured_screen(w: int = W, h: int = H, light: bool = True) -> np.ndarray:
    """A screen with edges in all directions, text and colours, so a misregistration of a
    pixel or a wrong corner order shows in the correlation."""
    bg, ink = (225, 225, 225) if light else (30, 30, 30), (20, 20, 20) if light else (235,) * 3
    s = np.full((h, w, 3), bg, np.uint8)
    u = w / 1024
    cv2.rectangle(s, (int(40 * u), int(40 * u)), (int(480 * u), int(260 * u)), (40, 120, 200), -1)
    cv2.rectangle(
        s, (int(560 * u), int(60 * u)), (int(980 * u), int(150 * u)), ink, max(2, int(6 * u))
    )
    cv2.line(s, (0, h - 1), (w - 1, 0), (0, 0, 230), max(2, int(5 * u)))
    cv2.putText(
        s,
        "Card 1234",
        (int(60 * u), int(420 * u)),
        cv2.FONT_HERSHEY_SIMPLEX,
        3 * u,
        ink,
        max(2, int(8 * u)),
    )
    cv2.circle(s, (int(820 * u), int(400 * u)), int(110 * u), (0, 190, 0), -1)
    for i in range(8):  # vertical bars: sensitive to horizontal shifts
        x = int((80 + 40 * i) * u)
        cv2.rectangle(s, (x, int(480 * u)), (x + int(14 * u), int(570 * u)), ink, -1)
    return s


def flat_screen(level: int, w: int = W, h: int = H) -> np.ndarray:
    return np.full((h, w, 3), level, np.uint8)


def recover(capture: Capture, w: int = W, h: int = H) -> np.ndarray:
    rect = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    m = cv2.getPerspectiveTransform(capture.quad, rect)
    return cv2.warpPerspective(capture.image, m, (w, h), flags=cv2.INTER_LINEAR)


def ncc(a: np.ndarray, b: np.ndarray, margin: int = 12) -> float:
    """Normalised cross-correlation of the grey images, away from the screen's border."""
    a, b = (
        cv2.cvtColor(x, cv2.COLOR_BGR2GRAY)[margin:-margin, margin:-margin].astype(float)
        for x in (a, b)
    )
    a, b = a - a.mean(), b - b.mean()
    return float((a * b).sum() / math.sqrt((a * a).sum() * (b * b).sum()))


def centre_mean(capture: Capture) -> np.ndarray:
    """Mean BGR of the middle of the screen as the camera saw it."""
    screen = recover(capture, 200, 120)
    return screen[30:90, 50:150].reshape(-1, 3).mean(axis=0)


@functools.cache
def quads(hand_held: bool, count: int = 16) -> list[np.ndarray]:
    """The screen's quads seen by cameras with seeds 0..count-1 (shared by tests: cheap)."""
    screen = flat_screen(128)
    return [
        CameraModel(seed, SMALL, hand_held=hand_held, effects=CameraEffects.none())
        .capture(screen, 0.0)
        .quad
        for seed in range(count)
    ]


def cross(a: np.ndarray, b: np.ndarray) -> float:
    return float(a[0] * b[1] - a[1] * b[0])


def only(**changes: object) -> CameraEffects:
    return attrs.evolve(CameraEffects.none(), **changes)


# -- determinism ------------------------------------------------------------------------------


def test_same_seed_and_time_give_the_same_frame() -> None:
    screen = structured_screen()
    a = CameraModel(7, SMALL).capture(screen, 3.5)
    b = CameraModel(7, SMALL).capture(screen, 3.5)
    assert np.array_equal(a.image, b.image)
    assert np.array_equal(a.quad, b.quad)
    assert a.image.shape == (SMALL[1], SMALL[0], 3) and a.image.dtype == np.uint8
    assert a.quad.shape == (4, 2) and a.quad.dtype == np.float32


def test_different_seeds_give_different_poses() -> None:
    found = quads(False)
    for i in range(len(found)):
        for j in range(i):
            assert np.abs(found[i] - found[j]).max() > 5, (i, j)


def test_a_bench_camera_does_not_move_between_frames() -> None:
    model = CameraModel(3, SMALL)
    screen = structured_screen()
    first = model.capture(screen, 0.0)
    later = model.capture(screen, 40.0)
    assert np.array_equal(first.quad, later.quad)
    # the bench, not only the quad, stays put: the frames differ only by noise and drift
    assert ncc(first.image, later.image, margin=1) > 0.95


# -- geometry ---------------------------------------------------------------------------------


@pytest.mark.parametrize("hand_held", [False, True])
def test_the_screen_is_in_the_frame_at_the_promised_size(hand_held: bool) -> None:
    low, high = (0.25, 0.70) if hand_held else (0.35, 0.60)
    for quad in quads(hand_held):
        x, y = quad[:, 0], quad[:, 1]
        assert (x >= 0).all() and (x <= SMALL[0] - 1).all(), quad
        assert (y >= 0).all() and (y <= SMALL[1] - 1).all(), quad
        assert low - 0.01 <= np.ptp(x) / SMALL[0] <= high + 0.01, quad
        # tl, tr, br, bl: clockwise in image coordinates, and a convex quadrilateral
        edges = np.roll(quad, -1, axis=0) - quad
        assert all(cross(edges[i], edges[(i + 1) % 4]) > 0 for i in range(4)), quad
        assert quad[0, 0] < quad[1, 0] and quad[3, 0] < quad[2, 0]
        assert quad[0, 1] < quad[3, 1] and quad[1, 1] < quad[2, 1]


def test_the_view_is_a_perspective_not_an_affine() -> None:
    # an affine map keeps opposite edges parallel; a real camera at an angle does not
    angles = []
    for quad in quads(True):
        top, bottom = quad[1] - quad[0], quad[2] - quad[3]
        left, right = quad[3] - quad[0], quad[2] - quad[1]
        angles += [
            abs(math.atan2(cross(top, bottom), top @ bottom)),
            abs(math.atan2(cross(left, right), left @ right)),
        ]
    assert max(angles) > math.radians(3)


def test_hand_held_poses_vary_more_than_bench_poses() -> None:
    def spread(hand_held: bool) -> tuple[float, float]:
        rolls, skews = [], []
        for quad in quads(hand_held):
            top = quad[1] - quad[0]
            rolls.append(math.degrees(math.atan2(top[1], top[0])))
            left, right = np.linalg.norm(quad[3] - quad[0]), np.linalg.norm(quad[2] - quad[1])
            top_len, bottom = np.linalg.norm(top), np.linalg.norm(quad[2] - quad[3])
            skews.append(max(abs(math.log(left / right)), abs(math.log(top_len / bottom))))
        return float(np.std(rolls)), float(max(skews))

    bench_roll, bench_skew = spread(False)
    hand_roll, hand_skew = spread(True)
    assert bench_roll < 6
    assert hand_roll > 2 * bench_roll
    assert hand_skew > 1.5 * bench_skew


def test_the_screen_is_recovered_from_a_default_camera() -> None:
    screen = structured_screen()
    for seed, hand_held in [(0, False), (1, True)]:
        capture = CameraModel(seed, hand_held=hand_held).capture(screen, 12.0)
        assert ncc(recover(capture), screen) > 0.9, (seed, hand_held)
        # a wrong corner order (the quad flipped left-right) must not look as good
        flipped = Capture(capture.image, capture.quad[[1, 0, 3, 2]])
        assert ncc(recover(flipped), screen) < 0.5


def test_an_ideal_camera_recovers_the_screen_almost_exactly() -> None:
    # a small screen in a big frame is magnified, so resampling loses nothing: what is left
    # is registration, and half a pixel off would show on the bars and text
    screen = structured_screen(320, 188)
    for seed in range(3):
        capture = CameraModel(seed, (1280, 720), effects=CameraEffects.none()).capture(screen, 0)
        back = recover(capture, 320, 188)
        assert ncc(back, screen, margin=3) > 0.99
        diff = np.abs(back.astype(int) - screen)[3:-3, 3:-3]
        assert diff.mean() < 3, seed


def test_the_screen_is_not_the_only_bright_or_quadrilateral_thing() -> None:
    dark = structured_screen(light=False)
    for seed in range(4):
        capture = CameraModel(seed, SMALL, effects=CameraEffects.none()).capture(dark, 0)
        grey = cv2.cvtColor(capture.image, cv2.COLOR_BGR2GRAY)
        outside = np.ones_like(grey, bool)
        # the housing: a dark band around the screen, a good deal larger than it
        centre = capture.quad.mean(axis=0)
        housing = centre + (capture.quad - centre) * 1.25
        cv2.fillConvexPoly(outside.view(np.uint8), np.rint(housing).astype(np.int32), 0)
        ring = np.zeros_like(grey)
        cv2.fillConvexPoly(
            ring, np.rint(centre + (capture.quad - centre) * 1.08).astype(np.int32), 1
        )
        cv2.fillConvexPoly(ring, np.rint(capture.quad).astype(np.int32), 0)
        assert grey[ring > 0].mean() < 70, seed
        # with a dark screen, papers on the bench are the bright things
        assert (grey[outside] > 160).mean() > 0.005, seed


# -- effects ----------------------------------------------------------------------------------


def test_exposure_drifts_slowly() -> None:
    model = CameraModel(2, SMALL, effects=only(exposure_drift=0.25))
    screen = flat_screen(128)
    means = [centre_mean(model.capture(screen, t)).mean() for t in range(0, 121, 3)]
    assert max(means) / min(means) > 1.3
    assert max(means) < 128 * 1.26 and min(means) > 128 * 0.74
    # slow: a tenth of a second changes the gain by well under a percent
    step = [centre_mean(model.capture(screen, t)).mean() for t in (50.0, 50.1)]
    assert abs(step[1] / step[0] - 1) < 0.01
    steady = CameraModel(2, SMALL, effects=CameraEffects.none())
    assert {centre_mean(steady.capture(screen, t)).mean() for t in (0, 30, 60)} == {128.0}


def test_white_balance_drifts_per_channel() -> None:
    model = CameraModel(4, SMALL, effects=only(white_balance_drift=0.1))
    screen = flat_screen(128)
    colours = np.array([centre_mean(model.capture(screen, t)) for t in range(0, 181, 5)])
    blue, green, red = colours.T
    assert np.allclose(green, 128)
    for channel in (blue, red):
        assert np.ptp(channel) > 128 * 0.12
    assert np.ptp(blue - red) > 5  # the channels drift independently


def test_noise_is_present_small_and_grows_with_signal() -> None:
    model = CameraModel(5, SMALL, effects=only(noise_sigma=(2, 2), shot_noise=0.2))
    half = np.full((H, W, 3), 40, np.uint8)  # not black: clipping at 0 would hide noise
    half[:, W // 2 :] = 220
    a = model.capture(half, 0.0).image.astype(int)
    b = model.capture(half, 0.04).image.astype(int)
    diff = a - b
    assert 0.5 < np.abs(diff).mean() < 6
    # shot noise: the white half of the screen is noisier than the black half
    quad = model.capture(half, 0.08).quad
    rect = np.float32([[0, 0], [W, 0], [W, H], [0, H]])
    m = cv2.getPerspectiveTransform(quad, rect)
    back = cv2.warpPerspective(diff.astype(np.float32), m, (W, H), flags=cv2.INTER_NEAREST)
    assert back[50:-50, W // 2 + 50 : -50].std() > 1.3 * back[50:-50, 50 : W // 2 - 50].std()
    # an ideal camera shows a static screen identically
    ideal = CameraModel(5, SMALL, effects=CameraEffects.none())
    assert np.array_equal(ideal.capture(half, 0).image, ideal.capture(half, 0.04).image)


def test_the_same_time_twice_still_gets_fresh_noise() -> None:
    model = CameraModel(6, SMALL)
    screen = structured_screen()
    assert not np.array_equal(model.capture(screen, 1.0).image, model.capture(screen, 1.0).image)


@pytest.mark.parametrize("size", [SMALL, (1920, 1080)])
def test_jpeg_round_trip_is_applied(size: tuple[int, int]) -> None:
    """Around the reader the frame is what a JPEG of the whole frame decodes to, pixel for
    pixel (the codec's blocks are coded on their own); far from it the bench is left as it
    was (where nothing is read)."""
    screen = structured_screen()
    plain_capture = CameraModel(8, size, effects=CameraEffects.none()).capture(screen, 0)
    plain = plain_capture.image
    jpeg = CameraModel(8, size, effects=only(jpeg_quality=(40, 40))).capture(screen, 0).image
    ok, data = cv2.imencode(".jpg", plain, [cv2.IMWRITE_JPEG_QUALITY, 40])
    assert ok
    whole = cv2.imdecode(data, cv2.IMREAD_COLOR)
    assert not np.array_equal(jpeg, plain)
    (x0, y0), (x1, y1) = plain_capture.quad.min(axis=0), plain_capture.quad.max(axis=0)
    x0, y0 = max(0, int(x0) - 40), max(0, int(y0) - 40)
    x1, y1 = int(x1) + 41, int(y1) + 41
    assert np.array_equal(jpeg[y0:y1, x0:x1], whole[y0:y1, x0:x1])
    outside = np.ones(plain.shape[:2], bool)
    outside[max(0, y0 - 200):y1 + 200, max(0, x0 - 200):x1 + 200] = False
    assert np.array_equal(jpeg[outside], plain[outside])


def test_a_region_of_interest_changes_no_pixel_in_it() -> None:
    """A frame read out at a region (the rig's region of interest) is the frame without one,
    pixel for pixel, inside the region: noise and JPEG are cut to it, not drawn anew."""
    rng = np.random.default_rng(4)
    whole, roi = CameraModel(11, (1920, 1080)), CameraModel(11, (1920, 1080))
    for k in range(6):
        screen = structured_screen(light=k % 2 == 0)
        a = whole.capture(screen, 0.5 * k)
        (x0, y0), (x1, y1) = a.quad.min(axis=0).astype(int), a.quad.max(axis=0).astype(int)
        x0, y0 = (int(v) for v in (x0, y0) - rng.integers(-20, 30, 2))
        x1, y1 = (int(v) for v in (x1, y1) + rng.integers(-20, 30, 2))
        b = roi.capture(screen, 0.5 * k, read=(x0, y0, x1, y1))
        assert np.array_equal(a.image[y0:y1, x0:x1], b.image[y0:y1, x0:x1])
        # ... and outside it, where the rig said it does not read, the two differ
        assert not np.array_equal(a.image, b.image)


def test_blur_is_a_gaussian_over_the_whole_frame() -> None:
    screen = structured_screen()
    plain = CameraModel(9, SMALL, effects=CameraEffects.none()).capture(screen, 0).image
    blurred = CameraModel(9, SMALL, effects=only(blur_sigma=(2, 2))).capture(screen, 0).image
    assert np.array_equal(blurred, cv2.GaussianBlur(plain, (0, 0), 2))


def test_glare_is_a_soft_blob_on_the_glass_that_drifts() -> None:
    screen = flat_screen(100)
    plain = CameraModel(10, SMALL, effects=CameraEffects.none()).capture(screen, 0)
    model = CameraModel(10, SMALL, effects=only(glare=80))
    centres = []
    for t in (0.0, 20.0):
        glared = model.capture(screen, t)
        added = glared.image.astype(int) - plain.image
        assert added.min() >= 0 and 0.3 * 80 < added.max() <= 80
        # only on the reader's glass: nothing far outside the screen
        centre = glared.quad.mean(axis=0)
        far = np.ones(added.shape[:2], np.uint8)
        cv2.fillConvexPoly(far, np.rint(centre + (glared.quad - centre) * 1.6).astype(np.int32), 0)
        assert added[far > 0].max() == 0
        ys, xs = np.nonzero(added[..., 1] > added.max() / 2)
        centres.append((xs.mean(), ys.mean()))
    assert math.dist(*centres) > 3


def test_screen_levels_map_black_and_white() -> None:
    model = CameraModel(11, SMALL, effects=only(screen_levels=(20, 230)))
    assert centre_mean(model.capture(flat_screen(0), 0)).mean() == pytest.approx(20, abs=0.5)
    assert centre_mean(model.capture(flat_screen(255), 0)).mean() == pytest.approx(230, abs=0.5)


# -- a screen that changes --------------------------------------------------------------------


def changing_screens(w: int = W, h: int = H) -> list[np.ndarray]:
    """A screen and its changes: the clock's digits, a spinner, single pixels at the corners
    and edges, scattered pixels, half the screen, then another screen altogether."""
    screens = [structured_screen(w, h)]
    s = screens[-1].copy()
    cv2.putText(s, "12:35", (w // 2, 40), cv2.FONT_HERSHEY_SIMPLEX, 1, (0, 0, 0), 2)
    screens.append(s)
    s = s.copy()
    cv2.circle(s, (w // 2, h // 2), h // 12, (0, 0, 255), 3)
    screens.append(s)
    s = s.copy()
    s[0, 0], s[h - 1, w - 1] = 7, 200
    screens.append(s)
    s = s.copy()
    s[h // 2, w - 1], s[h - 1, w // 3] = 3, 250
    screens.append(s)
    s = s.copy()
    rng = np.random.default_rng(3)
    s[rng.integers(0, h, 30), rng.integers(0, w, 30)] = 255
    screens.append(s)
    s = s.copy()
    s[:, : w // 2] = 90
    screens.append(s)
    screens.append(structured_screen(w, h, light=False))
    return screens


@pytest.mark.parametrize(
    ("frame", "screen_size", "hand_held"),
    [(SMALL, (W, H), False), ((1280, 720), (W, H), True), ((1280, 720), (320, 188), False)],
)
def test_a_changed_screen_gives_the_frame_a_fresh_camera_would(
    frame: tuple[int, int], screen_size: tuple[int, int], hand_held: bool
) -> None:
    # the camera redoes only what a change touches (and nothing for the same screen again):
    # that must give exactly the frame of a camera that sees the screen for the first time
    effects = only(blur_sigma=(1.2, 1.2), screen_levels=(18, 235))
    model = CameraModel(12, frame, hand_held=hand_held, effects=effects)
    for i, screen in enumerate(changing_screens(*screen_size)):
        fresh = CameraModel(12, frame, hand_held=hand_held, effects=effects).capture(screen, 0)
        for repeat in range(2):
            seen = model.capture(screen, i + 0.5 * repeat)
            assert np.array_equal(seen.image, fresh.image), (i, repeat)


def test_a_changed_screen_gets_the_same_noise_as_a_fresh_camera() -> None:
    # the per-sample noise level follows the signal of the screen shown, not of an old one
    screens = changing_screens()
    model = CameraModel(13, SMALL)
    for screen in screens:
        model.capture(screen, 0)
    fresh = CameraModel(13, SMALL)
    fresh.capture(screens[-1], 0)
    # same frame number, time and screen: the same frame
    fresh._frames, fresh._last_offset = model._frames, model._last_offset
    assert np.array_equal(
        model.capture(screens[-1], 1.0).image, fresh.capture(screens[-1], 1.0).image
    )


# -- bump -------------------------------------------------------------------------------------


def test_bump_moves_the_camera_noticeably_and_reproducibly() -> None:
    screen = structured_screen()
    for seed in range(4):
        model = CameraModel(seed, SMALL)
        before = model.capture(screen, 0.0)
        model.bump()
        after = model.capture(screen, 0.1)
        moved = np.linalg.norm(after.quad - before.quad, axis=1).mean()
        assert moved > 0.03 * SMALL[0], seed
        assert (after.quad >= 0).all() and (after.quad[:, 0] <= SMALL[0] - 1).all()
        assert (after.quad[:, 1] <= SMALL[1] - 1).all()
        assert ncc(recover(after), screen) > 0.8  # the quad still tells the truth
        twin = CameraModel(seed, SMALL)
        twin.bump()
        assert np.array_equal(twin.capture(screen, 0.1).quad, after.quad)


# -- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("screen", "reason"),
    [
        (np.zeros((600, 1024), np.uint8), "HxWx3"),
        (np.zeros((600, 1024, 4), np.uint8), "HxWx3"),
        (np.zeros((600, 1024, 3), np.float32), "uint8"),
        ([[[0, 0, 0]]], "numpy array"),
        (np.zeros((0, 1024, 3), np.uint8), "too small"),
    ],
)
def test_a_bad_screen_is_refused(screen: object, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        CameraModel(0, SMALL).capture(screen, 0.0)  # type: ignore[arg-type]


def test_a_bad_time_is_refused() -> None:
    with pytest.raises(ValueError, match="finite"):
        CameraModel(0, SMALL).capture(flat_screen(0), float("nan"))


@pytest.mark.parametrize("size", [(0, 1080), (1920, -1), (16, 16)])
def test_a_bad_frame_size_is_refused(size: tuple[int, int]) -> None:
    with pytest.raises(ValueError, match="frame_size"):
        CameraModel(0, size)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"blur_sigma": (2, 1)}, "blur_sigma"),
        ({"noise_sigma": (-1, 1)}, "noise_sigma"),
        ({"jpeg_quality": (0, 50)}, "jpeg_quality"),
        ({"exposure_drift": 1.5}, "exposure_drift"),
        ({"screen_levels": (200, 100)}, "screen_levels"),
    ],
)
def test_bad_effects_are_refused(changes: dict, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        CameraEffects(**changes)


def test_a_bad_seed_is_refused() -> None:
    with pytest.raises(ValueError, match="seed"):
        CameraModel(-1)


# -- desk conditions (CameraEffects.harsh) ------------------------------------------------------


def _plain_and(seed: int, screen: np.ndarray, t: float = 0.0, **changes: object
               ) -> tuple[Capture, Capture]:
    plain = CameraModel(seed, SMALL, effects=CameraEffects.none()).capture(screen, t)
    return plain, CameraModel(seed, SMALL, effects=only(**changes)).capture(screen, t)


def _screen_mask(capture: Capture, shrink: float = 1.0) -> np.ndarray:
    mask = np.zeros(capture.image.shape[:2], np.uint8)
    centre = capture.quad.mean(axis=0)
    cv2.fillConvexPoly(mask, np.rint(centre + (capture.quad - centre) * shrink).astype(np.int32),
                       1)
    return mask > 0


def test_the_default_effects_draw_no_desk_condition() -> None:
    assert not CameraEffects().desk and CameraEffects.harsh().desk
    # and a harsh camera is as reproducible as any
    screen = structured_screen()
    a = CameraModel(21, SMALL, effects=CameraEffects.harsh()).capture(screen, 2.0)
    b = CameraModel(21, SMALL, effects=CameraEffects.harsh()).capture(screen, 2.0)
    assert np.array_equal(a.image, b.image)


def test_roll_widens_the_bench_pose_to_the_asked_angle() -> None:
    screen = flat_screen(128)
    rolls = []
    for seed in range(24):
        quad = CameraModel(seed, SMALL, effects=only(roll=8.0)).capture(screen, 0).quad
        top = quad[1] - quad[0]
        rolls.append(abs(math.degrees(math.atan2(top[1], top[0]))))
    # a bench pose alone rolls at most 5 degrees (plus what yaw and pitch add)
    assert max(rolls) > 6.0 and max(rolls) < 14.0


def test_moire_is_faint_periodic_bands_on_the_screen_only() -> None:
    plain, moire = _plain_and(22, flat_screen(128), moire=6.0)
    added = moire.image.astype(int) - plain.image
    inside = _screen_mask(plain, 0.9)
    assert added[~_screen_mask(plain, 1.05)].max() == 0  # nothing off the screen
    assert 3 <= added[inside].max() <= 6 and -6 <= added[inside].min() <= -3
    # bands: the added pattern correlates with itself a period away, not a random speckle
    grey = added[..., 1].astype(float) * inside
    spectrum = np.abs(np.fft.rfft2(grey - grey[inside].mean() * inside))
    spectrum[0, 0] = 0
    assert spectrum.max() > 20 * np.median(spectrum)


def test_a_hot_spot_is_small_bright_and_clips() -> None:
    plain, spot = _plain_and(23, flat_screen(200), glare_spot=110.0)
    added = spot.image.astype(int) - plain.image
    assert spot.image.max() == 255  # clipped in its middle
    assert added.max() >= 54  # 200 + 55 is already white
    lit = added[..., 1] > 20
    screen_area = _screen_mask(plain).sum()
    assert 0 < lit.sum() < 0.05 * screen_area  # small: a spot, not the soft glare


def test_motion_blur_smears_along_one_direction() -> None:
    screen = np.full((H, W, 3), 230, np.uint8)
    screen[:, ::64] = 20  # thin vertical lines
    plain, blurred = _plain_and(24, screen, motion_blur=(7.0, 7.0))
    assert not np.array_equal(plain.image, blurred.image)
    # the lines lose contrast (a 7 px smear), the mean stays
    a = recover(plain)[20:-20, 20:-20].astype(float)
    b = recover(blurred)[20:-20, 20:-20].astype(float)
    assert abs(a.mean() - b.mean()) < 3
    assert b.std() < 0.9 * a.std()


def test_defocus_gain_and_gamma_change_levels_as_asked() -> None:
    screen = flat_screen(128)
    plain, dark = _plain_and(25, screen, gain=(0.65, 0.65))
    inside = _screen_mask(plain, 0.8)
    ratio = dark.image[inside].mean() / plain.image[inside].mean()
    assert 0.6 < ratio < 0.7
    _, curved = _plain_and(25, screen, gamma=(1.25, 1.25))
    expected = 255 * (128 / 255) ** 1.25
    assert abs(curved.image[inside].mean() - expected) < 2


def test_vignetting_darkens_the_corners_not_the_centre() -> None:
    plain, vignetted = _plain_and(26, flat_screen(128), vignetting=0.35)
    a, b = plain.image.astype(float), vignetted.image.astype(float)
    h, w = a.shape[:2]
    centre = (slice(h // 2 - 5, h // 2 + 5), slice(w // 2 - 5, w // 2 + 5))
    assert abs(a[centre].mean() - b[centre].mean()) < 2
    assert b[:10, :10].mean() < 0.72 * a[:10, :10].mean()


def test_a_finger_covers_the_bezel_and_at_most_a_corner_of_the_screen() -> None:
    screen = flat_screen(40)
    model = CameraModel(27, SMALL, effects=only(finger=1.0))
    plain_model = CameraModel(27, SMALL, effects=CameraEffects.none())
    seen = 0
    for t in (0.0, 1.0, 2.0, 3.0):
        plain, finger = plain_model.capture(screen, t), model.capture(screen, t)
        changed = np.abs(finger.image.astype(int) - plain.image).max(axis=2) > 25
        assert changed.sum() > 0
        skin = finger.image[changed].mean(axis=0)
        assert skin[2] > skin[1] > skin[0]  # red over green over blue: skin, not glare
        screen_area = _screen_mask(plain)
        assert (changed & screen_area).sum() <= 0.03 * screen_area.sum()
        seen += int((changed & ~screen_area).sum() > 0)
    assert seen == 4  # always over the bezel


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"roll": -1.0}, "roll"),
        ({"moire": 100.0}, "moire"),
        ({"glare_spot": 300.0}, "glare_spot"),
        ({"motion_blur": (5, 2)}, "motion_blur"),
        ({"gain": (0.0, 1.0)}, "gain"),
        ({"gamma": (1.2, 0.8)}, "gamma"),
        ({"vignetting": 1.0}, "vignetting"),
        ({"finger": -0.1}, "finger"),
    ],
)
def test_bad_desk_conditions_are_refused(changes: dict, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        CameraEffects(**changes)


def _noised(cam: CameraModel, screen: np.ndarray, lamps: list | None = None
            ) -> tuple[np.ndarray, np.ndarray]:
    """Where two frames of one still screen differ (a camera whose light does not drift:
    only its noise and the JPEG of it change), and the screen's corners."""
    a = cam.capture(screen, 1.0, lamps or [])
    b = cam.capture(screen, 2.0, lamps or [])
    return (a.image != b.image).any(axis=2), a.quad


STILL_LIGHT = CameraEffects(exposure_drift=0, white_balance_drift=0, flicker=0, glare=0)


@pytest.mark.parametrize("seed", range(4))
def test_a_bench_cameras_noise_covers_what_the_rig_reads_and_no_more(seed: int) -> None:
    """A bench camera's noise and JPEG go where the vision reads the frame at full
    resolution: the screen, the bezel ring that says whether the camera moved, and as far as
    a found screen's sides are sought; the bench further out keeps its light. A hand-held
    camera's photo is searched whole: its whole reader gets them."""
    from harness.vision.bezel import RING
    from harness.vision.locate import GROW_REACH

    screen = np.full((600, 1024, 3), 200, np.uint8)
    cv2.putText(screen, "TEXT", (100, 300), cv2.FONT_HERSHEY_SIMPLEX, 4, (0, 0, 0), 8)
    noised, quad = _noised(CameraModel(seed, effects=STILL_LIGHT), screen)
    ys, xs = np.nonzero(noised)
    (qx0, qy0), (qx1, qy1) = quad.min(axis=0), quad.max(axis=0)
    qw, qh = qx1 - qx0, qy1 - qy0
    sides = GROW_REACH * min(qw, qh)
    # The ring and the sides' search reach, each way, inside the noised part.
    gx, gy = max(RING * qw, sides), max(RING * qh, sides)
    assert xs.min() <= max(0, qx0 - gx) and xs.max() >= min(1919, qx1 + gx)
    assert ys.min() <= max(0, qy0 - gy) and ys.max() >= min(1079, qy1 + gy)
    # Further out, the bench is the same in both frames.
    assert xs.min() > qx0 - 2 * gx - 32 or xs.min() == 0
    assert xs.max() < qx1 + 2 * gx + 32 or xs.max() == 1919
    assert noised.mean() < 0.6


def test_a_lamp_away_from_the_screen_gets_noise_too() -> None:
    """Atlas's logo lamp lies below the screen, past its band: it is read, and it gets the
    sensor's noise and the JPEG as the screen does."""
    from harness.emulation.lamps import LampState
    from harness.model.lamps import LampSpot

    spot = LampSpot(name="logo", at=(0.5, 1.6), size=(0.06, 0.06))
    screen = np.full((600, 1024, 3), 200, np.uint8)
    cam = CameraModel(1, effects=STILL_LIGHT)
    plain, quad = _noised(cam, screen)
    with_lamp, _ = _noised(CameraModel(1, effects=STILL_LIGHT), screen,
                           [LampState(spot, "white", True)])
    (qx0, qy0), (qx1, qy1) = quad.min(axis=0), quad.max(axis=0)
    lamp_y = int(qy0 + 1.6 * (qy1 - qy0))
    # Beside the lamp, where the vision reads its surround (the lamp draws no noise of its
    # own there).
    side_x = int((qx0 + qx1) / 2 + 2.2 * 0.03 * (qx1 - qx0))
    assert lamp_y < 1080 - 20
    beside = np.s_[lamp_y - 3 : lamp_y + 4, side_x - 3 : side_x + 4]
    assert not plain[beside].any() and with_lamp[beside].mean() > 0.5
