"""Vendor profiles: the spec (``vendor_profiles/*.yaml``).

A profile says what must happen, requirement by requirement, with the notice it comes from
and, where a machine can check it, the expectation. Profiles are read by the checks, never
by the emulated devices (DESIGN.md principle 2).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Literal

import attrs
import pydantic

from harness.errors import BadInput
from harness.loading import (
    Field,
    Stamp,
    check_all,
    file_stamp,
    line_of,
    load_yaml_model,
    read_yaml,
)
from harness.model.bench_spec import MAX_WAIT_S, START_YEARS, PrintedName
from harness.model.lamps import LampColour
from harness.model.requirements import check_requirement_id
from harness.model.screens import (
    DIALOG_BUTTONS,
    ActionName,
    DialogId,
    Flow,
    Given,
    Overlay,
    ReaderButton,
    ScreenClass,
)
from harness.model.usb_ids import UsbIdPair, fmt_id

#: Absent texts that have a screen read for :attr:`ScreenStep.no_done_claim` when its step
#: lists none of its own.
CLAIM_READ = ("完了しました",)

RequirementId = Annotated[str, pydantic.AfterValidator(check_requirement_id)]


class WiringCheck(Field):
    """Where the device may be plugged in."""

    kind: Literal["wiring"]
    #: The chain must start at a USB 3.x root port of the terminal.
    root_port_usb3: bool = False
    #: Hubs allowed between the device and the terminal; None: any number (never fewer
    #: than none: -1 would fail a reader plugged straight in).
    max_hubs_between: int | None = pydantic.Field(default=None, ge=0)


class VerifiedModelCheck(Field):
    """The general reader must be one of ``verified_models`` (same maker and model)."""

    kind: Literal["verified_model"]


class AppNameCheck(Field):
    """The reader is shown under the verified model's ``app_name``."""

    kind: Literal["app_name"]


class HotplugCheck(Field):
    """A general reader plugged in while the terminal runs is recognised (listed by the
    management app) at once on a terminal with a monitor (a monitor-less bench cannot
    attach one: not judged there)."""

    kind: Literal["hotplug"]


class DesignatedReadersCheck(Field):
    """Every general reader on the bench is one the lab designated for this face-auth
    reader's maker (bench file ``general_reader_rules.designated``; the notice names none, so
    without the lab's list: the verified models)."""

    kind: Literal["designated_readers"]


class FirmwareCheck(Field):
    """The general reader's firmware (USB bcdDevice) is at least the lab's minimum for its
    model (bench file ``general_reader_rules.min_firmware``), unless its verified model
    ``needs_latest_firmware: false`` (Sony); without a minimum any version passes."""

    kind: Literal["firmware"]


class ManualCheck(Field):
    """Not machine-checkable by this rig; ``how`` says what a person checks."""

    kind: Literal["manual"]
    how: str


BootDevice = Literal["reader", "terminal", "receipt_computer"]


class BootGap(Field):
    """Seconds from switching ``after`` on to switching ``then`` on: 0 to a day, the
    window's low end not above its high end (else no bench could meet it, and the reader
    would be blamed)."""

    after: BootDevice
    then: BootDevice
    min_s: float | None = pydantic.Field(default=None, ge=0, le=MAX_WAIT_S)
    max_s: float | None = pydantic.Field(default=None, ge=0, le=MAX_WAIT_S)

    @pydantic.model_validator(mode="after")
    def _a_window(self) -> BootGap:
        if self.min_s is not None and self.max_s is not None and self.min_s > self.max_s:
            check_all([(("min_s",), f"{self.min_s:g} s is above max_s {self.max_s:g} s")])
        return self


class BootOrderCheck(Field):
    """Power-on order, read off the timeline's power and start-up events."""

    kind: Literal["boot_order"]
    #: Devices in the order they must be switched on.
    order: list[BootDevice]
    gaps: list[BootGap] = []
    #: The terminal is switched on only once the reader has started (起動 order).
    terminal_after_reader_started: bool = False
    #: The reader starts by itself when the terminal starts (no switching of its own).
    reader_starts_with_terminal: bool = False
    #: The receipt computer is switched on only once the reader has started.
    receipt_computer_after_reader_started: bool = False

    @property
    def windowed(self) -> bool:
        """Whether a device's moment has a window with both ends (BOOT-01's 15 to 30 s):
        a reader must work with either edge."""
        return any(g.min_s is not None and g.max_s is not None for g in self.gaps)

    @property
    def clock_starts(self) -> tuple[str, ...]:
        """The starts by the clock that try the order's edges and negative half: a window's
        ``earliest`` and ``latest`` edge; for a reader that starts with the terminal, its
        mains on long before the terminal (``reader_first``: it must stay dark until then)."""
        return (("earliest", "latest") if self.windowed else ()) + (
            ("reader_first",) if self.reader_starts_with_terminal else ())


class PressCount(Field):
    """The ``count``-th press of a terminal button (``terminal:<button>`` in the record)."""

    button: str
    count: int = pydantic.Field(ge=1)
    #: ... and the screen comes within this many bench seconds of that press (the press
    #: brings it: E901-04's これも「OK」ボタンを押すと…901エラーが表示される).
    within_s: float | None = pydantic.Field(default=None, gt=0, le=MAX_WAIT_S)


