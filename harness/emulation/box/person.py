"""The person at a bench in a box: answers the rig's operator on a pty and does each step
to the twins.

A real bench's operator is asked on a terminal (harness.operator.TtyOperator; the bench
file's ``operator.terminal``). The box offers one: a pty whose other end is this person.
Each question (``[operator] STEP - PROMPT: ``) is read as a lab's operator reads it, matched
against the steps the person knows (the texts the rig's ManualHands asks), done to the twins
as the emulated bench's hands do it (harness/emulation/hands), and answered. A step the
person does not know is refused (``no: why``): the rig's bench fault (operator.refused)
names it, and the requirement is not run. The person never
touches the relays, the robot or the cameras: those are the rig's, through their own ptys
and streams.

Time: a step that is a wait (a night's delivery) is done by letting the twins' time pass
at once, a look at the list every DELIVERY_LOOK_S, until they are there; the person then
answers as after the night. The rig sees an operator who answered in a moment.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import select
import sys
import threading
import tty
from collections.abc import Callable

import attrs

from harness.devices.pcsc import PyscardService
from harness.emulation.bench import EmulatedBench
from harness.emulation.hands import DELIVERY_LOOK_S, TwinHands
from harness.emulation.robot import TwinDesk
from harness.errors import RigError
from harness.hands import NONE_WORD, Patient
from harness.model.wait import wait_until

#: The PIN the lab's test cards are issued with: the one the rig's test patients type
#: (harness/flows/runner.py). Test data only.
TEST_CARD_PIN = "4321"
#: The longest wait the person sits through for a step that is a wait (a night).
LONGEST_WAIT_S = 12 * 3600.0
#: What the person types to refuse a step (the rig's operator: "or type 'no'").
REFUSE = "no"
_QUESTION = re.compile(r"\[operator\] (?P<step>.*) - (?P<prompt>[^\n]*?): $", re.S)


@attrs.frozen
class Answered:
    """One step the person was asked: its text (a secret in it masked), what they typed."""

    step: str
    answer: str


@attrs.define
class _BoxBench:
    """What the twins' hands need of a bench: the twins, and the PC/SC the twin terminal
    reads a general reader's card through (the box's pcscd; None: it serves none). No
    relays: those are the rig's, which switches them off before it asks for a restore."""

    emulation: EmulatedBench
    pcsc: PyscardService | None = None

    def switch_all_off(self) -> None:
        """A person does not reach into the relay board."""


