"""What a person does for each flow of the shared vocabulary (harness.model.screens.Flow).

A driver reacts to what the reader's camera shows, as a patient or a member of staff would:
it never knows a maker, and never decides whether the flow went right. It leaves that to
the flow rules, which hold the record against the maker's profile.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
from collections.abc import Callable, Iterator

import attrs

from harness.flows.pairing_evidence import phone_read_test
from harness.flows.phone_hold import hold_phone
from harness.flows.renewal import drive_network_renewal
from harness.flows.runner import FIRST_LOOK_S, FlowRun
from harness.flows.setup import (
    PAIRING_SETTLE_S,
    PRACTICE_OPENS,
    pair,
    restart_after_pairing,
    restart_for_pairing,
    wait_for_delivery,
)
from harness.hands import OWN_PIN, Patient, Phone, PinEntry
from harness.model.clock import JST
from harness.model.profiles import Profile
from harness.model.robot_spec import DEFAULT_BUTTONS
from harness.model.visit_rules import WAITING
from harness.model.wait import wait_until

WRONG_PIN = "9999"


@attrs.frozen
class Plan:
    flow: str
    given: tuple[str, ...]
    profile: Profile
    #: How long to watch a screen that must stay (the longest ``stays_s`` asked).
    hold_s: float = 10.0

    @classmethod
    def of(cls, profile: Profile, flow: str, given: tuple[str, ...]) -> Plan:
        """The plan for one run of ``flow``: a screen that must stay is watched a little
        longer than the longest ``stays_s`` any check of that run asks of it."""
        stays = [step.stays_s for check in profile.flow_checks(flow, given)
                 for step in check.screens if step.stays_s]
        return cls(flow, given, profile, max(stays, default=8.0) + 2.0)

    def bounds(self) -> dict[str, tuple[float, ...]]:
        """Per action, the bounds this run's checks give the screen it brings (``upon``,
        ``within_s``): the run looks at each, so a screen in time is seen in time."""
        found: dict[str, set[float]] = {}
        for check in self.profile.flow_checks(self.flow, self.given):
            for step in check.screens:
                if step.upon is not None and step.within_s is not None:
                    found.setdefault(step.upon, set()).add(step.within_s)
        return {action: tuple(sorted(b)) for action, b in found.items()}


Driver = Callable[[FlowRun, Plan], None]


# -- a patient's visit -----------------------------------------------------------------------
def card_in(run: FlowRun) -> None:
    run.do("card_in", lambda: run.hands.card_in(run.reader, run.patient))
    run.wait_change(10)


def card_out(run: FlowRun, *, change_s: float | None = None) -> None:
    """The card taken out, and what that brings looked at half a second later (a screen it
    brings for a moment, a 'done' with no check behind it, is not left between looks);
    with ``change_s``, a screen that has not changed yet is waited on that long."""
    before = run.last.state if run.last is not None else None
    run.do("card_out", lambda: run.hands.card_out(run.reader))
    run.wait(FIRST_LOOK_S)
    if change_s is not None and run.last is not None and run.last.state == before:
        run.wait_change(change_s)


def answer_consents(run: FlowRun, most: int = 6) -> int:
    """Each consent screen that asks answered; one under an overlay (a loading circle) is
    busy and asks nothing."""
    answered = 0
    while (run.last is not None and run.last.shows == "consent" and run.last.overlay is None
           and answered < most):
        run.do("consent", lambda: run.hands.consent(run.reader))
        answered += 1
        run.wait_change(10)
    return answered


def check_in(run: FlowRun, *, face: bool = True, on_consent: Callable[[], None] | None = None,
             placed: bool = False) -> int:
    """From the first screen: card in, face, every consent screen answered (``placed``: the
    card already put in, where the reader took it). Returns how many consent screens were
    answered."""
    if not placed:
        if not run.wait_for("first", 30):
            return 0
        card_in(run)
    if run.last is not None and run.last.shows == "face_auth":
        run.do("face", lambda: run.hands.face(run.reader, matches=face))
        # Its answer: the consents (or the PIN), past a moment's wait screen (G-1).
        run.wait_until(lambda r: r.shows != "face_auth" and r.shows not in WAITING, 10,
                       "the face check's answer")
    if on_consent is not None:
        on_consent()
    return answer_consents(run)


#: While a check runs its end is looked for this often (bench seconds): a completion a
#: reader shows only a moment (a phone's, no card holding it; the notices give no time) is
#: seen, not left between looks (review F5). A still screen's looks cost little (a source
#: that knows its scene still vouches for it).
CHECK_LOOK_S = 0.5


def wait_check_end(run: FlowRun) -> bool:
    """The check's end (whatever the reader shows after its check running), looked for
    every CHECK_LOOK_S for at most 20 s."""
    return run.wait_until(lambda r: r.shows != "checking", 20, "the check to end",
                          step_s=CHECK_LOOK_S)


def end_visit(run: FlowRun, *, take_card: bool = True, hold_s: float = 3.0) -> None:
    """Let the check end, look at the outcome (``hold_s``; a long hold looked at every
    COMPLETION_LOOK_S), take the card, see where the reader goes."""
    wait_check_end(run)
    run.hold(hold_s, step_s=COMPLETION_LOOK_S if hold_s > COMPLETION_GAP_S * 5 else 2.0)
    if take_card:
        card_out(run, change_s=20)
    else:
        run.wait_change(20)
    run.hold(2)


def drive_visit(run: FlowRun, plan: Plan) -> None:
    check_in(run)
    end_visit(run)


#: CON-01: the completion screen is held this long before the card is taken out in the
#: consent flow's first visit; the second visit holds it COMPLETION_LONG_S (a patient who
#: leaves the card a while; the notices give no time: a reader that goes back by itself
#: later than that, card in, is not judged), or longer by the profile's bound
#: (``within_s``) and COMPLETION_GAP_S more. A
#: reader that goes back to its first screen on a timer of its own fails one of the two:
#: it comes before the card is out, or later than the bound after (a timer past the long
#: hold is not tried). A third check-in, held as the first, follows those (one patient's
#: card each time: a reader right for two check-ins and wrong from the third fails the
#: checks every visit is held to: its consent screens, its first screen's buttons; a
#: reader wrong only for another card is not tried).
COMPLETION_HOLD_S, COMPLETION_GAP_S, COMPLETION_LONG_S = 3.0, 4.0, 30.0
#: ... on an emulated bench (a virtual clock: the hold costs a few looks), the consent
#: flow's long hold is this long: a reader going back by itself after 45 s, card in, is
#: seen (hunt F21).
COMPLETION_LONG_EMULATED_S = 600.0
#: ... the long hold looked at this often (a screen that leaves shows where it went).
COMPLETION_LOOK_S = 5.0


def _completion_holds(plan: Plan, long_s: float = COMPLETION_LONG_S) -> tuple[float, ...]:
    bounds = [step.within_s for check in plan.profile.flow_checks(plan.flow, plan.given)
              for step in check.screens if step.upon == "card_out" and step.within_s]
    return (COMPLETION_HOLD_S, max(long_s, COMPLETION_HOLD_S + max(bounds, default=0.0)
                                   + COMPLETION_GAP_S), COMPLETION_HOLD_S)


def drive_consent(run: FlowRun, plan: Plan) -> None:
    """Visits whose completion screen is held a short, a long and a short while before the
    card is taken out (CON-01: the card-out, not a timer, brings the first screen back; the
    third, one more check-in after those). On an emulated bench the long hold is
    :data:`COMPLETION_LONG_EMULATED_S`."""
    long_s = COMPLETION_LONG_EMULATED_S if run.bench.emulated else COMPLETION_LONG_S
    for hold_s in _completion_holds(plan, long_s):
        check_in(run)
        end_visit(run, hold_s=hold_s)


#: AUTH-02: bench seconds the reader is watched after each PIN entry (a lock that comes a
#: moment late is still seen before the next entry).
PIN_WATCH_S = 3.0


def _enter_pin(run: FlowRun, entry: PinEntry) -> bool:
    """One PIN typed on the PIN screen: the patient's own, or a wrong one on purpose
    (``entry``, told to a person who types it), then the screen watched. False when the reader does not ask for a PIN: a patient cannot type one
    (nothing is logged)."""
    if run.last is None or run.last.shows != "pin_entry":
        run.problem(f"the reader did not ask for a PIN: it showed {run.record.path()}")
        return False
    pin = WRONG_PIN if entry.wrong else run.patient.pin
    run.do("pin:wrong" if entry.wrong else "pin:right",
           lambda: run.hands.pin(run.reader, pin, entry=entry))
    run.wait(0.5)  # the first look after the entry comes after it, never at its moment
    run.hold(PIN_WATCH_S)
    return True


def _pin_visit(run: FlowRun, pins: list[bool], locks_after: int) -> None:
    """A visit whose face does not match: card in, the PINs typed (True: the right one)
    while the reader asks for one, card out. Each wrong one is typed as what it is: the
    k-th wrong in a row of the ``locks_after`` that lock the card (the visit starts the
    count: the drivers' visits start with the card's count at nought)."""
    if not run.wait_for("first", 30):
        return
    card_in(run)
    run.do("face", lambda: run.hands.face(run.reader, matches=False))
    run.wait_for("pin_entry", 10)
    in_a_row = 0
    for right in pins:
        in_a_row = 0 if right else in_a_row + 1
        entry = OWN_PIN if right else PinEntry(wrong=True, locks_after=locks_after,
                                               in_a_row=in_a_row)
        if not _enter_pin(run, entry):
            break
    card_out(run, change_s=10)


def drive_pin_lock(run: FlowRun, plan: Plan) -> None:
    """AUTH-02, both halves (the support vendor's お知らせ: 暗証番号を3回連続で間違えて): one wrong PIN short of the
    lock, then the right one (the count starts again; the visit goes on, the card is taken
    out); next visit, wrong PINs up to the lock, each watched; then the locked card again."""
    n = _locks_after(run, plan)
    if n is None:
        return
    _pin_visit(run, [False] * (n - 1) + [True], n)
    _pin_visit(run, [False] * n, n)
    # The locked card once more, the face not matched: the card keeps its lock, so the
    # reader says so and asks no PIN (hunt D-7: one asked again, wrong or right, forever).
    if run.wait_for("first", 30):
        card_in(run)
        run.do("face", lambda: run.hands.face(run.reader, matches=False))
        run.wait_change(10)
        run.hold(PIN_WATCH_S)
        card_out(run, change_s=10)


def drive_pin_visit(run: FlowRun, plan: Plan) -> None:
    """AUTH-01's other unattended way (無人運転モード: the face or the PIN): a face that does not
    match, the right PIN, every consent screen answered, the card out at the end; three
    check-ins, the completion held a short, a long and a short while, as the face path's
    consent flow does (:data:`COMPLETION_HOLD_S`)."""
    for hold_s in _completion_holds(plan):
        if not _pin_way(run):
            return
        answer_consents(run)
        end_visit(run, hold_s=hold_s)


def _pin_way(run: FlowRun) -> bool:
    """The PIN's way to the consents (the unattended mode's other way): card in, a face that
    does not match, the right PIN typed. False when the reader never asked for the PIN."""
    if not run.wait_for("first", 30):
        return False
    card_in(run)
    run.do("face", lambda: run.hands.face(run.reader, matches=False))
    # (a screen of its own may come between the face not matched and the PIN's)
    run.wait_for("pin_entry", 10)
    return _enter_pin(run, OWN_PIN)


def _locks_after(run: FlowRun, plan: Plan) -> int | None:
    """How many wrong PINs in a row lock, as the flow's checks say (None: a problem)."""
    counts = [check.pin_count.locks_after for check in plan.profile.flow_checks(
        plan.flow, plan.given) if check.pin_count is not None]
    if not counts:
        run.problem(f"the profile's {plan.flow} checks give no pin_count: how many wrong PINs "
                    "lock is not known, so none is typed")
        return None
    return counts[0]


