"""Rules every flow's record is held to visit by visit, whatever the flow was for (pure
functions: a :class:`~harness.model.observed.FlowRecord` in, the problems out).

- Every visit that reaches a consent screen identified the patient on that visit (AUTH-01:
  無人運転モード, the face or the PIN; AUTH-05: 目視確認モード, ① 職員用ボタン ② 目視確認用パスコード ③
  the staff's check, each time the mode is used; SP-03: a phone's certificate read). A
  reader that carries an earlier visit's identification over to the next patient (after a
  staff visit, after an error) fails whatever flow saw it.
- A card taken out on an error screen leaves the error up or goes back to the first screen,
  never on to a step of a visit (D-8: the staff's 「カードを置いてください」 kept, so the next
  card, anyone's, was taken as the staff-confirmed patient's).
- 戻る (the ``cancel`` button) goes back: to a screen the visit came through or to the
  first screen, never on to another step of the path (a 戻る that opens the visual
  confirmation skips the passcode).

A visit starts at the first screen, or at a card put in anywhere but where the staff's way
places it (``place_card``, or the staff's check itself after the right passcode: that card
is the staff visit's own). An error screen starts one
too: the check it ended was the identified patient's, and a consent after it needs the
patient identified again (D-8: after a network error on the staff's way, the card-out went
back to the staff's 「カードを置いてください」 and the next card, anyone's, went to the
consents).
"""

from __future__ import annotations

import attrs

from harness.model.observed import Action, FlowRecord, SeenScreen

#: Two bench times this close are one moment (a look and the action logged right after it).
EPS_S = 1e-6
#: Where a card put in goes on with the visit begun before it (AUTH-05 ④), once the
#: staff's check (③) led there.
CARD_CONTINUES_ON = frozenset({"place_card"})
STAFF_CHECK = "visual_confirm"
#: The staff's passcode typed right (AUTH-05 ②), as the flows and the walks log it.
PASSCODE_RIGHT = "passcode:right"
#: Screens that end a visit's check (the reader's errors: 901, network, time-out, account).
ERROR_PREFIX = "error_"
#: Where a card taken out on an error screen may leave the reader: the first screen, or
#: the reader starting again (a restart the error asks for), besides the error staying.
AFTER_ERROR_CARD_OUT = frozenset({"first", "starting", "dark", "link_wait"})
#: The button that goes back, as the flows and the walks log its press.
BACK = "press:cancel"
#: Screens a reader shows for a moment while it works (「しばらくお待ちください」, the check
#: running): passed over where a rule asks where a step leads.
WAITING = frozenset({"please_wait", "checking"})


@attrs.frozen
class Identification:
    """One way a visit identifies the patient: ``path`` seen on the visit in its order,
    each a screen class or (with a colon) an action of the flows' vocabulary (ending in the
    colon: any of its kind, ``hold_phone:`` wherever held)."""

    path: tuple[str, ...]
    name: str
    #: The path's last screen must lead straight to the consents (the face check matched:
    #: one that did not goes on to the PIN, which identifies only when typed).
    direct: bool = False


#: The ways the notices name (seed 002: 無人運転モード, the face or the PIN; 目視確認モード,
#: ① 職員用ボタン ② 目視確認用パスコード ③ the staff's check; スマートフォンのマイナ保険証).
IDENTIFICATIONS = (
    Identification(("face_auth",), "the face check matched", direct=True),
    Identification(("pin_entry", "pin:right"), "the PIN typed"),
    Identification(("staff_passcode", "passcode:right", "visual_confirm"),
                   "the staff's visual confirmation after the passcode"),
    Identification(("sp_hold", "hold_phone:"), "a phone held at the hold screen"),
)


def _before(record: FlowRecord, t: float) -> SeenScreen | None:
    """The screen looked at last before ``t`` (a screen first seen at that very moment
    may be what the action brought: the hands take no bench time)."""
    before = [s for s in record.screens if s.t < t - EPS_S]
    return before[-1] if before else None