class ScreenStep(Field):
    """One reader screen a flow must show, in order."""

    screen: ScreenClass
    #: Each must be on the screen (as a substring of its text).
    texts: list[str] = []
    #: The notice lost this screen's picture: why ``texts`` is not given.
    texts_unknown: str | None = None
    #: Fragments that must be there even when the full text is unknown (e.g. "【901": every
    #: notice prints an error code in 【】, so the bracket is part of the code).
    contains: list[str] = []
    #: At least one of these must be there (the notice allows either).
    contains_any: list[str] = []
    #: Text that must NOT be on the screen.
    absent: list[str] = []
    #: The screen must not say, in any words, that the check or the reception is done
    #: (a failed check's 901: 患者の資格確認は完了していない): judged on the meaning of all that
    #: was read off it (:mod:`harness.model.claims`), not on a list of phrases. The screen
    #: is read for it (an unread screen fails).
    no_done_claim: bool = False
    #: The screen must not name the high-cost medical expense limit in any words (CON-02:
    #: its consent is left out): judged on the stems of all that was read off it
    #: (:func:`harness.model.claims.limit_ask`), not on a list of phrases (hunt G32: 上限
    #: without 額). The screen is read for it (an unread screen fails).
    no_limit_ask: bool = False
    overlay: Overlay | None = None
    #: Buttons that must / must not be shown.
    buttons: list[ReaderButton] = []
    no_buttons: list[ReaderButton] = []
    #: The screen must stay unchanged this long (s of bench time; at most a day, as every
    #: bound of a profile: a longer one is a typo, and a run waits for it) ...
    stays_s: float | None = pydantic.Field(default=None, gt=0, le=MAX_WAIT_S)
    #: ... even when these actions happen (e.g. card_out).
    stays_through: list[ActionName] = []
    #: The screen must not show before this dialog was closed (it is what closing it
    #: brings, E901-04).
    not_before: DialogId | None = None
    #: The screen must come from this action done on the step before's screen (CON-01:
    #: card_out on the completion screen): every time it follows that screen, the action
    #: came first, and every time the action is done there, it follows within ``within_s``.
    upon: ActionName | None = None
    within_s: float | None = pydantic.Field(default=None, gt=0, le=MAX_WAIT_S)

    @pydantic.model_validator(mode="after")
    def _upon_has_a_bound(self) -> ScreenStep:
        if (self.upon is None) != (self.within_s is None):
            raise ValueError("upon and within_s go together (the action, and how soon after)")
        return self

    #: The screen first shows only after this many presses of a terminal button, and not
    #: after fewer (E901-04: the 901 after OK on the second dialog, not on the first).
    after_presses: PressCount | None = None
    #: The screen shows when this dialog first appears: the reader's first look from that
    #: moment sees it (E901-02: what each reader does "at that moment"; Atlas returns to its
    #: first screen when the error comes, not later on card-out).
    with_dialog: DialogId | None = None
    #: The screen stays unchanged from when it shows until the ``count``-th press of this
    #: terminal button after that, the staff's act that brings what follows (E901-02:
    #: 画面が切り替わらない until the second OK brings the 901).
    stays_until_press: PressCount | None = None
    #: Every time the screen shows, it stays until this action is next done, the notice's
    #: remedy (Canon's 【011】 until the terminal's restart: one that gives way to a ready
    #: first screen with the fault still there invites a check that cannot go through).
    #: Judged on every stretch of the class with the action after it.
    stays_until: ActionName | None = None
    #: The screen looks like the last screen of its class shown before it (the same texts,
    #: under its overlay): the spinner over the *last* consent screen (E901-02).
    over_last: bool = False
    #: Lamps beside the screen, by the name the bench's camera gives them: ``unlit`` or the
    #: colour lit, on every look at every screen of this class (ERR-07: Atlas's MATSUMURA
    #: logo lamp is dark with the screen and lights white once the reader has started).
    lamps: dict[str, Literal["unlit"] | LampColour] = {}
    #: The screen counts only when seen after the flow's last action of this kind (UPD-08:
    #: the check after the second reboot; Panasonic's completion screen stuck on the failed
    #: checks before it is not that check going through).
    after_last: ActionName | None = None
    #: Each failed check's screen of this class is held to the step, not only the first
    #: that passes (each failed check's 901 in the notice's words: hunt D-4's second one
    #: was in other words): the first seen from each closing of the terminal's last error
    #: dialog on, what the notice pictures that OK bringing (review F1: not a 901 of the
    #: same check after the card is out). With ``with_dialog``: the screen up at each
    #: failed check's appearance of that dialog, each held as the step says (E901-02 on the
    #: nightly flow's second failed check, hunt G33).
    every: bool = False


