"""One path's screens against another's (a flow check's ``screens_as``).

AUTH-05 (the support vendor's お知らせ 目視確認モード ④: 以降は通常どおりの同意画面にすすみ、
完了します), the PIN path and the phones (《 スマートフォンのマイナ保険証を使った受付の手順 》 ③:
以降は同意情報の入力へ進みます): after their own identity check, these paths show the consent
screens the card's own face path shows. A class check (``consent`` was seen) passes a path
that skips one of them, adds one, asks one twice or shows them in another order; this one
compares the screens one by one, and how often each was answered, on every visit the
path's flow drives (a reader right for the first patient and not the second fails).

Pure functions (DESIGN.md principle 5): the two flows' records in, the problems out.
"""

from __future__ import annotations

import attrs

from harness.model.observed import FlowRecord, SeenScreen
from harness.model.profiles import ScreensAs

#: How an unrecognised screen stands in a sequence: it matches nothing, not even itself.
UNRECOGNISED = "unknown"
#: The reader's idle screen: a visit is what lies between two of them.
IDLE = "first"
#: Classes only a visit that got as far as the check shows: with them, a stretch between two
#: idle screens is a visit even if it showed no screen of the compared class.
_CHECKED = ("checking", "completion")
#: Actions that start a patient's visit: a stretch between two idle screens where one was
#: done is a visit, whatever it showed (a visit that bounced back to the first screen
#: before any consent is one that showed none).
_VISIT_STARTS = ("card_in", "hold_phone:")


def _idle(seen: SeenScreen) -> bool:
    """The first screen, or an unrecognised screen nearest it (two visits are not merged
    into one across it)."""
    return seen.shows == IDLE or (seen.shows is None and seen.candidate == IDLE)


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


def visits(record: FlowRecord, screen: str) -> list[PathScreens]:
    """Each visit of the record (the screens between two idle screens where a card was put
    in or a phone held, or that show a ``screen`` screen or got as far as the check; a
    staff's refused passcode, back to the first screen, is none; a card put in on a
    completion that took the reader on begins the next one) with its ``screen`` screens as
    ``screens_of`` gives them, the answers given between those idle screens counted."""
    idle = [k for k, s in enumerate(record.screens) if _idle(s)]
    bounds = [piece for a, b in zip([-1, *idle], [*idle, len(record.screens)], strict=True)
              if b > a + 1 for piece in _split_at_cards(record, a + 1, b)]
    out = []
    for lo, hi in bounds:
        part = record.screens[lo:hi]
        since = record.screens[lo - 1].t if lo else float("-inf")
        until = record.screens[hi].t if hi < len(record.screens) else float("inf")
        actions = [a for a in record.actions if since <= a.t < until]
        if not (any(a.what.startswith(_VISIT_STARTS) for a in actions) or any(
                s.shows == screen or s.shows in _CHECKED
                or (s.shows is None and s.candidate == screen) for s in part)):
            continue
        out.append(screens_of(attrs.evolve(record, screens=part, actions=actions), screen))
    return out


def _split_at_cards(record: FlowRecord, lo: int, hi: int) -> list[tuple[int, int]]:
    """Screens ``lo`` to ``hi`` cut where a card put in on a completion screen took the
    reader on (the next patient's card on a phone's completion, hunt E-6: a new visit, not
    more screens of the one that was done)."""
    seen = record.screens
    cuts = [k for k in range(lo + 1, hi) if seen[k - 1].shows == "completion"
            and seen[k].shows != "completion"
            and any(a.what == "card_in" and seen[k - 1].t <= a.t <= seen[k].t
                    for a in record.actions)]
    return list(zip([lo, *cuts], [*cuts, hi], strict=True))


def first_visit(record: FlowRecord, screen: str) -> PathScreens:
    """The record's first visit's ``screen`` screens (none: no visit)."""
    return next(iter(visits(record, screen)), PathScreens((), 0))


def check_screens_as(rule: ScreensAs, record: FlowRecord,
                     baseline: FlowRecord | None) -> list[str]:
    """``record``'s ``rule.screen`` screens are ``baseline``'s (the ``rule.flow`` flow's
    first visit's), one by one in that order and answered as often, on each of the
    record's visits. Fails closed: no baseline, a baseline that showed none, no visit, or
    an unrecognised screen among them on either path."""
    other = f"the {rule.flow} flow"
    if baseline is None:
        return [f"{other} was not driven on this reader: its {rule.screen} screens, which "
                "this path must show, are not known"]
    if baseline.unmet:
        return [f"{other}, whose {rule.screen} screens this path must show, did not start as "
                f"the notice's procedure says: {'; '.join(baseline.unmet)}"]
    want = first_visit(baseline, rule.screen)
    if not want.names:
        return [f"{other} showed no {rule.screen} screen to compare this path's with "
                f"({baseline.path()})"]
    if UNRECOGNISED in want.names:
        return [f"a {rule.screen} screen on {other}'s record was not recognised, so whether "
                f"the two paths show the same {rule.screen} screens cannot be told"]
    if want.actions != len(want.names):
        # One answer a screen: more is a screen asked again, or one the camera could not
        # tell from the one before (read as the same): the usual path is not known.
        return [f"{other}'s {rule.screen} screens took {want.actions} answer(s) on "
                f"{len(want.names)} screen(s) told apart ({want.shown()}): a screen asked again "
                "or one the camera could not tell from the one before, so the usual path's "
                f"{rule.screen} screens are not known"]
    found = visits(record, rule.screen) or [PathScreens((), 0)]
    problems = []
    for k, got in enumerate(found, 1):
        where = "this path" if len(found) == 1 else f"this path's visit {k} of {len(found)}"
        if UNRECOGNISED in got.names:
            problems.append(f"a {rule.screen} screen on {where} was not recognised, so "
                            f"whether the two paths show the same {rule.screen} screens "
                            "cannot be told")
        elif got.names != want.names:
            problems.append(f"{where} showed the {rule.screen} screens {got.shown()}; {other} "
                            f"(the usual path) shows {want.shown()}; they must be the same "
                            "screens in the same order")
        elif got.actions != want.actions:
            problems.append(f"{where}'s {rule.screen} screens ({got.shown()}) took "
                            f"{got.actions} answer(s); {other}'s took {want.actions}: a "
                            "screen asked again is one more")
    return problems


def describe(rule: ScreensAs) -> str:
    given = f" given {', '.join(rule.given)}" if rule.given else ""
    return f"its {rule.screen} screens one by one as the {rule.flow} flow{given} shows them"
