"""AUTH-03's 'only when' half (no passcode issued: no staff button), AUTH-04's second half
(the button after the restart) and AUTH-05's refusal of a wrong passcode: each holds on the
default bench and fails on a reader that breaks it."""

from __future__ import annotations

from pathlib import Path

import pytest
from flow_helpers import (
    deviant_bench_file,
    failed,
    open_bench,
    run_judged,
)

from harness.bench import Bench
from harness.model.flow_rules import check_flow
from harness.model.observed import Action, FlowRecord, SeenScreen
from harness.model.profiles import FlowCheck, ProfileSet

READER = "canon"
NO_PASSCODE = ("first_screen", ("no_passcode_issued",))
STAFF = ("staff_visual", ("passcode_issued",))
FIRST_BUTTONS = [
    {"name": "staff", "label": "職員用ボタン", "event": "staff_button", "when": "network_up"},
    {"name": "smartphone", "label": "スマートフォンを利用", "event": "smartphone_button",
     "when": "smartphone"}]
#: Deviation -> (flow, the requirement it must fail).
DEVIANT = {
    "staff button without a passcode": (
        {"change": "behaviour.states.first.buttons", "to": FIRST_BUTTONS}, NO_PASSCODE, "AUTH-03"),
    "a wrong passcode accepted": (
        {"change": "behaviour.transitions.staff_passcode.passcode_wrong", "to": "visual_confirm"},
        STAFF, "AUTH-05"),
}


@pytest.mark.parametrize("flow", [NO_PASSCODE, STAFF], ids=["no-passcode", "staff"])
def test_the_default_reader_holds(flow, default_bench: Bench, profiles: ProfileSet) -> None:  # noqa: ANN001
    record, judged = run_judged(default_bench, profiles, READER, flow)
    assert not failed(judged), (judged, record.path())
    wanted = {"AUTH-03"} if flow == NO_PASSCODE else {"AUTH-03", "AUTH-04", "AUTH-05"}
    assert wanted <= set(judged)


@pytest.mark.parametrize("fault", sorted(DEVIANT))
def test_a_reader_that_breaks_it_fails(fault: str, tmp_path: Path, profiles: ProfileSet) -> None:
    deviation, flow, requirement = DEVIANT[fault]
    path = deviant_bench_file(tmp_path, "staff", readers={READER: [deviation]})
    for bench in open_bench(path):
        record, judged = run_judged(bench, profiles, READER, flow)
        assert requirement in failed(judged), (fault, judged, record.path())


def test_a_response_never_tried_is_not_a_pass(profiles: ProfileSet) -> None:
    check = next(c for r in profiles[READER].requirements if r.id == "AUTH-05"
                 for c in r.checks if isinstance(c, FlowCheck) and c.responses)
    screens = [SeenScreen(t, t + 1, s, s) for t, s in enumerate(
        ["first", "staff_passcode", "visual_confirm", "place_card", "consent_1", "completion"])]
    untried = FlowRecord("staff_visual", READER, screens=screens, result="handed_over",
                         actions=[Action(1.5, "passcode:right")])
    assert any("never tried" in p for p in check_flow(check, untried))
    unread = FlowRecord("staff_visual", READER, screens=[
        SeenScreen(1.0, 2.0, "staff_passcode", "staff_passcode"),
        SeenScreen(2.0, 3.0, "unknown", None)], actions=[Action(1.5, "passcode:wrong")])
    assert any("passcode:wrong" in p for p in check_flow(check, unread))


