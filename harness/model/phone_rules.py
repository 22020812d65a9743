"""SP-03: which reader read the patient's phone, judged from what PC/SC saw.

A pure function over a :class:`~harness.model.observed.FlowRecord`, returning problems
(none: the rule holds). Seed 002 《 スマートフォンのマイナ保険証を使った受付の手順 》 ③: the phone
is held over the general reader set up beside the face-auth reader (顔認証付きカードリーダーの
近くに設置された汎用カードリーダーにスマートフォンをかざします); Canon's reader reads it on its
own front (※キヤノン製の顔認証付きカードリーダーの場合は顔認証付きカードリーダー本体の前面に).

The right reader (the check's ``phone_read_on``, the maker's data):
- ``general_reader``: the general reader the flow paired. Its PC/SC side saw the phone
  arrive, and what arrived says it is a phone (the JPKI token: a card fails);
- ``front``: the face-auth reader's front. No general reader's PC/SC side saw anything.

And by no other: the face-auth reader left its hold screen while the phone was on the right
reader, not while it lay elsewhere (the flow holds it on other readers first, where it must
not be taken), nor with no phone held; no other general reader's PC/SC side saw a card
meanwhile. No PC/SC evidence (a general reader the rig could not watch, a record without a
hold) fails: nothing shows which reader read the phone.
"""

from __future__ import annotations

from typing import Literal

from harness.model.observed import FlowRecord, PhoneHold, SeenScreen
from harness.model.visit_rules import BACK

#: The hold screen's class in the shared vocabulary.
HOLD = "sp_hold"
#: Two bench times this close are one moment (a look, and the action logged right after).
EPS_S = 1e-6

Where = Literal["general_reader", "front"]


def _place(where: str) -> str:
    return "the face-auth reader's front" if where == "front" else where


def right_place(where: Where, record: FlowRecord) -> tuple[str | None, str]:
    """Where the phone must be read (a general reader's bench entry, or ``front``), or
    None and why it is not known."""
    if where == "front":
        return "front", ""
    if record.paired_general is None:
        return None, "no general reader was paired in the flow: no reader is the right one"
    return record.paired_general, ""


def _left_holds(record: FlowRecord) -> list[tuple[float, float]]:
    """Each time the reader left its hold screen other than by 戻る, (the last look still on
    it, the first look past it): the spans in which it took a phone, every visit's (a reader
    right on the first check-in and reading the next off its front was passed when only the
    first was judged)."""
    screens: list[SeenScreen] = record.screens
    backs = [a.t for a in record.actions if a.what == BACK]
    spans = []
    for i, seen in enumerate(screens):
        if seen.shows == HOLD and i + 1 < len(screens) and screens[i + 1].shows != HOLD:
            if any(seen.until - EPS_S <= t < screens[i + 1].t for t in backs):
                continue  # left by 戻る, not by a phone (where it led: the visit rules')
            spans.append((seen.until, screens[i + 1].t))
    return spans


def _during(hold: PhoneHold, start: float, end: float) -> bool:
    """The phone lay there at some moment in (start, end]. An action logged at the moment
    of a look came after it: a hold begun at ``end`` was not seen at ``end``."""
    held_until = hold.away_t if hold.away_t is not None else float("inf")
    return hold.t < end - EPS_S and held_until > start + EPS_S


def check_phone_read_on(where: Where, record: FlowRecord) -> list[str]:
    """SP-03 on the record's phone holds (see the module)."""
    right, why = right_place(where, record)
    if right is None:
        return [why]
    if not record.phone_holds:
        return [f"no phone was held in the flow: nothing shows that {_place(right)} read it"]
    problems: list[str] = []
    for hold in record.phone_holds:
        for reader, reason in hold.unwatched:
            problems.append(f"{reader}'s PC/SC side was not watched while the phone was held "
                            f"on {_place(hold.where)} at {hold.t:.1f} s ({reason}): whether it "
                            "read the phone is unknown")
    rights = [h for h in record.phone_holds if h.where == right]
    if not rights:
        tried = ", ".join(_place(h.where) for h in record.phone_holds)
        problems.append(f"the phone was never held on {_place(right)} (held on: {tried})")
    if right != "front" and rights and right not in rights[0].watched + tuple(
            r for r, _ in rights[0].unwatched):
        problems.append(f"{right} is not a general reader of the bench the rig watched "
                        f"({', '.join(rights[0].watched) or 'none'})")
    for hold in record.phone_holds:
        problems += _sightings(hold, right)
    problems += _taken(record, right)
    return problems


