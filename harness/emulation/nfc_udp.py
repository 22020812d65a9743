"""An emulated ISO-DEP Type 4B card (a My Number card, or a phone holding its function)
that nfcpy's ``udp`` transport finds like a card on a real reader.

nfcpy's udp driver is the reader (initiator): it sends datagrams ``"<brty> <hex>"`` (or
``RFOFF``) to ``host:port``; this target listens on that port and answers each datagram to
the address it came from (nfcpy opens a new socket, so a new source port, for every poll).

Implemented: ISO/IEC 14443-3 Type B activation (SENSB_REQ/ALLB_REQ, ATTRIB, HLTB) and the
ISO/IEC 14443-4 block protocol: I-blocks with command and response chaining, R(ACK)/R(NAK)
with the PICC block-number rules, S(DESELECT), and S(WTX) while a slow response is pending.
There is no CRC over UDP, so frames are PCB + INF (the 2 EDC bytes still count against FSD).
"""

from __future__ import annotations

import enum
import logging
import math
import os
import socket
import threading
import time
from typing import Self

import attrs

from harness.emulation.card import ApduCard
from harness.model.redact import redact_apdu, redact_response
from harness.model.timeline import Timeline

log = logging.getLogger(__name__)

FS_TABLE = (16, 24, 32, 40, 48, 64, 96, 128, 256)  # FSCI / FSDI -> frame size in bytes
FSCI = 8  # we accept 256-byte frames from the reader
FWI = 8  # FWT = 4096/fc * 2^8 ~ 77 ms: nfcpy times out and retries after one FWT
FWT = 4096 / 13.56e6 * 2**FWI
WTXM = 4  # each S(WTX) buys WTXM x FWT ~ 0.3 s
POLL = 0.05  # how often the serving thread looks at the stop flag

SW_NO_DIAGNOSIS = b"\x6f\x00"


class _State(enum.Enum):
    IDLE = "idle"  # powered, waiting for SENSB_REQ / ALLB_REQ
    READY = "ready"  # answered a poll, waiting for ATTRIB
    ACTIVE = "active"  # ISO-DEP blocks
    HALT = "halt"  # after DESELECT / HLTB: only ALLB_REQ wakes it until the field drops


@attrs.frozen
class _Datagram:
    peer: tuple[str, int]
    rfoff: bool = False
    brty: str = ""
    frame: bytes = b""


