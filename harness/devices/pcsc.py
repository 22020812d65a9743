"""The PC/SC family: readers and cards as any PC/SC client sees them.

:class:`PyscardService` is the real path (pyscard over pcsc-lite's pcscd). It serves a real
bench and the emulated bench's ``vpcd`` tier alike: there the card is emulated but pcscd,
the vpcd driver and pyscard are real. The in-process tier implements the same protocol in
``harness.emulation.pcsc_inprocess``.

Bench faults are named here, never mended (harness.devices.pcsc_faults): a reader that left
PC/SC with a command out is ``reader.gone``; a context or card handle pcscd no longer knows
(it restarted) is ``pcscd.restarted`` for the call that met it, and the next call opens a
new context by itself.
"""

from __future__ import annotations

import threading
import time

from harness.devices.pcsc_faults import (
    EXCHANGE_CHECK_S,
    PCSCD_BACK_S,
    command_name,
    pcscd_restarted,
    reader_gone,
)
from harness.errors import BenchFault, DeviceGone, DeviceTimeout, MissingSystemPart, RigError
from harness.model.clock import RealClock
from harness.model.redact import redact_apdu, redact_response
from harness.model.timeline import Timeline
from harness.model.wait import wait_until

#: How often the rig asks pcscd again while it waits on it (wall seconds).
POLL_S = 0.05

#: Wall seconds a card seen gone is given for its reader's hot-plug removal to land too.
HOTPLUG_GRACE_S = 0.5

PCSCD_HINT = (
    "install and start pcscd: apt-get install pcscd libpcsclite-dev vsmartcard-vpcd, then "
    "`onshi-rig pcscd-config --dir DIR` and `pcscd -c DIR` (as root)"
)


def _scard():
    try:
        from smartcard import scard
    except ImportError as exc:  # pyscard is a dependency; its C part needs libpcsclite
        raise MissingSystemPart(f"pyscard cannot load: {exc}", PCSCD_HINT) from None
    return scard