class DialogStep(Field):
    """One dialog the terminal must show, in order, and the button pressed to go on."""

    dialog: DialogId
    texts: list[str] = []
    texts_unknown: str | None = None
    press: str | None = None
    #: The dialog first shows only after the last action of this kind in the flow (E901-01:
    #: when the consent selection ends, i.e. after the last ``consent`` answer, never while
    #: a consent screen still waits for one).
    after_last: ActionName | None = None
    #: ... and is first seen within this many bench seconds of it (E901-01: タイミング, the
    #: moment; the bound is the rig's: the check's round trip and the looks).
    within_s: float | None = pydantic.Field(default=None, gt=0, le=MAX_WAIT_S)
    #: No dialog shows after this one is closed, to the flow's end (E901-04: the second OK
    #: brings the reader's 901, and the terminal's part is over).
    last: bool = False
    #: No other dialog between the step before and this one (UPD-05: the ready dialog is what
    #: follows ダウンロード依頼の受付's OK; a dialog between says something else).
    right_after: bool = False
    #: No dialog at all shows from this one's closing until this action, the procedure's
    #: next step (UPD-05: after 確認しました comes the reboot, ⑤; any dialog between says the
    #: preparation did not complete, whatever it says).
    quiet_until: ActionName | None = None

    @pydantic.model_validator(mode="after")
    def _within_after_last(self) -> DialogStep:
        if self.within_s is not None and self.after_last is None:
            raise ValueError("within_s: only with after_last (the action it is timed from)")
        return self

    @pydantic.field_validator("press")
    @classmethod
    def _a_button_of_the_dialog(cls, press: str | None,
                                info: pydantic.ValidationInfo) -> str | None:
        # A button the dialog lacks would be judged against the maker (closed by OK, not
        # Cancel): the profile's mistake, said as it loads.
        buttons = DIALOG_BUTTONS.get(info.data.get("dialog", ""))
        if press is not None and buttons is not None and press not in buttons:
            have = ", ".join(buttons) if buttons else "none"
            raise ValueError(f"{press!r} is no button of {info.data['dialog']} (its "
                             f"buttons: {have})")
        return press


class PinCount(Field):
    """AUTH-02 judged PIN by PIN: the screens seen after each entry (the runner logs
    ``pin:wrong`` and ``pin:right``) until the next action. Wrong entries in a row before
    ``locks_after`` leave the reader asking; the ``locks_after``-th locks; a right entry
    proceeds and starts the count again. The record must try both halves: the lock, and a
    reset (wrong entries that would lock but for a right one between)."""

    locks_after: int = pydantic.Field(ge=2)
    #: The record must also try the reset half (False: a flow that only locks the PIN on
    #: its way elsewhere, AUTH-06; the reset is AUTH-02's to prove).
    tries_reset: bool = True
    asking: ScreenClass = "pin_entry"
    locked: ScreenClass = "pin_locked"
    proceeds: ScreenClass = "consent"


class Response(Field):
    """What an action must not bring: judged on every screen seen after each time the
    runner logged ``action`` until the next action, or ``until`` (AUTH-05: a wrong passcode
    is refused, it never leads to the visual confirmation). The record must have tried the
    action."""

    action: ActionName
    never: list[ScreenClass] = pydantic.Field(min_length=1)
    #: Judged until this action is next done, or 戻る is pressed (SP-02: a wrong phone PIN's
    #: phone held over the reader is refused too, until the right PIN is typed); default:
    #: the next action.
    until: ActionName | None = None
    #: Judged on what the reader goes on to by itself from the screen the action brought,
    #: not on that screen (AUTH-05: 戻る may lead one step back; what follows with nobody
    #: acting must not be the staff's way again).
    by_itself: bool = False


class Escalation(Field):
    """Remedies tried in order, each only while the trouble lasts (ERR-11, the support vendor's お知らせ ②: the
    PC restarted first; the router only if that did not help): judged on the record's
    actions and screens (harness.model.recovery_rules)."""

    #: The remedies' actions as the runner logs them, in the order the notice gives.
    steps: list[ActionName] = pydantic.Field(min_length=1)
    #: The action that tries a check, and the screen that shows one went through.
    attempt: ActionName = "card_in"
    succeeded: ScreenClass = "completion"


class Renewal(Field):
    """A network scenario replayed on the bench, judged period by period (NET-01, notice 6福薬業発第421号
    2.: during the long cut no check; during the intermittent cuts a check retried after
    a while goes through; the reader restarted or power-cycled at most). Judged on the
    record's tries, cuts and screens (harness.model.renewal_rules)."""

    #: The scenario replayed: ``fixtures/scenarios/<scenario>.yaml``.
    scenario: str = pydantic.Field(min_length=1)
    #: The reader's network error as this maker's notices give it (texts only where they
    #: print them): shown on every try during the long cut.
    error: ScreenStep
    #: What the notice allows when a reader's error does not clear (カードリーダーの再起動、
    #: 電源のオン・オフ), as the runner logs them; anything else is more than it allows.
    remedies: list[ActionName] = ["restart_reader", "power_cycle_reader"]
    #: A period's or a cut's edge counts as tried when a try came this close to it.
    edge_s: float = pydantic.Field(default=180, gt=0, le=MAX_WAIT_S)
    #: The action that tries a check, and the screen that shows one went through.
    attempt: ActionName = "card_in"
    succeeded: ScreenClass = "completion"