def drive_pin_lock_staff(run: FlowRun, plan: Plan) -> None:
    """AUTH-06 (the support vendor's お知らせ 目視確認モード: 顔認証がうまくいかず、かつ…暗証番号を3回連続で間違えて
    ロックがかかった場合): a visit whose face does not match and whose wrong PINs lock the card,
    the card taken out; then the staff path (AUTH-05) with that same locked card."""
    n = _locks_after(run, plan)
    if n is None:
        return
    _pin_visit(run, [False] * n, n)
    drive_staff_visual(run, plan)


def drive_staff_visual(run: FlowRun, plan: Plan) -> None:
    if not _staff_to_card(run, wrong=WRONG_PASSCODES):
        return
    card_in(run)
    answer_consents(run)
    end_visit(run)


def drive_staff_visits(run: FlowRun, plan: Plan) -> None:
    """AUTH-05's staff visit, then what comes after one (the visit rules judge each visit:
    identified on its own, every 戻る back): the staff's way again for the next patient,
    straight through (a 戻る first would leave a way that skips the passcode untried),
    then again with 戻る pressed where it shows (a patient's card after the 戻る that land
    on the first screen: :func:`_staff_again`), then a next patient's own card. A wrong
    passcode first on every arrival at the passcode screen."""
    if not _staff_to_card(run, wrong=WRONG_PASSCODES):
        return  # no staff visit: nothing comes after one
    card_in(run)
    answer_consents(run)
    end_visit(run)
    _staff_again(run, back=False)
    _staff_again(run, back=True)
    drive_visit(run, plan)


#: Actions a member of staff takes on each screen of the staff's way (AUTH-05 ①-④).
STAFF_WAY = {"first": "press:staff", "staff_passcode": "passcode:right",
             "visual_confirm": "staff_confirm"}
#: 戻る, as a panel labels it (a state's fixed button: read by its label).
BACK_LABEL = DEFAULT_BUTTONS["cancel"]
#: Bound on the staff's acts on the second staff visit (each 戻る costs a step back).
STAFF_WAY_STEPS = 20


