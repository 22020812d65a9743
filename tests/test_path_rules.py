"""``screens_as``: the staff's, the PIN's and the phone's paths show the card's own consent
screens, one by one and in order (AUTH-05's 通常どおりの同意画面; AUTH-01's PIN; CON-01's
phones). Each wrong path below still shows "a consent screen", which a check by class passes."""

from __future__ import annotations

import pytest

from harness.model.flow_rules import check_flow, describe_flow, judge_flow
from harness.model.observed import Action, FlowRecord, SeenScreen
from harness.model.path_rules import screens_of
from harness.model.profiles import FlowCheck, ProfileSet, default_profiles_dir

MAKERS = ["panasonic", "canon", "usen_almex", "fujitsu_japan", "atlas"]


@pytest.fixture(scope="module")
def shipped() -> ProfileSet:
    return ProfileSet.load(default_profiles_dir())


def seen(t: float, state: str, *, overlay: str | None = None,
         candidate: str | None = None) -> SeenScreen:
    shows = None if state == "unknown" else (
        "consent" if state.startswith("consent_") else state)
    return SeenScreen(t, t + 1, state, shows, overlay=overlay, candidate=candidate,
                      buttons=("staff",) if state == "first" else ())


def record(flow: str, *middle: str | SeenScreen, head: tuple[str, ...] = ()) -> FlowRecord:
    """first, ``head``, the ``middle`` screens, completion, first: one second each; each
    consent screen (not under an overlay) answered once."""
    states = ["first", *head, *middle, "checking", "completion", "first"]
    screens = [s if isinstance(s, SeenScreen) else seen(float(k), s)
               for k, s in enumerate(states)]
    actions = [Action(s.t + 0.5, "consent") for s in screens
               if s.shows == "consent" and s.overlay is None]
    return FlowRecord(flow, "reader", screens=screens, actions=actions, result="handed_over")


CARD = record("face_auth", "face_auth", "consent_1", "consent_2")
STAFF_HEAD = ("staff_passcode", "visual_confirm", "place_card")


def staff(*consents: str | SeenScreen) -> FlowRecord:
    return record("staff_visual", *consents, head=STAFF_HEAD)


def rule_of(shipped: ProfileSet, maker: str, req: str, flow: str) -> FlowCheck:
    requirement = shipped[maker].requirement(req)
    assert requirement is not None
    found = [c for c in requirement.checks if isinstance(c, FlowCheck) and c.flow == flow
             and c.screens_as is not None]
    assert len(found) == 1, (maker, req, flow)
    return found[0]


@pytest.mark.parametrize("maker", MAKERS)
@pytest.mark.parametrize(("req", "flow"), [("AUTH-05", "staff_visual"),
                                           ("CON-01", "consent"),
                                           ("CON-01", "pin_visit"),
                                           ("CON-01", "smartphone_iphone"),
                                           ("CON-01", "smartphone_android")])
def test_every_maker_holds_each_path_to_the_card_paths_consents(
        shipped: ProfileSet, maker: str, req: str, flow: str) -> None:
    check = rule_of(shipped, maker, req, flow)
    assert check.screens_as is not None
    assert (check.screens_as.flow, check.screens_as.screen) == ("face_auth", "consent")
    assert "consent screens one by one as the face_auth flow shows them" in describe_flow(check)


def _problems(check: FlowCheck, path: FlowRecord, baseline: FlowRecord | None = CARD
              ) -> list[str]:
    return [p for p in check_flow(check, path, baseline) if "consent screens" in p
            or "face_auth" in p or "not recognised" in p]


def test_the_staff_path_with_the_usual_consents_passes(shipped: ProfileSet) -> None:
    check = rule_of(shipped, "usen_almex", "AUTH-05", "staff_visual")
    path = staff("consent_1", "consent_2")
    assert _problems(check, path) == []
    # Two looks at one screen are that screen; a screen under a loading circle (the last
    # consent screen, busy: USEN-ALMEX's and Fujitsu's) is not one more.
    again = staff("consent_1", seen(4.5, "consent_1"), "consent_2")
    del again.actions[1]  # the second look at consent_1 is no new screen to answer
    assert _problems(check, again) == []
    # A loading circle come and gone over one screen leaves it one screen.
    come_and_gone = staff("consent_1", seen(4.5, "consent_1", overlay="spinner"),
                          seen(4.7, "consent_1"), "consent_2")
    assert screens_of(come_and_gone, "consent").names == ("consent_1", "consent_2")
    busy = seen(6.5, "consent_wait", overlay="spinner")
    assert _problems(check, staff("consent_1", "consent_2", busy)) == []
    assert _problems(check, staff("consent_1", "consent_2"),
                     record("face_auth", "face_auth", "consent_1", "consent_2", busy)) == []