class PyscardService:
    """PC/SC through pyscard; records reader and card events on the timeline."""

    def __init__(self, timeline: Timeline | None = None, source: str = "pcsc") -> None:
        self._s = _scard()
        self.timeline = timeline
        self.source = source
        hresult, self._ctx = self._s.SCardEstablishContext(self._s.SCARD_SCOPE_USER)
        if hresult != self._s.SCARD_S_SUCCESS:
            raise MissingSystemPart(
                f"no PC/SC service: {self._s.SCardGetErrorMessage(hresult).strip()}", PCSCD_HINT
            )
        #: The context met a pcscd that no longer knows it: the next call opens a new one.
        self._stale = False
        self._lock = threading.Lock()
        self._watch_stop = threading.Event()
        self._watcher: threading.Thread | None = None

    def _stale_codes(self) -> tuple[int, ...]:
        s = self._s
        # What pcsc-lite's client answers for a context or handle of a pcscd that is gone
        # or restarted (the socket closed; the new pcscd never issued that handle).
        return (s.SCARD_E_NO_SERVICE, s.SCARD_E_SERVICE_STOPPED, s.SCARD_E_INVALID_HANDLE)

    def _context(self) -> int:
        """The rig's context; after a stale one, a new one (pcscd given PCSCD_BACK_S)."""
        s = self._s
        if not self._stale and self._ctx is not None:
            return self._ctx
        if self._ctx is not None:
            s.SCardReleaseContext(self._ctx)  # its daemon is gone: whatever it answers
            self._ctx = None
        # Wall time: a real daemon coming back (the rig's one bounded wait).
        waited = wait_until(RealClock(), lambda: s.SCardEstablishContext(s.SCARD_SCOPE_USER),
                            lambda got: got[0] == s.SCARD_S_SUCCESS, PCSCD_BACK_S,
                            step_s=POLL_S)
        hresult, ctx = waited.last
        if not waited.ok:
            raise BenchFault(
                "pcscd.restarted", "pcscd",
                f"pcscd did not come back within {PCSCD_BACK_S:g} s after a restart: "
                f"{s.SCardGetErrorMessage(hresult).strip()}", bound_s=PCSCD_BACK_S)
        self._ctx, self._stale = ctx, False
        return ctx

    def _check(self, hresult: int, what: str) -> None:
        if hresult in self._stale_codes():
            self._stale = True
            raise pcscd_restarted(what, self._s.SCardGetErrorMessage(hresult).strip())
        if hresult != self._s.SCARD_S_SUCCESS:
            raise RigError(f"PC/SC {what}: {self._s.SCardGetErrorMessage(hresult).strip()}")

    def readers(self) -> list[str]:
        hresult, readers = self._s.SCardListReaders(self._context(), [])
        if hresult == self._s.SCARD_E_NO_READERS_AVAILABLE:
            return []
        self._check(hresult, "listing readers")
        return list(readers)

    def _state(self, reader: str, timeout_ms: int = 0, known: int | None = None) -> int:
        s = self._s
        current = s.SCARD_STATE_UNAWARE if known is None else known
        hresult, states = s.SCardGetStatusChange(self._context(), timeout_ms,
                                                 [(reader, current)])
        if hresult == s.SCARD_E_TIMEOUT:
            return current
        if hresult == s.SCARD_E_UNKNOWN_READER:
            raise DeviceGone(reader, "a status query", "the reader is no longer known to pcscd")
        self._check(hresult, f"status of {reader!r}")
        return states[0][1]

    def listed(self, reader: str) -> bool:
        """Whether pcscd still lists ``reader`` (it drops a reader that left USB)."""
        return reader in self.readers()

    def card_present(self, reader: str) -> bool:
        return bool(self._state(reader) & self._s.SCARD_STATE_PRESENT)

    def wait_for_card(self, reader: str, timeout: float, present: bool = True) -> None:
        deadline = time.monotonic() + timeout
        state = self._state(reader)
        while bool(state & self._s.SCARD_STATE_PRESENT) != present:
            left = deadline - time.monotonic()
            if left <= 0:
                raise DeviceTimeout(reader, "card" if present else "card removal", timeout)
            state = self._state(reader, int(min(left, 0.5) * 1000) or 1, state & ~self._s.SCARD_STATE_CHANGED)

    def connect(self, reader: str) -> PyscardConnection:
        s = self._s
        hresult, hcard, protocol = s.SCardConnect(
            self._context(), reader, s.SCARD_SHARE_SHARED,
            s.SCARD_PROTOCOL_T0 | s.SCARD_PROTOCOL_T1
        )
        if hresult in (s.SCARD_E_NO_SMARTCARD, s.SCARD_W_REMOVED_CARD):
            raise DeviceGone(reader, "connect", "no card in the reader")
        if hresult == s.SCARD_E_UNKNOWN_READER:
            raise DeviceGone(reader, "connect", "the reader is no longer known to pcscd")
        self._check(hresult, f"connecting to {reader!r}")
        hresult, _name, _state, _proto, atr = s.SCardStatus(hcard)
        self._check(hresult, f"status of the card in {reader!r}")
        return PyscardConnection(self, reader, hcard, protocol, bytes(atr))

    def watch(self, readers: list[str] | None = None, poll: float = 0.2) -> None:
        """Record card insertions and removals on the timeline until :meth:`close`."""
        if self._watcher is not None:
            return
        names = readers if readers is not None else self.readers()
        self._watcher = threading.Thread(
            target=self._watch_loop, args=(names, poll), name="pcsc-watch", daemon=True
        )
        self._watcher.start()

    def _watch_loop(self, names: list[str], poll: float) -> None:
        s = self._s
        hresult, ctx = s.SCardEstablishContext(s.SCARD_SCOPE_USER)
        if hresult != s.SCARD_S_SUCCESS:
            return
        states = [(n, s.SCARD_STATE_UNAWARE) for n in names]
        present = {n: None for n in names}
        try:
            while not self._watch_stop.is_set() and states:
                hresult, new = s.SCardGetStatusChange(ctx, int(poll * 1000), states)
                if hresult == s.SCARD_E_TIMEOUT:
                    continue
                if hresult in self._stale_codes():
                    # pcscd restarted: watch on through a new context (the rig's own
                    # plumbing; the call that met the restart names it).
                    s.SCardReleaseContext(ctx)
                    time.sleep(poll)
                    hresult, ctx = s.SCardEstablishContext(s.SCARD_SCOPE_USER)
                    if hresult != s.SCARD_S_SUCCESS:
                        ctx = 0
                    states = [(n, s.SCARD_STATE_UNAWARE) for n in names]
                    continue
                if hresult != s.SCARD_S_SUCCESS:
                    time.sleep(poll)
                    continue
                states = []
                for name, event_state, _atr in new:
                    now = bool(event_state & s.SCARD_STATE_PRESENT)
                    if present[name] is not None and now != present[name] and self.timeline:
                        kind = "pcsc.card_inserted" if now else "pcsc.card_removed"
                        self.timeline.record(self.source, kind, reader=name)
                    present[name] = now
                    states.append((name, event_state & ~s.SCARD_STATE_CHANGED))
        finally:
            if ctx:
                s.SCardReleaseContext(ctx)

    def close(self) -> None:
        self._watch_stop.set()
        if self._watcher is not None:
            self._watcher.join(timeout=2)
            self._watcher = None
        if self._ctx is not None:
            self._s.SCardReleaseContext(self._ctx)
            self._ctx = None


