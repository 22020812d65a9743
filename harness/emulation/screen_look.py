"""How an emulated screen looks: the ``display`` section of a device file.

Makers differ here in data (colours, header, alignment, a clock), never in renderer code.
The notices give texts, not pictures of whole screens: every look is the twin's own.
"""

from __future__ import annotations

from typing import Annotated, Literal

import pydantic

from harness.emulation.lamps import LampLook
from harness.loading import Field


def bgr(colour: str) -> tuple[int, int, int]:
    """``#rrggbb`` -> OpenCV's (b, g, r)."""
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return b, g, r


#: ``#rrggbb``, as in CSS.
Colour = Annotated[str, pydantic.StringConstraints(pattern=r"^#[0-9a-fA-F]{6}$")]


class Palette(Field):
    background: Colour
    text: Colour
    #: A band across the top (the header) or, for errors, a warning stripe.
    band: Colour
    band_text: Colour = "#ffffff"


#: Any length on the panel, in pixels, at most this: a panel larger than 4096 px (or a
#: spinner drawn on one) is a typo, and drawing it would exhaust the rig's memory.
MAX_PIXELS = 4096
#: A panel's side, in pixels: from a small status display to a 4K monitor (a panel under
#: about 100 px has no room for the layout's margins: drawing it failed).
MIN_PIXELS = 160
PanelSide = Annotated[int, pydantic.Field(ge=MIN_PIXELS, le=MAX_PIXELS)]


class Spinner(Field):
    radius: int = pydantic.Field(default=70, ge=8, le=MAX_PIXELS // 2)
    thickness: int = pydantic.Field(default=14, ge=2, le=MAX_PIXELS // 2)
    track: Colour = "#d0d0d0"
    arc: Colour = "#2a6fdb"
    #: Seconds per turn.
    period_s: float = pydantic.Field(default=1.2, gt=0)
    #: How much the screen under the circle is darkened (0: not at all).
    veil: float = pydantic.Field(default=0.35, ge=0, le=0.9)


class ScreenLook(Field):
    #: Width and height of the panel in pixels, each 160 to 4096 (checked when the file
    #: loads: a zero, negative or huge panel would fail or exhaust the run mid-way).
    size: tuple[PanelSide, PanelSide] = (1024, 600)
    #: ``reader``: texts on the page, buttons along the bottom. ``dialog``: a desktop with a
    #: window in the middle (the eligibility terminal's monitor).
    layout: Literal["reader", "dialog"] = "reader"
    #: Shown in the header band (the product name on a reader, the app on the terminal).
    title: str = ""
    align: Literal["center", "left"] = "center"
    text_size: int = pydantic.Field(default=40, ge=10, le=120)
    header_height: int = pydantic.Field(default=72, ge=0, le=MAX_PIXELS)
    #: A clock (HH:MM) at the right of the header: it changes, so references mask it.
    clock: bool = False
    #: A maker's logo text along the bottom edge.
    footer: str | None = None
    normal: Palette
    #: Used for screen classes starting with ``error_``.
    error: Palette
    button: Palette
    #: What a switched-off or sleeping panel shows.
    dark: Colour = "#060606"
    spinner: Spinner = Spinner()
    #: The lamps on the housing around the panel (one per ``behaviour.leds``): where a
    #: camera sees them. Not part of the screen's pixels (nor of its fingerprint).
    lamps: list[LampLook] = []


def look_fingerprint(look: ScreenLook) -> str:
    """Short and stable: equal for equal looks, different after any change of a field."""
    import hashlib

    return hashlib.sha256(look.model_dump_json(exclude={"lamps"}).encode()).hexdigest()[:16]
