"""Behaviour of the face-auth reader twins and the terminal twin, as data.

A maker's behaviour file (``fixtures/devices/face_auth/<maker>.yaml``) names a ``base`` file
holding the flow all readers share and overrides what its maker does differently: screens,
texts, transitions, start-up. A bench file can add ``deviations`` (dotted path -> new value)
on top, standing for faulty firmware. The engine (:mod:`harness.emulation.reader_twin`)
knows events, guards and effects; it never knows a maker.

These files are written from the notices. They are never loaded from ``vendor_profiles/``
(DESIGN.md principle 2).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import pydantic

from harness.emulation.screen_look import ScreenLook
from harness.errors import BadInput
from harness.loading import Field, check_all, layered_stamp, read_layered_yaml, validate_data
from harness.model.bench_spec import Deviation
from harness.model.lamps import LampColour
from harness.model.screens import DialogId, Overlay, ScreenClass

M = TypeVar("M", bound=pydantic.BaseModel)

#: What a reader reacts to. Patient, staff and phone actions come from the bench's hands;
#: the rest from the engine, the terminal and the network.
Event = Literal[
    # patient
    "card_in", "card_out", "face_match", "face_no_match", "face_timeout", "pin_ok",
    "pin_wrong", "consent_answer", "smartphone_button", "choose_iphone", "choose_android",
    "phone_pin_ok", "phone_pin_wrong", "phone_held_general", "phone_held_front",
    # staff
    "staff_button", "passcode_ok", "passcode_wrong", "staff_confirms", "cancel",
    # terminal and network
    "linked", "check_ok", "check_failed", "check_network_error", "first_error_ok",
    "error_901", "network_lost", "network_restored", "account_rejected", "retry",
]

#: Conditions a transition may require; the engine evaluates them.
Guard = Literal[
    "staff_button",  # the reader knows an issued passcode
    "smartphone",  # smartphone use is set up (paired, or needs no pairing)
    "card_pin_locked",
    "software_outdated",
    "network_up",
    "network_down",
    "card_present",
]

#: What a transition does besides changing state.
Effect = Literal[
    "request_check",  # hand the check to the terminal
]


class Button(Field):
    name: str
    label: str
    #: Posted when the button is pressed.
    event: Event
    #: Shown only while this guard holds.
    when: Guard | None = None


#: A state's timer, at least a camera frame's time (a microsecond, a unit mistaken, had
#: the virtual clock step through a million events a bench second: certify never ended)
#: and at most a day.
MIN_TIMER_S, MAX_TIMER_S = 0.05, 86_400.0


class After(Field):
    """Post ``event`` when the state has lasted ``seconds``."""

    seconds: float = pydantic.Field(ge=MIN_TIMER_S, le=MAX_TIMER_S)
    event: Event


class State(Field):
    """A named state of the reader and the screen it shows."""

    shows: ScreenClass
    texts: list[str] = []
    overlay: Overlay | None = None
    #: Drawn as this other state's screen (plus ``overlay``), e.g. the last consent screen.
    like: str | None = None
    buttons: list[Button] = []
    after: After | None = None


class Transition(Field):
    model_config = pydantic.ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    to: str
    if_: Guard | None = pydantic.Field(default=None, alias="if")
    #: Require the guard NOT to hold.
    unless: Guard | None = None
    do: list[Effect] = []


def _as_list(value: Any) -> Any:
    if isinstance(value, str):
        return [{"to": value}]
    if isinstance(value, dict):
        return [value]
    return value


#: Written as a state's name, one transition or a list of them (the JSON Schema says all three).
Transitions = Annotated[list[Transition], pydantic.BeforeValidator(
    _as_list, json_schema_input_type=str | Transition | list[Transition])]


class Start(Field):
    #: Seconds from power (or, with ``with_terminal``, from the terminal's start) to started.
    seconds: float = pydantic.Field(ge=0)
    #: ``on_power``: starts when powered. ``with_terminal``: powered, it waits dark for the
    #: terminal to start and starts with it (and stops with it). ``power_button``: no
    #: auto-start; powered, it waits dark for its own power button.
    auto: Literal["on_power", "with_terminal", "power_button"] = "on_power"


class Link(Field):
    """When the terminal's application can talk to the reader over USB."""

    #: Only over a USB 3 (SuperSpeed) connection.
    needs_superspeed: bool = False
    #: Not through a USB hub.
    fails_through_hub: bool = True
    #: If the terminal starts before the reader has started, the reader is missed until
    #: the terminal starts again.
    missed_if_terminal_first: bool = False