def visit_starts(record: FlowRecord) -> list[float]:
    """When each visit the record saw begin began, in order: the first screen, an error
    screen, or a card put in that the reader took (the screen changed), unless the staff's
    way had shown where to place it, after the staff's check, since the last first screen
    or error, or the card was put in on the staff's check itself after the right passcode
    (that card is the staff visit's own, AUTH-05 ④; a 「カードを置いてください」 no staff's
    check led to, E-9's after a card pulled on the consents, continues nothing)."""
    firsts = [s.t for s in record.screens
              if s.shows == "first" or (s.shows or "").startswith(ERROR_PREFIX)]
    starts = list(firsts)
    for i, a in enumerate(record.actions):
        if a.what != "card_in":
            continue
        on = _before(record, a.t)
        if on is not None and not screen_changed(record, i, on):
            # A card the reader let lie (nothing changed before the next act): the visit
            # under way goes on (a card put in on the staff's confirmation and placed
            # after it is the staff visit's).
            continue
        since = max((t for t in firsts if t <= a.t + EPS_S), default=float("-inf"))
        # In the screens' order (several may be seen at one moment): the staff's check,
        # then where to place the card.
        shown = [s.shows for s in record.screens if since <= s.t <= a.t + EPS_S]
        checked = shown.index(STAFF_CHECK) if STAFF_CHECK in shown else None
        if checked is not None and any(c in CARD_CONTINUES_ON for c in shown[checked + 1:]):
            continue
        # Seed 002 目視確認モード ③ (目視で本人確認を行います) is the staff's act of looking,
        # not a button: the rig accepts ③ confirmed on screen and then ④ on the place-the-
        # card screen, and ③ done by looking with ④ the card put in on the confirmation
        # screen itself (review F2), once the right passcode opened it on this visit.
        if on is not None and on.shows == STAFF_CHECK and any(
                b.what == PASSCODE_RIGHT and since - EPS_S <= b.t <= a.t + EPS_S
                for b in record.actions[:i]):
            continue
        starts.append(a.t)
    return sorted(starts)


def _identified(way: Identification, screens: list[SeenScreen], actions: list[Action]) -> bool:
    """``way`` on one visit's screens and actions, step after step."""
    t = float("-inf")
    for step in way.path:
        times = ([a.t for a in actions if a.what == step
                  or (step.endswith(":") and a.what.startswith(step))] if ":" in step
                 else [s.t for s in screens if s.shows == step])
        t = min((x for x in times if x >= t - EPS_S), default=float("nan"))
        if t != t:  # nan: the step never came after the one before
            return False
    if not way.direct:
        return True
    # Straight on to the consents: a moment's wait screen between is the reader's (G-1), a
    # way through the PIN (a face not matched), an error or the first screen is not.
    after = [s for s in screens if s.t >= t - EPS_S]
    for a, b in zip(after, after[1:], strict=False):
        if a.shows != way.path[-1]:
            continue
        nxt = next((s for s in after[after.index(b):] if s.shows not in WAITING), None)
        if nxt is not None and nxt.shows == "consent":
            return True
    return False


#: A rule's problem and the bench time it was seen at (the walks file it under the step).
Problem = tuple[float, str]


def visit_problems(record: FlowRecord) -> list[Problem]:
    """Every visit rule's problems on ``record``, each with when it was seen."""
    return [*_unidentified(record), *_backs(record), *_astray(record)]


def unidentified_visits(record: FlowRecord) -> list[str]:
    """Each visit that reached a consent screen with none of :data:`IDENTIFICATIONS` on
    it (a record that starts inside a visit it did not see begin: that visit is not
    judged)."""
    return [text for _, text in _unidentified(record)]


def backs_not_back(record: FlowRecord) -> list[str]:
    """Each 戻る press that did not lead back: the screen it settles on before the next
    action (a moment's wait screen passed over) must be the first screen or one the visit
    came through (two steps back is back too); none, or an unrecognised one, is a failure
    (fail closed)."""
    return [text for _, text in _backs(record)]


def error_card_outs_astray(record: FlowRecord) -> list[str]:
    """Each card taken out on an error screen that took the reader on to a step of a visit
    (not the first screen, a restart or the error itself; an unrecognised screen fails
    closed unless its nearest reference is an error: the error staying up, its words the
    error's own checks' to judge)."""
    return [text for _, text in _astray(record)]