class ScreensAs(Field):
    """The screens of one class this flow shows are the ones another flow shows, one by one
    and in its order (AUTH-05, the support vendor's お知らせ 目視確認モード ④: 以降は通常どおりの
    同意画面にすすみ: the staff's path shows the very consent screens the card's own path
    does). Judged on the two flows' records, each driven once on the same reader."""

    screen: ScreenClass
    flow: Flow
    given: list[Given] = []


class ButtonGuard(Field):
    """A first-screen button the notices tie to the bench's state, not to a flow: judged on
    every first screen of every flow the maker's profile drives
    (:mod:`harness.model.guard_rules`)."""

    button: ReaderButton
    #: The precondition that brings it: a visual-confirmation passcode issued (and the
    #: reader restarted since its first issue: AUTH-04), or a general reader paired (and the
    #: maker's restart done: 接続設定概要 5). Without it the button must not show.
    shown_with: Literal["passcode_issued", "paired"]


class FlowCheck(Field):
    """What a flow, driven on the bench, must show on the reader and the terminal."""

    kind: Literal["flow"]
    flow: Flow
    #: Preconditions the suite sets up, in words a suite knows (e.g. upgrade_pending_reboot).
    given: list[Given] = []
    screens: list[ScreenStep] = []
    dialogs: list[DialogStep] = []
    #: Screen classes that must not appear anywhere in the flow.
    never: list[ScreenClass] = []
    #: Terminal dialogs that must not appear anywhere in the flow.
    never_dialogs: list[DialogId] = []
    #: What reaches the receipt computer: the eligibility result, or nothing.
    result: Literal["handed_over", "none"] | None = None
    #: How many results of the patient the receipt computer holds at the end, over every
    #: attempt of the run (E901-06: the failed check before the reboot hands over none).
    results: int | None = pydantic.Field(default=None, ge=0)
    #: What the notices do not say, so is not checked.
    unknown: str | None = None
    #: The screen after each PIN entry (AUTH-02).
    pin_count: PinCount | None = None
    #: What actions must not bring (a refused entry).
    responses: list[Response] = []
    #: The pairing flow (SP-04): what the maker's procedure restarts once pairing is done
    #: (the support vendor's お知らせ 接続設定概要 5: the terminal, or for some makers the management app). The
    #: driver restarts exactly that, nothing more, and the screens after it are judged.
    restart: Literal["terminal", "management_app"] | None = None
    #: The pairing flow: the app the maker's procedure pairs in and its button, as the
    #: notice prints them (Fujitsu: ログイン名管理ツール, ペアリング登録); the app the pairing was
    #: really done in must be that one.
    pairing_app: str | None = None
    pairing_button: str | None = None
    #: The pairing flow: apps the maker's procedure does not pair in (接続設定概要 2: その他の
    #: メーカーの場合は…管理アプリから, not Fujitsu's ログイン名管理ツール), where the notice names
    #: no app of the maker's own.
    not_paired_in: list[str] = []
    #: The pairing flow: whether the maker's procedure puts the real card into the face-auth
    #: reader and presses 「置いた」 in the app before the card goes on the general reader
    #: (接続設定概要 4: アルメックス社の顔認証付きカードリーダーをご利用の施設のみ). The driver does the
    #: step exactly when true; either way the app must register the pairing done so, and
    #: take 置いた where it is done.
    placed_first: bool | None = None
    #: The visual-confirmation passcode OQS issued for the flow has this many digits
    #: (AUTH-03, AUTH-05; the support vendor's お知らせ: 4桁のパスコード).
    passcode_digits: int | None = pydantic.Field(default=None, ge=1)
    #: Remedies the flow must try in this order, only while the check still fails, with a
    #: check going through at the end (ERR-11).
    escalation: Escalation | None = None
    #: Remedies the flow's check must go through without (ERR-10: the notice's 【接続手順】
    #: ends at 「希望する」; a terminal that reconnects only once restarted did not reconnect
    #: by it). Left out where the maker's own procedure asks for the remedy (Canon's 【011】
    #: asks for the PC's restart).
    without: list[ActionName] = []
    #: A network scenario replayed, judged period by period (NET-01).
    renewal: Renewal | None = None
    #: The pairing flow (SP-06): the pairing's APDU transcript on the general reader selects
    #: and reads no file the card model lists as personal (nor one it does not know).
    reads_no_personal_data: bool = False
    #: The pairing flow tried without the face-auth reader connected (SP-06's negative
    #: half): the management app refuses it.
    pairing_refused: bool = False
    #: The pairing flow (SP-07): after the maker's restart, a staff phone held on the
    #: general reader that was paired is read through PC/SC, as a phone.
    phone_read_test: bool = False
    #: The smartphone flows (SP-03): where the maker's procedure holds the patient's phone
    #: and which reader must read it: ``general_reader`` (the general reader paired with
    #: the face-auth reader, seen on its PC/SC side) or ``front`` (the face-auth reader's
    #: own front; no general reader sees it). By that reader and no other.
    phone_read_on: Literal["general_reader", "front"] | None = None
    #: This flow's screens of a class are those of another flow (the usual path's).
    screens_as: ScreensAs | None = None
    #: The first screen's button guard, judged on the records of every flow the profile
    #: drives, not only this one's (hunt G5-G7: a guard listed flow by flow leaks).
    button_guard: ButtonGuard | None = None

    @pydantic.model_validator(mode="after")
    def _fields_fit_the_flow(self) -> FlowCheck:
        # An empty list written out judges nothing the statement says: it passed a reader
        # that broke the requirement (left out, the flow's other checks are the judges).
        found = [((key,), "an empty list judges nothing: give at least one, or leave the "
                  "key out") for key in ("screens", "dialogs")
                 if key in self.model_fields_set and not getattr(self, key)]
        check_all(found)
        if self.screens_as is not None and (
                (self.screens_as.flow, self.screens_as.given) == (self.flow, self.given)):
            raise ValueError("screens_as: another flow (or other givens) than this one")
        if self.restart is not None and self.flow != "pairing":
            raise ValueError("restart: only the pairing flow ends with a restart")
        if (self.pairing_app or self.pairing_button or self.not_paired_in
                or self.reads_no_personal_data or self.placed_first is not None
                or self.pairing_refused or self.phone_read_test) and self.flow != "pairing":
            raise ValueError("pairing_app, pairing_button, not_paired_in, placed_first, "
                             "reads_no_personal_data, pairing_refused, phone_read_test: only "
                             "for the pairing flow")
        if self.button_guard is not None and self.flow != "first_screen":
            raise ValueError("button_guard: on the first_screen flow (its records are every "
                             "flow's)")
        if self.phone_read_on is not None and not self.flow.startswith("smartphone_"):
            raise ValueError("phone_read_on: only for the smartphone flows")
        return self


