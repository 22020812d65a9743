"""Where the screen is in a camera's frame: the calibration.

A :class:`Calibration` is the screen's four corners in the frame and the sizes on both
sides; it gives the homography that rectifies the screen, and is saved as JSON (or inline in
a bench file) so a bench camera is calibrated once. Finding the corners is
harness/vision/locate.py's business.
"""

from __future__ import annotations

import json
from pathlib import Path

import attrs
import cv2
import numpy as np

from harness.errors import BadInput
from harness.loading import MAX_BYTES, bounded_bytes, json_loads


@attrs.frozen(eq=False)
class Calibration:
    #: Screen corners in the frame: top-left, top-right, bottom-right, bottom-left.
    quad: np.ndarray
    frame_size: tuple[int, int]
    #: The reference set's screen size (the transform's target).
    screen_size: tuple[int, int]
    #: How the screen was found (``quad`` or ``features``).
    method: str = "quad"

    def homography(self, out_size: tuple[int, int]) -> np.ndarray:
        w, h = out_size
        target = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
        return cv2.getPerspectiveTransform(self.quad.astype(np.float32), target)

    def rectify(self, image: np.ndarray, out_size: tuple[int, int]) -> np.ndarray:
        return cv2.warpPerspective(image, self.homography(out_size), out_size,
                                   flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)

    def shift(self, other: Calibration) -> float:
        """Largest corner movement between two calibrations, in frame pixels."""
        return float(np.max(np.linalg.norm(self.quad - other.quad, axis=1)))

    def as_json(self) -> dict[str, object]:
        return {
            "quad": [[round(float(x), 2), round(float(y), 2)] for x, y in self.quad],
            "frame_size": list(self.frame_size),
            "screen_size": list(self.screen_size),
            "method": self.method,
        }

    def save(self, path: Path) -> None:
        from harness.report.live import atomic_write

        # Whole or not at all: a full disk never leaves a cut calibration to load.
        atomic_write(path, (json.dumps(self.as_json(), indent=2) + "\n").encode("utf-8"))

    @classmethod
    def load(cls, path: Path) -> Calibration:
        try:
            text = bounded_bytes(path, MAX_BYTES).decode("utf-8")  # not /dev/zero whole
            data = json_loads(text, object_pairs_hook=_once)
        except FileNotFoundError:
            raise BadInput(str(path), None, "", "no such calibration file") from None
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise BadInput(str(path), None, "", f"cannot read it as JSON ({exc})") from None
        try:
            return cls.from_json(data)
        except ValueError as exc:
            raise BadInput(str(path), None, "", f"not a calibration file ({exc})") from None

    @classmethod
    def from_json(cls, data: object) -> Calibration:
        """A calibration from :meth:`as_json`'s mapping; ValueError says what is wrong."""
        try:
            if not isinstance(data, dict):
                raise ValueError("a calibration is a mapping (quad, frame_size, screen_size)")
            unknown = sorted(str(k) for k in set(data) - set(FIELDS))
            if unknown:  # a typo of ``method`` would pass silently
                raise ValueError(f"unknown field {', '.join(unknown)} (a typo?)")
            quad = _quad(data["quad"])
            sizes = [_size(data[key], key) for key in ("frame_size", "screen_size")]
            method = data.get("method", "quad")
            if method not in METHODS:
                raise ValueError(f"method must be {' or '.join(METHODS)}, not {method!r}")
            _plausible(quad, sizes[0])
        except KeyError as exc:
            raise ValueError(f"{exc.args[0]} is missing") from None
        except TypeError as exc:
            raise ValueError(str(exc)) from None
        return cls(quad, sizes[0], sizes[1], method)


#: What :meth:`Calibration.as_json` writes, and the ways locate.py finds a screen.
FIELDS = ("quad", "frame_size", "screen_size", "method")
METHODS = ("quad", "features")
#: A side at most (pixels): a frame's beyond any camera's (16K), a screen's as a twin's
#: panel (screen_look.MAX_PIXELS); more is a typo, and rectifying to it would exhaust memory.
MAX_SIDE = {"frame_size": 16_384, "screen_size": 4_096}


def _once(pairs: list[tuple[str, object]]) -> dict[str, object]:
    """A JSON object whose keys are each given once (json keeps the last silently)."""
    data: dict[str, object] = {}
    for key, value in pairs:
        if key in data:
            raise ValueError(f"{key} is given twice")
        data[key] = value
    return data


def _quad(value: object) -> np.ndarray:
    try:
        quad = np.asarray(value, np.float32)
    except (OverflowError, ValueError):  # an integer beyond any float, ragged lists
        quad = np.zeros(0, np.float32)
    if quad.shape != (4, 2) or not np.isfinite(quad).all():
        raise ValueError("quad must be four [x, y] corners")
    return quad


def _plausible(quad: np.ndarray, frame_size: tuple[int, int]) -> None:
    width, height = frame_size
    if np.abs(quad).max() > 4 * max(width, height):
        raise ValueError("quad lies far outside the frame")
    if not cv2.isContourConvex(quad.reshape(-1, 1, 2)):
        raise ValueError("quad is not a convex quadrilateral")
    if cv2.contourArea(quad) < 0.001 * width * height:
        raise ValueError("quad encloses almost no area")


def _size(value: object, key: str) -> tuple[int, int]:
    if (not isinstance(value, list) or len(value) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) and 0 < v <= MAX_SIDE[key]
                       for v in value)):
        raise ValueError(f"{key} must be [width, height], two positive integers up to "
                         f"{MAX_SIDE[key]}")
    return value[0], value[1]


def order_corners(points: np.ndarray) -> np.ndarray:
    """Four points -> top-left, top-right, bottom-right, bottom-left."""
    pts = points.reshape(4, 2).astype(np.float32)
    centre = pts.mean(axis=0)
    angles = np.arctan2(pts[:, 1] - centre[1], pts[:, 0] - centre[0])
    pts = pts[np.argsort(angles)]  # clockwise from the left (image y points down)
    # Start at the corner nearest the top-left of its bounding box.
    start = int(np.argmin(pts[:, 0] + pts[:, 1]))
    return np.roll(pts, -start, axis=0)




def screen_box(quad: np.ndarray, width: int, height: int) -> tuple[int, int, int, int]:
    """The frame pixels the screen's quad covers, and a margin for the warps'
    interpolation: x0, y0, x1, y1 (exclusive) within a width x height frame; what the
    classifier cuts out of a frame."""
    quad = np.asarray(quad, np.float64)
    return (max(0, int(np.floor(quad[:, 0].min())) - 2),
            max(0, int(np.floor(quad[:, 1].min())) - 2),
            min(int(width), int(np.ceil(quad[:, 0].max())) + 3),
            min(int(height), int(np.ceil(quad[:, 1].max())) + 3))


def inside_fraction(quad: np.ndarray, width: int, height: int) -> float:
    """The part of the quadrilateral's area that lies in a width x height frame."""
    area = cv2.contourArea(quad.astype(np.float32))
    if area <= 0:
        return 0.0
    frame = np.float32([[0, 0], [width, 0], [width, height], [0, height]])
    common, _ = cv2.intersectConvexConvex(quad.astype(np.float32), frame)
    return float(common) / area
