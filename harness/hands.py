"""The bench's hands: what a person does at the bench, behind one protocol.

Suites act through :class:`Hands` and never import ``harness.emulation`` (DESIGN.md
principle 1). On an emulated bench the twins are acted on (``harness.emulation.hands``); on a
real bench :class:`ManualHands` asks the operator on the controlling terminal, as labgrid's
ManualPowerDriver does, or a scripted operator (harness.operator), and waits (bounded) for them
to say it is done. What the bench did is then seen by the rig's own
eyes (cameras) and ears (the timeline), never taken from the hands.

A few things a person reads off a device the rig has no eyes on (the management tool's
delivery list, the receipt computer's received results, the passcode OQS issues) are asked
of the hands too: on a real bench the operator types what the screen says.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

import attrs

from harness.devices.usb_power import UsbPortPower
from harness.errors import DeviceTimeout, RigError
from harness.model.bench_spec import ROUTER
from harness.model.clock import Clock
from harness.model.robot_spec import DEFAULT_BUTTONS
from harness.model.timeline import Timeline
from harness.operator import (
    DO_PROMPT,
    DONE_WORDS,
    MASK,
    MAX_UNCLEAR,
    REFUSE_HINT,
    SECRET,
    Answer,
    CallableOperator,
    Operator,
    OperatorRefused,
    OperatorSilent,
    ScriptedOperator,
    Step,
    TtyOperator,
    reading,
)
from harness.power_cycle import PowerCycle

if TYPE_CHECKING:
    from harness.bench import Bench

#: Where the terminal's disk image stands: from before the January 2026 upgrade, or after;
#: or with the upgrade installed but its data never downloaded (UPD-08).
Image = Literal["before_upgrade", "after_upgrade", "upgrade_without_data"]
Outage = Literal["long", "intermittent"]


@attrs.frozen
class Patient:
    """A test patient. ``label`` names them in records; the PIN never reaches one."""

    label: str
    pin: str = attrs.field(repr=False)


@attrs.frozen
class PinEntry:
    """Why a PIN is typed, as the driver means it (never read off the digits): the card's
    own PIN, or a wrong one on purpose; for a wrong one, when the driver knows, how many
    wrong in a row lock the card's PIN and which of them this is. A person at the bench
    reads it: they cannot tell a step meant to be wrong, nor one that locks the lab's test
    card, from the digits alone."""

    wrong: bool = False
    #: The flow's lock (AUTH-02's pin_count): wrong PINs in a row that lock the card's PIN.
    locks_after: int | None = None
    #: This entry's place among the wrong PINs in a row (1 for the first).
    in_a_row: int | None = None

    def what(self) -> str:
        """What to type, in words, for a prompt (the digits go in as ``{secret}``)."""
        return "a deliberately WRONG PIN" if self.wrong else "the card's own PIN"

    def why(self) -> str:
        """For a wrong PIN, what it does to the card ('' for the card's own)."""
        if not self.wrong:
            return ""
        n, k = self.locks_after, self.in_a_row
        if n is None:
            return " (on purpose; a wrong PIN counts against the card's tries)"
        if k is None:
            return f" (on purpose; the card's PIN locks after {n} wrong in a row)"
        if k >= n:
            return f" (on purpose: wrong entry {k} of {n} in a row; this one locks the card's PIN)"
        return (f" (on purpose: wrong entry {k} of {n} in a row; the card's PIN locks after "
                f"{n} wrong in a row)")


#: The card's own PIN.
OWN_PIN = PinEntry()


@attrs.frozen
class Phone:
    """A smartphone with the My Number card function (SP)."""

    label: str
    kind: Literal["iphone", "android"]
    #: Android: the phone certificate's 4-digit PIN (not the unlock code).
    pin: str = attrs.field(default="", repr=False)


class Hands(Protocol):
    # -- the patient ------------------------------------------------------------------
    def card_in(self, reader: str, patient: Patient) -> None:
        """The patient places their My Number card on the face-auth reader."""

    def card_out(self, reader: str) -> None:
        """The card is taken out."""

    def face(self, reader: str, *, matches: bool) -> None:
        """The patient faces the camera (their own face, or not)."""

    def pin(self, reader: str, pin: str, *, entry: PinEntry) -> None:
        """A PIN is typed on the reader's keypad: the card's own, or a wrong one on purpose
        (``entry``, the driver's intent)."""

    def consent(self, reader: str) -> None:
        """The patient answers the consent screen shown."""

    def press(self, reader: str, button: str) -> None:
        """A button on the reader's screen, by name (staff, smartphone, iphone, android,
        cancel) or by its label."""

    def phone_pin(self, reader: str, phone: Phone, pin: str) -> None:
        """The Android phone certificate's PIN, typed on the face-auth reader."""

    def hold_phone(self, reader: str, phone: Phone, *,
                   where: Literal["general_reader", "front"], general: str | None = None,
                   held: bool = True) -> None:
        """The phone is held (and kept) over the general reader ``general`` beside
        ``reader`` (the bench's reader entry), or over ``reader``'s front; with ``held``
        false, taken away from there."""

    # -- staff --------------------------------------------------------------------------
    def issue_passcode(self) -> str:
        """目視確認用パスコード発行 in OQS: the new 4-digit passcode."""

    def passcode(self, reader: str, code: str) -> None:
        """Staff type the visual-confirmation passcode on the reader."""

    def staff_confirm(self, reader: str) -> None:
        """Staff have compared the card photo with the patient and confirm."""

    def restart_reader(self, reader: str) -> None:
        """The face-auth reader is restarted (a reader that starts with the terminal is
        restarted with it)."""

    def press_power_button(self, reader: str) -> None:
        """The reader's own power button."""

    def usb_cable(self, reader: str, *, plugged: bool) -> None:
        """The reader's USB cable is pulled out of, or put back into, the terminal."""

    # -- the terminal and its tools --------------------------------------------------------
    def terminal_press(self, button: str) -> None:
        """A button of the dialog on the eligibility terminal's monitor (OK, 確認しました)."""

    def reboot_terminal(self) -> None:
        """The eligibility terminal is restarted."""

    def restart_pc(self) -> None:
        """ERR-11's first remedy (the support vendor's お知らせ ②: PCの電源オンオフや再起動): the terminal
        restarted, or power-cycled where the bench switches its mains."""

    def download_now(self) -> None:
        """Management tool: 今すぐダウンロード (whatever update is on offer)."""

    def schedule_restart(self, at: dt.time | None) -> None:
        """The terminal is set to restart by itself every day at ``at`` (Japan time), or
        not at all (None)."""

    def offer_update(self, target: str) -> None:
        """The distribution side offers this update: ``face_auth_library`` (the January 2026
        upgrade) or ``distribution_app`` (the distribution application itself, UPD-05)."""

    def distribution_disabled(self, disabled: bool) -> None:
        """Management tool: 設定変更 → 配信機能を無効化する ticked or not."""

    def delivery_list(self) -> dict[str, str]:
        """Management tool: 配信実績の確認, component -> version."""

    def await_delivery(self, component: str, version: str, timeout_s: float) -> dict[str, str]:
        """The bench left switched on until 配信実績の確認 lists ``component`` at
        ``version`` (the distribution's delivery, a night's window), at most ``timeout_s``
        of bench time: the list as last seen, component -> version."""

    def account(self, *, right: bool) -> None:
        """The terminal's account information for the reader: right, or wrong."""

    def pair(self, reader: str, general: str, patient: Patient, *,
             placed_first: bool = False) -> list[str]:
        """The maker's management app pairs the general reader with ``reader``: the app's
        pairing screen, the card on the general reader (``placed_first``: in the face-auth
        reader first, and 「置いた」 pressed: USEN-ALMEX's procedure), 設置完了・ペアリング登録.
        Returns the general readers the app listed, by the name it showed."""

    def pairing_placed(self, reader: str) -> bool | None:
        """Whether the app took 「置いた」 in the last pairing of ``reader`` done with the step
        (False: it had none to press; None: the step was not done)."""

    def pairing_app(self, reader: str) -> tuple[str, str] | None:
        """The management app pairing ``reader`` as it shows on the terminal: its name and
        the label of the button that starts pairing (None: no app shows one)."""

    def pairing_outcome(self, reader: str) -> str | None:
        """What the management app said at the end of the last pairing of ``reader``:
        ``registered``, or ``refused: <its message>`` (None: no pairing was tried)."""

    def staff_phone(self, general: str, phone: Phone, *, held: bool) -> None:
        """A member of staff holds their phone on the general reader ``general`` (the read
        test after pairing, the support vendor's お知らせ 接続設定概要 5), or takes it away."""

    def restart_management_app(self, reader: str) -> None:
        """The maker's management app is restarted."""

    def received_results(self) -> list[str]:
        """The receipt computer: labels of the patients whose results it received."""

    # -- the network ----------------------------------------------------------------------
    def lan_cable(self, *, seated: bool) -> None:
        """The terminal's LAN cable, fully seated or not."""

    def line_auth(self, *, connected: bool) -> None:
        """Line authentication (回線認証): cut, or reconnected (希望する)."""

    def line_auth_page(self, *, shown: bool) -> None:
        """The terminal's browser (Microsoft Edge) opened at https://www.lineauth.mnw (ERR-10,
        the support vendor's お知らせ ③ 確認手順), or closed."""

    def network_stuck(self, kind: str) -> None:
        """A network fault of ``kind`` (ERR-11's givens): one a restart of the PC clears
        (``pc_stuck``), or only a restart of the router (``router_stuck``)."""

    def router_restart(self) -> None:
        """The router between the terminal and the network restarted (powered off and on;
        ERR-11, the support vendor's お知らせ ②: ルーターの再起動)."""

    def outage(self, kind: Outage | None, seconds: float | None = None) -> None:
        """A network outage starts (ends after ``seconds``), or ends (None)."""

    def network_cut(self, *, cut: bool) -> None:
        """The terminal's line cut, or restored, at the bench's switch port or relay (the
        bench file's ``network.switch``): a network scenario's cut (NET-01)."""

    # -- the lab ----------------------------------------------------------------------------
    def restore(self, image: Image, at: dt.datetime | None = None) -> None:
        """Everything is switched off; the terminal's disk image is restored, the readers
        set back to their factory state, every cable put back; the terminal's clock set
        to ``at``."""

    def old_reader_software(self, reader: str) -> None:
        """The reader gets software older than the distributed one."""

    def wait(self, seconds: float) -> None:
        """Let bench time pass."""


#: A run of digits in a person's own words that could be a PIN or a passcode (4 digits and
#: more): a person explaining why a step failed names the PIN where it bit.
_PIN_LIKE = re.compile(r"\d{4,}")


def _recorded_answer(text: str, secret: str, *, secret_answer: bool, refused: bool,
                     free: bool = False, secrets: frozenset[str] = frozenset()) -> str:
    """An answer as the timeline keeps it. A step that shows a secret (a PIN, a passcode)
    asks the operator to type it on the reader, and its prompt reads "type ... 7391 ...
    press Enter": digits typed at the rig's prompt instead must never reach a file, so such
    a step keeps only the answer's length, as a secret answer (a passcode read off a
    screen) does. A person's own words elsewhere (a refusal's why, an answer asked again:
    ``free``) keep no run of digits that could be a PIN; no answer keeps a secret the hands
    know of (``secrets``: the run's PINs and passcodes)."""
    if not text:
        return text
    if secret or secret_answer:
        if refused:  # "no" and why: the words kept, any digits (a code typed here) not
            return re.sub(r"\d+", MASK, text)
        return f"({len(text)} {'digits' if text.isdigit() else 'characters'})"
    text = _without(text, secrets)
    return _PIN_LIKE.sub(MASK, text) if free else text


def _without(text: str, secrets: frozenset[str]) -> str:
    """``text`` with every secret in it masked (the longest first: one may hold another)."""
    for known in sorted(secrets, key=len, reverse=True):
        text = text.replace(known, MASK)
    return text


#: What a person types to a step asking what a screen shows when it shows nothing of it
#: (an empty answer is Enter, "done" at every other step: never read as "nothing").
NONE_WORD = "none"


def _form(pattern: str) -> Callable[[str], bool]:
    """An answer the rules read as a fact: exactly this form (case aside), nothing looser."""
    form = re.compile(pattern, re.IGNORECASE | re.ASCII)
    return lambda text: form.fullmatch(text.strip()) is not None


def _words(text: str) -> bool:
    """Words read off a screen: not empty and not a word that says "done" (a person who
    answers Enter or "yes" has not typed what the screen shows)."""
    return text.strip().casefold() not in DONE_WORDS


#: The passcode OQS issues: its digits as shown (not Enter, letters or spaces).
PASSCODE_FORM = _form(r"[0-9]{1,12}")
#: A version as the management tool lists it, or none listed.
VERSION_FORM = _form(rf"[0-9]+(?:\.[0-9]+)+|{NONE_WORD}")
#: The app's end of a pairing: registered, or refused (with its message).
OUTCOME_FORM = _form(rf"registered|refused(?:\s*:.*)?|{NONE_WORD}")
#: Whether the app took 置いた: taken, or not (with what it showed).
PLACED_FORM = _form(r"taken|not taken(?:\s*:.*)?")


def _listed(component: str, version: str) -> dict[str, str]:
    """The delivery list as the person read it: ``component`` at ``version``, or absent."""
    return {} if version.casefold() == NONE_WORD else {component: version}


def _current_test() -> str:
    """The test under way, as pytest names it while it runs one (else empty)."""
    return os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" (", 1)[0]


