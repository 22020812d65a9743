"""An emulated ISO/IEC 7816-4 smart card with applets and transparent files.

The same card object is served in-process, through pcscd via vpcd, and over nfcpy's udp
transport: each transport only moves bytes to :meth:`Card.transmit`.
"""

from __future__ import annotations

import re
import string
import threading
from pathlib import Path
from typing import Any, Literal, Protocol

import attrs
import pydantic

from harness.loading import Field, check_all, load_yaml_model

SW_OK = b"\x90\x00"
SW_WRONG_LENGTH = b"\x67\x00"
SW_SECURITY_NOT_SATISFIED = b"\x69\x82"
SW_PIN_BLOCKED = b"\x69\x83"
SW_NO_CURRENT_EF = b"\x69\x86"
SW_NOT_FOUND = b"\x6a\x82"
SW_REFERENCE_NOT_FOUND = b"\x6a\x88"
SW_WRONG_P1P2 = b"\x6a\x86"
SW_OFFSET_BEYOND = b"\x6b\x00"
SW_INS_NOT_SUPPORTED = b"\x6d\x00"
SW_CLA_NOT_SUPPORTED = b"\x6e\x00"

INS_SELECT = 0xA4
INS_READ_BINARY = 0xB0
INS_VERIFY = 0x20


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
    #: Lets a deriving card file (``base``) change this file by name.
    name: str | None = None
    content_hex: str = ""
    #: Text content (ASCII), instead of ``content_hex``.
    content_text: str | None = None
    #: Pad ``content_text`` with spaces to this length.
    pad_to: int | None = None
    #: A test certificate made on loading (harness.emulation.card_certificates.KINDS).
    certificate: Literal["auth", "auth_ca", "sign", "sign_ca"] | None = None
    #: Readable only once this PIN of the applet was verified.
    read_after: str | None = None


_ANY_PIN = re.compile(r".+", re.S)
#: A My Number card's PINs as the card has them (README, "Cards and phones"; J-LIS: the
#: signature password is 6 to 16 capital letters and digits, the others 4 digits): a PIN the
#: card could not have would make a probe pass or fail for the wrong reason.
JPKI_PINS: dict[str, tuple[re.Pattern[str], str]] = {
    "auth_pin": (re.compile(r"[0-9]{4}"), "the authentication PIN must be 4 digits"),
    "sign_pin": (re.compile(r"[0-9A-Z]{6,16}"),
                 "the signature PIN must be 6 to 16 capital letters and digits"),
    "info_pin": (re.compile(r"[0-9]{4}"), "the card-info input PIN must be 4 digits"),
}


class CardPin(Field):
    """A PIN of an applet: an EF selected before VERIFY (P2 = 80), as the JPKI applet does."""

    name: str
    fid: str
    #: The test PIN. It stays in the card: nothing the rig writes shows it.
    value: str
    tries: int = pydantic.Field(default=3, ge=1, le=15)


class CardApplet(Field):
    name: str
    aid: str
    files: list[CardFile] = []
    pins: list[CardPin] = []


class CardSpec(Field):
    """A card behaviour file in ``fixtures/cards/``."""

    name: str
    atr: str
    applets: list[CardApplet]

    @pydantic.model_validator(mode="after")
    def _decodes(self) -> CardSpec:
        """Everything the card will serve decoded now: a bad byte found mid-probe would
        look like the reader's fault."""
        found: list[tuple[tuple[Any, ...], str]] = []
        _check_hex(found, ("atr",), self.atr, 2, 33)
        aids: dict[bytes, str] = {}
        for i, applet in enumerate(self.applets):
            at = ("applets", i)
            aid = _check_hex(found, (*at, "aid"), applet.aid, 1, 16)
            if aid is not None and aids.setdefault(aid, applet.name) != applet.name:
                found.append(((*at, "aid"), f"AID already used by applet {aids[aid]!r}"))
            fids: set[bytes] = set()
            pins: set[str] = set()
            for k, pin in enumerate(applet.pins):
                where = (*at, "pins", k)
                _unique_fid(found, where, pin.fid, fids)
                if pin.name in pins:
                    found.append(((*where, "name"), f"PIN {pin.name!r} listed twice"))
                pins.add(pin.name)
                if not pin.value.isascii() or not pin.value.isprintable() or not pin.value:
                    found.append(((*where, "value"), "a PIN is printable ASCII, not empty"))
                elif not JPKI_PINS.get(pin.name, (_ANY_PIN, ""))[0].fullmatch(pin.value):
                    # Never the value: a test PIN is not written anywhere.
                    found.append(((*where, "value"), JPKI_PINS[pin.name][1]))
            for k, file in enumerate(applet.files):
                where = (*at, "files", k)
                _unique_fid(found, where, file.fid, fids)
                _check_content(found, where, file)
                if file.read_after is not None and file.read_after not in pins:
                    found.append(((*where, "read_after"),
                                  f"no PIN named {file.read_after!r} in applet "
                                  f"{applet.name!r} (PINs: {', '.join(sorted(pins)) or 'none'})"))
        check_all(found)
        return self


