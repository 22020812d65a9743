"""Draws what an emulated screen shows, as a camera in front of the panel would see it.

Text is set with Noto Sans CJK (Debian ``fonts-noto-cjk``), the face Japanese UIs use. The
committed reference screens were drawn by this module; a renderer *primed* with them draws
any screen whose content they already hold without the font, so a machine without the font
can still run the emulated bench. What changes with time (a clock, a turning loading
circle) is drawn per frame with OpenCV and never needs the font.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import NamedTuple

import attrs
import cv2
import numpy as np

from harness.emulation.screen_look import Palette, ScreenLook, bgr, look_fingerprint
from harness.fonts import Fonts as _Fonts
from harness.vision.reference import ReferenceSet, Region, TextLine

#: Lines may not start with these (a light form of kinsoku shori).
_NO_LINE_START = set("、。，．・：；？！）」』】〉》ー〜")
_MARGIN = 48


@attrs.frozen
class Drawn:
    """The content of a screen, as a twin reports it."""

    state: str
    shows: str
    texts: tuple[str, ...] = ()
    #: Button labels.
    buttons: tuple[str, ...] = ()
    overlay: str | None = None
    #: A dialog's title bar (terminal).
    title: str | None = None

    @property
    def content_key(self) -> tuple[object, ...]:
        """What the static part of the picture depends on (not the state's name): the
        terminal's desktop is drawn as no dialog, whatever else is empty."""
        return (_palette_kind(self.shows), self.shows == "desktop", self.texts, self.buttons,
                self.title)


@attrs.frozen(eq=False)
class Rendered:
    image: np.ndarray
    regions: tuple[Region, ...]
    #: How each text was drawn, line by line (for glyph-by-glyph text checks).
    lines: tuple[TextLine, ...] = ()


def _palette_kind(shows: str) -> str:
    if shows in ("dark", "off"):
        return "dark"
    return "error" if shows.startswith("error_") or shows.endswith("_error") else "normal"


def wrap(text: str, width: float, measure) -> list[str]:  # noqa: ANN001
    """Break ``text`` into lines no wider than ``width``: Japanese breaks between any two
    characters, but never before closing punctuation nor inside an error code (【...】)
    that fits on one line."""
    lines: list[str] = []
    line = ""
    for token in _tokens(text, width, measure):
        if line and measure(line + token) > width and token[0] not in _NO_LINE_START:
            lines.append(line)
            line = token
        else:
            line += token
    if line:
        lines.append(line)
    return lines


def _tokens(text: str, width: float, measure) -> list[str]:  # noqa: ANN001
    tokens: list[str] = []
    i = 0
    while i < len(text):
        end = text.find("】", i) if text[i] == "【" else -1
        if end > 0 and measure(text[i : end + 1]) <= width:
            tokens.append(text[i : end + 1])
            i = end + 1
        else:
            tokens.append(text[i])
            i += 1
    return tokens


def _clean(text: str) -> str:
    # Variation selectors ask for emoji presentation; the panel draws the text glyph.
    return text.replace("\ufe0f", "")


class PictureKey(NamedTuple):
    """What one rendered picture depends on (:meth:`ScreenRenderer.picture_key`)."""

    content: object
    #: The header clock's text (None: no clock drawn); it changes only :meth:`clock_box`.
    clock: str | None
    overlay: str | None
    #: The loading circle's time (it turns).
    spin: float | None


class ScreenRenderer:
    """Draws :class:`Drawn` contents in one device's :class:`ScreenLook`."""

    def __init__(self, look: ScreenLook) -> None:
        self.look = look
        self._fonts = _Fonts()
        self._pages: dict[tuple[object, ...], Rendered] = {}

    @property
    def size(self) -> tuple[int, int]:
        return self.look.size

    def prime(self, references: ReferenceSet) -> int:
        """Take already drawn pages from reference screens drawn in this very look;
        returns how many were taken (none when the look differs: a deviated panel)."""
        if references.look != look_fingerprint(self.look):
            return 0
        taken = 0
        for ref in references:
            if ref.overlay is not None or ref.image.shape[1::-1] != tuple(self.look.size):
                continue
            key = Drawn(ref.state, ref.shows or ref.state, ref.texts, ref.buttons,
                        title=ref.title).content_key
            regions = tuple(r for r in ref.regions if r.kind != "spinner")
            self._pages.setdefault(key, Rendered(ref.image, regions, ref.lines))
            taken += 1
        return taken

    def picture_key(
        self, drawn: Drawn, t: float = 0.0, wallclock: dt.datetime | None = None
    ) -> PictureKey:
        """What :meth:`render` draws from these arguments: two equal keys, one picture."""
        # (The palette's kind is in the content key.)
        dark = _palette_kind(drawn.shows) == "dark"
        clock = self._clock_text(wallclock) if self.look.clock and not dark else None
        return PictureKey(drawn.content_key, clock, drawn.overlay,
                          t if drawn.overlay == "spinner" else None)

    def render(
        self, drawn: Drawn, t: float = 0.0, wallclock: dt.datetime | None = None
    ) -> Rendered:
        page = self._page(drawn)
        image = page.image.copy()
        regions = list(page.regions)
        kind = _palette_kind(drawn.shows)
        if self.look.clock and kind != "dark":
            palette = self.look.error if kind == "error" else self.look.normal
            regions.append(self._draw_clock(image, palette, wallclock))
        if drawn.overlay == "spinner":
            regions.append(self._draw_spinner(image, t))
        return Rendered(image, tuple(regions), page.lines)

    # -- static page --------------------------------------------------------------------
    def _page(self, drawn: Drawn) -> Rendered:
        key = drawn.content_key
        page = self._pages.get(key)
        if page is None:
            page = self._draw_page(drawn)
            self._pages[key] = page
        return page

    def _draw_page(self, drawn: Drawn) -> Rendered:
        from PIL import Image, ImageDraw

        look = self.look
        width, height = look.size
        kind = _palette_kind(drawn.shows)
        if kind == "dark":
            image = np.zeros((height, width, 3), np.uint8)
            image[:] = bgr(look.dark)
            return Rendered(image, ())
        palette = look.error if kind == "error" else look.normal
        canvas = Image.new("RGB", (width, height), _rgb(palette.background))
        draw = ImageDraw.Draw(canvas)
        regions: list[Region] = []
        lines: list[TextLine] = []
        if look.layout == "dialog":
            self._draw_dialog(draw, drawn, palette, regions, lines)
        else:
            self._draw_reader_page(draw, drawn, palette, regions, lines)
        image = cv2.cvtColor(np.asarray(canvas), cv2.COLOR_RGB2BGR)
        lines.sort(key=lambda line: (line.box[1], line.box[0]))
        return Rendered(image, tuple(regions), tuple(lines))

    def _draw_reader_page(self, draw, drawn: Drawn, palette: Palette,  # noqa: ANN001
                          regions: list[Region], lines: list[TextLine]) -> None:
        look = self.look
        width, height = look.size
        top = 0
        if look.header_height:
            draw.rectangle((0, 0, width, look.header_height), fill=_rgb(palette.band))
            if look.title:
                font = self._fonts.get(int(look.header_height * 0.45))
                draw.text((_MARGIN // 2, look.header_height // 2), look.title,
                          font=font, fill=_rgb(palette.band_text), anchor="lm")
            top = look.header_height
        bottom = height
        if look.footer:
            font = self._fonts.get(22)
            draw.text((width // 2, height - 18), look.footer, font=font,
                      fill=_rgb(palette.text), anchor="ms")
            bottom -= 40
        if drawn.buttons:
            bottom = self._draw_buttons(draw, drawn.buttons, bottom, regions, lines)
        self._draw_texts(draw, drawn, palette, (_MARGIN, top + 24, width - _MARGIN, bottom - 24),
                         regions, lines)

    def _draw_texts(self, draw, drawn: Drawn, palette: Palette,  # noqa: ANN001
                    box: tuple[int, int, int, int], regions: list[Region],
                    layout: list[TextLine]) -> None:
        x0, y0, x1, y1 = box
        if not drawn.texts:
            return
        # Shrink the type until the block fits the box.
        size = self.look.text_size
        while True:
            font = self._fonts.get(size)
            # Each screen line, with the text it is part of and where in it it starts.
            placed = []
            for i, text in enumerate(drawn.texts):
                start = 0
                for line in wrap(_clean(text), x1 - x0, font.getlength):
                    placed.append((line, f"texts.{i}", start))
                    start += len(line)
            lines = [line for line, _, _ in placed]
            step = int(size * 1.45)
            if step * len(lines) <= y1 - y0 or size <= 14:
                break
            size -= 2
        y = y0 + max(0, ((y1 - y0) - step * len(lines)) // 2)
        block_top = y
        for line, source, start in placed:
            length = font.getlength(line)
            x = x0 if self.look.align == "left" else int((x0 + x1 - length) / 2)
            draw.text((x, y), line, font=font, fill=_rgb(palette.text))
            layout.append(_text_line(font, line, x, y, source, start))
            # An error code (【901】) must be seen exactly: a must-match region of its own.
            if "【" in line and "】" in line[line.index("【"):]:
                start = line.index("【")
                end = line.index("】", start) + 1
                cx0 = x + int(font.getlength(line[:start]))
                cx1 = x + int(math.ceil(font.getlength(line[:end])))
                regions.append(_region("code", "match", cx0 - 4, y - 2, cx1 - cx0 + 8, step,
                                       text=line[start:end]))
            y += step
        # The words tell near-identical screens apart (the two consent questions).
        regions.append(_region("text", "match", x0, block_top - 4, x1 - x0, y - block_top + 8))

    def _draw_buttons(self, draw, labels: Sequence[str], bottom: int,  # noqa: ANN001
                      regions: list[Region], layout: list[TextLine]) -> int:
        look = self.look
        width = look.size[0]
        font = self._fonts.get(int(look.text_size * 0.75))
        bh = int(look.text_size * 1.9)
        gap = 24
        widths = [max(180, int(font.getlength(label)) + 64) for label in labels]
        total = sum(widths) + gap * (len(labels) - 1)
        x = (width - total) // 2 if look.align == "center" else _MARGIN
        y = bottom - bh - 24
        for label, bw in zip(labels, widths, strict=True):
            draw.rounded_rectangle((x, y, x + bw, y + bh), radius=bh // 4,
                                   fill=_rgb(look.button.background),
                                   outline=_rgb(look.button.band), width=3)
            draw.text((x + bw // 2, y + bh // 2), label, font=font,
                      fill=_rgb(look.button.text), anchor="mm")
            layout.append(_text_line(font, label, x + bw // 2, y + bh // 2, f"button:{label}",
                                     anchor="mm"))
            regions.append(_region(f"button:{label}", "match", x, y, bw, bh, text=label))
            x += bw + gap
        return y

    def _draw_dialog(self, draw, drawn: Drawn, palette: Palette,  # noqa: ANN001
                     regions: list[Region], layout: list[TextLine]) -> None:
        look = self.look
        width, height = look.size
        # The desktop: a taskbar and the eligibility app's window behind any dialog.
        draw.rectangle((0, height - 40, width, height), fill=_rgb(palette.band))
        draw.rectangle((40, 30, width - 40, height - 70), fill=_rgb(look.normal.background),
                       outline=_rgb(palette.band), width=2)
        draw.rectangle((40, 30, width - 40, 70), fill=_rgb(palette.band))
        if look.title:
            draw.text((56, 50), look.title, font=self._fonts.get(22),
                      fill=_rgb(palette.band_text), anchor="lm")
        if drawn.shows == "desktop":
            return
        dw, dh = int(width * 0.5), int(height * 0.42)
        x0, y0 = (width - dw) // 2, (height - dh) // 2
        draw.rectangle((x0 + 6, y0 + 6, x0 + dw + 6, y0 + dh + 6), fill=(90, 90, 90))
        draw.rectangle((x0, y0, x0 + dw, y0 + dh), fill=_rgb(look.button.background),
                       outline=_rgb(look.button.band), width=2)
        draw.rectangle((x0, y0, x0 + dw, y0 + 40), fill=_rgb(look.button.band))
        if drawn.title:
            font = self._fonts.get(22)
            draw.text((x0 + 14, y0 + 20), drawn.title, font=font,
                      fill=_rgb(look.button.band_text), anchor="lm")
            layout.append(_text_line(font, drawn.title, x0 + 14, y0 + 20, "title", anchor="lm"))
            regions.append(_region("title", "match", x0 + 8, y0 + 4,
                                   int(font.getlength(drawn.title)) + 16, 32))
        font = self._fonts.get(int(look.text_size * 0.6))
        bh, bw = 40, 150
        bx = x0 + dw - 20 - (bw + 12) * len(drawn.buttons) + 12
        for label in drawn.buttons:
            draw.rectangle((bx, y0 + dh - bh - 16, bx + bw, y0 + dh - 16),
                           fill=_rgb(look.normal.background), outline=_rgb(look.button.band),
                           width=2)
            draw.text((bx + bw // 2, y0 + dh - bh // 2 - 16), label, font=font,
                      fill=_rgb(look.button.text), anchor="mm")
            layout.append(_text_line(font, label, bx + bw // 2, y0 + dh - bh // 2 - 16,
                                     f"button:{label}", anchor="mm"))
            regions.append(_region(f"button:{label}", "match", bx, y0 + dh - bh - 16, bw, bh,
                                   text=label))
            bx += bw + 12
        box = (x0 + 20, y0 + 56, x0 + dw - 20, y0 + dh - bh - 28)
        self._draw_texts(draw, drawn, look.button, box, regions, layout)
        regions.append(_region("dialog", "match", x0, y0, dw, dh))

    # -- what changes with time ---------------------------------------------------------
    @staticmethod
    def _clock_text(wallclock: dt.datetime | None) -> str:
        return wallclock.strftime("%H:%M") if wallclock else "--:--"

    def clock_box(self) -> tuple[int, int, int, int] | None:
        """Where the header's clock is drawn (x, y, w, h; the look's pixels), the only part
        of a page :meth:`picture_key`'s clock changes; None without a clock."""
        if not self.look.clock:
            return None
        h = max(self.look.header_height, 48)
        # The box fits the widest time, so the mask covers every digit ever drawn.
        w = 24 + max(cv2.getTextSize(t, cv2.FONT_HERSHEY_SIMPLEX, h / 60, 2)[0][0]
                      for t in ("00:00", "--:--"))
        return (self.look.size[0] - w - 12, 0, w, h)

    def _draw_clock(
        self, image: np.ndarray, palette: Palette, wallclock: dt.datetime | None
    ) -> Region:
        text = self._clock_text(wallclock)
        box = self.clock_box()
        assert box is not None
        x, _, w, h = box
        scale = h / 60
        cv2.rectangle(image, (x, 0), (x + w, h - 1), bgr(palette.band), -1)
        (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 2)
        cv2.putText(image, text, (x + (w - tw) // 2, (h + th) // 2), cv2.FONT_HERSHEY_SIMPLEX,
                    scale, bgr(palette.band_text), 2, cv2.LINE_AA)
        return _region("clock", "mask", x, 0, w, h)

    def _draw_spinner(self, image: np.ndarray, t: float) -> Region:
        spin = self.look.spinner
        if spin.veil:
            image[:] = cv2.convertScaleAbs(image, alpha=1.0 - spin.veil)
        width, height = self.look.size
        centre = (width // 2, height // 2)
        r = spin.radius
        # A plate behind the circle, so it reads against any page.
        cv2.circle(image, centre, r + spin.thickness + 10, (250, 250, 250), -1, cv2.LINE_AA)
        cv2.circle(image, centre, r, bgr(spin.track), spin.thickness, cv2.LINE_AA)
        angle = 360.0 * ((t / spin.period_s) % 1.0)
        cv2.ellipse(image, centre, (r, r), angle, 0, 100, bgr(spin.arc), spin.thickness,
                    cv2.LINE_AA)
        half = r + spin.thickness + 12
        return _region("spinner", "spinner", centre[0] - half, centre[1] - half, 2 * half,
                       2 * half)


def _text_line(font, text: str, x: float, y: float, source: str,  # noqa: ANN001
               start: int = 0, anchor: str = "la") -> TextLine:
    """Where ``text``, drawn at (x, y) with ``anchor`` (PIL's: ``la`` top left, ``lm`` left
    middle, ``mm`` centred), lies: its cell from the ascender to the descender, and each
    character's left edge (the advance of the text before it)."""
    ascent, descent = font.getmetrics()
    length = font.getlength(text)
    left = x - length / 2 if anchor[0] == "m" else x
    top = y - (ascent + descent) / 2 if anchor[1] == "m" else y
    edges = [round(left + font.getlength(text[:i]), 1) for i in range(len(text) + 1)]
    box = (int(math.floor(left)), int(math.floor(top)), int(math.ceil(length)),
           ascent + descent)
    return TextLine(text=text, box=box, edges=edges, source=source, start=start)


def _region(name: str, kind: str, x: int, y: int, w: int, h: int,
            text: str | None = None) -> Region:
    return Region(name=name, kind=kind, box=(max(0, int(x)), max(0, int(y)), int(w), int(h)),
                  text=text)


def _rgb(colour: str) -> tuple[int, int, int]:
    b, g, r = bgr(colour)
    return r, g, b
