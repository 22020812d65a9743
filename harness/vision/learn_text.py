"""Texts of a reference learnt from a lab's own reader (``onshi-rig learn``).

A learnt reference gets a text layout (:class:`~harness.vision.reference.TextLine`, what
glyph checks cut their templates with) only for texts someone vouches for, read back off the
clean averaged picture by Tesseract:

- a text the lab confirms (``learn --text``): its line(s) when the OCR, normalised (NFKC, no
  whitespace), reads it with one symbol per character (the lab vouches for the characters,
  the OCR only places them);
- a text the maker's profile expects on that screen: its line(s) when the OCR reads it
  exactly (no normalisation: ``：`` and ``:`` differ), else no layout (a note says so).

Each glyph's cell runs from halfway between its ink and the previous glyph's to halfway to
the next one's (Tesseract gives ink boxes, not the font's advances).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import attrs
import numpy as np

from harness.vision.ocr import ReadLine, ReadSymbol, read_lines
from harness.vision.reference import TextLine
from harness.vision.text_check import drawn_form, normalise


@attrs.frozen
class LearntTexts:
    #: The texts the reference shows (confirmed, or the profile's read exactly).
    texts: tuple[str, ...]
    lines: tuple[TextLine, ...]
    #: What the lab should know: texts without a layout, profile texts not read.
    notes: tuple[str, ...]
    #: What OCR read on the picture, line by line.
    read: tuple[ReadLine, ...]


def profile_texts(maker: str, shows: str, profiles: Path | None = None) -> tuple[str, ...]:
    """The texts the maker's profile expects on a screen of class ``shows`` (its flow
    checks' ``screens:`` steps), in order, each once; none for a maker without a profile."""
    from harness.loading import load_yaml_model
    from harness.model.profiles import FlowCheck, Profile, default_profiles_dir

    path = (profiles or default_profiles_dir()) / f"{maker}.yaml"
    if not path.is_file():
        return ()
    profile = load_yaml_model(path, Profile)
    texts: list[str] = []
    for req in profile.requirements:
        for check in req.checks:
            if not isinstance(check, FlowCheck):
                continue
            for step in check.screens:
                if step.screen == shows:
                    texts += [t for t in step.texts if t not in texts]
    return tuple(texts)


def profile_fragments(maker: str, shows: str, profiles: Path | None = None
                      ) -> tuple[tuple[str, ...], ...]:
    """The parts of its text the maker's profile expects on a screen of class ``shows``
    (its flow checks' ``screens:`` steps' ``contains``, each a group of one, and each
    ``contains_any`` a group: one of them), each group once."""
    from harness.loading import load_yaml_model
    from harness.model.profiles import FlowCheck, Profile, default_profiles_dir

    path = (profiles or default_profiles_dir()) / f"{maker}.yaml"
    if not path.is_file():
        return ()
    profile = load_yaml_model(path, Profile)
    groups: list[tuple[str, ...]] = []
    for req in profile.requirements:
        for check in req.checks:
            if not isinstance(check, FlowCheck):
                continue
            for step in check.screens:
                if step.screen != shows:
                    continue
                found = [(t,) for t in step.contains]
                found += [tuple(step.contains_any)] if step.contains_any else []
                groups += [g for g in found if g not in groups]
    return tuple(groups)


