"""An emulated ISO/IEC 7816-4 smart card with applets and transparent files.

The same card object is served in-process, through pcscd via vpcd, and over nfcpy's udp
transport: each transport only moves bytes to :meth:`Card.transmit`.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Protocol

import attrs

from harness.loading import Field, load_yaml_model

SW_OK = b"\x90\x00"
SW_WRONG_LENGTH = b"\x67\x00"
SW_NO_CURRENT_EF = b"\x69\x86"
SW_NOT_FOUND = b"\x6a\x82"
SW_WRONG_P1P2 = b"\x6a\x86"
SW_OFFSET_BEYOND = b"\x6b\x00"
SW_INS_NOT_SUPPORTED = b"\x6d\x00"
SW_CLA_NOT_SUPPORTED = b"\x6e\x00"

INS_SELECT = 0xA4
INS_READ_BINARY = 0xB0


class ApduCard(Protocol):
    """What a transport needs of a card: its ATR and an APDU exchange."""

    atr: bytes

    def transmit(self, apdu: bytes) -> bytes: ...

    def reset(self) -> None: ...


@attrs.frozen
class Apdu:
    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes
    le: int | None

    @classmethod
    def parse(cls, raw: bytes) -> Apdu:
        """Parse a short APDU (cases 1 to 4). Raises ValueError on a malformed one."""
        if len(raw) < 4:
            raise ValueError("APDU shorter than its 4-byte header")
        cla, ins, p1, p2 = raw[:4]
        body = raw[4:]
        if not body:
            return cls(cla, ins, p1, p2, b"", None)
        if len(body) == 1:
            return cls(cla, ins, p1, p2, b"", body[0] or 256)
        lc = body[0]
        if lc == 0 or len(body) not in (1 + lc, 2 + lc):
            raise ValueError("APDU length fields do not match its body")
        le = None if len(body) == 1 + lc else (body[-1] or 256)
        return cls(cla, ins, p1, p2, bytes(body[1 : 1 + lc]), le)


class CardFile(Field):
    fid: str
    content_hex: str = ""


class CardApplet(Field):
    name: str
    aid: str
    files: list[CardFile] = []


class CardSpec(Field):
    """A card behaviour file in ``fixtures/cards/``."""

    name: str
    atr: str
    applets: list[CardApplet]


def _hex(text: str) -> bytes:
    return bytes.fromhex(text.replace(":", " "))


class FileSystemCard:
    """A card with applets selected by AID, and transparent EFs selected by file ID."""

    def __init__(self, spec: CardSpec) -> None:
        self.name = spec.name
        self.atr = _hex(spec.atr)
        self._applets = {
            _hex(a.aid): {_hex(f.fid): _hex(f.content_hex) for f in a.files} for a in spec.applets
        }
        self._lock = threading.Lock()
        self._applet: bytes | None = None
        self._ef: bytes | None = None

    @classmethod
    def load(cls, path: str | Path) -> FileSystemCard:
        return cls(load_yaml_model(Path(path), CardSpec))

    def reset(self) -> None:
        with self._lock:
            self._applet = None
            self._ef = None

    def transmit(self, apdu: bytes) -> bytes:
        try:
            cmd = Apdu.parse(apdu)
        except ValueError:
            return SW_WRONG_LENGTH
        if cmd.cla & 0x80:
            return SW_CLA_NOT_SUPPORTED
        with self._lock:
            if cmd.ins == INS_SELECT:
                return self._select(cmd)
            if cmd.ins == INS_READ_BINARY:
                return self._read_binary(cmd)
        return SW_INS_NOT_SUPPORTED

    def _select(self, cmd: Apdu) -> bytes:
        if cmd.p1 == 0x04:  # by DF name (AID)
            if cmd.data not in self._applets:
                return SW_NOT_FOUND
            self._applet, self._ef = cmd.data, None
            return SW_OK
        if cmd.p1 in (0x00, 0x02):  # by file ID within the selected applet
            files = self._applets.get(self._applet, {}) if self._applet else {}
            if len(cmd.data) != 2:
                return SW_WRONG_LENGTH
            if cmd.data not in files:
                return SW_NOT_FOUND
            self._ef = cmd.data
            return SW_OK
        return SW_WRONG_P1P2

    def _read_binary(self, cmd: Apdu) -> bytes:
        if cmd.p1 & 0x80:  # short EF identifier form: not served by this card
            return SW_WRONG_P1P2
        if self._applet is None or self._ef is None:
            return SW_NO_CURRENT_EF
        content = self._applets[self._applet][self._ef]
        offset = (cmd.p1 << 8) | cmd.p2
        if offset > len(content):
            return SW_OFFSET_BEYOND
        length = cmd.le if cmd.le is not None else 256
        return content[offset : offset + length] + SW_OK
