"""The flow and boot rules on hand-made records, against the shipped profiles' own checks."""

from __future__ import annotations

import attrs
import pytest

from harness.model.boot_rules import BootRecord, check_boot
from harness.model.flow_rules import check_flow, describe_flow
from harness.model.observed import (
    Action,
    FlowRecord,
    ReadLine,
    SeenDialog,
    SeenScreen,
    TextFinding,
)
from harness.model.profiles import BootOrderCheck, FlowCheck, ProfileSet, default_profiles_dir


@pytest.fixture(scope="module")
def shipped() -> ProfileSet:
    return ProfileSet.load(default_profiles_dir())


def check(shipped: ProfileSet, maker: str, req: str, kind: type = FlowCheck):  # noqa: ANN201
    found = shipped[maker].requirement(req)
    assert found is not None
    return next(c for c in found.checks if isinstance(c, kind))


def screen(t: float, until: float, state: str, **kw: object) -> SeenScreen:
    shows = "consent" if state.startswith("consent_") else state
    return SeenScreen(t, until, state, shows, **kw)  # type: ignore[arg-type]


def found(*texts: str, y0: float = 100.0) -> tuple[TextFinding, ...]:
    """Texts judged shown, one per line from ``y0`` down, in the order given."""
    return tuple(TextFinding(t, True, "glyphs", read=t, x=50.0, y=y0 + 60.0 * k)
                 for k, t in enumerate(texts))


#: E901-05's 完了 (its words of a check done) looked for on a 901 screen, and not there.
#: What a 901 screen must not say (E901-05: the check is done, in the words a reader could
#: use), each read and not there.
DONE_WORDS = ("完了しました", "受付完了", "受付は完了", "受付が済", "受付しました", "済みました",
              "終了しました", "終わりました", "確認できました")
NOT_DONE = tuple(TextFinding(t, False, "ocr", read="", detail="not on the screen")
                 for t in DONE_WORDS)
#: What OCR read off such a 901 screen (E901-05's rule on the meaning judges it: nothing
#: read fails closed).
READ_901 = (ReadLine("【901】", 0.9), ReadLine("受付窓口にお越しください", 0.9))


def e901_record(completion_until: float = 40.0, card_out_t: float = 20.0,
                nine01_t: float = 41.0, close2_t: float = 40.0, dialog_t: float = 8.0,
                completion_t: float = 8.0) -> FlowRecord:
    return FlowRecord(
        "e901", "panasonic",
        # (the face check the visit identified the patient by: every visit to a consent
        # screen needs one)
        screens=[screen(0, 1, "face_auth"), screen(2, 3, "consent_1"),
                 screen(4, 5, "consent_2"),
                 screen(6, 7, "checking"), screen(completion_t, completion_until, "completion"),
                 screen(nine01_t, 50, "error_901",
                        findings=(*found("【901", "【901】"), *NOT_DONE),
                        read=READ_901)],
        dialogs=[SeenDialog(dialog_t, "check_error_1", closed_by="OK", closed_t=35),
                 SeenDialog(36, "check_error_2", closed_by="OK", closed_t=close2_t)],
        actions=[Action(3, "consent"), Action(5, "consent"), Action(card_out_t, "card_out"),
                 Action(35, "terminal:OK"), Action(close2_t, "terminal:OK")],
        result="none")


#: What each maker's reader shows from the error until the 901 (E901-02): only
#: Panasonic's is a completion screen (the others' E901-04 forbid one).
STUCK = {"panasonic": "completion", "canon": "please_wait", "usen_almex": "consent_wait",
         "fujitsu_japan": "consent_wait", "atlas": "first"}


def e901_record_of(maker: str) -> FlowRecord:
    """:func:`e901_record` with ``maker``'s screen from the error until the 901."""
    record = e901_record()
    stuck = record.screens[4]
    shows = "consent" if STUCK[maker] == "consent_wait" else STUCK[maker]
    record.screens[4] = SeenScreen(stuck.t, stuck.until, STUCK[maker], shows)
    return attrs.evolve(record, reader=maker)


def test_the_e901_flow_as_it_should_be(shipped: ProfileSet) -> None:
    for req in ("E901-01", "E901-02", "E901-03", "E901-04", "E901-05", "UPD-03"):
        assert check_flow(check(shipped, "panasonic", req), e901_record()) == [], req
    # A 901 screen that says the check is done (完了), or that nobody read for it, fails.
    done = e901_record()
    done.screens[-1] = attrs.evolve(done.screens[-1], findings=(
        *found("【901", "【901】"), TextFinding("完了しました", True, "ocr", read="受付は正常に完了しました")))
    assert any("shows 完了しました, which it must not" in p
               for p in check_flow(check(shipped, "panasonic", "E901-05"), done))
    unread = e901_record()
    unread.screens[-1] = attrs.evolve(unread.screens[-1], findings=found("【901", "【901】"))
    assert any(f"could not tell whether {', '.join(DONE_WORDS)} is shown" in p
               for p in check_flow(check(shipped, "panasonic", "E901-05"), unread))


def test_a_completion_screen_that_leaves_on_card_out(shipped: ProfileSet) -> None:
    # The screen changed right after the card went: it did not stay through card_out.
    problems = check_flow(check(shipped, "panasonic", "E901-02"),
                          e901_record(completion_until=20.0, card_out_t=20.0))
    assert problems and "did not stay through card_out" in problems[0]
    # It stayed through card-out, but gave up before the staff pressed OK (at 35 s).
    short = check_flow(check(shipped, "panasonic", "E901-02"),
                       e901_record(completion_until=31.0, card_out_t=10.0))
    assert any("did not stay until the second press of OK at 40.0 s: it stayed 23.0 s" in p
               for p in short), short
    # Held right up to the second press, which brings the 901: the look just before it
    # saw the screen.
    assert check_flow(check(shipped, "panasonic", "E901-02"), e901_record()) == []


