"""Has the camera moved? Asked of the bezel, not the screen.

When a screen stops matching its references (an unknown or a dark one), either the screen
shows something new or the camera was knocked. A search of the whole frame tells them apart
but costs fifty looks. The ring around the screen (bezel, housing, the bench beside it)
does not change with what the screen shows: compared with how it looked on the last frame
the screen was recognised, by normalised correlation (blind to exposure and gain drift),
it says at once whether the camera still sees the reader where it did.
"""

from __future__ import annotations

import attrs
import cv2
import numpy as np

from harness.vision.geometry import Calibration

#: How far around the screen the ring reaches, as a share of the screen's size.
RING = 0.12
#: The ring's picture is compared at this size (its longer side, pixels).
SIDE = 320
#: Correlation at or above which the ring is the same (the camera did not move).
SAME = 0.9


@attrs.frozen(eq=False)
class Ring:
    """The ring around a calibrated screen in one frame, grey, zero mean, unit norm."""

    box: tuple[int, int, int, int]
    size: tuple[int, int]
    mask: np.ndarray
    picture: np.ndarray

    @classmethod
    def of(cls, frame: np.ndarray, calibration: Calibration) -> Ring | None:
        quad = np.asarray(calibration.quad, np.float32)
        (x0, y0), (x1, y1) = quad.min(axis=0), quad.max(axis=0)
        gx, gy = RING * (x1 - x0), RING * (y1 - y0)
        h, w = frame.shape[:2]
        box = (max(0, int(x0 - gx)), max(0, int(y0 - gy)),
               min(w, int(np.ceil(x1 + gx))), min(h, int(np.ceil(y1 + gy))))
        bw, bh = box[2] - box[0], box[3] - box[1]
        if bw < 16 or bh < 16:
            return None
        scale = SIDE / max(bw, bh)
        size = (max(8, round(bw * scale)), max(8, round(bh * scale)))
        # The screen itself (grown a little: its edge blurs into the bezel) is left out.
        mask = np.full((size[1], size[0]), 255, np.uint8)
        inner = ((quad - np.array([box[0], box[1]], np.float32)) * scale).round()
        cv2.fillConvexPoly(mask, inner.astype(np.int32), 0)
        mask = cv2.erode(mask, np.ones((5, 5), np.uint8))
        keep = mask > 0
        if keep.sum() < 64:
            return None
        return cls(box, size, keep, _normalised(frame, box, size, keep))

    def same_in(self, frame: np.ndarray) -> bool:
        """The ring looks as it did (the camera has not moved)."""
        if frame.shape[0] < self.box[3] or frame.shape[1] < self.box[2]:
            return False
        picture = _normalised(frame, self.box, self.size, self.mask)
        return float((picture * self.picture).sum()) >= SAME


def _normalised(frame: np.ndarray, box: tuple[int, int, int, int], size: tuple[int, int],
                keep: np.ndarray) -> np.ndarray:
    x0, y0, x1, y1 = box
    crop = frame[y0:y1, x0:x1]
    if crop.ndim == 3:
        crop = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    small = cv2.resize(crop, size, interpolation=cv2.INTER_AREA).astype(np.float32)
    values = small[keep]
    values -= values.mean()
    norm = float(np.linalg.norm(values))
    return values / norm if norm > 1e-6 else values
