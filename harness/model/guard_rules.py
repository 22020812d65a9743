"""The first screen's button guards, judged on every first screen of every flow driven.

The notices tie two buttons of the first screen to the bench's state, not to a flow:
職員用ボタンは目視確認用パスコードが発行されている場合のみ表示されます (AUTH-03, after the reader's
restart: AUTH-04), and the smartphone button once a general reader is paired and the
maker's restart done (SP-01, 接続設定概要 5). A guard listed flow by flow leaks (hunt G5-G7:
the button dropped or added on the first screen after an Android or a PIN visit, flows no
list named): a :class:`~harness.model.profiles.ButtonGuard` is judged on every first screen
the camera recognised in every flow the maker's profile drives, each held to the state the
flow's preconditions (and its restarts) put the bench in at that moment. The walks
hold every first screen they see to the same guards (:func:`expected_in_world`; hunt G5-G7's
buttons dropped or added after a visit, whatever the visit's way).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from harness.model.observed import FlowRecord, SeenScreen
from harness.model.profiles import ButtonGuard

#: Actions after which a passcode issued for the first time brings the staff button (the
#: reader restarted: AUTH-04); until one, it must not show.
RESTARTS = ("restart",)


def expected(guard: ButtonGuard, record: FlowRecord, seen: SeenScreen) -> bool | None:
    """Whether ``seen`` (a first screen of ``record``) must show the guard's button: True,
    False, or None where the notices leave it open (right after a first passcode issue and a
    restart of the flow's own; the pairing flow, whose own checks judge the button after its
    restart: SP-04, SP-06)."""
    given = set(record.given)
    if guard.shown_with == "passcode_issued":
        if "passcode_issued" in given:
            return True
        if "passcode_first_issue" in given:
            restarted = any(a.what.startswith(RESTARTS) and a.t < seen.t
                            for a in record.actions)
            return None if restarted else False
        return False  # a restored bench has no passcode: only its issue brings one
    if record.flow == "pairing":
        return None
    return "paired" in given


def expected_in_world(shown_with: str, world: Collection[str],
                      unmet: Collection[str] = ()) -> bool | None:
    """Whether every first screen of a walk (no restart, no pairing in it) in ``world`` must
    show the button a guard ties to ``shown_with``: with that given set up, yes; else no (a first passcode issue not
    followed by a restart brings no staff button, AUTH-04; a restored bench has no passcode
    and no pairing). None where the given was meant but not set up (the walk's set-up fails
    with why)."""
    if shown_with in unmet:
        return None
    return shown_with in world


def guard_problems(guard: ButtonGuard, records: Iterable[FlowRecord]) -> tuple[list[str], int]:
    """What broke the guard on the records' first screens, and how many were judged."""
    problems: list[str] = []
    judged = 0
    for record in records:
        if record.unmet:
            continue  # never brought where it starts: its own checks fail with why
        for seen in record.screens:
            if seen.shows != "first":
                continue
            want = expected(guard, record, seen)
            if want is None:
                continue
            judged += 1
            shown = guard.button in seen.buttons
            if shown != want:
                why = guard.shown_with.replace("_", " ")
                state = why if want else f"not {why}"
                problems.append(
                    f"flow {record.flow} ({', '.join(record.given) or 'no preconditions'}): "
                    f"the first screen (seen as {seen.label()} at {seen.t:.1f} s) "
                    f"{'lacks' if want else 'shows'} the {guard.button} button, with the "
                    f"bench {state} ({record.path()})")
    if not judged:
        problems.append(f"no first screen was judged for the {guard.button} button: the "
                        "guard could not be checked")
    return problems, judged