@pytest.mark.parametrize("maker", ["panasonic", "canon", "usen_almex", "fujitsu_japan"])
def test_a_frozen_screen_that_leaves_on_the_first_ok(shipped: ProfileSet, maker: str) -> None:
    """記 2. ②: the first OK brings the second dialog, and only its OK brings the 901; a
    reader whose frozen screen goes back to its first screen on the first OK (and shows the
    901 from there) has not held its screen (画面が切り替わらない)."""
    req = check(shipped, maker, "E901-02")
    frozen = req.screens[-1]
    state = {"completion": "completion", "please_wait": "please_wait"}.get(
        frozen.screen, "consent_wait")
    looks = {"please_wait": {"findings": found("しばらくお待ちください")},
             "consent_wait": {"overlay": "spinner", "texts": ("B",)}}.get(state, {})

    def record(leaves_t: float) -> FlowRecord:
        rec = e901_record()
        rec.screens[2] = screen(4, 5, "consent_2", texts=("B",))
        rec.screens[4] = screen(8, leaves_t, state, **looks)
        if leaves_t < 40.0:
            rec.screens.insert(5, screen(leaves_t + 0.5, 40.0, "first"))
        return rec

    assert check_flow(req, record(40.0)) == []
    problems = check_flow(req, record(35.0))
    assert any("did not stay until the second press of OK at 40.0 s" in p and "first" in p
               for p in problems), problems
    # Pressed only once: the screen cannot be held until the second press.
    once = record(40.0)
    once.actions = [a for a in once.actions if not (a.what == "terminal:OK" and a.t == 40.0)]
    assert any("OK was pressed 1 time(s) after it" in p for p in check_flow(req, once))


def test_the_e901_reader_shows_its_screen_when_the_error_comes(shipped: ProfileSet) -> None:
    # The completion screen came a look after the dialog (after checking still showed).
    late = e901_record(completion_t=12.0, dialog_t=8.0)
    late.screens[3] = screen(6, 9, "checking")
    problems = check_flow(check(shipped, "panasonic", "E901-02"), late)
    assert any("did not show when check_error_1 appeared at 8.0 s: the reader showed "
               "checking then" in p for p in problems), problems
    # Atlas: back to the first screen only when the card went (card_out at 20 s).
    atlas = e901_record(card_out_t=20.0)
    atlas.screens[3] = screen(6, 19, "checking")
    atlas.screens[4] = screen(21, 35, "first")
    problems = check_flow(check(shipped, "atlas", "E901-02"), atlas)
    assert any("after card_out" in p for p in problems), problems
    atlas.screens[3] = screen(6, 7, "checking")
    atlas.screens[4] = screen(8, 40, "first")
    assert check_flow(check(shipped, "atlas", "E901-02"), atlas) == []
    # ... and there until the second OK (at 40 s) brings the 901: not gone before it.
    atlas.screens[4] = screen(8, 35, "first")
    assert any("did not stay until the second press of OK" in p
               for p in check_flow(check(shipped, "atlas", "E901-02"), atlas))


def test_the_901_within_5_s_of_the_second_ok(shipped: ProfileSet) -> None:
    e901_04 = check(shipped, "canon", "E901-04")
    record = e901_record_of("canon")  # the second OK at 40 s

    def seen_at(t: float, stuck_until: float) -> list[str]:
        r = attrs.evolve(record, screens=list(record.screens))
        r.screens[4] = attrs.evolve(r.screens[4], until=stuck_until)
        r.screens[-1] = attrs.evolve(r.screens[-1], t=t)
        return check_flow(e901_04, r)

    # Seen 5.5 s after the press, the look before it 4.5 s after: within 5 s by one look.
    assert seen_at(45.5, 44.5) == []
    # Still please_wait 6 s after the press: late.
    assert any("6.0 s or more after press 2" in p for p in seen_at(47.0, 46.0))
    # No look for 20 s after the press: whether it came in time is not known.
    assert any("is not known" in p for p in seen_at(60.0, 39.5))


def test_a_completion_screen_in_a_failed_check_fails_e901_04(shipped: ProfileSet) -> None:
    # (hunt H-10) The 901 going on to a screen that says the check went through: not
    # Panasonic's stuck completion (E901-02), a completion where none belongs.
    record = e901_record_of("canon")
    record.screens[-1] = screen(41, 45, "error_901", findings=(*found("【901", "【901】"),
                                                             *NOT_DONE), read=READ_901)
    record.screens.append(screen(45, 50, "completion"))
    assert any("completion must never show" in p
               for p in check_flow(check(shipped, "canon", "E901-04"), record))
    assert check_flow(check(shipped, "panasonic", "E901-04"), e901_record()) == []


def test_the_spinner_over_the_last_consent_screen(shipped: ProfileSet) -> None:
    record = e901_record()
    record.screens[1] = screen(2, 3, "consent_1", texts=("A",))
    record.screens[2] = screen(4, 5, "consent_2", texts=("B",))
    record.screens[4] = screen(8, 40, "consent_wait", texts=("B",), overlay="spinner")
    fujitsu = check(shipped, "fujitsu_japan", "E901-02")
    assert check_flow(fujitsu, record) == []
    record.screens[4] = screen(8, 40, "consent_wait", texts=("A",), overlay="spinner")
    problems = check_flow(fujitsu, record)
    assert problems and "is not over the last consent screen (consent_2: B); it shows A" \
        in problems[0], problems
    # What lies under the spinner was not confirmed: it cannot be told, so it fails.
    record.screens[4] = screen(8, 40, "consent_wait", overlay="spinner")
    assert check_flow(fujitsu, record)


def test_the_first_dialog_when_the_consents_are_over(shipped: ProfileSet) -> None:
    record = e901_record()
    record.dialogs[0] = SeenDialog(4, "check_error_1", closed_by="OK", closed_t=35)
    problems = check_flow(check(shipped, "canon", "E901-01"), record)
    assert problems == ["check_error_1 showed at 4.0 s, not after the last consent at 5.0 s "
                        "(2 in all): it must come when they are over"], problems
    record.actions = [a for a in record.actions if a.what != "consent"]
    assert check_flow(check(shipped, "canon", "E901-01"), record)  # cannot be timed: fails


