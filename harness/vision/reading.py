"""What a screen says, as far as the camera confirms it: its state, the texts and the
buttons on it.

A recognised screen says everything its reference says. An unrecognised one may still show
a part of what a reference shows: a faulty reader's 901 screen that lacks a line is not the
901 screen (its words differ), but its 【901: ...】 code is there, moved up or down by the
missing line. The reading of an unknown screen holds the references' error codes found
anywhere on it (:meth:`Classifier.find_region`), and nothing it cannot confirm; the state
whose code it shows is its candidate. Suites tell "shows a 901 error"
(``has_text("【901")``) from "is the 901 screen" (``state == "error_901"``).

What the screen *says*, character for character, is read at decision points only (OCR costs
~0.1-0.3 s a screen): :func:`read_text` (or ``read_screen(..., read=True)``) adds the OCR's
lines; a reading made with the screen at the references' size can judge texts on it
(:meth:`ScreenReading.check_text`, harness/vision/text_check.py), whatever its state.
"""

from __future__ import annotations

import attrs
import numpy as np

from harness.vision.classify import UNKNOWN, Classifier, Decision
from harness.vision.ocr import ReadLine, read_lines
from harness.vision.reference import Reference, ReferenceSet
from harness.vision.text_check import TextCheck, absent_text, check_text, check_texts

#: The regions an unrecognised screen is searched for: error codes.
CODE = "code"


@attrs.frozen
class ScreenReading:
    #: The recognised state, or ``unknown``.
    state: str
    #: The decision's score (for an unknown screen, the closest state's).
    score: float
    shows: str | None = None
    overlay: str | None = None
    #: What is confirmed on the screen: every text of the recognised reference (a
    #: dialog's title first); for an unknown screen, the references' error codes (【...】)
    #: found on it, best first.
    texts: tuple[str, ...] = ()
    #: Names of the buttons shown that depend on a condition (``staff``, ``smartphone``),
    #: from the reference's name (``first@staff+smartphone``); a state's fixed buttons
    #: (``戻る``) are in ``labels`` only.
    buttons: tuple[str, ...] = ()
    #: Labels of every button shown.
    labels: tuple[str, ...] = ()
    #: For an unknown screen, the state whose error code it shows, else the state that
    #: came closest (the decision's runner-up).
    candidate: str | None = None
    #: The reference recognised.
    reference: str | None = None
    #: The lines OCR read on the screen, top to bottom, with their confidences (empty until
    #: read: :func:`read_text`).
    lines: tuple[ReadLine, ...] = ()
    #: The rectified screen the reading came from, and its references: what text checks
    #: judge (None: the reading cannot check texts).
    screen: np.ndarray | None = attrs.field(default=None, eq=False, repr=False)
    references: ReferenceSet | None = attrs.field(default=None, eq=False, repr=False)

    @property
    def known(self) -> bool:
        return self.state != UNKNOWN

    def has_text(self, fragment: str) -> bool:
        """Some confirmed text holds ``fragment`` (``has_text("【901")``)."""
        return any(fragment in text for text in self.texts)

    def _judge(self) -> tuple[np.ndarray, ReferenceSet]:
        if self.screen is None or self.references is None:
            raise ValueError("this reading holds no screen to check texts on (read_screen "
                             "without screen=)")
        return self.screen, self.references

    def check_text(self, expected: str) -> TextCheck:
        """Is ``expected`` on the screen, character for character? (text_check.check_text;
        the recognised reference's rendering is tried first.)"""
        screen, refs = self._judge()
        return check_text(expected, screen, refs, prefer=self.reference)

    def check_texts(self, expected: list[str] | tuple[str, ...]) -> list[TextCheck]:
        screen, refs = self._judge()
        return check_texts(expected, screen, refs, prefer=self.reference)

    def absent_text(self, text: str) -> TextCheck:
        """``ok`` when ``text`` is not on the screen (glyphs nor OCR)."""
        screen, refs = self._judge()
        return absent_text(text, screen, refs, lines=self.lines or None)

    def as_json(self) -> dict[str, object]:
        return {
            "state": self.state,
            "score": round(self.score, 4),
            "shows": self.shows,
            "overlay": self.overlay,
            "texts": list(self.texts),
            "buttons": list(self.buttons),
            "labels": list(self.labels),
            "candidate": self.candidate,
            "reference": self.reference,
            **({"read": [line.as_json() for line in self.lines]} if self.lines else {}),
        }


