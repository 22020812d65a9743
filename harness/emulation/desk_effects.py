"""What an ordinary desk does to a photo of a reader, besides a bench webcam's own faults.

:class:`~harness.emulation.camera_model.CameraModel` applies these when its
:class:`~harness.emulation.camera_model.CameraEffects` ask for them (all off by default):

- moiré: the display's pixel grid beating against the sensor's, low-contrast periodic
  bands over the screen (one period and angle per camera, a few DN);
- a hot spot: a small, sharp reflection of a lamp on the glass, up to clipping, besides the
  soft glare;
- motion blur: a linear kernel of a few pixels in some direction (a hand, a knocked desk);
- the camera's own gain and gamma (a phone's auto exposure and tone curve), and vignetting;
- a finger at the reader's edge, over the bezel and at most a small corner of the screen.

Per-camera choices come from the camera's seed, per-frame ones from the frame's key, so
frames stay reproducible (the default effects draw nothing here: their frames are
unchanged).
"""

from __future__ import annotations

import math
from typing import Protocol

import attrs
import cv2
import numpy as np


class DeskConfig(Protocol):
    """The CameraEffects fields these effects read."""

    moire: float
    glare_spot: float
    motion_blur: tuple[float, float]
    gain: tuple[float, float]
    gamma: tuple[float, float]
    vignetting: float
    finger: float


#: Moiré periods (frame px) and a hot spot's size (a fraction of the screen's width).
MOIRE_PERIOD = (5.0, 28.0)
SPOT_SIZE = (0.015, 0.04)
#: A finger's width (fraction of the screen's width) and how far its tip may reach into
#: the screen (fraction of the screen's shorter side): "at most a small corner".
FINGER_WIDTH = (0.06, 0.10)
FINGER_INTO_SCREEN = 0.03
#: Skin tones (BGR) a finger is drawn in, lit by the room.
SKIN = ((120, 150, 205), (95, 125, 180), (140, 170, 225), (70, 95, 140))


