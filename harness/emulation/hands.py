"""The bench's hands on an emulated bench: the same actions, done to the twins."""

from __future__ import annotations

from harness.emulation.people import PatientCard
from harness.emulation.world import TwinWorld
from harness.errors import RigError
from harness.hands import Patient


class TwinHands:
    """Acts on the twins. Like a real hand it can always try: a twin that ignores the
    action shows no change, which the suites see through the cameras."""

    def __init__(self, world: TwinWorld) -> None:
        self.world = world
        # One card per patient, so a PIN locked on one reader stays locked on the next.
        self._cards: dict[str, PatientCard] = {}

    def _reader(self, name: str):  # noqa: ANN202
        if name not in self.world.readers:
            raise RigError(f"no face-auth reader {name!r} on this bench")
        return self.world.readers[name]

    def card_in(self, reader: str, patient: Patient) -> None:
        card = self._cards.setdefault(patient.label, PatientCard(patient.label, patient.pin))
        self._reader(reader).insert_card(card)

    def card_out(self, reader: str) -> None:
        self._reader(reader).remove_card()

    def face(self, reader: str, *, matches: bool) -> None:
        self._reader(reader).show_face(matches)

    def pin(self, reader: str, pin: str) -> None:
        self._reader(reader).enter_pin(pin)

    def consent(self, reader: str) -> None:
        self._reader(reader).answer_consent()

    def press(self, reader: str, button: str) -> None:
        twin = self._reader(reader)
        names = {b.label: b.name for b in twin.screen().buttons}
        twin.press(names.get(button, button))

    def terminal_press(self, button: str) -> None:
        self.world.terminal.press(button)

    def reboot_terminal(self) -> None:
        self.world.terminal.reboot()

    def wait(self, seconds: float) -> None:
        self.world.clock.advance(seconds)
