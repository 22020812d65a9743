"""Does a screen show a text, character for character? Judged on the rectified screen.

Two ways, and the verdict says which (:attr:`TextCheck.method`):

``glyphs``: where the rig knows how the panel draws the text (some reference's layout,
:class:`~harness.vision.reference.TextLine`, holds ``expected`` as an exact substring of one
of its texts, across a wrap if need be), each expected character's rendering is cut from
that reference picture and compared with the screen:

1. the line (each screen line the text covers) is found on the screen by normalised
   correlation, first in a band around where the reference has it, then anywhere (a
   layout that moved: a line missing above it);
2. the camera's blur is estimated on the whole line (the template blurred by the sigma that
   matches best), and the template blurred alike;
3. the moiré (the display's grid beating against the camera's: bands of a few grey levels
   at one period and angle) is found in the line's residual spectrum and fitted out of
   each glyph;
4. every glyph's cell (its advance, from the reference's edges) must match its rendering
   at :meth:`TextParams.accept` or better (stricter for small type and for blurred
   lines), each free to move :attr:`TextParams.slack` pixels: the gain and offset
   fitted, the score is the correlation lowered by the largest local difference. A substituted kana, kanji or digit, another
   bracket, a half-width ``:`` for a full-width ``：`` (the rest of the line shifts), a
   missing symbol: that glyph (or the ones after it) does not match;
5. a glyph just under its score (:attr:`TextParams.alike_floor`) is not failed on its score
   alone where the font fits the panel: every character that would score so through this
   blur, drawn in the line (harness/vision/confusables.py), is fitted as a near twin is,
   and the glyph stands when each is told apart and none is half way (the verdict names
   them); a glyph that many characters look like fails on its score.

A glyph whose strokes the camera clipped, or a line blurred beyond what tells its strokes
apart, is *unread*: the check fails closed and says so (``... is unread: ...``); the flows
look again on later frames (harness/flows/runner.py) where the glare or the shake moved.
A dialog's title (a layout line of source ``title``) is judged in its title bar only.

``ocr``: where no layout holds the text (a lab's reference learnt without a confirmed text,
a text no reference shows), the screen is read with Tesseract (harness/vision/ocr.py) and
the text must be a substring of the reading, both *normalised*:

- Unicode NFKC (full-width ASCII and the full-width colon ``：`` become ``:``, ``（`` ``(``,
  half-width katakana full-width; 【】 stay as they are);
- every whitespace removed (Tesseract spaces out Japanese words);
- emoji variation selectors (U+FE0F) removed.

The OCR verdict is weaker than the glyphs': it cannot tell ``：`` from ``:`` (NFKC folds
them), and Tesseract misses pictograms (⚠). Its detail says so.

``read`` is always a human reading: the OCR of the area where the text was looked for (or of
the closest line), so a failure says what the screen shows instead
(``expected 【901】, read 【011】 (glyph 2 of 5 '9' does not match: 0.41 < 0.62)``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Literal

import attrs
import cv2
import numpy as np

from harness.vision import confusables, twins
from harness.vision.classify import Centred, correlation_map
from harness.vision.geometry import Calibration
from harness.vision.ocr import ReadLine, read_lines
from harness.vision.reference import Reference, ReferenceSet, TextLine
from harness.vision.twins import TWINS

Box = tuple[int, int, int, int]
Method = Literal["glyphs", "ocr"]
#: The panel draws the text glyph of a pictogram, not its emoji presentation.
_VARIATION = "\ufe0f"
#: A layout line's source when it is a dialog's title.
TITLE = "title"
#: A grey level at or above this is clipped by the camera: it says "at least this bright".
CLIPPED = 250


def normalise(text: str) -> str:
    """The OCR comparison's form of a text: NFKC, no whitespace, no variation selectors."""
    text = unicodedata.normalize("NFKC", text.replace(_VARIATION, ""))
    return "".join(text.split())


def drawn_form(text: str) -> str:
    """A text as the panel draws it (as the references' layouts hold it)."""
    return text.replace(_VARIATION, "")


#: Glyphs with a near twin in another script, both of each pair: the long vowel mark and the
#: kanji one, katakana and the kanji they look like.
LOOKALIKES = frozenset(TWINS)


@attrs.frozen
class TextParams:
    """The text check's tunables; the defaults are what benchmarks/text_check.py measured."""

    #: A glyph matches its rendering at this score or better (the correlation after the blur
    #: match, lowered by the largest local difference; see _judge_glyph). Measured (the
    #: moiré taken out): genuine glyphs 0.91+ through bench and hand-held cameras, 0.68+
    #: through harsh ones; substituted ones up to 0.63 (bench) and 0.70 (harsh: 職員 ->
    #: 職貝).
    glyph_accept: float = 0.72
    #: Small type (a line box lower than ``small_line`` reference pixels: fonts under about
    #: 30 px, buttons, the terminal's dialogs) loses strokes in a camera's blur: a
    #: substituted kana or kanji still scores up to 0.84 there through a bench camera
    #: (ダウ -> ダワ), genuine glyphs 0.88 and more. Harsh frames of small type fail
    #: (closed) rather than pass what they cannot show.
    small_line: int = 45
    small_accept: float = 0.865
    #: The camera's blur takes from what tells small glyphs apart: past ``sigma_free``
    #: (the line's blur, reference pixels) each small glyph is held to
    #: ``small_per_sigma`` more per pixel of blur (measured: substituted small kana and
    #: kanji up to 0.89 at sigma 2, genuine ones 0.88+ at sigma 1.5 or less); past
    #: ``small_max_sigma`` (``large_max_sigma``) a line is unread (fails closed).
    sigma_free: float = 1.5
    small_per_sigma: float = 0.07
    small_max_sigma: float = 2.7
    large_max_sigma: float = 3.5
    #: A line is found where its whole rendering correlates this well; below, it is not on
    #: the screen.
    line_accept: float = 0.45
    #: Pixels (at the references' size) each glyph may move from where the line puts it.
    slack: int = 2
    #: The band searched first around the reference's place (fraction of the height).
    band: float = 0.25
    #: A dialog's title is looked for only in its title bar: within this many pixels of
    #: where the reference draws it (a calibration's error), never in the dialog's body.
    title_reach: int = 12
    #: Blur sigmas (reference pixels) tried on the template to match the camera's.
    sigmas: tuple[float, ...] = (0.0, 0.7, 1.1, 1.5, 2.0, 2.7, 3.5)
    #: Blur (reference pixels) of a glyph's difference from its rendering before its peak
    #: is taken (see _judge_glyph): about a stroke's width, so that edges half a pixel
    #: apart (a dipole) cancel out and a missing or extra stroke (a blob) stays.
    residual_sigma: float = 1.5
    #: Glyphs are judged on a screen rectified at this fraction of the references' size or
    #: more (at half size a dakuten is lost in the camera's blur).
    min_scale: float = 0.9
    #: Contrast floor (grey levels) of a window: a blank patch is not a match.
    blank_sd: float = 3.0
    #: Moiré (CameraEffects.moire): looked for around each line (this many pixels beyond
    #: it) at these periods (pixels); taken out of each glyph where one frequency stands
    #: out of the line's residual spectrum this many times its median.
    moire_margin: int = 24
    moire_periods: tuple[float, float] = (4.0, 40.0)
    moire_stand_out: float = 12.0
    #: A glyph is unread (fails closed) when the camera clipped more than this part of
    #: its strokes (a hot spot over light text).
    clipped_ink: float = 0.3
    #: A glyph with a near twin in another script (ー and 一, ト and 卜, ...: LOOKALIKES) on
    #: a line blurred at most ``lookalike_max_sigma`` is held to this score: there a
    #: substituted twin scores 0.73 to 0.79 (benchmarks/text_check.py, "lookalike"), genuine
    #: glyphs 0.91+. Blurrier (harsh cameras: genuine 0.68+, twins up to 0.82) no score
    #: tells them apart, and the line's other glyphs decide (see the README).
    lookalike_accept: float = 0.86
    lookalike_max_sigma: float = 1.5
    #: Such a glyph is also fitted as itself plus some of the way to its twin (harness/vision/
    #: twins.py): this far or more is the twin.
    twin_split: float = 0.5
    #: ... when that figure is this sure (its standard error); less sure (too blurred, too
    #: noisy), the glyph is held to ``lookalike_accept`` as above.
    twin_max_se: float = 0.2
    #: A glyph under the score it must reach but at ``alike_floor`` or more is not failed on
    #: its score alone: the characters a panel could draw that, drawn in the line without
    #: noise, score ``alike_floor - alike_slack`` or more against its rendering through
    #: this blur are found (harness/vision/confusables.py; none: no other character scores
    #: so; the camera's noise lowers a score, ``alike_slack`` allows for the little it may
    #: raise one); each is fitted as a twin is, and the glyph stands when every one is
    #: told apart (``twin_max_se``) and none is ``twin_split`` of the way. More than
    #: ``alike_most`` of them, or a font that does not fit the panel's glyph (a real
    #: panel's own face): the score decides, as before. Measured (benchmarks/
    #: text_check.py, 2026-12-04): bench-camera frames failing 3 -> 2 of 1,044 (left: the
    #: O of OK at sigma 2, which 2,735 characters may look like), mutants caught 636 of 636
    #: before and after.
    alike_floor: float = 0.78
    alike_slack: float = 0.05
    alike_most: int = 12
    #: The look-alikes are first picked from every character set alone in its cell
    #: (harness/vision/confusables.py: fast, but a glyph alone scores lower than in its
    #: line, measured up to 0.21 lower: ワ for ウ in a dialog's title, 0.63 alone, 0.84 in
    #: the line) at ``alike_floor - alike_prefilter``; at most ``alike_tried`` of them are
    #: then drawn in the line and scored there.
    alike_prefilter: float = 0.3
    alike_tried: int = 80
    #: A whole text (a title, a line of its own): the place this many line heights wide
    #: right before and after it must show what the reference draws there. A pixel differs
    #: by ink past ``ink`` of the line's own contrast (its 98th percentile); the place may
    #: differ so in ``beside_ink`` of its pixels more than the line itself does. Measured
    #: on a title with 「エラー」 added: 19 % of the place; genuine: 0 %.
    beside: float = 2.0
    #: ... judged where at least this many line heights of it lie on the screen.
    beside_least: float = 0.6
    #: ... and off the screen's outer ``beside_edge`` (the bezel's shadow, a finger).
    beside_edge: float = 0.03
    #: ... and the place this many line heights high above and below it, ``above_gap``
    #: away (a line added to a 901 screen's text), where the reference draws nothing (at
    #: most ``beside_blank`` of it ink).
    above: float = 0.6
    above_gap: float = 0.3
    #: Ink is counted in strokes narrower than this many line heights (a top-hat): the
    #: round blob of a lamp's reflection on a dark page is not a glyph.
    stroke: float = 0.25
    ink: float = 0.4
    beside_ink: float = 0.06
    #: The line's own share of such ink (the camera's blur against the reference's) raises
    #: the bar by this part of it only: the place beside is blurred alike, but a whole
    #: share would hide one glyph added at sigma 2 (8 % against 6 % + 5 %).
    own_part: float = 0.3
    beside_blank: float = 0.02

    def accept(self, small: bool, sigma: float, char: str = "") -> float:
        """The score glyph ``char`` of a line blurred by ``sigma`` must reach."""
        base = self.glyph_accept if not small else \
            self.small_accept + self.small_per_sigma * max(0.0, sigma - self.sigma_free)
        if char in LOOKALIKES and sigma <= self.lookalike_max_sigma:
            return max(base, self.lookalike_accept)
        return base

    def sharpest(self, small: bool) -> float:
        """1 / the most blur (sigma, reference pixels) a line may have and be read."""
        return 1.0 / (self.small_max_sigma if small else self.large_max_sigma)


