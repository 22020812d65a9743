"""What else a glyph could be: the characters a panel could draw in its place that look like it
through the camera's blur.

A glyph's score (text_check._judge_glyph) forgives what a blur hides: past some blur a
substituted small kana scores like a genuine one, so small type is held to a strict score,
and a genuine glyph through an unlucky frame (a camera's slow drift, JPEG ringing) can fall
just under it. Between a floor and that score the text check asks what a score cannot:
is the glyph the expected one, or one of the characters that look like it? This module
names those characters.

The characters a panel's firmware draws: JIS X 0208 (kana, kanji of levels 1 and 2, symbols,
full-width forms) and Windows' Shift_JIS (cp932: NEC's row 13, the IBM extensions, and the
forms Windows maps some of JIS's to), printable ASCII and the JIS X 0201 half-width
katakana (user-defined codes draw nothing in the font and are left out). Each is set in
Noto Sans CJK JP at the glyph's size and blurred as the camera blurs the line, and scored
against the expected glyph as the text check scores one (:func:`look_alikes`). A glyph set
alone in its cell scores lower than it does in its line (measured up to 0.21 lower), so this
is a first pick, at a floor well under the check's: the text check then draws each pick in
the line itself and keeps those that score into its band there (text_check.TextParams).
"""

from __future__ import annotations

import functools

import cv2
import numpy as np

from harness.vision.twins import LINE_EM, ink_at

#: Pixels each way a glyph may be shifted against another when they are compared (the text
#: check's slack at the references' size, and the pixel it adds).
SHIFT = 3
#: Rows above and below the line box the text check cuts with a glyph (its pad).
PAD = 4
#: Blank pixels round each glyph's line box in the bank (the shifts and the blur need them).
_MARGIN = SHIFT + PAD + 4


def _charset() -> str:
    chars: list[str] = [chr(c) for c in range(0x21, 0x7F)]  # printable ASCII
    chars += [chr(c) for c in range(0xFF61, 0xFFA0)]  # JIS X 0201 katakana
    chars += ["\u00a5", "\u203e"]  # JIS X 0201's yen sign and overline
    for hi in range(0xA1, 0xFF):  # JIS X 0208, by its EUC-JP rows
        for lo in range(0xA1, 0xFF):
            try:
                chars.append(bytes([hi, lo]).decode("euc_jp"))
            except UnicodeDecodeError:
                continue
    # Windows' Shift_JIS (cp932): the same rows mapped as Windows maps them (～ for 〜,
    # － for −), NEC's row 13 (①, Ⅰ, ㈱) and the IBM extensions, as firmware draws them.
    for hi in [*range(0x81, 0xA0), *range(0xE0, 0xFD)]:
        for lo in [*range(0x40, 0x7F), *range(0x80, 0xFD)]:
            try:
                chars.append(bytes([hi, lo]).decode("cp932"))
            except UnicodeDecodeError:
                continue
    return "".join(dict.fromkeys(chars))


CHARSET = _charset()


def _canvas(size: int) -> tuple[int, int]:
    return (size + 2 * _MARGIN, int(np.ceil(LINE_EM * size)) + 2 * _MARGIN)


# Banks are kept as bytes (the character set at 22 px: 19 MB), a few at a time: a screen's
# small type comes in a few sizes and a camera's blur changes slowly.
@functools.lru_cache(maxsize=4)
def _bank(size: int) -> tuple[np.ndarray, str]:
    """Every character of :data:`CHARSET` with ink, set at ``size`` px on a canvas of its
    own (the line box's top left at the margin): (n, h, w) ink 0..255, and the characters."""
    canvas = _canvas(size)
    inks, chars = [], []
    for char in CHARSET:
        ink = ink_at(char, size, canvas, (_MARGIN, _MARGIN), fine=False)
        if float(ink.max()) > 0.1:
            inks.append(np.rint(ink * 255).astype(np.uint8))
            chars.append(char)
    return np.stack(inks), "".join(chars)


@functools.lru_cache(maxsize=6)
def _blurred(size: int, sigma: float) -> np.ndarray:
    bank, _ = _bank(size)
    if sigma <= 0:
        return bank
    return np.rint(_blur_stack(bank.astype(np.float32), sigma)).astype(np.uint8)


def _blur_stack(stack: np.ndarray, sigma: float) -> np.ndarray:
    """Each (h, w) image of ``stack`` blurred on its own (one call: stacked with blank rows
    between them that the blur does not cross)."""
    n, h, w = stack.shape
    gap = int(np.ceil(4 * sigma)) + 1
    tall = np.zeros((n, h + gap, w), np.float32)
    tall[:, :h] = stack
    out = cv2.GaussianBlur(tall.reshape(n * (h + gap), w), (0, 0), sigma,
                           borderType=cv2.BORDER_CONSTANT)
    return out.reshape(n, h + gap, w)[:, :h]