def test_a_response_is_judged_until_its_until_action(profiles: ProfileSet) -> None:
    """SP-02: a wrong phone PIN may be refused when the phone is held; the consents must not
    come until the right PIN, not only until the next action (the hold)."""
    check = next(c for r in profiles[READER].requirements if r.id == "SP-02"
                 for c in r.checks if isinstance(c, FlowCheck) and c.responses)
    (rule,) = check.responses
    assert (rule.action, rule.until) == ("phone_pin:wrong", "phone_pin:right")

    def record(*shown: tuple[float, str]) -> FlowRecord:
        ends = [t for t, _ in shown[1:]] + [shown[-1][0] + 3]
        screens = [SeenScreen(t, end, name, "consent" if name.startswith("consent") else name)
                   for (t, name), end in zip(shown, ends, strict=True)]
        return FlowRecord("smartphone_android", READER, screens=screens, result="handed_over",
                          actions=[Action(1.5, "phone_pin:wrong"), Action(4.0, "hold_phone"),
                                   Action(6.0, "phone_pin:right"), Action(7.0, "hold_phone")])

    refused = record((0, "sp_choose"), (1, "sp_pin"), (3, "sp_hold"), (5, "sp_pin"),
                     (6.5, "sp_hold"), (8, "consent_1"), (10, "completion"))
    assert not [p for p in check_flow(check, refused) if "phone_pin:wrong" in p]
    # The consents came after the hold that followed the wrong PIN, before the right one.
    taken = record((0, "sp_choose"), (1, "sp_pin"), (3, "sp_hold"), (4.5, "consent_1"),
                   (5.5, "sp_pin"), (6.5, "sp_hold"), (8, "consent_1"), (10, "completion"))
    (problem,) = [p for p in check_flow(check, taken) if "phone_pin:wrong" in p]
    assert "showed consent_1 at 4.5 s; it must not bring consent, completion before " \
        "phone_pin:right" in problem


#: Readers whose refusal or 戻る goes on by itself a few seconds later (hunts: a staff
#: member pressing on within 4 to 7 s never saw it): deviation lists on Atlas.
BY_ITSELF = {
    "a refusal that opens the confirmation 8 s on": [
        {"change": "behaviour.states.staff_refused",
         "to": {"shows": "staff_passcode", "like": "staff_passcode",
                "after": {"seconds": 8, "event": "passcode_ok"}}},
        {"change": "behaviour.transitions.staff_passcode.passcode_wrong",
         "to": "staff_refused"},
        {"change": "behaviour.transitions.staff_refused",
         "to": {"passcode_ok": "visual_confirm", "passcode_wrong": "staff_refused",
                "cancel": "first"}}],
    "a 戻る whose first screen opens the card's place 10 s on": [
        {"change": "behaviour.states.first_v",
         "to": {"shows": "first", "like": "first",
                "after": {"seconds": 10, "event": "staff_confirms"}}},
        {"change": "behaviour.transitions.visual_confirm.cancel", "to": "first_v"},
        {"change": "behaviour.transitions.first_v",
         "to": {"card_in": "face_auth", "staff_button": "staff_passcode",
                "smartphone_button": "sp_choose", "network_lost": "error_network",
                "error_901": "error_901", "staff_confirms": "place_card"}}],
    "a 戻る that leaves the confirmation up, then opens the card's place 10 s on": [
        {"change": "behaviour.states.visual_confirm_kept",
         "to": {"shows": "visual_confirm", "like": "visual_confirm",
                "after": {"seconds": 10, "event": "staff_confirms"}}},
        {"change": "behaviour.transitions.visual_confirm.cancel", "to": "visual_confirm_kept"},
        {"change": "behaviour.transitions.visual_confirm_kept",
         "to": {"staff_confirms": "place_card", "cancel": "first"}}],
}


@pytest.mark.parametrize("fault", sorted(BY_ITSELF))
def test_what_a_refusal_or_a_back_brings_by_itself_is_seen(
        fault: str, tmp_path: Path, profiles: ProfileSet) -> None:
    path = deviant_bench_file(tmp_path, "by-itself", readers={"atlas": BY_ITSELF[fault]})
    for bench in open_bench(path):
        record, judged = run_judged(bench, profiles, "atlas", STAFF)
    assert "AUTH-05" in failed(judged), (fault, judged, record.path())
    # Said as what came by itself, or (a 戻る that left the screen up) as where 戻る led:
    # the first new screen after it, however late.
    assert any(("after passcode:wrong" in p or "after press:cancel" in p)
               or "not identified" in p or "led to place_card" in p
               for p in judged["AUTH-05"]), judged["AUTH-05"]
