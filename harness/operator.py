"""The person at a real bench: asked on the controlling terminal, or answered from a script.

pytest captures stdin/stdout, so ``input()`` never reaches a person under ``certify``; like
labgrid's ManualPowerDriver the rig talks to ``/dev/tty`` directly. The wait is bounded by
poll() on the terminal, not measured after the answer came. A scripted operator (a YAML
file of answers, with delays) stands in for the person in dry runs and tests.

A step may show a secret (a PIN to type): it is substituted only into the text shown to the
person; what is recorded or matched by a script is the redacted text.

A step nobody answers within the bound (the bench file's ``operator.timeout_s``, 300 s by
default) is the bench failing, not the reader: :class:`OperatorSilent`, the
``operator.silent`` bench fault, naming the (redacted) step.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import select
import time
from pathlib import Path
from typing import Protocol

import attrs
import pydantic

from harness.errors import BenchFault, DeviceTimeout
from harness.loading import Field, load_yaml_model
from harness.model.clock import Clock

#: Where a step's secret goes in its text.
SECRET = "{secret}"
MASK = "****"
#: The prompt of a step that is done or not (not one that asks for what a screen shows).
DO_PROMPT = "press Enter when done, or type 'no' and why not"


class OperatorUnavailable(BenchFault):
    """Nobody can be asked (no terminal, the operator's terminal closed) or the script has
    no answer: ``operator.unavailable``, the bench's fault, not the reader's (the
    requirement is not run, with this reason)."""

    def __init__(self, detail: str) -> None:
        super().__init__("operator.unavailable", "operator", detail)


class OperatorSilent(BenchFault, DeviceTimeout):
    """``operator.silent``: no answer to a step within the bound (``what`` is the step's
    redacted text). Also the DeviceTimeout it is for whoever waited."""

    def __init__(self, what: str, seconds: float, unclear: tuple[str, ...] = ()) -> None:
        DeviceTimeout.__init__(self, "operator", what, seconds)
        # BenchFault's constructor would hand its message on to DeviceTimeout's, which
        # takes other arguments: take a plain fault's fields instead.
        # ``unclear``: answers that were neither done nor no (as recorded: no secret).
        got = f" (only answers that are neither done nor no: {', '.join(map(repr, unclear))})" \
            if unclear else ""
        fault = BenchFault("operator.silent", "operator",
                           f"no answer to '{what}' within {seconds:g} s{got}", bound_s=seconds)
        vars(self).update(vars(fault))
        self.args = fault.args


class OperatorRefused(BenchFault):
    """``operator.refused``: the person said the step cannot be done at this bench (no OQS
    access, no phone, no such image): the bench could not do a step of the procedure, so
    the reader was never tried on it. The requirement is not run, naming the step and the
    person's words; never a failure of the reader."""

    def __init__(self, what: str, seconds: float, words: str = "no") -> None:
        super().__init__("operator.refused", "operator",
                         f"refused: {what} (answered {words!r} after {seconds:.1f} s)")
        self.what = what
        self.seconds = seconds
        self.words = words


@attrs.frozen
class Step:
    """What the operator is asked. ``text`` may hold ``{secret}``, shown only on the tty."""

    text: str
    prompt: str = DO_PROMPT
    secret: str = attrs.field(default="", repr=False)
    #: A line shown above the question: which test asks, which of its steps, the time left
    #: (a person at a bench for hours must know what the rig is at and how long they have).
    context: str = ""

    @property
    def shown(self) -> str:
        # The context line has no "[operator] " prefix: a person (or the box's) reads the
        # question as the last line starting with it.
        above = f"\n--- {self.context}\n" if self.context else ""
        return f"{above}[operator] {self.text.replace(SECRET, self.secret)} - {self.prompt}: "

    @property
    def recorded(self) -> str:
        return self.text.replace(SECRET, MASK)


@attrs.frozen
class Answer:
    text: str
    #: How long the person (or script) took, in seconds.
    seconds: float


class Operator(Protocol):
    #: Who answers, for the timeline and the report (``terminal``, ``script FILE``).
    who: str

    def ask(self, step: Step, timeout_s: float) -> Answer:
        """The answer, or OperatorSilent at ``timeout_s``, or OperatorUnavailable."""


NO_TTY = "no terminal to ask the operator on: give an operator script (bench file operator.script)"
#: The rig's controlling terminal, whatever pytest did to stdin and stdout.
CONTROLLING_TTY = "/dev/tty"


class TtyOperator:
    """Asks on the controlling terminal, whatever happened to stdin/stdout; or on the
    terminal the bench file names (``operator.terminal``: a console at the bench, a serial
    terminal, the pty a bench in a box answers on)."""

    def __init__(self, tty: str = CONTROLLING_TTY, *, scale: float = 1.0) -> None:
        self.tty = tty
        #: Bench seconds per wall second (a bench in a box runs faster): bounds and the
        #: answer's time are bench seconds, as the scripted operator's are.
        self.scale = scale
        self.who = "terminal" if tty == CONTROLLING_TTY else f"terminal {tty}"

    def ask(self, step: Step, timeout_s: float) -> Answer:
        answer = self._ask(step, timeout_s / self.scale)
        return Answer(answer.text, answer.seconds * self.scale)

    def _ask(self, step: Step, timeout_s: float) -> Answer:
        try:
            fd = os.open(self.tty, os.O_RDWR | os.O_NOCTTY)
        except OSError as exc:
            if self.tty != CONTROLLING_TTY:
                raise OperatorUnavailable(f"cannot open the operator's terminal {self.tty} "
                                          f"(bench file operator.terminal): {exc.strerror}"
                                          ) from None
            raise OperatorUnavailable(f"{NO_TTY} ({exc.strerror})") from None
        if not os.isatty(fd):  # /dev/null, a file: nobody reads the question there
            os.close(fd)
            raise OperatorUnavailable(f"the operator's terminal {self.tty} (bench file "
                                      "operator.terminal) is not a terminal")
        try:
            _drop_typeahead(fd)  # an Enter typed before the question answers nothing
            os.write(fd, step.shown.encode())
            started = time.monotonic()
            poller = select.poll()
            poller.register(fd, select.POLLIN)
            got = b""
            while b"\n" not in got and b"\r" not in got:
                left = started + timeout_s - time.monotonic()
                if left <= 0:
                    os.write(fd, f"\n[operator] no answer within "
                             f"{timeout_s * self.scale:g} s\n".encode())
                    raise OperatorSilent(step.recorded, timeout_s * self.scale)
                if not poller.poll(max(1, math.ceil(left * 1000))):
                    continue
                try:
                    chunk = os.read(fd, 1024)
                except OSError as exc:  # a pty whose other end went away: EIO
                    raise OperatorUnavailable(f"{NO_TTY} ({exc.strerror})") from None
                if not chunk:
                    raise OperatorUnavailable(f"{NO_TTY} (the terminal closed)")
                got += chunk
            line = got.decode(errors="replace").splitlines()[0] if got.strip() else ""
            return Answer(line.strip(), time.monotonic() - started)
        finally:
            os.close(fd)


def _drop_typeahead(fd: int) -> None:
    try:
        import termios
    except ImportError:
        return  # no terminals to flush on this system
    # (Not a terminal that queues input: nothing typed ahead to drop.)
    with contextlib.suppress(termios.error, OSError):
        termios.tcflush(fd, termios.TCIFLUSH)


class CallableOperator:
    """A function answers (``input``-like): for callers that supply their own."""

    who = "function"

    def __init__(self, ask: object, clock: Clock) -> None:
        self._ask = ask
        self.clock = clock

    def ask(self, step: Step, timeout_s: float) -> Answer:
        started = self.clock.now()
        text = str(self._ask(step.shown))  # type: ignore[operator]
        seconds = self.clock.now() - started
        if seconds > timeout_s:
            raise OperatorSilent(step.recorded, timeout_s)
        return Answer(text.strip(), seconds)


class ScriptRule(Field):
    #: A regular expression searched in the step's (redacted) text.
    ask: str
    #: What the operator types, as typed: a string (a bare ``0123`` is YAML's number 83).
    answer: str = ""
    #: Seconds (bench clock) before answering.
    after_s: float = pydantic.Field(default=0, ge=0)
    #: Never answer: the step times out at the bound.
    never: bool = False

    @pydantic.field_validator("answer", mode="before")
    @classmethod
    def _typed(cls, value: object) -> object:
        # A passcode 0123 unquoted is YAML's octal 83, 1:30 its sexagesimal 90: the rig
        # would type another code and the reader's refusal be judged against the maker.
        if isinstance(value, int | float) and not isinstance(value, bool):
            raise ValueError(f"write it in quotes, as it is typed: YAML reads it unquoted as "
                             f"the number {value!r} (a bare 0123 is 83, 1:30 is 90)")
        return value

    @pydantic.model_validator(mode="after")
    def _never_alone(self) -> ScriptRule:
        # A silent rule that also says what to type, or when, reads as an answer the rig
        # would then never give: the author meant one of the two.
        if self.never and (self.answer or self.after_s):
            given = "answer" if self.answer else "after_s"
            raise ValueError(f"never: true answers nothing: drop {given} or never")
        return self

    @pydantic.field_validator("ask")
    @classmethod
    def _regex(cls, value: str) -> str:
        try:
            re.compile(value)
        except (re.error, OverflowError) as exc:  # a{99999999999}: a repeat too large
            raise ValueError(f"not a regular expression: {exc}") from None
        return value


#: Answers that say a step is done, and that it could not be done (case-folded).
DONE_WORDS = frozenset({"", "y", "yes", "done", "ok", "はい"})
NO_WORDS = frozenset({"n", "no", "いいえ"})
#: "no" and the person's reason: ``no, the lab has no OQS access``; to a step that asks
#: what a screen shows, only ``no: why`` (its message may well start with "No ...").
_NO_WHY = re.compile(r"(?:no|n|いいえ)(?:[\s:,.;!、。]|$)", re.I)
_NO_COLON = re.compile(r"(?:no|n|いいえ)\s*[:：]", re.I)
#: Added to a step that asks what a screen shows: how to say it cannot be done.
REFUSE_HINT = " (or 'no: why' if it cannot be done)"
#: How often a step is asked again after an answer that is neither done nor no.
MAX_UNCLEAR = 3


def reading(text: str, *, done_or_no: bool) -> str:
    """What an answer says: ``done``, ``refused`` or (to a done-or-no step only)
    ``unclear``. A step that asks for what a screen shows takes any text but a bare no;
    a done-or-no step takes only the words above, so a typo ("can't", "skip") is asked
    again rather than taken as done."""
    folded = text.strip().casefold()
    if folded in NO_WORDS or (_NO_WHY if done_or_no else _NO_COLON).match(folded):
        return "refused"
    if not done_or_no or folded in DONE_WORDS:
        return "done"
    return "unclear"


class OperatorScript(pydantic.RootModel[list[ScriptRule]]):
    model_config = pydantic.ConfigDict(frozen=True)


class ScriptedOperator:
    """Answers from a script: the first rule whose ``ask`` matches the step, after its delay
    on the bench clock."""

    def __init__(self, rules: list[ScriptRule], clock: Clock, name: str = "script") -> None:
        self.rules = rules
        self.clock = clock
        self.who = name

    @classmethod
    def load(cls, path: Path, clock: Clock) -> ScriptedOperator:
        script = load_yaml_model(path, OperatorScript)
        return cls(list(script.root), clock, f"script {path.name}")

    def ask(self, step: Step, timeout_s: float) -> Answer:
        rule = next((r for r in self.rules if re.search(r.ask, step.recorded)), None)
        if rule is None:
            raise OperatorUnavailable(
                f"the operator {self.who} has no answer for {step.recorded!r}")
        started = self.clock.now()
        if rule.never or rule.after_s > timeout_s:
            self.clock.sleep(timeout_s)
            raise OperatorSilent(step.recorded, timeout_s)
        self.clock.sleep(rule.after_s)
        return Answer(str(rule.answer), self.clock.now() - started)