class BoxPerson:
    """The person on the far end of :attr:`port` (a pty), served by a thread."""

    def __init__(self, emulation: EmulatedBench, pcsc: PyscardService | None = None) -> None:
        self.emulation = emulation
        self.hands = TwinHands(_BoxBench(emulation, pcsc))  # type: ignore[arg-type]
        #: Every step asked and what was typed, in order (secrets masked).
        self.answered: list[Answered] = []
        self._steps: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
            (re.compile(p), act) for p, act in self._known()]
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)  # no echo: the rig reads only what the person types
        self.port: str = os.ttyname(self._slave)
        self._wake_r, self._wake_w = os.pipe()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True,
                                        name=f"box person {self.port}")
        self._thread.start()

    # -- the steps --------------------------------------------------------------------------
    def _known(self) -> list[tuple[str, Callable[[re.Match[str]], str]]]:
        hands = self.hands
        reader, patient = r"(?P<reader>[\w-]+)", r"(?P<patient>[\w-]+)"
        return [
            (r"^switch everything off; restore the terminal's (?P<image>[a-z ]+) image"
             r"(?:, set its clock to (?P<at>\S+))?; reset the readers; put every cable back$",
             self._restore),
            (rf"^put {patient}'s My Number card in the robot's card carrier at {reader}$",
             self._load_carrier),
            (rf"^place {patient}'s My Number card on {reader}$",
             lambda m: _done(hands.card_in(m["reader"], _patient(m["patient"])))),
            (rf"^take the card out of {reader}$", lambda m: _done(hands.card_out(m["reader"]))),
            (rf"^let (?P<who>the card holder|someone else) face {reader}'s camera, then step "
             r"away from it$",
             lambda m: _done(hands.face(m["reader"], matches=m["who"] == "the card holder"))),
            (rf"^answer the consent question on {reader}$",
             lambda m: _done(hands.consent(m["reader"]))),
            (rf"^type (?:the card's own|a deliberately WRONG) PIN (?P<pin>\d+) on {reader}"
             r"(?: \(on purpose[^)]*\))?$",
             lambda m: _done(hands.pin(m["reader"], m["pin"]))),
            (rf"^press '(?P<button>[^']+)' on {reader}'s screen$",
             lambda m: _done(hands.press(m["reader"], m["button"]))),
            (r"^press '(?P<button>[^']+)' in the dialog on the eligibility terminal$",
             lambda m: _done(hands.terminal_press(m["button"]))),
            (r"^restart the eligibility terminal and wait until its application runs$",
             lambda m: _done(hands.reboot_terminal())),
            (r"^keep the bench switched on until 配信実績の確認 in the management tool lists "
             r"(?P<component>.+) (?P<version>\S+)$", self._await_delivery),
            (r"^open 配信実績の確認 in the management tool$",
             lambda m: next(iter(hands.delivery_list().values()), NONE_WORD)),
            (r"^look at the receipt computer's received eligibility results$",
             lambda m: ", ".join(hands.received_results()) or NONE_WORD),
            # Pairing: the real card on the general reader reaches the twin terminal through
            # the box's pcscd (vpcd), as the terminal's app reads it.
            (rf"^pair (?P<general>[\w-]+) with {reader} in its management app using "
             rf"{patient}'s card(?P<placed>, putting it into \S+ and pressing 置いた first)?$",
             lambda m: next(iter(hands.pair(m["reader"], m["general"], _patient(m["patient"]),
                                            placed_first=bool(m["placed"]))), NONE_WORD)),
            (rf"^look whether the management app took 置いた when pairing {reader}$",
             lambda m: "taken" if hands.pairing_placed(m["reader"]) else "not taken"),
            (rf"^open the management app that pairs a general reader with {reader}$",
             lambda m: "/".join(hands.pairing_app(m["reader"]) or ()) or NONE_WORD),
            (rf"^look at what the management app said at the end of pairing {reader}$",
             lambda m: hands.pairing_outcome(m["reader"]) or NONE_WORD),
        ]

    def _restore(self, match: re.Match[str]) -> str:
        image = match["image"].replace(" ", "_")
        if image not in ("before_upgrade", "after_upgrade", "upgrade_without_data"):
            return _refuse(match.string, "no such image in the lab's cupboard")
        at = dt.datetime.fromisoformat(match["at"]) if match["at"] else None
        self.hands.restore(image, at)  # type: ignore[arg-type]
        return ""

    def _load_carrier(self, match: re.Match[str]) -> str:
        robot = self.emulation.robot
        if robot is None or not isinstance(robot.desk, TwinDesk):
            return _refuse(match.string, "no robot on this box: no carrier to load")
        robot.desk.load(match["reader"], self.hands._card(_patient(match["patient"])))
        return ""

    def _await_delivery(self, match: re.Match[str]) -> str:
        component, version = match["component"], match["version"]
        clock = self.emulation.clock
        waited = wait_until(clock, self.hands.delivery_list,
                            lambda listed: listed.get(component) == version, LONGEST_WAIT_S,
                            step_s=DELIVERY_LOOK_S, sleep=clock.advance)
        return waited.last.get(component, NONE_WORD)

    def answer(self, step: str) -> str:
        """Do ``step`` (the text the rig's operator is shown) to the twins; what is typed."""
        for pattern, act in self._steps:
            match = pattern.match(step)
            if match is None:
                continue
            try:
                if act == self._await_delivery:
                    return act(match)  # lets the twins' time pass: not under one lock
                with self.emulation.clock.lock:
                    return act(match)
            except RigError as exc:
                # Asked of something the box does not have (a reader), or the twins could
                # not do it: the box's own output says why.
                return _refuse(step, _masked(str(exc)))
        return _refuse(step, "not a step the person knows")

    # -- the pty ----------------------------------------------------------------------------
    def _serve(self) -> None:
        pending = b""
        try:
            while not self._stopping.is_set():
                readable, _, _ = select.select([self._master, self._wake_r], [], [])
                if self._master not in readable or self._stopping.is_set():
                    continue
                try:
                    data = os.read(self._master, 4096)
                except OSError:
                    return  # the pty went away
                if not data:
                    return
                pending += data
                text = pending.decode("utf-8", "replace")
                start = text.rfind("[operator] ")
                question = _QUESTION.fullmatch(text[start:]) if start >= 0 else None
                if question is None:
                    continue  # half a question, or a notice ("no answer within ...")
                pending = b""
                typed = self.answer(question["step"])
                self.answered.append(Answered(_masked(question["step"]), typed))
                os.write(self._master, typed.encode() + b"\n")
        finally:
            for fd in (self._master, self._slave, self._wake_r, self._wake_w):
                os.close(fd)

    def stop(self) -> None:
        """The person leaves: the thread ends and the pty is closed."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        os.write(self._wake_w, b"x")
        self._thread.join(timeout=5)


def _refuse(step: str, why: str) -> str:
    """A step the person cannot do: said on the box's output and typed back as "no" and
    why (the rig's bench fault names it), never with a code in it."""
    print(f"box person: refused {_masked(step)!r}: {why}", file=sys.stderr, flush=True)
    return f"{REFUSE}: {why}"


def _patient(label: str) -> Patient:
    return Patient(label, TEST_CARD_PIN)


def _done(_: object) -> str:
    """A step done: Enter."""
    return ""


#: A code the rig shows the person to type: a PIN or passcode of 4 digits or more standing
#: alone (not a date 2026-01-19, a time 02:00 or a version 5.1.0).
_CODE = re.compile(r"(?<![\d.:\-])\d{4,}(?![\d.:\-])")


def _masked(step: str) -> str:
    """A step as the box may print or keep it: every code in it masked. The person sees the
    shown text, with the secret in place, and cannot tell which digits are secret: so any
    code-like run is masked (a PIN, a wrong code typed on purpose, a passcode)."""
    return _CODE.sub("****", re.sub(r"PIN \d+", "PIN ****", step))