def variant_buttons(reference_name: str) -> tuple[str, ...]:
    """The conditional buttons a reference's name says it shows: ``first@staff+smartphone``
    -> ``("staff", "smartphone")`` (the names ``onshi-rig references`` gives variants)."""
    _, _, variant = reference_name.partition("@")
    return tuple(variant.split("+")) if variant else ()


def read_screen(classifier: Classifier, decision: Decision,
                screen: np.ndarray | None = None, *, read: bool = False) -> ScreenReading:
    """What the screen behind ``decision`` says. ``screen``, the rectified screen of the same
    frame (the classifier's fine size or the references' own), is searched only when the
    decision is unknown: without it an unknown screen reads as nothing but its closest state.
    ``read``: also OCR the screen (:func:`read_text`); the reading keeps ``screen`` for text
    checks either way (at the references' size for glyph checks)."""
    reading = _reading(classifier, decision, screen)
    if screen is None:
        return reading
    reading = attrs.evolve(reading, screen=screen, references=classifier.references)
    return read_text(reading) if read else reading


def read_text(reading: ScreenReading) -> ScreenReading:
    """The reading with the lines OCR reads on its screen (a decision point: the state
    changed, a rule asks). Unchanged when it holds no screen."""
    if reading.screen is None or reading.references is None:
        return reading
    return attrs.evolve(reading, lines=read_lines(reading.screen,
                                                  reference_size=reading.references.size))


def _reading(classifier: Classifier, decision: Decision,
             screen: np.ndarray | None) -> ScreenReading:
    if decision.known:
        if decision.reference is None:  # a decision made elsewhere, without its reference
            return ScreenReading(decision.state, decision.score, decision.shows,
                                 decision.overlay)
        return _recognised(classifier.references.get(decision.reference), decision)
    # Also on a "blank" unknown screen: a page with nothing but a code on it is nearly one.
    found = found_codes(classifier, screen) if screen is not None else []
    # A screen showing a state's error code is closest to that state, whatever the
    # rest of it looks like (the whole-screen scores of a screen that lacks a line say
    # little: another error page of the same colours may come closer than its own).
    candidate = found[0][1] if found else decision.runner_up
    return ScreenReading(UNKNOWN, decision.score, texts=tuple(text for _, _, text in found),
                         candidate=candidate)


def found_codes(classifier: Classifier, screen: np.ndarray) -> list[tuple[float, str, str]]:
    """The error codes of the references that show anywhere on ``screen``, best first:
    (score, state, text). A handful of searches: few references have a code."""
    found: list[tuple[float, str, str]] = []
    seen: set[str] = set()
    for ref in classifier.references:
        for region in ref.regions:
            # Variants of a state share their code: look for each text once.
            if region.name != CODE or region.text is None or region.text in seen:
                continue
            seen.add(region.text)
            score = classifier.find_region(screen, ref.name, region)
            if score >= classifier.accept:
                found.append((score, ref.state, region.text))
    return sorted(found, reverse=True)


def _recognised(ref: Reference, decision: Decision) -> ScreenReading:
    # A dialog's title is text on the screen as much as its body.
    texts = ((ref.title,) if ref.title else ()) + ref.texts
    return ScreenReading(decision.state, decision.score, ref.shows, ref.overlay, texts,
                         variant_buttons(ref.name), ref.buttons, reference=ref.name)
