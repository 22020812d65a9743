"""The in-process PC/SC tier: emulated readers and cards without pcscd.

It implements :class:`harness.devices.pcsc.PcscService` for machines where pcscd cannot
run; the vpcd tier is preferred wherever it can (it proves the card through real PC/SC).

Its two halves keep apart as they are on a real bench: the emulated side (readers plugged,
cards inserted, the service restarted: what the bench's faults break) and the rig's side
(the protocol calls), which notices what broke the way the pyscard driver does and names it
with the same words (harness.devices.pcsc_faults): a reader gone in the middle of an
exchange, a context or card handle from before a restart.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from harness.devices.pcsc_faults import command_name, pcscd_restarted, reader_gone
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
        #: The emulated service's life: a restart starts a new one. The rig's context and
        #: card handles belong to the life they were opened in.
        self._life = 0
        #: The rig's context: the life it was opened in (None: open a new one next call).
        self._context: int | None = 0
        #: Reader -> what the bench does when the next command to it is out (a fault).
        self._mid_exchange: dict[str, Callable[[], None]] = {}

    # -- the emulated side: readers plugged and pulled, cards inserted and removed ---------
    def add_reader(self, name: str) -> None:
        with self._cond:
            self._cards[name] = None
            # Counted on across a replug: a handle from before it never matches again.
            self._insertions.setdefault(name, 0)
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

    def card_in(self, reader: str) -> ApduCard | None:
        """The card in ``reader`` (None: none, or no such reader)."""
        with self._cond:
            return self._cards.get(reader)

    def restart_service(self) -> None:
        """The service stops and starts again (pcscd restarted): every context and card
        handle opened before answers as pcsc-lite's do after a restart; readers and cards
        stay where they are."""
        with self._cond:
            self._life += 1
            self._cond.notify_all()

    def during_next_exchange(self, reader: str, action: Callable[[], None] | None) -> None:
        """Run ``action`` once the next command to ``reader`` is out, before its answer
        (None: no longer)."""
        with self._cond:
            if action is None:
                self._mid_exchange.pop(reader, None)
            else:
                self._mid_exchange[reader] = action

    def _record(self, kind: str, reader: str) -> None:
        if self.timeline is not None:
            self.timeline.record("pcsc", kind, reader=reader)

    # -- the PcscService protocol ----------------------------------------------------------
    def _use_context(self, during: str) -> None:
        """The rig's side: a context from before a restart fails the call that meets it
        (SCARD_E_INVALID_HANDLE); the call after opens a new one."""
        with self._cond:
            if self._context is None:
                self._context = self._life
            elif self._context != self._life:
                self._context = None
                raise pcscd_restarted(during, "the context answers SCARD_E_INVALID_HANDLE "
                                      "(the service was restarted)")

    def _stale_handle(self, during: str) -> None:
        """A card handle from before a restart failed: the context is as stale."""
        with self._cond:
            if self._context is not None and self._context != self._life:
                self._context = None
        raise pcscd_restarted(during, "the card handle answers SCARD_E_INVALID_HANDLE "
                              "(the service was restarted)")

    def readers(self) -> list[str]:
        self._use_context("listing readers")
        with self._cond:
            return list(self._cards)

    def card_present(self, reader: str) -> bool:
        self._use_context(f"a status query of {reader!r}")
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
        self._use_context(f"connecting to {reader!r}")
        with self._cond:
            card = self._cards.get(reader, "gone")
            if card == "gone":
                raise DeviceGone(reader, "connect", "the reader was unplugged")
            if card is None:
                raise DeviceGone(reader, "connect", "no card in the reader")
            return InProcessConnection(self, reader, card, self._insertions[reader],
                                       self._life)

    def close(self) -> None:
        pass


class InProcessConnection:
    def __init__(self, svc: InProcessPcsc, reader: str, card: ApduCard, insertion: int,
                 life: int) -> None:
        self._svc = svc
        self.reader = reader
        self._card = card
        self._insertion = insertion
        self._life = life
        self.atr = card.atr

    def _still_there(self, apdu: bytes, out: bool) -> None:
        """Fail unless the card this handle was opened on is still in its reader; ``out``:
        the command had gone out (a reader that left then left mid-exchange)."""
        during = f"APDU {apdu[:4].hex(' ').upper()}"
        with self._svc._cond:
            if self._svc._life != self._life:
                stale = True
            else:
                stale = False
                listed = self.reader in self._svc._cards
                same = (
                    self._svc._cards.get(self.reader) is self._card
                    and self._svc._insertions.get(self.reader) == self._insertion
                )
        if stale:
            self._svc._stale_handle(command_name(apdu))
        if out and not listed:
            # The bench's fault: the reader left USB and PC/SC with the command out.
            raise reader_gone(self.reader, apdu, "no answer, and the reader is no longer "
                              "listed (SCARD_E_READER_UNAVAILABLE)", bound_s=0.0)
        if not same:
            raise DeviceGone(self.reader, during, "card removed or reader unplugged")

    def transmit(self, apdu: bytes) -> bytes:
        self._still_there(apdu, out=False)
        with self._svc._cond:
            mid_exchange = self._svc._mid_exchange.pop(self.reader, None)
        response = self._card.transmit(apdu)
        if mid_exchange is not None:
            mid_exchange()
        # A card pulled (or a reader unplugged) while it was working never delivers its
        # answer.
        self._still_there(apdu, out=True)
        if self._svc.timeline is not None:
            self._svc.timeline.record(
                "pcsc", "apdu", reader=self.reader,
                command=redact_apdu(apdu), response=redact_response(response),
            )
        return response

    def close(self) -> None:
        pass
