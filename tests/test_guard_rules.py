"""The first screen's button guards (AUTH-03, SP-01) judged on every flow's first screens,
and the 901's "done" claim judged on its meaning (E901-05): hunt G5-G7, G30, G31.

- Hand-made records: the guard follows each record's preconditions, not a list of flows;
  a first passcode issue holds the staff button back until a restart; the pairing flow is
  left to its own checks; no first screen judged fails closed.
- A deviant bench (hunt G6): after a PIN visit of its own, Panasonic's first screen shows
  the staff button with no passcode issued: the guard fails it; the default bench passes.
- The claim rule: genuine 901 wordings of every maker claim nothing; the hunt's and the old
  list's words each do.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from flow_helpers import deviant_bench_file, deviation, open_bench

from harness.emulation.hands import TwinHands
from harness.flows import run_flow
from harness.flows.drivers import Plan
from harness.model.claims import done_claim, limit_ask
from harness.model.guard_rules import guard_problems
from harness.model.observed import Action, FlowRecord, SeenScreen
from harness.model.profiles import ButtonGuard, FlowCheck, ProfileSet, default_profiles_dir


@pytest.fixture(scope="module")
def profiles() -> ProfileSet:
    return ProfileSet.load(default_profiles_dir())


STAFF = ButtonGuard(button="staff", shown_with="passcode_issued")
PHONE = ButtonGuard(button="smartphone", shown_with="paired")


def _first(t: float, *buttons: str) -> SeenScreen:
    return SeenScreen(t, t + 1, "first", "first", buttons=buttons)


def _record(flow: str, given: tuple[str, ...], *screens: SeenScreen,
            actions: tuple[Action, ...] = ()) -> FlowRecord:
    return FlowRecord(flow, "atlas", given, screens=list(screens), actions=list(actions))


def test_the_guard_follows_each_records_preconditions() -> None:
    ok = [_record("pin_visit", (), _first(0), _first(9)),
          _record("staff_visual", ("passcode_issued",), _first(0, "staff"), _first(9, "staff"))]
    assert guard_problems(STAFF, ok) == ([], 4)
    # The button after a visit of a flow no list named, with no passcode issued (G6) ...
    (problem,), _ = guard_problems(STAFF, [_record("pin_visit", (), _first(0),
                                                   _first(9, "staff"))])
    assert "flow pin_visit" in problem and "shows the staff button" in problem
    # ... or dropped with one issued (G24).
    (problem,), _ = guard_problems(STAFF, [_record("e901_staff", ("passcode_issued",),
                                                   _first(0, "staff"), _first(9))])
    assert "lacks the staff button, with the bench passcode issued" in problem


def test_a_first_issue_holds_the_button_back_until_a_restart() -> None:
    before = _record("passcode_first_issue", ("passcode_first_issue",), _first(0, "staff"))
    assert guard_problems(STAFF, [before])[0]
    after = _record("passcode_first_issue", ("passcode_first_issue",), _first(0),
                    _first(20, "staff"), actions=(Action(10, "restart_reader"),))
    assert guard_problems(STAFF, [after]) == ([], 1)


def test_the_smartphone_guard_and_the_pairing_flow() -> None:
    assert guard_problems(PHONE, [_record("smartphone_android", ("paired",),
                                          _first(0, "smartphone"))]) == ([], 1)
    (problem,), _ = guard_problems(PHONE, [_record("pin_visit", (), _first(0, "smartphone"))])
    assert "shows the smartphone button, with the bench not paired" in problem
    # The pairing flow's own checks judge the button after its restart (SP-04, SP-06).
    pairing = _record("pairing", ("not_paired",), _first(0))
    problems, judged = guard_problems(PHONE, [pairing])
    assert judged == 0 and "could not be checked" in problems[0]


def test_unmet_records_and_unknown_screens_are_not_judged_as_passing() -> None:
    unmet = _record("pin_visit", (), _first(0, "staff"))
    unmet.unmet.append("the reader did not start")
    unknown = _record("pin_visit", (), SeenScreen(0, 1, "unknown", None, candidate="first"))
    problems, judged = guard_problems(STAFF, [unmet, unknown])
    assert judged == 0 and problems  # nothing judged: fail closed


def test_every_maker_guards_its_buttons_on_every_flow(profiles: ProfileSet) -> None:
    for maker in profiles.face_auth_makers():
        guards = {(r.id, c.button_guard.button) for r in profiles[maker].requirements
                  for c in r.checks if isinstance(c, FlowCheck) and c.button_guard}
        want = {("AUTH-03", "staff")} | (set() if maker == "canon" else {("SP-01", "smartphone")})
        assert guards == want, maker


# (hunt G6) Panasonic's PIN way with its own completion, whose way back shows the staff
# button with no passcode issued.
PIN_WAY_STAFF_BUTTON = (
    deviation("behaviour.transitions.pin_entry.pin_ok", "consent_1n", "own way"),
    deviation("behaviour.states.consent_1n", {"shows": "consent", "like": "consent_1"}, "c1"),
    deviation("behaviour.states.consent_2n", {"shows": "consent", "like": "consent_2"}, "c2"),
    deviation("behaviour.states.checking_n", {"shows": "checking", "like": "checking"}, "ck"),
    deviation("behaviour.transitions.consent_1n",
              {"consent_answer": "consent_2n", "card_out": "first"}, "c1"),
    deviation("behaviour.transitions.consent_2n", {"consent_answer": {
        "to": "checking_n", "do": ["request_check"]}, "card_out": "first"}, "c2"),
    deviation("behaviour.transitions.checking_n", {
        "check_ok": "completion_n", "check_network_error": "error_network",
        "check_failed": "completion_stuck"}, "check"),
    deviation("behaviour.states.completion_n", {"shows": "completion", "like": "completion",
                                                "after": {"seconds": 15, "event": "retry"}},
              "done"),
    deviation("behaviour.transitions.completion_n", {
        "card_out": "first_x", "retry": {"to": "first_x", "unless": "card_present"}}, "back"),
    deviation("behaviour.states.first_x", {
        "shows": "first", "texts": ["マイナンバーカードを置いてください"], "buttons": [
            {"name": "staff", "label": "職員用ボタン", "event": "staff_button"},
            {"name": "smartphone", "label": "スマートフォンを利用", "event": "smartphone_button",
             "when": "smartphone"}]}, "no passcode guard"),
    deviation("behaviour.transitions.first_x", {
        "card_in": "face_auth", "staff_button": "staff_passcode",
        "smartphone_button": "sp_choose"}, "first"))


@pytest.mark.parametrize("deviant", [False, True], ids=["default", "pin-way-staff-button"])
def test_the_guard_catches_a_button_after_a_flow_no_list_named(
        tmp_path: Path, profiles: ProfileSet, deviant: bool) -> None:
    path = deviant_bench_file(tmp_path, "guard", readers={
        "panasonic": PIN_WAY_STAFF_BUTTON if deviant else ()})
    for bench in open_bench(path):
        record = run_flow(bench, TwinHands(bench), "panasonic",
                          Plan.of(profiles["panasonic"], "pin_visit", ()))
        problems, judged = guard_problems(STAFF, [record])
        assert judged
        if deviant:
            assert any("shows the staff button, with the bench not passcode issued" in p
                       for p in problems), problems
        else:
            assert problems == [], problems


#: What each maker's 901 screen says (the notices' words, the twins' screens): no claim.
GENUINE_901 = [
    ["エラーコード表示", "ご確認ください", "職員はオンライン資格確認等システムの障害発生状況を確認してください",
     "【901】", "マイナンバーカードを取り出し", "受付窓口までお越しください"],
    ["受付窓口にご連絡ください", "職員はオンライン資格確認等システムの障害状況を確認してください"
     "【901: オンライン資格確認等システムの障害】"],
    ["職員はオンライン資格確認等システムの障害発生状況を確認してください。【901：オンライン資格確認等システムの障害発生】"],
    ["Panasonic 顔認証付きカードリーダー", "20:34", "【901】", "受付窓口にお越しください"],
    ["【901】", "障害が発生しました", "資格確認は完了していません", "未完了", "完了できませんでした"],
]


@pytest.mark.parametrize("lines", GENUINE_901)
def test_genuine_901_wordings_claim_nothing(lines: list[str]) -> None:
    assert done_claim(lines) is None


@pytest.mark.parametrize("words", [
    "資格確認完了", "受付できました", "受付完了", "受付は完了", "受付が済", "受付しました", "済みました",
    "終了しました", "終わりました", "確認できました", "確認されました", "受け付けました", "認証に成功",
    "資格確認 完 了"])
def test_words_that_say_done_are_claims(words: str) -> None:
    assert done_claim(["【901】", words]) is not None


#: What the genuine consent screens say (the twins' and the reference screens', with the
#: reader's title, clock and answer buttons read too): no limit named.
GENUINE_CONSENTS = [
    ["Hi-CARA", "診療・薬剤情報の提供に同意しますか", "同意する", "同意しない"],
    ["Panasonic 顔認証付きカードリーダー", "20:34", "特定健診情報の提供に同意しますか"],
    ["手術情報の提供に同意しますか", "個別に選択する"],
]


@pytest.mark.parametrize("lines", GENUINE_CONSENTS)
def test_genuine_consents_name_no_limit(lines: list[str]) -> None:
    assert limit_ask(lines) is None


@pytest.mark.parametrize("words", [
    "高額療養費の限度額情報の提供に同意しますか", "医療費の支払いの上限の情報の提供に同意しますか",
    "自己負担の限度の情報", "上限額", "高額医療費", "限度額適用認定証の情報", "所得区分の情報",
    "適用区分を提供しますか", "じょうげんの情報", "医療費の上 限"])
def test_words_that_name_the_limit_are_asks(words: str) -> None:
    """(hunt G32) The limit named in any words the stems catch, not only the list's."""
    assert limit_ask(["同意しますか", words]) is not None
