"""What a screen says, as far as the camera confirms it: its state, the texts and the
buttons on it.

A recognised screen says everything its reference says. An unrecognised one may still show
a part of what a reference shows: a faulty reader's 901 screen that lacks a line is not the
901 screen (its words differ), but its 【901: ...】 code is there, moved up or down by the
missing line. The reading of an unknown screen holds the references' error codes found
anywhere on it (:meth:`Classifier.find_region`), and nothing it cannot confirm; the state
whose code it shows is its candidate. Suites tell "shows a 901 error"
(``has_text("【901")``) from "is the 901 screen" (``state == "error_901"``).
"""

from __future__ import annotations

import attrs
import numpy as np

from harness.vision.classify import UNKNOWN, Classifier, Decision
from harness.vision.reference import Reference

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

    @property
    def known(self) -> bool:
        return self.state != UNKNOWN

    def has_text(self, fragment: str) -> bool:
        """Some confirmed text holds ``fragment`` (``has_text("【901")``)."""
        return any(fragment in text for text in self.texts)

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
        }


def variant_buttons(reference_name: str) -> tuple[str, ...]:
    """The conditional buttons a reference's name says it shows: ``first@staff+smartphone``
    -> ``("staff", "smartphone")`` (the names ``onshi-rig references`` gives variants)."""
    _, _, variant = reference_name.partition("@")
    return tuple(variant.split("+")) if variant else ()


def read_screen(classifier: Classifier, decision: Decision,
                screen: np.ndarray | None = None) -> ScreenReading:
    """What the screen behind ``decision`` says. ``screen``, the rectified screen of the same
    frame (best at ``classifier.fine_size``), is searched only when the decision is unknown:
    without it an unknown screen reads as nothing but its closest state."""
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
