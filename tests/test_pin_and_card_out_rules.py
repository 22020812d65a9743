"""AUTH-02's PIN-by-PIN rule and CON-01's card-out rule on hand-made records, against the
shipped profiles' own checks; and the twin's pin_lock data (the notice's 3 in a row, and the
deviations that break it)."""

from __future__ import annotations

import attrs
import pytest
from twin_helpers import patient, started_world

from harness.model.bench_spec import Deviation
from harness.model.flow_rules import check_flow
from harness.model.observed import Action, FlowRecord, SeenScreen
from harness.model.profiles import FlowCheck, ProfileSet, default_profiles_dir


@pytest.fixture(scope="module")
def shipped() -> ProfileSet:
    return ProfileSet.load(default_profiles_dir())


def _check(shipped: ProfileSet, req: str) -> FlowCheck:
    found = shipped["canon"].requirement(req)
    assert found is not None and isinstance(found.check, FlowCheck)
    return found.check


def _pin_record(after: list[str]) -> FlowRecord:
    """wrong, wrong, right, card out, card in, face, wrong, wrong, wrong, card out, then the
    card in again with its face not matched: ``after`` is the screen seen after each of the
    six PINs (looks 0.5 s to 3.5 s after each)."""
    pins = ["pin:wrong", "pin:wrong", "pin:right", "pin:wrong", "pin:wrong", "pin:wrong"]
    screens = [SeenScreen(0, 1, "first", "first"), SeenScreen(1, 2, "pin_entry", "pin_entry")]
    actions = [Action(1, "card_in")]
    t = 2.0
    for k, (what, shows) in enumerate(zip(pins, after, strict=True)):
        if k == 3:  # the second visit
            actions += [Action(t, "card_out"), Action(t + 1, "card_in"), Action(t + 2, "face")]
            screens += [SeenScreen(t + 0.5, t + 1, "first", "first"),
                        SeenScreen(t + 2.5, t + 3, "pin_entry", "pin_entry")]
            t += 3
        actions.append(Action(t, what))
        state = "consent_1" if shows == "consent" else shows
        screens.append(SeenScreen(t + 0.5, t + 3.5, state, shows))
        t += 4
    actions.append(Action(t, "card_out"))
    # The locked card once more, its face not matched (the driver's last visit): locked.
    actions += [Action(t + 1, "card_in"), Action(t + 2, "face"), Action(t + 6, "card_out")]
    screens += [SeenScreen(t + 0.5, t + 1, "first", "first"),
                SeenScreen(t + 2.5, t + 5.5, "pin_locked", "pin_locked")]
    return FlowRecord("pin_lock", "canon", screens=screens, actions=actions, result="none")


RIGHT = ["pin_entry", "pin_entry", "consent", "pin_entry", "pin_entry", "pin_locked"]


def test_the_pin_lock_as_the_notice_says(shipped: ProfileSet) -> None:
    assert check_flow(_check(shipped, "AUTH-02"), _pin_record(RIGHT)) == []


@pytest.mark.parametrize(("after", "why"), [
    # Locks after 2 wrong PINs in a row.
    (["pin_entry", "pin_locked", "pin_entry", "pin_entry", "pin_entry", "pin_locked"],
     "after wrong PIN 2 in a row"),
    # Never starts the count again: the first wrong of the next visit locks.
    (["pin_entry", "pin_entry", "consent", "pin_locked", "pin_locked", "pin_locked"],
     "after wrong PIN 1 in a row"),
    # Never locks.
    (["pin_entry"] * 2 + ["consent"] + ["pin_entry"] * 3, "not pin_locked"),
    # The right PIN does not go on.
    (["pin_entry", "pin_entry", "pin_entry", "pin_entry", "pin_entry", "pin_locked"],
     "must go on to consent"),
])
def test_a_wrong_count_fails(shipped: ProfileSet, after: list[str], why: str) -> None:
    problems = check_flow(_check(shipped, "AUTH-02"), _pin_record(after))
    assert any(why in p for p in problems), problems


def test_a_record_that_did_not_try_both_halves_fails(shipped: ProfileSet) -> None:
    """Three wrong PINs and a lock, as the old driver did: the reset was not tried."""
    record = _pin_record(RIGHT)
    record.actions = [a for a in record.actions if a.t > 14]  # the second visit only
    problems = check_flow(_check(shipped, "AUTH-02"), record)
    assert problems and "the reset was not tried" in problems[-1], problems
    record.actions = []
    assert any("the lock was not tried" in p
               for p in check_flow(_check(shipped, "AUTH-02"), record))


