"""Frame differencing on a rectified screen: did the content change since an earlier frame?

:class:`MotionDetector` compares each rectified screen image with the previous one and says
whether the screen content changed. The camera in between drifts (exposure, white balance,
flicker), adds sensor noise, blur, JPEG artefacts and a slowly wandering glare; none of that
may count as motion, while a new screen, a text line, a button or a spinner's arc moving by
about 20 degrees must. The recipe, on a small grey copy for speed:

1. photometric alignment: ``current ~ gain * previous + offset``, first a robust gain (median
   ratio), then least squares on the pixels that agree with it. Pixels where a colour channel
   clipped are left out (they follow no linear model). Gain and offset are bounded: a fit
   beyond the bounds is a change of the whole picture (backlight dimmed), not the camera;
2. the residual's noise, measured robustly (a low quantile of ``|residual|``, which holds while
   a quarter of the picture is unchanged, then the median of the inliers); a pixel changed when
   its residual exceeds ``noise_k`` times that noise (plus a bounded slack next to clipping);
3. changed pixels without changed neighbours are dropped (noise and JPEG speckle are isolated,
   a real change is a blob or a stroke), the ``ignore`` mask is left out, the rest counted;
4. when nothing changed since the previous frame, the same against a frame about
   ``lookback_s`` back (never one before the last motion): a slow fade adds up.

The rules over time (still for N seconds, a spinner) are harness/vision/motion.py's.
"""

from __future__ import annotations

import math
from collections import deque

import attrs
import cv2
import numpy as np

#: (x, y, w, h) in the input image's pixels.
Box = tuple[int, int, int, int]

# For a Gaussian, P(|Z| <= 0.3186) = 0.25: the 25 % quantile of |residual| divided by this is
# the noise sigma, and the estimate holds while at least a quarter of the pixels is unchanged.
_Q25_OF_ABS_NORMAL = 0.3186
# A channel at or beyond these levels may be clipped: its true value is unknown.
_CLIP_LO, _CLIP_HI = 5, 250
_KERNEL3 = np.ones((3, 3), np.uint8)


@attrs.frozen
class _Picture:
    """A frame's working copy: grey levels, and where a colour channel clipped."""

    t: float
    grey: np.ndarray
    #: True where a channel may have clipped (at or beyond _CLIP_LO / _CLIP_HI).
    clipped: np.ndarray


@attrs.frozen
class MotionSample:
    """What one frame showed compared with an earlier one (normally the one before it)."""

    #: The frame's timestamp (bench-clock seconds).
    t: float
    #: True when the screen content changed since the frame at ``ref_t``.
    moving: bool
    #: Changed part of the compared (not ignored) area, 0..1.
    changed_fraction: float
    #: Bounding box of the changed pixels in input pixels, None when nothing changed; the
    #: whole image when its brightness changed beyond any camera drift.
    bbox: Box | None
    #: Noise sigma of the residual (grey levels, working scale) the threshold was built on.
    noise: float = 0.0
    #: Photometric fit used: current ~ gain * reference + offset.
    gain: float = 1.0
    offset: float = 0.0
    #: Timestamp of the frame compared with (the previous one, or an older one for a change
    #: spread over several frames); None for a first frame.
    ref_t: float | None = None
    #: False for a first frame (nothing to compare with): never moving.
    compared: bool = True


def positive(_inst: object, attr: attrs.Attribute, value: float) -> None:
    if not value > 0:
        raise ValueError(f"{attr.name} must be > 0, got {value!r}")


def unit_fraction(_inst: object, attr: attrs.Attribute, value: float) -> None:
    if not 0 <= value <= 1:
        raise ValueError(f"{attr.name} must be within 0..1, got {value!r}")


def check_later(t: float, previous: float | None) -> float:
    t = float(t)
    if not math.isfinite(t):
        raise ValueError(f"frame time must be a finite number of seconds, got {t!r}")
    if previous is not None and t <= previous:
        raise ValueError(f"frame times must increase: got t={t!r} s after t={previous!r} s")
    return t


