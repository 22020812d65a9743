"""What a camera sees of an emulated reader's screen.

On an emulated bench the screen renderer gives the reader's screen as a clean BGR image.
The vision code (screen finding, state classification, motion detection) must not be tested
on such perfect pictures only, so :class:`CameraModel` turns a screen into a camera frame:
the screen sits in the reader's housing on a cluttered bench, seen in perspective from a
camera pose fixed per model (a bench camera) or from a wider range of angles (a hand-held
photo), with slowly drifting exposure and white balance, a glare blob on the glass, defocus,
sensor noise and a JPEG round trip.

Everything is deterministic: the pose and the scene come from the seed, time-varying effects
are smooth functions of the frame's time ``t``, and per-frame randomness (noise, flicker, JPEG
quality) comes from ``(seed, bumps, frame number, t)``, so a replayed run gives the same frames.
"""

from __future__ import annotations

import collections
import math
import threading
from collections.abc import Sequence
from typing import Any

import attrs
import cv2
import numpy as np

from harness.emulation.desk_effects import DeskCamera
from harness.emulation.lamps import LampState, draw_lamps

_FIXED_POINT_NOISE = 32  # the noise tile holds |N(0,1)| * 32 as uint8 (and the sign apart)
_FIXED_POINT_SIGMA_MAX = 64  # the sigma map holds sigma * F as uint8, F <= 64 so sigma fits
_NOISE_PAD = (64, 192)  # rows, columns (of interleaved BGR) of random offsets into the tile
#: Gains are applied as uint8 codes times one float scale (the largest gain is code 255); if
#: a channel's code would fall below this (gains more than 1.27x apart, only with extreme
#: white balance drift) the exact 3-channel LUT is used instead.
_GAIN_CODE_MIN = 200
#: A screen shrunk below this scale is low-pass filtered first: plain bilinear sampling
#: aliases thin lines when the image gets smaller, which a real lens and sensor never do.
_SHRINK_SCALE = 0.8


def _check_range(low_min: float, high_max: float | None = None) -> Any:
    def check(_: Any, attribute: attrs.Attribute, value: tuple[float, float]) -> None:
        low, high = value
        if not low_min <= low <= high or (high_max is not None and high > high_max):
            limit = f" <= {high_max}" if high_max is not None else ""
            raise ValueError(
                f"CameraEffects.{attribute.name}: need {low_min} <= low <= high{limit}, got {value}"
            )

    return check


def _check_level(low: float, high: float) -> Any:
    def check(_: Any, attribute: attrs.Attribute, value: float) -> None:
        if not low <= value < high:
            raise ValueError(
                f"CameraEffects.{attribute.name}: need {low} <= value < {high}, got {value}"
            )

    return check


def _pair(kind: type) -> Any:
    def convert(value: Any) -> tuple[Any, Any]:
        low, high = value
        return kind(low), kind(high)

    return convert


def _optional_quality(value: Any) -> tuple[int, int] | None:
    return None if value is None else _pair(int)(value)


def _check_quality(_: Any, attribute: attrs.Attribute, value: tuple[int, int] | None) -> None:
    if value is not None and not 1 <= value[0] <= value[1] <= 100:
        raise ValueError(
            f"CameraEffects.{attribute.name}: need 1 <= low <= high <= 100 or None, got {value}"
        )


def _check_levels(_: Any, attribute: attrs.Attribute, value: tuple[int, int]) -> None:
    if not 0 <= value[0] < value[1] <= 255:
        raise ValueError(
            f"CameraEffects.{attribute.name}: need 0 <= black < white <= 255, got {value}"
        )


@attrs.frozen
class CameraEffects:
    """How imperfect the camera is. Ranges are sampled per camera (blur, read noise) or per
    frame (JPEG quality); drifts are peak relative changes. The defaults are a realistic
    bench webcam: something the vision code must cope with, not a torture test."""

    #: Optical defocus (Gaussian sigma, px in the output frame), one value per pose: a fixed
    #: focus that is never perfect; 1 px softens text edges like a cheap webcam's lens.
    blur_sigma: tuple[float, float] = attrs.field(
        default=(0.6, 1.3), converter=_pair(float), validator=_check_range(0.0, 20.0)
    )
    #: Read noise (DN, 0-255 scale), one value per camera; 1-2.5 DN is a webcam in office light.
    noise_sigma: tuple[float, float] = attrs.field(
        default=(1.0, 2.5), converter=_pair(float), validator=_check_range(0.0, 30.0)
    )
    #: Shot noise: sigma = shot_noise * sqrt(signal DN), added in quadrature to the read
    #: noise; 0.15 gives 2.4 DN on white, so bright screens are noisier than dark ones.
    shot_noise: float = attrs.field(default=0.15, converter=float, validator=_check_level(0, 2))
    #: Peak relative change of the exposure gain over time (0.15 = +-15 %): auto exposure
    #: reacting to people walking by and daylight, with periods of tens of seconds.
    exposure_drift: float = attrs.field(
        default=0.15, converter=float, validator=_check_level(0, 0.9)
    )
    #: Peak change of the blue and red gains (auto white balance hunting), relative to green.
    white_balance_drift: float = attrs.field(
        default=0.05, converter=float, validator=_check_level(0, 0.9)
    )
    #: Peak per-frame random gain change (mains flicker, auto exposure steps): motion
    #: detection must not fire on it.
    flicker: float = attrs.field(default=0.01, converter=float, validator=_check_level(0, 0.5))
    #: Peak brightness (DN) added by a soft glare blob (a ceiling lamp's reflection) on the
    #: reader's glass; it drifts slowly over the screen.
    glare: float = attrs.field(default=35.0, converter=float, validator=_check_level(0, 256))
    #: JPEG quality range of the round trip (MJPEG webcams); None: no JPEG.
    jpeg_quality: tuple[int, int] | None = attrs.field(
        default=(75, 92), converter=_optional_quality, validator=_check_quality
    )
    #: What the camera sees of a black and a white screen pixel: an LCD's black leaks
    #: backlight and auto exposure leaves headroom above white.
    screen_levels: tuple[int, int] = attrs.field(
        default=(18, 235), converter=_pair(int), validator=_check_levels
    )

    #: The pose's roll range is at least +-this (degrees; the bench's own is 5, a hand's 20).
    roll: float = attrs.field(default=0.0, converter=float, validator=_check_level(0, 45))
    #: Moiré: peak DN of low-contrast bands over the screen (the display's pixel grid against
    #: the sensor's), one period (5-28 px) and angle per camera; 0: none.
    moire: float = attrs.field(default=0.0, converter=float, validator=_check_level(0, 64))
    #: A small hot spot (a lamp's sharp reflection) on the glass: peak DN, clipping at its
    #: middle when the screen is bright; 0: none. Drifts over the screen like the glare.
    glare_spot: float = attrs.field(default=0.0, converter=float, validator=_check_level(0, 256))
    #: Linear motion blur: length range (px), one length and direction per frame.
    motion_blur: tuple[float, float] = attrs.field(
        default=(0.0, 0.0), converter=_pair(float), validator=_check_range(0.0, 30.0)
    )
    #: The camera's own exposure gain and tone curve (gamma), one value of each per camera.
    gain: tuple[float, float] = attrs.field(
        default=(1.0, 1.0), converter=_pair(float), validator=_check_range(0.1, 4.0)
    )
    gamma: tuple[float, float] = attrs.field(
        default=(1.0, 1.0), converter=_pair(float), validator=_check_range(0.2, 5.0)
    )
    #: Light falloff in the frame's corners (0.4: corners at 60 %); 0: none.
    vignetting: float = attrs.field(default=0.0, converter=float, validator=_check_level(0, 0.9))
    #: The part of frames where a finger holds the reader's edge: over the bezel, its tip at
    #: most a little into the screen.
    finger: float = attrs.field(default=0.0, converter=float, validator=_check_level(0, 1.01))

    @property
    def desk(self) -> bool:
        """Any of the desk conditions (harness/emulation/desk_effects.py) asked for."""
        return bool(self.moire or self.glare_spot or self.motion_blur[1] or self.vignetting
                    or self.finger or self.gain != (1.0, 1.0) or self.gamma != (1.0, 1.0))

    @classmethod
    def harsh(cls) -> CameraEffects:
        """A photo on an ordinary desk at the extremes the recogniser must hold on: roll to
        8 degrees, moiré of a few DN, a hot spot up to +110, motion blur to 7 px, defocus to
        sigma 2, JPEG down to 40, gain 0.65-1.25, gamma 0.8-1.25, vignetting, a finger at
        the edge in a third of the frames, the desk's clutter."""
        return cls(
            blur_sigma=(0.6, 2.0),
            jpeg_quality=(40, 92),
            roll=8.0,
            moire=6.0,
            glare_spot=110.0,
            motion_blur=(0.0, 7.0),
            gain=(0.65, 1.25),
            gamma=(0.8, 1.25),
            vignetting=0.35,
            finger=0.35,
        )

    @classmethod
    def none(cls) -> CameraEffects:
        """An ideal camera: only the scene and the perspective, for exact tests."""
        return cls(
            blur_sigma=(0, 0),
            noise_sigma=(0, 0),
            shot_noise=0,
            exposure_drift=0,
            white_balance_drift=0,
            flicker=0,
            glare=0,
            jpeg_quality=None,
            screen_levels=(0, 255),
        )