def _clock_time(value: str) -> str:
    """``HH:MM`` on a 24-hour clock (``25:00`` fits the pattern and no day)."""
    try:
        dt.time.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a time of day (HH:MM, 00:00 to 23:59)") from None
    return value


ClockTime = Annotated[str, pydantic.Field(pattern=r"^\d{2}:\d{2}$"),
                      pydantic.AfterValidator(_clock_time)]


class Window(Field):
    start: ClockTime
    end: ClockTime

    @pydantic.model_validator(mode="after")
    def _some_time(self) -> Window:
        if self.start == self.end:
            raise ValueError(f"start and end both {self.start}: a window of no time (end "
                             "before start is the next morning)")
        return self


def _in_years(value: dt.date) -> dt.date:
    """A date within the bench clock's years (a year 9999 overflowed as the maker's failure)."""
    if not START_YEARS[0] <= value.year <= START_YEARS[1]:
        raise ValueError(f"a year from {START_YEARS[0]} to {START_YEARS[1]}, not {value.year}")
    return value


def _after(info: pydantic.ValidationInfo, value: dt.date, earlier: str, *,
           same: bool) -> None:
    """``value`` is not before the field ``earlier`` (nor on it unless ``same``); a field
    that failed on its own is not compared."""
    bound = info.data.get(earlier)
    if bound is not None and (value < bound or (value == bound and not same)):
        raise ValueError(f"{'before' if value < bound else 'the same day as'} {earlier} "
                         f"({bound})")


class ScheduleCheck(Field):
    """When the upgrade is distributed (Japan time)."""

    kind: Literal["distribution_schedule"]
    nightly_from: dt.date
    nightly_to: dt.date
    nightly_except: list[dt.date] = []
    #: Each night's window; ``end`` before ``start`` means the next morning.
    window: Window
    all_day_from: dt.date
    manual_from: dt.datetime
    #: Devices that must be powered during the window.
    powered: list[BootDevice] = []

    # Checked as a whole: reversed nights left UPD-01 with no night to probe (a pass of
    # nothing), a naive time or a far year failed the maker with a Python exception.
    @pydantic.field_validator("nightly_from", "all_day_from")
    @classmethod
    def _years(cls, value: dt.date) -> dt.date:
        return _in_years(value)

    @pydantic.field_validator("nightly_to")
    @classmethod
    def _nights(cls, value: dt.date, info: pydantic.ValidationInfo) -> dt.date:
        _after(info, _in_years(value), "nightly_from", same=True)
        return value

    @pydantic.field_validator("nightly_except")
    @classmethod
    def _excepted(cls, value: list[dt.date], info: pydantic.ValidationInfo) -> list[dt.date]:
        first, last = info.data.get("nightly_from"), info.data.get("nightly_to")
        if first is None or last is None:
            return value
        outside = [str(d) for d in value if not first <= d <= last]
        if outside:
            raise ValueError(f"{', '.join(outside)}: not among the nights {first} to {last}")
        if len(set(value)) > (last - first).days:
            raise ValueError(f"every night from {first} to {last}: no night left to probe")
        return value

    @pydantic.field_validator("all_day_from")
    @classmethod
    def _all_day(cls, value: dt.date, info: pydantic.ValidationInfo) -> dt.date:
        _after(info, value, "nightly_to", same=False)
        return value

    @pydantic.field_validator("manual_from")
    @classmethod
    def _manual(cls, value: dt.datetime) -> dt.datetime:
        if value.tzinfo is None:
            raise ValueError("give a time zone, e.g. 2026-01-19T13:00:00+09:00")
        _in_years(value.date())
        return value