@attrs.define
class MotionDetector:
    """Frame-to-frame change detector for rectified screen images (same size for one detector).

    Thresholds are in grey levels of the working copy (input downscaled to ``work_width``).
    """

    #: A pixel changed when |residual| > noise_k * noise sigma. Under the bench camera model
    #: (noise sigma 6-8, JPEG 70, drift) false alarms appear from 4 down; 6 leaves margin for
    #: heavier-tailed real noise while a 10 degree spinner step still shows.
    noise_k: float = attrs.field(default=6.0, kw_only=True, validator=positive)
    #: Motion when more than this part of the compared area changed (after cleaning). 0.0005 is
    #: about 5 working pixels at 128x75: a 20 degree step of a 20 px spinner changes ~15.
    min_changed_fraction: float = attrs.field(default=0.0005, kw_only=True, validator=unit_fraction)
    #: Width of the working copy; wider inputs are area-downscaled (speed, and 2x2 averaging
    #: halves the sensor noise). 128 keeps a 20 px spinner at 10 px.
    work_width: int = attrs.field(default=128, kw_only=True, validator=positive)
    #: Bounds of the noise estimate (working grey levels). The floor stops a noiseless
    #: (emulated) picture from flagging rounding; the cap stops a picture that changed almost
    #: everywhere from raising its own threshold out of reach.
    min_noise: float = attrs.field(default=1.0, kw_only=True, validator=positive)
    max_noise: float = attrs.field(default=10.0, kw_only=True, validator=positive)
    #: Largest exposure step between two frames the fit may absorb. Two frames with 5 %
    #: Gaussian flicker each differ by up to ~1.35 (1 pair in 20000 on the camera model),
    #: hence 1.4. A fit beyond it or max_offset is motion of the whole picture (a backlight
    #: dimming to 70 % or less, the screen going dark).
    max_gain_step: float = attrs.field(default=1.4, kw_only=True)
    #: Largest additive offset the fit may absorb (grey levels; measured up to ~11).
    max_offset: float = attrs.field(default=25.0, kw_only=True)
    #: Below this grey-level spread the previous picture cannot pin down gain and offset
    #: separately (a blank screen): fit the gain alone.
    min_contrast: float = attrs.field(default=8.0, kw_only=True)
    #: Extra residual (grey levels) allowed next to clipped pixels, for JPEG ringing there.
    clip_slack: float = attrs.field(default=6.0, kw_only=True)
    #: A changed pixel survives when at least this many of its 8 neighbours changed too.
    min_neighbours: int = attrs.field(
        default=1, kw_only=True, validator=[attrs.validators.ge(0), attrs.validators.le(8)]
    )
    #: When the previous frame shows no change, also compare with the frame about this many
    #: seconds back (never one before the last motion, so one change is not counted twice):
    #: a change spread over many frames (a fade, at 30 frames/s) adds up and shows.
    #: None compares with the previous frame only (half the time on a still screen).
    lookback_s: float | None = attrs.field(
        default=0.5, kw_only=True, validator=attrs.validators.optional(positive)
    )

    # Frames since the last motion, the newest at most lookback_s apart from the oldest.
    _recent: deque[_Picture] = attrs.field(factory=deque, init=False, repr=False)
    _prev_t: float | None = attrs.field(default=None, init=False)
    _shape: tuple[int, int] | None = attrs.field(default=None, init=False)
    _work_size: tuple[int, int] = attrs.field(default=(0, 0), init=False)

    @max_gain_step.validator
    def _check_gain_step(self, _attr: attrs.Attribute, value: float) -> None:
        if not value >= 1:
            raise ValueError(f"max_gain_step must be >= 1, got {value!r}")

    def reset(self) -> None:
        """Forget the previous frames: the next one is a first frame again."""
        self._recent.clear()
        self._prev_t = None

    @property
    def image_size(self) -> tuple[int, int] | None:
        """(height, width) of the input images, once one was fed."""
        return self._shape

    def feed(self, image: np.ndarray, t: float, ignore: np.ndarray | None = None) -> MotionSample:
        """Compare ``image`` (BGR or grey uint8) taken at ``t`` with the previous frame(s).

        ``ignore``: a bool/uint8 mask of the image's size, True (non-zero) = not compared
        (a clock, a blinking cursor). Raises ValueError when ``t`` is not after the previous
        frame's time or the image size changed.
        """
        t = check_later(t, self._prev_t)
        cur = self._prepare(image, t)
        skip = self._ignored(ignore)
        self._prev_t = t
        recent = self._recent
        if not recent:
            recent.append(cur)
            return MotionSample(t, False, 0.0, None, compared=False)
        sample = self._compare(recent[-1], cur, skip)
        if not sample.moving and self.lookback_s is not None and len(recent) > 1:
            # Oldest kept frame: the newest one at least lookback_s old, or the motion frame.
            longer = self._compare(recent[0], cur, skip)
            if longer.moving:
                sample = longer
        if sample.moving or self.lookback_s is None:
            recent.clear()
        recent.append(cur)
        if self.lookback_s is not None:
            while len(recent) > 1 and recent[1].t <= t - self.lookback_s:
                recent.popleft()
        return sample

    def _prepare(self, image: np.ndarray, t: float) -> _Picture:
        image = np.asarray(image)
        if image.dtype != np.uint8 or image.ndim not in (2, 3):
            raise ValueError(f"expected a BGR or grey uint8 image, got {image.dtype} {image.shape}")
        shape = (int(image.shape[0]), int(image.shape[1]))
        if self._shape is None:
            scale = min(1.0, self.work_width / shape[1])
            self._work_size = (max(1, round(shape[1] * scale)), max(1, round(shape[0] * scale)))
            self._shape = shape
        elif shape != self._shape:
            raise ValueError(
                f"image size changed from {self._shape[1]}x{self._shape[0]} to "
                f"{shape[1]}x{shape[0]}; use one detector per screen size"
            )
        # Clipping is judged per channel at full size: a white that saturates in blue only,
        # or a working pixel averaged over clipped and unclipped ones, is no longer linear.
        if image.ndim == 2:
            grey, linear = image, cv2.inRange(image, _CLIP_LO + 1, _CLIP_HI - 1)
        else:
            grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
            linear = cv2.inRange(image, (_CLIP_LO + 1,) * 3, (_CLIP_HI - 1,) * 3)
        if self._work_size != (shape[1], shape[0]):
            grey = cv2.resize(grey, self._work_size, interpolation=cv2.INTER_AREA)
            linear = cv2.resize(linear, self._work_size, interpolation=cv2.INTER_AREA)
        # Grow the clipped part by a pixel: JPEG rings around a saturated area, blur spreads it.
        return _Picture(t, grey.astype(np.float32), cv2.erode(linear, _KERNEL3) < 255)

    def _ignored(self, ignore: np.ndarray | None) -> np.ndarray | None:
        if ignore is None:
            return None
        mask = np.asarray(ignore)
        if mask.shape[:2] != self._shape:
            raise ValueError(
                f"ignore mask is {mask.shape[1]}x{mask.shape[0]}, the image "
                f"{self._shape[1]}x{self._shape[0]}"
            )
        mask = (mask.reshape(self._shape) != 0).astype(np.uint8)
        if self._work_size != (self._shape[1], self._shape[0]):
            mask = cv2.resize(mask, self._work_size, interpolation=cv2.INTER_AREA)
        # Blur bleeds a masked change a pixel or so outwards: grow the mask by one pixel.
        mask = cv2.dilate(mask, _KERNEL3)
        return mask != 0

    def _compare(
        self, prev_pic: _Picture, cur_pic: _Picture, skip: np.ndarray | None
    ) -> MotionSample:
        t, ref_t = cur_pic.t, prev_pic.t
        prev, cur = prev_pic.grey, cur_pic.grey
        clipped = prev_pic.clipped | cur_pic.clipped
        if skip is None:
            n_valid, linear = prev.size, ~clipped
        else:
            n_valid, linear = prev.size - int(np.count_nonzero(skip)), ~(clipped | skip)
        if n_valid == 0:
            return MotionSample(t, False, 0.0, None, ref_t=ref_t)
        # Clipped pixels follow no linear model: fit and noise come from the others.
        p, c = prev[linear], cur[linear]
        beyond = False  # the camera cannot explain the brightness change
        if p.size < 0.05 * n_valid or p.size < 16:
            # Almost all clipped (a saturated blank screen): no noise to measure, be cautious.
            gain, offset, noise = 1.0, 0.0, self.max_noise
        else:
            # First a gain alone, as the median ratio: it holds while under half the pixels
            # changed (least squares would bend towards a new button). A frame-to-frame offset
            # is small (the black level stays; only g * black - black moves).
            gain, offset = self._median_gain(p, c), 0.0
            r = c - gain * p
            noise = self._noise(r)
            # Then least squares on the pixels that did not change: gain and offset.
            keep = np.abs(r) <= self.noise_k * noise
            if keep.sum() >= 16:
                p, c = p[keep], c[keep]
                gain, offset, beyond = self._fit(p, c)
                noise = self._noise(c - (gain * p + offset), inliers=True)
        if beyond:
            # The whole picture got brighter or darker than exposure drift and flicker can
            # make it (a backlight dimming, the screen going dark): motion everywhere.
            height, width = self._shape or (0, 0)
            return MotionSample(t, True, 1.0, (0, 0, width, height), noise, gain, offset, ref_t)
        threshold = self.noise_k * noise
        residual = prev * gain
        residual += offset
        np.clip(residual, 0.0, 255.0, out=residual)
        np.subtract(cur, residual, out=residual)
        np.abs(residual, out=residual)
        # Near clipping the fit cannot hold: a clipped part of a working pixel followed the
        # camera's gain and offset change only partly. That error is at most the change itself,
        # |gain - 1| * 255 + |offset|, plus JPEG ringing: allow that much more there.
        slack = abs(gain - 1.0) * 255.0 + abs(offset) + self.clip_slack
        np.subtract(residual, slack, out=residual, where=clipped)
        changed = residual > threshold
        if skip is not None:
            changed &= ~skip
        changed = changed.view(np.uint8)
        # Remove isolated pixels: count changed neighbours (3x3 sum includes the pixel itself).
        neighbours = cv2.boxFilter(changed, -1, (3, 3), normalize=False)
        changed &= (neighbours > self.min_neighbours).view(np.uint8)
        count = int(np.count_nonzero(changed))
        fraction = count / n_valid
        moving = fraction > self.min_changed_fraction
        bbox = self._to_input_box(cv2.boundingRect(changed)) if count else None
        return MotionSample(t, moving, fraction, bbox, noise, gain, offset, ref_t)

    def _fit(self, p: np.ndarray, c: np.ndarray) -> tuple[float, float, bool]:
        """Least squares ``c ~ gain * p + offset``, bounded; True when a bound was hit."""
        lo, hi = 1.0 / self.max_gain_step, self.max_gain_step
        n = p.size
        mp, mc = float(p.sum()) / n, float(c.sum()) / n
        dp = p - mp
        var = float(np.dot(dp, dp)) / n
        if var >= self.min_contrast**2:
            raw = float(np.dot(dp, c)) / n / var
            gain = min(hi, max(lo, raw))
            raw_offset = mc - gain * mp
            offset = min(self.max_offset, max(-self.max_offset, raw_offset))
            return gain, offset, gain != raw or offset != raw_offset
        # Flat picture: the offset is not identifiable, a gain is (exposure is a gain).
        raw = mc / mp if mp > 1 else 1.0
        gain = min(hi, max(lo, raw))
        return gain, 0.0, gain != raw

    def _median_gain(self, p: np.ndarray, c: np.ndarray) -> float:
        """Median of c / p over bright pixels, to 0.25 % (least squares refines it next)."""
        lo, hi = 1.0 / self.max_gain_step, self.max_gain_step
        bright = p >= 32  # dark pixels give noisy ratios
        if np.count_nonzero(bright) < 16:
            return 1.0
        ratio = c[bright] / p[bright]
        # A histogram median: np.median sorts, five times slower at this size. Ratios beyond
        # the bounds land in the end bins and clamp there.
        step = 0.0025
        n_bins = int((hi - lo) / step) + 1
        bins = np.clip((ratio - lo) * (1 / step), 0, n_bins - 1).astype(np.intp)
        counts = np.cumsum(np.bincount(bins, minlength=n_bins))
        return min(hi, lo + (int(np.searchsorted(counts, 0.5 * ratio.size)) + 0.5) * step)

    def _noise(self, residual: np.ndarray, *, inliers: bool = False) -> float:
        # Inliers were already cut at noise_k sigma: their median is safe and steadier than a
        # low quantile. Quantiles come from a 1/8 grey level histogram (np.partition is 5x
        # slower here); anything beyond the cap lands in the last bin, which is never read.
        q, scale = (0.5, 0.6745) if inliers else (0.25, _Q25_OF_ABS_NORMAL)
        top = int(8 * self.max_noise) + 1
        bins = np.minimum(np.abs(residual) * 8, top).astype(np.intp)
        counts = np.cumsum(np.bincount(bins, minlength=top + 1))
        level = int(np.searchsorted(counts, q * residual.size)) + 0.5
        return min(self.max_noise, max(self.min_noise, level / 8 / scale))

    def _to_input_box(self, rect: tuple[int, int, int, int]) -> Box:
        assert self._shape is not None
        height, width = self._shape
        sx, sy = width / self._work_size[0], height / self._work_size[1]
        x, y, w, h = rect
        x0, y0 = int(x * sx), int(y * sy)
        x1, y1 = min(width, math.ceil((x + w) * sx)), min(height, math.ceil((y + h) * sy))
        return (x0, y0, x1 - x0, y1 - y0)
