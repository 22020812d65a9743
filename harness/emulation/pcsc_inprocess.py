"""The in-process PC/SC tier: emulated readers and cards without pcscd.

It implements :class:`harness.devices.pcsc.PcscService` for machines where pcscd cannot
run; the vpcd tier is preferred wherever it can (it proves the card through real PC/SC).
"""

from __future__ import annotations

import threading

from harness.emulation.card import ApduCard
from harness.errors import DeviceGone, DeviceTimeout, RigError
from harness.model.clock import Clock, RealClock
from harness.model.redact import redact_apdu, redact_response
from harness.model.timeline import Timeline


class InProcessPcsc:
    def __init__(self, timeline: Timeline | None = None, clock: Clock | None = None) -> None:
        self.timeline = timeline
        self.clock = clock or (timeline.clock if timeline else RealClock())
        self._cards: dict[str, ApduCard | None] = {}
        self._insertions: dict[str, int] = {}
        self._cond = threading.Condition()

    # -- the emulated side: readers plugged and pulled, cards inserted and removed ---------
    def add_reader(self, name: str) -> None:
        with self._cond:
            self._cards[name] = None
            self._insertions[name] = 0
            self._cond.notify_all()
        self._record("pcsc.reader_added", name)

    def remove_reader(self, name: str) -> None:
        with self._cond:
            self._cards.pop(name, None)
            self._cond.notify_all()
        self._record("pcsc.reader_removed", name)

    def insert(self, reader: str, card: ApduCard) -> None:
        with self._cond:
            if reader not in self._cards:
                raise RigError(f"no emulated PC/SC reader {reader!r}")
            card.reset()
            self._cards[reader] = card
            self._insertions[reader] += 1
            self._cond.notify_all()
        self._record("pcsc.card_inserted", reader)

    def remove(self, reader: str) -> None:
        with self._cond:
            self._cards[reader] = None
            self._cond.notify_all()
        self._record("pcsc.card_removed", reader)

    def _record(self, kind: str, reader: str) -> None:
        if self.timeline is not None:
            self.timeline.record("pcsc", kind, reader=reader)

    # -- the PcscService protocol ----------------------------------------------------------
    def readers(self) -> list[str]:
        with self._cond:
            return list(self._cards)

    def card_present(self, reader: str) -> bool:
        with self._cond:
            if reader not in self._cards:
                raise DeviceGone(reader, "a status query", "the reader was unplugged")
            return self._cards[reader] is not None

    def wait_for_card(self, reader: str, timeout: float, present: bool = True) -> None:
        # Emulated cards are placed by the bench itself, so waiting happens on the bench's
        # clock: a virtual 30 s costs nothing.
        if self.card_present(reader) == present:
            return
        self.clock.sleep(timeout)
        if self.card_present(reader) != present:
            raise DeviceTimeout(reader, "card" if present else "card removal", timeout)

    def connect(self, reader: str) -> InProcessConnection:
        with self._cond:
            card = self._cards.get(reader, "gone")
            if card == "gone":
                raise DeviceGone(reader, "connect", "the reader was unplugged")
            if card is None:
                raise DeviceGone(reader, "connect", "no card in the reader")
            return InProcessConnection(self, reader, card, self._insertions[reader])

    def close(self) -> None:
        pass


class InProcessConnection:
    def __init__(self, svc: InProcessPcsc, reader: str, card: ApduCard, insertion: int) -> None:
        self._svc = svc
        self.reader = reader
        self._card = card
        self._insertion = insertion
        self.atr = card.atr

    def _still_there(self, during: str) -> None:
        with self._svc._cond:
            same = (
                self._svc._cards.get(self.reader) is self._card
                and self._svc._insertions.get(self.reader) == self._insertion
            )
        if not same:
            raise DeviceGone(self.reader, during, "card removed or reader unplugged")

    def transmit(self, apdu: bytes) -> bytes:
        during = f"APDU {apdu[:4].hex(' ').upper()}"
        self._still_there(during)
        response = self._card.transmit(apdu)
        # A card pulled while it was working never delivers its answer.
        self._still_there(during)
        if self._svc.timeline is not None:
            self._svc.timeline.record(
                "pcsc", "apdu", reader=self.reader,
                command=redact_apdu(apdu), response=redact_response(response),
            )
        return response

    def close(self) -> None:
        pass