@pytest.mark.parametrize("maker", ["panasonic", "canon", "usen_almex", "fujitsu_japan", "atlas"])
def test_the_first_dialog_is_not_late_after_the_consents(shipped: ProfileSet, maker: str) -> None:
    """タイミング: the moment the consents are over, within the rig's 10 s, both edges."""
    e901_01 = check(shipped, maker, "E901-01")
    for seen_t, late in ((15.0, False), (15.0 + 1e-3, True), (30.0, True)):
        record = e901_record()
        # (timed from when the answer was given: an operator's press takes time)
        record.actions[1] = Action(4.0, "consent", until=5.0)
        record.dialogs[0] = SeenDialog(seen_t, "check_error_1", closed_by="OK", closed_t=35)
        problems = check_flow(e901_01, record)
        if late:
            assert problems == [f"check_error_1 was first seen at {seen_t:.1f} s, "
                                f"{seen_t - 5:.1f} s after the last consent at 5.0 s: it must "
                                "come when they are over (within 10 s)"], problems
        else:
            assert problems == [], problems


@pytest.mark.parametrize("maker", ["panasonic", "canon", "usen_almex", "fujitsu_japan", "atlas"])
def test_no_dialog_after_the_second_ok(shipped: ProfileSet, maker: str) -> None:
    """The second OK brings the reader's 901 and ends the terminal's part: a third dialog
    (the first again) fails E901-04; another of the terminal's dialogs is not this
    sequence's; a second dialog never closed fails on its OK first."""
    e901_04 = check(shipped, maker, "E901-04")
    assert "check_error_2 (then no dialog)" in describe_flow(e901_04)
    record = e901_record_of(maker)
    assert check_flow(e901_04, record) == []
    record.dialogs.append(SeenDialog(40.5, "check_error_1"))
    assert check_flow(e901_04, record) == [
        "after check_error_2 was closed at 40.0 s the terminal showed check_error_1 at 40.5 s;"
        " the procedure ends with it (check_error_1 -> check_error_2 -> check_error_1)"]
    record = e901_record_of(maker)
    record.dialogs.append(SeenDialog(40.5, "reboot_prompt"))
    assert check_flow(e901_04, record) == []
    record = e901_record_of(maker)
    record.dialogs[1] = SeenDialog(36, "check_error_2")
    assert check_flow(e901_04, record) == [
        "the terminal's dialog check_error_2 should be closed with OK; it was never closed"]


@pytest.mark.parametrize("maker", ["panasonic", "canon", "usen_almex", "fujitsu_japan", "atlas"])
def test_the_second_dialog_right_after_the_first(shipped: ProfileSet, maker: str) -> None:
    """E901-03: OK on the first error dialog shows the second: another dialog between fails
    (the notice's sequence, 「OK」ボタンを押したタイミング … 2回目のエラーダイアログ)."""
    e901_03 = check(shipped, maker, "E901-03")
    assert "check_error_2 (right after)" in describe_flow(e901_03)
    record = e901_record()
    assert check_flow(e901_03, record) == []
    record.dialogs.insert(1, SeenDialog(35.5, "no_update", closed_by="OK", closed_t=35.8))
    assert check_flow(e901_03, record) == [
        "check_error_2 must follow check_error_1 with no dialog between; the terminal showed "
        "no_update first (check_error_1 -> no_update -> check_error_2)"]


def test_a_901_before_the_second_ok(shipped: ProfileSet) -> None:
    early = e901_record(nine01_t=37.0)
    problems = check_flow(check(shipped, "panasonic", "E901-04"), early)
    assert problems and "before check_error_2 was closed" in problems[0]
    assert any("after 1 press(es) of OK (35.0 s): it must come only after press 2" in p
               for p in problems), problems
    # Judged on the presses themselves: a 901 before the second OK fails even when the
    # record says nothing of the second dialog closing.
    early.dialogs[1] = SeenDialog(36, "check_error_2", closed_by="OK", closed_t=None)
    assert any("only after press 2" in p
               for p in check_flow(check(shipped, "panasonic", "E901-04"), early))
    assert check_flow(check(shipped, "panasonic", "E901-05"), early) == []  # its text is right


def test_an_unrecognised_901_counts_for_its_code_not_for_its_text(shipped: ProfileSet) -> None:
    fujitsu = ["受付窓口にご連絡ください", "職員はオンライン資格確認等システムの障害状況を確認してください",
               "【901: オンライン資格確認等システムの障害】"]
    record = e901_record_of("fujitsu_japan")
    # A screen whose layout moved (no reference matches) but shows the code, read on it.
    record.screens[-1] = SeenScreen(
        41, 50, "unknown", None, candidate=None,
        findings=(*found("【901", fujitsu[2]),
                  TextFinding(fujitsu[0], False, "glyphs", read="受付窓口にご連絡ください。",
                              detail="glyph 13 of 12: not found"),
                  TextFinding(fujitsu[1], True, "glyphs", read=fujitsu[1], x=40, y=300)))
    assert check_flow(check(shipped, "fujitsu_japan", "E901-04"), record) == []
    problems = check_flow(check(shipped, "fujitsu_japan", "E901-05"), record)
    assert problems and "expected 受付窓口にご連絡ください, read 受付窓口にご連絡ください。" in problems[0]
    # Without any text read, an unknown screen stands for nothing.
    record.screens[-1] = SeenScreen(41, 50, "unknown", None, candidate="error_901")
    assert check_flow(check(shipped, "fujitsu_japan", "E901-04"), record)


def test_a_recognised_screen_passes_on_what_was_read_not_on_its_reference(
        shipped: ProfileSet) -> None:
    # The reference's texts say 【901】, but the text check read 【011】 on the screen.
    record = e901_record()
    record.screens[-1] = screen(41, 50, "error_901", texts=("【901】",), findings=(
        TextFinding("【901", False, "glyphs", read="【011】", detail="glyph 2 of 4 '9'"),))
    problems = check_flow(check(shipped, "panasonic", "E901-04"), record)
    assert problems and "expected 【901, read 【011】 (glyphs: glyph 2 of 4 '9')" in problems[0]
    # Nothing judged the text: not shown, whatever the reference says.
    record.screens[-1] = screen(41, 50, "error_901", texts=("【901】",))
    problems = check_flow(check(shipped, "panasonic", "E901-04"), record)
    assert problems and "nothing read this text" in problems[0]