def _span(seconds: float) -> str:
    """A bound as a person reads it: 300 s, 45 min, 12 h."""
    if seconds < 600:
        return f"{max(seconds, 0):.0f} s"
    if seconds < 3 * 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h".replace(".0 h", " h")


class ManualHands:
    """A real bench: each action is asked of the operator (the controlling terminal, or a
    script), who confirms it within ``timeout_s``. Every question and answer lands on the
    timeline; a PIN shown to the operator and a passcode typed by them never do."""

    def __init__(self, clock: Clock, ask: Callable[[str], str] | None = None,
                 timeout_s: float = 300.0, *, operator: Operator | None = None,
                 timeline: Timeline | None = None) -> None:
        self.clock = clock
        self.operator: Operator = operator or (
            CallableOperator(ask, clock) if ask is not None else TtyOperator())
        self.timeout_s = timeout_s
        self.timeline = timeline
        #: Reader -> button name -> the label its panel shows (the bench's robot section's,
        #: else the notices'): the operator sees the panel's words, not the rig's names.
        self.button_labels: Callable[[str], Mapping[str, str]] = lambda _: DEFAULT_BUTTONS
        #: The test the last step was asked in, and how many steps it has asked.
        self._test = ""
        self._steps = 0
        #: Every PIN and passcode these hands have been given or read (4 characters and
        #: more): masked in whatever a person's answer records.
        self._secrets: set[str] = set()

    def _knows(self, secret: str) -> str:
        """``secret`` kept to mask it in every recorded answer from now on."""
        if len(secret) >= 4:
            self._secrets.add(secret)
        return secret

    @classmethod
    def for_bench(cls, bench: Bench) -> ManualHands:
        """Hands asking as the bench file's ``operator`` section says: on the terminal, or
        from its script (relative to the bench file), within its bound."""
        settings = bench.spec.operator
        operator: Operator | None = None
        if settings.script is not None:
            script = Path(settings.script)
            operator = ScriptedOperator.load(
                script if script.is_absolute() else bench.path.parent / script, bench.clock)
        elif settings.terminal is not None:
            operator = TtyOperator(settings.terminal, scale=bench.spec.clock.scale)
        hands = cls(bench.clock, timeout_s=settings.timeout_s, operator=operator,
                    timeline=bench.timeline)
        if bench.spec.switchable():
            hands.switch_all_off = bench.switch_all_off
        hands.usb_ports = UsbPortPower.for_bench(bench)
        robot = bench.spec.robot
        if robot is not None:
            hands.button_labels = lambda reader: (
                robot.buttons(reader) if reader in robot.readers else DEFAULT_BUTTONS)
        network, terminal = bench.spec.network, bench.spec.terminal
        link = network.switch
        if link is not None:
            hands.network_switch = lambda on: bench.switch_link("network", link, on)
        router = network.router
        if router is not None:
            hands.router_cycle = PowerCycle(lambda on: bench.switch_link(ROUTER, router, on),
                                            bench.clock, network.router_off_s)
        if terminal.power is not None:
            hands.pc_cycle = PowerCycle(lambda on: bench.switch(terminal.name, on),
                                        bench.clock, terminal.power_off_s)
        return hands

    def _record(self, kind: str, **data: object) -> None:
        if self.timeline is not None:
            self.timeline.record("operator", kind, by=self.operator.who, **data)

    def _answer(self, what: str, prompt: str, *, secret: str = "",
                secret_answer: bool = False, timeout_s: float | None = None,
                accept: Callable[[str], bool] = _words) -> str:
        """Ask until the step is answered done (or with what was asked for) within its
        bound; a done-or-no step answered with neither, or a step asking what a screen
        shows answered in another form than ``accept`` takes (the rules read it as a fact:
        a "yes" there is not the app's message), is asked again in what is left."""
        bound = self.timeout_s if timeout_s is None else timeout_s
        number = self._next_step()
        done_or_no = prompt == DO_PROMPT
        if not done_or_no:
            prompt += REFUSE_HINT
        unclear: list[str] = []
        spent = 0.0
        while True:
            again = "" if not unclear else (
                f" ({unclear[-1]!r} is neither: Enter or 'yes' if done, 'no' and why if it "
                "cannot be done)" if done_or_no else
                f" ({unclear[-1]!r} is not an answer this step takes: as it asks, or "
                "'no: why' if it cannot be done)")
            step = Step(what, prompt + again, secret,
                        context=self._context(number, bound - spent))
            answer = self._ask(step, bound - spent, tuple(unclear), bound)
            spent += answer.seconds
            seen = reading(answer.text, done_or_no=done_or_no)
            if seen == "done" and not done_or_no and not accept(answer.text):
                seen = "unclear"
            refused = seen == "refused"
            shown = _recorded_answer(answer.text, secret, secret_answer=secret_answer,
                                     refused=refused, free=seen != "done",
                                     secrets=frozenset(self._secrets))
            if seen == "unclear" and len(unclear) < MAX_UNCLEAR and spent < bound:
                self._record("operator.unclear", what=step.recorded, answer=shown,
                             seconds=round(answer.seconds, 3))
                unclear.append(shown)
                continue
            if seen == "unclear":  # asked again and again: no answer the rig can act on
                self._record("operator.timeout", what=step.recorded, seconds=spent)
                raise OperatorSilent(step.recorded, bound, (*unclear, shown))
            # A refusal is its own outcome in the report: the step could not be done.
            self._record("operator.refused" if refused else "operator.answered",
                         what=step.recorded, answer=shown, seconds=round(answer.seconds, 3))
            if refused:
                raise OperatorRefused(step.recorded, spent, shown)
            return answer.text.strip()

    def _ask(self, step: Step, left_s: float, unclear: tuple[str, ...], bound: float
             ) -> Answer:
        """One question to the operator, bounded by what is left of the step's bound."""
        self._record("operator.asked", what=step.recorded, timeout_s=left_s)
        try:
            return self.operator.ask(step, left_s)
        except DeviceTimeout as exc:
            self._record("operator.timeout", what=step.recorded, seconds=exc.seconds)
            if isinstance(exc, OperatorSilent) and not unclear:
                raise
            # An operator of the caller's own, or a step asked again: the same bench fault,
            # over the step's whole bound.
            raise OperatorSilent(step.recorded, bound, unclear) from exc
        except RigError as exc:
            self._record("operator.failed", what=step.recorded, reason=str(exc))
            raise

    def _next_step(self) -> int:
        """This step's number within the test under way (pytest names it)."""
        test = _current_test()
        if test != self._test:
            self._test, self._steps = test, 0
        self._steps += 1
        return self._steps

    def _context(self, number: int, left_s: float) -> str:
        test = self._test or "the rig"
        return f"{test}: step {number} of this test; answer within {_span(left_s)}"

    def _do(self, what: str, secret: str = "") -> None:
        self._answer(what, DO_PROMPT, secret=self._knows(secret))

    def ask_to(self, what: str) -> None:
        """Ask the operator to do ``what`` and wait (bounded) until they say it is done: a
        step of another pair of hands (a card into the robot's carrier)."""
        self._do(what)

    def card_in(self, reader: str, patient: Patient) -> None:
        self._knows(patient.pin)
        self._do(f"place {patient.label}'s My Number card on {reader}")

    def card_out(self, reader: str) -> None:
        self._do(f"take the card out of {reader}")

    def face(self, reader: str, *, matches: bool) -> None:
        who = "the card holder" if matches else "someone else"
        # A face shown and gone: a face left in front of the camera would answer the
        # screens the rig then watches alone (a person's screen must not move on by itself).
        self._do(f"let {who} face {reader}'s camera, then step away from it")

    def pin(self, reader: str, pin: str, *, entry: PinEntry) -> None:
        # The PIN is shown to the operator who must type it, and nowhere else; whether it
        # is meant to be wrong is the driver's word (``entry``), not read off the digits.
        self._do(f"type {entry.what()} {SECRET} on {reader}{entry.why()}", secret=pin)

    def consent(self, reader: str) -> None:
        self._do(f"answer the consent question on {reader}")

    def press(self, reader: str, button: str) -> None:
        label = self.button_labels(reader).get(button, button)
        self._do(f"press {label!r} on {reader}'s screen")

    def phone_pin(self, reader: str, phone: Phone, pin: str) -> None:
        what = (f"{phone.label}'s certificate PIN" if pin == phone.pin else
                "the code (deliberately NOT the phone's certificate PIN: SP-02 must refuse it)")
        self._do(f"type {what} {SECRET} on {reader}", secret=pin)

    def hold_phone(self, reader: str, phone: Phone, *,
                   where: Literal["general_reader", "front"], general: str | None = None,
                   held: bool = True) -> None:
        place = f"the front of {reader}" if where == "front" else (
            f"the general reader {general} beside {reader}" if general
            else f"the general reader beside {reader}")
        self._do(f"hold {phone.label} ({phone.kind}) over {place} and keep it there" if held
                 else f"take {phone.label} away from {place}")

    def issue_passcode(self) -> str:
        return self._knows(self._answer("issue a visual-confirmation passcode in OQS",
                                        "type the digits shown", secret_answer=True,
                                        accept=PASSCODE_FORM))

    def passcode(self, reader: str, code: str) -> None:
        self._do(f"type the passcode {SECRET} on {reader}", secret=code)

    def staff_confirm(self, reader: str) -> None:
        self._do(f"compare the card photo with the patient and confirm on {reader}")

    def restart_reader(self, reader: str) -> None:
        self._do(f"restart {reader}")

    def press_power_button(self, reader: str) -> None:
        self._do(f"press {reader}'s power button")

    #: Switches the USB port of readers on hubs with ``port_power`` (no person needed).
    usb_ports: UsbPortPower | None = None

    def usb_cable(self, reader: str, *, plugged: bool) -> None:
        if self.usb_ports is not None and self.usb_ports.port_of(reader) is not None:
            self.usb_ports.switch(reader, plugged)  # the hub cuts the port's power instead
            return
        self._do(f"{'plug' if plugged else 'pull'} {reader}'s USB cable "
                 f"{'into' if plugged else 'out of'} the terminal")

    def terminal_press(self, button: str) -> None:
        self._do(f"press {button!r} in the dialog on the eligibility terminal")

    def reboot_terminal(self) -> None:
        self._do("restart the eligibility terminal and wait until its application runs")

    #: Power-cycles the terminal through its relay channel (bench file ``terminal.power``;
    #: ERR-11's PC step, no person needed).
    pc_cycle: PowerCycle | None = None

    def restart_pc(self) -> None:
        if self.pc_cycle is not None:
            self.pc_cycle()
            return
        self._do("restart or power-cycle the eligibility terminal (the PC)")

    def download_now(self) -> None:
        self._do("in the distribution management tool, click 今すぐダウンロード")

    def schedule_restart(self, at: dt.time | None) -> None:
        if at is None:
            self._do("remove the eligibility terminal's daily automatic restart, if any")
        else:
            self._do(f"set the eligibility terminal to restart by itself every day at "
                     f"{at:%H:%M} (Japan time)")

    def offer_update(self, target: str) -> None:
        what = {"distribution_app": "the distribution application itself",
                "face_auth_library": "the face-auth library upgrade"}.get(target, target)
        self._do(f"make sure the update on offer to this terminal is {what}")

    def distribution_disabled(self, disabled: bool) -> None:
        self._do(f"in the management tool's 設定変更, {'tick' if disabled else 'untick'} "
                 "配信機能を無効化する")

    def delivery_list(self) -> dict[str, str]:
        version = self._answer("open 配信実績の確認 in the management tool",
                               "type the version shown for 顔認証ライブラリ (digits and dots, "
                               f"as 5.1.0), or '{NONE_WORD}' if it lists none",
                               accept=VERSION_FORM)
        return _listed("顔認証ライブラリ", version)

    def await_delivery(self, component: str, version: str, timeout_s: float) -> dict[str, str]:
        # One step bounded by the delivery's own time (a night), not a step's: nobody is
        # asked to look every few minutes through the night.
        shown = self._answer(
            f"keep the bench switched on until 配信実績の確認 in the management tool lists "
            f"{component} {version}",
            f"type the version it shows for {component} then (or when you give up; digits "
            f"and dots, as 5.1.0), or '{NONE_WORD}' if it lists none",
            timeout_s=timeout_s, accept=VERSION_FORM)
        return _listed(component, shown)

    def account(self, *, right: bool) -> None:
        self._do(f"set the reader's account information on the terminal "
                 f"{'right' if right else 'to a wrong value'}")

    def pair(self, reader: str, general: str, patient: Patient, *,
             placed_first: bool = False) -> list[str]:
        self._knows(patient.pin)
        first = (f", putting it into {reader} and pressing 置いた first" if placed_first
                 else "")
        shown = self._answer(
            f"pair {general} with {reader} in its management app using {patient.label}'s "
            f"card{first}",
            f"type the general reader's name the app showed, or '{NONE_WORD}' if it showed none")
        return [] if shown.casefold() == NONE_WORD else [shown]

    def pairing_placed(self, reader: str) -> bool | None:
        answer = self._answer(
            f"look whether the management app took 置いた when pairing {reader}",
            "type 'taken' if it did, else 'not taken' (and what it showed after a ':')",
            accept=PLACED_FORM)
        return answer.casefold() == "taken"

    def pairing_app(self, reader: str) -> tuple[str, str] | None:
        answer = self._answer(
            f"open the management app that pairs a general reader with {reader}",
            "type the app's name as its window shows it, a '/', and the label of the button "
            f"that starts pairing (nothing after the '/' if there is none), or '{NONE_WORD}' "
            "if no app shows one")
        name, _, button = answer.partition("/")
        if answer.casefold() == NONE_WORD or not name.strip():
            return None
        return name.strip(), button.strip()

    def pairing_outcome(self, reader: str) -> str | None:
        answer = self._answer(
            f"look at what the management app said at the end of pairing {reader}",
            "type 'registered' if it registered the pairing, 'refused: ' and its message if "
            f"it refused it, or '{NONE_WORD}' if it said neither", accept=OUTCOME_FORM)
        folded = answer.casefold()
        if folded == NONE_WORD:
            return None
        if folded == "registered":
            return "registered"
        # The app's message goes into the verdict: no secret a person typed into it.
        message = _without(answer.partition(":")[2].strip(), frozenset(self._secrets))
        return f"refused: {message}" if message else "refused"

    def staff_phone(self, general: str, phone: Phone, *, held: bool) -> None:
        self._do(f"hold a staff phone ({phone.kind}) on {general} and keep it there" if held
                 else f"take the staff phone away from {general}")

    def restart_management_app(self, reader: str) -> None:
        self._do(f"restart {reader}'s management app")

    def received_results(self) -> list[str]:
        answer = self._answer("look at the receipt computer's received eligibility results",
                              "type the patients' labels listed, comma-separated, or "
                              f"'{NONE_WORD}' if it lists none")
        if answer.casefold() == NONE_WORD:
            return []
        return [a.strip() for a in answer.split(",") if a.strip()]

    def lan_cable(self, *, seated: bool) -> None:
        self._do(f"{'seat' if seated else 'loosen'} the terminal's LAN cable")

    def line_auth(self, *, connected: bool) -> None:
        self._do("reconnect line authentication (希望する)" if connected
                 else "disconnect line authentication (回線認証)")

    def line_auth_page(self, *, shown: bool) -> None:
        self._do("on the eligibility terminal, open Microsoft Edge at https://www.lineauth.mnw"
                 if shown else "close the browser on the eligibility terminal")

    def network_stuck(self, kind: str) -> None:
        how = {"pc_stuck": "one a restart of the terminal clears",
               "router_stuck": "one only a restart of the router clears"}.get(kind, kind)
        self._do(f"make the terminal's network fail: {how}")

    #: Power-cycles the router through its relay channel (bench file ``network.router``;
    #: no person needed).
    router_cycle: PowerCycle | None = None

    def router_restart(self) -> None:
        if self.router_cycle is not None:
            self.router_cycle()
            return
        self._do("restart the router between the terminal and the network (power it off "
                 "and on) and wait until it is back")

    #: Switches the relay channel that carries the terminal's line (bench file
    #: ``network.switch``; no person needed).
    network_switch: Callable[[bool], None] | None = None

    def network_cut(self, *, cut: bool) -> None:
        if self.network_switch is not None:
            self.network_switch(not cut)
            return
        self._do("cut the terminal's line to the eligibility system at the lab's switch" if cut
                 else "restore the terminal's line to the eligibility system")

    def outage(self, kind: Outage | None, seconds: float | None = None) -> None:
        if kind is None:
            self._do("end the network outage")
        else:
            span = f" for {seconds:.0f} s" if seconds else ""
            article = "an" if kind[:1] in "aeiou" else "a"
            self._do(f"start {article} {kind} network outage{span} (the lab's network switch)")

    #: Switches off every device on a relay channel (the bench file's ``power`` links): a
    #: restored morning starts with them off, so the power-on routine switches them on.
    switch_all_off: Callable[[], None] | None = None

    def restore(self, image: Image, at: dt.datetime | None = None) -> None:
        if self.switch_all_off is not None:
            self.switch_all_off()
        when = f", set its clock to {at.isoformat()}" if at else ""
        self._do(f"switch everything off; restore the terminal's {image.replace('_', ' ')} "
                 f"image{when}; reset the readers; put every cable back")
        if at is not None:
            # The bench's date is the terminal's from now on: the rig's schedules (UPD-01's
            # nights, the delivery waits) follow it, not the host's calendar.
            self.clock.set_wallclock(at)

    def old_reader_software(self, reader: str) -> None:
        self._do(f"install the previous software version on {reader}")

    def wait(self, seconds: float) -> None:
        self.clock.sleep(seconds)
