"""A glyph's near twin of another script (ー and 一, カ and 力, ト and 卜, ...): what tells them
apart, drawn in the panel's place.

Through a camera's blur such a pair scores alike against the expected glyph's rendering:
the difference is a stroke a little longer, thicker or lower, and a correlation forgives
exactly that (measured: ー for 一 on a bench camera's small type, 0.93 against genuine
glyphs' 0.88 and more). So the check asks the question directly. Both glyphs are set in
Noto Sans CJK at the panel's size and place (the font size and offset that fit the
reference's own glyph best); their difference, in the reference's grey levels, is the
*direction* from the expected glyph to its twin. The text check (text_check._judge_glyph)
fits what the camera saw as the expected glyph plus some amount of that direction: about
0 is the expected glyph, about 1 its twin.

The direction is only as good as the font's fit to the panel: the twins' screens are set in
this font; a real panel's own face may differ. Where the font does not fit the reference's
glyph (:attr:`TwinParams.min_fit`) no direction is made and the glyph is judged by its score
alone, which the verdict says.
"""

from __future__ import annotations

import attrs
import cv2
import numpy as np

from harness.fonts import Fonts

#: Pairs of near twins, each glyph both ways: the long vowel mark and the kanji one,
#: katakana and the kanji (or hiragana) drawn almost alike.
_PAIRS = ("ー一", "ロ口", "カ力", "エ工", "ニ二", "ハ八", "ト卜", "タ夕", "ヘへ")
TWINS: dict[str, str] = {a: b for a, b in _PAIRS} | {b: a for a, b in _PAIRS}

Box = tuple[int, int, int, int]


@attrs.frozen
class TwinParams:
    #: The font's rendering of the expected glyph must correlate at least this well with the
    #: reference's glyph for the direction to be trusted.
    min_fit: float = 0.9
    #: Pixels around a glyph's cell the fit may move the rendering and the direction spans.
    margin: int = 4
    #: Font sizes tried around the cell's advance (full-width glyphs: advance = size) and
    #: around the line box's height over the font's (half-width glyphs: ``OK``).
    sizes: tuple[int, ...] = (-2, -1, 0, 1)


@attrs.frozen(eq=False)
class Direction:
    """From the expected glyph to its twin, in reference grey levels over ``box``."""

    char: str
    twin: str
    #: x, y, w, h in reference pixels: the glyph's cell and :attr:`TwinParams.margin` round it.
    box: Box
    delta: np.ndarray
    #: How well the font's rendering of ``char`` fits the reference's glyph (correlation).
    fit: float


_fonts = Fonts("to tell a glyph from its near twin of another script")


#: Noto Sans CJK's line box (ascender to descender) in ems.
LINE_EM = 1.448

_SUPER = 4  # glyphs are set 4x larger and shrunk: their place to a quarter pixel


def ink_at(char: str, size: int, canvas: tuple[int, int], origin: tuple[float, float], *,
           fine: bool = True) -> np.ndarray:
    """``char`` in Noto Sans CJK JP at ``size`` px, the top left of its line box (the
    ascender, as the panel sets a line) at ``origin``: ink 0..1 on a ``canvas`` (w, h).
    ``fine``: placed to a quarter pixel (set 4x larger and shrunk); else at whole pixels,
    six times faster (a bank of every character, harness/vision/confusables.py)."""
    from PIL import Image, ImageDraw

    k = _SUPER if fine else 1
    big = Image.new("L", (canvas[0] * k, canvas[1] * k), 0)
    ImageDraw.Draw(big).text((origin[0] * k, origin[1] * k), char,
                             font=_fonts.get(size * k), fill=255, anchor="la")
    ink = np.asarray(big, np.float32) / 255.0
    return cv2.resize(ink, canvas, interpolation=cv2.INTER_AREA) if fine else ink


@attrs.frozen(eq=False)
class Fitted:
    """``char`` as the font sets it where the reference draws it: the size and place that fit
    the reference's glyph best, in the reference's grey levels."""

    char: str
    size: int
    #: The top left of the line box (the ascender) on the canvas :attr:`box` spans.
    origin: tuple[float, float]
    box: Box
    #: Grey levels per unit of ink (negative for dark text on a light page).
    gain: float
    #: How well the font's rendering fits the reference's glyph (correlation).
    fit: float
    ink: np.ndarray

    def towards(self, other: str) -> Direction:
        """The way from this glyph to ``other`` set at the same size and place."""
        theirs = ink_at(other, self.size, (self.box[2], self.box[3]), self.origin)
        return Direction(self.char, other, self.box,
                         (self.gain * (theirs - self.ink)).astype(np.float32), self.fit)


def direction(grey: np.ndarray, char: str, cell: tuple[float, int, float, int], *,
              params: TwinParams | None = None) -> Direction | None:
    """The direction from ``char`` to its twin where the reference (``grey``, reference
    pixels) draws ``char`` in ``cell`` (its advance by the line's box, from the font's
    ascender to its descender); None when ``char`` has no twin or the font does not fit the
    reference's glyph."""
    twin = TWINS.get(char)
    found = fitted(grey, char, cell, params) if twin is not None else None
    return found.towards(twin) if found is not None else None


def fitted(grey: np.ndarray, char: str, cell: tuple[float, int, float, int],
           params: TwinParams | None = None) -> Fitted | None:
    """``char`` set in the font where the reference draws it in ``cell``; None where the
    font does not fit the reference's glyph (a panel's own face): nothing drawn in the font
    then stands for the panel's glyphs."""
    p = params or TwinParams()
    found = _fit(grey, char, cell, p)
    return found if found is not None and found.fit >= p.min_fit else None


def _fit(grey: np.ndarray, char: str, cell: tuple[float, int, float, int],
         p: TwinParams) -> Fitted | None:
    x, y, w, h = cell
    m = p.margin
    gh, gw = grey.shape
    # The glyph's own cell: its neighbours' strokes and what is round the line (a title
    # bar's edge) left out.
    x0, x1 = max(0, int(np.floor(x))), min(gw, int(np.ceil(x + w)))
    y0, y1 = max(0, y), min(gh, y + h)
    seen = grey[y0:y1, x0:x1].astype(np.float32)
    if seen.size == 0 or float(seen.std()) < 1.0:
        return None
    # The rendering slides over the cell, a margin each way.
    canvas = (x1 - x0 + 2 * m, y1 - y0 + 2 * m)
    best: tuple[float, int, tuple[float, float]] | None = None
    around = dict.fromkeys((int(round(w)), int(round(h / LINE_EM))))
    for size in dict.fromkeys(max(6, base + step) for base in around for step in p.sizes):
        origin = (x - x0 + m, y - y0 + m)
        ink = ink_at(char, size, canvas, origin)
        if float(ink.std()) < 1e-3:
            continue
        scores = cv2.matchTemplate(ink, seen, cv2.TM_CCOEFF_NORMED)
        _, score, _, at = cv2.minMaxLoc(np.abs(scores))  # dark ink on light, or light on dark
        if best is None or score > best[0]:
            best = (float(score), size, (origin[0] - at[0], origin[1] - at[1]))
    if best is None:
        return None
    score, size, origin = best
    shape = (x1 - x0, y1 - y0)
    mine = ink_at(char, size, shape, origin)
    # The reference's grey levels as the rendering's ink: gain (negative for dark text)
    # and offset.
    a = np.stack([np.ones(mine.size), mine.ravel()], 1)
    (_, gain), *_ = np.linalg.lstsq(a, seen.ravel(), rcond=None)
    return Fitted(char, size, origin, (x0, y0, x1 - x0, y1 - y0), float(gain), score, mine)