def test_texts_in_the_notices_order(shipped: ProfileSet) -> None:
    atlas = check(shipped, "atlas", "E901-05")
    texts = atlas.screens[0].texts
    record = e901_record()
    record.screens[-1] = screen(41, 50, "error_901",
                                findings=(*found(*texts, "【901"), *NOT_DONE),
                                read=READ_901)
    assert check_flow(atlas, record) == []
    swapped = [texts[1], texts[0], *texts[2:]]
    record.screens[-1] = screen(41, 50, "error_901",
                                findings=(*found(*swapped, "【901"), *NOT_DONE),
                                read=READ_901)
    problems = check_flow(atlas, record)
    assert problems and f"{texts[1]} stands before {texts[0]}" in problems[0]


def test_a_dialogs_texts_in_the_notices_order(shipped: ProfileSet) -> None:
    """ERR-10's 「希望する/希望しない」ボタン: the buttons' labels, both read right, left to right
    on their line in the notice's order."""
    err10 = check(shipped, "canon", "ERR-10")
    step = err10.dialogs[1]
    url = "https://www.lineauth.mnw"  # the page's address, in its title bar above them
    assert step.texts == [url, "希望する", "希望しない"]

    def record(x_yes: float, x_no: float) -> FlowRecord:
        page = SeenDialog(5, step.dialog, closed_by="希望する", closed_t=6, findings=(
            TextFinding(url, True, "glyphs", x=100.0, y=20.0),
            TextFinding("希望する", True, "glyphs", x=x_yes, y=455.0),
            TextFinding("希望しない", True, "glyphs", x=x_no, y=456.0)))
        return FlowRecord("line_auth_page", "canon", dialogs=[page])

    assert not [p for p in check_flow(err10, record(400, 700)) if step.dialog + ":" in p]
    problems = check_flow(err10, record(700, 400))
    assert any(f"{step.dialog}: 希望しない stands left of 希望する on their line (at x 400 "
               "against 700)" in p for p in problems), problems


def test_a_text_that_must_be_absent(shipped: ProfileSet) -> None:
    con02 = check(shipped, "canon", "CON-02")
    step = next(s for s in con02.screens if s.absent)
    assert step.absent == ["限度額", "上限額", "高額", "自己負担上限", "自己負担限度"]
    absent = step.absent[0]
    ok = tuple(TextFinding(a, False, "ocr", read="情報の提供に同意しますか") for a in step.absent)
    read = (ReadLine("診療・薬剤情報の提供に同意しますか", 0.9),)
    visit = FlowRecord("consent", "canon", screens=[
        screen(0, 1, "face_auth"), screen(2, 3, "consent_1", findings=ok, read=read),
        screen(4, 5, "completion"), screen(6, 7, "first")], result="handed_over",
        actions=[Action(3.5, "consent")])
    assert check_flow(con02, visit) == []
    # (hunt G32) The limit in words off the list (上限 without 額): judged on its stems.
    visit.screens[1] = screen(2, 3, "consent_1", findings=ok, read=(
        ReadLine("医療費の支払いの上限の情報の提供に同意しますか", 0.9),))
    assert any("names the high-cost limit ('支払いの上限の情報の'" in p
               for p in check_flow(con02, visit)), check_flow(con02, visit)
    visit.screens[1] = screen(2, 3, "consent_1", findings=ok, read=read)
    visit.screens[1] = screen(2, 3, "consent_1", findings=(
        TextFinding(absent, True, "ocr", read=f"{absent}情報の提供に同意しますか"), *ok[1:]))
    assert any("which it must not" in p for p in check_flow(con02, visit))
    # The consent's other word alone, in any wording (高額療養情報の提供に同意しますか: a
    # hunt's reader), fails as much.
    visit.screens[1] = screen(2, 3, "consent_1", findings=(ok[0], TextFinding(
        "高額", True, "ocr", read="高額療養情報の提供に同意しますか"), *ok[2:]))
    assert any("shows 高額, which it must not" in p for p in check_flow(con02, visit))
    # A consent screen nobody read: whether it shows the text is not known, so it fails.
    visit.screens[1] = screen(2, 3, "consent_1")
    assert any("could not tell" in p for p in check_flow(con02, visit))
    # Every consent screen is held to it, not only the first that passes.
    late = TextFinding(absent, True, "glyphs", read=absent)
    visit.screens[1:2] = [screen(2, 3, "consent_1", findings=ok, read=read),
                          screen(3, 4, "consent_2", findings=(late, *ok[1:]), read=read)]
    assert any("consent_2" in p and "which it must not" in p for p in check_flow(con02, visit))


def test_dialogs_in_order_and_closed_with_their_button(shipped: ProfileSet) -> None:
    record = e901_record()
    record.dialogs[0] = SeenDialog(9, "check_error_1", closed_by="キャンセル", closed_t=35)
    assert any("closed with OK" in p for p in
               check_flow(check(shipped, "panasonic", "E901-03"), record))
    record.dialogs.pop(1)
    assert any("did not show check_error_2" in p for p in
               check_flow(check(shipped, "panasonic", "E901-03"), record))


def test_order_buttons_never_and_result(shipped: ProfileSet) -> None:
    visit = FlowRecord("consent", "canon", screens=[
        screen(0, 1, "first"), screen(1.5, 1.8, "face_auth"), screen(2, 3, "consent_1"),
        screen(4, 5, "completion"), screen(6, 7, "first")],
        actions=[Action(2.5, "consent"), Action(5.5, "card_out")],
        result="handed_over", results=3)
    face_path = attrs.evolve(visit, flow="face_auth")
    assert check_flow(check(shipped, "canon", "CON-01"), visit, face_path) == []
    # The flow checks in three times: a result short is a visit shown done unchecked.
    assert any("should hold 3 result(s)" in p for p in check_flow(
        check(shipped, "canon", "CON-01"), attrs.evolve(visit, results=2), face_path))
    # Its consent screens are the face path's: not judged without that flow's record.
    assert any("face_auth flow was not driven" in p
               for p in check_flow(check(shipped, "canon", "CON-01"), visit))
    # An unrecognised screen never stands for a class whose step asks no text.
    blurred = FlowRecord("consent", "canon", screens=[
        screen(0, 1, "first"), screen(1.5, 1.8, "face_auth"), screen(2, 3, "consent_1"),
        SeenScreen(4, 5, "unknown", None, candidate="completion"), screen(6, 7, "first")],
        result="handed_over")
    assert any("completion was not seen" in p
               for p in check_flow(check(shipped, "canon", "CON-01"), blurred))
    visit.result = "none"
    assert any("receipt computer" in p for p in check_flow(check(shipped, "canon", "CON-01"), visit))
    visit.screens.pop()  # no first screen after the completion
    assert any("first was not seen after completion" in p
               for p in check_flow(check(shipped, "canon", "CON-01"), visit))
    first = FlowRecord("passcode_first_issue", "canon",
                       screens=[screen(0, 4, "first", buttons=("staff",))])
    assert check_flow(check(shipped, "canon", "AUTH-04"), first)
    iphone = FlowRecord("smartphone_iphone", "canon", screens=[
        screen(0, 1, "sp_choose"), screen(1, 2, "sp_pin"), screen(2, 3, "sp_hold"),
        screen(3, 4, "consent_1")])
    sp02 = shipped["canon"].requirement("SP-02")
    assert sp02 is not None
    assert any("sp_pin must never show" in p for p in check_flow(sp02.also[0], iphone))