class DeliveryVersionCheck(Field):
    """The management tool's delivery list (配信実績の確認) shows this version."""

    kind: Literal["delivery_version"]
    component: str
    version: str
    meaning: str


Check = Annotated[
    WiringCheck
    | VerifiedModelCheck
    | AppNameCheck
    | HotplugCheck
    | DesignatedReadersCheck
    | FirmwareCheck
    | ManualCheck
    | BootOrderCheck
    | FlowCheck
    | ScheduleCheck
    | DeliveryVersionCheck,
    pydantic.Field(discriminator="kind"),
]


class Requirement(Field):
    id: RequirementId
    statement: str
    #: Seed file name and section the requirement comes from.
    source: str
    check: Check
    #: Further checks of the same requirement (e.g. its iPhone and Android halves).
    also: list[Check] = []

    @property
    def checks(self) -> list[Check]:
        return [self.check, *self.also]


class VerifiedModel(Field):
    maker: str
    #: The maker's other names, as the notice prints them (ソニー for Sony): a bench file
    #: may write either.
    maker_names: list[PrintedName] = []
    model: str
    #: Public USB IDs of this model; empty when not public.
    usb_ids: list[UsbIdPair] = []
    #: Name the management app shows after pairing (USB-05).
    app_name: str
    #: Non-Sony readers need their latest firmware or phones may not read.
    needs_latest_firmware: bool

    @pydantic.model_validator(mode="after")
    def _names_once(self) -> VerifiedModel:
        found: list[tuple[tuple[str | int, ...], str]] = []
        seen = {self.maker.casefold()}
        for i, name in enumerate(self.maker_names):
            if not name.strip() or name != name.strip():
                found.append((("maker_names", i), f"{name!r}: a name, without blanks "
                              "around it"))
            elif name.casefold() in seen:
                found.append((("maker_names", i), f"{name!r} is said twice for {self.maker}"))
            seen.add(name.casefold())
        if found:
            check_all(found)
        return self


def _some_requirement(value: list[Requirement]) -> list[Requirement]:
    if not value:
        raise ValueError("none listed: a profile without requirements would pass its maker "
                         "with nothing checked")
    return value