def _visit(first_t: float, card_out_t: float | None, completion_until: float) -> FlowRecord:
    screens = [SeenScreen(0, 1, "first", "first"), SeenScreen(1.2, 1.5, "face_auth", "face_auth"),
               SeenScreen(2, 3, "consent_1", "consent"),
               SeenScreen(4, completion_until, "completion", "completion"),
               SeenScreen(first_t, first_t + 2, "first", "first")]
    actions = [Action(2.5, "consent")]  # the one consent screen answered
    actions += [Action(card_out_t, "card_out")] if card_out_t is not None else []
    # (The flow's three check-ins' results, as CON-01 counts them: this visit stands for
    # them.)
    return FlowRecord("consent", "canon", screens=screens, actions=actions,
                      result="handed_over", results=3)


#: The face path's record CON-01 compares each visit's consent screens with.
FACE_PATH = attrs.evolve(_visit(7, 7, 7), flow="face_auth")


def test_the_first_screen_from_the_card_out(shipped: ProfileSet) -> None:
    con01 = _check(shipped, "CON-01")
    # Seen at the moment of the card-out, right after the look that saw the completion.
    assert check_flow(con01, _visit(7, 7, 7), FACE_PATH) == []
    assert check_flow(con01, _visit(7.5, 7, 7), FACE_PATH) == []
    # Before the card-out (a timer): the look at that moment may have been before it.
    assert "no card_out before it" in check_flow(con01, _visit(6, 7, 5), FACE_PATH)[0]
    assert "no card_out before it" in check_flow(con01, _visit(7, 7, 5), FACE_PATH)[0]
    assert "no card_out before it" in check_flow(con01, _visit(7, None, 5), FACE_PATH)[0]
    # Late: 6 s after the card-out.
    assert "not within 5 s" in check_flow(con01, _visit(13, 7, 12.5), FACE_PATH)[0]
    # Never: the completion screen stays (in a second visit: the first one went right).
    stuck = _visit(13, 7, 12.5)
    stuck.screens.pop()
    assert any("first was not seen after completion" in p for p in check_flow(con01, stuck, FACE_PATH))
    twice = _visit(7.5, 7, 7)
    twice.screens += [SeenScreen(10, 11, "consent_1", "consent"),
                      SeenScreen(12, 30, "completion", "completion")]
    twice.actions += [Action(10.5, "consent"), Action(20, "card_out")]
    assert any("did not come after card_out at 20.0 s" in p for p in check_flow(con01, twice, FACE_PATH))


def test_upon_needs_a_bound() -> None:
    import pydantic

    with pytest.raises(pydantic.ValidationError, match="go together"):
        FlowCheck.model_validate({"kind": "flow", "flow": "consent",
                                  "screens": [{"screen": "first", "upon": "card_out"}]})


@pytest.mark.parametrize(("change", "to", "locked_after"), [
    (None, None, [False, False, True]),
    ("behaviour.pin_lock.after_wrong", 2, [False, True]),
    # Ignores the chip's lock: the chip refuses every PIN after 3, the reader keeps asking.
    ("behaviour.pin_lock.after_wrong", 4, [False, False, False, False]),
])
def test_the_twins_pin_lock(change: str | None, to: object, locked_after: list[bool]) -> None:
    deviations = {"atlas": [Deviation(change=change, to=to)]} if change else None
    world, reader = started_world("atlas", deviations=deviations)
    card = patient(pin="1111")
    reader.insert_card(card)
    reader.show_face(False)
    for locked in locked_after:
        assert reader.screen().shows == "pin_entry"
        reader.enter_pin("9999")
        assert (reader.screen().shows == "pin_locked") is locked
    assert card.locked is (len(locked_after) >= 3)


def test_the_twin_starts_the_count_again_unless_deviated() -> None:
    for resets in (True, False):
        deviations = None if resets else {
            "atlas": [Deviation(change="behaviour.pin_lock.right_resets", to=False)]}
        world, reader = started_world("atlas", deviations=deviations)
        card = patient(pin="1111")
        reader.insert_card(card)
        reader.show_face(False)
        for pin in ("9999", "9999", "1111"):
            reader.enter_pin(pin)
        assert reader.screen().shows == "consent"
        reader.remove_card()
        reader.insert_card(card)
        reader.show_face(False)
        reader.enter_pin("9999")
        assert (reader.screen().shows == "pin_entry") is resets