def upd08_record(last_visit: list[str]) -> FlowRecord:
    """Panasonic's UPD-08 flow: two failed checks (its completion screen stuck, then the
    901), the download, the second reboot, then the last visit's screens."""
    screens, t, answers = [], 0.0, []
    failed = ["first", "consent_1", "consent_2", "checking", "completion", "error_901"]
    states = [*failed, *failed, "first", *last_visit]
    for k, state in enumerate(states):
        screens.append(screen(t, t + 1, state))
        if state == "first" and states[k + 1:k + 2] == ["consent_1"]:
            # (the face check of the visit, between two looks of the record's clock)
            screens.append(screen(t + 1.2, t + 1.5, "face_auth"))
        if state.startswith("consent"):
            answers.append(Action(t + 0.5, "consent"))
        t += 2
    ok = {"closed_by": "OK"}
    dialogs = [SeenDialog(8, "check_error_1", closed_t=9, **ok),
               SeenDialog(9, "check_error_2", closed_t=10, **ok),
               SeenDialog(20, "check_error_1", closed_t=21, **ok),
               SeenDialog(21, "check_error_2", closed_t=22, **ok),
               SeenDialog(24, "download_request_accepted", closed_t=25,
                          findings=found("ダウンロード依頼の受付"), **ok),
               SeenDialog(25, "update_ready", closed_by="確認しました", closed_t=25.5)]
    actions = sorted([*answers, Action(11, "reboot_terminal"), Action(25.8, "reboot_terminal")],
                     key=lambda a: a.t)
    return FlowRecord("upgrade_data_missing", "panasonic", screens=screens, dialogs=dialogs,
                      actions=actions, result="handed_over", results=1)


def test_upd08_judges_the_check_after_the_second_reboot(shipped: ProfileSet) -> None:
    upd08 = check(shipped, "panasonic", "UPD-08")
    assert check_flow(upd08, upd08_record(["consent_1", "consent_2", "checking", "completion",
                                           "first"])) == []
    # The last check goes through but the reader goes back to its first screen: the stuck
    # completion screens of the failed checks before the reboot do not stand for it.
    problems = check_flow(upd08, upd08_record(["consent_1", "consent_2", "checking", "first"]))
    assert problems and "completion was not seen after consent" in problems[0], problems
    # Without the reboot there is no check after it to judge: fail closed.
    record = upd08_record(["consent_1", "consent_2", "checking", "completion", "first"])
    record.actions.clear()
    assert any("no reboot_terminal was done" in p for p in check_flow(upd08, record))


def test_boot_rules(shipped: ProfileSet) -> None:
    pana = check(shipped, "panasonic", "BOOT-01", BootOrderCheck)
    good = BootRecord({"reader": 0, "terminal": 20, "receipt_computer": 140},
                      reader_started=12, reader_ready=90)
    assert check_boot(pana, good) == []
    slow = BootRecord({"reader": 0, "terminal": 20, "receipt_computer": 140},
                      reader_started=41, reader_ready=None)
    assert any("before the reader had started" in p for p in check_boot(pana, slow))
    late = BootRecord({"reader": 0, "terminal": 45, "receipt_computer": 140},
                      reader_started=12, reader_ready=90)
    assert any("the window is 15 to 30 s" in p for p in check_boot(pana, late))
    backwards = BootRecord({"terminal": 0, "receipt_computer": 0, "reader": 30},
                           reader_started=42, reader_ready=100)
    assert any("not after reader" in p for p in check_boot(pana, backwards))
    atlas = check(shipped, "atlas", "BOOT-02", BootOrderCheck)
    with_terminal = BootRecord({"reader": 0, "terminal": 20, "receipt_computer": 140},
                               reader_started=40, reader_ready=100)
    assert check_boot(atlas, with_terminal) == []
    button = BootRecord({"reader": 0, "terminal": 20, "receipt_computer": 140},
                        reader_started=None, reader_ready=None)
    assert any("did not start with the terminal" in p for p in check_boot(atlas, button))


def test_a_start_switched_off_again_is_not_the_start_judged(shipped: ProfileSet) -> None:
    """The order is judged on the bench's start: a device of the order switched off again
    before the reader was ready (the terminal on at the window, cut, and really started two
    minutes later; the reader cut and started after the terminal) breaks it, whatever its
    first switch-on was."""
    pana = check(shipped, "panasonic", "BOOT-01", BootOrderCheck)
    terminal_cut = BootRecord({"reader": 0, "terminal": 20, "receipt_computer": 240},
                              reader_started=12, reader_ready=200,
                              switched_off={"terminal": [21.0]})
    assert check_boot(pana, terminal_cut) == [
        "the terminal was switched off again at 21 s (switched on at 20 s) before the "
        "reader was ready: the start the order is judged on is not the one the bench made"]
    reader_cut = BootRecord({"reader": 0, "terminal": 20, "receipt_computer": 240},
                            reader_started=12, reader_ready=300,
                            switched_off={"reader": [170.0]})
    assert any("the reader was switched off again at 170 s" in p
               for p in check_boot(pana, reader_cut))
    # After the reader was ready the start is over: what the lab does then is not the order.
    after = BootRecord({"reader": 0, "terminal": 20, "receipt_computer": 140},
                       reader_started=12, reader_ready=90, switched_off={"terminal": [95.0]})
    assert check_boot(pana, after) == []
    assert "terminal off again at 95 s" in after.summary()