def _staff_again(run: FlowRun, *, back: bool) -> None:
    """The staff's way again from the first screen (① and ② each time the mode is used),
    with ``back``, 戻る pressed once on each screen that shows it, the way taken up from
    wherever it led; at the card's place, the card in, the consents, done. On each arrival
    at the passcode screen (from the staff button or a 戻る) a wrong passcode is typed first
    and looked at, then the right one (hunt E-1, E-1b: a screen that takes any passcode
    after a 戻る or after the first right one). After 戻る on the passcode screen, and on the
    card's place (戻る pressed on back to the first screen), a patient's own card on the
    first screen, by the face to the end (hunt E-2: a first screen that kept the staff's
    way, or its confirmation, takes the card on unidentified; the visit rules judge it).
    Stops where none of the way's acts fits (the visit rules say why)."""
    if not run.wait_for("first", 30):
        return
    backed: set[str] = set()
    # A wrong passcode is due on the passcode screen; refused: just typed (the staff
    # button pressed again after a refusal to the first screen is that same try's).
    wrong_due, refused = True, False
    for _ in range(STAFF_WAY_STEPS):
        last = run.last
        if last is None or last.shows is None:
            # A look that caught the screen mid-change (CI once saw Atlas's place_card as
            # unknown a moment): looked at again for a while; one that stays unknown is the
            # reader's, and the way stops there.
            if run.wait_until(lambda r: r.shows is not None, 5, "a screen the rig knows"):
                continue
            break
        if back and BACK_LABEL in last.labels and last.shows not in backed:
            backed.add(last.shows)
            _press_back(run)
            if last.shows == "place_card":
                _back_to_first(run)
            wrong_due, refused = True, False
            if last.shows in CARD_AFTER_BACK and run.last is not None \
                    and run.last.shows == "first":
                _card_after_back(run)
            continue
        if last.shows == "place_card":
            card_in(run)
            answer_consents(run)
            end_visit(run)
            return
        if last.shows == "staff_passcode" and wrong_due:
            wrong_due, refused = False, True
            _wrong_passcode(run)
            continue
        act = STAFF_WAY.get(last.shows)
        if act is None:
            break
        run.hold(1)
        run.do(act, functools.partial(_staff_act, run, act))
        wrong_due, refused = act == "press:staff" and not refused, False
        if not run.wait_change(10):
            break  # the way's act changed nothing: staff would not go on pressing
    # (the checks of the visits after the first fail on what is missing; this says why)
    run.problem(f"the staff's way again did not reach the card's place: {run.record.path()}")


#: Screens whose 戻る is followed by a patient's card on the first screen (hunt E-2): the
#: passcode screen's has only the first screen to go back to, and the card's place's is
#: pressed on until it is there, so every reader gets the same visits (and results).
CARD_AFTER_BACK = frozenset({"staff_passcode", "place_card"})
#: 戻る presses after the first one on the card's place, to the first screen at most.
BACK_PRESSES = 3


def _wrong_passcode(run: FlowRun, by: int = 1) -> None:
    """A wrong passcode of the right length (:func:`other_digits`), looked at a few
    seconds."""
    run.do("passcode:wrong", functools.partial(_passcode, run,
                                               other_digits(run.passcode or "", by)))
    run.wait(3)
    # The staff read the refusal and look the code up again before the next entry: a
    # refusal that opens the confirmation by itself a few seconds on is seen to.
    run.hold(PERSON_PAUSE_S - 3, step_s=5)
    run.hands.wait(1)  # the look above and the next entry must not share a moment


def _back_to_first(run: FlowRun) -> None:
    """戻る again wherever the last one led, until the first screen (the staff's way left
    for a patient's visit); a passcode screen on the way first gets a wrong passcode (hunt
    E-1: one 戻る brought that takes any)."""
    for _ in range(BACK_PRESSES):
        last = run.last
        if last is None or last.shows == "first" or BACK_LABEL not in last.labels:
            return
        if last.shows == "staff_passcode":
            _wrong_passcode(run)
            if run.last is None or run.last.shows != "staff_passcode":
                continue
        _press_back(run)


def _passcode(run: FlowRun, typed: str) -> None:
    run.hands.passcode(run.reader, typed)


def _card_after_back(run: FlowRun) -> None:
    """A patient's own card on the first screen a 戻る brought, the visit by the face to
    its end: a first screen that kept the staff's (or the phone's) way takes the card on
    to the consents unidentified, which the visit rules fail (hunt E-2)."""
    check_in(run)
    end_visit(run)


def _staff_act(run: FlowRun, act: str) -> None:
    if act == "press:staff":
        run.hands.press(run.reader, "staff")
    elif act == "passcode:right":
        run.hands.passcode(run.reader, run.passcode or "")
    else:
        run.hands.staff_confirm(run.reader)


def _staff_to_card(run: FlowRun, wrong: int = 0) -> bool:
    """The staff's path to where the card is placed: the staff button, ``wrong`` wrong
    passcodes, the right one, the photo confirmed. False when the reader did not ask for
    the passcode."""
    run.wait_for("first", 30)
    run.hold(2)
    run.do("press:staff", lambda: run.hands.press(run.reader, "staff"))
    if not run.wait_for("staff_passcode", 10):
        return False
    code = run.passcode or ""
    # Wrong passcodes of the same length first (AUTH-05: each refused, the second as much as
    # the first), then the right one; each typed on the passcode screen, the staff button
    # pressed again (and logged as such, before the passcode) where a refusal went back to
    # the first screen (as staff would).
    for k in range(1, wrong + 1):
        _to_passcode(run)
        _wrong_passcode(run, by=k)
    _to_passcode(run)
    run.do("passcode:right", lambda: run.hands.passcode(run.reader, code))
    run.wait_for("visual_confirm", 10)
    run.do("staff_confirm", lambda: run.hands.staff_confirm(run.reader))
    run.wait_for("place_card", 10)
    return True


#: AUTH-05: wrong passcodes typed before the right one. Two: a reader that refuses only the
#: first fails; more would spend a real clinic's tries where OQS counts them (the notice
#: gives no limit).
WRONG_PASSCODES = 2


def _to_passcode(run: FlowRun) -> None:
    """Back on the passcode screen after a refused passcode: the staff button again if the
    reader went back to its first screen (the procedure's ① and ②); anything else is left
    as it is (the refusal's rule judges it)."""
    if run.last is not None and run.last.shows == "first":
        run.do("press:staff", lambda: run.hands.press(run.reader, "staff"))
        run.wait_for("staff_passcode", 10)
        run.hold(1)  # what the press brought seen a while before the passcode goes in


def other_digits(code: str, by: int = 1) -> str:
    """``code`` with every digit ``by`` up: the same length, so refused for being wrong,
    not for its length."""
    return "".join(str((int(c) + by) % 10) if c.isdigit() else c for c in code) or "0000"


def _wrong_first(what: str, enter: Callable[[str], None], run: FlowRun, code: str,
                 tries: int = 1) -> None:
    """``tries`` wrong codes, each another (:func:`other_digits`), entered as
    ``<what>:wrong`` and looked at for a few seconds."""
    for k in range(1, tries + 1):
        wrong = other_digits(code, k)
        run.do(f"{what}:wrong", functools.partial(enter, wrong))
        run.wait(3)
        run.hands.wait(1)  # the look above and the next entry must not share a moment