@attrs.frozen
class TextCheck:
    """The verdict on one expected text."""

    expected: str
    ok: bool
    method: Method
    #: What OCR read where the text was looked for (or the closest line): for the report.
    read: str
    #: Where the text was found or looked for (x, y, w, h in reference pixels), or None.
    where: Box | None
    #: Why (which glyph failed, how it was judged).
    detail: str
    #: The weakest glyph's score (glyphs), or the OCR line's confidence (ocr).
    score: float = 0.0
    #: False for an absence check (:func:`absent_text`): ``ok`` means the text is not there.
    wanted: bool = True

    def message(self) -> str:
        """``expected 【901】, read 【011】 (glyph 2 of 5 '9' does not match: ...)``."""
        read = self.read or "nothing"
        if not self.wanted:
            verdict = "" if self.ok else "shown: "
            return (f"{verdict}expected no {self.expected}, read {read} "
                    f"({self.method}: {self.detail})")
        verdict = "" if self.ok else "not shown: "
        return f"{verdict}expected {self.expected}, read {read} ({self.method}: {self.detail})"

    def as_json(self) -> dict[str, object]:
        return {"expected": self.expected, "ok": self.ok, "method": self.method,
                "read": self.read, "where": list(self.where) if self.where else None,
                "detail": self.detail, "score": round(self.score, 4), "wanted": self.wanted}


# -- where the rendering is known ----------------------------------------------------------


@attrs.frozen
class _Segment:
    """The part of the expected text on one drawn line: characters [first, last) of it."""

    line: TextLine
    first: int
    last: int

    @property
    def text(self) -> str:
        return self.line.text[self.first:self.last]

    @property
    def title(self) -> bool:
        """Part of a dialog's title (judged only where the title bar is)."""
        return self.line.source == TITLE

    def box(self, pad: int) -> Box:
        x0 = int(np.floor(self.line.edges[self.first])) - pad
        x1 = int(np.ceil(self.line.edges[self.last])) + pad
        return (x0, self.line.box[1] - pad, x1 - x0, self.line.box[3] + 2 * pad)


@attrs.frozen
class _LineInk:
    """A matched line's ink as the whole-text rule counts it (GlyphChecker._beside): the
    reference's scale to the screen's contrast, ink's sign, the levels that count as ink,
    and the line's own share of ink the reference does not explain (the camera's blur)."""

    gain: float
    sign: float
    #: Ink on the screen, and in the reference blurred alike.
    level: float
    ref_level: float
    stroke: np.ndarray
    own: float = 0.0

    @classmethod
    def of(cls, values: np.ndarray, ref_values: np.ndarray, at: Box, ref_at: Box,
           cell: Box, sigma: float, stroke_px: int, part: float) -> _LineInk:
        line = _cut(values, at)
        ref_line = _blur(_cut(ref_values, ref_at), sigma)
        gain = float((line * ref_line).sum() / max(float((ref_line * ref_line).sum()), 1e-6))
        # Ink's sign: the tail of the line's values farther from their median (dark type on
        # a light page lies below it, a title bar's light type above).
        low, mid, high = np.percentile(_cut(ref_values, cell), (2, 50, 98))
        ink = cls(gain, -1.0 if mid - low > high - mid else 1.0,
                  part * float(np.percentile(np.abs(line), 98)),
                  part * float(np.percentile(np.abs(ref_line), 98)),
                  cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (stroke_px, stroke_px)))
        own = float((ink.strokes(line - gain * ref_line) > ink.level).mean())
        return attrs.evolve(ink, own=own)

    def strokes(self, extra: np.ndarray) -> np.ndarray:
        """``extra`` ink (signed as ink), strokes only: what an opening a few strokes wide
        takes away (a glare's blob on a dark page is wider, and stays)."""
        extra = np.ascontiguousarray(self.sign * extra, np.float32)
        return extra - cv2.morphologyEx(extra, cv2.MORPH_OPEN, self.stroke)


@attrs.frozen
class Rendering:
    """How one reference draws the expected text: the lines it covers."""

    reference: Reference
    segments: tuple[_Segment, ...]
    #: The expected text is a whole text of the layout (a title, a line of its own), so
    #: nothing more stands beside it ("ダウンロード依頼の受付エラー" is not the title
    #: "ダウンロード依頼の受付").
    whole: bool = False