def _sightings(hold: PhoneHold, right: str) -> list[str]:
    """What the general readers' PC/SC sides saw during one hold."""
    problems: list[str] = []
    at = f"while the phone was held on {_place(hold.where)} at {hold.t:.1f} s"
    for seen in hold.seen:
        if seen.reader != hold.where:
            what = "a card already lying there" if seen.before else "a card arrive"
            problems.append(f"{seen.reader}'s PC/SC side ({seen.pcsc_name}) saw {what} {at} "
                            f"(its token says {seen.holder or 'nothing read'}): another reader "
                            "than the one the phone was held on had something to read")
    if hold.where != right or hold.where == "front":
        return problems
    mine = [s for s in hold.seen if s.reader == hold.where]
    if not mine:
        problems.append(f"{hold.where}'s PC/SC side saw no card arrive {at}: nothing shows "
                        "the paired general reader read the phone")
        return problems
    seen = mine[0]
    if seen.before:
        problems.append(f"a card lay on {hold.where} before the phone was held there "
                        f"({seen.holder or 'not read'}): what was read is not the phone held")
    if seen.holder is None:
        problems.append(f"what arrived on {hold.where} ({seen.pcsc_name}) {at} could not be "
                        f"read through PC/SC: {seen.detail}")
    elif seen.holder != "smartphone":
        problems.append(f"what arrived on {hold.where} ({seen.pcsc_name}) {at} says it is a "
                        f"{seen.holder}, not a phone")
    return problems


def _taken(record: FlowRecord, right: str) -> list[str]:
    """The face-auth reader left its hold screen while the phone lay on the right reader,
    and only there."""
    spans = _left_holds(record)
    if not spans:
        shown = any(s.shows == HOLD for s in record.screens)
        return [f"the reader {'never left' if shown else 'never showed'} its hold screen "
                f"({record.path()}): it did not take the phone from {_place(right)}"]
    problems = []
    for start, end in spans:
        when = f"between {start:.1f} s and {end:.1f} s"
        holds = [h for h in record.phone_holds if _during(h, start, end)]
        if not holds:
            problems.append(f"the reader left its hold screen {when} with no phone held: it "
                            "was not the phone that moved it on")
            continue
        wrong = [h for h in holds if h.where != right]
        if wrong:
            places = ", ".join(f"{_place(h.where)} (held at {h.t:.1f} s)" for h in wrong)
            problems.append(f"the reader left its hold screen {when} while the phone lay on "
                            f"{places}, not on {_place(right)}: it took the phone from the "
                            "wrong reader")
    return problems


def hold_lines(holds: list[PhoneHold]) -> tuple[str, ...]:
    """The holds for a verdict's evidence: ``12.0-14.5 s sanwa: sanwa PC/SC … smartphone``."""
    out = []
    for h in holds:
        away = f"{h.away_t:.1f}" if h.away_t is not None else "…"
        seen = "; ".join(f"{s.reader} ({s.pcsc_name}): {s.holder or 'not read'}"
                         f"{' (there before)' if s.before else ''}" for s in h.seen)
        unwatched = "; ".join(f"{r} not watched ({why})" for r, why in h.unwatched)
        out.append(f"phone held {h.t:.1f}-{away} s on {_place(h.where)}: PC/SC saw "
                   f"{seen or 'nothing'} (watched {len(h.watched)} general readers"
                   f"{'; ' + unwatched if unwatched else ''})")
    return tuple(out)
