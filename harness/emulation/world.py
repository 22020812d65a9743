"""The twins of one bench on one virtual clock: terminal, network, receipt computer, readers.

:class:`TwinWorld` holds the behaviour side only; :class:`~harness.emulation.bench.EmulatedBench`
wires it to the relay board (power) and the emulated USB tree (the readers' cables). Tests
of the twins and the benchmarks build a world directly, without ptys or sockets.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import attrs

from harness.emulation.behaviour import TerminalBehaviour, load_with_deviations
from harness.emulation.device_spec import load_device_spec
from harness.emulation.network import NetworkTwin
from harness.emulation.reader_twin import FaceAuthReaderTwin
from harness.emulation.terminal import ReceiptComputerTwin, TerminalTwin, Upgrade
from harness.errors import RigError
from harness.model.bench_spec import Deviation
from harness.model.clock import VirtualClock
from harness.model.timeline import Timeline
from harness.paths import project_file

MAKERS = ("panasonic", "canon", "usen_almex", "fujitsu_japan", "atlas")


def default_terminal_file() -> Path:
    return project_file("fixtures/devices/terminal/oqs-terminal.yaml")


def maker_file(maker: str) -> Path:
    return project_file(f"fixtures/devices/face_auth/{maker}.yaml")


@attrs.frozen
class ReaderPlan:
    """A face-auth reader twin to build: its behaviour file and the bench's deviations."""

    name: str
    behaviour_file: Path
    deviations: Sequence[Deviation] = ()
    #: Where a broken deviation is blamed (the bench file entry).
    blame: str | None = None


class TwinWorld:
    def __init__(
        self,
        clock: VirtualClock,
        timeline: Timeline,
        readers: Sequence[ReaderPlan],
        *,
        terminal_file: Path | None = None,
        terminal_name: str = "terminal",
        terminal_deviations: Sequence[Deviation] = (),
        monitorless: bool = False,
        receipt_computer: str | None = "receipt_computer",
        general_readers: Mapping[str, str] | None = None,
        upgrade: Upgrade = "none",
    ) -> None:
        self.clock = clock
        self.timeline = timeline
        behaviour = load_with_deviations(
            terminal_file or default_terminal_file(), TerminalBehaviour, terminal_deviations
        )
        self.network = NetworkTwin(behaviour.network, clock, timeline)
        self.receipt_computer = (
            ReceiptComputerTwin(receipt_computer, timeline) if receipt_computer else None
        )
        self.terminal = TerminalTwin(
            behaviour,
            clock,
            timeline,
            name=terminal_name,
            network=self.network,
            receipt_computer=self.receipt_computer,
            monitorless=monitorless,
            upgrade=upgrade,
        )
        self.readers: dict[str, FaceAuthReaderTwin] = {}
        for plan in readers:
            spec = load_device_spec(plan.behaviour_file, plan.deviations, plan.blame)
            if spec.behaviour is None:
                raise RigError(f"{plan.behaviour_file}: no 'behaviour' (not a face-auth reader twin)")
            twin = FaceAuthReaderTwin(plan.name, spec.behaviour, clock, timeline)
            self.terminal.attach_reader(twin)
            self.readers[plan.name] = twin
        for name, app_name in (general_readers or {}).items():
            self.terminal.attach_general_reader(name, app_name)

    @classmethod
    def for_makers(
        cls,
        makers: Sequence[str] = MAKERS,
        *,
        deviations: Mapping[str, Sequence[Deviation]] | None = None,
        clock: VirtualClock | None = None,
        general_readers: Mapping[str, str] | None = None,
        **kwargs: object,
    ) -> TwinWorld:
        """A world with one reader per maker, named after the maker."""
        clock = clock or VirtualClock()
        plans = [
            ReaderPlan(m, maker_file(m), tuple((deviations or {}).get(m, ()))) for m in makers
        ]
        return cls(clock, Timeline(clock), plans, general_readers=general_readers, **kwargs)  # type: ignore[arg-type]

    def reader(self, name: str) -> FaceAuthReaderTwin:
        try:
            return self.readers[name]
        except KeyError:
            raise RigError(f"no face-auth reader twin named {name!r}") from None

    def power_on_all(self, reader_lead_s: float = 20.0, settle_s: float = 120.0) -> None:
        """The usual morning: readers, then the terminal, then the receipt computer."""
        for reader in self.readers.values():
            reader.set_power(True)
        self.clock.advance(reader_lead_s)
        self.terminal.set_power(True)
        self.clock.advance(settle_s)
        if self.receipt_computer is not None:
            self.receipt_computer.set_power(True)