def renderings(expected: str, references: ReferenceSet,
               prefer: str | None = None) -> list[Rendering]:
    """Every distinct way the references draw ``expected`` (the preferred reference's
    first): where a text of a layout holds it as an exact substring."""
    want = drawn_form(expected)
    found: list[Rendering] = []
    seen: dict[tuple[object, ...], int] = {}
    refs = sorted(references, key=lambda r: r.name != prefer)
    for ref in refs:
        by_source: dict[str, list[TextLine]] = {}
        for line in ref.lines:
            by_source.setdefault(line.source, []).append(line)
        for lines in by_source.values():
            lines.sort(key=lambda line: line.start)
            whole = "".join(line.text for line in lines)
            at = whole.find(want) if want else -1
            if at < 0:
                continue
            segments = []
            for line in lines:
                a = max(at, line.start) - line.start
                b = min(at + len(want), line.start + len(line.text)) - line.start
                if a < b:
                    segments.append(_Segment(line, a, b))
            # Two references drawing it alike (the same glyph cells, a title or not) are
            # one rendering.
            key = tuple((s.text, s.line.box[3], s.title,
                         tuple(np.diff(s.line.edges[s.first:s.last + 1]))) for s in segments)
            if key not in seen:
                seen[key] = len(found)
                found.append(Rendering(ref, tuple(segments), whole=whole == want))
            elif whole != want:
                # Drawn alike but part of a longer text there: nothing is held about what
                # stands beside it (エラー, a whole title of one dialog, part of another's).
                found[seen[key]] = attrs.evolve(found[seen[key]], whole=False)
    # A dialog's title is shown in its title bar: the same words in a dialog's body
    # (エラー in "...でエラーが発生しました") do not show it.
    if any(drawn_form(ref.title or "") == want for ref in references):
        found = [r for r in found if all(s.title for s in r.segments)]
    return found


class _Screen:
    """A rectified screen prepared for glyph checks: grey, at most the references' size,
    less its background (glare, vignetting, the page's colour)."""

    def __init__(self, screen: np.ndarray, size: tuple[int, int],
                 lines: Sequence[ReadLine] | None = None) -> None:
        grey = cv2.cvtColor(screen, cv2.COLOR_BGR2GRAY) if screen.ndim == 3 else screen
        if grey.shape[1] > size[0]:
            grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
        self.original = screen
        self.size = size
        self.scale = grey.shape[1] / size[0]  # screen pixels per reference pixel
        self.values = _values(grey)
        #: Pixels the camera clipped (a hot spot's middle): no information there.
        self.clipped = grey >= CLIPPED
        #: ``lines``: this very screen's OCR, read already (a decision point's reading).
        self._lines: tuple[ReadLine, ...] | None = None if lines is None else tuple(lines)

    def lines(self) -> tuple[ReadLine, ...]:
        """The OCR's lines of the whole screen, read once (Tesseract reads a whole page
        better than a line cut out of it)."""
        if self._lines is None:
            self._lines = read_lines(self.original, reference_size=self.size)
        return self._lines