def _unidentified(record: FlowRecord) -> list[Problem]:
    problems: list[Problem] = []
    starts = visit_starts(record)
    judged: set[float] = set()
    for seen in record.screens:
        if seen.shows != "consent":
            continue
        since = max((t for t in starts if t <= seen.t + EPS_S), default=None)
        if since is None or since in judged:
            continue
        judged.add(since)
        # The screen showing when the visit began counts (a card put in on the phone's
        # hold screen, which the reader ignores: the phone held there still identifies).
        screens = [s for s in record.screens
                   if s.until >= since - EPS_S and s.t <= seen.t + EPS_S]
        actions = [a for a in record.actions if since - EPS_S <= a.t <= seen.t + EPS_S]
        if not any(_identified(way, screens, actions) for way in IDENTIFICATIONS):
            path = " -> ".join(s.label() for s in screens)
            ways = ", ".join(way.name for way in IDENTIFICATIONS)
            problems.append((seen.t, f"the visit since {since:.1f} s reached {seen.label()} "
                                     f"at {seen.t:.1f} s with the patient not identified on it "
                                     f"({path}): none of {ways}"))
    return problems


def _backs(record: FlowRecord) -> list[Problem]:
    problems: list[Problem] = []
    starts = visit_starts(record)
    for i, a in enumerate(record.actions):
        if a.what != BACK:
            continue
        on = _before(record, a.t)
        if on is None:
            problems.append((a.t, f"戻る pressed at {a.t:.1f} s before any screen was seen: "
                                  "where it leads could not be judged"))
            continue
        k = record.screens.index(on)
        since = max((t for t in starts if t <= on.t + EPS_S), default=float("-inf"))
        came = {s.shows for s in record.screens[:k]
                if s.t >= since - EPS_S and s.state != on.state and s.shows}
        brought, nxt = _settled(record, i, on)
        allowed = {"first"} | (came - WAITING)
        if nxt is None:
            problems.append((a.t, f"戻る on {on.label()} at {a.t:.1f} s led nowhere: the "
                                  f"reader still showed "
                                  f"{(brought[-1] if brought else on).label()} "
                                  f"({record.path()})"))
        elif nxt.shows not in allowed:
            problems.append((a.t, f"戻る on {on.label()} at {a.t:.1f} s led to {nxt.label()} "
                                  f"at {nxt.t:.1f} s, not back to "
                                  f"{' or '.join(sorted(allowed))} ({record.path()})"))
    return problems


def _after(record: FlowRecord, i: int, on: SeenScreen) -> tuple[list[SeenScreen], float]:
    """The screens other than ``on`` seen after it, and when the act after action ``i``
    came (never: infinity)."""
    k = record.screens.index(on)
    until = record.actions[i + 1].t if i + 1 < len(record.actions) else float("inf")
    return [s for s in record.screens[k + 1:] if s.state != on.state], until


def screen_changed(record: FlowRecord, i: int, on: SeenScreen) -> bool:
    """Whether the screen changed after action ``i`` (taken on ``on``) by the next action:
    a screen seen at that very moment counts (the flows look, then act), so a card is
    taken to start a visit rather than let lie wherever it is in doubt."""
    later, until = _after(record, i, on)
    return any(s.t <= until + EPS_S for s in later)


def _settled(record: FlowRecord, i: int, on: SeenScreen) -> tuple[list[SeenScreen],
                                                                 SeenScreen | None]:
    """The screens action ``i`` (taken on ``on``) brought before the next action (a screen
    a later action brought is that action's, G-6), and the first of them that is not a
    moment's wait."""
    later, until = _after(record, i, on)
    brought = [s for s in later if s.t < until - EPS_S]
    return brought, next((s for s in brought if s.shows not in WAITING), None)


def _astray(record: FlowRecord) -> list[Problem]:
    problems: list[Problem] = []
    for i, a in enumerate(record.actions):
        on = _before(record, a.t) if a.what == "card_out" else None
        if on is None or not (on.shows or "").startswith(ERROR_PREFIX):
            continue
        if i > 0 and record.actions[i - 1].t >= on.until - EPS_S:
            # An action since the last look at the error (the card put in and taken out
            # again, trying once more): what the card was taken out on was not seen.
            continue
        _, nxt = _settled(record, i, on)
        # The error staying up: one recognised, or an unrecognised screen nearest an error
        # (a 901 no longer asking for the card that is out; flow_rules._failed_after counts
        # it the same way), whose texts the error's own checks judge.
        if nxt is None or nxt.shows in AFTER_ERROR_CARD_OUT or \
                nxt.taken_for.startswith(ERROR_PREFIX):
            continue
        problems.append((a.t, f"the card taken out on {on.label()} at {a.t:.1f} s took the "
                              f"reader to {nxt.label()} at {nxt.t:.1f} s, not back to the "
                              f"first screen ({record.path()})"))
    return problems
