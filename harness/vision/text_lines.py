"""Where the lines of text are on a rectified screen, and whether each is darker or lighter
than what lies around it.

Tesseract's own page layout fails on the terminal's dialogs: a page has one polarity for it
(light title text on a dark title bar is lost on a light page), and the long border lines,
frames and bars' edges come out as lines of ``|``. So the rig finds the lines itself:

- Strokes of either polarity: a black-hat (darker than around) and a top-hat (lighter than
  around) over a few stroke widths. A bar's edge is a step, not a stroke: neither sees it.
- Long horizontal and vertical strokes (borders, frames, a dialog's shadow) are ruled
  lines, not text; so are the thin pieces left touching them (a button frame's short sides,
  a rounded button's ends, the strip between two frames), hollow pieces (a small frame) and
  whatever touches the picture's edge (the bezel, the cut). They are the layout's clutter.
- What is left is grouped into lines: pieces side by side, their middles at one height,
  less than a glyph apart. One polarity's line and the other's at the same place are the
  text's strokes and the gaps between them (or a strip of bar beside them).
- A line's polarity is its background's: the median of a ring just around where both
  polarities' lines lie (the glyphs), against the darkest and lightest inside. Its box is
  its own polarity's strokes'; a place with none is a strip of background, no line.

Everything here is in the picture's own pixels; it is meant for screens at the references'
size (glyphs 10 to 80 pixels high).
"""

from __future__ import annotations

import attrs
import cv2
import numpy as np

Box = tuple[int, int, int, int]
#: A line of one polarity: its box, its pieces' mask there, whether they are light.
_Line = tuple[Box, np.ndarray, bool]

#: A stroke is at most this wide (pixels, a blurred bold stroke of large type): the hats'
#: kernel. Wider dark or light areas are background.
STROKE_KERNEL = 11
#: A stroke differs from what is around it by at least this much (grey levels), and by this
#: many times the camera's noise.
MIN_CONTRAST = 22
NOISE_FACTOR = 6.0
#: Straight strokes at least this long are lines, never text: a glyph's longest stroke is
#: under two glyphs wide (horizontal) and under 1.3 glyphs high (a bracket, vertical).
LONG_HORIZONTAL = 100
LONG_VERTICAL = 64
#: A piece touching a ruled line, no thicker than a stroke can be (the hats see nothing
#: wider) and this many times longer, is a line's: a frame's short side, a strip between
#: two lines.
THIN = STROKE_KERNEL - 1
ELONGATED = 4
#: Pieces of text: at most this high (a glyph), and this wide (a blurred line of bold
#: glyphs run together).
MAX_PIECE_HEIGHT = 80
MAX_PIECE_WIDTH = 600
#: A line is at least this high (pixels): lower ones are specks, a corner's remnant.
MIN_LINE_HEIGHT = 10
#: A line of one piece lower than this (pixels) is a speck.
SPECK = 14
#: Pieces of one line: their middles within this share of the taller's height, and at most
#: this many of its heights apart.
SAME_ROW = 0.5
MAX_GAP = 1.2
#: Lines of both polarities are at one place when they overlap by this share of the lower
#: one's height, or the lower (at most this share of the other's height) lies within this
#: many pixels of the other, above or below it and within its width.
SAME_PLACE = 0.4
HUGGER = 0.6
HUG = 2
#: A line of one polarity this much smaller than the other's at its place is gaps only.
SMALLER = 0.25
#: A line's background is seen in a ring this share of its height wide around it.
RING = 0.3


@attrs.frozen
class LineBox:
    """One line of text on the picture."""

    #: x, y, width, height in the picture's pixels (the ink's box).
    box: Box
    #: The text is lighter than its background (a title bar's).
    light_text: bool
    #: The pieces' mask within ``box`` (1 where a stroke of the line is): what is the line's
    #: and what is a neighbour's.
    mask: np.ndarray = attrs.field(eq=False, repr=False)


@attrs.frozen
class Layout:
    """The lines of text on a picture, and what is drawn there that is not text."""

    lines: tuple[LineBox, ...]
    #: For dark text and for light text (index ``light_text``): 1 where a ruled line or a
    #: frame's piece of that polarity is (the picture's size). Read with a line, it is its
    #: background.
    clutter: tuple[np.ndarray, np.ndarray] = attrs.field(eq=False, repr=False)