class Led(Field):
    name: str
    #: One of the colours a bench camera names (harness.model.lamps.LampColour).
    color: LampColour
    lit_when: Literal["powered", "started"]


class StaffButton(Field):
    #: ``at_start``: the reader learns of an issued passcode when it starts (so not right
    #: after the first issue); ``live``: at once.
    learns_passcode: Literal["at_start", "live"] = "at_start"
    #: The digits its passcode screen takes (AUTH-05: 4); a passcode of another length is
    #: refused like a wrong one.
    passcode_digits: int = pydantic.Field(default=4, ge=1)


class PinLock(Field):
    """When the reader shows a card's PIN as locked (AUTH-02, the support vendor's お知らせ: 暗証番号を3回連続で
    間違えてロックがかかった). The chip counts; the reader's firmware decides from its count."""

    #: Wrong entries that bring the lock screen.
    after_wrong: int = pydantic.Field(default=3, ge=1)
    #: A right entry starts the count again (連続: in a row).
    right_resets: bool = True


class Smartphone(Field):
    #: Whether a paired general reader is needed for the smartphone button.
    needs_pairing: bool = True
    #: Which general readers' phones the terminal's app hands to this reader, read through
    #: the terminal's PC/SC (the support vendor's お知らせ ③: the general reader beside it, the one paired):
    #: ``paired``; deviations: ``any_general`` (any general reader of the terminal),
    #: ``other_general`` (any but the paired one). A reader that needs pairing takes none
    #: before its pairing is in effect. Phones held on its front: its ``phone_held_front``
    #: transition.
    phones_from: Literal["paired", "any_general", "other_general"] = "paired"
    #: Whether the Android PIN typed on the reader is the phone certificate's (the support
    #: vendor's お知らせ ②: ※スマートフォンのロックを解除する際の暗証番号ではありません). A reader
    #: that does not check it (a deviation) takes any four digits as the phone's.
    checks_phone_pin: bool = True


#: SELECT the JPKI AP; SELECT its token EF (0006); READ BINARY 32 bytes of it: the token
#: (JPKIAPICCTOKEN2) says a My Number card, and is the same on every card.
PAIRING_CARD_READS = ("00A4040C0AD392F000260100000001", "00A4020C020006", "00B0000020")


class Pairing(Field):
    """The maker's management app on the terminal, as used for pairing (SP-04)."""

    app: str
    #: Button that starts pairing.
    button: str = "ペアリング"
    #: The card must first go into the face-auth reader and 置いた be pressed.
    card_into_face_reader_first: bool = False
    #: What must restart before the smartphone button shows.
    then_restart: Literal["terminal", "management_app"] = "terminal"
    #: The commands the app sends to the real card placed on the general reader (the support vendor's お知らせ
    #: 接続設定概要 4; ※個人の情報は読み取りません。設定のために必要となります): what tells a My
    #: Number card, no personal file. Hex command APDUs, in order.
    card_reads: list[str] = list(PAIRING_CARD_READS)
    #: The app pairs only with the face-auth reader connected and able to accept a card
    #: (顔認証付きカードリーダーが資格確認端末(PC)に接続され、…受付可能な状態で設定等を行って
    #: ください); otherwise it refuses and says so.
    needs_face_reader: bool = True
    #: Once registered, the general reader still reads phones (the point of pairing it).
    phones_read_after: bool = True

    @pydantic.field_validator("card_reads")
    @classmethod
    def _hex_commands(cls, value: list[str]) -> list[str]:
        for command in value:
            try:
                raw = bytes.fromhex(command)
            except ValueError:
                raise ValueError(f"{command!r} is not a hex command APDU") from None
            if len(raw) < 4:
                raise ValueError(f"{command!r} is shorter than a command's 4-byte header")
        return value