class Profile(Field):
    #: File stem: a maker key (panasonic, canon, ...) or ``general_readers``.
    key: str
    kind: Literal["face_auth_reader", "general_reader"]
    maker_name: str
    products: list[str] = []
    #: USB IDs of the maker's readers; face-auth readers' IDs are not public, so a lab fills
    #: them in here or in its bench file.
    usb_ids: list[UsbIdPair] = []
    verified_models: list[VerifiedModel] = []
    #: At least one: a profile with none certified its maker with nothing checked.
    requirements: Annotated[list[Requirement], pydantic.AfterValidator(_some_requirement)]

    @pydantic.model_validator(mode="after")
    def _one_maker_per_name(self) -> Profile:
        """A name is one maker's: a name two makers went by would judge one's reader as the
        other's (the first model to claim it won)."""
        owner: dict[str, tuple[str, int]] = {}
        found: list[tuple[tuple[str | int, ...], str]] = []
        # The makers' own names first: an alias is what collides with one.
        named = [(i, ("maker",), m.maker) for i, m in enumerate(self.verified_models)] + [
            (i, ("maker_names", j), name) for i, m in enumerate(self.verified_models)
            for j, name in enumerate(m.maker_names)]
        for i, at, name in named:
            maker = self.verified_models[i].maker
            first = owner.setdefault(name.casefold(), (maker, i))
            if first[0].casefold() != maker.casefold():
                found.append((("verified_models", i, *at), f"{name!r} is already the name of "
                              f"another maker, {first[0]} (verified_models[{first[1]}])"))
        if found:
            check_all(found)
        return self

    def requirement(self, req_id: str) -> Requirement | None:
        return next((r for r in self.requirements if r.id == req_id), None)

    def maker_key(self, name: str | None) -> str:
        """A general reader's maker as one key whatever name it goes by (Sony, SONY, ソニー);
        a maker no verified model has, as written (in any case)."""
        key = (name or "").casefold()
        return next((m.maker.casefold() for m in self.verified_models
                     if key in (n.casefold() for n in (m.maker, *m.maker_names))), key)

    def verified(self, maker: str | None, model: str | None) -> VerifiedModel | None:
        """The verified model of that maker (by any of its names) and model number
        (character for character: "RC-S300" is another product than "RC-S300/S1")."""
        key = self.maker_key(maker)
        return next((m for m in self.verified_models
                     if m.maker.casefold() == key and m.model == model), None)

    def id_disagrees(self, verified: VerifiedModel, vid: int | None, pid: int | None
                     ) -> str | None:
        """Why a device's USB ID says it is not ``verified`` (None: it does not): not that
        model's public ID, or, where the model's ID is not public, another verified model's
        ID or a vendor ID only another maker's verified models have (Sony's 054C on an
        I-O DATA label)."""
        if vid is None or pid is None:
            return None
        shown = f"{fmt_id(vid)}:{fmt_id(pid)}"
        if verified.usb_ids:
            if any(i.matches(vid, pid) for i in verified.usb_ids):
                return None
            ids = ", ".join(str(i) for i in verified.usb_ids)
            return f"its USB ID {shown} is not that model's ({ids})"
        others = [m for m in self.verified_models if m is not verified]
        owners = [m for m in others if any(i.matches(vid, pid) for i in m.usb_ids)]
        if owners:
            names = ", ".join(f"{m.maker} {m.model}" for m in owners)
            return f"its USB ID {shown} is {names}'s"
        vendors = {m.maker.casefold() for m in self.verified_models
                   if any(i.vid == vid for i in m.usb_ids)}
        if vendors and verified.maker.casefold() not in vendors and len(vendors) == 1:
            maker = next(m.maker for m in others if m.maker.casefold() in vendors)
            return f"its USB vendor ID {fmt_id(vid)} is {maker}'s"
        return None

    def flow_checks(self, flow: str, given: tuple[str, ...]) -> list[FlowCheck]:
        """The flow checks judged on one run of ``flow`` with these givens (givens a
        restored bench already holds aside: :func:`run_key`)."""
        key = run_key(given)
        return [c for r in self.requirements for c in r.checks
                if isinstance(c, FlowCheck) and c.flow == flow and run_key(c.given) == key]

    def pairing_restart(self) -> Literal["terminal", "management_app"] | None:
        """What this maker's pairing procedure restarts at its end (None: not said)."""
        return next((c.restart for r in self.requirements for c in r.checks
                     if isinstance(c, FlowCheck) and c.flow == "pairing"
                     and c.restart is not None), None)

    def pairing_placed_first(self) -> bool:
        """Whether this maker's pairing procedure puts the card into the face-auth reader
        and presses 置いた first (SP-04; USEN-ALMEX)."""
        return any(c.placed_first for r in self.requirements for c in r.checks
                   if isinstance(c, FlowCheck) and c.flow == "pairing")

    def phone_read_on(self) -> Literal["general_reader", "front"] | None:
        """Where this maker's procedure holds the patient's phone (None: not said)."""
        return next((c.phone_read_on for r in self.requirements for c in r.checks
                     if isinstance(c, FlowCheck) and c.phone_read_on is not None), None)

    def boot_order(self) -> tuple[str, BootOrderCheck] | None:
        """The maker's power-on order and the requirement it comes from (None: the notices
        give this maker none)."""
        return next(((r.id, c) for r in self.requirements for c in r.checks
                     if isinstance(c, BootOrderCheck)), None)

    def expected_texts(self, flow: str, given: tuple[str, ...]) -> ExpectedTexts:
        """Every text those checks judge, per screen class and per dialog (to be read off
        each screen when it comes, in the order the checks give them)."""
        shown: dict[str, list[str]] = {}
        absent: dict[str, list[str]] = {}
        dialogs: dict[str, list[str]] = {}

        def add(table: dict[str, list[str]], key: str, texts: list[str]) -> None:
            wanted = table.setdefault(key, [])
            wanted += [t for t in texts if t not in wanted]

        for check in self.flow_checks(flow, given):
            for step in check.screens:
                add(shown, step.screen, [*step.texts, *step.contains, *step.contains_any])
                add(absent, step.screen, step.absent)
                if (step.no_done_claim or step.no_limit_ask) and not step.absent:
                    # The claim is judged on the lines read off the screen: a text that
                    # must be absent has it read (the rule's own words, as a backstop).
                    add(absent, step.screen, list(CLAIM_READ))
            for dstep in check.dialogs:
                add(dialogs, dstep.dialog, dstep.texts)
            if check.renewal is not None:
                error = check.renewal.error
                add(shown, error.screen, [*error.texts, *error.contains, *error.contains_any])
        return ExpectedTexts(_tuples(shown), _tuples(absent), _tuples(dialogs))


def _tuples(table: dict[str, list[str]]) -> dict[str, tuple[str, ...]]:
    return {k: tuple(v) for k, v in table.items() if v}