def test_a_reader_that_starts_with_the_terminal_is_dark_until_then(
        shipped: ProfileSet) -> None:
    """BOOT-02 (連動して自動起動): an Atlas reader lit on its own mains before the terminal
    was switched on starts by itself, even if its start ends after the terminal's."""
    atlas = check(shipped, "atlas", "BOOT-02", BootOrderCheck)
    own_mains = BootRecord({"reader": 0, "terminal": 180, "receipt_computer": 400},
                           reader_started=186, reader_ready=250,
                           reader_lit=(3.0, "starting"))
    assert check_boot(atlas, own_mains) == [
        "the reader showed starting at 3 s, before the terminal was switched on (180 s): "
        "it starts on its own mains, not with the terminal"]
    dark = BootRecord({"reader": 0, "terminal": 180, "receipt_computer": 400},
                      reader_started=186, reader_ready=250)
    assert check_boot(atlas, dark) == []
    # Panasonic's reader starts on its own mains, as its order has it: no such rule.
    pana = check(shipped, "panasonic", "BOOT-01", BootOrderCheck)
    assert check_boot(pana, BootRecord({"reader": 0, "terminal": 20, "receipt_computer": 140},
                                       reader_started=12, reader_ready=90,
                                       reader_lit=(3.0, "starting"))) == []


def test_verdicts_carry_the_windows_their_time_rules_checked(shipped: ProfileSet) -> None:
    """What the report draws on a failure's timeline: BOOT-01's 15 to 30 s from when the
    reader was switched on, E901-02's screen that must stay unchanged from when it came."""
    from harness.model.boot_rules import judge_boot
    from harness.model.flow_rules import judge_flow
    from harness.model.verdict import Evidence

    late = BootRecord({"reader": 100, "terminal": 145, "receipt_computer": 240},
                      reader_started=112, reader_ready=190)
    verdict = judge_boot(shipped["panasonic"].requirement("BOOT-01"), "panasonic",
                         "panasonic", late)
    assert not verdict.passed
    assert verdict.evidence.windows == ((115.0, 130.0, "terminal on: 15 to 30 s after reader"),)
    requirement = shipped["panasonic"].requirement("E901-02")
    verdict = judge_flow(requirement, "panasonic", check(shipped, "panasonic", "E901-02"),
                         e901_record())
    # The completion screen came at 8 s; the staff's second OK, at 40 s, brings the 901.
    assert (8.0, 40.0, "completion unchanged until the second press of OK"
            ) in verdict.evidence.windows
    # They survive the report's JSON.
    again = Evidence.from_json(verdict.evidence.as_json())
    assert again.windows == verdict.evidence.windows


def test_after_the_ready_dialog_no_dialog_until_the_reboot(shipped: ProfileSet) -> None:
    """UPD-05's quiet_until: from 確認しました's press to the reboot the procedure goes on to,
    no dialog; one after the reboot is not this step's; a close not seen before the reboot
    fails closed."""
    upd05 = check(shipped, "canon", "UPD-05")

    def manual(*later: SeenDialog, ready_closed: float | None = 12.5) -> FlowRecord:
        return FlowRecord("upgrade_manual", "canon", dialogs=[
            SeenDialog(1, "download_request_accepted", closed_by="OK", closed_t=2,
                       findings=found("ダウンロード依頼の受付")),
            SeenDialog(5, "update_ready", closed_by="確認しました", closed_t=ready_closed),
            *later], actions=[Action(0, "download_now"), Action(2, "terminal:OK"),
                              Action(12, "terminal:確認しました"), Action(23, "reboot_terminal")])

    def quiet(record: FlowRecord) -> list[str]:
        return [p for p in check_flow(upd05, record) if "reboot_terminal" in p]

    assert quiet(manual(SeenDialog(60, "network_error"))) == []
    (problem,) = quiet(manual(SeenDialog(18, "network_error")))
    assert "showed network_error at 18.0 s, before reboot_terminal" in problem
    (problem,) = quiet(manual(ready_closed=None))
    assert "update_ready was not seen closed before reboot_terminal" in problem


def test_a_button_that_must_not_show_fails_closed_on_an_unrecognised_screen(
        shipped: ProfileSet) -> None:
    """AUTH-03 after each visit: a first screen the camera did not recognise has no known
    buttons, so whether it shows the staff button is not known (not passed)."""
    auth03 = next(c for c in shipped["canon"].requirement("AUTH-03").also
                  if c.flow == "consent")
    visit = FlowRecord("consent", "canon", ("no_passcode_issued",), screens=[
        screen(0, 1, "first"), screen(2, 3, "consent_1"), screen(4, 5, "completion"),
        screen(6, 7, "first")])
    assert check_flow(auth03, visit) == []
    visit.screens[-1] = SeenScreen(6, 7, "unknown", None, candidate="first")
    assert any("could not tell whether the staff button is shown" in p
               for p in check_flow(auth03, visit))