class ReaderBehaviour(Field):
    start: Start
    link: Link = Link()
    leds: list[Led] = []
    staff_button: StaffButton = StaffButton()
    pin_lock: PinLock = PinLock()
    smartphone: Smartphone = Smartphone()
    pairing: Pairing | None = None
    #: The reader's software starts out older than the distributed one.
    software_outdated: bool = False
    states: dict[str, State]
    #: state -> event -> transition(s), first whose guard holds wins. State ``"*"``: from
    #: any state (tried after the state's own).
    transitions: dict[str, dict[Event, Transitions]]

    @pydantic.model_validator(mode="after")
    def _consistent(self) -> ReaderBehaviour:
        found: list[tuple[tuple[Any, ...], str]] = []
        for needed in ("off", "standby", "starting", "link_wait", "first"):
            if needed not in self.states:
                found.append((("states",), f"the engine needs a state named {needed!r}"))
        for name, state in self.states.items():
            if state.like is not None and state.like not in self.states:
                found.append((("states", name, "like"), f"no state {state.like!r}"))
        for source, table in self.transitions.items():
            if source != "*" and source not in self.states:
                found.append((("transitions", source), "no such state"))
            for event, options in table.items():
                for k, option in enumerate(options):
                    if option.to not in self.states:
                        found.append((("transitions", source, event, k, "to"),
                                      f"no state {option.to!r}"))
        check_all(found)
        return self


# -- the terminal -------------------------------------------------------------------------


class Distribution(Field):
    """When the upgrade is distributed, as this terminal's update client sees it (JST)."""

    nightly_from: dt.date
    nightly_to: dt.date
    nightly_except: list[dt.date] = []
    nightly_start: dt.time
    nightly_end: dt.time
    all_day_from: dt.date
    manual_from: dt.datetime
    #: How often the client asks for deliveries while running.
    poll_seconds: float = pydantic.Field(default=600, gt=0)
    download_seconds: float = pydantic.Field(default=1800, ge=0)
    #: A face-auth reader must be powered and linked for the delivery to run.
    needs_reader: bool = True


class Versions(Field):
    application: str
    face_auth_library: str
    #: The face-auth library the upgrade brings.
    face_auth_library_upgrade: str


class Dialog(Field):
    title: str | None = None
    texts: list[str] = []
    buttons: list[str]
    #: Closing it opens this dialog ...
    then_dialog: DialogId | None = None
    #: ... and/or sends this event to the reader whose check raised it.
    then_reader: Event | None = None


#: What the management tool's 今すぐダウンロード fetches (UPD-05).
DownloadTarget = Literal["face_auth_library", "distribution_app"]


class UpgradeApplying(Field):
    """How an installed upgrade takes effect (UPD-02, UPD-06; notice 7福薬業発第367号 記 2, the support vendor's お知らせ:
    必要な再起動は1回のみです)."""

    #: ``restart``: at a start of the terminal after the install; ``install``: at once
    #: when installed, no restart needed.
    applies_at: Literal["restart", "install"] = "restart"
    #: With ``restart``: how many starts after the install it takes (the notice: one).
    restarts: int = pydantic.Field(default=1, ge=1)
    #: A start of the terminal fetches upgrade data that was never downloaded, and applies
    #: it (UPD-08; the support vendor's お知らせ: it does not, the data is downloaded separately: 別途ダウンロード).
    restart_fetches_missing_data: bool = False
    #: With ``restart``: the upgrade takes effect by itself after this many failed checks
    #: (None: never; the notice's terminal fails every check until the restart: a
    #: deviation sets a number).
    failed_checks: int | None = pydantic.Field(default=None, ge=1)