@pytest.mark.parametrize(("consents", "shown"), [
    (("consent_2",), "consent_2"),                                      # one skipped
    (("consent_2", "consent_1"), "consent_2 -> consent_1"),             # swapped
    (("consent_1", "consent_2", "consent_1"), "consent_1 -> consent_2 -> consent_1"),  # added
    (("consent_1", "consent_3", "consent_2"), "consent_1 -> consent_3 -> consent_2"),  # another
    ((), "none"),                                                       # none at all
])
def test_a_path_whose_consents_differ_fails_with_both_sequences(
        shipped: ProfileSet, consents: tuple[str, ...], shown: str) -> None:
    check = rule_of(shipped, "panasonic", "AUTH-05", "staff_visual")
    (problem,) = _problems(check, staff(*consents))
    assert f"this path showed the consent screens {shown};" in problem
    assert ("the face_auth flow (the usual path) shows consent_1 -> consent_2; they must be "
            "the same screens in the same order") in problem


def test_the_same_screen_twice_apart_is_two_screens() -> None:
    path = staff("consent_1", "checking", "consent_1", "consent_2")
    assert screens_of(path, "consent").names == ("consent_1", "consent_1", "consent_2")


def test_a_screen_asked_again_after_its_answer_fails(shipped: ProfileSet) -> None:
    """The same consent screen again after its answer is one stretch on camera, but one
    answer more."""
    check = rule_of(shipped, "canon", "CON-01", "smartphone_iphone")
    phone = record("smartphone_iphone", "consent_1", "consent_2", head=("sp_hold",))
    assert _problems(check, phone) == []
    phone.actions.append(Action(phone.actions[0].t + 0.2, "consent"))
    (problem,) = _problems(check, phone)
    assert "took 3 answer(s); the face_auth flow's took 2" in problem


def test_unrecognised_consent_screens_fail_closed(shipped: ProfileSet) -> None:
    check = rule_of(shipped, "atlas", "CON-01", "smartphone_android")
    near = seen(5, "unknown", candidate="consent")
    phone = record("smartphone_android", "consent_1", near, "consent_2", head=("sp_hold",))
    (problem,) = _problems(check, phone)
    assert "a consent screen on this path was not recognised" in problem
    card = record("face_auth", "face_auth", near, "consent_2")
    ok_phone = record("smartphone_android", "consent_1", "consent_2", head=("sp_hold",))
    (problem,) = _problems(check, ok_phone, card)
    assert "a consent screen on the face_auth flow's record was not recognised" in problem
    # An unrecognised screen between two consent screens may be one, whatever it is near.
    between = seen(5, "unknown", candidate="completion")
    phone = record("smartphone_android", "consent_1", between, "consent_2", head=("sp_hold",))
    (problem,) = _problems(check, phone)
    assert "a consent screen on this path was not recognised" in problem


def test_without_the_card_paths_record_nothing_passes(shipped: ProfileSet) -> None:
    check = rule_of(shipped, "canon", "AUTH-05", "staff_visual")
    path = staff("consent_1", "consent_2")
    (problem,) = _problems(check, path, None)
    assert "the face_auth flow was not driven on this reader" in problem
    blind = record("face_auth", "face_auth")
    (problem,) = _problems(check, path, blind)
    assert "the face_auth flow showed no consent screen to compare" in problem
    unmet = record("face_auth", "face_auth", "consent_1", "consent_2")
    unmet.unmet = ["the reader did not start"]
    (problem,) = _problems(check, path, unmet)
    assert "did not start as the notice's procedure says" in problem


def test_the_verdict_shows_what_it_compared(shipped: ProfileSet) -> None:
    requirement = shipped["fujitsu_japan"].requirement("AUTH-05")
    assert requirement is not None
    check = rule_of(shipped, "fujitsu_japan", "AUTH-05", "staff_visual")
    verdict = judge_flow(requirement, "fujitsu_japan", check, staff("consent_2"),
                         baseline=CARD)
    assert verdict.status == "failed"
    assert any(line.startswith("face_auth's consent screens: consent_1 -> consent_2")
               for line in verdict.evidence.observed)


def test_a_check_cannot_compare_a_flow_with_itself() -> None:
    with pytest.raises(ValueError, match="screens_as: another flow"):
        FlowCheck.model_validate({"kind": "flow", "flow": "face_auth",
                                  "screens_as": {"screen": "consent", "flow": "face_auth"}})


def visits_of(flow: str, *visits: tuple[str, ...]) -> FlowRecord:
    """One record of several visits, each first, face_auth, its consent screens (each
    answered), checking, completion; then first."""
    states = [s for v in visits for s in ("first", "face_auth", *v, "checking", "completion")]
    screens = [seen(float(k), s) for k, s in enumerate([*states, "first"])]
    actions = [Action(s.t + 0.5, "consent") for s in screens if s.shows == "consent"]
    return FlowRecord(flow, "reader", screens=screens, actions=actions, result="handed_over")


