"""The visit rules on hand-made records: every visit to a consent screen identified on that
visit (the face, the PIN typed, the passcode then the staff's confirmation, a phone's read),
and every 戻る back (harness.model.visit_rules; the hunt's D-1, D-2, D-3 and D-6)."""

from __future__ import annotations

import pytest

from harness.model.flow_rules import check_flow
from harness.model.observed import Action, FlowRecord, SeenScreen
from harness.model.profiles import FlowCheck, ProfileSet, default_profiles_dir
from harness.model.visit_rules import (
    backs_not_back,
    error_card_outs_astray,
    unidentified_visits,
    visit_starts,
)


@pytest.fixture(scope="module")
def shipped() -> ProfileSet:
    return ProfileSet.load(default_profiles_dir())


def record(states: list[str], actions: list[tuple[float, str]]) -> FlowRecord:
    """Screens two seconds apart (looked at from 2k to 2k + 1 s), and the actions."""
    screens = [SeenScreen(2 * k, 2 * k + 1, state,
                          "consent" if state.startswith("consent_") else state)
               for k, state in enumerate(states)]
    return FlowRecord("staff_visual", "canon", screens=screens,
                      actions=[Action(t, what) for t, what in actions])


FACE = (["first", "face_auth", "consent_1", "completion"], [(1.5, "card_in"), (3.5, "face")])
PIN = (["first", "face_auth", "pin_entry", "consent_1", "completion"],
       [(1.5, "card_in"), (3.5, "face"), (5.5, "pin:right")])
STAFF = (["first", "staff_passcode", "visual_confirm", "place_card", "consent_1", "completion"],
         [(1.5, "press:staff"), (3.5, "passcode:right"), (5.5, "staff_confirm"),
          (7.5, "card_in")])
PHONE = (["first", "sp_choose", "sp_hold", "consent_1", "completion"],
         [(1.5, "press:smartphone"), (3.5, "press:iphone"), (5.5, "hold_phone:front")])


@pytest.mark.parametrize("visit", [FACE, PIN, STAFF, PHONE], ids=["face", "pin", "staff", "phone"])
def test_each_way_identifies(visit: tuple[list[str], list[tuple[float, str]]]) -> None:
    assert unidentified_visits(record(*visit)) == []


def test_the_card_the_staff_way_asks_for_does_not_start_a_visit() -> None:
    """AUTH-05 ④: the card placed after the staff's check is that visit's own; any other
    card starts one."""
    assert visit_starts(record(*STAFF)) == [0.0]
    assert visit_starts(record(*FACE)) == [0.0, 1.5]


def test_a_card_put_in_on_the_staff_check_after_the_passcode_is_the_staff_visits() -> None:
    """(review F2) Seed 002 ③ is the staff's look, not a button: a card put in on the
    confirmation screen is ④ right after ③, the staff visit's own, once the right passcode
    opened it; with no passcode it identifies nobody (D-2's kind)."""
    on_confirm = (["first", "staff_passcode", "visual_confirm", "consent_1", "completion"],
                  [(1.5, "press:staff"), (3.5, "passcode:right"), (5.5, "card_in")])
    assert visit_starts(record(*on_confirm)) == [0.0]
    assert unidentified_visits(record(*on_confirm)) == []
    bypass = (["first", "visual_confirm", "consent_1"], [(1.5, "press:staff"), (3.5, "card_in")])
    assert visit_starts(record(*bypass)) == [0.0, 3.5]
    assert "not identified" in unidentified_visits(record(*bypass))[0]
    # A wrong passcode is no way there either.
    wrong = (["first", "staff_passcode", "visual_confirm", "consent_1"],
             [(1.5, "press:staff"), (3.5, "passcode:wrong"), (5.5, "card_in")])
    assert visit_starts(record(*wrong)) == [0.0, 5.5]
    assert "not identified" in unidentified_visits(record(*wrong))[0]


def test_an_error_starts_a_visit_that_a_new_identification_passes() -> None:
    """An error ends the check it came in: the consents after it need the patient again
    (the staff's way again after a network error passes; the card straight back does not,
    D-8)."""
    states = [*STAFF[0][:5], "checking", "error_network", "first", *STAFF[0][1:]]
    actions = [*STAFF[1], (9.5, "consent:agree"), (13.5, "card_out"),
               *[(t + 14, what) for t, what in STAFF[1]]]
    assert visit_starts(record(states, actions))[:3] == [0.0, 12.0, 14.0]
    assert unidentified_visits(record(states, actions)) == []