def _every(table: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    every: list[str] = []
    for texts in table.values():
        every += [t for t in texts if t not in every]
    return tuple(every)


@attrs.frozen
class ExpectedTexts:
    """The texts a flow's checks judge: per reader screen class, the texts that must show and
    those that must not; per terminal dialog, the texts that must show."""

    shown: dict[str, tuple[str, ...]] = attrs.Factory(dict)
    absent: dict[str, tuple[str, ...]] = attrs.Factory(dict)
    dialogs: dict[str, tuple[str, ...]] = attrs.Factory(dict)

    def for_screen(self, shows: str | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(must show, must not show) on a reader screen of class ``shows``; on a screen the
        camera did not recognise (None), every class's: its texts may say what it is."""
        if shows is not None:
            return self.shown.get(shows, ()), self.absent.get(shows, ())
        return _every(self.shown), _every(self.absent)

    def for_dialog(self, dialog: str | None) -> tuple[str, ...]:
        if dialog is not None:
            return self.dialogs.get(dialog, ())
        return _every(self.dialogs)


def _file_problems(path: Path, profile: Profile) -> list[BadInput]:
    """A profile's problems its model cannot see: IDs listed twice, a key not its file's."""
    found: list[BadInput] = []
    lines = read_yaml(path)[1]
    seen: set[str] = set()
    for i, req in enumerate(profile.requirements):
        if req.id in seen:
            found.append(BadInput(str(path), line_of(lines, ("requirements", i, "id")),
                                  f"requirements[{i}].id", f"{req.id} is listed twice"))
        seen.add(req.id)
    if profile.key != path.stem:
        found.append(BadInput(str(path), line_of(lines, ("key",)), "key",
                              f"is {profile.key!r}, the file is {path.stem}"))
    return found + _scenario_problems(path, profile, lines)


def _scenario_problems(path: Path, profile: Profile, lines: dict[tuple[object, ...], int]
                       ) -> list[BadInput]:
    """Each scenario a renewal check replays exists and is valid: found before the run, not
    as the requirement failing mid-run."""
    from harness.loading import field_name
    from harness.model.scenario import load_scenario

    found: list[BadInput] = []
    for i, req in enumerate(profile.requirements):
        for j, check in enumerate(req.checks):
            renewal = getattr(check, "renewal", None)
            if renewal is None:
                continue
            at = ("requirements", i, *(("check",) if j == 0 else ("also", j - 1)),
                  "renewal", "scenario")
            try:
                load_scenario(renewal.scenario)
            except BadInput as exc:
                # A missing file is this profile's mistake; a broken one, the scenario's.
                found += [BadInput(str(path), line_of(lines, at), field_name(at), p.problem)
                          if not Path(p.path).is_file() else p for p in exc.problems]
    return found


#: Profiles folders loaded, by their files' paths and contents (:meth:`ProfileSet.load`).
_LOADED: dict[tuple[Stamp, ...], dict[str, Profile]] = {}


def _stamps(files: list[Path]) -> tuple[Stamp, ...] | None:
    try:
        return tuple(file_stamp(f) for f in files)
    except OSError:
        return None


#: Givens a restored bench already holds (no visual-confirmation passcode issued, no
#: general reader paired): they name the world a check needs and set nothing up, so a run
#: of a flow with them or without is the same run, one record judged by both.
RESTORED = frozenset({"no_passcode_issued", "not_paired"})


def run_key(given: Iterable[str]) -> tuple[str, ...]:
    """The givens that make a flow's run differ: the record a check is judged on."""
    return tuple(g for g in given if g not in RESTORED)


class ProfileSet:
    """All profiles of a folder, by key."""

    def __init__(self, profiles: dict[str, Profile], folder: Path | None = None) -> None:
        self.profiles = profiles
        #: Where they were read from (messages name it).
        self.folder = folder

    @classmethod
    def load(cls, folder: Path) -> ProfileSet:
        if folder.exists() and not folder.is_dir():
            raise BadInput(str(folder), None, "", "a file, not a folder of vendor profiles")
        files = sorted(folder.glob("*.yaml"))
        if not files:
            raise BadInput(str(folder), None, "", "no vendor profiles (*.yaml) in this folder")
        # A run loads the folder a dozen times (the suites' cases, fixtures, the report):
        # validated once per content of its files (the profiles are frozen and shared).
        key = _stamps(files)
        if key is not None and key in _LOADED:
            return cls(dict(_LOADED[key]), folder)
        loaded = cls._load(files)
        loaded.folder = folder
        if key is not None and key == _stamps(files):  # not changed while it was read
            if len(_LOADED) >= 16:  # tests load many made-up folders
                _LOADED.clear()
            _LOADED[key] = dict(loaded.profiles)
        return loaded

    @classmethod
    def _load(cls, files: list[Path]) -> ProfileSet:
        profiles: dict[str, Profile] = {}
        # Every file's problems at once, not the first file's first.
        problems: list[BadInput] = []
        for path in files:
            try:
                profile = load_yaml_model(path, Profile)
            except BadInput as exc:
                problems.append(exc)
                continue
            problems += _file_problems(path, profile)
            profiles[profile.key] = profile
        if problems:
            raise BadInput.of(problems)
        return cls(profiles)

    def face_auth_makers(self) -> list[str]:
        return [k for k, p in self.profiles.items() if p.kind == "face_auth_reader"]

    def general(self) -> Profile:
        for profile in self.profiles.values():
            if profile.kind == "general_reader":
                return profile
        raise BadInput(str(self.folder or "vendor_profiles"), None, "",
                       "no general-reader profile (a file with kind: general_reader, as the "
                       "shipped general_readers.yaml): the rig's rules for the general "
                       "readers and the wiring need it")

    def __getitem__(self, key: str) -> Profile:
        return self.profiles[key]

    def __contains__(self, key: str) -> bool:
        return key in self.profiles


def default_profiles_dir() -> Path:
    """The lab's profiles (onshi-rig.toml), else the shipped ones."""
    from harness.config import lab_config
    from harness.paths import project_file

    return lab_config().profiles or project_file("vendor_profiles")