def drive_look_at_first(run: FlowRun, plan: Plan) -> None:
    """The first screen looked at; where a check of the flow says what it must not show
    (AUTH-03: no staff button without a passcode; AUTH-04: none before the restart), a
    patient's visit and the first screen again: it must not show it after a visit either."""
    if not run.wait_for("first", 30):
        return
    run.hold(4)
    if not any(step.no_buttons for check in plan.profile.flow_checks(plan.flow, plan.given)
               for step in check.screens):
        return
    drive_visit(run, plan)
    run.wait_for("first", 30)
    run.hold(2)


def _smartphone(kind: str) -> Driver:
    def drive(run: FlowRun, plan: Plan) -> None:
        patient = run.patient
        if _phone_check_in(run, plan, kind, back=True):
            answer_consents(run)
            end_visit(run, take_card=False)
            # No card to take out: the reader goes back by itself; the notices give no time,
            # the rig waits as long as the walks leave a person's screen alone.
            run.wait_for("first", 120, step_s=10)
            _choice_back_then_card(run, patient)
            _card_on_phone_completion(run, plan, patient, kind)
    return drive


def _card_on_phone_completion(run: FlowRun, plan: Plan, patient: Patient,
                              kind: str) -> None:
    """(hunt E-6; F10: Android's too) A second check-in with the phone, and while its
    completion still shows (no card to take out: a busy desk's next patient does not wait
    for the first screen) the next patient's card put in. The reader may start the face
    check (then the visit by the face), or ignore the card (then it is taken out, and put
    in again on the first screen); one that takes it on to the consents unidentified fails
    the visit rules."""
    if not _phone_check_in(run, plan, kind):
        return
    answer_consents(run)
    wait_check_end(run)
    if run.last is None or run.last.shows != "completion":
        return
    run.hold(2)
    with _card_of(run, patient):
        card_in(run)
        if run.last is not None and run.last.shows in {"face_auth", "consent"}:
            _check_in_here(run)
        else:
            card_out(run, change_s=20)
            check_in(run)
        end_visit(run)


@contextlib.contextmanager
def _card_of(run: FlowRun, patient: Patient) -> Iterator[None]:
    """``patient``'s card for a while in a phone's run: the run's result stays the phone's."""
    phone_patient, run.patient = run.patient, patient
    try:
        yield
    finally:
        run.patient = phone_patient


def _check_in_here(run: FlowRun) -> None:
    """The visit from where the card put in led: the face check if it asks (the card
    holder's face), every consent screen answered."""
    if run.last is not None and run.last.shows == "face_auth":
        run.do("face", lambda: run.hands.face(run.reader, matches=True))
        run.wait_until(lambda r: r.shows != "face_auth" and r.shows not in WAITING, 10,
                       "the face check's answer")
    answer_consents(run)


#: Bench seconds a person takes before the next act after a refusal or a 戻る (reading the
#: screen, turning to the patient): what the reader does by itself meanwhile is seen.
PERSON_PAUSE_S = 20.0


def _press_back(run: FlowRun) -> None:
    """戻る, looked at before and after (the visit rules judge where it led, and what it
    goes on to by itself while the person pauses)."""
    run.hold(1)
    run.do("press:cancel", lambda: run.hands.press(run.reader, "cancel"))
    run.wait(FIRST_LOOK_S)
    run.wait_change(5)
    run.hold(PERSON_PAUSE_S, step_s=5)


def _choice_back_then_card(run: FlowRun, patient: Patient) -> None:
    """After the phone's visit: the smartphone button, 戻る on the choice, and on the first
    screen it brings the next patient's card, by the face (hunt E-2: a first screen that
    kept the phone's way takes the card on unidentified; the visit rules judge it). The
    card's patient is not the phone's: the run's result stays the phone's."""
    if run.last is None or run.last.shows != "first":
        return
    run.do("press:smartphone", lambda: run.hands.press(run.reader, "smartphone"))
    if not run.wait_for("sp_choose", 10) or BACK_LABEL not in run.last.labels:  # type: ignore[union-attr]
        return
    _press_back(run)
    if run.last is None or run.last.shows != "first":
        return
    with _card_of(run, patient):
        _card_after_back(run)


def _phone_check_in(run: FlowRun, plan: Plan, kind: str, *, back: bool = False) -> bool:
    """The phone's way to the consents (SP-01 to SP-03): the smartphone button, the phone's
    kind, the PIN where the reader asks for one (SP-02), the phone held where the maker's
    procedure says. With ``back``, 戻る on the hold screen (or Android's PIN screen) first,
    and the way taken up from where it led: the phone chosen again on the choice, or the
    button again on the first screen (hunt E-3: a choice 戻る brought that goes straight to
    the consents is seen; review H-1: a 戻る that skips the PIN). False: the reader never
    offered the phone's kinds."""
    phone = Phone(f"phone-{plan.flow}", kind, pin="2468")  # type: ignore[arg-type]
    run.patient = attrs.evolve(run.patient, label=phone.label)  # its result is the phone's
    run.wait_for("first", 30)
    if not _choose_phone(run, kind):
        return False
    if back and run.last is not None and run.last.shows in {"sp_hold", "sp_pin"} \
            and BACK_LABEL in run.last.labels:
        _press_back(run)
        if run.last is not None and run.last.shows == "first" and not _choose_phone(run, kind):
            return False
        if run.last is not None and run.last.shows == "sp_choose":
            run.do(f"press:{kind}", lambda: run.hands.press(run.reader, kind))
            run.wait_change(10)
    if run.last is not None and run.last.shows == "sp_pin":
        _phone_pins(run, plan, phone)
    if run.last is not None and run.last.shows == "sp_hold":
        hold_phone(run, plan, phone)  # SP-03: where the maker's procedure says
    return True


def _choose_phone(run: FlowRun, kind: str) -> bool:
    """From the first screen: the smartphone button, the phone's kind, its answer looked
    at. False: the reader never offered the phone's kinds."""
    run.do("press:smartphone", lambda: run.hands.press(run.reader, "smartphone"))
    if not run.wait_for("sp_choose", 10):
        return False
    run.do(f"press:{kind}", lambda: run.hands.press(run.reader, kind))
    run.wait_change(10)
    return True


def _phone_pins(run: FlowRun, plan: Plan, phone: Phone) -> None:
    """SP-02 (the phone certificate's PIN, not the phone's unlock code): another 4-digit
    code first, as a patient typing the unlock code would. The reader may refuse it at once
    or once the phone is held (the PIN is the phone's to check): where it asks for the phone,
    the phone is held. The right PIN is typed only where the reader asks for one again."""
    _wrong_first("phone_pin", lambda typed: run.hands.phone_pin(run.reader, phone, typed),
                 run, phone.pin)
    # A refusal may show a message of its own first: wait for where the procedure goes on.
    run.wait_for(PHONE_PIN_NEXT, PHONE_PIN_S)
    if run.last is not None and run.last.shows == "sp_hold":
        hold_phone(run, plan, phone)
        run.wait_for(PHONE_PIN_NEXT - {"sp_hold"}, PHONE_PIN_S)
    # Refused back to the start of the phone's way: the procedure's ① again.
    if run.last is not None and run.last.shows == "first":
        run.do("press:smartphone", lambda: run.hands.press(run.reader, "smartphone"))
        run.wait_for("sp_choose", 10)
    if run.last is not None and run.last.shows == "sp_choose":
        run.do("press:android", lambda: run.hands.press(run.reader, "android"))
        run.wait_for("sp_pin", 10)
    if run.last is not None and run.last.shows == "sp_pin":
        run.do("phone_pin:right", lambda: run.hands.phone_pin(run.reader, phone, phone.pin))
        run.wait_change(10)


