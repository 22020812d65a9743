"""What the operator reads off a screen and the rules take as a fact (hunt K2-13, K2-3).

The app's end of a pairing (SP-06's negative half: "the app refused it"), whether it took
置いた (USEN-ALMEX's SP-04), a version in the delivery list (UPD-04), the passcode OQS
issued (AUTH-03/05: 4 digits) are judged against the maker. A person who types "yes",
"done", Enter or a typo there has not said what the screen showed: such an answer is asked
again within the step's bound, then the bench fault ``operator.silent`` (not run); never a
verdict read loosely out of it."""

from __future__ import annotations

import pytest

from harness.hands import ManualHands
from harness.model.clock import VirtualClock
from harness.model.timeline import Timeline
from harness.operator import MAX_UNCLEAR, OperatorSilent


def _hands(answers: list[str]) -> tuple[ManualHands, list[str], Timeline]:
    clock = VirtualClock()
    shown: list[str] = []

    def ask(question: str) -> str:
        shown.append(question)
        clock.advance(1)
        return answers.pop(0)

    timeline = Timeline(clock)
    return ManualHands(clock, ask=ask, timeout_s=300, timeline=timeline), shown, timeline


#: Each step: how it is asked, and what answers that are not its form must never become.
STEPS = {
    "pairing_outcome": lambda h: h.pairing_outcome("atlas"),
    "pairing_placed": lambda h: h.pairing_placed("usen_almex"),
    "delivery_list": lambda h: h.delivery_list(),
    "await_delivery": lambda h: h.await_delivery("顔認証ライブラリ", "5.1.0", 3600),
    "issue_passcode": lambda h: h.issue_passcode(),
    "pair": lambda h: h.pair("atlas", "pasori", _patient()),
    "pairing_app": lambda h: h.pairing_app("atlas"),
    "received_results": lambda h: h.received_results(),
}


def _patient():  # type: ignore[no-untyped-def]
    from harness.hands import Patient

    return Patient("patient-1", "1111")


@pytest.mark.parametrize("step", sorted(STEPS))
@pytest.mark.parametrize("typed", ["", "yes", "done", "ok"])
def test_a_done_word_is_no_reading_of_a_screen(step: str, typed: str) -> None:
    hands, shown, timeline = _hands([typed] * (MAX_UNCLEAR + 1))
    with pytest.raises(OperatorSilent):
        STEPS[step](hands)
    assert len(shown) == MAX_UNCLEAR + 1
    assert "is not an answer this step takes" in shown[1]
    assert len(timeline.events("operator.unclear")) == MAX_UNCLEAR


@pytest.mark.parametrize("typed", ["registerd", "Registered.", "it registered", "refuse"])
def test_a_pairing_outcome_not_in_the_offered_words_is_asked_again(typed: str) -> None:
    # Before: anything but 'registered' became "refused: <text>" and passed SP-06's
    # negative half (the app must refuse a pairing without the face-auth reader).
    hands, shown, _ = _hands([typed, "registered"])
    assert hands.pairing_outcome("atlas") == "registered"
    assert len(shown) == 2


@pytest.mark.parametrize(("typed", "outcome"), [
    ("registered", "registered"), ("REGISTERED", "registered"),
    ("refused: 顔認証付きカードリーダーが接続されていません",
     "refused: 顔認証付きカードリーダーが接続されていません"),
    ("refused", "refused"), ("none", None)])
def test_a_pairing_outcome_in_the_offered_words(typed: str, outcome: str | None) -> None:
    hands, shown, _ = _hands([typed])
    assert hands.pairing_outcome("atlas") == outcome
    assert len(shown) == 1


@pytest.mark.parametrize(("typed", "placed"), [
    ("taken", True), ("not taken", False), ("not taken: no such button", False)])
def test_placed_is_taken_or_not_taken(typed: str, placed: bool) -> None:
    hands, _, _ = _hands(["no button", typed])  # "no button" is neither: asked again
    assert hands.pairing_placed("usen_almex") is placed


@pytest.mark.parametrize("typed", ["abcd", "08 15", "０８１５", "4.21", "-815"])
def test_a_passcode_is_its_digits_or_asked_again(typed: str) -> None:
    # Before: kept as typed, and its len() judged as OQS's passcode's digits (AUTH-03/05).
    hands, shown, timeline = _hands([typed, "0815"])
    assert hands.issue_passcode() == "0815"
    assert len(shown) == 2
    [unclear] = timeline.events("operator.unclear")
    assert unclear.data["answer"].startswith(f"({len(typed)} ")  # never the typing itself


@pytest.mark.parametrize(("typed", "listed"), [
    ("5.1.0", {"顔認証ライブラリ": "5.1.0"}), ("none", {})])
def test_a_version_is_digits_and_dots_or_none(typed: str, listed: dict[str, str]) -> None:
    hands, shown, _ = _hands(["v5", typed])
    assert hands.delivery_list() == listed
    assert len(shown) == 2


def test_a_pin_in_a_persons_words_reaches_no_record() -> None:
    # Hunt K2-21: a refusal's why on a step that shows no secret was kept verbatim, in the
    # timeline and the bench fault (certification.json, junit, HTML, allure).
    from harness.errors import BenchFault
    from harness.hands import Patient

    hands, _, timeline = _hands(["", "no, the card was locked after I typed 1234 twice"])
    hands.card_in("canon", Patient("patient-1", "4321"))
    with pytest.raises(BenchFault) as caught:
        hands.card_out("canon")
    assert "1234" not in str(caught.value)
    assert "I typed **** twice" in str(caught.value)
    # Answered, asked again, or refused: no PIN the hands know of, and no 4-digit run in a
    # person's own words, on any step.
    hands2, _, timeline2 = _hands(["", "4321 / ペアリング開始", "maybe 5555", "registered"])
    hands2.card_in("canon", Patient("patient-1", "4321"))
    assert hands2.pairing_app("canon") == ("4321", "ペアリング開始")
    assert hands2.pairing_outcome("canon") == "registered"
    records = repr([e.data for e in [*timeline, *timeline2]])
    assert not any(code in records for code in ("1234", "4321", "5555")), records