def test_a_completion_needs_a_check_behind_it() -> None:
    """受付が完了しました on any flow: only on a visit whose consents were answered, never after
    an error of that visit (a visit starts at the first screen or a card put in)."""
    from harness.model.flow_rules import hollow_completions

    def record(states: list[str], actions: list[Action]) -> FlowRecord:
        return FlowRecord("pin_lock", "atlas", actions=actions, screens=[
            screen(2 * k, 2 * k + 1, state) for k, state in enumerate(states)])

    visit = ["first", "face_auth", "consent_1", "consent_2", "completion", "first"]
    answered = [Action(0.5, "card_in"), Action(4.5, "consent"), Action(6.5, "consent"),
                Action(9.5, "card_out")]
    assert hollow_completions(record(visit, answered)) == []
    # The card pulled on a consent screen: no answer, and the reader says done.
    pulled = ["first", "face_auth", "consent_1", "completion", "first"]
    problems = hollow_completions(record(pulled, [Action(0.5, "card_in"),
                                                  Action(5.0, "card_out")]))
    assert problems == ["completion at 6.0 s with no consent answered on its visit (since "
                        "0.5 s): no check went through, yet the reader says it is done"]
    # Answers of an earlier visit do not stand for this one's.
    two = ["first", "consent_1", "completion", "first", "face_auth", "pin_locked",
           "completion", "first"]
    problems = hollow_completions(record(two, [
        Action(0.5, "card_in"), Action(2.5, "consent"), Action(5.0, "card_out"),
        Action(6.5, "card_in"), Action(11.0, "card_out")]))
    assert len(problems) == 1 and problems[0].startswith("completion at 12.0 s with no consent")
    # The 901 (or a network error) on the visit, then done: the check failed.
    failed = ["first", "consent_1", "checking", "error_901", "completion", "first"]
    problems = hollow_completions(record(failed, [Action(0.5, "card_in"),
                                                  Action(2.5, "consent")]))
    assert problems and "after error_901 on the same visit" in problems[0]
    # A record that starts on the error (inside a visit it did not see begin): the error is
    # still that visit's.
    problems = hollow_completions(record(["error_network", "completion", "first"], []))
    assert problems == ["completion at 2.0 s after error_network on the same visit: the "
                        "check failed, yet the reader says it is done"]
    # ... and one that starts on a completion it did not see the visit of is not judged.
    assert hollow_completions(record(["completion", "first"], [])) == []
    # Panasonic's completion stuck on a failed check comes before its 901: not this.
    stuck = ["first", "consent_1", "checking", "completion", "error_901", "first"]
    assert hollow_completions(record(stuck, [Action(0.5, "card_in"),
                                             Action(2.5, "consent")])) == []


def _judged_texts(shipped: ProfileSet, maker: str, req: str, record: FlowRecord) -> list[str]:
    from harness.model.flow_rules import judge_flow

    requirement = shipped[maker].requirement(req)
    assert requirement is not None
    return list(judge_flow(requirement, maker, check(shipped, maker, req), record)
                .evidence.read)


def test_a_verdict_lists_only_the_texts_its_own_check_judged(shipped: ProfileSet) -> None:
    """The e901 flow is read for every check driven on it; UPD-03 (the 901's code) lists
    its code, never E901-05's texts that must be absent, and never as "expected"."""
    canon = check(shipped, "canon", "E901-05")
    [nine01] = [s for s in canon.screens if s.screen == "error_901"]
    record = attrs.evolve(e901_record(), reader="canon")
    record.screens[-1] = attrs.evolve(record.screens[-1], findings=(
        *found("【901", "【901】"),
        TextFinding("【901：", False, "ocr", read="【901】", detail="cannot tell ： from :"),
        TextFinding("【901:", False, "ocr", read="【901】", detail="cannot tell ： from :"),
        *NOT_DONE))
    upd03 = _judged_texts(shipped, "canon", "UPD-03", record)
    assert upd03 and all(line.startswith("must show 【901: shown, read 【901 (glyphs)")
                         for line in upd03), upd03
    assert not any("完了" in line or "expected" in line for line in upd03)
    e905 = _judged_texts(shipped, "canon", "E901-05", record)
    # Must-not texts said as such, with what was read.
    for text in nine01.absent:
        assert f"must not show {text}: not shown, read nothing (ocr: not on the screen)" \
            in e905
    # The alternatives as alternatives: one line, which one was shown, the others beside it.
    [alt] = [line for line in e905 if line.startswith("one of ")]
    assert alt.startswith(f"one of {' / '.join(nine01.contains_any)} (either will do): "
                          "【901】 shown, read 【901】 (glyphs); ")
    assert "【901： not shown, read 【901】 (ocr: cannot tell ： from :)" in alt
    assert not any(line.startswith("expected") for line in e905)


def test_a_text_that_must_be_absent_and_was_shown_or_not_read_says_so(
        shipped: ProfileSet) -> None:
    shown = e901_record()
    shown.screens[-1] = attrs.evolve(shown.screens[-1], findings=(
        *found("【901", "【901】"),
        TextFinding("完了しました", True, "ocr", read="受付は正常に完了しました")))
    lines = _judged_texts(shipped, "panasonic", "E901-05", shown)
    assert "must not show 完了しました: SHOWN, read 受付は正常に完了しました (ocr)" in lines
    assert "must not show 受付完了: not judged, the screen was not read" in lines
    # A text that must show and did not: said so, not as "expected".
    missing = e901_record()
    missing.screens[-1] = attrs.evolve(missing.screens[-1], findings=(
        TextFinding("【901", False, "glyphs", read="【011】", detail="glyph 2 of 4 '9'"),
        *NOT_DONE))
    lines = _judged_texts(shipped, "panasonic", "UPD-03", missing)
    assert lines == ["must show 【901: NOT shown, read 【011】 (glyphs: glyph 2 of 4 '9')"]
    # None of the alternatives shown: said first.
    none = e901_record()
    none.screens[-1] = attrs.evolve(none.screens[-1], findings=(
        *(TextFinding(t, False, "ocr", read="【011】") for t in ("【901】", "【901：", "【901:")),
        *NOT_DONE))
    [alt] = [line for line in _judged_texts(shipped, "canon", "E901-05",
                                            attrs.evolve(none, reader="canon"))
             if line.startswith("one of")]
    assert "(either will do): NONE shown: 【901】 not shown, read 【011】 (ocr)" in alt


def _staff_press_rule(shipped: ProfileSet) -> FlowCheck:
    """AUTH-05's also-check holding each press of the staff button (until the passcode)."""
    found = shipped["canon"].requirement("AUTH-05")
    assert found is not None
    return next(c for c in found.checks if isinstance(c, FlowCheck)
                and any(r.action == "press:staff" for r in c.responses))


def _staff_then(*tail: tuple[float, float, str], back: bool) -> FlowRecord:
    """The staff button pressed on the first screen, the passcode screen, then 戻る (or
    not) and ``tail``'s screens with the face check's actions before them."""
    actions = [Action(1, "press:staff")] + ([Action(3, "press:cancel")] if back else []) + [
        Action(5, "card_in"), Action(7, "face"), Action(9, "consent"), Action(11, "consent")]
    return FlowRecord("staff_visual", "canon", ("passcode_issued",), screens=[
        screen(0, 1, "first", buttons=("staff",)), screen(2, 3, "staff_passcode"),
        *(screen(t, u, s) for t, u, s in tail)], actions=actions)


