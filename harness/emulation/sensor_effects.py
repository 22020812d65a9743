"""The sensor's effects on the light through the lens, per frame: read and shot noise,
exposure and white balance gains (slow drift and flicker), a glare blob on the reader's
glass, and the JPEG round trip of an MJPEG webcam.

What is fixed per camera (the drifts' periods and phases, the glare's shape, the read
noise) is drawn from the camera's seed by :class:`Sensor`; per-frame draws come from the
frame's own stream, passed in.
"""

from __future__ import annotations

import math
import threading
from typing import TYPE_CHECKING

import cv2
import numpy as np

from harness.emulation.camera_draws import TAG, stream
from harness.emulation.camera_view import Rect

if TYPE_CHECKING:
    from harness.emulation.camera_model import CameraEffects

_FIXED_POINT_NOISE = 32  # the noise tile holds |N(0,1)| * 32 as uint8 (and the sign apart)
_FIXED_POINT_SIGMA_MAX = 64  # the sigma map holds sigma * F as uint8, F <= 64 so sigma fits
_NOISE_PAD = (64, 192)  # rows, columns (of interleaved BGR) of random offsets into the tile
#: Gains are applied as uint8 codes times one float scale (the largest gain is code 255); if
#: a channel's code would fall below this (gains more than 1.27x apart, only with extreme
#: white balance drift) the exact 3-channel LUT is used instead.
_GAIN_CODE_MIN = 200


_noise_tiles: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}


def noise_tile(rows: int, cols: int) -> tuple[np.ndarray, np.ndarray]:
    """A shared, read-only tile of N(0,1) larger than a frame, as |N| * 32 (uint8) and a
    mask that is 255 where N > 0: each frame reads it at a random offset (and sign). Drawing
    6 M normals per frame costs ~100 ms; the split keeps all per-frame arithmetic in uint8,
    which OpenCV vectorises (mixed int16/uint8 arithmetic is several times slower)."""
    tile = _noise_tiles.get((rows, cols))
    if tile is None:
        normal = np.random.default_rng(20240601).standard_normal(
            (rows + _NOISE_PAD[0], cols + _NOISE_PAD[1]), dtype=np.float32
        )
        # In place (the same float32 operations, a fifth of the time: a camera's first
        # frame made a tile of a few million samples through four temporaries).
        positive = (normal > 0).view(np.uint8) * np.uint8(255)
        magnitude = np.abs(normal, out=normal)
        magnitude *= _FIXED_POINT_NOISE
        np.rint(magnitude, out=magnitude)
        np.minimum(magnitude, 255, out=magnitude)
        tile = magnitude.astype(np.uint8), positive
        for part in tile:
            part.flags.writeable = False
        _noise_tiles[(rows, cols)] = tile
    return tile