class NetworkBehaviour(Field):
    #: Intermittent outages: down this long, then up this long, repeating.
    intermittent_down_seconds: float = pydantic.Field(default=120, gt=0)
    intermittent_up_seconds: float = pydantic.Field(default=180, gt=0)
    #: The line-authentication page (https://www.lineauth.mnw).
    line_auth_connected_text: str = "回線認証接続済み"
    line_auth_buttons: list[str] = ["希望する", "希望しない"]
    #: The page's button that reconnects (ERR-10, the support vendor's お知らせ ④: 「希望する」ボタンを押下).
    line_auth_reconnects: str = "希望する"
    #: ERR-11 (the support vendor's お知らせ ②): the kinds of network fault a bench can set (the ``stuck``
    #: given) and what clears each: a start of the PC (再起動 or 電源オンオフ) clears the
    #: ``pc_clears`` kinds, a restart of the router the ``router_clears`` kinds.
    pc_clears: list[str] = ["pc_stuck"]
    router_clears: list[str] = ["router_stuck"]
    #: How long the router takes to come back after its restart.
    router_restart_seconds: float = pydantic.Field(default=60, gt=0)
    #: Deviations from notice 6福薬業発第421号 (NET-01: after a cut the line comes back and checks go
    #: through, at most after a reader restart or power-cycle): a down span at least this
    #: long, or the n-th down span, leaves the connection stuck with the first of
    #: ``pc_clears`` (only the PC's start clears it). None: never.
    stuck_after_down_s: float | None = pydantic.Field(default=None, gt=0)
    stuck_after_downs: int | None = pydantic.Field(default=None, ge=1)
    #: Deviation (notice 6福薬業発第421号: during a cut no check can be made): while it holds a result
    #: younger than this, the terminal hides a cut from its readers and completes the check
    #: of a patient it holds a result of from that cache. 0: never.
    offline_results_s: float = pydantic.Field(default=0, ge=0)


class TerminalBehaviour(Field):
    name: str
    boot_seconds: float = pydantic.Field(ge=0)
    shutdown_seconds: float = pydantic.Field(default=10, ge=0)
    #: From the reader's last consent answer to the result.
    check_seconds: float = pydantic.Field(default=2, ge=0)
    #: Deviation (E901-01: the error dialog 「患者の同意選択が終了したタイミング」): a check that
    #: fails on the unrebooted upgrade is reported (the dialog, the reader told) this much
    #: later than a check's result. 0: at once.
    upgrade_error_extra_seconds: float = pydantic.Field(default=0, ge=0)
    versions: Versions
    distribution: Distribution
    upgrade: UpgradeApplying = UpgradeApplying()
    #: The management tool's manual downloads that end with the ``update_ready`` dialog
    #: (UPD-05: not the distribution application's own).
    ready_dialog_for: list[DownloadTarget] = ["face_auth_library"]
    #: A check that failed (the network, an unrebooted upgrade) still hands the patient's
    #: result to the receipt computer; False: only completed checks do.
    result_on_failed_check: bool = False
    #: What the clinic's daily scheduled restart does (UPD-07; notice 7福薬業発第367号 記 2:
    #: 日々の診療等の開始前に自動で再起動): ``restart``, the terminal restarts as a staff member's
    #: restart would (it applies an installed upgrade); ``app``: only the eligibility
    #: application restarts, which applies nothing.
    scheduled_restart: Literal["restart", "app"] = "restart"
    #: Digits of the visual-confirmation passcodes OQS issues (AUTH-03: 4).
    passcode_digits: int = pydantic.Field(default=4, ge=1, le=12)
    dialogs: dict[DialogId, Dialog]
    #: Monitor-less, used over remote desktop: a general reader plugged in after start-up is
    #: not recognised (USB-06) until the terminal starts again.
    remote_desktop_misses_new_usb: bool = True
    #: The same with a monitor (USB-06 allows it only without one).
    with_monitor_misses_new_usb: bool = False
    network: NetworkBehaviour = NetworkBehaviour()
    #: The terminal's monitor (see harness.emulation.screen_look).
    display: ScreenLook | None = None


