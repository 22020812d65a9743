"""A reader's screen on the robot's table: the homography from screen fractions (0 to 1
across and down, from the top left) to table millimetres, fitted to the corners and points
the lab touched (RobotCalibration in harness/model/robot_spec.py).

A fit the points disagree with is refused with the point and the distance, so a corner
typed in the wrong order or a slip while jogging is named before a press lands anywhere.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs
import numpy as np

if TYPE_CHECKING:
    from harness.model.robot_spec import RobotCalibration

#: Screen fractions of the corners, in the order the calibration lists them.
CORNERS = ((0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0))
#: A screen smaller than this on the table (mm²) is a typing mistake, not a panel.
MIN_AREA_MM2 = 25.0


def _normaliser(points: np.ndarray) -> np.ndarray:
    # Hartley: centred, mean distance sqrt(2); keeps the DLT well conditioned in mm.
    centre = points.mean(axis=0)
    spread = np.sqrt(((points - centre) ** 2).sum(axis=1)).mean() or 1.0
    s = np.sqrt(2) / spread
    return np.array([[s, 0, -s * centre[0]], [0, s, -s * centre[1]], [0, 0, 1]])


def fit_homography(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The 3x3 homography taking ``src`` to ``dst`` (N >= 4 point pairs, least squares)."""
    ts, td = _normaliser(src), _normaliser(dst)
    a = np.c_[src, np.ones(len(src))] @ ts.T
    b = np.c_[dst, np.ones(len(dst))] @ td.T
    rows = []
    for (x, y, _), (u, v, _) in zip(a, b, strict=True):
        rows.append([-x, -y, -1, 0, 0, 0, u * x, u * y, u])
        rows.append([0, 0, 0, -x, -y, -1, v * x, v * y, v])
    _, _, vt = np.linalg.svd(np.asarray(rows))
    h = np.linalg.inv(td) @ vt[-1].reshape(3, 3) @ ts
    return h / h[2, 2]


def _apply(h: np.ndarray, point: tuple[float, float]) -> tuple[float, float]:
    x, y, w = h @ np.array([point[0], point[1], 1.0])
    return float(x / w), float(y / w)


def _convex_in_order(quad: np.ndarray) -> bool:
    # Each turn the same way round: a convex quadrilateral, corners in order, none on a line.
    edges = np.roll(quad, -1, axis=0) - quad
    following = np.roll(edges, -1, axis=0)
    turns = edges[:, 0] * following[:, 1] - edges[:, 1] * following[:, 0]
    return all(t > 0 for t in turns) or all(t < 0 for t in turns)


@attrs.frozen(eq=False)
class ScreenToTable:
    """Screen fractions -> table mm (and back) for one reader."""

    matrix: np.ndarray
    #: The largest distance (mm) of a touched point from where the fit puts it.
    residual_mm: float

    @classmethod
    def of(cls, calibration: RobotCalibration) -> ScreenToTable:
        """Fitted to the calibration's corners and points; ValueError naming what does not
        fit (corners out of order, a point off by more than the tolerance)."""
        corners = np.asarray(calibration.corners, float)
        if not _convex_in_order(corners):
            raise ValueError("corners: not top-left, top-right, bottom-right, bottom-left in "
                             "turn (or three on one line)")
        x, y = corners[:, 0], corners[:, 1]
        area = 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))
        if area < MIN_AREA_MM2:
            raise ValueError(f"corners: enclose {area:.1f} mm², too small for a screen")
        src = np.array([*CORNERS, *(p.screen for p in calibration.points)], float)
        dst = np.array([*calibration.corners, *(p.table for p in calibration.points)], float)
        matrix = fit_homography(src, dst)
        errors = [float(np.hypot(*np.subtract(_apply(matrix, tuple(s)), d)))
                  for s, d in zip(src, dst, strict=True)]
        worst = int(np.argmax(errors))
        if errors[worst] > calibration.tolerance_mm:
            what = (f"corners[{worst}]" if worst < 4 else f"points[{worst - 4}]")
            raise ValueError(f"{what} lies {errors[worst]:.2f} mm from where the other points "
                             f"put it (tolerance {calibration.tolerance_mm:g} mm)")
        return cls(matrix, max(errors))

    def table(self, u: float, v: float) -> tuple[float, float]:
        """Where on the table the screen's point (``u`` across, ``v`` down, 0 to 1) lies."""
        return _apply(self.matrix, (u, v))

    def screen(self, x: float, y: float) -> tuple[float, float]:
        """The screen fractions of table point (``x``, ``y``)."""
        return _apply(np.linalg.inv(self.matrix), (x, y))