@functools.lru_cache(maxsize=4096)
def look_alikes(char: str, size: int, advance: int, sigma: float, floor: float,
                residual_sigma: float, blurs: tuple[float, ...] = ()) -> tuple[str, ...]:
    """The characters other than ``char`` that, set at ``size`` px and blurred by ``sigma``
    px (or by any of ``blurs``: the camera's blur is known to a step), score ``floor`` or
    more against ``char``'s rendering blurred by ``sigma`` in its cell (``advance`` px wide,
    the line box high), as the text check scores a glyph: the correlation after gain and
    offset, lowered by the largest local difference blurred by ``residual_sigma``
    (text_check._judge_glyph; each at the best of the shifts within :data:`SHIFT` px). The
    likest first. A rendering that is the same picture (a compatibility form) is left
    out: no camera tells them apart, nor would a person."""
    found: dict[str, float] = {}
    for blur in dict.fromkeys((sigma, *blurs)):
        for other, score in _scored(char, size, advance, sigma, blur, floor, residual_sigma):
            found[other] = max(score, found.get(other, -1.0))
    return tuple(sorted(found, key=lambda c: -found[c]))


def _scored(char: str, size: int, advance: int, sigma: float, blur: float, floor: float,
            residual_sigma: float) -> list[tuple[str, float]]:
    bank, chars = _bank(size)
    stack = _blurred(size, blur)
    n, h, w = stack.shape
    drawn = np.rint(ink_at(char, size, (w, h), (_MARGIN, _MARGIN), fine=False) * 255)
    mine = drawn.astype(np.float32)
    if sigma > 0:
        mine = cv2.GaussianBlur(mine, (0, 0), sigma, borderType=cv2.BORDER_CONSTANT)
    # The expected glyph's cell, as the check cuts it: its advance, the line box and a
    # few pixels round both.
    y0, x0 = _MARGIN - PAD, _MARGIN - 1
    ch, cw = int(np.ceil(LINE_EM * size)) + 2 * PAD, min(advance, size + 4) + 2
    cell = mine[y0:y0 + ch, x0:x0 + cw].astype(np.float64)
    g0 = cell - cell.mean()
    if float(g0.std()) < 1e-4:
        return []
    # Each character at each shift: the correlation of its window with the cell, the cell
    # placed at every shift in a window of the bank (one matrix product for all of them).
    wh, ww = ch + 2 * SHIFT, cw + 2 * SHIFT
    window = stack[:, y0 - SHIFT:y0 - SHIFT + wh, x0 - SHIFT:x0 - SHIFT + ww].astype(np.float32)
    shifts = [(dy, dx) for dy in range(-SHIFT, SHIFT + 1) for dx in range(-SHIFT, SHIFT + 1)]
    placed = np.zeros((len(shifts), wh, ww), np.float32)
    for i, (dy, dx) in enumerate(shifts):
        placed[i, SHIFT + dy:SHIFT + dy + ch, SHIFT + dx:SHIFT + dx + cw] = g0
    dots = window.reshape(n, -1) @ placed.reshape(len(shifts), -1).T
    # Each sub-window's spread, from sums over it: integral images of the bank's windows
    # stacked into one column (a box within one window never reaches another).
    total, squares = cv2.integral2(window.reshape(n * wh, ww), sdepth=cv2.CV_64F,
                                   sqdepth=cv2.CV_64F)
    rows = (np.arange(n) * wh)[:, None]
    spread = np.empty((n, len(shifts)))
    for i, (dy, dx) in enumerate(shifts):
        ya, xa = rows + SHIFT + dy, SHIFT + dx
        corners = (ya + ch, xa + cw), (ya, xa + cw), (ya + ch, xa), (ya, xa)
        sums = [t[corners[0]] - t[corners[1]] - t[corners[2]] + t[corners[3]]
                for t in (total, squares)]
        spread[:, i] = np.sqrt(np.maximum(sums[1] - sums[0] * sums[0] / (ch * cw), 0.0))[:, 0]
    ncc = dots / np.maximum(spread * float(np.sqrt((g0 * g0).sum())), 1e-6)
    best = ncc.max(axis=1)
    # A score is at most the correlation: only those that reach the floor are judged.
    near = np.flatnonzero(best >= floor)
    if not len(near):
        return []
    at = ncc[near].argmax(axis=1)
    seen = np.stack([stack[k, y0 + shifts[j][0]:y0 + shifts[j][0] + ch,
                           x0 + shifts[j][1]:x0 + shifts[j][1] + cw]
                     for k, j in zip(near, at, strict=True)]).astype(np.float64)
    seen -= seen.mean(axis=(1, 2), keepdims=True)
    gain = (seen * g0).sum(axis=(1, 2)) / float((g0 * g0).sum())
    residual = (seen - gain[:, None, None] * g0).astype(np.float32)
    peak = np.abs(_blur_stack(residual, residual_sigma)).max(axis=(1, 2))
    contrast = gain * float(np.percentile(g0, 99) - np.percentile(g0, 1))
    score = np.where(contrast > 1e-6,
                     np.minimum(best[near], 1.0 - peak / np.maximum(contrast, 1e-6)), -1.0)
    # The same picture unblurred (a compatibility form drawn alike): not another character.
    same = (bank[near] == drawn.astype(np.uint8)).all(axis=(1, 2))
    return [(chars[near[i]], float(score[i])) for i in range(len(near))
            if score[i] >= floor and not same[i] and chars[near[i]] != char]
