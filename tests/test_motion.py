"""Motion, stillness and spinners on synthetic reader screens seen through a bad camera.

The screens are drawn with OpenCV (white background, dark bars and text, a ring spinner) and
degraded the way the bench camera degrades them: exposure drifting by +-25 % over the
sequence with per-frame flicker, white-balance drift, a soft glare blob wandering slowly,
blur, Gaussian noise (sigma 6) and a JPEG round trip at quality 70. Times are frame
timestamps, as a virtual clock would give them: no test sleeps.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import attrs
import cv2
import numpy as np
import pytest

from harness.vision.change import MotionDetector, MotionSample
from harness.vision.motion import MotionTracker

W, H = 256, 150
SPINNER_CENTRE = (200, 105)
SPINNER_RADIUS = 11
CLOCK_BOX = (186, 4, 66, 16)  # x, y, w, h around the clock text


def screen(*, lines: int = 3, button: bool = True, extra_line: bool = False) -> np.ndarray:
    """A reader screen: title bar, text lines, a coloured button; BGR uint8."""
    img = np.full((H, W, 3), 235, np.uint8)
    cv2.rectangle(img, (0, 0), (W - 1, 22), (120, 60, 20), -1)
    cv2.putText(img, "Card check", (8, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1)
    texts = ["Please hold your card", "over the reader.", "Do not remove it", "until told to."]
    for i in range(lines):
        cv2.putText(img, texts[i], (10, 44 + 16 * i), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (30, 30, 30))
    if extra_line:
        cv2.putText(
            img, "Thank you.", (10, 44 + 16 * lines), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (30,) * 3
        )
    if button:
        cv2.rectangle(img, (12, 112), (110, 138), (40, 140, 40), -1)
        cv2.putText(img, "OK", (50, 131), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1)
    return img


def other_screen() -> np.ndarray:
    """A completely different screen (an error page)."""
    img = np.full((H, W, 3), 70, np.uint8)
    cv2.rectangle(img, (20, 30), (236, 120), (40, 40, 200), -1)
    cv2.putText(img, "Error 901", (40, 70), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (255, 255, 255), 2)
    cv2.putText(img, "Restart the PC", (40, 100), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255,) * 3)
    return img


def draw_spinner(img: np.ndarray, angle: float) -> np.ndarray:
    """A ring track with a dark 90 degree arc starting at ``angle`` degrees."""
    img = img.copy()
    cv2.circle(img, SPINNER_CENTRE, SPINNER_RADIUS, (200, 200, 200), 4, cv2.LINE_AA)
    axes = (SPINNER_RADIUS, SPINNER_RADIUS)
    cv2.ellipse(img, SPINNER_CENTRE, axes, angle, 0, 90, (60, 60, 60), 4, cv2.LINE_AA)
    return img


def draw_clock(img: np.ndarray, t: float) -> np.ndarray:
    img = img.copy()
    s = int(t)
    text = f"10:{s // 60 % 60:02d}:{s % 60:02d}"
    cv2.putText(img, text, (CLOCK_BOX[0] + 2, 17), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255,) * 3)
    return img


@attrs.define
class BadCamera:
    """Degrades a rendered screen like the bench camera; deterministic for a seed."""

    duration: float
    seed: int = 0
    noise_sigma: float = 6.0
    flicker: float = 0.03
    _rng: np.random.Generator = attrs.field(init=False)
    _yy: np.ndarray = attrs.field(init=False, repr=False)
    _xx: np.ndarray = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        self._rng = np.random.default_rng(self.seed)
        self._yy, self._xx = np.mgrid[0:H, 0:W].astype(np.float32)

    def shoot(self, img: np.ndarray, t: float) -> np.ndarray:
        u = t / self.duration  # 0..1 over the sequence
        # Exposure: 0.75 -> 1.25 over the sequence, plus 3 % flicker per frame.
        gain = (0.75 + 0.5 * u) * (1 + self.flicker * float(self._rng.standard_normal()))
        # White balance: per-channel gains drifting by up to 8 %.
        wb = np.array([1 + 0.08 * math.sin(2 * math.pi * (u + k / 3)) for k in range(3)])
        x = img.astype(np.float32) * (gain * wb).astype(np.float32)
        # A soft glare blob drifting 4 px/s.
        gx, gy = 60 + 4 * t, 50 + 1.5 * t
        glare = 45 * np.exp(-((self._xx - gx) ** 2 + (self._yy - gy) ** 2) / (2 * 28**2))
        x += glare[..., None]
        x = cv2.GaussianBlur(x, (3, 3), 0.8)
        x += self._rng.normal(0, self.noise_sigma, x.shape).astype(np.float32)
        out = np.clip(x, 0, 255).astype(np.uint8)
        ok, jpg = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, 70])
        assert ok
        return cv2.imdecode(jpg, cv2.IMREAD_COLOR)


def frames(
    render: Callable[[float], np.ndarray], duration: float, *, dt: float = 0.2, seed: int = 0
) -> Iterator[tuple[float, np.ndarray]]:
    """(t, degraded image) every ``dt`` seconds over ``duration``, starting at t=0."""
    camera = BadCamera(duration, seed)
    for i in range(round(duration / dt) + 1):
        t = round(i * dt, 6)
        yield t, camera.shoot(render(t), t)


def run(
    tracker: MotionTracker,
    render: Callable[[float], np.ndarray],
    duration: float,
    *,
    dt: float = 0.2,
    seed: int = 0,
    ignore: np.ndarray | None = None,
) -> list[MotionSample]:
    return [tracker.feed(img, t, ignore) for t, img in frames(render, duration, dt=dt, seed=seed)]


def clock_mask() -> np.ndarray:
    mask = np.zeros((H, W), bool)
    x, y, w, h = CLOCK_BOX
    mask[y : y + h, x : x + w] = True
    return mask


def inside(box: tuple[int, int, int, int], outer: tuple[int, int, int, int]) -> bool:
    """``box`` within ``outer`` give or take 4 px (working-copy pixels are 2 px, plus blur)."""
    x, y, w, h = box
    ox, oy, ow, oh = outer
    return ox - 4 <= x and oy - 4 <= y and x + w <= ox + ow + 4 and y + h <= oy + oh + 4


SPINNER_AREA = (
    SPINNER_CENTRE[0] - SPINNER_RADIUS - 6,
    SPINNER_CENTRE[1] - SPINNER_RADIUS - 6,
    2 * SPINNER_RADIUS + 12,
    2 * SPINNER_RADIUS + 12,
)


def test_static_screen_under_camera_drift_stays_still() -> None:
    tracker = MotionTracker(MotionDetector())
    base = screen()
    for t, img in frames(lambda t: base, 12.0, dt=0.2):
        sample = tracker.feed(img, t)
        assert not sample.moving, sample
        # Still since the first frame: the whole time seen so far.
        assert tracker.still_for() == pytest.approx(t)
        assert tracker.stable(10) is (t >= 10)
    assert tracker.still_for(ignore_spinner=True) == pytest.approx(12.0)
    assert not tracker.spinning(3)
    # The camera really drifted: the fit absorbed exposure changes between frames.
    gains = [s.gain for s in tracker.samples]
    assert max(gains) - min(gains) > 0.05


@pytest.mark.parametrize(
    ("before", "after", "where"),
    [
        pytest.param(screen(), screen(extra_line=True), (10, 80, 90, 16), id="text-line"),
        pytest.param(screen(button=False), screen(), (12, 112, 99, 27), id="button"),
        pytest.param(screen(), other_screen(), (0, 0, W, H), id="new-screen"),
        pytest.param(
            draw_spinner(screen(), 0), draw_spinner(screen(), 20), SPINNER_AREA, id="arc-20deg"
        ),
    ],
)
def test_a_real_change_is_motion_where_it_happened(
    before: np.ndarray, after: np.ndarray, where: tuple[int, int, int, int]
) -> None:
    detector = MotionDetector()
    samples = [
        detector.feed(img, t)
        for t, img in frames(lambda t: before if t < 3 else after, 6.0, dt=0.25, seed=3)
    ]
    moving = [s.t for s in samples if s.moving]
    assert moving == [3.0]
    changed = samples[12]
    assert changed.t == 3.0 and changed.bbox is not None
    assert inside(changed.bbox, where), changed.bbox
    assert changed.ref_t == 2.75


def test_a_text_line_appearing_resets_still_for() -> None:
    tracker = MotionTracker(MotionDetector())
    first, second = screen(), screen(extra_line=True)
    seen = {}
    for t, img in frames(lambda t: first if t < 6 else second, 17.0, dt=0.2, seed=1):
        tracker.feed(img, t)
        seen[t] = (tracker.still_for(), tracker.stable(10))
    assert seen[5.8] == (pytest.approx(5.8), False)
    assert seen[6.0] == (0.0, False)
    assert seen[15.8] == (pytest.approx(9.8), False)
    assert seen[16.0] == (pytest.approx(10.0), True)
    assert tracker.still_for() == pytest.approx(11.0)


@pytest.mark.parametrize("dt", [0.1, 0.25])
def test_a_spinner_over_a_frozen_screen(dt: float) -> None:
    tracker = MotionTracker(MotionDetector())
    base = screen()
    run(tracker, lambda t: draw_spinner(base, 360 * t), 6.0, dt=dt, seed=2)
    assert tracker.spinning(3)
    assert tracker.still_for() < 0.3  # the screen as a whole keeps changing
    # ... but nothing outside the spinner has changed since the first frame.
    assert tracker.still_for(ignore_spinner=True) == pytest.approx(6.0)
    assert tracker.stable(5, ignore_spinner=True)
    assert not tracker.stable(5)
    box = tracker.spinner_box()
    assert box is not None and inside(box, SPINNER_AREA), box
    assert box[2] >= SPINNER_RADIUS and box[3] >= SPINNER_RADIUS


def test_a_spinner_that_stops_is_no_longer_spinning() -> None:
    tracker = MotionTracker(MotionDetector())
    base = screen()
    answers = {}
    for t, img in frames(lambda t: draw_spinner(base, 360 * min(t, 5.0)), 10.0, dt=0.1, seed=4):
        tracker.feed(img, t)
        answers[t] = (tracker.spinning(3), tracker.still_for())
    assert answers[5.0][0]
    assert not any(answers[t][0] for t in answers if t >= 8.05)
    # Still since the last arc step at t=5.0, measured on frame times.
    assert answers[10.0][1] == pytest.approx(5.0)
    assert tracker.spinner_box() is None


def test_screens_changing_everywhere_are_not_a_spinner() -> None:
    tracker = MotionTracker(MotionDetector())
    pictures = [screen(), other_screen(), screen(lines=1, button=False)]
    samples = run(tracker, lambda t: pictures[round(t / 0.2) % 3], 5.0, dt=0.2, seed=5)
    assert all(s.moving for s in samples[1:])
    assert not tracker.spinning(3)
    assert tracker.spinner_box() is None
    assert tracker.still_for() == 0.0
    assert tracker.still_for(ignore_spinner=True) == 0.0


def test_a_screen_change_while_the_spinner_turns_counts() -> None:
    tracker = MotionTracker(MotionDetector())
    first, second = screen(), screen(extra_line=True)

    def render(t: float) -> np.ndarray:
        return draw_spinner(first if t < 5 else second, 360 * t)

    seen = {}
    for t, img in frames(render, 8.0, dt=0.1, seed=6):
        tracker.feed(img, t)
        seen[t] = (tracker.still_for(ignore_spinner=True), tracker.spinning(2))
    assert seen[4.9] == (pytest.approx(4.9), True)
    # The text line is outside the spinner: the frozen screen was not frozen.
    assert seen[5.0][0] == 0.0
    assert not seen[5.0][1]  # the window now holds a change beyond the spinner's area
    assert seen[8.0] == (pytest.approx(3.0), True)


def test_an_ignore_mask_over_a_ticking_clock_keeps_the_screen_still() -> None:
    base = screen()
    plain, masked = MotionTracker(MotionDetector()), MotionTracker(MotionDetector())
    for t, img in frames(lambda t: draw_clock(base, 3 + t), 8.0, dt=0.25, seed=7):
        plain.feed(img, t)
        masked.feed(img, t, clock_mask())
    assert plain.still_for() < 1.0  # the clock ticked within the last second
    assert masked.still_for() == pytest.approx(8.0)


def test_a_slow_fade_adds_up_to_motion() -> None:
    # At 30 frames/s a 1 s cross-fade changes each frame by a few grey levels only.
    a, b = screen().astype(np.float32), screen(extra_line=True).astype(np.float32)

    def render(t: float) -> np.ndarray:
        u = min(1.0, max(0.0, t - 2.0))
        return ((1 - u) * a + u * b).astype(np.uint8)

    tracker = MotionTracker(MotionDetector())
    consecutive_only = MotionDetector(lookback_s=None)
    for t, img in frames(render, 4.0, dt=1 / 30, seed=8):
        tracker.feed(img, t)
        assert not consecutive_only.feed(img, t).moving
    moving = [s.t for s in tracker.samples if s.moving]
    assert moving and all(2.0 < t <= 3.1 for t in moving)
    assert tracker.still_for() == pytest.approx(4.0 - moving[-1])


def test_frame_times_must_increase() -> None:
    tracker = MotionTracker(MotionDetector())
    img = screen()
    tracker.feed(img, 1.0)
    tracker.feed(img, 2.0)
    with pytest.raises(ValueError, match=r"t=2\.0 s after t=2\.0 s"):
        tracker.feed(img, 2.0)
    with pytest.raises(ValueError, match=r"t=1\.5 s after t=2\.0 s"):
        tracker.feed(img, 1.5)
    with pytest.raises(ValueError, match="finite"):
        tracker.feed(img, float("nan"))
    # The refused frames left no trace.
    tracker.feed(img, 3.0)
    assert tracker.still_for() == 2.0
    detector = MotionDetector()
    detector.feed(img, 5.0)
    with pytest.raises(ValueError, match=r"t=4\.0 s after t=5\.0 s"):
        detector.feed(img, 4.0)


def test_answers_with_few_frames_are_bounded() -> None:
    tracker = MotionTracker(MotionDetector())
    base = screen()
    assert tracker.still_for() == 0.0
    assert not tracker.stable(1) and not tracker.spinning(1)
    assert tracker.spinner_box() is None
    tracker.feed(base, 0.0)
    assert tracker.still_for() == 0.0
    tracker.feed(base, 0.5)
    assert tracker.still_for() == 0.5
    assert not tracker.stable(0.5)  # two frames are not enough to vouch for stillness
    tracker.feed(base, 1.0)
    assert tracker.stable(1.0)
    # A spinner needs its whole window seen, with enough frame pairs.
    spin = MotionTracker(MotionDetector())
    for i in range(4):
        spin.feed(draw_spinner(base, 90 * i), i * 0.25)
    assert not spin.spinning(0.5)  # 2 pairs: too few
    assert not spin.spinning(1.0)  # window starts before the first frame
    with pytest.raises(ValueError, match="history_s"):
        spin.spinning(500)
    spin.reset()
    assert spin.still_for() == 0.0 and spin.samples == []
    spin.feed(base, 0.1)  # times start over after reset


def test_a_blind_gap_restarts_stillness() -> None:
    tracker = MotionTracker(MotionDetector(), max_gap_s=2.0)
    base = screen()
    for t in (0.0, 1.0, 2.0, 5.0, 6.0):
        tracker.feed(base, t)
    # A stall: between 2 s and 5 s anything may have happened and gone back.
    assert tracker.still_for() == 1.0
    trusting = MotionTracker(MotionDetector(), max_gap_s=None)
    for t in (0.0, 1.0, 2.0, 5.0, 6.0):
        trusting.feed(base, t)
    assert trusting.still_for() == 6.0
    # Looks that are steadily slow are no stall.
    slow = MotionTracker(MotionDetector(), max_gap_s=2.0)
    for t in (0.0, 3.0, 6.0, 9.0):
        slow.feed(base, t)
    assert slow.still_for() == 9.0


def test_bad_inputs_are_refused() -> None:
    detector = MotionDetector()
    detector.feed(screen(), 0.0)
    with pytest.raises(ValueError, match="size changed from 256x150 to 128x75"):
        detector.feed(cv2.resize(screen(), (128, 75)), 1.0)
    with pytest.raises(ValueError, match="ignore mask"):
        detector.feed(screen(), 1.0, np.zeros((10, 10), bool))
    with pytest.raises(ValueError, match="uint8"):
        detector.feed(screen().astype(np.float32), 1.0)


def test_a_noiseless_emulated_screen() -> None:
    # The twin's renderer gives exact pictures: nothing to estimate noise from, floors apply.
    detector = MotionDetector()
    base = screen()
    assert not detector.feed(base, 0.0).moving
    assert not detector.feed(base.copy(), 0.1).moving
    sample = detector.feed(draw_spinner(base, 0), 0.2)
    assert sample.moving and sample.bbox is not None and inside(sample.bbox, SPINNER_AREA)
    assert detector.feed(draw_spinner(base, 20), 0.3).moving
    grey = cv2.cvtColor(base, cv2.COLOR_BGR2GRAY)  # grey input works as well
    other = MotionDetector()
    other.feed(grey, 0.0)
    assert not other.feed(grey, 1.0).moving


def test_a_blinking_cursor_is_not_a_spinner() -> None:
    # Small and always in one place, but it changes in only a quarter of the frame pairs.
    tracker = MotionTracker(MotionDetector())
    base = screen()

    def render(t: float) -> np.ndarray:
        img = base.copy()
        if int(t) % 2 == 0:
            cv2.rectangle(img, (150, 80), (153, 93), (30, 30, 30), -1)
        return img

    samples = run(tracker, render, 6.0, dt=0.25, seed=9)
    assert [s.t for s in samples if s.moving] == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    assert not tracker.spinning(3)
    assert tracker.still_for() == 0.0


def test_spinning_needs_its_whole_window_seen() -> None:
    tracker = MotionTracker(MotionDetector())
    base = screen()
    run(tracker, lambda t: draw_spinner(base, 360 * t), 1.5, dt=0.1, seed=10)
    assert tracker.spinning(1.5)
    assert not tracker.spinning(3)  # 15 moving pairs, but only 1.5 s of the 3 s seen


def test_exposure_steps_are_absorbed_but_a_dimmed_screen_is_motion() -> None:
    detector = MotionDetector()
    camera = BadCamera(10.0, seed=11)
    base = screen().astype(np.float32)
    # Scene brightness 0.8 (nothing clips), stepped by +-10 % (auto exposure), then the
    # backlight dims to half.
    levels = [0.8, 0.88, 0.8, 0.72, 0.8, 0.4, 0.4]
    moving = []
    for i, level in enumerate(levels):
        img = camera.shoot((base * level).astype(np.uint8), 1.0 + i)
        moving.append(detector.feed(img, 1.0 + i).moving)
    assert moving == [False, False, False, False, False, True, False]


def test_still_for_outlives_the_bounded_history() -> None:
    tracker = MotionTracker(MotionDetector(), history_s=3.0)
    first, second = screen(), screen(extra_line=True)

    def render(t: float) -> np.ndarray:
        if t < 1:
            return first
        return second if t < 6 else draw_spinner(second, 360 * t)

    run(tracker, render, 10.0, dt=0.25, seed=12)
    assert len(tracker.samples) <= 13  # 3 s of frames every 0.25 s
    assert tracker.samples[0].t >= 7.0
    assert tracker.spinning(2) and tracker.still_for() < 0.5
    # The text line appeared at t=1, long dropped from the history (and the spinner found
    # since made the tracker re-judge what it kept): it still counts.
    assert tracker.still_for(ignore_spinner=True) == pytest.approx(9.0)
    assert tracker.stable(8.5, ignore_spinner=True)
    assert not tracker.stable(9.5, ignore_spinner=True)
    with pytest.raises(ValueError, match="longer than history_s"):
        tracker.spinning(5)