#: Where the Android procedure goes on after a wrong code (SP-02), and how long a reader
#: may take to get there (a refusal's message, a phone read).
PHONE_PIN_NEXT = frozenset({"sp_pin", "sp_hold", "sp_choose", "first", "consent",
                            "completion"})
PHONE_PIN_S = 15.0


def drive_pairing(run: FlowRun, plan: Plan) -> None:
    """SP-04: pair, restart what the maker's procedure restarts (and nothing more), watch.
    The record starts at that restart: the button must show after it, not before. SP-07
    (接続設定概要 5: 適宜、職員などのスマートフォンを使って読み取りテスト): once it shows, a staff
    phone held on the general reader is read through PC/SC. The pairing's card traffic on
    the general reader is recorded (SP-06, :func:`harness.flows.setup.pair`)."""
    run.wait_for("first", 30)
    general = run.general_reader()
    if "face_reader_unplugged" in plan.given:
        _pair_without_face_reader(run, plan, general)
        return
    pair(run, plan.profile, general)
    if general is None:
        return
    run.start_recording()
    shown = restart_after_pairing(run, plan.profile)
    run.hold(3)
    if shown and any(c.phone_read_test for c in plan.profile.flow_checks(plan.flow, plan.given)):
        phone_read_test(run, general)
        run.hold(2)


def _pair_without_face_reader(run: FlowRun, plan: Plan, general: str | None) -> None:
    """SP-06's negative half (顔認証付きカードリーダーが資格確認端末(PC)に接続され…受付可能な状態
    で設定等を行ってください): the face-auth reader's cable out, the pairing tried as the
    procedure goes; the cable back, the reader's first screen awaited; then the maker's
    restart, and the reader watched as long as a pairing's button may take to show (none
    must: the app refused)."""
    run.do("usb_cable_out", lambda: run.hands.usb_cable(run.reader, plugged=False))
    run.hands.wait(5)
    pair(run, plan.profile, general)
    run.do("usb_cable_in", lambda: run.hands.usb_cable(run.reader, plugged=True))
    if general is None or not run.wait_for("first", 120, step_s=10):
        return
    run.start_recording()
    target = restart_for_pairing(run, plan.profile)
    if target is not None:
        run.hold(PAIRING_SETTLE_S[target] + 5, step_s=15)


def _pull(what: str, action: Callable[[FlowRun], None]) -> Driver:
    """A visit during which the network goes (after the face, before the consents)."""
    def drive(run: FlowRun, plan: Plan) -> None:
        check_in(run, on_consent=lambda: run.do(what, lambda: action(run)))
        run.wait_dialog("network_error", 20)
        end_visit(run)
    return drive


def _network_lost_at_consents(run: FlowRun, *, card: bool = True) -> None:
    """From the first consent screen, as :func:`_pull`'s visit: the LAN cable loosened, each
    consent answered, the terminal's network error awaited, the visit ended. A reader that
    shows no consent screen gets nothing more (the checks say what it showed)."""
    if not run.wait_for("consent", 10):
        return
    run.do("lan_out", lambda: run.hands.lan_cable(seated=False))
    answer_consents(run)
    run.wait_dialog("network_error", 20)
    end_visit(run, take_card=card)


def drive_network_error_pin(run: FlowRun, plan: Plan) -> None:
    """ERR-08 on the PIN's way (the face does not match, the right PIN): the network lost
    before the consents, as on the face path (a failed check is never shown done)."""
    if _pin_way(run):
        _network_lost_at_consents(run)


def drive_network_error_staff(run: FlowRun, plan: Plan) -> None:
    """ERR-08 on the staff's way (visual confirmation, then the card placed)."""
    if _staff_to_card(run):
        card_in(run)
        _network_lost_at_consents(run)


def drive_network_error_phone(run: FlowRun, plan: Plan) -> None:
    """ERR-08 on the phone's way (an iPhone held where the maker's procedure says)."""
    if _phone_check_in(run, plan, "iphone"):
        _network_lost_at_consents(run, card=False)


def drive_network_error_android(run: FlowRun, plan: Plan) -> None:
    """ERR-08 on the Android phone's way (its PIN typed on the reader, then held where the
    maker's procedure says): a path of its own may show the failed check done (hunt F09)."""
    if _phone_check_in(run, plan, "android"):
        _network_lost_at_consents(run, card=False)


def _read_line_auth_page(run: FlowRun) -> None:
    """Seed 002 ③ 【確認手順】: the browser opened at https://www.lineauth.mnw and the page
    looked at on the terminal's monitor."""
    run.do("line_auth_page", lambda: run.hands.line_auth_page(shown=True))
    run.hands.wait(2)
    run.look(terminal=True)


def drive_line_auth_page(run: FlowRun, plan: Plan) -> None:
    """ERR-10 (the support vendor's お知らせ 《 オンライン資格確認端末のネットワーク関連のトラブル時に… 》 ③): the
    line-authentication page read while connected; line authentication cut (as ERR-08's flow
    cuts it); the page read again, 「希望する」 pressed (④ 【接続手順】); the page read once
    more; then a patient checks in (after trying again, card in and out; if the reader
    still shows its network error, the reader restarted, then the terminal: the same
    notice's ②)."""
    if not run.wait_for("first", 30):
        return
    _read_line_auth_page(run)
    run.do("close_browser", lambda: run.hands.line_auth_page(shown=False))
    run.look(terminal=True)
    run.do("line_auth_cut", lambda: run.hands.line_auth(connected=False))
    run.wait(5)
    _read_line_auth_page(run)
    run.press_terminal("希望する")
    run.wait(5)
    _read_line_auth_page(run)
    run.do("close_browser", lambda: run.hands.line_auth_page(shown=False))
    run.look(terminal=True)
    run.wait(5)
    if run.last is not None and run.last.shows != "first":
        # The reader stopped on the network error (ERR-08): the patient tries again, the card
        # in and out (as notice 6福薬業発第421号's retry after a while, drive_intermittent).
        card_in(run)
        card_out(run)
        run.wait(5)
    if run.last is not None and run.last.shows != "first":
        # Still stopped: the reader restarted (notice 6福薬業発第421号 2.(2): カードリーダーの
        # 再起動, a remedy of the reader's own, G-4), then, if that did not bring it back,
        # the same お知らせ's ② restarts the PC (Canon's 【011】 asks for it; ERR-10's check
        # holds the other makers to going through without it).
        run.do("restart_reader", lambda: run.hands.restart_reader(run.reader))
        run.wait_for("first", 120, step_s=10)
    if run.last is not None and run.last.shows != "first":
        _reboot_terminal(run)
    check_in(run)
    end_visit(run)


#: ERR-11: how long the staff wait for the router to come back after restarting it (the
#: notice gives no time; a small office router starts in a minute or two).
ROUTER_BACK_S = 120.0


