"""Shared helpers for the twin tests: a world per maker, a patient, the usual walk."""

from __future__ import annotations

from collections.abc import Callable

from harness.emulation.card import FileSystemCard
from harness.emulation.people import PatientCard
from harness.emulation.reader_twin import FaceAuthReaderTwin
from harness.emulation.world import TwinWorld
from harness.paths import project_file

#: General readers the terminal sees, by bench name -> the name the apps show.
GENERAL = {"sony-rc-s300-s1": "SONY FeliCa Port/PaSoRi 4.0"}


def started_world(maker: str, **kwargs: object) -> tuple[TwinWorld, FaceAuthReaderTwin]:
    """One maker's reader and a terminal, switched on in the usual order and settled."""
    world = TwinWorld.for_makers([maker], general_readers=GENERAL, **kwargs)  # type: ignore[arg-type]
    world.power_on_all()
    reader = world.reader(maker)
    assert reader.screen().shows == "first", f"{maker} did not reach its first screen"
    return world, reader


def patient(label: str = "patient-1", pin: str = "4321") -> PatientCard:
    return PatientCard(label, pin)


def check_in_by_face(world: TwinWorld, reader: FaceAuthReaderTwin, card: PatientCard) -> None:
    """Card in, face matches, both consent screens answered, the check given time to end."""
    assert reader.insert_card(card)
    assert reader.show_face(True)
    answer_consents(world, reader)


def answer_consents(world: TwinWorld, reader: FaceAuthReaderTwin) -> list[str]:
    """Answer consent screens until the reader leaves them; return the classes seen."""
    seen = []
    while reader.screen().shows == "consent" and reader.state.startswith("consent_"):
        seen.append(reader.state)
        assert reader.answer_consent()
    world.clock.advance(world.terminal.behaviour.check_seconds + 1)
    return seen


def card_on_general_reader(name: str = "mynumber-card") -> Callable[[bytes], bytes]:
    """What the app's PC/SC reaches when a card lies on a general reader (pairing reads it
    there, SP-06): the test card's chip, answering APDUs."""
    return FileSystemCard.load(project_file(f"fixtures/cards/{name}.yaml")).transmit
