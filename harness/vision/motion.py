"""Motion over time on a rectified screen: "nothing changed for N seconds" and "a spinner
keeps turning".

:class:`MotionTracker` feeds each frame to a :class:`~harness.vision.change.MotionDetector`
(frame differencing) and keeps the samples on the frames' own timestamps (bench-clock
seconds, virtual on an emulated bench, DESIGN.md principle 4) and answers ``still_for``, ``stable``,
``spinning`` and ``spinner_box``. Nothing here reads a clock or sleeps.
"""

from __future__ import annotations

from collections import deque

import attrs
import numpy as np

from harness.vision.change import (
    Box,
    MotionDetector,
    MotionSample,
    check_later,
    positive,
    unit_fraction,
)


def _union(a: Box, b: Box) -> Box:
    x0, y0 = min(a[0], b[0]), min(a[1], b[1])
    x1, y1 = max(a[0] + a[2], b[0] + b[2]), max(a[1] + a[3], b[1] + b[3])
    return (x0, y0, x1 - x0, y1 - y0)


def _inside(inner: Box, outer: Box, margin: int) -> bool:
    return (
        inner[0] >= outer[0] - margin
        and inner[1] >= outer[1] - margin
        and inner[0] + inner[2] <= outer[0] + outer[2] + margin
        and inner[1] + inner[3] <= outer[1] + outer[3] + margin
    )


@attrs.frozen
class _Entry:
    sample: MotionSample
    #: Timestamp of the frame this one was compared with.
    prev_t: float