@pytest.mark.parametrize(("states", "actions", "why"), [
    # D-1: after a staff visit, the next card goes straight to the consents.
    ([*STAFF[0], "first", "consent_1", "completion"], [*STAFF[1], (13.5, "card_in")],
     "the visit since 13.5 s reached consent_1 at 14.0 s"),
    # D-2: the staff button opens the visual confirmation with no passcode.
    (["first", "visual_confirm", "place_card", "consent_1"],
     [(1.5, "press:staff"), (3.5, "staff_confirm"), (5.5, "card_in")],
     "the visit since 0.0 s reached consent_1"),
    # The passcode screen shown but the confirmation came before any passcode was typed.
    (["first", "staff_passcode", "visual_confirm", "place_card", "consent_1"],
     [(1.5, "press:staff"), (4.5, "staff_confirm"), (4.8, "passcode:right"),
      (6.5, "card_in")], "not identified"),
    # The consents from the hold screen with no phone held (戻る going on, D-6's kind).
    (["first", "sp_choose", "sp_hold", "consent_1"],
     [(1.5, "press:smartphone"), (3.5, "press:iphone"), (5.5, "press:cancel")],
     "not identified"),
    # A wrong PIN taken to the consents: no PIN of the patient's was typed.
    (["first", "face_auth", "pin_entry", "consent_1"],
     [(1.5, "card_in"), (3.5, "face"), (5.5, "pin:wrong")], "not identified"),
    # D-3: after a 901, the next card straight to the consents (an earlier visit's face
    # check does not stand for it).
    ([*FACE[0], "error_901", "first", "consent_1"], [*FACE[1], (11.5, "card_in")],
     "the visit since 11.5 s reached consent_1 at 12.0 s"),
    # E-9: a card pulled on the consents brings a 「カードを置いてください」 of the staff's
    # way's look, and the next card (anyone's) goes on to the consents: no staff's check
    # led there, so that card starts a visit of its own.
    ([*FACE[0][:3], "place_card", "consent_1"],
     [*FACE[1], (5.5, "card_out"), (7.5, "card_in")],
     "the visit since 7.5 s reached consent_1 at 8.0 s"),
    # D-8: a network error on the staff's way, the card taken out: back to the staff's
    # place-the-card screen, and the next card (anyone's) to the consents.
    ([*STAFF[0][:5], "checking", "error_network", "place_card", "consent_1"],
     [*STAFF[1], (9.5, "consent:agree"), (13.5, "card_out"), (15.5, "card_in")],
     "the visit since 15.5 s reached consent_1 at 16.0 s"),
])
def test_a_visit_not_identified_fails(states: list[str], actions: list[tuple[float, str]],
                                      why: str) -> None:
    problems = unidentified_visits(record(states, actions))
    assert len(problems) == 1 and why in problems[0], problems
    assert "with the patient not identified on it" in problems[0]


def test_a_record_that_starts_inside_a_visit_is_not_judged_for_it() -> None:
    assert unidentified_visits(record(["consent_1", "consent_2", "completion"], [])) == []
    # ... but a visit it saw begin is.
    problems = unidentified_visits(record(["consent_1", "completion", "first", "consent_1"],
                                          [(5.5, "card_in")]))
    assert len(problems) == 1 and "since 5.5 s" in problems[0]


def test_an_unrecognised_screen_identifies_nobody() -> None:
    """Fail closed: a screen the camera could not name is not the face check."""
    visit = record(*FACE)
    visit.screens[1] = SeenScreen(2, 3, "unknown", None, candidate="face_auth")
    assert unidentified_visits(visit)


@pytest.mark.parametrize(("states", "pressed_on", "ok"), [
    (["first", "staff_passcode", "first"], 3.5, True),
    (["first", "staff_passcode", "visual_confirm", "staff_passcode"], 5.5, True),
    (["first", "staff_passcode", "visual_confirm", "first"], 5.5, True),
    # D-6: forward.
    (["first", "staff_passcode", "visual_confirm"], 3.5, False),
    (["first", "staff_passcode", "visual_confirm", "place_card"], 5.5, False),
    (["first", "sp_choose", "sp_pin", "sp_hold"], 5.5, False),
])
def test_back_leads_back(states: list[str], pressed_on: float, ok: bool) -> None:
    problems = backs_not_back(record(states, [(pressed_on, "press:cancel")]))
    assert (problems == []) == ok, problems
    if not ok:
        assert "not back to" in problems[0]