def find_lines(grey: np.ndarray, *, drop_edge: bool = True) -> tuple[LineBox, ...]:
    """The lines of text on ``grey`` (uint8), top to bottom, then left to right.
    ``drop_edge``: pieces touching the picture's edge are not text (a whole screen; not a
    box cut out of one)."""
    return find_layout(grey, drop_edge=drop_edge).lines


def find_layout(grey: np.ndarray, *, drop_edge: bool = True) -> Layout:
    """:func:`find_lines`, with the clutter found on the way."""
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (STROKE_KERNEL, STROKE_KERNEL))
    hats = (cv2.morphologyEx(grey, cv2.MORPH_BLACKHAT, kernel),
            cv2.morphologyEx(grey, cv2.MORPH_TOPHAT, kernel))
    noise = _noise(grey)
    masks = [(hat > max(MIN_CONTRAST, NOISE_FACTOR * noise)).astype(np.uint8) for hat in hats]
    ruled_lines = [_ruled(mask) for mask in masks]
    ruled = [cv2.dilate(r, np.ones((5, 5), np.uint8)) for r in ruled_lines]
    lines: list[_Line] = []
    clutter = []
    for side, light in enumerate((False, True)):
        found, dropped = _lines_of(masks[side], ruled[side], ruled[1 - side], drop_edge)
        lines += [(box, piece, light) for box, piece in found]
        clutter.append(ruled_lines[side] | dropped)
    out = []
    for group in _same_places(lines):
        light = _polarity(grey, group)
        # The line is where its text's strokes are (the other polarity's pieces are the
        # gaps between them, or a bar's edge beside them). A place with no strokes of its
        # background's text is a strip of background (between a label and its frame).
        own = [line for line in group if line[2] == light]
        if not own:
            continue
        box = _union([b for b, _, _ in own])
        if box[3] < MIN_LINE_HEIGHT:
            continue
        mask = np.zeros((box[3], box[2]), np.uint8)
        for (x, y, w, h), piece, _ in own:
            mask[y - box[1]:y - box[1] + h, x - box[0]:x - box[0] + w] |= piece
        # One low piece alone is a speck (a bit of a bar between its edge and a tall
        # letter, a hot spot's rim), not a line.
        if box[3] < SPECK and cv2.connectedComponents(mask)[0] <= 2:
            continue
        out.append(LineBox(box, light, mask))
    out.sort(key=lambda line: (line.box[1], line.box[0]))
    return Layout(tuple(out), (clutter[0], clutter[1]))


def _noise(grey: np.ndarray) -> float:
    """The camera's noise (grey levels, a standard deviation): the spread of the flattest
    small patches (a lower tenth of them; a box of text has flat background too)."""
    g = grey[::2, ::2].astype(np.float32)
    mean = cv2.blur(g, (4, 4))
    spread = cv2.blur(g * g, (4, 4)) - mean * mean
    return float(np.sqrt(max(0.0, float(np.percentile(spread, 10)))))


def _ruled(mask: np.ndarray) -> np.ndarray:
    """The long straight strokes of ``mask``. A line a little askew (a screen rectified a
    pixel off) steps from row to row: each is widened across itself first (this bridges no
    gap between two glyphs)."""
    long_h = cv2.morphologyEx(cv2.dilate(mask, np.ones((3, 1), np.uint8)), cv2.MORPH_OPEN,
                              cv2.getStructuringElement(cv2.MORPH_RECT, (LONG_HORIZONTAL, 1)))
    long_v = cv2.morphologyEx(cv2.dilate(mask, np.ones((1, 3), np.uint8)), cv2.MORPH_OPEN,
                              cv2.getStructuringElement(cv2.MORPH_RECT, (1, LONG_VERTICAL)))
    return long_h | long_v