@pytest.mark.parametrize("flow", ["consent", "pin_visit"])
def test_every_visit_is_held_to_the_face_paths_consents(shipped: ProfileSet, flow: str) -> None:
    """A reader right for the first patient and wrong for the next (the first consent
    skipped, or asked twice) fails on the visit that differs, named."""
    check = rule_of(shipped, "usen_almex", "CON-01", flow)
    usual = ("consent_1", "consent_2")
    assert _problems(check, visits_of(flow, usual, usual)) == []
    (problem,) = _problems(check, visits_of(flow, usual, ("consent_2",)))
    assert problem.startswith("this path's visit 2 of 2 showed the consent screens consent_2;")
    twice = visits_of(flow, usual, usual)
    twice.actions.append(Action(twice.actions[-1].t + 0.2, "consent"))
    (problem,) = _problems(check, twice)
    assert problem.startswith("this path's visit 2 of 2's consent screens (consent_1 -> "
                              "consent_2) took 3 answer(s)")
    # A second visit that reached the check with no consent screen at all.
    (problem,) = _problems(check, visits_of(flow, usual, ()))
    assert "visit 2 of 2 showed the consent screens none;" in problem


def test_a_refused_passcode_back_to_the_first_screen_is_no_visit(shipped: ProfileSet) -> None:
    check = rule_of(shipped, "canon", "AUTH-05", "staff_visual")
    path = staff("consent_1", "consent_2")
    refused = [seen(0.2, "staff_passcode"), seen(0.4, "first")]
    path.screens[1:1] = refused
    assert _problems(check, path) == []


def test_a_visit_that_bounced_before_any_consent_is_a_visit_that_showed_none(
        shipped: ProfileSet) -> None:
    """Right for the first patient; the next card in goes back to the first screen before
    any consent: that visit showed none (it is not dropped for showing nothing)."""
    check = rule_of(shipped, "canon", "CON-01", "consent")
    record = visits_of("consent", ("consent_1", "consent_2"))
    t = record.screens[-1].t
    record.screens += [seen(t + 1, "face_auth"), seen(t + 2, "first")]
    record.actions.append(Action(t + 0.5, "card_in"))
    (problem,) = _problems(check, record)
    assert problem.startswith("this path's visit 2 of 2 showed the consent screens none;")


def test_an_unrecognised_first_screen_still_parts_two_visits(shipped: ProfileSet) -> None:
    check = rule_of(shipped, "canon", "CON-01", "consent")
    record = visits_of("consent", ("consent_1", "consent_2"), ("consent_1", "consent_2"))
    k = next(i for i, s in enumerate(record.screens) if i and s.shows == "first")
    record.screens[k] = seen(record.screens[k].t, "unknown", candidate="first")
    assert _problems(check, record) == []


def test_a_usual_path_answered_more_often_than_its_screens_were_told_apart_fails_closed(
        shipped: ProfileSet) -> None:
    """A second consent screen the camera took for the first (its text changed, its look
    alike): two answers on one screen told apart. The usual path is then not known, and no
    path is passed against it (the same screens on both would otherwise agree)."""
    check = rule_of(shipped, "canon", "CON-01", "consent")
    face = visits_of("face_auth", ("consent_1",))
    face.actions.append(Action(face.actions[0].t + 0.3, "consent"))
    path = visits_of("consent", ("consent_1",))
    path.actions.append(Action(path.actions[0].t + 0.3, "consent"))
    (problem,) = _problems(check, path, face)
    assert ("the face_auth flow's consent screens took 2 answer(s) on 1 screen(s) told apart "
            "(consent_1)") in problem


def test_a_card_on_a_completion_begins_the_next_visit(shipped: ProfileSet) -> None:
    """(hunt E-6) The next patient's card put in on a phone's completion, the face check it
    starts, the card's consents: a visit of its own, each showing the usual consent screens;
    the same screens after a completion with no card put in are the done visit's, asked
    twice (a reader that asks the consents again after it said done)."""
    check = rule_of(shipped, "canon", "CON-01", "smartphone_iphone")
    phone = ["sp_hold", "consent_1", "consent_2", "checking", "completion"]
    card = ["face_auth", "consent_1", "consent_2", "checking", "completion", "first"]
    screens = [seen(float(k), s) for k, s in enumerate(["first", *phone, *card])]
    answers = [Action(s.t + 0.5, "consent") for s in screens if s.shows == "consent"]
    held = [Action(1.5, "hold_phone:front")]

    def path(*card_in: Action) -> FlowRecord:
        return FlowRecord("smartphone_iphone", "reader", screens=screens,
                          actions=sorted([*held, *answers, *card_in], key=lambda a: a.t),
                          result="handed_over")

    assert [p for p in check_flow(check, path(Action(5.5, "card_in")), CARD)
            if "consent screens" in p] == []
    (problem,) = [p for p in check_flow(check, path(), CARD) if "consent screens" in p]
    assert "consent_1 -> consent_2 -> consent_1 -> consent_2" in problem