def check_goes_through(run: FlowRun) -> bool:
    """A patient tries a check; True when the reader showed it done. On a reader showing
    its network error the card goes in and out (the patient tries anyway, and a reader whose
    network is back returns to its first screen), then a check from the first screen if it
    came. A network error dialog the check brought is OK'd by the staff."""
    start = run.clock.now()
    run.look()
    if run.last is not None and run.last.shows != "first":
        run.do("card_in", lambda: run.hands.card_in(run.reader, run.patient))
        run.wait(5)
        card_out(run)
        run.wait(5)
    if run.last is not None and run.last.shows == "first":
        check_in(run)
        end_visit(run)
    run.look(terminal=True)
    if run.record.dialogs and run.record.dialogs[-1].dialog == "network_error" \
            and run.record.dialogs[-1].closed_t is None:
        run.press_terminal("OK")
    return any(s.shows == "completion" and s.t >= start for s in run.record.screens)


def drive_network_recovery(run: FlowRun, plan: Plan) -> None:
    """ERR-11 (the support vendor's お知らせ 《 …ネットワーク関連のトラブル時に… 》 ②: PCの電源オンオフや再起動
    (復旧しない場合はルーターの再起動)): a check on the network error; the PC restarted and
    the check tried again; only if it still fails, the router restarted and a check again."""
    if check_goes_through(run):
        return  # no network error: nothing to remedy (the rule fails that closed)
    _restart_pc(run)
    if check_goes_through(run):
        return
    run.do("router_restart", run.hands.router_restart)
    run.wait(ROUTER_BACK_S)
    if check_goes_through(run):
        return
    # The network may be back while the reader still holds its error until the terminal
    # restarts (Canon's 011, ERR-05): the PC restarted once more, as ② says, and a check.
    _restart_pc(run)
    check_goes_through(run)


#: Bench seconds the staff take to notice a network error and go to the PC (or the LAN):
#: the error is watched that long before the remedy, so one that gives way by itself with
#: the fault still there is seen to (the notices give no time).
ERROR_WATCH_S = 60.0


def _restart_pc(run: FlowRun) -> None:
    run.hold(ERROR_WATCH_S, step_s=10)
    # Logged as the PC's restart the rule orders, whether restarted or power-cycled.
    run.do("reboot_terminal", run.hands.restart_pc)
    # Back up: the first screen, or the network error again.
    run.wait_until(lambda r: r.shows in {"first", "error_network"}, 300,
                   "the reader back after the terminal's restart", step_s=15)


#: E901: how long the bench waits, once the first error dialog is up, before the staff act
#: on it (OK). The notice gives no time: a member of staff busy at the reception desk may
#: take a couple of minutes to notice the dialog and read it (the walks wait as long on a
#: person's screens). The reader's "does not change" (E901-02) is watched all that while,
#: the card taken out a third of the way in, and on until the second OK; a screen that
#: gives up later than that cannot be told from one that holds.
STAFF_DELAY_S = 120.0
#: E901: how long the 901 is watched after the second OK before the flow goes on (the
#: staff coming to the patient; the notice gives no time: a screen that gives way later
#: than that cannot be told from one that holds).
E901_WATCH_S = 60.0
#: Bench seconds between looks at the reader while the staff have not acted yet.
STAFF_LOOK_S = 5.0
#: E901: how long the patient reads each consent screen before answering (the notice gives
#: no time). The terminal is looked at before each answer, so a dialog that comes while a
#: consent screen still waits for its answer is seen before that answer (E901-01).
CONSENT_READ_S = 3.0
#: E901-01: bench seconds between looks at the terminal while its first error dialog is
#: awaited (the dialog is timed from the last consent answer to the look that sees it).
DIALOG_LOOK_S = 1.0


def _answer_consents_reading(run: FlowRun, most: int = 6) -> None:
    """Each consent screen read, the terminal looked at, then answered; a consent screen
    under an overlay (a loading circle) asks nothing and is not answered."""
    def asking() -> bool:
        return run.last is not None and run.last.shows == "consent" and run.last.overlay is None

    answered = 0
    while asking() and answered < most:
        run.wait(CONSENT_READ_S)
        run.look(terminal=True)
        if not asking():
            return
        run.do("consent", lambda: run.hands.consent(run.reader))
        answered += 1
        # The terminal too, every DIALOG_LOOK_S: its first error dialog is timed from the
        # last answer (E901-01), whatever the reader does meanwhile.
        run.wait_change(10, DIALOG_LOOK_S, terminal=True)


def drive_e901(run: FlowRun, plan: Plan) -> None:
    """E901 end to end: the card, the face, each consent answered (the terminal looked at
    before each answer), the first dialog, the reader watched for STAFF_DELAY_S (the card
    taken out meanwhile), OK, the second dialog, OK, the reader's 901."""
    if not run.wait_for("first", 30):
        return
    card_in(run)
    if run.last is not None and run.last.shows == "face_auth":
        run.do("face", lambda: run.hands.face(run.reader, matches=True))
        run.wait_change(10)
    _e901_check_fails(run)


def drive_e901_pin(run: FlowRun, plan: Plan) -> None:
    """E901 on the PIN path (the unattended mode's other way: the face does not match, the
    card's PIN is typed), then as :func:`drive_e901`. The notice's reader behaviour is the
    check's end, whichever way the patient was identified."""
    if _pin_way(run):
        _e901_check_fails(run)


def drive_e901_staff(run: FlowRun, plan: Plan) -> None:
    """E901 on the staff's path (AUTH-05, visual confirmation: the passcode, the photo
    compared, the card placed), then as :func:`drive_e901`."""
    if _staff_to_card(run):
        card_in(run)
        _e901_check_fails(run)


def drive_e901_phone(run: FlowRun, plan: Plan) -> None:
    """E901 on the smartphone path (the check the notice describes is the patient's, made
    with a phone as much as with a card): an iPhone held where the maker's procedure says,
    each consent answered, the first dialog, the reader watched for STAFF_DELAY_S (no card
    to take out), OK, the second dialog, OK, the reader's 901."""
    if _phone_check_in(run, plan, "iphone"):
        _e901_check_fails(run, card=False)


def drive_e901_android(run: FlowRun, plan: Plan) -> None:
    """E901 on the Android phone's way, as :func:`drive_e901_phone` (hunt F09: Android's
    own path may show the failed check done)."""
    if _phone_check_in(run, plan, "android"):
        _e901_check_fails(run, card=False)


def _e901_check_fails(run: FlowRun, *, card: bool = True) -> None:
    """From the first consent screen: each answered (the terminal looked at before each
    answer), the first dialog, the reader watched for STAFF_DELAY_S (the card, if any,
    taken out a third of the way in), OK, the second dialog, OK, the reader's 901."""
    _answer_consents_reading(run)
    if not run.wait_dialog("check_error_1", 30, step_s=DIALOG_LOOK_S):
        end_visit(run, take_card=card)
        return
    run.hold(STAFF_DELAY_S, step_s=STAFF_LOOK_S, during={
        STAFF_DELAY_S / 3: ("card_out", lambda: run.hands.card_out(run.reader))} if card else None)
    _e901_dialogs_closed(run)