@attrs.define
class MotionTracker:
    """Motion history on frame timestamps: how long the screen has been still, and spinners.

    A spinner is motion seen in most frame pairs of a window, always inside one small compact
    area, with the rest of the screen still. ``spinner_box`` and ``still_for(ignore_spinner=
    True)`` use the spinner found over the last ``spin_window_s`` seconds, updated per frame.
    """

    detector: MotionDetector
    #: Largest spinner: its area (union of all its changes) as a part of the image.
    spinner_max_area: float = attrs.field(default=0.08, kw_only=True, validator=unit_fraction)
    #: Largest spinner box side ratio: a spinner is compact, a scrolling ticker line is not.
    spinner_max_aspect: float = attrs.field(default=3.0, kw_only=True)
    #: Part of the frame pairs in a window that must show motion for a spinner. 0.7 tolerates
    #: pairs where the arc lands where it was (sampling aliasing) or a change too small to see.
    spin_min_moving: float = attrs.field(default=0.7, kw_only=True, validator=unit_fraction)
    #: Frame pairs a window must hold before anything is called spinning.
    spin_min_pairs: int = attrs.field(default=5, kw_only=True)
    #: The window the spinner's area is learnt over, for spinner_box / ignore_spinner.
    spin_window_s: float = attrs.field(default=2.0, kw_only=True, validator=positive)
    #: Frames (first included) a still period must hold before ``stable`` says yes.
    min_frames: int = attrs.field(default=3, kw_only=True)
    #: A frame later than this after the previous one, and over twice the interval before,
    #: leaves a blind gap (a camera stall): stillness restarts after it. Steady slow looks
    #: (one every 5 s) are no gap. None trusts any gap.
    max_gap_s: float | None = attrs.field(default=2.0, kw_only=True)
    #: Seconds of samples kept (bounds memory); windows longer than this are refused.
    #: still_for is exact beyond it: only the latest motion times are needed for that.
    history_s: float = attrs.field(default=120.0, kw_only=True, validator=positive)
    #: Hard cap on kept samples, whatever the frame rate.
    max_samples: int = attrs.field(default=20_000, kw_only=True, validator=positive)

    _history: deque[_Entry] = attrs.field(factory=deque, init=False, repr=False)
    _first_t: float | None = attrs.field(default=None, init=False)
    _last_t: float | None = attrs.field(default=None, init=False)
    _last_motion_t: float | None = attrs.field(default=None, init=False)
    _blind_t: float | None = attrs.field(default=None, init=False)
    _last_dt: float | None = attrs.field(default=None, init=False)
    # Latest motion the spinner does not explain, and the same for samples already dropped.
    _last_other_t: float | None = attrs.field(default=None, init=False)
    _dropped_other_t: float | None = attrs.field(default=None, init=False)
    # Where the spinner was last seen turning (kept after it stops: its old area stays known).
    _spinner: Box | None = attrs.field(default=None, init=False)

    def reset(self) -> None:
        """Forget everything, the detector's previous frame included."""
        self.detector.reset()
        self._restart(None)

    def _restart(self, t: float | None) -> None:
        self._history.clear()
        self._first_t = self._last_t = t
        self._last_motion_t = self._blind_t = self._last_dt = None
        self._last_other_t = self._dropped_other_t = None
        self._spinner = None

    def feed(self, image: np.ndarray, t: float, ignore: np.ndarray | None = None) -> MotionSample:
        """Feed one frame (see :meth:`MotionDetector.feed`); ValueError when t does not increase."""
        # Check here too: after a detector reset by someone else the detector cannot tell.
        check_later(t, self._last_t)
        sample = self.detector.feed(image, t, ignore)
        if not sample.compared:  # a first frame (also after someone reset the detector)
            self._restart(sample.t)
            return sample
        self._take(sample)
        return sample

    def feed_unchanged(self, t: float) -> MotionSample | None:
        """A frame at ``t`` its source vouches shows exactly the scene of the last frame fed
        (nothing was captured: see ``KnowsStillScene``): a still sample, as the detector
        would find it. None before any frame (nothing to be unchanged from)."""
        check_later(t, self._last_t)
        if self._last_t is None:
            return None
        noise = self._history[-1].sample.noise if self._history else 0.0
        sample = MotionSample(t, False, 0.0, None, noise=noise, ref_t=self._last_t)
        self._take(sample)
        return sample

    def _take(self, sample: MotionSample) -> None:
        prev_t, self._last_t = self._last_t, sample.t
        assert prev_t is not None
        self._history.append(_Entry(sample, prev_t))
        dt, last_dt, self._last_dt = sample.t - prev_t, self._last_dt, sample.t - prev_t
        stall = last_dt is not None and dt > 2 * last_dt
        if self.max_gap_s is not None and dt > self.max_gap_s and stall:
            self._blind_t = sample.t
        if sample.moving:
            self._last_motion_t = sample.t
        self._learn_spinner()
        if self._unexplained(sample):
            self._last_other_t = sample.t
        self._drop_old()

    @property
    def samples(self) -> list[MotionSample]:
        """The kept samples (the last ``history_s`` seconds), oldest first: evidence."""
        return [entry.sample for entry in self._history]

    def still_for(self, ignore_spinner: bool = False) -> float:
        """Seconds (frame timestamps) since the last frame that showed motion.

        0.0 until two frames were seen. With ``ignore_spinner``, motion inside the spinner's
        area (see :meth:`spinner_box`, kept after the spinner stops) does not count.
        """
        if self._first_t is None or self._last_t is None or not self._history:
            return 0.0
        return self._last_t - self._still_since(ignore_spinner)

    def stable(self, seconds: float, *, ignore_spinner: bool = False) -> bool:
        """True when the screen has been still for at least ``seconds`` over enough frames."""
        if not seconds > 0:
            raise ValueError(f"seconds must be > 0, got {seconds!r}")
        if self.still_for(ignore_spinner) < seconds:
            return False
        since = self._still_since(ignore_spinner)
        frames = sum(1 for e in self._history if e.sample.t >= since)
        if self._history[0].prev_t >= since:
            frames += 1  # the frame the oldest kept sample was compared with
        return frames >= self.min_frames

    def spinning(self, window_s: float) -> bool:
        """True when over the last ``window_s`` seconds something small kept turning.

        Needs frames covering the whole window (no blind gap) and ``spin_min_pairs`` pairs;
        then at least ``spin_min_moving`` of the pairs moved, and the union of all their
        changes is one compact box of at most ``spinner_max_area`` of the image.
        """
        return self._spinner_in(window_s) is not None

    def spinner_box(self) -> Box | None:
        """(x, y, w, h) of the spinner turning now (over ``spin_window_s``), else None."""
        return self._spinner_in(self.spin_window_s)

    def _spinner_in(self, window_s: float) -> Box | None:
        if not window_s > 0:
            raise ValueError(f"window_s must be > 0, got {window_s!r}")
        if window_s > self.history_s:
            raise ValueError(f"window_s={window_s} s is longer than history_s={self.history_s} s")
        if self._first_t is None or self._last_t is None or not self._history:
            return None
        start = self._last_t - window_s
        # The window must be seen from its start: the oldest frame kept must predate it.
        if self._history[0].prev_t > start + 1e-9:
            return None
        pairs = moving = 0
        box: Box | None = None
        for entry in reversed(self._history):
            if entry.sample.t <= start + 1e-9:
                break
            if self.max_gap_s is not None and entry.sample.t - entry.prev_t > self.max_gap_s:
                return None
            pairs += 1
            if entry.sample.moving:
                moving += 1
                bbox = entry.sample.bbox
                assert bbox is not None
                box = bbox if box is None else _union(box, bbox)
        if box is None or pairs < self.spin_min_pairs or moving < self.spin_min_moving * pairs:
            return None
        size = self.detector.image_size
        assert size is not None
        if box[2] * box[3] > self.spinner_max_area * size[0] * size[1]:
            return None
        if max(box[2], box[3]) > self.spinner_max_aspect * max(1, min(box[2], box[3])):
            return None
        return box

    def _still_since(self, ignore_spinner: bool) -> float:
        assert self._first_t is not None
        marks = [self._first_t, self._blind_t]
        if ignore_spinner:
            marks += [self._last_other_t, self._dropped_other_t]
        else:
            marks.append(self._last_motion_t)
        return max(m for m in marks if m is not None)

    def _margin(self) -> int:
        size = self.detector.image_size
        return 2 if size is None else max(2, round(0.01 * size[1]))

    def _unexplained(self, sample: MotionSample) -> bool:
        if not sample.moving:
            return False
        if self._spinner is None or sample.bbox is None:
            return True
        return not _inside(sample.bbox, self._spinner, self._margin())

    def _learn_spinner(self) -> None:
        box = self._spinner_in(min(self.spin_window_s, self.history_s))
        if box is None:
            return
        old = self._spinner
        if old is not None and _inside(box, old, 0):
            return
        merged = box if old is None else _union(old, box)
        size = self.detector.image_size
        assert size is not None
        # Grow the known area while it still is one small spinner; else it moved: start over.
        if merged[2] * merged[3] > self.spinner_max_area * size[0] * size[1]:
            merged = box
        self._spinner = merged
        # The area changed: re-judge the kept samples (the spinner's first turns included).
        self._last_other_t = None
        for entry in reversed(self._history):
            if self._unexplained(entry.sample):
                self._last_other_t = entry.sample.t
                break

    def _drop_old(self) -> None:
        assert self._last_t is not None
        oldest = self._last_t - self.history_s
        while self._history and (
            self._history[0].sample.t < oldest or len(self._history) > self.max_samples
        ):
            entry = self._history.popleft()
            if self._unexplained(entry.sample):
                self._dropped_other_t = entry.sample.t