class Sensor:
    """One camera's sensor: its drifts, glare and noise, fixed from ``seed``."""

    def __init__(self, effects: CameraEffects, seed: int) -> None:
        self.effects = effects
        drift = stream(seed, TAG["drift"])
        # Exposure: a slow swing plus a faster, smaller one; together they peak at the drift.
        self._exposure_waves = [
            (0.8, drift.uniform(25, 60), drift.uniform(0, 2 * math.pi)),
            (0.2, drift.uniform(10, 20), drift.uniform(0, 2 * math.pi)),
        ]
        self._wb_waves = [(drift.uniform(30, 90), drift.uniform(0, 2 * math.pi)) for _ in "br"]
        self._glare_waves = [(drift.uniform(30, 80), drift.uniform(0, 2 * math.pi)) for _ in "xya"]
        self._glare_shape = (drift.uniform(0.08, 0.16), drift.uniform(0.06, 0.12))  # x, y sigma
        sensor = stream(seed, TAG["sensor"])
        read = sensor.uniform(*effects.noise_sigma)
        self.read_noise = read
        sigma = np.sqrt(read**2 + effects.shot_noise**2 * np.arange(256))
        self.noisy = bool(sigma.max() > 0)
        self._sigma_fixed = (
            max(1, min(_FIXED_POINT_SIGMA_MAX, math.floor(255 / sigma.max()))) if self.noisy else 1
        )
        #: the read + shot noise sigma of a sample (uint8 fixed point) from its signal
        self.sigma_lut = np.rint(sigma * self._sigma_fixed).astype(np.uint8)
        black, white = effects.screen_levels
        # black + v * (white - black) / 255, rounded: cv2.convertScaleAbs is ~3x faster than
        # cv2.LUT on a 3-channel image
        self.levels = None if (black, white) == (0, 255) else ((white - black) / 255, black)

    def gains(self, t: float, rng: np.random.Generator) -> np.ndarray | None:
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

    def add_glare(self, frame: np.ndarray, quad: np.ndarray, glass: np.ndarray, t: float) -> None:
        """A lamp's soft reflection, drifting over the glass (where ``glass`` is 255) of the
        reader whose screen is at ``quad`` (float32, as a Capture gives it)."""
        if self.effects.glare <= 0:
            return
        fh, fw = frame.shape[:2]
        (px, phx), (py, phy), (pa, pha) = self._glare_waves
        # where the lamp's reflection is, in screen coordinates, drifting over the glass
        w = quad[1, 0] - quad[0, 0]  # only for the blob's size
        u = 0.5 + 0.4 * math.sin(2 * math.pi * t / px + phx)
        v = 0.5 + 0.4 * math.sin(2 * math.pi * t / py + phy)
        quad = quad.astype(np.float64)
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
            np.outer(gy, gx), glass[y0:y1, x0:x1], dtype=cv2.CV_8U, scale=1 / 255
        )
        blob = cv2.cvtColor(blob, cv2.COLOR_GRAY2BGR)  # a white lamp
        roi = frame[y0:y1, x0:x1]
        cv2.add(roi, blob, dst=roi)

    def noise_level(self, gain: float) -> float:
        """How much the noise of a signal before the gains is scaled, so that after the
        gains it is what the gained signal's noise would be (read noise plus shot noise of
        the exposed signal: auto exposure changes the light collected, not only a digital
        gain): exact for a mid-dark sample, within a few per cent for the others."""
        reference = 96.0

        def sigma(v: float) -> float:
            return math.sqrt(self.read_noise**2 + self.effects.shot_noise**2 * v)

        before = sigma(reference)
        return sigma(gain * reference) / (gain * before) if before > 0 else 1.0

    def add_noise(
        self,
        src: np.ndarray,
        sigma: np.ndarray,
        offset: tuple[int, int, int],
        level: float,
        out: np.ndarray,
        scratch: np.ndarray,
        *,
        tile: tuple[int, int] | None = None,
        at: tuple[int, int] = (0, 0),
    ) -> None:
        """Read + shot noise: out = src + level * sigma * N, clipped; sigma per sample (fixed
        point, from the signal), N from the normal tile at ``offset``. All (rows, cols * 3)
        uint8 planes: |N| * sigma in one product, subtracted everywhere, then added instead
        where N has the other sign (a masked add). ~2 ms per 1080p frame. ``src`` may be a
        part of a larger band (``tile``: its rows and plane columns; ``at``: where the part
        starts in it): the part gets the very noise the whole band would."""
        rows, cols = src.shape
        magnitude, positive = noise_tile(*(tile or (rows, cols)))
        oy, ox, sign = offset
        oy, ox = oy + at[0], ox + at[1]
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


def around(box: Rect, size: tuple[int, int]) -> list[Rect]:
    """The frame of ``size`` (width, height) outside ``box`` (x0, y0, x1, y1, in pixels),
    as the bands above, below, left and right of it that are not empty."""
    fw, fh = size
    x0, y0, x1, y1 = box
    bands = [(0, 0, fw, y0), (0, y1, fw, fh), (0, y0, x0, y1), (x1, y0, fw, y1)]
    return [b for b in bands if b[0] < b[2] and b[1] < b[3]]


def noise_offset(
    rng: np.random.Generator, last: tuple[int, int, int] | None
) -> tuple[int, int, int]:
    """Where this frame reads the noise tile (row, column) and with which sign; never the
    ``last`` frame's place."""
    offset = (
        int(rng.integers(_NOISE_PAD[0])),
        int(rng.integers(_NOISE_PAD[1])),
        int(rng.choice([-1, 1])),
    )
    if offset == last:  # never the same noise twice in a row
        offset = ((offset[0] + 1) % _NOISE_PAD[0], *offset[1:])
    return offset