class UdpType4BTarget:
    """An ISO-DEP Type 4B PICC serving ``card`` on a loopback UDP port.

    ``place()`` puts it on the reader, ``remove()`` takes it away at once, even in the
    middle of an exchange. APDUs are recorded as ``apdu`` events with PINs redacted.
    """

    def __init__(
        self,
        card: ApduCard,
        host: str = "127.0.0.1",
        port: int = 0,
        name: str = "nfc-card",
        timeline: Timeline | None = None,
        pupi: bytes | None = None,
        placed: bool = False,
    ) -> None:
        self.card = card
        self.name = name
        self.timeline = timeline
        # a random PUPI per card, like privacy-minded Type B cards do
        self.pupi = bytes(pupi) if pupi is not None else os.urandom(4)
        if len(self.pupi) != 4:
            raise ValueError(f"PUPI must be 4 bytes, got {len(self.pupi)}")
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind((host, port))
        self.host: str = self._sock.getsockname()[0]
        self.port: int = self._sock.getsockname()[1]
        self.path = f"udp:{self.host}:{self.port}"

        # shared with callers' threads, guarded by _cond
        self._cond = threading.Condition()
        self._placed = False
        self._generation = 0  # bumped by place()/remove(): lets the server see a power cycle
        self._delay = 0.0
        self._stop = threading.Event()

        # protocol state: only the serving thread touches it
        self._seen_generation = 0
        self._state = _State.IDLE
        self._halted_by: tuple[str, int] | None = None
        self._brty = "106B"
        self._fsd = 256
        self._block = 1  # the PICC block number starts at 1 on activation
        self._chain_in = bytearray()
        self._blocks_in = 0
        self._chain_out = b""
        self._last_block: bytes | None = None

        self._thread = threading.Thread(target=self._serve, name=f"nfc-udp-{name}", daemon=True)
        self._thread.start()
        if placed:
            self.place()

    # -- what tests and the emulated bench call ---------------------------------------

    @property
    def placed(self) -> bool:
        with self._cond:
            return self._placed

    def sensb_res(self) -> bytes:
        """SENSB_RES: 50 + PUPI + application data + protocol info (FSCI, type, FWI)."""
        app_data = b"\x00\x00\x00\x00"  # AFI 0 (all families), no CRC_B(AID), no apps
        proto = bytes([0x00, FSCI << 4 | 0x01, FWI << 4])  # 106 kbps only; ISO 14443-4; no CID/NAD
        return b"\x50" + self.pupi + app_data + proto

    def place(self) -> None:
        """Put the card on the reader: it answers polls from now on."""
        with self._cond:
            if self._placed:
                return
            self._placed = True
            self._generation += 1
            self._cond.notify_all()
        self._record("nfc.card_placed", pupi=self.pupi.hex().upper())

    def remove(self) -> None:
        """Take the card away: from now on it sends nothing, mid-exchange included."""
        with self._cond:
            if not self._placed:
                return
            self._placed = False
            self._generation += 1
            self._cond.notify_all()
        self._record("nfc.card_removed", pupi=self.pupi.hex().upper())

    def delay_next_response(self, seconds: float) -> None:
        """Make the card take ``seconds`` before answering the next command APDU."""
        with self._cond:
            self._delay = max(0.0, seconds)

    def close(self) -> None:
        with self._cond:
            self._stop.set()
            self._cond.notify_all()
        self._thread.join(timeout=5)
        with self._cond:
            self._sock.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transport --------------------------------------------------------------------

    def _serve(self) -> None:
        while not self._stop.is_set():
            dgram = self._recv(POLL)
            if dgram is None:
                continue
            try:
                self._handle(dgram)
            except Exception:  # a broken card must not kill the field: log, keep serving
                log.exception("%s: error handling %s", self.name, dgram)

    def _recv(self, timeout: float) -> _Datagram | None:
        try:
            self._sock.settimeout(timeout)
            raw, peer = self._sock.recvfrom(4096)
        except (TimeoutError, OSError):
            return None
        if raw.startswith(b"RFOFF"):
            return _Datagram(peer, rfoff=True)
        try:
            brty, data = raw.split()
            return _Datagram(peer, brty=brty.decode("ascii"), frame=bytes.fromhex(data.decode()))
        except ValueError:  # not nfcpy's framing: real radios drop garbage too
            log.debug("%s: ignoring datagram %r", self.name, raw[:40])
            return None

    def _send(self, frame: bytes, peer: tuple[str, int], remember: bool = True) -> bool:
        """Send one frame unless the card was removed (or re-placed) since we last looked."""
        with self._cond:  # held while sending, so nothing leaves after remove() returns
            if self._stop.is_set() or not self._placed:
                return False
            if self._generation != self._seen_generation:
                return False
            self._sock.sendto(f"{self._brty} {frame.hex()}".encode("ascii"), peer)
        if remember:
            self._last_block = frame
        return True

    def _current(self) -> bool:
        """Whether the card is on the reader, resetting protocol state after a hot-plug."""
        with self._cond:
            placed, generation = self._placed, self._generation
        if generation != self._seen_generation:
            self._seen_generation = generation
            self._power_off()
        return placed

    def _power_off(self) -> None:
        self._state = _State.IDLE
        self._halted_by = None
        self._chain_in.clear()
        self._blocks_in = 0
        self._chain_out = b""
        self._last_block = None

    # -- ISO/IEC 14443-3 Type B ----------------------------------------------------------

    def _handle(self, d: _Datagram) -> None:
        if not self._current():
            return
        if d.rfoff:  # the reader dropped its field: the card loses power
            self._power_off()
            return
        if not d.brty.endswith("B") or not d.frame:
            return  # Type A / F polls: a Type B card stays silent
        self._brty = d.brty
        frame = d.frame
        if len(frame) == 3 and frame[0] == 0x05:
            self._poll(frame, d.peer)
        elif self._state is _State.READY and frame[0] == 0x1D:
            self._attrib(frame, d.peer)
        elif frame[0] == 0x50 and frame[1:5] == self.pupi and len(frame) == 5:
            if self._state in (_State.READY, _State.ACTIVE) and self._send(b"\x00", d.peer):
                self._halt(d.peer)  # HLTB
        elif self._state is _State.ACTIVE:
            self._iso_dep(frame, d.peer)

    def _poll(self, frame: bytes, peer: tuple[str, int]) -> None:
        if frame[1] != 0x00:
            return  # an AFI for another application family
        allb = bool(frame[2] & 0x08)
        if self._state is _State.HALT and not allb and peer == self._halted_by:
            return  # a halted card ignores SENSB_REQ until the field drops
        # In ACTIVE a poll is not a valid block: the reader lost the session without
        # RFOFF (e.g. its process restarted), which on a real bench is a field reset.
        self._power_off()
        if self._send(self.sensb_res(), peer, remember=False):
            self._state = _State.READY

    def _attrib(self, frame: bytes, peer: tuple[str, int]) -> None:
        if len(frame) < 9 or frame[1:5] != self.pupi:
            return
        self._fsd = FS_TABLE[min(frame[6] & 0x0F, 8)]  # FSDI > 8 is RFU: treat as 256
        if self._send(b"\x00", peer, remember=False):  # MBLI 0, CID 0
            self.card.reset()  # a new activation is a fresh card session
            self._state = _State.ACTIVE
            self._block = 1
            self._last_block = None

    def _halt(self, peer: tuple[str, int]) -> None:
        self._power_off()
        self._state = _State.HALT
        self._halted_by = peer

    # -- ISO/IEC 14443-4 blocks ----------------------------------------------------------

    def _iso_dep(self, frame: bytes, peer: tuple[str, int]) -> None:
        pcb = frame[0]
        if pcb & 0x0C:
            return  # CID or NAD follows: the SENSB_RES announced support for neither
        if pcb & 0xE2 == 0x02:
            self._i_block(pcb, frame[1:], peer)
        elif pcb & 0xE6 == 0xA2:
            self._r_block(pcb, peer)
        elif pcb == 0xC2 and self._send(b"\xc2", peer, remember=False):  # S(DESELECT)
            self._halt(peer)
        # anything else (an S(WTX) reply out of turn, RFU blocks): a PICC stays silent

    def _i_block(self, pcb: int, inf: bytes, peer: tuple[str, int]) -> None:
        # Rule D: toggle on every I-block; taking the reader's number is the same when in
        # step and resynchronises when not.
        self._block = pcb & 0x01
        self._chain_out = b""  # a new command ends any response chain
        self._chain_in += inf
        self._blocks_in += 1
        if pcb & 0x10:  # the reader chains its command: acknowledge, wait for more
            self._send(bytes([0xA2 | self._block]), peer)
            return
        apdu, blocks_in = bytes(self._chain_in), self._blocks_in
        self._chain_in.clear()
        self._blocks_in = 0
        response = self._execute(apdu, blocks_in, peer)
        if response is not None:
            self._chain_out = response
            self._send_chunk(peer)

    def _r_block(self, pcb: int, peer: tuple[str, int]) -> None:
        number, nak = pcb & 0x01, bool(pcb & 0x10)
        if not nak and number != self._block and self._chain_out:
            self._block = number  # Rule E: the reader acknowledged our chained block
            self._send_chunk(peer)
        elif number == self._block:
            if self._last_block is not None:  # Rule 11: the reader missed our last block
                self._send(self._last_block, peer)
        elif nak:  # Rule 12: presence check (or lost command) -> R(ACK) with our number
            self._send(bytes([0xA2 | self._block]), peer)

    def _send_chunk(self, peer: tuple[str, int]) -> None:
        room = self._fsd - 3  # FSD covers PCB and the 2-byte EDC
        chunk, self._chain_out = self._chain_out[:room], self._chain_out[room:]
        more = 0x10 if self._chain_out else 0x00
        self._send(bytes([0x02 | more | self._block]) + chunk, peer)

    # -- running a command ---------------------------------------------------------------

    def _execute(self, apdu: bytes, blocks_in: int, peer: tuple[str, int]) -> bytes | None:
        """The card's response, or None when the card left (or the reader gave up) first."""
        with self._cond:
            delay, self._delay = self._delay, 0.0
        if delay and not self._stall(delay, peer):
            self._record(
                "apdu",
                command=redact_apdu(apdu),
                response=None,
                blocks_in=blocks_in,
                interrupted=True,
            )
            return None
        try:
            response = bytes(self.card.transmit(apdu))
        except Exception:  # a bug in an emulated card: answer like a confused card would
            log.exception("%s: card failed on %s", self.name, redact_apdu(apdu))
            response = SW_NO_DIAGNOSIS
        blocks_out = max(1, math.ceil(len(response) / (self._fsd - 3)))
        self._record(
            "apdu",
            command=redact_apdu(apdu),
            response=redact_response(response),
            blocks_in=blocks_in,
            blocks_out=blocks_out,
        )
        return response

    def _stall(self, seconds: float, peer: tuple[str, int]) -> bool:
        """Take ``seconds`` before answering, asking for waiting time extensions so the
        reader does not time out and retry. False if the card left or the field dropped."""
        deadline = time.monotonic() + seconds
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= FWT / 2:  # fits in the reader's current frame waiting time
                return not self._removed_within(max(remaining, 0.0))
            if not self._send(bytes([0xF2, WTXM]), peer, remember=False):
                return False
            if not self._await_wtx_reply(peer):
                return False
            # the reader now waits WTXM x FWT; use half of it before asking again
            if self._removed_within(min(remaining, WTXM * FWT / 2)):
                return False

    def _removed_within(self, seconds: float) -> bool:
        gen = self._seen_generation
        with self._cond:
            return self._cond.wait_for(
                lambda: self._stop.is_set() or self._generation != gen, timeout=seconds
            )

    def _await_wtx_reply(self, peer: tuple[str, int]) -> bool:
        deadline = time.monotonic() + max(1.0, 4 * FWT)
        while time.monotonic() < deadline:
            with self._cond:
                if self._stop.is_set() or self._generation != self._seen_generation:
                    return False
            d = self._recv(POLL)
            if d is None or d.peer != peer:
                continue
            if d.rfoff:
                self._power_off()
                return False
            if d.frame[:1] == b"\xf2":
                return True
            log.debug("%s: %s while waiting for S(WTX) reply: dropped", self.name, d)
        return False

    def _record(self, kind: str, **data: object) -> None:
        if self.timeline is not None:
            self.timeline.record(self.name, kind, **data)
