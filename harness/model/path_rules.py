"""One path's screens against another's (a flow check's ``screens_as``).

AUTH-05 (the support vendor's お知らせ 目視確認モード ④: 以降は通常どおりの同意画面にすすみ、
完了します), the PIN path and the phones (《 スマートフォンのマイナ保険証を使った受付の手順 》 ③:
以降は同意情報の入力へ進みます): after their own identity check, these paths show the consent
screens the card's own face path shows. A class check (``consent`` was seen) passes a path
that skips one of them, adds one, asks one twice or shows them in another order; this one
compares the screens one by one, and how often each was answered.

Pure functions (DESIGN.md principle 5): the two flows' records in, the problems out.
"""

from __future__ import annotations

import attrs

from harness.model.observed import FlowRecord, SeenScreen
from harness.model.profiles import ScreensAs

#: How an unrecognised screen stands in a sequence: it matches nothing, not even itself.
UNRECOGNISED = "unknown"


@attrs.frozen
class PathScreens:
    """A path's screens of one class: by reference, in order, and how often one was
    answered (the runner logs an answer by the class's name, ``consent``: a screen asked
    again after its answer shows as one stretch, but takes one answer more)."""

    names: tuple[str, ...]
    actions: int

    def shown(self) -> str:
        return " -> ".join(self.names) or "none"


def _of_class(seen: SeenScreen, screen: str) -> bool:
    # A screen under an overlay (a loading circle over the last consent screen) asks
    # nothing: it is the screen before it, busy, not one more.
    return seen.shows == screen and seen.overlay is None


def screens_of(record: FlowRecord, screen: str) -> PathScreens:
    """The record's screens of class ``screen``: each by its reference, in order, a screen
    seen over several stretches in a row once; an unrecognised screen nearest the class, or
    between the first and the last of them, as UNRECOGNISED (it may be one: never dropped)."""
    seen = record.screens
    at = [k for k, s in enumerate(seen) if _of_class(s, screen)]
    names: list[str] = []
    last: str | None = None
    for k, s in enumerate(seen):
        if s.shows == screen and s.overlay is not None:
            continue  # busy: neither one more screen nor a break between two looks at one
        unknown = s.shows is None and (s.candidate == screen or bool(at and at[0] < k < at[-1]))
        if not (_of_class(s, screen) or unknown):
            last = None
            continue
        name = UNRECOGNISED if unknown else s.state
        if name != last or name == UNRECOGNISED:
            names.append(name)
        last = name
    return PathScreens(tuple(names), sum(1 for a in record.actions if a.what == screen))


def check_screens_as(rule: ScreensAs, record: FlowRecord,
                     baseline: FlowRecord | None) -> list[str]:
    """``record``'s ``rule.screen`` screens are ``baseline``'s (the ``rule.flow`` flow's),
    one by one in that order and answered as often. Fails closed: no baseline, a baseline
    that showed none, or an unrecognised screen among them on either path."""
    other = f"the {rule.flow} flow"
    if baseline is None:
        return [f"{other} was not driven on this reader: its {rule.screen} screens, which "
                "this path must show, are not known"]
    if baseline.unmet:
        return [f"{other}, whose {rule.screen} screens this path must show, did not start as "
                f"the notice's procedure says: {'; '.join(baseline.unmet)}"]
    want, got = screens_of(baseline, rule.screen), screens_of(record, rule.screen)
    if not want.names:
        return [f"{other} showed no {rule.screen} screen to compare this path's with "
                f"({baseline.path()})"]
    unread = [where for where, seq in (("this path", got), (f"{other}'s record", want))
              if UNRECOGNISED in seq.names]
    if unread:
        return [f"a {rule.screen} screen on {where} was not recognised, so whether the two "
                f"paths show the same {rule.screen} screens cannot be told" for where in unread]
    if got.names != want.names:
        return [f"this path showed the {rule.screen} screens {got.shown()}; {other} (the "
                f"usual path) shows {want.shown()}; they must be the same screens in the "
                "same order"]
    if got.actions != want.actions:
        return [f"this path's {rule.screen} screens ({got.shown()}) took {got.actions} "
                f"answer(s); {other}'s took {want.actions}: a screen asked again is one more"]
    return []


def describe(rule: ScreensAs) -> str:
    given = f" given {', '.join(rule.given)}" if rule.given else ""
    return f"its {rule.screen} screens one by one as the {rule.flow} flow{given} shows them"