def test_a_staff_press_is_judged_until_the_passcode_or_a_back(shipped: ProfileSet) -> None:
    """(hunt E-2) 戻る on the passcode screen to the first screen, then a patient's visit by
    the face: its consents are not the staff button's (the way was left); with no 戻る, a
    consent before the right passcode is one the press brought."""
    rule = _staff_press_rule(shipped)
    tail = ((4, 5, "first"), (6, 7, "face_auth"), (8, 9, "consent_1"), (10, 11, "consent_2"))
    after_back = check_flow(rule, _staff_then(*tail, back=True))
    assert not any("after press:staff" in p for p in after_back), after_back
    (problem,) = [p for p in check_flow(rule, _staff_then(*tail[1:], back=False))
                  if "after press:staff" in p]
    assert "showed consent_1 at 8.0 s" in problem and "before passcode:right" in problem


def _nightly_kept_901(after_retry: str | None, kept: str = "error_901") -> FlowRecord:
    """The nightly flow's first failed check, the reader keeping ``kept`` through the
    card-out, a card put in on it at 55 s, and ``after_retry`` (None: nothing new) seen."""
    screens = [screen(0, 1, "first"), screen(2, 3, "face_auth"), screen(4, 5, "consent_1"),
               screen(6, 7, "consent_2"), screen(8, 9, "checking"),
               screen(41, 60, kept)]
    if after_retry is not None:
        screens.append(screen(56, 60, after_retry))
        screens[-2] = attrs.evolve(screens[-2], until=54)
    return FlowRecord(
        "upgrade_nightly", "fujitsu_japan", ("in_distribution_window",), screens=screens,
        dialogs=[SeenDialog(10, "check_error_1", closed_by="OK", closed_t=35),
                 SeenDialog(36, "check_error_2", closed_by="OK", closed_t=40)],
        actions=[Action(1.5, "card_in"), Action(2.5, "face"), Action(4.5, "consent"),
                 Action(6.5, "consent"), Action(35, "terminal:OK"), Action(40, "terminal:OK"),
                 Action(50, "card_out"), Action(55, "card_in"), Action(65, "card_out")],
        result="none")


def test_upd02s_second_check_is_not_tried_on_a_901_kept_until_the_restart(
        shipped: ProfileSet) -> None:
    """(review F4) A 901 that stays through the card-out and takes no card put in on it
    leaves no way to a second check before the restart: not tried, not failed. A reader
    that took that card, or one stuck on another screen, is judged."""
    upd02 = check(shipped, "fujitsu_japan", "UPD-02")
    missing = "the terminal did not show check_error_1 after check_error_2"
    assert not any(missing in p for p in check_flow(upd02, _nightly_kept_901(None)))
    assert any(missing in p for p in check_flow(upd02, _nightly_kept_901("face_auth")))
    assert any(missing in p for p in check_flow(upd02, _nightly_kept_901(None, "consent_2")))


def _nightly_canon(second: str, *, terminal_again: bool = False) -> FlowRecord:
    """Canon's nightly flow, two failed checks before the restart: 「しばらくお待ちください」 at the
    first error dialog of the first check; at the second's, ``second``. ``terminal_again``:
    the terminal shows its first error dialog once more right after the second OK (its
    own fault, nothing done at the reader since)."""
    wait = found("しばらくお待ちください")
    screens = [screen(0, 1, "face_auth"), screen(2, 3, "consent_1"), screen(4, 5, "consent_2"),
               screen(6, 12, "please_wait", findings=wait),
               screen(13, 14, "error_901"), screen(15, 16, "first"),
               screen(17, 18, "face_auth"), screen(19, 20, "consent_1"),
               screen(21, 22, "consent_2"),
               screen(23, 29, second, findings=wait if second == "please_wait" else ()),
               screen(30, 31, "error_901"), screen(32, 33, "first")]
    dialogs = [SeenDialog(7, "check_error_1", closed_by="OK", closed_t=9),
               SeenDialog(10, "check_error_2", closed_by="OK", closed_t=12)]
    if terminal_again:
        dialogs.append(SeenDialog(13, "check_error_1", closed_by="OK", closed_t=13.5))
    dialogs += [SeenDialog(24, "check_error_1", closed_by="OK", closed_t=26),
                SeenDialog(27, "check_error_2", closed_by="OK", closed_t=29)]
    actions = [Action(0.5, "face"), Action(3, "consent"), Action(5, "consent"),
               Action(9, "terminal:OK"), Action(12, "terminal:OK"),
               *([Action(13.5, "terminal:OK")] if terminal_again else []),
               Action(14, "card_out"), Action(16.5, "card_in"), Action(17.5, "face"),
               Action(20, "consent"), Action(22, "consent"), Action(26, "terminal:OK"),
               Action(29, "terminal:OK"), Action(31, "card_out")]
    return FlowRecord("upgrade_nightly", "canon", screens=screens, dialogs=dialogs,
                      actions=actions, result="none")


def _e901_02_nightly(shipped: ProfileSet) -> FlowCheck:
    req = shipped["canon"].requirement("E901-02")
    assert req is not None
    return next(c for c in req.checks if isinstance(c, FlowCheck) and c.flow == "upgrade_nightly")


def test_e901_02_holds_on_the_second_failed_check_too(shipped: ProfileSet) -> None:
    """(hunt G33) Each failed check before the restart shows 「しばらくお待ちください」 at its
    first error dialog: a second that goes straight back to the first screen fails, named
    as the second; a dialog the terminal shows again by itself is not another check."""
    check = _e901_02_nightly(shipped)
    assert [p for p in check_flow(check, _nightly_canon("please_wait"))
            if "please_wait" in p] == []
    problems = check_flow(check, _nightly_canon("first"))
    assert any("appeared for failed check 2 at 24.0 s: the reader showed first" in p
               for p in problems), problems
    assert [p for p in check_flow(check, _nightly_canon("please_wait", terminal_again=True))
            if "failed check" in p] == []