def test_a_back_that_leads_nowhere_or_to_an_unknown_screen_fails() -> None:
    stays = record(["first", "staff_passcode"], [(3.5, "press:cancel")])
    assert "led nowhere" in backs_not_back(stays)[0]
    unknown = record(["first", "staff_passcode", "first"], [(3.5, "press:cancel")])
    unknown.screens[2] = SeenScreen(4, 5, "unknown", None, candidate="first")
    assert "led to unknown" in backs_not_back(unknown)[0]


#: A staff visit whose check met a network error (the card taken out at 13.5 s).
STAFF_ERROR = ([*STAFF[0][:5], "checking", "error_network"],
               [*STAFF[1], (9.5, "consent:agree"), (13.5, "card_out")])


@pytest.mark.parametrize(("after", "ok"), [
    (["first"], True),
    # The error stays up (the network still down), then the first screen.
    ([], True),
    (["error_network", "first"], True),
    # The reader restarting (a restart the error asks for), or a moment's wait first.
    (["starting", "first"], True),
    (["please_wait", "first"], True),
    # D-8: on to the staff's place-the-card screen, or straight to a consent or the PIN.
    (["place_card"], False),
    (["please_wait", "consent_1"], False),
    (["pin_entry"], False),
])
def test_a_card_out_on_an_error_leads_to_the_first_screen(after: list[str], ok: bool) -> None:
    states, actions = STAFF_ERROR
    problems = error_card_outs_astray(record([*states, *after], actions))
    assert (problems == []) == ok, problems
    if not ok:
        assert f"the card taken out on error_network at 13.5 s took the reader to {after[-1]}" \
            in problems[0]


def test_a_card_out_on_an_error_to_an_unknown_screen_fails() -> None:
    states, actions = STAFF_ERROR
    seen = record([*states, "first"], actions)
    seen.screens[-1] = SeenScreen(14, 15, "unknown", None, candidate="first")
    assert "took the reader to unknown (near first)" in error_card_outs_astray(seen)[0]
    # ... but one nearest an error is the error staying up (review F1: a 901 that no longer
    # asks for the card once it is out); its words are the error's own checks' to judge.
    stays = record([*states, "first"], actions)
    stays.screens[-1] = SeenScreen(14, 15, "unknown", None, candidate="error_901")
    assert error_card_outs_astray(stays) == []
    # The card put in and taken out again with no look between (trying once more): what
    # it was taken out on was not seen, so not judged here.
    states, actions = STAFF_ERROR
    again = record([*states, "face_auth", "first"], [*actions[:-1], (13.5, "card_in"),
                                                     (13.5, "card_out")])
    assert error_card_outs_astray(again) == []
    # A card taken out anywhere but on an error is not this rule's.
    assert error_card_outs_astray(record(["first", "face_auth", "place_card"],
                                         [(3.5, "card_out")])) == []


def test_every_flow_check_judges_the_visits(shipped: ProfileSet) -> None:
    """Applied where the completions' rule is: on each check of a flow's record that is
    not of the first screen alone."""
    auth05 = shipped["canon"].requirement("AUTH-05")
    assert auth05 is not None and isinstance(auth05.check, FlowCheck)
    bypass = record([*STAFF[0], "first", "visual_confirm", "place_card", "consent_1"],
                    [*STAFF[1], (13.5, "press:staff"), (15.5, "staff_confirm"),
                     (17.5, "card_in")])
    assert any("with the patient not identified on it" in p
               for p in check_flow(auth05.check, bypass))
    astray = record([*STAFF_ERROR[0], "place_card"], STAFF_ERROR[1])
    assert any("not back to the first screen" in p for p in check_flow(auth05.check, astray))
    auth03 = shipped["canon"].requirement("AUTH-03")
    assert auth03 is not None and isinstance(auth03.check, FlowCheck)
    assert not any("identified" in p for p in check_flow(auth03.check, bypass))
