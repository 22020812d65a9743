"""The bench's hands: what a person does at the bench, behind one protocol.

Suites act through :class:`Hands` and never import ``harness.emulation`` (DESIGN.md
principle 1). On an emulated bench the twins are acted on (``harness.emulation.hands``); on a
real bench :class:`ManualHands` asks the operator, as labgrid's ManualPowerDriver does, and
waits (bounded) for them to say it is done. What the bench did is then seen by the rig's own
eyes (cameras) and ears (the timeline), never taken from the hands.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import attrs

from harness.errors import DeviceTimeout
from harness.model.clock import Clock


@attrs.frozen
class Patient:
    """A test patient. ``label`` names them in records; the PIN never reaches one."""

    label: str
    pin: str = attrs.field(repr=False)


class Hands(Protocol):
    def card_in(self, reader: str, patient: Patient) -> None:
        """The patient places their My Number card on the face-auth reader."""

    def card_out(self, reader: str) -> None:
        """The card is taken out."""

    def face(self, reader: str, *, matches: bool) -> None:
        """The patient faces the camera (their own face, or not)."""

    def pin(self, reader: str, pin: str) -> None:
        """A PIN is typed on the reader's keypad."""

    def consent(self, reader: str) -> None:
        """The patient answers the consent screen shown."""

    def press(self, reader: str, button: str) -> None:
        """A button on the reader's screen (by its label)."""

    def terminal_press(self, button: str) -> None:
        """A button of the dialog on the eligibility terminal's monitor (OK, 確認しました)."""

    def reboot_terminal(self) -> None:
        """The eligibility terminal is restarted."""

    def wait(self, seconds: float) -> None:
        """Let bench time pass."""


class ManualHands:
    """A real bench: each action is asked of the operator, who confirms it."""

    def __init__(self, clock: Clock, ask: Callable[[str], str] = input,
                 timeout_s: float = 300.0) -> None:
        self.clock = clock
        self.ask = ask
        self.timeout_s = timeout_s

    def _do(self, what: str) -> None:
        started = self.clock.now()
        answer = self.ask(f"[operator] {what} - press Enter when done (or type 'no'): ")
        if answer.strip().lower() in ("no", "n"):
            raise DeviceTimeout("operator", what, self.clock.now() - started)
        if self.clock.now() - started > self.timeout_s:
            raise DeviceTimeout("operator", what, self.timeout_s)

    def card_in(self, reader: str, patient: Patient) -> None:
        self._do(f"place {patient.label}'s My Number card on {reader}")

    def card_out(self, reader: str) -> None:
        self._do(f"take the card out of {reader}")

    def face(self, reader: str, *, matches: bool) -> None:
        who = "the card holder" if matches else "someone else"
        self._do(f"let {who} face {reader}'s camera")

    def pin(self, reader: str, pin: str) -> None:
        # The PIN is shown to the operator who must type it, and nowhere else.
        self._do(f"type the PIN {pin} on {reader}")

    def consent(self, reader: str) -> None:
        self._do(f"answer the consent question on {reader}")

    def press(self, reader: str, button: str) -> None:
        self._do(f"press {button!r} on {reader}'s screen")

    def terminal_press(self, button: str) -> None:
        self._do(f"press {button!r} in the dialog on the eligibility terminal")

    def reboot_terminal(self) -> None:
        self._do("restart the eligibility terminal and wait until its application runs")

    def wait(self, seconds: float) -> None:
        self.clock.sleep(seconds)
