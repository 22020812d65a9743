"""The twin's lamps as a camera sees them: where they sit on the housing (the ``lamps``
list of a device file's ``display`` section) and how a lit or unlit one looks in a frame.

Which lamps a reader has, their colour and what lights them are behaviour
(``behaviour.leds``: ``powered`` or ``started``); where they are and how large is look
(here). A lamp on the reader's back (``side: back``) is never in a front camera's frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal

import attrs
import cv2
import numpy as np
import pydantic

from harness.errors import RigError
from harness.loading import Field
from harness.model.lamps import (
    LampColour,
    LampShape,
    LampSize,
    LampSpot,
    lamp_map,
    on_the_housing,
)

#: Light of a lit lamp (B, G, R), before the camera's gains: what the LED emits.
EMITTED: dict[str, tuple[float, float, float]] = {
    "white": (255, 255, 255),
    "red": (40, 30, 255),
    "amber": (0, 140, 255),
    "yellow": (0, 230, 255),
    "green": (70, 255, 40),
    "cyan": (255, 230, 0),
    "blue": (255, 110, 20),
    "purple": (255, 40, 200),
}
#: The glow around a lit lamp: its peak (DN) and its Gaussian width in units of the lamp's
#: shape; it fades to nothing by twice the lamp's size (where a reader compares).
_GLOW_PEAK, _GLOW_SIGMA = 220.0, 0.6


class LampLook(Field):
    """One lamp of ``behaviour.leds`` (same ``name``), where a camera sees it."""

    name: str
    #: ``front``: on the face around the screen; ``back``: behind it (never in the frame of
    #: a camera in front of the reader, so it has no position).
    side: Literal["front", "back"] = "front"
    #: Centre and (width, height) in normalised screen coordinates ((1, 1) is the screen's
    #: bottom-right corner: a lamp below the screen has y > 1).
    #: Checked as the camera's LampSpot checks it, when the file loads (not first when a
    #: camera draws it, mid-run).
    at: Annotated[tuple[float, float], pydantic.AfterValidator(on_the_housing)] | None = None
    size: LampSize | None = None
    shape: LampShape = "round"

    @pydantic.model_validator(mode="after")
    def _placed(self) -> LampLook:
        if self.side == "front" and (self.at is None or self.size is None):
            raise ValueError(f"lamp {self.name!r} is on the front: give 'at' and 'size'")
        if self.side == "back" and self.at is not None:
            raise ValueError(f"lamp {self.name!r} is on the back: a front camera never sees "
                             "it, so it has no 'at'")
        return self

    def spot(self) -> LampSpot | None:
        if self.side != "front":
            return None
        assert self.at is not None and self.size is not None
        return LampSpot(name=self.name, at=self.at, size=self.size, shape=self.shape)


@attrs.frozen
class LampState:
    """A lamp in one frame: where it is, its colour and whether it is lit."""

    spot: LampSpot
    colour: LampColour
    lit: bool


def lamp_states(looks: Sequence[LampLook], leds: dict[str, tuple[str, bool]]
                ) -> list[LampState]:
    """The front lamps of a twin now, from its looks and ``twin.leds()``
    (name -> (colour, lit))."""
    states = []
    for look in looks:
        spot = look.spot()
        if spot is None:
            continue
        colour, lit = leds[look.name]
        states.append(LampState(spot, colour, lit))  # type: ignore[arg-type]
    return states


def check_looks(looks: Sequence[LampLook], led_names: Sequence[str], who: str) -> None:
    """Every drawn lamp is one the behaviour lights (and the other way round)."""
    drawn = {look.name for look in looks}
    if drawn != set(led_names):
        raise RigError(
            f"{who}: display.lamps {sorted(drawn)} and behaviour.leds {sorted(led_names)} "
            "name different lamps")


#: A lamp is drawn out to this many radii (its glow).
_DRAWN_OUT_TO = 2.4

#: The shapes of the lamps drawn lately, by their distance map (lamp_map keeps one per lamp
#: and pose): a fixed camera draws the same lamps frame after frame.
_SHAPES: dict[tuple[int, float], tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = {}


def _lamp_shape(d: np.ndarray, blur: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For a lamp's distance map: its coverage (alpha, with an anti-aliased edge about one
    pixel wide), its glow's fall-off, and its coverage through the lens blur."""
    key = (id(d), blur)
    kept = _SHAPES.get(key)
    if kept is not None and kept[0] is d:
        return kept[1:]
    # anti-aliased edge: about one pixel wide, from how fast d changes across the ROI
    gy, gx = np.gradient(d)
    step = float(np.median(np.hypot(gx, gy))) or 1.0
    alpha = np.clip((1 - d) / step + 0.5, 0, 1)[..., None]
    glow = np.exp(-(d**2) / (2 * _GLOW_SIGMA**2))[..., None]
    cover = cv2.GaussianBlur(alpha[..., 0], (0, 0), blur) if blur > 0 else alpha[..., 0]
    if len(_SHAPES) >= 256:
        _SHAPES.clear()
    _SHAPES[key] = (d, alpha, glow, cover)
    return alpha, glow, cover