def _e901_dialogs_closed(run: FlowRun) -> None:
    """The staff's OK on the first error dialog, then on the second, and the reader (and
    the terminal) watched after."""
    run.press_terminal("OK")
    if run.wait_dialog("check_error_2", 10):
        run.hold(2)
        run.press_terminal("OK")
    # Looked at every second: how soon the 901 follows the press is judged (E901-04).
    run.wait_change(20, step_s=1.0)
    # The 901 watched while the staff come to the patient (a check shown done after all,
    # 40 s on, is seen too: an 8 s watch let it pass).
    run.hold(E901_WATCH_S, step_s=10.0)
    run.look(terminal=True)  # E901-04: nothing more on the terminal after the second OK


def _failed_check(run: FlowRun, *, placed: bool = False) -> bool:
    """A check that ends in the terminal's error (E901): both dialogs OK'd, the card out.
    False (the visit ended as it came) when no error dialog came. ``placed``: the card is
    already in (check_in's)."""
    check_in(run, placed=placed)
    if not run.wait_dialog("check_error_1", 30):
        end_visit(run)
        return False
    run.press_terminal("OK")
    run.wait_dialog("check_error_2", 10)
    run.press_terminal("OK")
    # The reader's answer to the second OK (E901-04: its 901) before the card comes out: a
    # screen stuck until then (E901-02) does not see a card taken out. Looked for, not
    # judged here (the e901 flows judge it).
    stuck = run.last.state if run.last is not None else None
    wait_until(run.clock, run.look, lambda r: r.shows == "error_901" or r.state != stuck, 20,
               step_s=1.0, first_s=0.5, sleep=run.hands.wait)
    run.hold(2)
    card_out(run)
    return True


def _reboot_terminal(run: FlowRun, *, record_after: str | None = None) -> None:
    """The terminal restarted, and the reader watched until its first screen comes back.
    ``record_after``: the record starts once the reader no longer shows that screen (a
    failed check's 901 that the restart takes away: エラーも解消します)."""
    run.do("reboot_terminal", run.hands.reboot_terminal)
    if record_after is not None:
        wait_until(run.clock, run.look, lambda r: r.shows != record_after, 300, step_s=2,
                   first_s=0.5, sleep=run.hands.wait)
        run.start_recording()
    # Looked at every few seconds while the terminal starts and the reader links up: what
    # the reader shows then (a 901 flashed at the link) is judged too.
    run.wait_for("first", 300, step_s=4)


def drive_reboot_then_check(run: FlowRun, plan: Plan) -> None:
    """The failed check (E901), then the terminal restarted and the same patient again."""
    _failed_check(run)
    # The record: the reader's start after the failed check's 901 went, its link-up and the
    # check after it.
    _reboot_terminal(run, record_after="error_901")
    check_in(run)
    end_visit(run)


def drive_upgrade_data_missing(run: FlowRun, plan: Plan) -> None:
    """UPD-08 (the support vendor's お知らせ: …再起動していただくことで解消しますが、バージョンアップ用のデータが
    ダウンロードされていない場合は別途ダウンロードをしていただく必要がございます): the check
    fails; the terminal restarted, the same patient fails again; the data downloaded by
    UPD-05's manual procedure, the terminal restarted again; the patient checks in."""
    if not _failed_check(run):
        return
    _reboot_terminal(run)
    if not _failed_check(run):
        return  # the reboot alone cleared it: the rest of the procedure has nothing to mend
    _manual_download(run)
    run.hold(2)
    _reboot_terminal(run)
    check_in(run)
    end_visit(run)


def drive_upgrade_scheduled_restart(run: FlowRun, plan: Plan) -> None:
    """UPD-07 (notice 7福薬業発第367号 記 2: 日々の診療等の開始前に自動で再起動がされるよう設定している場合を
    除き): the night delivers the upgrade; nobody restarts the terminal (its own daily
    restart, set before the night, is the only one); when the day's practice opens, the
    patient checks in."""
    if not wait_for_delivery(run, plan.profile):
        return
    now = run.clock.wallclock().astimezone(JST)
    opens = dt.datetime.combine(now.date(), PRACTICE_OPENS, tzinfo=JST)
    if opens <= now:
        opens += dt.timedelta(days=1)
    run.hands.wait((opens - now).total_seconds())
    check_in(run)
    # The terminal looked at until the check ends: an error dialog would show there.
    run.wait_until(lambda r: r.shows != "checking", 20, "the check to end", terminal=True)
    run.look(terminal=True)
    end_visit(run)


def drive_upgrade_nightly(run: FlowRun, plan: Plan) -> None:
    """UPD-02: the night delivers and installs the upgrade; nobody restarts the terminal;
    a patient's check fails (both dialogs OK'd, the reader's answer seen, the card out), and
    so does the next one, seen through the same way (a terminal that fails only the first
    check before the restart passes one alone; a second 901 in other words is judged too,
    hunt D-4). A reader that keeps its 901 and takes no card on it leaves no way to the
    second check before the restart: noted as not tried (review F4)."""
    wait_for_delivery(run, plan.profile)
    if not _failed_check(run):
        return
    if run.wait_for("first", 30) or not _shows_901(run):
        _failed_check(run)  # from the first screen (stuck elsewhere: its wait says so)
        return
    # A 901 that stays after the card-out (review F4: for the staff, until the terminal's
    # restart; no notice says a card-out leaves it): the patient tries again with the card
    # on it, once.
    tried = run.clock.now()
    card_in(run)
    if not _shows_901(run):
        _failed_check(run, placed=True)
        return
    card_out(run)
    run.problem(f"{KEPT_901}: the card put in on it at {tried:.1f} s was not taken, so the "
                "second check before the restart was not tried")


#: The driver's note when the reader keeps its 901 through a card-out and a card put in
#: (the flow rules read a card the reader took nothing of on the 901 the same way).
KEPT_901 = "the reader kept its 901 after the card-out"


def _shows_901(run: FlowRun) -> bool:
    """The reader shows the 901 (or a screen the camera does not know nearest it)."""
    last = run.last
    return last is not None and (last.shows or last.candidate or "") == "error_901"


def _manual_download(run: FlowRun) -> None:
    """UPD-05 ②-④: 今すぐダウンロード, OK on ダウンロード依頼の受付, 確認しました once ready."""
    run.do("download_now", run.hands.download_now)
    if run.wait_dialog("download_request_accepted", 10):
        run.press_terminal("OK")
    if run.wait_dialog("update_ready", 3600, step_s=120):
        run.press_terminal("確認しました")


#: UPD-05: bench seconds the terminal is watched after 確認しました before the reboot (⑤): a
#: dialog the tool shows then (a network error, the request accepted again) is seen.
READY_WATCH_S = 10.0


def drive_upgrade_manual(run: FlowRun, plan: Plan) -> None:
    _manual_download(run)
    run.hold(READY_WATCH_S)
    _reboot_terminal(run)


def drive_attempt(run: FlowRun, plan: Plan) -> None:
    """A patient tries, whatever the reader shows, and gives up after a while."""
    run.look()
    card_in(run)
    if run.last is not None and run.last.shows == "face_auth":
        run.do("face", lambda: run.hands.face(run.reader, matches=True))
        run.wait_change(10)
    answer_consents(run)
    run.hold(30, step_s=10)
    card_out(run)
    run.hold(3)


