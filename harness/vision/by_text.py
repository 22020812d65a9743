"""A screen that comes near a reference without reaching the classifier's threshold, told
by its texts.

A sparse screen (two lines of text on a plain page) seen through a lamp's halo and a drift
of the camera's exposure can score 0.7 against its own reference while every other state
scores near 0: the picture alone cannot call it, and an ``unknown`` there fails a flow the
reader did right. Its texts can: when every line the nearest reference draws is on the
screen character for character (glyph by glyph against the panel's rendering), and those
lines cover every area the reference must match, and nothing else is written on it (OCR
finds no line where the reference picture has none), the screen is that reference's. A
screen with one character changed, a line missing or more, or a button more or less stays
``unknown``. Where another state's picture scores near (a page of the same layout: the
network and the account errors), the reading decides only when none of that state's
references shows all its lines; a rival with no lines to read keeps the screen unknown.
"""

from __future__ import annotations

import attrs
import numpy as np

from harness.vision.classify import Decision
from harness.vision.geometry import Calibration
from harness.vision.ocr import Box, read_lines
from harness.vision.reference import Reference, ReferenceSet
from harness.vision.text_check import check_texts, rectify_for_text

#: Below this score the picture is too far from the reference for its texts to decide.
MIN_SCORE = 0.5
#: A state scoring within this of the nearest is a rival: the picture alone does not tell
#: them apart (near duplicates), so the reading must: each rival's every reference has lines
#: of text, and not all of them show on the screen.
MIN_MARGIN = 0.3


def _centre_in(inner: Box, outer: Box, slack: float = 0.0) -> bool:
    """The centre of ``inner`` lies in ``outer`` grown by ``slack`` of its height."""
    cx, cy = inner[0] + inner[2] / 2, inner[1] + inner[3] / 2
    x, y, w, h = outer
    return x - slack * h <= cx <= x + w + slack * h and y - slack * h <= cy <= y + h + slack * h


def _covered(ref: Reference) -> bool:
    """Every area the reference must match holds one of its lines of text (a picture or an
    icon cannot be confirmed by reading)."""
    match = ref.regions_of("match")
    return bool(ref.lines) and bool(match) and all(
        any(_centre_in(line.box, region.box) for line in ref.lines) for region in match)


_written: dict[tuple[int, str], tuple[Box, ...]] = {}


def _written_on(ref: Reference, references: ReferenceSet) -> tuple[Box, ...]:
    """Where the reference picture has anything OCR takes for writing (its lines, a
    maker's name on the bezel), once per reference."""
    key = (id(references), ref.name)
    if key not in _written:
        read = read_lines(ref.image, reference_size=references.size)
        _written[key] = tuple(line.box for line in read) + tuple(line.box for line in ref.lines)
    return _written[key]


def _nothing_more(ref: Reference, screen: np.ndarray, references: ReferenceSet) -> bool:
    """OCR finds no line on the screen where the reference picture has none (a line's
    centre within one of the picture's lines)."""
    known = _written_on(ref, references)
    return all(any(_centre_in(line.box, box) for box in known)
               for line in read_lines(screen, reference_size=references.size)
               if line.text.strip())


def recognised_by_text(decision: Decision, frame: np.ndarray, calibration: Calibration | None,
                       references: ReferenceSet) -> Decision:
    """``decision``, or the nearest state's reference whose every line shows on the screen
    (the one with most lines, when several of that state do: a button more)."""
    if (decision.known or decision.blank or decision.runner_up is None
            or calibration is None or decision.score < MIN_SCORE):
        return decision
    rivals = _rivals(decision, references)
    candidates = [r for r in references if r.state == decision.runner_up and _covered(r)]
    if rivals is None or not candidates:
        return decision
    screen = rectify_for_text(frame, calibration, references)
    best = next((ref for ref in sorted(candidates, key=lambda r: -len(r.lines))
                 if _every_line_shows(ref, screen, references)), None)
    if best is None or not _nothing_more(best, screen, references):
        return decision
    shown = next((r.name for r in rivals if _every_line_shows(r, screen, references)), None)
    if shown is not None:
        return attrs.evolve(decision, why=f"{decision.why}; by its texts it is {best.name} "
                                          f"or {shown}, which the picture scores alike")
    ruled_out = f"; every rival ruled out by its texts ({', '.join(r.name for r in rivals)})"
    return attrs.evolve(
        decision, state=best.state, reference=best.name, shows=best.shows,
        overlay=best.overlay,
        why=f"recognised by its texts: every line of {best.name} shows character for "
            f"character (the picture scores {decision.score:.2f})"
            f"{ruled_out if rivals else ''}")


def _every_line_shows(ref: Reference, screen: np.ndarray, references: ReferenceSet) -> bool:
    texts = list(dict.fromkeys(line.text for line in ref.lines))
    return all(c.ok for c in check_texts(texts, screen, references, prefer=ref.name,
                                         read=False))


def _rivals(decision: Decision, references: ReferenceSet) -> list[Reference] | None:
    """The references of the states the picture scores, or might score, within
    :data:`MIN_MARGIN` of the nearest (the reading must rule each out); None where one
    cannot be: a reference without lines of text, or a runner-up the decision does not
    name (which it was is not known)."""
    if decision.margin >= MIN_MARGIN:
        return []
    bounds = {**decision.at_most, **decision.scores}
    near = {state for state, score in bounds.items()
            if state != decision.runner_up and score >= decision.score - MIN_MARGIN}
    second = decision.score - decision.margin
    if not any(bounds[state] >= second - 1e-3 for state in near):
        return None
    rivals = [r for r in references if r.state in near]
    return None if any(not r.lines for r in rivals) else rivals