@attrs.frozen(eq=False)
class Capture:
    """One camera frame and where the screen is in it."""

    #: BGR uint8, frame_size.
    image: np.ndarray
    #: float32 (4, 2): where the input screen's corners tl, tr, br, bl landed in the frame:
    #: the screen points (0,0), (W,0), (W,H), (0,H) in OpenCV's pixel-centre convention, so
    #: ``cv2.getPerspectiveTransform(quad, those four points)`` is exactly the inverse of the
    #: camera's homography. Ground truth for the vision code's tests.
    quad: np.ndarray


@attrs.frozen
class _Pose:
    """Where the camera is, as the things a person would vary."""

    frac: float  # screen's bounding-box width / frame width
    yaw: float  # degrees
    pitch: float
    roll: float
    cx: float  # where the screen's centre lands, as a fraction of the frame's width/height
    cy: float
    hfov: float  # horizontal field of view, degrees


@attrs.frozen
class _PoseRanges:
    frac: tuple[float, float]
    tilt: float  # max |yaw|, |pitch|
    roll: float
    centre: float  # max offset of the screen's centre from the frame's centre (fraction)
    hfov: tuple[float, float]
    housing_in_frame: bool  # a bench camera is set up to see the whole reader


_BENCH = _PoseRanges((0.35, 0.60), 15.0, 5.0, 0.10, (55.0, 75.0), True)
_HAND_HELD = _PoseRanges((0.25, 0.70), 35.0, 20.0, 0.16, (60.0, 75.0), False)


@attrs.frozen(eq=False)
class _Housing:
    """The reader's front face, drawn in screen-pixel units (object plane, z = 0)."""

    image: np.ndarray  # BGR
    alpha: np.ndarray  # uint8, 255 inside the rounded outline
    origin: tuple[int, int]  # where screen pixel (0, 0) is in ``image``
    outline: np.ndarray  # (N, 2) rounded outline in screen coordinates
    depth: float  # body thickness, screen px
    side_colour: tuple[float, float, float]


_Rect = tuple[int, int, int, int]  # x0, y0, x1, y1 (exclusive)


@attrs.define(eq=False)
class _View:
    """Everything static for one pose and screen size, built once, and the frame composed
    for the last screen shown: kept while the screen stays, updated where it changes."""

    quad: np.ndarray
    #: the frame's patch: the screen's bounding box grown by twice the blur kernel's radius
    #: (composed, then blurred: its outer ring only feeds the blur) ...
    patch: _Rect
    #: ... and its part grown by one radius, which is exact after blurring the patch
    keep: _Rect
    #: in the patch: the screen's bounding box, where the screen is resampled ...
    screen_box: _Rect
    #: ... with fixed-point cv2.remap maps (CV_16SC2, CV_16UC1) from screen_box to screen,
    #: and where the screen is drawn (255; elsewhere the scene stays): where the bilinear
    #: neighbourhood's top left pixel is on the screen. That and BORDER_REPLICATE is what
    #: BORDER_TRANSPARENT does, but a bit faster.
    maps: tuple[np.ndarray, np.ndarray]
    inside: np.ndarray
    to_box: np.ndarray  # homography screen -> screen_box (where a screen change lands)
    #: Gaussian sigma (screen px) of the anti-aliasing filter for a shrunk screen; 0: none
    prefilter: float
    blur: float
    glass: np.ndarray  # uint8 0..255, where glare can appear
    #: the last screen (a copy; None before the first frame), through the screen levels and
    #: the anti-aliasing filter, composed into the scene (bench + housing, screen area dark)
    #: in the patch, and blurred into the frame: the frame through the lens before gains,
    #: glare and noise ...
    screen: np.ndarray | None
    filtered: np.ndarray
    patch_raw: np.ndarray
    frame: np.ndarray
    warped: np.ndarray  # scratch space for resampling, screen_box's size
    #: ... and its read + shot noise sigma per sample (interleaved BGR, uint8 fixed point),
    #: or None for a noiseless camera
    sigma: np.ndarray | None
    #: Where the frame goes through the JPEG round trip: the reader (housing, its sides and
    #: lamps) and a band of the bench around it, on the codec's 16 px blocks.
    jpeg_box: _Rect = (0, 0, 0, 0)


#: The band of bench around the reader that goes through the JPEG round trip, in pixels.
_JPEG_BAND = 48