def learn_texts(image: np.ndarray, confirmed: Sequence[str], expected: Sequence[str],
                size: tuple[int, int],
                fragments: Sequence[Sequence[str]] = ()) -> LearntTexts:
    """Layouts for the ``confirmed`` texts and the profile's ``expected`` ones found on the
    learnt ``image`` (BGR, the references' size); a note for each of the profile's
    ``fragments`` groups (see :func:`profile_fragments`) none of which is read on it."""
    read = read_lines(image, reference_size=size, symbols=True)
    texts: list[str] = []
    lines: list[TextLine] = []
    notes: list[str] = []
    everything = normalise("".join(line.text for line in read))
    for text in confirmed:
        placed = _place(text, read, exact=False, source=f"texts.{len(texts)}")
        texts.append(text)
        if placed is None:
            notes.append(f"{text!r}: confirmed, but Tesseract does not read it one symbol per "
                         "character; no layout stored (its checks fall back to OCR)")
        else:
            lines += placed
    for text in expected:
        if text in texts:
            continue
        placed = _place(text, read, exact=True, source=f"texts.{len(texts)}")
        if placed is not None:
            texts.append(text)
            lines += placed
        elif normalise(text) in everything:
            notes.append(f"{text!r} (the profile's): read only up to width or spacing "
                         "(normalised); no layout stored: confirm it with --text")
        else:
            shown = " / ".join(line.text for line in read) or "nothing"
            notes.append(f"{text!r} (the profile's) is not on the new reference; read: {shown}")
    for group in fragments:
        if not any(normalise(f) in everything for f in group):
            shown = " / ".join(line.text for line in read) or "nothing"
            want = " or ".join(repr(f) for f in group)
            notes.append(f"{want} (the profile's, part of this screen's text) is not read on "
                         f"the new reference; read: {shown}")
    return LearntTexts(tuple(texts), tuple(lines), tuple(notes), read)


def _place(text: str, read: Sequence[ReadLine], *, exact: bool,
           source: str) -> list[TextLine] | None:
    """The text's lines, from the OCR's symbols, or None when they do not spell it."""
    want = drawn_form(text)
    want = "".join(want.split()) if exact else normalise(want)
    symbols: list[tuple[int, ReadSymbol]] = [(n, s) for n, line in enumerate(read)
                                             for s in line.symbols]
    spelt = [(s.text if exact else normalise(s.text)) for _, s in symbols]
    if any(len(c) != 1 for c in spelt):
        # Keep only one-character symbols (the rest cannot be placed character by character).
        keep = [i for i, c in enumerate(spelt) if len(c) == 1]
        symbols = [symbols[i] for i in keep]
        spelt = [spelt[i] for i in keep]
    at = "".join(spelt).find(want)
    drawn = "".join(drawn_form(text).split())
    if at < 0 or not want or len(drawn) != len(want):
        return None
    chosen = symbols[at:at + len(want)]
    out: list[TextLine] = []
    start = 0
    for n in sorted({n for n, _ in chosen}):
        mine = [s for m, s in chosen if m == n]
        chars = drawn[start:start + len(mine)]
        line = _line(chars, mine, source, start)
        if line is None:
            return None
        out.append(line)
        start += len(mine)
    return out


def _line(chars: str, symbols: Sequence[ReadSymbol], source: str,
          start: int) -> TextLine | None:
    """A line's layout from its symbols, or None when they are not one glyph each, left to
    right (Tesseract's Japanese symbols sometimes span several glyphs or none)."""
    lefts = [s.box[0] for s in symbols]
    rights = [s.box[0] + s.box[2] for s in symbols]
    gap = 2.0
    edges = [lefts[0] - gap]
    edges += [(r + left) / 2 for r, left in zip(rights[:-1], lefts[1:], strict=True)]
    edges.append(rights[-1] + gap)
    top = min(s.box[1] for s in symbols) - 4
    bottom = max(s.box[1] + s.box[3] for s in symbols) + 4
    height = bottom - top
    cells = np.diff(edges)
    # A glyph is at least a narrow bracket wide and at most about a full-width cell.
    if any(s.box[2] > 1.3 * height for s in symbols) or cells.min() < 0.15 * height \
            or cells.max() > 1.5 * height:
        return None
    edges = [float(max(0.0, round(e, 1))) for e in edges]
    x0 = int(np.floor(edges[0]))
    box = (x0, max(0, top), int(np.ceil(edges[-1])) - x0, bottom - max(0, top))
    return TextLine(text=chars, box=box, edges=edges, source=source, start=start)
