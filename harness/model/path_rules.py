"""One path's screens against another's (a flow check's ``screens_as``).

AUTH-05 (the support vendor's お知らせ 目視確認モード ④: 以降は通常どおりの同意画面にすすみ、
完了します) and the phones (《 スマートフォンのマイナ保険証を使った受付の手順 》 ③: 以降は同意情報の
入力へ進みます): after their own identity check, these paths show the consent screens the
card's own path shows. A class check (``consent`` was seen) passes a path that skips one of
them, adds one, or shows them in another order; this one compares the screens one by one.

Pure functions (DESIGN.md principle 5): the two flows' records in, the problems out.
"""

from __future__ import annotations

from harness.model.observed import FlowRecord, SeenScreen
from harness.model.profiles import ScreensAs

#: How an unrecognised screen stands in a sequence: it matches nothing, not even itself.
UNRECOGNISED = "unknown"


def _of_class(seen: SeenScreen, screen: str) -> bool:
    # An unrecognised screen nearest this class may be one of its screens: it is kept (and
    # then fails the comparison: fail closed), never dropped.
    return seen.shows == screen or (seen.shows is None and seen.candidate == screen)


def screens_of(record: FlowRecord, screen: str) -> list[str]:
    """The record's screens of class ``screen`` by reference, in order, a screen seen over
    several stretches in a row (an overlay come and gone, a look between) once."""
    out: list[str] = []
    last: SeenScreen | None = None
    for seen in record.screens:
        if not _of_class(seen, screen):
            last = None
            continue
        name = seen.state if seen.shows is not None else UNRECOGNISED
        if last is None or name != out[-1] or name == UNRECOGNISED:
            out.append(name)
        last = seen
    return out


def check_screens_as(rule: ScreensAs, record: FlowRecord,
                     baseline: FlowRecord | None) -> list[str]:
    """``record``'s ``rule.screen`` screens are ``baseline``'s (the ``rule.flow`` flow's),
    one by one in that order. Fails closed: no baseline, a baseline that showed none, or an
    unrecognised screen of the class on either path."""
    other = f"the {rule.flow} flow"
    if baseline is None:
        return [f"{other} was not driven on this reader: its {rule.screen} screens, which "
                "this path must show, are not known"]
    if baseline.unmet:
        return [f"{other}, whose {rule.screen} screens this path must show, did not start as "
                f"the notice's procedure says: {'; '.join(baseline.unmet)}"]
    want, got = screens_of(baseline, rule.screen), screens_of(record, rule.screen)
    if not want:
        return [f"{other} showed no {rule.screen} screen to compare this path's with "
                f"({baseline.path()})"]
    unread = [where for where, seq in (("this path", got), (other, want))
              if UNRECOGNISED in seq]
    if unread:
        return [f"a {rule.screen} screen on {where} was not recognised, so whether the two "
                f"paths show the same {rule.screen} screens cannot be told" for where in unread]
    if got != want:
        return [f"this path showed the {rule.screen} screens {' -> '.join(got) or 'none'}; "
                f"{other} (the usual path) shows {' -> '.join(want)}: the same screens, in "
                "that order"]
    return []


def describe(rule: ScreensAs) -> str:
    given = f" given {', '.join(rule.given)}" if rule.given else ""
    return f"its {rule.screen} screens one by one as the {rule.flow} flow{given} shows them"