def _lines_of(mask: np.ndarray, ruled: np.ndarray, other: np.ndarray,
              drop_edge: bool) -> tuple[list[tuple[Box, np.ndarray]], np.ndarray]:
    """Glyph-sized pieces of one polarity's strokes off its ruled lines, grouped into
    lines; and the pieces left out as frames' (a mask). ``other``: the other polarity's
    ruled lines."""
    h, w = mask.shape
    # (0/1 masks: a saturating difference is "and not")
    rest = cv2.subtract(mask, ruled)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(rest, connectivity=8)
    touching = _touching(labels, n, ruled)
    between = _touching(labels, n, cv2.subtract(other, ruled))
    # Each piece judged at once (a camera's noise makes thousands of them): in order, a
    # piece is too small to count; too large for a glyph (a frame's); the rest of a ruled
    # line; a strip between the other polarity's; at the picture's edge; hollow (a frame).
    x, y, pw, ph, area = (stats[:, k].astype(np.int64) for k in range(5))
    long, short = np.maximum(pw, ph), np.minimum(pw, ph)
    counted = area >= 3
    counted[0] = False  # the background
    # A thin piece touching a ruled line of its own is the rest of it: a frame's short
    # side, a rounded button's end (thin: its area over its length).
    rest_of_ruled = touching & (area / long <= THIN) & (long >= ELONGATED * area / long)
    # A narrow strip touching the other polarity's ruled lines lies between them (the gap
    # between two buttons' frames). Text touches them too (the strip of a title bar beside
    # its text is such a line): its pieces are wider than a stroke.
    strip = between & (short <= THIN) & (long >= ELONGATED * short)
    edge = (x <= 1) | (y <= 1) | (x + pw >= w - 1) | (y + ph >= h - 1) if drop_edge \
        else np.zeros(n, bool)
    # A hollow piece is a frame (a small button's, half a rounded one's), not a glyph: much
    # wider than high and hollow, or large and nearly empty.
    hollow = ((pw >= 2 * ph) & (pw > 30) & (area < 0.15 * pw * ph)) | \
        ((short >= 24) & (area < 0.1 * pw * ph))
    keep = counted & (ph <= MAX_PIECE_HEIGHT) & (pw <= MAX_PIECE_WIDTH) & ~rest_of_ruled \
        & ~strip & ~edge & ~hollow
    frame = counted & ~keep
    pieces = [tuple(int(v) for v in stats[i][:4]) for i in np.flatnonzero(keep)]
    # Both masks by one look-up of the labels (bit 0: kept, bit 1: a frame's).
    coded = (keep.view(np.uint8) | (frame.view(np.uint8) << 1)).take(labels)
    kept = coded & 1
    return ([(box, kept[box[1]:box[1] + box[3], box[0]:box[0] + box[2]])
             for box in _group(pieces)], coded >> 1)


def _touching(labels: np.ndarray, n: int, ruled: np.ndarray) -> np.ndarray:
    """Which pieces touch ``ruled`` (a 0/1 mask)."""
    near = cv2.subtract(cv2.dilate(ruled, np.ones((3, 3), np.uint8)), ruled)
    out = np.zeros(n, bool)
    out[labels[near > 0]] = True
    out[0] = False
    return out