def _values(grey: np.ndarray) -> np.ndarray:
    """Grey less its local mean over about a glyph's size (taken on a small copy: fast)."""
    g = grey.astype(np.float32)
    h, w = g.shape
    small = cv2.resize(g, (max(4, w // 8), max(4, h // 8)), interpolation=cv2.INTER_AREA)
    small = cv2.blur(small, (5, 5))
    return g - cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


class GlyphChecker:
    """Checks texts on screens of one :class:`ReferenceSet`, keeping the references'
    prepared pictures (one per size) between checks."""

    def __init__(self, references: ReferenceSet, params: TextParams | None = None) -> None:
        self.references = references
        self.params = params or TextParams()
        self._ref_values: dict[tuple[str, tuple[int, int]], np.ndarray] = {}
        self._ref_grey: dict[tuple[str, str], np.ndarray] = {}
        self._twin_cache: dict[tuple[object, ...], dict[int, np.ndarray]] = {}
        self._alike_cache: dict[tuple[object, ...], dict[str, np.ndarray] | str] = {}

    def _reference_values(self, ref: Reference, size: tuple[int, int]) -> np.ndarray:
        key = (ref.name, size)
        if key not in self._ref_values:
            image = ref.image
            if image.shape[1::-1] != size:
                # Sampled as the screen is: the whole reference resized, then cut.
                image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
            self._ref_values[key] = _values(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY))
        return self._ref_values[key]

    def check(self, expected: str, screen: np.ndarray | _Screen, *,
              prefer: str | None = None, read: bool = True, beside: bool = True) -> TextCheck:
        """See :func:`check_text`."""
        prepared = screen if isinstance(screen, _Screen) else \
            _Screen(screen, self.references.size)
        options = renderings(expected, self.references, prefer)
        if not options:
            return _by_ocr(expected, prepared.original, self.references.size, prepared.lines())
        if prepared.scale < self.params.min_scale:
            # Glyphs at half size tell a dakuten from none no better than chance: fail closed.
            height, width = prepared.original.shape[:2]
            ref_w, ref_h = self.references.size
            return TextCheck(expected, False, "glyphs", "", None,
                             f"the screen was rectified at {width}x{height}; glyph checks "
                             f"need the references' {ref_w}x{ref_h} (rectify_for_text)")
        best: _Verdict | None = None
        for rendering in options[:3]:
            verdict = self._check_rendering(rendering, prepared, beside)
            if verdict.ok:
                best = verdict
                break
            if best is None or verdict.rank > best.rank:
                best = verdict
        assert best is not None
        text = ""
        if read:
            text = " ".join(filter(None, (_read_at(prepared.lines(), box)
                                          for box in best.lines)))
        return TextCheck(expected, best.ok, "glyphs", text, best.where, best.detail, best.score)

    def _check_rendering(self, rendering: Rendering, screen: _Screen,
                         beside: bool = True) -> _Verdict:
        p = self.params
        s = screen.scale
        size = screen.values.shape[1::-1]
        ref_values = self._reference_values(rendering.reference, size)
        # The longest segment is found first; the others moved with it (one text block).
        order = sorted(range(len(rendering.segments)),
                       key=lambda i: -len(rendering.segments[i].text))
        pad = p.slack + 2
        shift: tuple[int, int] | None = None
        placed: dict[int, tuple[int, int, float]] = {}  # segment -> (x, y, line score)
        missing: str | None = None
        for i in order:
            seg = rendering.segments[i]
            bx, by, _, _ = _scaled(seg.box(pad), s)
            template = _cut(ref_values, _scaled(seg.box(pad), s))
            found = None
            if seg.title:
                # Only in the title bar: never searched for elsewhere on the dialog.
                found = _search(screen.values, template, bx, by,
                                max(2, int(round(p.title_reach * s))), p.blank_sd)
                if found is None or found[1] < p.line_accept:
                    missing = missing or f"the title {seg.text!r} is not in the title bar"
                    continue
            elif shift is not None:
                found = _search(screen.values, template, bx + shift[0], by + shift[1],
                                max(4, int(6 * s)), p.blank_sd)
                if found is not None and found[1] < p.line_accept:
                    found = None
            if found is None:
                # The first line anywhere near its place; another one not with the rest of
                # the block (a line of its own re-centred): likewise.
                at = (bx, by) if shift is None else (bx + shift[0], by + shift[1])
                found = self._find(screen.values, template, at, size)
            if found is None:
                missing = missing or f"the line {seg.text!r} is not on the screen"
                continue
            (fx, fy), line_score = found
            shift = shift or (fx - bx, fy - by)
            placed[i] = (fx, fy, line_score)
        boxes = []
        for i, seg in enumerate(rendering.segments):
            bx, by, bw, bh = _scaled(seg.box(pad), s)
            x, y = placed[i][:2] if i in placed else (bx + (shift or (0, 0))[0],
                                                       by + (shift or (0, 0))[1])
            boxes.append(_unscaled((x, y, bw, bh), s))
        lines = tuple(boxes)
        if missing is not None:
            return _Verdict(False, missing, 0.0,
                            _union(boxes), rank=len(placed) / len(boxes), lines=lines)
        total = sum(len(seg.text) for seg in rendering.segments)
        weakest, n, most_blur = 1.0, 0, 0.0
        untold: list[str] = []  # glyphs with a twin judged by their score alone
        lifted: list[str] = []  # glyphs under their score told from their look-alikes
        for i, seg in enumerate(rendering.segments):
            bx, by, _, _ = _scaled(seg.box(pad), s)
            fx, fy, line_score = placed[i]
            scores, sigma = self._glyphs(seg, ref_values, screen, (fx - bx, fy - by), s, pad,
                                         rendering.reference)
            most_blur = max(most_blur, sigma)
            small = seg.line.box[3] < p.small_line
            blurred = sigma * p.sharpest(small)
            if blurred > 1.0:
                return _Verdict(
                    False, f"the line {seg.text!r} is unread: blurred (sigma {sigma:g} px) "
                    f"beyond what tells {'small ' if small else ''}type's strokes apart "
                    f"(sigma <= {1 / p.sharpest(small):g})", 0.0, _union(boxes),
                    rank=1.0 + n / total, lines=lines)
            for k, glyph in enumerate(scores):
                score, unread, likeness, alike, told, need = (
                    glyph.score, glyph.unread, glyph.likeness, glyph.alike, glyph.told,
                    glyph.need)
                weakest = min(weakest, score)
                if seg.text[k] in TWINS and not told:
                    untold.append(seg.text[k])
                if unread:
                    # Fail closed: what the camera cannot show is not shown (a later look,
                    # the glare moved, may show it).
                    return _Verdict(
                        False, f"glyph {n + k + 1} of {total} {seg.text[k]!r} is unread: "
                        f"{unread}", score, _union(boxes), rank=1.0 + (n + k) / total,
                        lines=lines)
                if told and likeness[0] >= p.twin_split:  # type: ignore[index]
                    return _Verdict(
                        False, f"glyph {n + k + 1} of {total} {seg.text[k]!r} is drawn as its "
                        f"twin {TWINS[seg.text[k]]!r} ({likeness[0]:.2f} of the way from one "  # type: ignore[index]
                        f"to the other; its score {score:.2f}, blur sigma {sigma:g})", score,
                        _union(boxes), rank=1.0 + (n + k) / total, lines=lines)
                if score < need and isinstance(alike, _Alike) and alike.stands:
                    lifted.append(f"{seg.text[k]!r} {score:.2f} < {need:.2f}: "
                                  f"{alike.describe()}")
                    continue
                if score < need and isinstance(alike, _Alike) and alike.drawn_as:
                    return _Verdict(
                        False, f"glyph {n + k + 1} of {total} {seg.text[k]!r} is drawn as "
                        f"{alike.drawn_as!r}, which looks like it through the camera's blur "
                        f"({alike.describe()}; its score {score:.2f}, blur sigma {sigma:g})",
                        score, _union(boxes), rank=1.0 + (n + k) / total, lines=lines)
                if score < need:
                    why = "" if alike is None else (
                        f"; not told from what looks like it: "
                        f"{alike if isinstance(alike, str) else alike.describe()}")
                    return _Verdict(
                        False, f"glyph {n + k + 1} of {total} {seg.text[k]!r} does not match "
                        f"its rendering ({score:.2f} < {need:.2f}, blur sigma {sigma:g}){why}",
                        score,
                        _union(boxes), rank=1.0 + (n + k) / total, lines=lines)
            n += len(seg.text)
        if rendering.whole and beside:
            more = self._beside(rendering, ref_values, screen, placed, pad, most_blur)
            if more is not None:
                return _Verdict(False, more, weakest, _union(boxes), rank=2.0, lines=lines)
        caveat = ""
        if untold:
            pairs = ", ".join(f"{c} from {TWINS[c]}" for c in dict.fromkeys(untold))
            caveat = (f"; not told apart from their near twins ({pairs}: the font does not "
                      "fit the panel's glyph, or the camera's blur hides the difference), "
                      "judged by their score alone")
        if lifted:
            caveat += (f"; under their score but told from every character that looks like "
                       f"them: {'; '.join(lifted)}")
        return _Verdict(True, f"every glyph of {total} matches how "
                        f"{rendering.reference.name} draws it (weakest {weakest:.2f}, "
                        f"blur sigma up to {most_blur:g}){caveat}",
                        weakest, _union(boxes), rank=3.0, lines=lines)

    def _beside(self, rendering: Rendering, ref_values: np.ndarray, screen: _Screen,
                placed: dict[int, tuple[int, int, float]], pad: int,
                sigma: float) -> str | None:
        """A whole text's glyphs all matched: nothing more may stand right before its first
        line or after its last than the reference draws there, nor above or below it where
        the reference draws nothing (a title with a word added, 【901】 with a code after
        it, a line added under a 901 text). Judged on the ink the screen has there beyond
        the reference's, blurred as the camera blurs the line and scaled to the line's
        contrast, so that a title bar's edge or a button drawn in both is not more. (Light
        ink a hot spot clips right beside the text is not seen.)"""
        p = self.params
        s = screen.scale
        h, w = screen.values.shape
        segments = rendering.segments
        last = len(segments) - 1
        lines: dict[int, _LineInk] = {}
        for i, side in ((0, "before"), (last, "after"), (0, "above"), (last, "below")):
            seg = segments[i]
            bx, by, bw, bh = _scaled(seg.box(pad), s)
            fx, fy, _ = placed[i]
            _, ly, _, line_h = seg.line.box
            x0 = int(np.floor(seg.line.edges[seg.first]))
            x1 = int(np.ceil(seg.line.edges[seg.last]))
            width, height = int(round(p.beside * line_h)), int(round(p.above * line_h))
            # Above and below, a gap first: a camera's motion blur smears the line's own
            # strokes a few pixels up and down.
            gap = max(pad, int(round(p.above_gap * line_h)))
            place = {"before": (x0 - pad - width, ly, width, line_h),
                     "after": (x1 + pad, ly, width, line_h),
                     "above": (x0, ly - gap - height, x1 - x0, height),
                     "below": (x0, ly + line_h + gap, x1 - x0, height)}[side]
            ref_box = _scaled(place, s)
            dx, dy = fx - bx, fy - by
            # Only what lies on the screen, off its very edge (the bezel's shadow, a finger,
            # the calibration's error): a line near the edge has less room beside it.
            mx, my = int(round(p.beside_edge * w)), int(round(p.beside_edge * h))
            cx0, cy0 = max(ref_box[0] + dx, mx), max(ref_box[1] + dy, my)
            cx1 = min(ref_box[0] + dx + ref_box[2], w - mx)
            cy1 = min(ref_box[1] + dy + ref_box[3], h - my)
            if cx1 - cx0 < p.beside_least * line_h * s or cy1 - cy0 < 2:
                continue  # no room for a glyph there
            box = (cx0, cy0, cx1 - cx0, cy1 - cy0)
            ref_box = (cx0 - dx, cy0 - dy, box[2], box[3])
            if i not in lines:
                lines[i] = _LineInk.of(screen.values, ref_values, (fx, fy, bw, bh),
                                       (bx, by, bw, bh),
                                       _scaled((x0, ly, x1 - x0, line_h), s),
                                       sigma * s, max(3, int(round(p.stroke * line_h * s))),
                                       p.ink)
            ink = lines[i]
            ref_there = _blur(_cut(ref_values, ref_box), sigma * s)
            if side in ("above", "below") and \
                    float((np.abs(ref_there) > ink.ref_level).mean()) > p.beside_blank:
                # Another line of the layout stands there: where it went when the layout
                # moved is that line's own check.
                continue
            # Only ink the reference does not have there: a line missing beside is not more.
            more = ink.strokes(_cut(screen.values, box) - ink.gain * ref_there) > ink.level
            # A clipped pixel is light a bright page, a button's face or a hot spot
            # saturated, not ink (dark ink under a clipped white stays dark). Light ink a hot
            # spot clips beside the text is not seen: failing closed on clipped light failed
            # genuine buttons whose white the camera clips (measured on Canon's).
            clipped = _cut(screen.clipped.astype(np.float32), box) > 0
            # Judged a glyph's width at a time: one glyph added under a long line is not
            # lost in the line's width.
            pieces = max(1, int(round(more.shape[1] / max(1, bh))))
            ink_at = (more & ~clipped).astype(np.float32)
            share = max(float(part.mean()) for part in np.array_split(ink_at, pieces, axis=1))
            if share > p.beside_ink + p.own_part * ink.own:
                return (f"more is drawn {side} {seg.text!r} than {rendering.reference.name} "
                        f"draws there ({share:.0%} of a glyph's place is ink it does not "
                        f"have, on the line itself {ink.own:.0%}): the text goes on")
        return None

    def _find(self, values: np.ndarray, template: np.ndarray, at: tuple[int, int],
              size: tuple[int, int]) -> tuple[tuple[int, int], float] | None:
        """Where the template shows best: in a band around ``at``, else anywhere."""
        p = self.params
        th, tw = template.shape
        band = int(p.band * size[1])
        top, bottom = max(0, at[1] - band), min(size[1], at[1] + th + band)
        best = _best(values[top:bottom], template, p.blank_sd) if bottom - top >= th else None
        if best is not None and best[1] >= p.line_accept:
            return (best[0][0], best[0][1] + top), best[1]
        anywhere = _best(values, template, p.blank_sd)
        if anywhere is not None and anywhere[1] >= p.line_accept:
            return anywhere
        return None

    def _glyphs(self, seg: _Segment, ref_values: np.ndarray, screen: _Screen,
                shift: tuple[int, int], s: float, pad: int, reference: Reference,
                ) -> tuple[list[_Glyph], float]:
        """Each glyph's score against its rendering, blurred as the camera blurs, why it
        is unread ("" when it is read), for a glyph with a near twin how far it is drawn
        towards that twin (None: no twin, or no direction to it), and for a glyph under the
        score it must reach how it stands against its look-alikes; and that blur (sigma,
        reference pixels)."""
        p = self.params
        values = screen.values
        bx, by, bw, bh = _scaled(seg.box(pad), s)
        margin = 8
        # The template with a margin, so that blurring it does not see its edge.
        source = _cut(ref_values, (bx - margin, by - margin, bw + 2 * margin, bh + 2 * margin))
        seen = _cut(values, (bx + shift[0], by + shift[1], bw, bh))
        best_sigma, best_score = 0.0, -2.0
        for sigma in p.sigmas:
            blurred = _blur(source, sigma * s)[margin:-margin, margin:-margin]
            score = _ncc(seen, blurred, p.blank_sd)
            if score > best_score:
                best_sigma, best_score = sigma, score
        template = _blur(source, best_sigma * s)[margin:-margin, margin:-margin]
        towards = self._twins(reference, seg, pad, template.shape, best_sigma * s)
        wave = self._moire(ref_values, values, (bx, by, bw, bh), shift, best_sigma * s)
        slack = max(1, int(round(p.slack * s)) + 1)
        line_sd = float(template.std()) or 1.0
        scores: list[_Glyph] = []
        small = seg.line.box[3] < p.small_line
        x0 = int(np.floor(seg.line.edges[seg.first])) - pad
        for k in range(seg.first, seg.last):
            c0 = int(round((seg.line.edges[k] - x0) * s))
            c1 = int(round((seg.line.edges[k + 1] - x0) * s))
            glyph = template[:, max(0, c0):min(template.shape[1], c1 + 1)]
            if glyph.shape[1] < 2:
                scores.append(_Glyph(1.0, p.accept(small, best_sigma)))
                continue
            box = (bx + shift[0] + c0 - slack, by + shift[1] - slack,
                   glyph.shape[1] + 2 * slack, glyph.shape[0] + 2 * slack)
            patch = _cut(values, box)
            if seg.line.text[k].isspace() or float(glyph.std()) < 0.15 * line_sd:
                # A space: the screen must be blank there too.
                inner = patch[slack:-slack, slack:-slack].astype(np.float64)
                if wave is not None:  # the moiré's bands are not ink
                    inner_at = (box[0] + slack, box[1] + slack, inner.shape[1], inner.shape[0])
                    cos, sin = wave.at(inner_at)
                    a = np.stack([np.ones(inner.size), cos.ravel(), sin.ravel()], 1)
                    fit = a @ np.linalg.lstsq(a, inner.ravel(), rcond=None)[0]
                    inner = inner - fit.reshape(inner.shape)
                # Half weight: a blurred line's neighbours spill into a space's cell, and a
                # space missing shifts the glyphs after it (they fail).
                scores.append(_Glyph(1.0 - 0.5 * float(inner.std()) / max(line_sd, 1e-3),
                                     p.accept(small, best_sigma)))
                continue
            (gx, gy), _ = _best(patch, glyph, p.blank_sd)  # type: ignore[misc]
            at = (box[0] + gx, box[1] + gy, glyph.shape[1], glyph.shape[0])
            clipped = _cut(screen.clipped.view(np.uint8), at).astype(bool)
            score, unread = _judge_glyph(_cut(values, at), glyph, clipped,
                                         wave.at(at) if wave else None, p, s)
            likeness = None
            columns = np.s_[:, max(0, c0):min(template.shape[1], c1 + 1)]
            if towards is not None and k in towards and not unread:
                likeness = _likeness(values, patch.shape, box, glyph, towards[k][columns], wave)
            told = likeness is not None and likeness[1] <= p.twin_max_se
            need = p.accept(small, best_sigma, "" if told else seg.line.text[k])
            alike = None
            if not unread and p.alike_floor <= score < need:
                key = (reference.name, seg.line.source, seg.line.start, k, pad,
                       template.shape, best_sigma, s, c0, c1)
                ways = self._alike_cache.get(key)
                if ways is None:
                    ways = self._alike_ways(reference, seg, k, pad, template.shape,
                                            best_sigma, s)
                    if not isinstance(ways, str):
                        # Each drawn in the line as the camera would show it without
                        # noise, placed as a glyph is: only those that would score into
                        # this band are fitted; a near twin always is.
                        twin = TWINS.get(seg.line.text[k])
                        ways = {c: way[columns] for c, way in ways.items()
                                if c == twin or _placed_score(
                                    template + way, glyph, (max(0, c0), slack), p, s)
                                >= p.alike_floor - p.alike_slack}
                        ways = ways if len(ways) <= p.alike_most else \
                            f"{len(ways)} characters look like it through this blur"
                    self._alike_cache[key] = ways
                alike = ways if isinstance(ways, str) else _Alike(
                    {c: _likeness(values, patch.shape, box, glyph, way, wave)
                     for c, way in ways.items()}, p.twin_split, p.twin_max_se)
            scores.append(_Glyph(score, need, unread, likeness, told, alike))
        return scores, best_sigma

    def _alike_ways(self, reference: Reference, seg: _Segment, k: int, pad: int,
                    shape: tuple[int, ...], sigma: float, s: float,
                    ) -> dict[str, np.ndarray] | str:
        """The way from glyph ``k`` of ``seg`` to each character that looks like it through
        a blur of ``sigma`` (reference pixels; harness/vision/confusables.py), over the
        segment's template (``shape``, blurred alike); or why there are none to fit."""
        p = self.params
        char = seg.line.text[k]
        x0 = seg.line.edges[k]
        cell = (x0, seg.line.box[1], seg.line.edges[k + 1] - x0, seg.line.box[3])
        fitted = twins.fitted(self._reference_grey(reference), char, cell)
        if fitted is None:
            return "the font does not fit the panel's glyph"
        later = [g for g in p.sigmas if g > sigma][:1]  # the camera's blur, known to a step
        alikes = confusables.look_alikes(
            char, fitted.size, max(2, int(round(cell[2]))), sigma,
            p.alike_floor - p.alike_prefilter, p.residual_sigma, tuple(later))
        if len(alikes) > p.alike_tried:
            return f"{len(alikes)} characters may look like it through this blur"
        if char in TWINS and TWINS[char] not in alikes:  # its near twin, whatever it scores
            alikes = (*alikes, TWINS[char])
        return {other: _blur(self._on_template(fitted.towards(other), seg, pad, shape), sigma * s)
                for other in alikes}

    @staticmethod
    def _on_template(way: twins.Direction, seg: _Segment, pad: int,
                     shape: tuple[int, ...]) -> np.ndarray:
        """``way`` (reference pixels) placed over the segment's template of ``shape``."""
        bx, by, bw, bh = seg.box(pad)
        canvas = np.zeros((bh, bw), np.float32)
        dx, dy, _, _ = way.box
        _paste(canvas, way.delta, dx - bx, dy - by)
        if (bh, bw) == tuple(shape):
            return canvas
        return cv2.resize(canvas, (shape[1], shape[0]), interpolation=cv2.INTER_AREA)

    def _twins(self, reference: Reference, seg: _Segment, pad: int, shape: tuple[int, ...],
               sigma: float) -> dict[int, np.ndarray] | None:
        """For each glyph of ``seg`` with a near twin (index in its line): the way from it to
        its twin over the segment's template (``shape``, blurred by ``sigma`` screen pixels
        as the template is); None when the segment has none."""
        wanted = [k for k in range(seg.first, seg.last) if seg.line.text[k] in TWINS]
        if not wanted:
            return None
        key = (reference.name, seg.line.source, seg.line.start, seg.line.box, seg.first,
               seg.last, pad, shape)
        drawn = self._twin_cache.get(key)
        if drawn is None:
            drawn = {}
            grey = self._reference_grey(reference)
            for k in wanted:
                x0 = seg.line.edges[k]
                cell = (x0, seg.line.box[1], seg.line.edges[k + 1] - x0, seg.line.box[3])
                way = twins.direction(grey, seg.line.text[k], cell)
                if way is not None:
                    drawn[k] = self._on_template(way, seg, pad, shape)
            self._twin_cache[key] = drawn
        return {k: _blur(v, sigma) for k, v in drawn.items()}

    def _reference_grey(self, ref: Reference) -> np.ndarray:
        key = ("grey", ref.name)
        if key not in self._ref_grey:
            self._ref_grey[key] = cv2.cvtColor(ref.image, cv2.COLOR_BGR2GRAY)
        return self._ref_grey[key]

    def _moire(self, ref_values: np.ndarray, values: np.ndarray, box: Box,
               shift: tuple[int, int], sigma: float) -> _Wave | None:
        """The moiré over the line (the display's grid beating against the sensor's:
        periodic bands of a few grey levels, one period and angle over the screen), from
        the line and its surroundings less their rendering: its frequency, or None where
        no one frequency stands out."""
        p = self.params
        bx, by, bw, bh = box
        m = p.moire_margin
        area = (bx - m, by - m, bw + 2 * m, bh + 2 * m)
        seen = _cut(values, (area[0] + shift[0], area[1] + shift[1], area[2], area[3]))
        drawn = _blur(_cut(ref_values, area), sigma)
        d = drawn - drawn.mean()
        w = seen - seen.mean()
        gain = float((w * d).sum()) / max(float((d * d).sum()), 1e-6)
        rest = (w - gain * d) * np.outer(np.hanning(area[3]), np.hanning(area[2]))
        spectrum = np.abs(np.fft.rfft2(rest))
        fy = np.fft.fftfreq(area[3])[:, None]
        fx = np.fft.rfftfreq(area[2])[None, :]
        radius = np.hypot(fx, fy)
        band = (radius >= 1 / p.moire_periods[1]) & (radius <= 1 / p.moire_periods[0])
        if not band.any():
            return None
        inside = np.where(band, spectrum, 0.0)
        iy, ix = np.unravel_index(int(inside.argmax()), inside.shape)
        peak = float(inside[iy, ix])
        if peak <= 1e-6 or peak < p.moire_stand_out * float(np.median(spectrum[band])):
            return None
        return _Wave(float(fx[0, ix]), float(fy[iy, 0]),
                     (area[0] + shift[0], area[1] + shift[1]))


@attrs.frozen
class _Wave:
    """A plane wave (the moiré) by its frequency (cycles per pixel) and its origin."""

    fx: float
    fy: float
    origin: tuple[int, int]

    def at(self, box: Box) -> tuple[np.ndarray, np.ndarray]:
        """Its cosine and sine over ``box`` (screen pixels)."""
        x, y, w, h = box
        ys, xs = np.mgrid[y - self.origin[1]:y - self.origin[1] + h,
                          x - self.origin[0]:x - self.origin[0] + w]
        phase = 2 * np.pi * (self.fx * xs + self.fy * ys)
        return np.cos(phase), np.sin(phase)


def _judge_glyph(seen: np.ndarray, glyph: np.ndarray, clipped: np.ndarray,
                 wave: tuple[np.ndarray, np.ndarray] | None, p: TextParams,
                 s: float) -> tuple[float, str]:
    """One glyph seen against its rendering: ``seen`` ~ offset + gain * rendering (+ the
    moiré's two amplitudes); the score is the correlation
    of what is left of the glyph with its rendering, lowered by the largest local
    difference (a dakuten, a stroke more or less), relative to the glyph's contrast. Unread
    (fail closed) where clipping hides too much of the glyph's own strokes."""
    g = glyph.astype(np.float64)
    w = seen.astype(np.float64)
    g0 = g - g.mean()
    spread = float(g0.std()) or 1.0
    # The strokes: the rendering's long tail (dark ink on a light page, or light on dark).
    ink = g0 < -spread if float((g0 ** 3).mean()) < 0 else g0 > spread
    blind = clipped & (g0 > 0)
    if ink.any() and float((blind & ink).sum()) > p.clipped_ink * float(ink.sum()):
        return -1.0, "the camera clipped it (glare over the glyph)"
    # The fit uses every pixel: leaving the clipped page out (a bright bench frame's white)
    # was measured to lower genuine glyphs (0.93 -> 0.71), the page's edge pixels then
    # weighing alone.
    keep = np.ones_like(blind)
    columns = [np.ones_like(g), g0]
    if wave is not None:
        columns += list(wave)
    a = np.stack([c[keep] for c in columns], 1)
    coef = np.linalg.lstsq(a, w[keep], rcond=None)[0]
    if wave is not None:
        w = w - coef[2] * columns[2] - coef[3] * columns[3]
    gain = float(coef[1])
    contrast = gain * float(np.percentile(g0, 99) - np.percentile(g0, 1))
    if contrast <= 1e-3:
        return -1.0, ""
    residual = np.where(keep, w - coef[0] - gain * g0, 0.0).astype(np.float32)
    weight = _blur(keep.astype(np.float32), p.residual_sigma * s)
    blurred = _blur(residual, p.residual_sigma * s)
    blurred = np.where(weight > 0.5, blurred / np.maximum(weight, 1e-3), 0.0)
    peak = float(np.abs(blurred).max()) / contrast
    kept = w[keep] - w[keep].mean()
    ncc = float((kept * g0[keep]).sum()) / max(
        float(np.sqrt((kept * kept).sum() * (g0[keep] ** 2).sum())), 1e-6)
    # One score per glyph: the correlation, lowered where a stroke is missing or extra.
    return max(-1.0, min(ncc, 1.0 - peak)), ""


def _placed_score(line: np.ndarray, glyph: np.ndarray, at: tuple[int, int], p: TextParams,
                  s: float) -> float:
    """The score a glyph of ``line`` (a segment's template, another glyph drawn in) gets
    against ``glyph`` as the check judges one: placed where it fits best within the slack
    round its cell (``at``: the cell's column and the slack in pixels), then judged."""
    c0, slack = at
    gh, gw = glyph.shape
    patch = _cut(line, (c0 - slack, -slack, gw + 2 * slack, gh + 2 * slack))
    found = _best(patch, glyph, p.blank_sd)
    if found is None:
        return -1.0
    (gx, gy), _ = found
    seen = _cut(line, (c0 - slack + gx, -slack + gy, gw, gh))
    return _judge_glyph(seen, glyph, np.zeros(glyph.shape, bool), None, p, s)[0]


def _likeness(values: np.ndarray, reach: tuple[int, ...], box: Box, glyph: np.ndarray,
              twin: np.ndarray, wave: _Wave | None) -> tuple[float, float] | None:
    """How far the screen draws the glyph (its rendering ``glyph``) towards its twin
    (``twin``: the way there, blurred alike): 0 the glyph, 1 its twin; and that figure's
    standard error (the camera's noise against what the blur left of the way). Fitted
    (offset, gain, the moiré's two amplitudes) at each place within the slack ``box`` allows
    (``reach``: its size), the place that fits best deciding: placed by the glyph alone, a
    twin a stroke longer or lower would be moved to hide half of what tells it apart. None
    where the way is blank."""
    if twin.shape != glyph.shape or float(np.abs(twin).max()) < 1e-3:
        return None
    gh, gw = glyph.shape
    g0 = glyph.astype(np.float64).ravel()
    base = [np.ones(g0.size), g0 - g0.mean(), twin.astype(np.float64).ravel()]
    best: tuple[float, float, float] | None = None  # (residual, likeness, its error)
    for dy in range(reach[0] - gh + 1):
        for dx in range(reach[1] - gw + 1):
            at = (box[0] + dx, box[1] + dy, gw, gh)
            columns = list(base)
            if wave is not None:
                columns += [c.ravel() for c in wave.at(at)]
            a = np.stack(columns, 1)
            seen = _cut(values, at).astype(np.float64).ravel()
            coef, rss, rank, _ = np.linalg.lstsq(a, seen, rcond=None)
            if rank < a.shape[1] and wave is not None:  # a wave the glyph's cell cannot hold
                a = a[:, :3]
                coef, rss, rank, _ = np.linalg.lstsq(a, seen, rcond=None)
            gain, toward = float(coef[1]), float(coef[2])
            if rank < a.shape[1] or gain <= 1e-6 or not len(rss):
                continue
            if best is None or float(rss[0]) < best[0]:
                noise = float(rss[0]) / max(a.shape[0] - a.shape[1], 1)
                spread = float(np.linalg.inv(a.T @ a)[2, 2])
                best = (float(rss[0]), toward / gain,
                        float(np.sqrt(max(noise * spread, 0.0))) / gain)
    return None if best is None else (best[1], best[2])


@attrs.frozen
class _Alike:
    """A glyph under its score against the characters that look like it: each one's share
    of the way (0: the glyph, 1: that character) and its standard error (None: no way to
    fit, the difference blurred away)."""

    fits: dict[str, tuple[float, float] | None]
    split: float
    max_se: float

    @property
    def untold(self) -> list[str]:
        return [c for c, f in self.fits.items() if f is None or f[1] > self.max_se]

    @property
    def drawn_as(self) -> str | None:
        """The character the glyph is drawn as (told, and half way or more), if any."""
        told = {c: f for c, f in self.fits.items() if f is not None and f[1] <= self.max_se}
        nearest = max(told, key=lambda c: told[c][0], default=None)
        return nearest if nearest is not None and told[nearest][0] >= self.split else None

    @property
    def stands(self) -> bool:
        return not self.untold and self.drawn_as is None

    def describe(self) -> str:
        if not self.fits:
            return "no other character scores so through this blur"
        parts = [f"{c} {f[0]:.2f}±{f[1]:.2f}" if f is not None else f"{c} blurred away"
                 for c, f in self.fits.items()]
        return f"of the way to each look-alike: {', '.join(parts)}"


@attrs.frozen
class _Glyph:
    """One glyph judged: see GlyphChecker._glyphs."""

    score: float
    #: The score it must reach (TextParams.accept).
    need: float
    unread: str = ""
    likeness: tuple[float, float] | None = None
    #: Told from its near twin (``likeness`` sure enough).
    told: bool = False
    #: Under its score: how it stands against its look-alikes (or why it cannot).
    alike: _Alike | str | None = None


@attrs.frozen
class _Verdict:
    ok: bool
    detail: str
    score: float
    where: Box | None
    #: Which failed verdict of several renderings to report: the one that got furthest.
    rank: float
    #: Each line's box where it was found or looked for (what is read for the report).
    lines: tuple[Box, ...] = ()


def _scaled(box: Box, s: float) -> Box:
    x, y, w, h = box
    return (int(round(x * s)), int(round(y * s)), max(2, int(round(w * s))),
            max(2, int(round(h * s))))


def _unscaled(box: Box, s: float) -> Box:
    return _scaled(box, 1.0 / s)


def _union(boxes: Sequence[Box]) -> Box | None:
    if not boxes:
        return None
    x0 = min(b[0] for b in boxes)
    y0 = min(b[1] for b in boxes)
    x1 = max(b[0] + b[2] for b in boxes)
    y1 = max(b[1] + b[3] for b in boxes)
    return (x0, y0, x1 - x0, y1 - y0)


def _cut(image: np.ndarray, box: Box) -> np.ndarray:
    """``image``'s pixels in ``box``, edge pixels repeated where it lies outside."""
    x, y, w, h = box
    ih, iw = image.shape
    x0, y0, x1, y1 = max(0, x), max(0, y), min(iw, x + w), min(ih, y + h)
    if x1 <= x0 or y1 <= y0:
        return np.zeros((h, w), np.float32)
    crop = image[y0:y1, x0:x1]
    if crop.shape != (h, w):
        crop = cv2.copyMakeBorder(crop, y0 - y, y + h - y1, x0 - x, x + w - x1,
                                  cv2.BORDER_REPLICATE)
    return crop


def _paste(canvas: np.ndarray, patch: np.ndarray, x: int, y: int) -> None:
    """``patch`` into ``canvas`` at (x, y), what falls outside left out."""
    h, w = patch.shape
    ch, cw = canvas.shape
    x0, y0, x1, y1 = max(0, x), max(0, y), min(cw, x + w), min(ch, y + h)
    if x1 > x0 and y1 > y0:
        canvas[y0:y1, x0:x1] = patch[y0 - y:y1 - y, x0 - x:x1 - x]


def _blur(image: np.ndarray, sigma: float) -> np.ndarray:
    return cv2.GaussianBlur(image, (0, 0), sigma) if sigma > 0.1 else image


def _ncc(a: np.ndarray, b: np.ndarray, blank_sd: float) -> float:
    a = a - a.mean()
    b = b - b.mean()
    n = a.size
    den = np.sqrt(max(float((a * a).sum()), n * blank_sd ** 2) * max(float((b * b).sum()), 1e-6))
    return float((a * b).sum()) / den


def _best(image: np.ndarray, template: np.ndarray,
          blank_sd: float) -> tuple[tuple[int, int], float] | None:
    """The best normalised correlation of ``template`` in ``image`` and where (top left);
    a window with next to no contrast counts as blank, not as a match."""
    th, tw = template.shape
    ih, iw = image.shape
    if th > ih or tw > iw:
        return None
    ncc = correlation_map(np.ascontiguousarray(image, np.float32), Centred.of(template),
                          blank_sd)
    _, score, _, (x, y) = cv2.minMaxLoc(ncc)
    return (int(x), int(y)), float(score)


def _search(values: np.ndarray, template: np.ndarray, x: int, y: int, reach: int,
            blank_sd: float) -> tuple[tuple[int, int], float] | None:
    """The best place of ``template`` within ``reach`` pixels of (x, y)."""
    th, tw = template.shape
    area = _cut(values, (x - reach, y - reach, tw + 2 * reach, th + 2 * reach))
    best = _best(area, template, blank_sd)
    if best is None:
        return None
    (bx, by), score = best
    return (x - reach + bx, y - reach + by), score


# -- reading -------------------------------------------------------------------------------


def _read_at(lines: Sequence[ReadLine], where: Box | None) -> str:
    """What OCR read at ``where`` (the lines that overlap it), else the nearest line."""
    if where is None or not lines:
        return ""
    inside = [line.text for line in lines if _overlap(line.box, where) > 0.3]
    if inside:
        return " ".join(inside)
    centre = where[1] + where[3] / 2
    return min(lines, key=lambda line: abs(line.box[1] + line.box[3] / 2 - centre)).text


def _overlap(box: Box, where: Box) -> float:
    """How much of ``box`` lies in ``where`` horizontally, if their centres' rows agree."""
    bx, by, bw, bh = box
    x, y, w, h = where
    if not y <= by + bh / 2 <= y + h:
        return 0.0
    return max(0, min(bx + bw, x + w) - max(bx, x)) / max(bw, 1)


#: The marks a Japanese panel draws in either width (：and :, （and (, ...): NFKC folds the
#: full-width one into the other, so OCR's normalised text loses which it was. (A hyphen or
#: a slash inside a Latin name, Hi-CARA, is not judged: a space OCR puts there is no width.)
_EITHER_WIDTH = frozenset(":;!?()[]{}")


def _width(char: str) -> str | None:
    """``narrow`` or ``wide`` for a mark of :data:`_EITHER_WIDTH` or its full-width form,
    None for any other character."""
    folded = unicodedata.normalize("NFKC", char)
    if folded not in _EITHER_WIDTH:
        return None
    return "narrow" if char == folded else "wide"


def _normalised_at(text: str) -> tuple[str, list[int]]:
    """``normalise(text)`` and, for each of its characters, the index in ``text`` it came
    from (character by character; the caller checks the whole agrees)."""
    out: list[str] = []
    at: list[int] = []
    for i, char in enumerate(text):
        for folded in normalise(char):
            out.append(folded)
            at.append(i)
    return "".join(out), at


def _width_problems(expected: str, raw: str, start: int) -> list[str]:
    """Where ``raw`` (OCR's lines joined by newlines), matched at ``start`` of its normalised
    form, draws a mark of ``expected`` (:data:`_EITHER_WIDTH`) in the other width. Tesseract reads a
    full-width mark with the blank of its cell as spaces around it (``【901 : オン``) and a
    half-width one without (measured through the camera model: no space before a genuine
    half-width colon in 110 reads, harsh desks included; a full-width one's spaces are
    sometimes lost on one side). So a space read beside a half-width mark where the text has
    none says it is full width; none on either side of a full-width one, half width. Beside
    a line's end nothing is said."""
    want, want_at = _normalised_at(expected)
    read, read_at = _normalised_at(raw)
    if want != normalise(expected) or read != normalise(raw.replace("\n", "")):
        return []  # folding one character at a time differs: no place to compare
    problems = []
    for k, e_i in enumerate(want_at):
        width = _width(expected[e_i])
        if width is None:
            continue
        r_i = read_at[start + k]
        # Each side judged only within the text (a fragment's end may have anything after
        # it, a space included) and the line (a line's end says nothing).
        sides = [(raw[r_i - 1:r_i], expected[e_i - 1:e_i]),
                 (raw[r_i + 1:r_i + 2], expected[e_i + 1:e_i + 2])]
        # (a blank read beside it, one in the text there)
        judged = [(beside.isspace(), there.isspace()) for beside, there in sides
                  if there and beside and beside != "\n"]
        read_wide = _width(raw[r_i]) == "wide"
        mark = expected[e_i]
        if width == "narrow" and (read_wide or any(blank and not spaced
                                                   for blank, spaced in judged)):
            problems.append(f"{mark!r} is drawn full width (read {raw[r_i]!r} with the blank "
                            "of a full-width cell beside it)")
        elif width == "wide" and not read_wide and len(judged) == 2 \
                and not any(blank or spaced for blank, spaced in judged):
            problems.append(f"{mark!r} is drawn half width (read {raw[r_i]!r} with no blank "
                            "beside it)")
    return problems


def _by_ocr(expected: str, screen: np.ndarray, size: tuple[int, int],
            lines: Sequence[ReadLine] | None = None, widths: bool = True) -> TextCheck:
    """The text judged on what OCR reads (no layout holds it); with ``widths``, a
    punctuation mark read in the other width (``：`` for ``:``) is not the text."""
    if lines is None:
        lines = read_lines(screen, reference_size=size)
    want = normalise(expected)
    how = ("no reference shows how the panel draws it; read by OCR, normalised (NFKC, no "
           "whitespace)" + ("; the width of a colon, bracket or ! ? (: or ：) told by the "
                            "blank read beside it" if widths else ": cannot tell ： from :"))
    if not want:
        return TextCheck(expected, False, "ocr", "", None, "an empty text is never shown")
    # One line, or several in a row (a text wrapped over lines).
    for i in range(len(lines)):
        joined = ""
        for j in range(i, len(lines)):
            joined += normalise(lines[j].text)
            if want in joined:
                span = lines[i:j + 1]
                box = _union([line.box for line in span])
                conf = min(line.confidence for line in span)
                read = " ".join(line.text for line in span)
                problems = _width_problems(expected, "\n".join(line.text for line in span),
                                           joined.index(want)) if widths else []
                if problems:
                    return TextCheck(expected, False, "ocr", read, box,
                                     "read by OCR: " + "; ".join(problems), conf)
                return TextCheck(expected, True, "ocr", read, box, how, conf)
            if len(joined) > len(want) + 40:
                break
    closest = _closest(want, lines)
    return TextCheck(expected, False, "ocr", closest.text if closest else "",
                     closest.box if closest else None,
                     how + ("" if lines else "; nothing was read"),
                     closest.confidence if closest else 0.0)


def _closest(want: str, lines: Sequence[ReadLine]) -> ReadLine | None:
    """The line sharing the most characters (in order) with ``want``."""
    import difflib

    if not lines:
        return None
    return max(lines, key=lambda line: difflib.SequenceMatcher(
        None, want, normalise(line.text)).ratio())


# -- the API -------------------------------------------------------------------------------


def rectify_for_text(frame: np.ndarray, calibration: Calibration,
                     references: ReferenceSet) -> np.ndarray:
    """The screen cut out of a camera frame at the references' own size: what text checks
    and OCR want (the classifier's fine size is too coarse for glyphs)."""
    return calibration.rectify(frame, references.size)


_checkers: dict[int, GlyphChecker] = {}


def checker_for(references: ReferenceSet) -> GlyphChecker:
    """A glyph checker kept for this reference set (its prepared pictures reused)."""
    key = id(references)
    found = _checkers.get(key)
    if found is None or found.references is not references:
        found = _checkers[key] = GlyphChecker(references)
    return found


def check_text(expected: str, screen: np.ndarray, references: ReferenceSet, *,
               prefer: str | None = None, read: bool = True,
               lines: Sequence[ReadLine] | None = None) -> TextCheck:
    """Does the rectified ``screen`` (BGR or grey, any size; best at the references' own)
    show ``expected`` character for character? By glyphs where a reference's layout holds
    the text (``prefer``: a reference name to try first, e.g. the one the screen was
    recognised as), else by OCR. ``read``: also OCR the area for the report (the check
    itself does not need it). ``lines``: the OCR of this very screen at the references' size,
    when it was read already (it is not read again)."""
    prepared = screen if lines is None else _Screen(screen, references.size, lines)
    return checker_for(references).check(expected, prepared, prefer=prefer, read=read)


def check_texts(expected: Sequence[str], screen: np.ndarray, references: ReferenceSet, *,
                prefer: str | None = None, read: bool = True,
                lines: Sequence[ReadLine] | None = None) -> list[TextCheck]:
    """:func:`check_text` of each text, the screen prepared once."""
    checker = checker_for(references)
    prepared = _Screen(screen, references.size, lines)  # read by OCR once for every text
    out = []
    for text in expected:
        if renderings(text, references, prefer):
            out.append(checker.check(text, prepared, prefer=prefer, read=read))
        else:
            out.append(_by_ocr(text, screen, references.size, prepared.lines()))
    return out


def in_order(checks: Sequence[TextCheck], same_line_px: float = 8.0) -> list[str]:
    """Problems with the order of texts that were all found: each must come after the one
    before it, top to bottom, then left to right on one line (tops within
    ``same_line_px``). A text not found is a problem of its own."""
    problems = []
    previous: TextCheck | None = None
    for check in checks:
        if not check.ok or check.where is None:
            problems.append(check.message())
            continue
        if previous is not None and previous.where is not None:
            (px, py, *_), (x, y, *_) = previous.where, check.where
            same_line = abs(y - py) <= same_line_px
            if (same_line and x < px) or (not same_line and y < py):
                problems.append(f"{check.expected} shows before {previous.expected}; the "
                                "notice has it after")
        previous = check
    return problems


def check_in_order(expected: Sequence[str], screen: np.ndarray, references: ReferenceSet,
                   **kwargs: object) -> tuple[list[TextCheck], list[str]]:
    """Each text checked (:func:`check_texts`), and the problems: texts not shown, or not
    in the notice's order. No problem: they all show, in order."""
    checks = check_texts(expected, screen, references, **kwargs)  # type: ignore[arg-type]
    return checks, in_order(checks)


def absent_text(text: str, screen: np.ndarray, references: ReferenceSet, *,
                lines: Sequence[ReadLine] | None = None) -> TextCheck:
    """For rules like "no consent about 高額療養費": ``ok`` when ``text`` is NOT on the
    screen, neither as some reference draws it (glyphs) nor in the normalised OCR of the
    screen. ``detail`` says where it was seen when it is there."""
    # As drawn, whatever stands beside it (a forbidden text with more after it is there).
    glyphs = checker_for(references).check(text, screen, read=False, beside=False) \
        if renderings(text, references) else None
    if lines is None:
        lines = read_lines(screen, reference_size=references.size)
    if glyphs is not None and glyphs.ok:
        return attrs.evolve(glyphs, ok=False, wanted=False, read=_read_at(lines, glyphs.where),
                            detail=f"it is there: {glyphs.detail}")
    # Folded widths: a forbidden text drawn with a full-width colon is there all the same.
    by_ocr = _by_ocr(text, screen, references.size, lines, widths=False)
    if by_ocr.ok:
        return attrs.evolve(by_ocr, ok=False, wanted=False, detail="OCR reads it (normalised: NFKC, no "
                                                      "whitespace)")
    read = " / ".join(line.text for line in lines)
    return TextCheck(text, True, "ocr" if glyphs is None else "glyphs", read, None,
                     "not on the screen (" + ("as drawn, nor " if glyphs is not None else "")
                     + "in the normalised OCR)", 1.0, wanted=False)