def _unique_fid(found: list[tuple[tuple[Any, ...], str]], where: tuple[Any, ...],
                text: str, fids: set[bytes]) -> None:
    """A 2-byte file ID in hex, used once in its applet (PINs and files share the IDs)."""
    fid = _check_hex(found, (*where, "fid"), text, 2, 2)
    if fid is not None and fid in fids:
        found.append(((*where, "fid"), f"file ID {text} used twice"))
    fids.add(fid or b"")


def _check_hex(found: list[tuple[tuple[Any, ...], str]], loc: tuple[Any, ...], text: str,
               least: int, most: int) -> bytes | None:
    try:
        value = _hex(text)
    except ValueError:
        found.append((loc, f"not hex bytes (like \"3B 8A 80\"): {_not_hex(text)}"))
        return None
    if not least <= len(value) <= most:
        size = f"{least}" if least == most else f"{least} to {most}"
        found.append((loc, f"{len(value)} bytes; {size} expected"))
        return None
    return value


#: A file's bytes at most: READ BINARY's offset has 15 bits (P1's top bit says a short EF
#: identifier), so a longer file could not be read whole (a probe failed with 6A86).
MAX_FILE_BYTES = 0x7FFF


def _check_content(found: list[tuple[tuple[Any, ...], str]], loc: tuple[Any, ...],
                   file: CardFile) -> None:
    given = [k for k in ("content_text", "certificate") if getattr(file, k) is not None]
    if file.content_hex:
        given.append("content_hex")
    if len(given) > 1:
        found.append(((*loc, given[1]), f"give one of {' or '.join(given)}"))
    if file.content_text is not None and not file.content_text.isascii():
        found.append(((*loc, "content_text"), "ASCII text only (use content_hex)"))
    if file.content_hex:
        _check_hex(found, (*loc, "content_hex"), file.content_hex, 0, MAX_FILE_BYTES)
    if file.content_text is not None and len(file.content_text) > MAX_FILE_BYTES:
        found.append(((*loc, "content_text"), f"{len(file.content_text)} bytes; at most "
                      f"{MAX_FILE_BYTES} (READ BINARY's offset reaches no further)"))
    if file.pad_to is not None and file.content_text is not None \
            and not 0 <= file.pad_to <= MAX_FILE_BYTES:
        found.append(((*loc, "pad_to"), f"0 to {MAX_FILE_BYTES} bytes"))


def _not_hex(text: str) -> str:
    """Where ``text`` stops being hex bytes, without its value: a card file's content is
    a person's data (name, address, My Number), never printed to a log."""
    for i, char in enumerate(text, 1):
        if char not in string.hexdigits and char not in " :":
            shown = repr(char) if char.isascii() and char.isprintable() else "a character"
            return f"{shown} at character {i} is not a hex digit"
    return "its hex digits do not pair into bytes"


def _hex(text: str) -> bytes:
    return bytes.fromhex(text.replace(":", " "))


def _content(spec: CardFile) -> bytes:
    if spec.certificate is not None:
        from harness.emulation.card_certificates import jpki_test_certificates

        return jpki_test_certificates()[spec.certificate]
    if spec.content_text is not None:
        text = spec.content_text.encode("ascii")
        return text.ljust(spec.pad_to or 0, b" ")
    return _hex(spec.content_hex)


@attrs.define
class _Pin:
    value: bytes
    tries: int
    left: int
    verified: bool = False


@attrs.frozen
class _Ef:
    content: bytes
    read_after: str | None


@attrs.frozen
class _Applet:
    files: dict[bytes, _Ef]
    #: PIN EF file ID -> PIN name.
    pin_files: dict[bytes, str]