# -- loading ------------------------------------------------------------------------------


def apply_deviation(data: dict[str, Any], deviation: Deviation) -> None:
    parts = deviation.change.split(".")
    node: Any = data
    for i, part in enumerate(parts[:-1]):
        if not isinstance(node, dict):
            raise KeyError(".".join(parts[: i + 1]))
        # A section the file leaves at its defaults is created; a misspelt name still fails
        # validation as an unknown field.
        node = node.setdefault(part, {})
    if not isinstance(node, dict):
        raise KeyError(deviation.change)
    if deviation.to is None:
        if parts[-1] not in node:
            raise KeyError(deviation.change)
        del node[parts[-1]]
    else:
        node[parts[-1]] = copy.deepcopy(deviation.to)


#: Models loaded, by what they were made from (:func:`_made_of`): a bench restored to a
#: fresh morning builds its twins again from the same files, a thousand times in a
#: certification. The models are frozen: one is shared by the twins built from it.
_LOADED: dict[tuple[object, ...], Any] = {}


def _made_of(path: Path, model: type, deviations: Sequence[Deviation]
             ) -> tuple[object, ...] | None:
    # Not whom a problem blames: a file that loads is the same model whichever bench asked
    # (each test's bench file is its own, and missed every reader's twin), and a problem
    # is never kept, so each asker is blamed by name.
    stamp = layered_stamp(path)
    if stamp is None:
        return None
    changes = json.dumps([d.model_dump(mode="json") for d in deviations], sort_keys=True)
    return model, stamp, changes


def load_with_deviations(
    path: Path, model: type[M], deviations: Sequence[Deviation] = (), blame: str | None = None
) -> M:
    """A behaviour file (with its ``base``), then the bench's deviations on top.

    A mistake in the file names the file; a deviation that breaks it names ``blame`` (the
    bench file entry that asked for it).
    """
    key = _made_of(path, model, deviations)
    if key is not None and key in _LOADED:
        return _LOADED[key]
    loaded = _load_with_deviations(path, model, deviations, blame)
    if key is not None:
        if len(_LOADED) >= 256:  # tests load many made-up files
            _LOADED.clear()
        _LOADED[key] = loaded
    return loaded


def _load_with_deviations(path: Path, model: type[M], deviations: Sequence[Deviation],
                          blame: str | None) -> M:
    data, lines = read_layered_yaml(path)
    spec = validate_data(model, data, str(path), lines)
    if not deviations:
        return spec
    where = blame or str(path)
    # Every deviation that does not fit, then every problem of the deviated file: all at once.
    missing: list[BadInput] = []
    for i, deviation in enumerate(deviations):
        try:
            apply_deviation(data, deviation)
        except KeyError as exc:
            missing.append(BadInput(
                where, None, f"deviations[{i}].change", f"{exc.args[0]} is not in {path.name}"))
    if missing:
        raise BadInput.of(missing)
    try:
        return validate_data(model, data, where)
    except BadInput as exc:
        raise BadInput.of([
            BadInput(where, None, _deviation_of(p.field, deviations),
                     f"{p.field}: {p.problem} ({path.name} as deviated)" if p.field
                     else f"{p.problem} ({path.name} as deviated)")
            for p in exc.problems]) from None


def _deviation_of(field: str, deviations: Sequence[Deviation]) -> str:
    """``deviations[i]``, the last deviation that changed ``field`` (or a key above or below
    it), for the bench file's line of that entry; ``deviations`` when none did (a
    cross-check of the deviated file as a whole)."""
    for i in range(len(deviations) - 1, -1, -1):
        change = deviations[i].change
        if field and (field == change or field.startswith((f"{change}.", f"{change}["))
                      or change.startswith(f"{field}.")):
            return f"deviations[{i}]"
    return "deviations"