@attrs.frozen(eq=False)
class DeskCamera:
    """One camera's desk conditions: what is fixed per camera."""

    effects: DeskConfig
    moire_period: float
    moire_angle: float
    moire_phase: float
    #: Gain and gamma as one 256-entry table (None: neither).
    tone: np.ndarray | None
    #: Vignetting as uint8 codes (255 = no falloff), (rows, cols * 3), or None.
    vignette: np.ndarray | None
    spot_waves: tuple[tuple[float, float], ...]
    spot_size: float

    @classmethod
    def of(cls, effects: DeskConfig, rng: np.random.Generator,
           frame_size: tuple[int, int]) -> DeskCamera:
        # Always the same draws in the same order, whatever is enabled: switching one effect
        # on leaves the others' choices as they were.
        period = float(rng.uniform(*MOIRE_PERIOD))
        angle = float(rng.uniform(0, math.pi))
        phase = float(rng.uniform(0, 2 * math.pi))
        gain = float(rng.uniform(*effects.gain))
        gamma = float(rng.uniform(*effects.gamma))
        waves = tuple((float(rng.uniform(20, 60)), float(rng.uniform(0, 2 * math.pi)))
                      for _ in "xy")
        spot = float(rng.uniform(*SPOT_SIZE))
        tone = None
        if gain != 1.0 or gamma != 1.0:
            levels = np.arange(256) / 255.0
            tone = np.clip(255 * (gain * levels) ** gamma + 0.5, 0, 255).astype(np.uint8)
        vignette = None
        if effects.vignetting > 0:
            fw, fh = frame_size
            xs = (np.arange(fw) - (fw - 1) / 2) / (fw / 2)
            ys = (np.arange(fh) - (fh - 1) / 2) / (fh / 2)
            r2 = (xs[None, :] ** 2 + ys[:, None] ** 2) / 2  # 1 in the corners
            falloff = 1 - effects.vignetting * r2
            codes = np.clip(255 * falloff + 0.5, 0, 255).astype(np.uint8)
            vignette = np.repeat(codes, 3, axis=1)
        return cls(effects, period, angle, phase, tone, vignette, waves, spot)

    # -- the light through the lens (before the sensor's noise and gains) --------------------
    def lens(self, frame: np.ndarray, quad: np.ndarray, rng: np.random.Generator
             ) -> np.ndarray:
        """Motion blur and moiré on a copy of the lens image (BGR)."""
        e = self.effects
        length = float(rng.uniform(*e.motion_blur))
        direction = float(rng.uniform(0, math.pi))
        out = frame
        if length >= 1.0:
            out = cv2.filter2D(frame, -1, motion_kernel(length, direction),
                               borderType=cv2.BORDER_REPLICATE)
        if e.moire > 0:
            out = out.copy() if out is frame else out
            self._add_moire(out, quad)
        return out

    def _add_moire(self, frame: np.ndarray, quad: np.ndarray) -> None:
        fh, fw = frame.shape[:2]
        x0, y0 = (max(0, math.floor(v)) for v in quad.min(axis=0))
        x1, y1 = math.ceil(min(fw, quad[:, 0].max())), math.ceil(min(fh, quad[:, 1].max()))
        if x1 <= x0 or y1 <= y0:
            return
        ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        k = 2 * math.pi / self.moire_period
        along = xs * math.cos(self.moire_angle) + ys * math.sin(self.moire_angle)
        # Two close frequencies: bands whose strength itself swells and fades (a beat).
        bands = np.sin(k * along + self.moire_phase) * (
            0.6 + 0.4 * np.sin(0.13 * k * along - self.moire_phase))
        inside = np.zeros((y1 - y0, x1 - x0), np.uint8)
        cv2.fillConvexPoly(inside, np.rint((quad - (x0, y0)) * 16).astype(np.int32), 1,
                           cv2.LINE_AA, 4)
        add = (self.effects.moire * bands * inside).astype(np.float32)
        roi = frame[y0:y1, x0:x1]
        np.copyto(roi, np.clip(roi + add[..., None] + 0.5, 0, 255).astype(np.uint8))

    # -- after the sensor's gains --------------------------------------------------------------
    def sensor(self, frame: np.ndarray, quad: np.ndarray, t: float,
               rng: np.random.Generator) -> None:
        """Vignetting, the camera's gain and gamma, a finger, a hot spot; in place (BGR)."""
        e = self.effects
        rows, cols = frame.shape[:2]
        flat = frame.reshape(rows, cols * 3)
        if self.vignette is not None:
            cv2.multiply(flat, self.vignette, dst=flat, scale=1 / 255)
        if self.tone is not None:
            cv2.LUT(frame, self.tone, dst=frame)
        finger = float(rng.random())
        side, along = int(rng.integers(4)), float(rng.uniform(0.12, 0.88))
        width = float(rng.uniform(*FINGER_WIDTH))
        depth = float(rng.uniform(-0.5, 1.0))
        skin = np.array(SKIN[int(rng.integers(len(SKIN)))], float) * rng.uniform(0.85, 1.1)
        if finger < e.finger:
            draw_finger(frame, quad, side, along, width, depth, skin)
        if e.glare_spot > 0:
            self._add_spot(frame, quad, t)

    def _add_spot(self, frame: np.ndarray, quad: np.ndarray, t: float) -> None:
        (px, phx), (py, phy) = self.spot_waves
        u = 0.5 + 0.45 * math.sin(2 * math.pi * t / px + phx)
        v = 0.5 + 0.45 * math.sin(2 * math.pi * t / py + phy)
        q = quad.astype(np.float64)
        top, bottom = q[0] + u * (q[1] - q[0]), q[3] + u * (q[2] - q[3])
        cx, cy = top + v * (bottom - top)
        sigma = max(1.5, self.spot_size * float(np.linalg.norm(q[1] - q[0])))
        fh, fw = frame.shape[:2]
        x0, x1 = max(0, int(cx - 3 * sigma)), min(fw, int(cx + 3 * sigma) + 1)
        y0, y1 = max(0, int(cy - 3 * sigma)), min(fh, int(cy + 3 * sigma) + 1)
        if x0 >= x1 or y0 >= y1:
            return
        gx = np.exp(-(((np.arange(x0, x1) - cx) / sigma) ** 2) / 2)
        gy = np.exp(-(((np.arange(y0, y1) - cy) / sigma) ** 2) / 2)
        # A flat-topped spot: a lamp's image, saturating in its middle.
        blob = np.minimum(1.0, 1.6 * np.outer(gy, gx)) * self.effects.glare_spot
        blob = cv2.cvtColor(np.rint(blob).astype(np.uint8), cv2.COLOR_GRAY2BGR)
        roi = frame[y0:y1, x0:x1]
        cv2.add(roi, blob, dst=roi)