def drive_intermittent(run: FlowRun, plan: Plan) -> None:
    """Seed 001 2.(2): retry after a while; if the reader's error persists, restart it
    (カードリーダーの再起動), then power it off and on (電源のオン・オフ). Nothing else: the
    terminal is not restarted for it."""
    run.hold(150, step_s=30)
    if run.last is not None and run.last.shows != "first":
        card_in(run)
        card_out(run)
        run.wait(5)
    if run.last is not None and run.last.shows != "first":
        run.do("restart_reader", lambda: run.hands.restart_reader(run.reader))
        if not run.wait_for("first", 120, step_s=10) and run.reader in run.bench.spec.switchable():
            run.do("power_cycle_reader", lambda: power_cycle(run))
            run.wait_for("first", 120, step_s=10)
    check_in(run)
    end_visit(run)


def power_cycle(run: FlowRun) -> None:
    run.bench.switch(run.reader, False)
    run.hands.wait(5)
    run.bench.switch(run.reader, True)


def drive_no_power(run: FlowRun, plan: Plan) -> None:
    """Seed 002 【アトラス EXC-9000関連】 画面が表示されず真っ黒の場合: the reader watched dark
    with no power; ④ its AC adapter plugged in, ⑥ the terminal restarted, ⑦ after a while
    the reader watched for its first screen (and its logo lamp). ①③⑤, the green LED on its
    back, are for a camera behind it."""
    run.hold(10, step_s=5)
    run.do("power_on", lambda: run.bench.switch(run.reader, True))
    run.hold(5)
    run.do("reboot_terminal", run.hands.reboot_terminal)
    run.wait_for("first", 300, step_s=15)
    run.hold(4)


def drive_watch_start(run: FlowRun, plan: Plan) -> None:
    """The bench was switched on with a fault in place: watch what the reader shows, as
    long as the run's checks want it to stay (a stuck screen that gives way to a ready one
    before the remedy is the fault's to show, not the watch's to miss)."""
    run.hold(plan.hold_s, step_s=5)


#: Bench seconds the first screen is waited for after a remedy the notice gives (a reader's
#: app restarted, the terminal restarted and the reader linked up again).
REMEDY_BACK_S = 180.0


def drive_account_error(run: FlowRun, plan: Plan) -> None:
    """ERR-04 (Canon's 【906】, mostly wrong account information: Hi-CARAの再起動, 接続・
    アカウントの確認): the 906 watched; then the notice's remedy, the account corrected and
    the reader's app restarted; its first screen must then come."""
    drive_watch_start(run, plan)
    run.do("account_fixed", lambda: run.hands.account(right=True))
    run.do("restart_reader", lambda: run.hands.restart_reader(run.reader))
    run.wait_for("first", REMEDY_BACK_S, step_s=10)
    run.hold(2)


def drive_usb_link_lost(run: FlowRun, plan: Plan) -> None:
    """ERR-06 (Canon's 接続待ち that does not go on: USBケーブルの確認, 端末とHi-CARAの再起動):
    the stuck screen watched; then the notice's remedy, the cable put back, the terminal
    restarted and the reader's app after it; its first screen must then come."""
    drive_watch_start(run, plan)
    run.do("usb_cable_in", lambda: run.hands.usb_cable(run.reader, plugged=True))
    _reboot_terminal(run)
    run.do("restart_reader", lambda: run.hands.restart_reader(run.reader))
    run.wait_for("first", REMEDY_BACK_S, step_s=10)
    run.hold(2)


#: Bench seconds a reader is given to recover by itself once the network is back (the support vendor's お知らせ
#: しばらく待って: "a while" is not a number; three of its 30 s retries and more).
SELF_RECOVERY_S = 180.0


def drive_startup_network_error(run: FlowRun, plan: Plan) -> None:
    """Seed 002 【富士通Japan Caora関連】: after the start the error may show; the reader retries by
    itself and may recover (しばらくすると復旧する場合があります: allowed, not required); if it has
    not after a while, the notice's next step: 接続機器の再起動を試みてください (the reader
    restarted). Either way the first screen must then come."""
    run.hold(ERROR_WATCH_S, step_s=10)
    run.do("lan_in", lambda: run.hands.lan_cable(seated=True))
    # Looked at without noting a problem: not recovering by itself is allowed.
    recovered = wait_until(run.clock, run.look, lambda r: r.shows == "first",
                           SELF_RECOVERY_S, step_s=10, first_s=2, sleep=run.hands.wait)
    if not recovered.ok:
        run.do("restart:connected_devices", lambda: run.hands.restart_reader(run.reader))
        run.wait_for("first", 180, step_s=10)
    run.hold(2)


DRIVERS: dict[str, Driver] = {
    "consent": drive_consent,
    "face_auth": drive_visit,
    "pin_lock": drive_pin_lock,
    "pin_visit": drive_pin_visit,
    "pin_lock_staff": drive_pin_lock_staff,
    "staff_visual": drive_staff_visits,
    "passcode_first_issue": drive_look_at_first,
    "first_screen": drive_look_at_first,
    "smartphone_iphone": _smartphone("iphone"),
    "smartphone_android": _smartphone("android"),
    "pairing": drive_pairing,
    "e901": drive_e901,
    "e901_phone": drive_e901_phone,
    "e901_android": drive_e901_android,
    "e901_pin": drive_e901_pin,
    "e901_staff": drive_e901_staff,
    "reboot_then_check": drive_reboot_then_check,
    "upgrade_nightly": drive_upgrade_nightly,
    "upgrade_manual": drive_upgrade_manual,
    "upgrade_scheduled_restart": drive_upgrade_scheduled_restart,
    "upgrade_data_missing": drive_upgrade_data_missing,
    "network_error": _pull("lan_out", lambda run: run.hands.lan_cable(seated=False)),
    "network_error_pin": drive_network_error_pin,
    "network_error_staff": drive_network_error_staff,
    "network_error_phone": drive_network_error_phone,
    "network_error_android": drive_network_error_android,
    "line_auth_cut": _pull("line_auth_cut", lambda run: run.hands.line_auth(connected=False)),
    "line_auth_page": drive_line_auth_page,
    "network_recovery": drive_network_recovery,
    "network_renewal": drive_network_renewal,
    "network_long_outage": drive_attempt,
    "network_intermittent": drive_intermittent,
    "software_outdated": drive_attempt,
    "startup_network_error": drive_startup_network_error,
    "account_error": drive_account_error,
    "usb_link_lost": drive_usb_link_lost,
    "no_power": drive_no_power,
}

#: Flows watched from the moment the bench is switched on (the fault shows at start-up):
#: no first screen is expected of the reader.
FROM_POWER_ON = {"startup_network_error", "account_error", "usb_link_lost", "no_power"}
#: Flows that watch the terminal's monitor as well (its dialogs).
WITH_DIALOGS = {"e901", "e901_phone", "e901_pin", "e901_staff", "reboot_then_check", "upgrade_nightly", "upgrade_manual",
                "upgrade_scheduled_restart", "upgrade_data_missing",
                "network_error", "network_error_pin", "network_error_staff",
                "network_error_phone", "e901_android", "network_error_android", "line_auth_cut", "line_auth_page", "network_recovery",
                "network_renewal"}
