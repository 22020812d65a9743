"""Lamps on a reader's housing (ERR-07: the Atlas EXC-9000's green power LED on its back,
its MATSUMURA logo lamp at the card slot that lights white once started).

Shared by the twin's camera (which draws them) and the vision code (which measures them):
the colour names and where a lamp is, as a shape in *normalised screen coordinates*:
(0, 0) is the screen's top-left corner, (1, 1) its bottom-right, so a lamp below the screen
has y > 1. A lamp lies on the housing's face, in the screen's plane, so the screen's own
perspective (its four corners in the frame) places it.
"""

from __future__ import annotations

import functools
from typing import Annotated, Literal

import numpy as np
import pydantic

from harness.loading import Field

#: The colours a lamp is declared (and read) in.
LampColour = Literal["white", "red", "amber", "yellow", "green", "cyan", "blue", "purple"]
#: ``round``: an ellipse filling ``size``; ``bar``: a rounded rectangle (a lit logo strip).
LampShape = Literal["round", "bar"]


def on_the_housing(value: tuple[float, float]) -> tuple[float, float]:
    """A lamp's centre within a screen's size of the screen (a typo such as 12 for 1.2
    would otherwise put it off the reader): the twin's looks and the bench's cameras both
    check it when their file loads."""
    if not all(-1.0 <= v <= 2.0 for v in value):
        raise ValueError(f"{list(value)} is not on the housing (need -1 <= x, y <= 2)")
    return value


#: A lamp's width or height: above 0, at most the screen's own (a lamp larger than the
#: panel is a typo, and would cover the screen a reader is read by).
LampExtent = Annotated[float, pydantic.Field(gt=0, le=1)]
LampSize = tuple[LampExtent, LampExtent]


class LampSpot(Field):
    """Where a lamp is, as seen with the screen: its centre ``at`` and its ``size``
    (width, height), both in normalised screen coordinates."""

    name: str
    at: Annotated[tuple[float, float], pydantic.AfterValidator(on_the_housing)]
    size: LampSize
    shape: LampShape = "round"


def lamp_distance(spot: LampSpot, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """How far normalised screen points are from the lamp's centre in units of its shape:
    below 1 inside, 1 on its edge, 2 as far out again as the shape is large."""
    dx = (u - spot.at[0]) / (spot.size[0] / 2)
    dy = (v - spot.at[1]) / (spot.size[1] / 2)
    if spot.shape == "round":
        return np.hypot(dx, dy)
    return (dx**4 + dy**4) ** 0.25  # a squircle: a bar with rounded corners


def lamp_outline(spot: LampSpot, scale: float = 1.0, points: int = 48) -> np.ndarray:
    """(N, 2) points on the contour ``lamp_distance == scale``, normalised coordinates."""
    a = np.linspace(0, 2 * np.pi, points, endpoint=False)
    c, s = np.cos(a), np.sin(a)
    if spot.shape == "bar":
        c, s = np.sign(c) * np.sqrt(np.abs(c)), np.sign(s) * np.sqrt(np.abs(s))
    half = np.array(spot.size) / 2 * scale
    return np.array(spot.at) + np.c_[c, s] * half


def unit_square_to(quad: np.ndarray) -> np.ndarray:
    """Homography from normalised screen coordinates to the frame, given the screen's
    corners (tl, tr, br, bl) in the frame."""
    import cv2

    unit = np.float32([[0, 0], [1, 0], [1, 1], [0, 1]])
    return cv2.getPerspectiveTransform(unit, np.asarray(quad, np.float32)).astype(np.float64)


def to_unit(h: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Frame pixels -> normalised screen coordinates (``h`` from :func:`unit_square_to`)."""
    inv = np.linalg.inv(h)
    w = inv[2, 0] * xs + inv[2, 1] * ys + inv[2, 2]
    return ((inv[0, 0] * xs + inv[0, 1] * ys + inv[0, 2]) / w,
            (inv[1, 0] * xs + inv[1, 1] * ys + inv[1, 2]) / w)


def project(h: np.ndarray, points: np.ndarray) -> np.ndarray:
    p = np.c_[points, np.ones(len(points))] @ h.T
    return p[:, :2] / p[:, 2:3]


def frame_box(h: np.ndarray, spot: LampSpot, scale: float, grow: int,
              frame_size: tuple[int, int]) -> tuple[int, int, int, int] | None:
    """The frame rectangle (x0, y0, x1, y1) holding the lamp out to ``scale``, grown by
    ``grow`` px and clipped to the frame; None if nothing of it is in the frame."""
    pts = project(h, lamp_outline(spot, scale))
    fw, fh = frame_size
    x0 = max(0, int(np.floor(pts[:, 0].min())) - grow)
    y0 = max(0, int(np.floor(pts[:, 1].min())) - grow)
    x1 = min(fw, int(np.ceil(pts[:, 0].max())) + grow + 1)
    y1 = min(fh, int(np.ceil(pts[:, 1].max())) + grow + 1)
    return None if x0 >= x1 or y0 >= y1 else (x0, y0, x1, y1)


def lamp_map(quad: np.ndarray, spot: LampSpot, scale: float, grow: int,
             frame_size: tuple[int, int]) -> tuple[tuple[int, int, int, int], np.ndarray] | None:
    """The frame box holding the lamp out to ``scale`` (see :func:`frame_box`) and the
    :func:`lamp_distance` of each of its pixels (float32, read-only); None if the lamp is
    out of the frame. Kept per pose: a fixed camera's lamps stay where they are."""
    q = np.asarray(quad, np.float32)
    return _lamp_map(q.tobytes(), spot, float(scale), int(grow), tuple(frame_size))


@functools.lru_cache(maxsize=64)
def _lamp_map(quad: bytes, spot: LampSpot, scale: float, grow: int,
              frame_size: tuple[int, int]) -> tuple[tuple[int, int, int, int], np.ndarray] | None:
    h = unit_square_to(np.frombuffer(quad, np.float32).reshape(4, 2))
    box = frame_box(h, spot, scale, grow, frame_size)
    if box is None:
        return None
    x0, y0, x1, y1 = box
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float64)
    d = lamp_distance(spot, *to_unit(h, xs, ys)).astype(np.float32)
    d.flags.writeable = False
    return box, d