def motion_kernel(length: float, direction: float) -> np.ndarray:
    """A linear blur of ``length`` px at ``direction`` (radians), sub-pixel ends weighted."""
    size = int(math.ceil(length)) | 1
    size += 2
    kernel = np.zeros((size, size), np.float32)
    c = (size - 1) / 2
    steps = max(2, int(length * 4))
    for s in np.linspace(-length / 2, length / 2, steps):
        x, y = c + s * math.cos(direction), c + s * math.sin(direction)
        ix, iy = int(math.floor(x)), int(math.floor(y))
        fx, fy = x - ix, y - iy
        for dx, dy, w in ((0, 0, (1 - fx) * (1 - fy)), (1, 0, fx * (1 - fy)),
                          (0, 1, (1 - fx) * fy), (1, 1, fx * fy)):
            if 0 <= ix + dx < size and 0 <= iy + dy < size:
                kernel[iy + dy, ix + dx] += w
    return kernel / kernel.sum()


def draw_finger(frame: np.ndarray, quad: np.ndarray, side: int, along: float,
                width: float, depth: float, skin: np.ndarray) -> np.ndarray:
    """A finger coming from outside over side ``side`` (0 top, 1 right, 2 bottom, 3 left) of
    the screen at ``along`` of its length; its tip ``depth`` times FINGER_INTO_SCREEN of the
    screen's shorter side inside the screen (negative: still on the bezel). Returns the
    finger's mask (uint8, 255 on the finger) for tests."""
    q = quad.astype(np.float64)
    a, b = q[side], q[(side + 1) % 4]
    centre = q.mean(axis=0)
    screen_w = float(np.linalg.norm(q[1] - q[0]))
    short = min(screen_w, float(np.linalg.norm(q[3] - q[0])))
    edge = a + along * (b - a)
    inward = centre - edge
    inward /= np.linalg.norm(inward)
    w = width * screen_w
    length = 4.0 * w
    tip = edge + inward * depth * FINGER_INTO_SCREEN * short
    middle = tip - inward * (length / 2)
    angle = math.degrees(math.atan2(inward[1], inward[0]))
    mask = np.zeros(frame.shape[:2], np.uint8)
    cv2.ellipse(mask, ((float(middle[0]), float(middle[1])), (length, w), angle), 255, -1,
                cv2.LINE_AA)
    x, y, bw, bh = cv2.boundingRect(mask)
    if bw == 0 or bh == 0:
        return mask
    roi = frame[y : y + bh, x : x + bw]
    alpha = cv2.GaussianBlur(mask[y : y + bh, x : x + bw], (0, 0), 1.2).astype(np.float32) / 255
    # Rounded: darker towards its sides, as a lit cylinder.
    dist = cv2.distanceTransform((mask[y : y + bh, x : x + bw] > 0).astype(np.uint8),
                                 cv2.DIST_L2, 3)
    shade = 0.7 + 0.3 * np.minimum(1.0, dist / max(1.0, w / 3))
    colour = np.clip(skin[None, None, :] * shade[..., None], 0, 255)
    roi[...] = np.clip(roi * (1 - alpha[..., None]) + colour * alpha[..., None] + 0.5, 0,
                       255).astype(np.uint8)
    return mask