class FileSystemCard:
    """A card with applets selected by AID, transparent EFs selected by file ID, and PINs
    verified with VERIFY (retry counters, lock)."""

    def __init__(self, spec: CardSpec) -> None:
        self.name = spec.name
        self.atr = _hex(spec.atr)
        self._applets: dict[bytes, _Applet] = {}
        self._pins: dict[tuple[bytes, str], _Pin] = {}
        for applet in spec.applets:
            aid = _hex(applet.aid)
            files = {_hex(f.fid): _Ef(_content(f), f.read_after) for f in applet.files}
            self._applets[aid] = _Applet(files, {_hex(p.fid): p.name for p in applet.pins})
            for pin in applet.pins:
                self._pins[(aid, pin.name)] = _Pin(pin.value.encode("ascii"), pin.tries,
                                                   pin.tries)
        self._lock = threading.Lock()
        self._applet: bytes | None = None
        self._ef: bytes | None = None

    @classmethod
    def load(cls, path: str | Path) -> FileSystemCard:
        return cls(load_yaml_model(Path(path), CardSpec, layered=True))

    def reset(self) -> None:
        """Power off and on: selections and verified PINs are gone, retry counters stay."""
        with self._lock:
            self._applet = None
            self._ef = None
            for pin in self._pins.values():
                pin.verified = False

    def tries_left(self, aid: bytes, pin: str) -> int:
        with self._lock:
            return self._pins[(aid, pin)].left

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
            if cmd.ins == INS_VERIFY:
                return self._verify(cmd)
        return SW_INS_NOT_SUPPORTED

    def _select(self, cmd: Apdu) -> bytes:
        if cmd.p2 not in (0x00, 0x0C):  # FCI or no response data only
            return SW_WRONG_P1P2
        if cmd.p1 == 0x04:  # by DF name (AID)
            if cmd.data not in self._applets:
                return SW_NOT_FOUND
            if cmd.data != self._applet:
                self._forget_verified()
            self._applet, self._ef = cmd.data, None
            return SW_OK
        if cmd.p1 in (0x00, 0x02):  # by file ID within the selected applet
            applet = self._applets.get(self._applet) if self._applet else None
            if len(cmd.data) != 2:
                return SW_WRONG_LENGTH
            if applet is None or (cmd.data not in applet.files
                                  and cmd.data not in applet.pin_files):
                return SW_NOT_FOUND
            self._ef = cmd.data
            return SW_OK
        return SW_WRONG_P1P2

    def _forget_verified(self) -> None:
        # A PIN verified in one applet means nothing after selecting another.
        for pin in self._pins.values():
            pin.verified = False

    def _read_binary(self, cmd: Apdu) -> bytes:
        if cmd.p1 & 0x80:  # short EF identifier form: not served by this card
            return SW_WRONG_P1P2
        if self._applet is None or self._ef is None:
            return SW_NO_CURRENT_EF
        applet = self._applets[self._applet]
        ef = applet.files.get(self._ef)
        if ef is None:  # a PIN EF is never readable
            return SW_SECURITY_NOT_SATISFIED
        if ef.read_after and not self._pins[(self._applet, ef.read_after)].verified:
            return SW_SECURITY_NOT_SATISFIED
        offset = (cmd.p1 << 8) | cmd.p2
        if offset > len(ef.content):
            return SW_OFFSET_BEYOND
        length = cmd.le if cmd.le is not None else 256
        return ef.content[offset : offset + length] + SW_OK

    def _verify(self, cmd: Apdu) -> bytes:
        if cmd.p1 != 0x00:
            return SW_WRONG_P1P2
        if cmd.p2 != 0x80:  # the PIN of the currently selected PIN EF
            return SW_REFERENCE_NOT_FOUND
        if self._applet is None or self._ef is None:
            return SW_NO_CURRENT_EF
        name = self._applets[self._applet].pin_files.get(self._ef)
        if name is None:
            return SW_REFERENCE_NOT_FOUND
        pin = self._pins[(self._applet, name)]
        if pin.left == 0:
            return SW_PIN_BLOCKED
        if not cmd.data:  # how many tries are left
            return bytes([0x63, 0xC0 | pin.left])
        if cmd.data == pin.value:
            pin.left = pin.tries
            pin.verified = True
            return SW_OK
        pin.left -= 1
        pin.verified = False
        return bytes([0x63, 0xC0 | pin.left])