class PyscardConnection:
    def __init__(
        self, service: PyscardService, reader: str, hcard: int, protocol: int, atr: bytes
    ) -> None:
        self._svc = service
        self._s = service._s
        self.reader = reader
        self._hcard = hcard
        self._protocol = protocol
        self.atr = atr

    def transmit(self, apdu: bytes) -> bytes:
        s = self._s
        if self._hcard is None:
            raise RigError(f"{self.reader}: connection already closed")
        during = f"APDU {apdu[:4].hex(' ').upper()}"
        hresult, response = s.SCardTransmit(self._hcard, self._protocol, list(apdu))
        if hresult in self._svc._stale_codes():
            self._svc._stale = True  # the handle died with its pcscd: so did the context
            raise pcscd_restarted(command_name(apdu), s.SCardGetErrorMessage(hresult).strip())
        if hresult != s.SCARD_S_SUCCESS:
            cause = s.SCardGetErrorMessage(hresult).strip()
            if hresult in (
                s.SCARD_W_REMOVED_CARD,
                s.SCARD_E_NO_SMARTCARD,
                s.SCARD_W_RESET_CARD,
                s.SCARD_E_NOT_TRANSACTED,
                s.SCARD_E_READER_UNAVAILABLE,
                s.SCARD_W_UNPOWERED_CARD,
                s.SCARD_E_UNKNOWN_READER,
            ):
                self._gone_mid_exchange(apdu, cause)
                raise DeviceGone(self.reader, during, cause)
            raise RigError(f"{self.reader}: {during} failed: {cause}")
        rapdu = bytes(response)
        if len(rapdu) < 2:
            # vpcd answers an empty response when its card vanished mid-command; no card
            # may answer without a status word.
            self._gone_mid_exchange(apdu, "an answer without a status word")
            try:  # pcscd notices the removal on its next poll (within about 0.4 s)
                self._svc.wait_for_card(self.reader, timeout=EXCHANGE_CHECK_S, present=False)
            except DeviceTimeout:
                pass
            else:
                raise DeviceGone(self.reader, during, "the card was taken out")
            raise RigError(f"{self.reader}: {during}: answer without a status word ({rapdu.hex()})")
        if self._svc.timeline is not None:
            self._svc.timeline.record(
                self._svc.source, "apdu", reader=self.reader,
                command=redact_apdu(apdu), response=redact_response(rapdu),
            )
        return rapdu

    def _gone_mid_exchange(self, apdu: bytes, seen: str) -> None:
        """The exchange failed: a reader pcscd no longer lists (looked at for up to
        EXCHANGE_CHECK_S) left PC/SC with the command out, a bench fault. A card taken out
        of a reader still there is the caller's to name."""
        absent_since: list[float] = []

        def look() -> tuple[bool, bool]:
            try:
                return self._svc.listed(self.reader), self._svc.card_present(self.reader)
            except DeviceGone:
                return False, False

        def settled(seen_now: tuple[bool, bool]) -> bool:
            listed, present = seen_now
            if not listed:
                return True
            # pcscd may see the card go before the reader's hot-plug removal lands.
            if present:
                absent_since.clear()
                return False
            absent_since[:1] = absent_since[:1] or [time.monotonic()]
            return time.monotonic() - absent_since[0] >= HOTPLUG_GRACE_S

        waited = wait_until(RealClock(), look, settled, EXCHANGE_CHECK_S, step_s=POLL_S)
        if not waited.last[0]:
            raise reader_gone(self.reader, apdu, f"{seen}, and pcscd no longer lists it")

    def close(self) -> None:
        if self._hcard is not None:
            self._s.SCardDisconnect(self._hcard, self._s.SCARD_LEAVE_CARD)
            self._hcard = None