def _group(pieces: list[tuple[int, ...]]) -> list[Box]:
    """Pieces side by side at one height, less than a glyph apart: one line each."""
    order = sorted(range(len(pieces)), key=lambda i: pieces[i][0])
    boxes = [pieces[i] for i in order]
    parent = list(range(len(boxes)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, (xi, yi, wi, hi) in enumerate(boxes):
        for j in range(i + 1, len(boxes)):
            xj, yj, wj, hj = boxes[j]
            if xj - (xi + wi) > MAX_GAP * MAX_PIECE_HEIGHT:
                break  # sorted by left edge: every later piece is farther still
            tall = max(hi, hj, MIN_LINE_HEIGHT)
            if xj - (xi + wi) > MAX_GAP * tall:
                continue
            if abs((yi + hi / 2) - (yj + hj / 2)) <= SAME_ROW * tall:
                parent[root(i)] = root(j)
    groups: dict[int, list[tuple[int, ...]]] = {}
    for i, box in enumerate(boxes):
        groups.setdefault(root(i), []).append(box)
    return _join_rows([_union(group) for group in groups.values()])


def _join_rows(lines: list[Box]) -> list[Box]:
    """Lines of one row less than a line's height apart, as one: a blurred kanji's strokes
    come in fragments lower than the line, too far apart for their own height."""
    lines = sorted(lines, key=lambda b: b[0])
    out: list[Box] = []
    for box in lines:
        for k, other in enumerate(out):
            tall = max(box[3], other[3])
            over_y = min(box[1] + box[3], other[1] + other[3]) - max(box[1], other[1])
            gap = box[0] - (other[0] + other[2])
            centres = abs(box[1] + box[3] / 2 - other[1] - other[3] / 2)
            if (over_y >= 0.6 * min(box[3], other[3]) and centres <= SAME_ROW * tall
                    and gap <= MAX_GAP * tall):
                out[k] = _union([box, other])
                break
        else:
            out.append(box)
    return out


def _union(boxes: list[tuple[int, ...]] | list[Box]) -> Box:
    x0 = min(b[0] for b in boxes)
    y0 = min(b[1] for b in boxes)
    x1 = max(b[0] + b[2] for b in boxes)
    y1 = max(b[1] + b[3] for b in boxes)
    return (x0, y0, x1 - x0, y1 - y0)


def _same_places(lines: list[_Line]) -> list[list[_Line]]:
    """The lines, both polarities, grouped by place (a line and the gaps of its glyphs)."""
    groups: list[list[_Line]] = []
    for line in sorted(lines, key=lambda item: -item[0][2] * item[0][3]):
        for group in groups:
            if any(_same_place(line[0], other[0]) for other in group):
                group.append(line)
                break
        else:
            groups.append([line])
    return groups


def _same_place(a: Box, b: Box) -> bool:
    """The boxes overlap by a good part of the lower one's height (a label and the strip of
    background between it and its frame: 0.5; two rows of text: none); or the lower one
    hugs the other from above or below, within its width (a title bar's strip between its
    edge and the text's feet)."""
    (ax, ay, aw, ah), (bx, by, bw, bh) = sorted((a, b), key=lambda box: box[3])
    over_x = min(ax + aw, bx + bw) - max(ax, bx)
    over_y = min(ay + ah, by + bh) - max(ay, by)
    if over_x <= 0:
        return False
    if over_y >= SAME_PLACE * ah:
        return True
    return (over_y >= -HUG and ah <= HUGGER * bh and ax >= bx - HUG
            and ax + aw <= bx + bw + HUG)


def _polarity(grey: np.ndarray, group: list[_Line]) -> bool:
    """Whether a place's text is light, judged where its glyphs are: where both
    polarities' lines lie (one is the strokes, the other the gaps between them and the
    strip of a title bar beside them). A line far smaller than the other is only gaps (the
    inside of an O): the larger says alone."""
    boxes = [_union([b for b, _, light in group if light is side]) for side in (False, True)
             if any(light is side for _, _, light in group)]
    boxes.sort(key=lambda b: b[2] * b[3])
    box = boxes[-1]
    if len(boxes) == 2 and boxes[0][2] * boxes[0][3] >= SMALLER * box[2] * box[3]:
        (ax, ay, aw, ah), (bx, by, bw, bh) = boxes
        x0, y0 = max(ax, bx), max(ay, by)
        x1, y1 = min(ax + aw, bx + bw), min(ay + ah, by + bh)
        if x1 - x0 >= 2 and y1 - y0 >= 2:
            box = (x0, y0, x1 - x0, y1 - y0)
    return _lighter_than_around(grey, box)


def _lighter_than_around(grey: np.ndarray, box: Box) -> bool:
    """The text in ``box`` is lighter than its background: the background (the median of
    a ring just around the box) lies nearer the box's darkest than its lightest. (Not the
    box's own median: dense bold glyphs can cover more of their box than the background.)"""
    x, y, w, h = box
    ring = max(2, int(round(RING * h)))
    height, width = grey.shape
    x0, y0 = max(0, x - ring), max(0, y - ring)
    x1, y1 = min(width, x + w + ring), min(height, y + h + ring)
    around = grey[y0:y1, x0:x1]
    inside = around[y - y0:y - y0 + h, x - x0:x - x0 + w]
    low, high = np.percentile(inside, (5, 95))
    outside = np.ones(around.shape, bool)
    outside[y - y0:y - y0 + h, x - x0:x - x0 + w] = False
    background = float(np.median(around[outside] if outside.any() else inside))
    return bool(high - background > background - low)