def jpeg_round_trip(image: np.ndarray, quality: int) -> np.ndarray:
    """``image`` encoded as JPEG at ``quality`` and decoded again."""
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:  # pragma: no cover - OpenCV built without JPEG
        raise RuntimeError("camera model: OpenCV could not encode JPEG")
    return cv2.imdecode(data, cv2.IMREAD_COLOR)


class _Scratch(threading.local):
    """Scratch planes for captures in this thread, by frame size: one for the noise, one
    for the noisy band, and the image of the gain codes (with its key). Reused by every
    capture (allocating 6 MB arrays per frame costs page faults) and shared by the models a
    thread runs, which capture one after the other."""

    def __init__(self) -> None:
        self.frames: dict[tuple[int, int], tuple[np.ndarray, ...]] = {}
        self.gain_codes: dict[tuple[int, int], tuple[int, ...]] = {}


_SCRATCH = _Scratch()


def scratch_frames(rows: int, cols: int) -> tuple[np.ndarray, ...]:
    frames = _SCRATCH.frames.get((rows, cols))
    if frames is None:
        if len(_SCRATCH.frames) >= 4:  # frame sizes come and go in tests
            _SCRATCH.frames.clear()
            _SCRATCH.gain_codes.clear()
        frames = (
            np.empty((rows, cols * 3), np.uint8),
            np.empty((rows, cols * 3), np.uint8),
            np.empty((rows, cols * 3), np.uint8),
        )
        _SCRATCH.frames[(rows, cols)] = frames
    return frames


def plane(image: np.ndarray, rect: Rect) -> np.ndarray:
    """``rect`` (x0, y0, x1, y1) of a (rows, cols * 3) plane of interleaved BGR."""
    x0, y0, x1, y1 = rect
    return image[y0:y1, 3 * x0 : 3 * x1]


def apply_gains(pieces: list[tuple[np.ndarray, Rect]], gains: np.ndarray | None,
                out: np.ndarray, image: np.ndarray) -> None:
    """``out`` = each piece's source times ``gains`` in the piece's rectangle, rounded and
    clipped (a copy where ``gains`` is None); sources and ``out`` are (rows, cols * 3) planes
    of interleaved BGR, ``image`` is the scratch plane that holds the gain codes. A uint8
    product with a float scale is one vectorised pass (~4x faster than cv2.LUT with a
    3-channel table); the gains are quantised to 1/255 of the largest."""
    if gains is None:
        for src, rect in pieces:
            plane(out, rect)[...] = plane(src, rect)
        return
    scale = float(gains.max()) / 255
    codes = np.rint(gains / scale)
    if codes.min() >= _GAIN_CODE_MIN:
        # the codes are the white balance's ratios (the exposure is in the scale): they
        # change slowly, and their image is kept
        key = tuple(int(c) for c in codes)
        if _SCRATCH.gain_codes.get(image.shape) != key:
            np.copyto(image, np.tile(codes.astype(np.uint8), image.shape[1] // 3))
            _SCRATCH.gain_codes[image.shape] = key
        for src, (x0, y0, x1, y1) in pieces:
            # the codes repeat every 3 columns: any rectangle from the image's corner fits
            cv2.multiply(plane(src, (x0, y0, x1, y1)), image[: y1 - y0, : 3 * (x1 - x0)],
                         dst=plane(out, (x0, y0, x1, y1)), scale=scale)
        return
    lut = np.clip(np.arange(256)[:, None] * gains[None, :] + 0.5, 0, 255).astype(np.uint8)
    rows, cols = out.shape
    frame = out.reshape(rows, cols // 3, 3)
    for src, (x0, y0, x1, y1) in pieces:
        cv2.LUT(src.reshape(rows, cols // 3, 3)[y0:y1, x0:x1], lut.reshape(256, 1, 3),
                dst=frame[y0:y1, x0:x1])