def _jpeg_box(points: np.ndarray, frame: tuple[int, int]) -> _Rect:
    """The bounding box of ``points`` grown by :data:`_JPEG_BAND`, on 16 px blocks, in the
    frame."""
    fw, fh = frame
    x0, y0 = (max(0, (math.floor(v) - _JPEG_BAND) // 16 * 16) for v in points.min(axis=0))
    x1, y1 = (min(n, -(-(math.ceil(v) + _JPEG_BAND) // 16) * 16)
              for v, n in zip(points.max(axis=0), (fw, fh), strict=True))
    return x0, y0, x1, y1


def _kernel_radius(sigma: float) -> int:
    """At least the radius of cv2.GaussianBlur's kernel on uint8 (3 sigma), 0 if no blur."""
    return math.ceil(3 * sigma) + 1 if sigma > 0 else 0


def _grow(rect: _Rect, by: int, bounds: _Rect) -> _Rect:
    x0, y0, x1, y1 = rect
    bx0, by0, bx1, by1 = bounds
    return max(bx0, x0 - by), max(by0, y0 - by), min(bx1, x1 + by), min(by1, y1 + by)


def _shift(rect: _Rect, dx: int, dy: int) -> _Rect:
    return rect[0] + dx, rect[1] + dy, rect[2] + dx, rect[3] + dy


def _sub(image: np.ndarray, rect: _Rect) -> np.ndarray:
    return image[rect[1] : rect[3], rect[0] : rect[2]]


def _changes(old: np.ndarray, new: np.ndarray) -> list[_Rect]:
    """Rectangles covering the pixels where two screens differ: one per band of changed
    rows (a clock in the header and a spinner in the middle are two small rectangles)."""
    rows, cols = old.shape[:2]
    diff = cv2.absdiff(old, new).reshape(rows, cols * 3)
    changed = np.flatnonzero(cv2.reduce(diff, 1, cv2.REDUCE_MAX).ravel())
    if changed.size == 0:
        return []
    bands = np.split(changed, np.flatnonzero(np.diff(changed) > 16) + 1)
    if len(bands) > 8:  # scattered: one rectangle around everything
        bands = [changed]
    rects = []
    for band in bands:
        y0, y1 = int(band[0]), int(band[-1]) + 1
        x, _, width, _ = cv2.boundingRect(diff[y0:y1])
        rects.append((x // 3, y0, (x + width + 2) // 3, y1))
    return rects


def _rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    y, p, r = np.radians([yaw, pitch, roll])
    ry = np.array([[math.cos(y), 0, math.sin(y)], [0, 1, 0], [-math.sin(y), 0, math.cos(y)]])
    rx = np.array([[1, 0, 0], [0, math.cos(p), -math.sin(p)], [0, math.sin(p), math.cos(p)]])
    rz = np.array([[math.cos(r), -math.sin(r), 0], [math.sin(r), math.cos(r), 0], [0, 0, 1]])
    return rz @ rx @ ry


def _project(h: np.ndarray, points: np.ndarray) -> np.ndarray:
    p = np.c_[points, np.ones(len(points))] @ h.T
    return p[:, :2] / p[:, 2:3]


def _translation(dx: float, dy: float) -> np.ndarray:
    return np.array([[1.0, 0, dx], [0, 1, dy], [0, 0, 1]])


class _Camera:
    """Pinhole camera looking at the reader: homographies of planes parallel to its face."""

    def __init__(self, pose: _Pose, screen: tuple[int, int], frame: tuple[int, int]) -> None:
        (w, h), (fw, fh) = screen, frame
        f = (fw / 2) / math.tan(math.radians(pose.hfov) / 2)
        self.k = np.array([[f, 0, (fw - 1) / 2], [0, f, (fh - 1) / 2], [0, 0, 1]])
        self.r = _rotation(pose.yaw, pose.pitch, pose.roll)
        # Object coordinates: screen pixels, origin at the screen's centre, z away from the
        # camera (the reader's back is at +z). Start on the optical axis, then solve for the
        # distance giving the wanted width and the shift putting the centre where wanted.
        self.centre = _translation(-w / 2, -h / 2)
        corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], float)
        target = np.array([pose.cx * fw, pose.cy * fh])
        self.t = np.array([0.0, 0.0, f * w / (pose.frac * fw)])
        for _ in range(6):
            width = np.ptp(_project(self.plane(), corners)[:, 0])
            self.t[2] *= width / (pose.frac * fw)
            self.t[:2] = (target - self.k[:2, 2]) * self.t[2] / f

    def plane(self, z: float = 0.0) -> np.ndarray:
        """Homography from screen coordinates on the plane at depth z to the frame."""
        m = np.c_[self.r[:, 0], self.r[:, 1], self.r[:, 2] * z + self.t]
        return self.k @ m @ self.centre


def _inside(points: np.ndarray, frame: tuple[int, int], margin: float) -> bool:
    fw, fh = frame
    x, y = points[:, 0], points[:, 1]
    return bool(
        (x >= margin).all()
        and (x <= fw - 1 - margin).all()
        and (y >= margin).all()
        and (y <= fh - 1 - margin).all()
    )


def _warp(src: np.ndarray, h: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """warpPerspective that shrinks with INTER_AREA first: plain linear warping aliases
    thin lines when the image gets smaller, which a real lens and sensor never do."""
    src, h = _shrink_for(src, h)
    return cv2.warpPerspective(src, h, size, flags=cv2.INTER_LINEAR)


def _screen_scale(shape: tuple[int, ...], h: np.ndarray) -> float:
    """How much ``h`` magnifies an image of ``shape`` on average (sqrt of the area ratio)."""
    rows, cols = shape[:2]
    corners = np.array([[0, 0], [cols, 0], [cols, rows], [0, rows]], float)
    area = cv2.contourArea(_project(h, corners).astype(np.float32))
    return math.sqrt(area / (rows * cols))


def _shrink_size(shape: tuple[int, ...], h: np.ndarray) -> tuple[int, int] | None:
    rows, cols = shape[:2]
    scale = _screen_scale(shape, h)
    if scale > _SHRINK_SCALE:
        return None
    return max(2, round(cols * scale)), max(2, round(rows * scale))


def _shrunk_homography(shape: tuple[int, ...], size: tuple[int, int], h: np.ndarray) -> np.ndarray:
    # resize maps pixel centres x -> (x + 0.5) * s - 0.5
    sx, sy = size[0] / shape[1], size[1] / shape[0]
    s = np.array([[sx, 0, 0.5 * sx - 0.5], [0, sy, 0.5 * sy - 0.5], [0, 0, 1]])
    return h @ np.linalg.inv(s)


def _shrink_for(src: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    size = _shrink_size(src.shape, h)
    if size is None:
        return src, h
    return cv2.resize(src, size, interpolation=cv2.INTER_AREA), _shrunk_homography(
        src.shape, size, h
    )


def _rng(*key: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([*key]))


_TAG = {"pose": 1, "bench": 2, "housing": 3, "drift": 4, "sensor": 5, "frame": 6, "focus": 7,
        "desk": 8, "desk_frame": 9}


def _t_key(t: float) -> int:
    return int(np.float64(t).view(np.uint64))


_noise_tiles: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}


def _noise_tile(rows: int, cols: int) -> tuple[np.ndarray, np.ndarray]:
    """A shared, read-only tile of N(0,1) larger than a frame, as |N| * 32 (uint8) and a
    mask that is 255 where N > 0: each frame reads it at a random offset (and sign). Drawing
    6 M normals per frame costs ~100 ms; the split keeps all per-frame arithmetic in uint8,
    which OpenCV vectorises (mixed int16/uint8 arithmetic is several times slower)."""
    tile = _noise_tiles.get((rows, cols))
    if tile is None:
        normal = np.random.default_rng(20240601).standard_normal(
            (rows + _NOISE_PAD[0], cols + _NOISE_PAD[1]), dtype=np.float32
        )
        magnitude = np.minimum(np.rint(np.abs(normal) * _FIXED_POINT_NOISE), 255)
        tile = magnitude.astype(np.uint8), np.where(normal > 0, 255, 0).astype(np.uint8)
        for part in tile:
            part.flags.writeable = False
        _noise_tiles[(rows, cols)] = tile
    return tile


def _rotated_rect(img: np.ndarray, centre: Any, size: Any, angle: float, colour: Any) -> None:
    box = cv2.boxPoints((tuple(map(float, centre)), tuple(map(float, size)), float(angle)))
    cv2.fillConvexPoly(img, np.rint(box * 16).astype(np.int32), colour, cv2.LINE_AA, 4)


#: Bench canvases drawn in this process, by (seed, rows, cols): the same seed draws the same
#: desk, and drawing one takes ~0.5 s (a test run opens the same cameras many times).
_CANVASES: collections.OrderedDict[tuple[int, int, int], np.ndarray] = collections.OrderedDict()
_CANVASES_KEPT = 12
_CANVASES_LOCK = threading.Lock()


def _bench_canvas(seed: int, rows: int, cols: int) -> np.ndarray:
    """The desk seen by the camera of ``seed`` (read-only: shared by every model of it)."""
    key = (seed, rows, cols)
    with _CANVASES_LOCK:
        canvas = _CANVASES.get(key)
        if canvas is not None:
            _CANVASES.move_to_end(key)
            return canvas
    canvas = _render_bench(_rng(seed, _TAG["bench"]), rows, cols)
    canvas.flags.writeable = False
    with _CANVASES_LOCK:
        _CANVASES[key] = canvas
        while len(_CANVASES) > _CANVASES_KEPT:
            _CANVASES.popitem(last=False)
    return canvas


def _render_bench(rng: np.random.Generator, rows: int, cols: int) -> np.ndarray:
    """The bench surface and its clutter: uneven light, grain, papers (nearly as bright as a
    white screen), a keyboard (a grid of small quads), cables, notes, a mug."""
    palettes = [(150, 150, 146), (64, 98, 140), (90, 90, 95), (172, 176, 178), (96, 128, 158)]
    base = np.array(palettes[rng.integers(len(palettes))], np.float32) * rng.uniform(0.9, 1.1, 3)
    light = cv2.resize(
        rng.uniform(0.72, 1.08, (3, 5)).astype(np.float32), (cols, rows), cv2.INTER_CUBIC
    )
    grain = rng.standard_normal((max(2, rows // 6), max(2, cols // 48)), dtype=np.float32)
    fine = rng.standard_normal((max(2, rows // 2), max(2, cols // 2)), dtype=np.float32)
    texture = cv2.resize(grain, (cols, rows)) * 5 + cv2.resize(fine, (cols, rows)) * 3
    img = base[None, None, :] * light[..., None] + texture[..., None]
    img = np.clip(img, 0, 255).astype(np.uint8)

    scale = cols / 1000  # object sizes follow the canvas
    # a keyboard: dark body, a grid of lighter keys (many small quads)
    kw, kh = rng.uniform(300, 420) * scale, rng.uniform(100, 140) * scale
    kx, ky = rng.uniform(0.2, 0.8) * cols, rng.choice([0.12, 0.9]) * rows
    angle = rng.uniform(-8, 8)
    _rotated_rect(img, (kx, ky), (kw, kh), angle, (38, 38, 40))
    rot = cv2.getRotationMatrix2D((0, 0), -angle, 1)[:, :2]
    for i in range(12):
        for j in range(4):
            off = rot @ np.array([(i - 5.5) * kw / 13, (j - 1.5) * kh / 5])
            _rotated_rect(img, (kx + off[0], ky + off[1]), (kw / 16, kh / 7), angle, (70, 70, 74))
    # paper sheets, smaller than the screen and a little dimmer than a white one: brightness
    # alone must not find the screen; at least one sheet lies well left or right of the reader
    for n in range(rng.integers(2, 4)):
        side = rng.choice([0.08, 0.92]) if n == 0 else rng.uniform(0.05, 0.95)
        pw = rng.uniform(90, 150) * scale
        centre = (side * cols, rng.uniform(0.2, 0.8) * rows)
        angle = rng.uniform(-40, 40)
        paper = tuple(rng.uniform(175, 205) + rng.uniform(-6, 6, 3))
        _rotated_rect(img, centre, (pw, pw * 1.41), angle, paper)
        rot = cv2.getRotationMatrix2D((0, 0), -angle, 1)[:, :2]
        for line in range(rng.integers(4, 9)):  # printed text lines
            off = rot @ np.array([0, (line - 4) * pw * 0.12])
            length = pw * rng.uniform(0.4, 0.75)
            _rotated_rect(img, np.add(centre, off), (length, pw * 0.03), angle, (110, 110, 110))
    # sticky notes, a card, a pen, a mug seen from above, cables
    for _ in range(rng.integers(2, 5)):
        colour = [(90, 225, 240), (180, 140, 250), (120, 240, 140)][rng.integers(3)]
        size = rng.uniform(40, 60) * scale
        centre = (rng.uniform(0, cols), rng.uniform(0, rows))
        _rotated_rect(img, centre, (size, size), rng.uniform(-30, 30), colour)
    _rotated_rect(
        img,
        (rng.uniform(0, cols), rng.uniform(0, rows)),
        (86 * scale, 54 * scale),
        rng.uniform(-90, 90),
        (215, 205, 225),
    )
    _rotated_rect(
        img,
        (rng.uniform(0, cols), rng.uniform(0, rows)),
        (140 * scale, 9 * scale),
        rng.uniform(-90, 90),
        (160, 60, 30),
    )
    mug = (int(rng.uniform(0, cols)), int(rng.uniform(0, rows)))
    cv2.circle(img, mug, int(45 * scale), (235, 235, 235), -1, cv2.LINE_AA)
    cv2.circle(img, mug, int(36 * scale), (40, 60, 90), -1, cv2.LINE_AA)
    for _ in range(rng.integers(1, 3)):  # cables: smooth random curves
        heading = np.cumsum(rng.normal(0, 0.25, 40)) + rng.uniform(0, 2 * math.pi)
        steps = np.c_[np.cos(heading), np.sin(heading)] * 25 * scale
        points = np.cumsum(steps, axis=0) + (rng.uniform(0, cols), rng.uniform(0, rows))
        colour = (20, 20, 22) if rng.random() < 0.6 else (225, 225, 225)
        cv2.polylines(
            img,
            [np.rint(points * 16).astype(np.int32)],
            False,
            colour,
            max(2, int(6 * scale)),
            cv2.LINE_AA,
            4,
        )
    return img


def _rounded_outline(x0: float, y0: float, x1: float, y1: float, radius: float) -> np.ndarray:
    corners = [
        (x1 - radius, y0 + radius, -90),
        (x1 - radius, y1 - radius, 0),
        (x0 + radius, y1 - radius, 90),
        (x0 + radius, y0 + radius, 180),
    ]
    points = []
    for cx, cy, start in corners:
        for a in np.radians(np.linspace(start, start + 90, 7)):
            points.append((cx + radius * math.cos(a), cy + radius * math.sin(a)))
    return np.array(points)


def _render_housing(rng: np.random.Generator, w: int, h: int) -> _Housing:
    """The reader's front: a dark body well larger than the screen, a thin glossy bezel, the
    face camera above the screen, a logo plate, an LED and a card-placement mark below."""
    u = max(w, h)
    side, top, bottom = round(0.055 * u), round(0.11 * u), round(0.2 * u)
    hw, hh = w + 2 * side, h + top + bottom
    grey = rng.uniform(28, 58)
    body = np.array([grey, grey, grey]) * rng.uniform(0.95, 1.05, 3)
    shade = np.linspace(10, -8, hh)[:, None]  # lit from above
    column = np.clip(body[None, :] + shade + 0.5, 0, 255).astype(np.uint8)
    img = cv2.resize(column[:, None, :], (hw, hh), interpolation=cv2.INTER_NEAREST)
    outline = _rounded_outline(0, 0, hw - 1, hh - 1, 0.035 * u)
    alpha = np.zeros((hh, hw), np.uint8)
    pts16 = np.rint(outline * 16).astype(np.int32)
    cv2.fillPoly(alpha, [pts16], 255, cv2.LINE_AA, 4)
    # a lighter chamfer along the edge: the housing's outline is a crisp (rounded) quad too
    edge = tuple(float(c) + 35 for c in body)
    cv2.polylines(img, [pts16], True, edge, max(2, round(0.004 * u)), cv2.LINE_AA, 4)
    bezel = max(2, round(0.012 * u))
    cv2.rectangle(
        img, (side - bezel, top - bezel), (side + w + bezel, top + h + bezel), (14, 14, 16), -1
    )
    cv2.rectangle(img, (side, top), (side + w - 1, top + h - 1), (6, 6, 6), -1)
    lens = (hw // 2, top // 2)
    cv2.circle(img, lens, round(0.02 * u), (60, 60, 62), -1, cv2.LINE_AA)
    cv2.circle(img, lens, round(0.014 * u), (8, 8, 10), -1, cv2.LINE_AA)
    cv2.circle(
        img,
        (lens[0] - round(0.004 * u), lens[1] - round(0.004 * u)),
        max(1, round(0.003 * u)),
        (200, 200, 210),
        -1,
        cv2.LINE_AA,
    )
    row = top + h + round(bottom * 0.45)
    plate_w, plate_h = round(0.16 * u), round(0.045 * u)
    plate = rng.uniform(150, 190)
    cv2.rectangle(
        img,
        (hw // 2 - plate_w // 2, row - plate_h // 2),
        (hw // 2 + plate_w // 2, row + plate_h // 2),
        (plate, plate, plate),
        -1,
    )
    font_scale = plate_h / 30
    text_size = cv2.getTextSize("ONSHI", cv2.FONT_HERSHEY_SIMPLEX, font_scale, 2)[0]
    cv2.putText(
        img,
        "ONSHI",
        (hw // 2 - text_size[0] // 2, row + text_size[1] // 2),
        cv2.FONT_HERSHEY_SIMPLEX,
        font_scale,
        (40, 40, 40),
        2,
        cv2.LINE_AA,
    )
    cv2.circle(
        img,
        (hw - side - round(0.03 * u), row),
        max(2, round(0.007 * u)),
        (70, 230, 90),
        -1,
        cv2.LINE_AA,
    )
    mark = (side + round(0.03 * u), row - plate_h // 2)
    cv2.rectangle(
        img,
        mark,
        (mark[0] + round(0.12 * u), mark[1] + round(0.075 * u)),
        tuple(float(c) + 45 for c in body),
        max(1, round(0.003 * u)),
        cv2.LINE_AA,
    )
    return _Housing(
        image=img,
        alpha=alpha,
        origin=(side, top),
        outline=outline - (side, top),
        depth=0.05 * u,
        side_colour=tuple(float(c) * 0.6 for c in body),
    )


class CameraModel:
    """A camera looking at one emulated reader. Frames from one model line up (fixed pose)
    until :meth:`bump`; all of it is reproducible from ``seed``."""

    def __init__(
        self,
        seed: int = 0,
        frame_size: tuple[int, int] = (1920, 1080),
        *,
        hand_held: bool = False,
        effects: CameraEffects | None = None,
    ) -> None:
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"camera model: seed must be a non-negative int, got {seed!r}")
        try:
            fw, fh = (int(v) for v in frame_size)
        except (TypeError, ValueError):
            raise ValueError(
                f"camera model: frame_size must be (width, height), got {frame_size!r}"
            ) from None
        if fw <= 0 or fh <= 0:
            raise ValueError(f"camera model: frame_size must be positive, got {frame_size!r}")
        if fw < 32 or fh < 32:
            raise ValueError(f"camera model: frame_size must be at least 32x32, got {frame_size!r}")
        self.seed = int(seed)
        self.frame_size = (fw, fh)
        self.hand_held = hand_held
        self.effects = effects if effects is not None else CameraEffects()
        self._ranges = _HAND_HELD if hand_held else _BENCH
        self._bumps = 0
        self._frames = 0
        self._last_offset: tuple[int, int, int] | None = None
        self._poses: dict[tuple[int, tuple[int, int]], _Pose] = {}
        self._views: dict[tuple[int, int], _View] = {}
        self._housings: dict[tuple[int, int], _Housing] = {}
        self._bench: np.ndarray | None = None
        self._bench_pad = round(0.1 * fw)

        drift = _rng(self.seed, _TAG["drift"])
        # Exposure: a slow swing plus a faster, smaller one; together they peak at the drift.
        self._exposure_waves = [
            (0.8, drift.uniform(25, 60), drift.uniform(0, 2 * math.pi)),
            (0.2, drift.uniform(10, 20), drift.uniform(0, 2 * math.pi)),
        ]
        self._wb_waves = [(drift.uniform(30, 90), drift.uniform(0, 2 * math.pi)) for _ in "br"]
        self._glare_waves = [(drift.uniform(30, 80), drift.uniform(0, 2 * math.pi)) for _ in "xya"]
        self._glare_shape = (drift.uniform(0.08, 0.16), drift.uniform(0.06, 0.12))  # x, y sigma
        sensor = _rng(self.seed, _TAG["sensor"])
        read = sensor.uniform(*self.effects.noise_sigma)
        self._read_noise = read
        sigma = np.sqrt(read**2 + self.effects.shot_noise**2 * np.arange(256))
        self._noisy = bool(sigma.max() > 0)
        self._sigma_fixed = (
            max(1, min(_FIXED_POINT_SIGMA_MAX, math.floor(255 / sigma.max()))) if self._noisy else 1
        )
        self._sigma_lut = np.rint(sigma * self._sigma_fixed).astype(np.uint8)
        black, white = self.effects.screen_levels
        # black + v * (white - black) / 255, rounded: cv2.convertScaleAbs is ~3x faster than
        # cv2.LUT on a 3-channel image
        self._levels = None if (black, white) == (0, 255) else ((white - black) / 255, black)
        self._desk = (
            DeskCamera.of(self.effects, _rng(self.seed, _TAG["desk"]), self.frame_size)
            if self.effects.desk
            else None
        )

    # -- public -----------------------------------------------------------------------------

    def capture(
        self, screen: np.ndarray, t: float, lamps: Sequence[LampState] = ()
    ) -> Capture:
        """What the camera sees at bench time ``t`` (seconds) while the reader shows ``screen``
        and its housing's ``lamps`` are as given."""
        screen = _check_screen(screen)
        t = float(t)
        if not math.isfinite(t):
            raise ValueError(f"camera model: t must be a finite number of seconds, got {t!r}")
        fw, fh = self.frame_size
        view = self._view(screen.shape[1], screen.shape[0])
        rng = _rng(self.seed, _TAG["frame"], self._bumps, self._frames, _t_key(t))
        self._frames += 1
        # this frame's random draws, in a fixed order: flicker, noise offset, JPEG quality
        gains = self._gains(t, rng)
        offset = self._noise_offset(rng) if self._noisy else None
        quality = (
            int(rng.integers(*self.effects.jpeg_quality, endpoint=True))
            if self.effects.jpeg_quality is not None
            else None
        )

        # The light through the lens: the static scene was blurred once, and the screen
        # composed into it is kept while the screen stays (and redone only where it
        # changes). Per frame, over the whole frame: the sensor's noise (its level from that
        # signal, kept with it, and scaled for this frame's gains), the exposure and white
        # balance gains, the glare (DN added after the gains); the JPEG round trip around the
        # reader (see below). The lens
        # blur comes before the gains and the glare: per-pixel scalings and a smooth blob,
        # which commute with a blur but for rounding and clipping.
        self._compose(view, screen)
        work, scratch, gain_image = _scratch(fh, fw)
        flat = work.reshape(fh, fw * 3)
        src = view.frame.reshape(fh, fw * 3)
        desk = None
        if self._desk is not None:  # its own draws: the default effects' frames stay as they were
            desk = _rng(self.seed, _TAG["desk_frame"], self._bumps, self._frames, _t_key(t))
            src = self._desk.lens(view.frame, view.quad, desk).reshape(fh, fw * 3)
        if offset is not None:
            assert view.sigma is not None
            level = 1.0 if gains is None else self._noise_level(float(gains.mean()))
            self._add_noise(src, view.sigma, offset, level, flat, scratch)
            src = flat
        if gains is not None:
            _apply_gains(src, gains, flat, gain_image)
        elif src is not flat:
            np.copyto(flat, src)
        if lamps:  # drawn after the gains (their light scales with them) and under the glare
            draw_lamps(work, view.quad, lamps, gains=gains, blur=view.blur,
                       noise=self._read_noise, seed=int(rng.integers(2**32)))
        if desk is not None:
            assert self._desk is not None
            self._desk.sensor(work, view.quad, t, desk)
        self._add_glare(work, view, t)
        frame = work.copy()  # ``work`` is scratch space, reused by the next frame
        if quality is not None:
            # JPEG codes each 16 px block on its own (the DC's prediction is lossless), so a
            # crop on block boundaries decodes to the very pixels the whole frame would,
            # but at the crop's edge (chroma upsampling): the band around the reader keeps
            # that edge off everything the rig reads, at a third of the cost of the frame.
            x0, y0, x1, y1 = view.jpeg_box
            ok, data = cv2.imencode(".jpg", work[y0:y1, x0:x1],
                                    [cv2.IMWRITE_JPEG_QUALITY, quality])
            if not ok:  # pragma: no cover - OpenCV built without JPEG
                raise RuntimeError("camera model: OpenCV could not encode JPEG")
            frame[y0:y1, x0:x1] = cv2.imdecode(data, cv2.IMREAD_COLOR)
        assert frame.shape == (fh, fw, 3)
        return Capture(image=frame, quad=view.quad.copy())

    def bump(self) -> None:
        """The camera was knocked: from now on it sees the reader from a new pose, a few
        degrees and a few per cent of the frame away from the old one."""
        self._bumps += 1
        self._views.clear()

    # -- pose -------------------------------------------------------------------------------

    def _pose(self, bumps: int, screen: tuple[int, int]) -> _Pose:
        key = (bumps, screen)
        if key not in self._poses:
            previous = self._pose(bumps - 1, screen) if bumps else None
            self._poses[key] = self._sample_pose(
                screen, previous, _rng(self.seed, _TAG["pose"], bumps)
            )
        return self._poses[key]

    def _sample_pose(
        self, screen: tuple[int, int], previous: _Pose | None, rng: np.random.Generator
    ) -> _Pose:
        """Rejection sampling: the screen (and on a bench the whole reader) must be in the
        frame; after a bump the screen must have moved noticeably. Constraints relax if a
        screen's shape makes them impossible."""
        r = self._ranges
        roll = max(r.roll, self.effects.roll)
        fw, fh = self.frame_size
        housing = self._housing(screen)
        old = self._quad(previous, screen) if previous else None
        for attempt in range(600):
            shrink = 0.9 ** (attempt // 100)  # smaller screens when nothing fits
            if previous is None:
                pose = _Pose(
                    frac=rng.uniform(*r.frac) * shrink,
                    yaw=rng.uniform(-r.tilt, r.tilt),
                    pitch=rng.uniform(-r.tilt, r.tilt),
                    roll=rng.uniform(-roll, roll),
                    cx=0.5 + rng.uniform(-r.centre, r.centre),
                    cy=0.5 + rng.uniform(-r.centre, r.centre) * fw / fh,
                    hfov=rng.uniform(*r.hfov),
                )
            else:  # a knock: the same kind of view, moved by a few degrees

                def nudge(value: float, low: float, high: float, limit: float) -> float:
                    step = rng.uniform(low, high) * rng.choice([-1, 1])
                    return float(np.clip(value + step, -limit, limit))

                pose = attrs.evolve(
                    previous,
                    frac=float(np.clip(previous.frac * rng.uniform(0.9, 1.1), *r.frac)) * shrink,
                    yaw=nudge(previous.yaw, 1, 4, r.tilt),
                    pitch=nudge(previous.pitch, 1, 4, r.tilt),
                    roll=nudge(previous.roll, 0.5, 2, r.roll),
                    cx=0.5 + nudge(previous.cx - 0.5, 0.02, 0.06, r.centre),
                    cy=0.5 + nudge(previous.cy - 0.5, 0.02, 0.06, r.centre * fw / fh),
                )
            quad = self._quad(pose, screen)
            if not _inside(quad, self.frame_size, 0.02 * min(fw, fh)):
                continue
            if r.housing_in_frame and attempt < 300:
                cam = _Camera(pose, screen, self.frame_size)
                body = np.r_[
                    _project(cam.plane(), housing.outline),
                    _project(cam.plane(housing.depth), housing.outline),
                ]
                if not _inside(body, self.frame_size, 0):
                    continue
            if old is not None and np.linalg.norm(quad - old, axis=1).mean() < 0.03 * fw:
                continue
            return pose
        raise ValueError(
            f"camera model: cannot place a {screen[0]}x{screen[1]} screen in a {fw}x{fh} frame"
        )

    def _quad(self, pose: _Pose, screen: tuple[int, int]) -> np.ndarray:
        w, h = screen
        cam = _Camera(pose, screen, self.frame_size)
        return _project(cam.plane(), np.array([[0, 0], [w, 0], [w, h], [0, h]], float))

    # -- static scene -----------------------------------------------------------------------

    def _housing(self, screen: tuple[int, int]) -> _Housing:
        if screen not in self._housings:
            self._housings[screen] = _render_housing(_rng(self.seed, _TAG["housing"]), *screen)
        return self._housings[screen]

    def _bench_canvas(self) -> np.ndarray:
        if self._bench is None:
            fw, fh = self.frame_size
            pad = self._bench_pad
            self._bench = _bench_canvas(self.seed, fh + 2 * pad, fw + 2 * pad)
        return self._bench

    def _view(self, w: int, h: int) -> _View:
        key = (w, h)
        if key in self._views:
            return self._views[key]
        fw, fh = self.frame_size
        pose = self._pose(self._bumps, key)
        cam = _Camera(pose, key, self.frame_size)
        homography = cam.plane()
        quad = _project(homography, np.array([[0, 0], [w, 0], [w, h], [0, h]], float))
        housing = self._housing(key)

        # The bench moves with the camera: a knock that moves the reader right in the frame
        # moves the bench behind it right too (a rotation shifts near and far alike).
        pad = self._bench_pad
        centre = quad.mean(axis=0)
        cx = int(np.clip(round(pad - (centre[0] - (fw - 1) / 2)), 0, 2 * pad))
        cy = int(np.clip(round(pad - (centre[1] - (fh - 1) / 2)), 0, 2 * pad))
        scene = self._bench_canvas()[cy : cy + fh, cx : cx + fw].astype(np.float32)

        front = _project(homography, housing.outline)
        back = _project(cam.plane(housing.depth), housing.outline)
        hull = cv2.convexHull(np.r_[front, back].astype(np.float32)).reshape(-1, 2)
        # soft shadow of the reader on the bench, drawn small and blurred (cheap, once)
        small = 4
        shadow = np.zeros((fh // small + 1, fw // small + 1), np.float32)
        offset = np.array([0.012 * fw, 0.03 * fh])
        cv2.fillPoly(
            shadow, [np.rint((hull + offset) / small * 16).astype(np.int32)], 1.0, cv2.LINE_AA, 4
        )
        shadow = cv2.GaussianBlur(shadow, (0, 0), 0.015 * fw / small)
        shadow = cv2.resize(shadow, (fw, fh), interpolation=cv2.INTER_LINEAR)
        scene *= (1 - 0.45 * shadow)[..., None]
        # the body's sides, visible when the reader is seen at an angle
        cv2.fillPoly(
            scene, [np.rint(hull * 16).astype(np.int32)], housing.side_colour, cv2.LINE_AA, 4
        )
        to_frame = homography @ _translation(-housing.origin[0], -housing.origin[1])
        face = _warp(housing.image, to_frame, (fw, fh)).astype(np.float32)
        alpha = _warp(housing.alpha, to_frame, (fw, fh)).astype(np.float32) / 255
        scene = scene * (1 - alpha[..., None]) + face * alpha[..., None]
        scene = np.clip(scene + 0.5, 0, 255).astype(np.uint8)

        focus = _rng(self.seed, _TAG["focus"], self._bumps)
        blur = float(focus.uniform(*self.effects.blur_sigma))
        # GaussianBlur's kernel on uint8 reaches 3 sigma (4 on float); keep a safe margin
        reach = math.ceil(4 * blur) + 2 if blur > 0 else 0

        def box(grow: int) -> tuple[int, int, int, int]:
            x0, y0 = (max(0, math.floor(v) - 2 - grow) for v in quad.min(axis=0))
            x1, y1 = (
                min(n, math.ceil(v) + 3 + grow)
                for v, n in zip(quad.max(axis=0), (fw, fh), strict=True)
            )
            return x0, y0, x1, y1

        patch, keep = box(2 * reach), box(reach)
        # The screen is resampled straight from its own pixels into its bounding box with
        # maps computed once (cv2.remap; warpPerspective would recompute them per frame).
        # A shrunk screen is low-pass filtered first, as much as shrinking it with INTER_AREA
        # and warping the result bilinearly blurs (box of 1/s plus triangle of 1/s: variance
        # 0.25 / s^2 screen px^2, of which bilinear sampling itself gives 1/6).
        x0, y0, x1, y1 = patch
        (qx0, qy0), (qx1, qy1) = quad.min(axis=0), quad.max(axis=0)
        bx0, by0 = max(x0, math.floor(qx0) - 1), max(y0, math.floor(qy0) - 1)
        bx1, by1 = min(x1, math.ceil(qx1) + 2), min(y1, math.ceil(qy1) + 2)
        inverse = np.linalg.inv(_translation(-bx0, -by0) @ homography)
        ys, xs = np.mgrid[0 : by1 - by0, 0 : bx1 - bx0].astype(np.float64)
        p = inverse @ np.stack([xs.ravel(), ys.ravel(), np.ones(xs.size)])
        map_x = (p[0] / p[2]).reshape(xs.shape).astype(np.float32)
        map_y = (p[1] / p[2]).reshape(xs.shape).astype(np.float32)
        maps = cv2.convertMaps(map_x, map_y, cv2.CV_16SC2)
        sx, sy = maps[0][..., 0], maps[0][..., 1]  # the neighbourhood's top left pixel
        inside = (sx >= 0) & (sx < w) & (sy >= 0) & (sy < h)
        scale = _screen_scale((h, w), homography)
        prefilter = math.sqrt(max(0.0, 0.25 / scale**2 - 1 / 6)) if scale <= _SHRINK_SCALE else 0
        frame = cv2.GaussianBlur(scene, (0, 0), blur) if blur > 0 else scene.copy()
        sigma = cv2.LUT(frame.reshape(fh, fw * 3), self._sigma_lut) if self._noisy else None
        view = _View(
            quad=quad.astype(np.float32),
            patch=patch,
            keep=keep,
            screen_box=(bx0 - x0, by0 - y0, bx1 - x0, by1 - y0),
            maps=maps,
            inside=inside.astype(np.uint8) * 255,
            to_box=_translation(-bx0, -by0) @ homography,
            prefilter=prefilter,
            blur=blur,
            glass=np.clip(alpha * 255 + 0.5, 0, 255).astype(np.uint8),
            screen=None,
            filtered=np.zeros((h, w, 3), np.uint8),
            patch_raw=scene[y0:y1, x0:x1].copy(),
            frame=frame,
            warped=np.empty((by1 - by0, bx1 - bx0, 3), np.uint8),
            sigma=sigma,
            jpeg_box=_jpeg_box(np.r_[hull, quad], (fw, fh)),
        )
        self._views[key] = view
        return view

    def _compose(self, view: _View, screen: np.ndarray) -> None:
        """Put ``screen`` into the view's frame and noise sigma map: nothing to do if it is
        the screen already there, and only the parts that changed (a clock's digits, a
        spinner) are redone otherwise. Every step (levels, anti-aliasing, resampling, blur,
        sigma) is local, so a part redone with its kernels' reach gives the same pixels as
        redoing everything."""
        rows, cols = screen.shape[:2]
        whole = (0, 0, cols, rows)
        if view.screen is None:
            changes = [whole]
        elif cv2.norm(screen, view.screen, cv2.NORM_INF) == 0:
            return
        else:
            changes = _changes(view.screen, screen)
            if sum((r[2] - r[0]) * (r[3] - r[1]) for r in changes) > 0.5 * rows * cols:
                changes = [whole]
        if view.screen is None:
            view.screen = screen.copy()
        else:
            np.copyto(view.screen, screen)

        # 1. screen levels and anti-aliasing filter, into view.filtered
        reach = _kernel_radius(view.prefilter)
        filtered = [_grow(r, reach, whole) for r in changes]
        for rect in filtered:
            source = _grow(rect, reach, whole)
            image = _sub(screen, source)
            if self._levels is not None:
                image = cv2.convertScaleAbs(image, alpha=self._levels[0], beta=self._levels[1])
            if view.prefilter > 0:
                image = cv2.GaussianBlur(image, (0, 0), view.prefilter)
            inner = _shift(rect, -source[0], -source[1])
            _sub(view.filtered, rect)[...] = _sub(image, inner)
        # 2. resampled into the patch where a changed pixel is in the bilinear neighbourhood
        bx0, by0, bx1, by1 = view.screen_box
        box_bounds = (0, 0, bx1 - bx0, by1 - by0)
        redone = []
        for x0, y0, x1, y1 in filtered:
            corners = np.array([[x0 - 1, y0 - 1], [x1, y0 - 1], [x1, y1], [x0 - 1, y1]], float)
            landed = _project(view.to_box, corners)
            (lx0, ly0), (lx1, ly1) = landed.min(axis=0), landed.max(axis=0)
            rect = (
                math.floor(lx0) - 2,
                math.floor(ly0) - 2,
                math.ceil(lx1) + 3,
                math.ceil(ly1) + 3,
            )
            rect = _grow(rect, 0, box_bounds)
            if rect[0] >= rect[2] or rect[1] >= rect[3]:
                continue
            warped = view.warped[: rect[3] - rect[1], : rect[2] - rect[0]]
            cv2.remap(
                view.filtered,
                _sub(view.maps[0], rect),
                _sub(view.maps[1], rect),
                cv2.INTER_LINEAR,
                dst=warped,
                borderMode=cv2.BORDER_REPLICATE,
            )
            in_patch = _shift(rect, bx0, by0)
            cv2.copyTo(warped, _sub(view.inside, rect), _sub(view.patch_raw, in_patch))
            redone.append(in_patch)
        # 3. through the lens, into the frame's keep area, and 4. the noise sigma there
        px0, py0, px1, py1 = view.patch
        patch_bounds = (0, 0, px1 - px0, py1 - py0)
        keep = _shift(view.keep, -px0, -py0)
        reach = _kernel_radius(view.blur)
        fh, fw = view.frame.shape[:2]
        for rect in redone:
            out = _grow(rect, reach, patch_bounds)
            source = _grow(out, reach, patch_bounds)
            image = _sub(view.patch_raw, source)
            if view.blur > 0:
                image = cv2.GaussianBlur(image, (0, 0), view.blur)
            out = _grow(out, 0, keep)
            if out[0] >= out[2] or out[1] >= out[3]:
                continue
            in_frame = _shift(out, px0, py0)
            _sub(view.frame, in_frame)[...] = _sub(image, _shift(out, -source[0], -source[1]))
            if view.sigma is not None:
                x0, y0, x1, y1 = in_frame
                cv2.LUT(
                    view.frame.reshape(fh, fw * 3)[y0:y1, 3 * x0 : 3 * x1],
                    self._sigma_lut,
                    dst=view.sigma[y0:y1, 3 * x0 : 3 * x1],
                )

    # -- per-frame effects -------------------------------------------------------------------

    def _gains(self, t: float, rng: np.random.Generator) -> np.ndarray | None:
        """Exposure (slow drift and flicker) times white balance: B, G, R gains, or None."""
        e = self.effects
        exposure = 1 + e.exposure_drift * sum(
            a * math.sin(2 * math.pi * t / period + phase)
            for a, period, phase in self._exposure_waves
        )
        exposure *= 1 + e.flicker * rng.uniform(-1, 1)
        blue, red = (
            1 + e.white_balance_drift * math.sin(2 * math.pi * t / period + phase)
            for period, phase in self._wb_waves
        )
        gains = np.array([blue, 1.0, red]) * exposure
        return None if np.all(gains == 1) else gains

    def _add_glare(self, frame: np.ndarray, view: _View, t: float) -> None:
        if self.effects.glare <= 0:
            return
        fw, fh = self.frame_size
        (px, phx), (py, phy), (pa, pha) = self._glare_waves
        # where the lamp's reflection is, in screen coordinates, drifting over the glass
        w = view.quad[1, 0] - view.quad[0, 0]  # only for the blob's size
        u = 0.5 + 0.4 * math.sin(2 * math.pi * t / px + phx)
        v = 0.5 + 0.4 * math.sin(2 * math.pi * t / py + phy)
        quad = view.quad.astype(np.float64)
        top = quad[0] + u * (quad[1] - quad[0])
        bottom = quad[3] + u * (quad[2] - quad[3])
        cx, cy = top + v * (bottom - top)
        amp = self.effects.glare * (0.7 + 0.3 * math.sin(2 * math.pi * t / pa + pha))
        sx, sy = (max(2.0, s * abs(w)) for s in self._glare_shape)
        x0, x1 = max(0, int(cx - 3 * sx)), min(fw, int(cx + 3 * sx) + 1)
        y0, y1 = max(0, int(cy - 3 * sy)), min(fh, int(cy + 3 * sy) + 1)
        if x0 >= x1 or y0 >= y1:
            return
        gx = np.exp(-(((np.arange(x0, x1) - cx) / sx) ** 2) / 2).astype(np.float32)
        gy = np.exp(-(((np.arange(y0, y1) - cy) / sy) ** 2) / 2).astype(np.float32) * amp
        # rounded to uint8 by OpenCV: numpy's float -> uint8 cast costs ~1 ms here
        blob = cv2.multiply(
            np.outer(gy, gx), view.glass[y0:y1, x0:x1], dtype=cv2.CV_8U, scale=1 / 255
        )
        blob = cv2.cvtColor(blob, cv2.COLOR_GRAY2BGR)  # a white lamp
        roi = frame[y0:y1, x0:x1]
        cv2.add(roi, blob, dst=roi)

    def _noise_offset(self, rng: np.random.Generator) -> tuple[int, int, int]:
        """Where this frame reads the noise tile (row, column) and with which sign."""
        offset = (
            int(rng.integers(_NOISE_PAD[0])),
            int(rng.integers(_NOISE_PAD[1])),
            int(rng.choice([-1, 1])),
        )
        if offset == self._last_offset:  # never the same noise twice in a row
            offset = ((offset[0] + 1) % _NOISE_PAD[0], *offset[1:])
        self._last_offset = offset
        return offset

    def _noise_level(self, gain: float) -> float:
        """How much the noise of a signal before the gains is scaled, so that after the
        gains it is what the gained signal's noise would be (read noise plus shot noise of
        the exposed signal: auto exposure changes the light collected, not only a digital
        gain): exact for a mid-dark sample, within a few per cent for the others."""
        reference = 96.0

        def sigma(v: float) -> float:
            return math.sqrt(self._read_noise**2 + self.effects.shot_noise**2 * v)

        before = sigma(reference)
        return sigma(gain * reference) / (gain * before) if before > 0 else 1.0

    def _add_noise(
        self,
        src: np.ndarray,
        sigma: np.ndarray,
        offset: tuple[int, int, int],
        level: float,
        out: np.ndarray,
        scratch: np.ndarray,
    ) -> None:
        """Read + shot noise: out = src + level * sigma * N, clipped; sigma per sample (fixed
        point, from the signal), N from the normal tile at ``offset``. All (rows, cols * 3)
        uint8 planes: |N| * sigma in one product, subtracted everywhere, then added instead
        where N has the other sign (a masked add). ~2 ms per 1080p frame."""
        rows, cols = src.shape
        magnitude, positive = _noise_tile(rows, cols)
        oy, ox, sign = offset
        cv2.multiply(
            magnitude[oy : oy + rows, ox : ox + cols],
            sigma,
            dst=scratch,
            scale=level / (_FIXED_POINT_NOISE * self._sigma_fixed),
        )
        mask = positive[oy : oy + rows, ox : ox + cols]
        if sign > 0:
            cv2.subtract(src, scratch, dst=out)
            cv2.add(src, scratch, dst=out, mask=mask)
        else:
            cv2.add(src, scratch, dst=out)
            cv2.subtract(src, scratch, dst=out, mask=mask)


class _Scratch(threading.local):
    """Scratch frames for captures in this thread, by frame size: the working BGR frame, an
    interleaved plane for the noise, and the image of the gain codes (with its key). Reused
    by every capture (allocating 6 MB arrays per frame costs page faults) and shared by the
    models a thread runs, which capture one after the other."""

    def __init__(self) -> None:
        self.frames: dict[tuple[int, int], tuple[np.ndarray, ...]] = {}
        self.gain_codes: dict[tuple[int, int], tuple[int, ...]] = {}


_SCRATCH = _Scratch()


def _scratch(rows: int, cols: int) -> tuple[np.ndarray, ...]:
    frames = _SCRATCH.frames.get((rows, cols))
    if frames is None:
        if len(_SCRATCH.frames) >= 4:  # frame sizes come and go in tests
            _SCRATCH.frames.clear()
            _SCRATCH.gain_codes.clear()
        frames = (
            np.empty((rows, cols, 3), np.uint8),
            np.empty((rows, cols * 3), np.uint8),
            np.empty((rows, cols * 3), np.uint8),
        )
        _SCRATCH.frames[(rows, cols)] = frames
    return frames


def _apply_gains(src: np.ndarray, gains: np.ndarray, out: np.ndarray, image: np.ndarray) -> None:
    """out = src * gains, rounded and clipped; src and out are (rows, cols * 3) planes of
    interleaved BGR (they may be the same array), ``image`` is the scratch plane that holds
    the gain codes. A uint8 product with a float scale is one vectorised pass (~4x faster
    than cv2.LUT with a 3-channel table); the gains are quantised to 1/255 of the largest."""
    scale = float(gains.max()) / 255
    codes = np.rint(gains / scale)
    if codes.min() >= _GAIN_CODE_MIN:
        # the codes are the white balance's ratios (the exposure is in the scale): they
        # change slowly, and their image is kept
        key = tuple(int(c) for c in codes)
        if _SCRATCH.gain_codes.get(image.shape) != key:
            np.copyto(image, np.tile(codes.astype(np.uint8), image.shape[1] // 3))
            _SCRATCH.gain_codes[image.shape] = key
        cv2.multiply(src, image, dst=out, scale=scale)
        return
    lut = np.clip(np.arange(256)[:, None] * gains[None, :] + 0.5, 0, 255).astype(np.uint8)
    rows, cols = src.shape
    cv2.LUT(
        src.reshape(rows, cols // 3, 3),
        lut.reshape(256, 1, 3),
        dst=out.reshape(rows, cols // 3, 3),
    )


def _check_screen(screen: Any) -> np.ndarray:
    if not isinstance(screen, np.ndarray):
        raise ValueError(f"camera model: screen must be a numpy array, got {type(screen).__name__}")
    if screen.ndim != 3 or screen.shape[2] != 3:
        raise ValueError(
            f"camera model: screen must be an HxWx3 BGR image, got shape {screen.shape}"
        )
    if screen.dtype != np.uint8:
        raise ValueError(f"camera model: screen must be uint8, got {screen.dtype}")
    if screen.shape[0] < 2 or screen.shape[1] < 2:
        raise ValueError(f"camera model: screen is too small ({screen.shape[1]}x{screen.shape[0]})")
    return np.ascontiguousarray(screen)