def lamp_box(quad: np.ndarray, lamp: LampState, blur: float, frame: tuple[int, int]
             ) -> tuple[int, int, int, int] | None:
    """The frame box :func:`draw_lamps` draws ``lamp`` in (None: out of the frame)."""
    mapped = lamp_map(quad, lamp.spot, _DRAWN_OUT_TO, _reach(blur), frame)
    return None if mapped is None else mapped[0]


def _reach(blur: float) -> int:
    return int(np.ceil(3 * blur)) + 2


def draw_lamps(
    frame: np.ndarray,
    quad: np.ndarray,
    lamps: Sequence[LampState],
    *,
    gains: np.ndarray | None,
    blur: float,
    noise: float,
    seed: int,
) -> None:
    """Draw ``lamps`` into ``frame`` (BGR uint8, after the camera's gains, in place), on the
    plane of the screen whose corners are ``quad``. Lit: a bright core and a coloured
    glow, light the exposure scales too; unlit: a dim grey disc, a little lighter than the
    housing and faintly tinted by its plastic. Blurred by the lens and given sensor noise
    like the rest of the frame."""
    if not lamps:
        return
    fh, fw = frame.shape[:2]
    g = np.ones(3, np.float32) if gains is None else np.asarray(gains, np.float32)
    reach = _reach(blur)
    rng = np.random.default_rng(seed)
    for lamp in lamps:
        mapped = lamp_map(quad, lamp.spot, _DRAWN_OUT_TO, reach, (fw, fh))
        if mapped is None:
            continue
        (x0, y0, x1, y1), d = mapped
        alpha, glow_shape, blurred_alpha = _lamp_shape(d, blur)
        roi = frame[y0:y1, x0:x1].astype(np.float32)
        colour = np.array(EMITTED[lamp.colour], np.float32)
        if lamp.lit:
            # the LED's own colour, a little paled; a strong exposure clips it (as a
            # real camera does: an over-exposed amber LED turns yellow, a green one white)
            core = np.clip(0.9 * colour + 0.1 * 255, 0, 255) * g
            glow = colour * (_GLOW_PEAK / 255) * glow_shape
            drawn = (roi + glow * g) * (1 - alpha) + core * alpha
        else:
            ring = (d > 1.3) & (d < 2.2)
            housing = np.median(roi[ring], axis=0) if ring.any() else roi.reshape(-1, 3).mean(0)
            grey = float(housing.mean()) * 1.3 + 10 * float(g.mean())
            tint = 0.85 + 0.15 * colour / colour.mean()
            drawn = roi * (1 - alpha) + grey * tint * alpha
        delta = drawn - roi
        if blur > 0:
            delta = cv2.GaussianBlur(delta, (0, 0), blur)
        if noise > 0:
            delta += (rng.standard_normal(delta.shape, dtype=np.float32) * noise
                      * blurred_alpha[..., None])
        frame[y0:y1, x0:x1] = np.clip(roi + delta + 0.5, 0, 255).astype(np.uint8)
