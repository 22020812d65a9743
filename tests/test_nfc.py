"""The NFC family end to end: nfcpy's real ContactlessFrontend on its udp transport, talking
to an emulated Type 4B card (UdpType4BTarget). No mocks: every byte goes through nfcpy."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

import nfc
import nfc.clf
import nfc.tag.tt4
import pytest

from harness.devices.nfc import NfcCard, NfcFrontend
from harness.emulation.card import CardApplet, CardFile, CardSpec, FileSystemCard
from harness.emulation.nfc_udp import FWT, UdpType4BTarget
from harness.errors import DeviceGone, DeviceTimeout, RigError
from harness.model.clock import VirtualClock
from harness.model.redact import redact_apdu
from harness.model.timeline import Timeline

T = TypeVar("T")

PUPI = bytes.fromhex("A1B2C3D4")
AID = bytes.fromhex("F06F6E7368697269 67".replace(" ", ""))
CONTENT = bytes((i * 7 + 3) % 256 for i in range(600))
PIN = b"1234"

SELECT_AID = bytes([0x00, 0xA4, 0x04, 0x0C, len(AID)]) + AID
SELECT_EF = bytes.fromhex("00A4020C020001")
OK = b"\x90\x00"


def read_binary(offset: int, length: int) -> bytes:
    return bytes([0x00, 0xB0, offset >> 8, offset & 0xFF, length & 0xFF])


class PinCard:
    """The file-system card plus VERIFY; remembers every APDU it actually received."""

    def __init__(self) -> None:
        spec = CardSpec(
            name="mynumber",
            atr="3B 80 80 01 01",
            applets=[
                CardApplet(
                    name="t", aid=AID.hex(), files=[CardFile(fid="0001", content_hex=CONTENT.hex())]
                )
            ],
        )
        self.inner = FileSystemCard(spec)
        self.atr = self.inner.atr
        self.received: list[bytes] = []

    def reset(self) -> None:
        self.inner.reset()

    def transmit(self, apdu: bytes) -> bytes:
        self.received.append(apdu)
        if apdu[1] == 0x20:
            return OK if apdu[5 : 5 + apdu[4]] == PIN else b"\x63\xc2"
        return self.inner.transmit(apdu)


def bounded(fn: Callable[[], T], seconds: float) -> T:
    """Run ``fn`` but fail the test instead of hanging if it takes longer than ``seconds``."""
    box: dict[str, object] = {}

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # re-raised in the test's thread
            box["error"] = exc

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"still blocked after {seconds} s"
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["value"]  # type: ignore[return-value]


@pytest.fixture
def timeline() -> Timeline:
    return Timeline(VirtualClock())  # t is always 0.0: no digits in event reprs but ours


@pytest.fixture
def card() -> PinCard:
    return PinCard()


@pytest.fixture
def target(card: PinCard, timeline: Timeline) -> Iterator[UdpType4BTarget]:
    with UdpType4BTarget(card, name="mynumber-card", timeline=timeline, pupi=PUPI) as t:
        t.place()
        yield t


@pytest.fixture
def reader(target: UdpType4BTarget, timeline: Timeline) -> Iterator[NfcFrontend]:
    with NfcFrontend(target.path, "rcs300", timeline) as frontend:
        yield frontend


def connect(reader: NfcFrontend) -> NfcCard:
    return reader.wait_for_card(2.0, targets=("106B",))


def wire(caplog: pytest.LogCaptureFixture) -> list[tuple[str, bytes]]:
    """ISO-DEP frames as nfcpy's udp driver logged them: ("out" = to the card, "in")."""
    frames = []
    for rec in caplog.records:
        if rec.name == "nfc.clf.udp" and rec.msg.startswith((">>>", "<<<")):
            raw = rec.args[0]
            text = raw.decode() if isinstance(raw, bytes) else raw
            if text.startswith("106B "):
                direction = "out" if rec.msg.startswith(">>>") else "in"
                frames.append((direction, bytes.fromhex(text.split()[1])))
    return frames


def card_events(timeline: Timeline) -> list[dict[str, object]]:
    return [e.data for e in timeline.events("apdu", source="mynumber-card")]


def test_card_is_found_as_type4b_with_its_pupi(
    target: UdpType4BTarget, reader: NfcFrontend, timeline: Timeline
) -> None:
    assert target.path == f"udp:127.0.0.1:{target.port}" and target.port > 0
    # default targets: the 106A poll must go unanswered, then 106B finds the card
    found = reader.wait_for_card(3.0)
    assert isinstance(found.tag, nfc.tag.tt4.Type4BTag)
    assert found.technology == "106B"
    assert found.identifier == PUPI
    assert found.tag.identifier == PUPI
    assert "FWT=0.077" in str(found.tag)  # nfcpy took FWI 8 from our SENSB_RES
    assert found.transmit(SELECT_AID) == OK
    (event,) = timeline.events("nfc.card_found")
    assert event.data["identifier"] == PUPI.hex().upper()


def test_select_and_read_binary_with_response_chaining(
    reader: NfcFrontend, timeline: Timeline, caplog: pytest.LogCaptureFixture
) -> None:
    found = connect(reader)
    assert found.transmit(SELECT_AID) == OK
    assert found.transmit(SELECT_EF) == OK
    pieces = [found.transmit(read_binary(off, 200)) for off in (0, 200, 400)]
    assert all(p[-2:] == OK for p in pieces)
    assert b"".join(p[:-2] for p in pieces) == CONTENT
    assert found.is_present()  # presence check between commands keeps block numbers in step
    caplog.set_level(logging.DEBUG - 1, logger="nfc.clf.udp")  # nfcpy logs the datagrams
    whole = found.transmit(read_binary(0, 256))  # Le 00: 258 bytes > FSD 256 - 3
    assert whole == CONTENT[:256] + OK
    # on the wire: the command, I(chaining) with 253 bytes, R(ACK), the last I-block
    frames = wire(caplog)
    assert [(d, f[0] & 0xF2) for d, f in frames] == [
        ("out", 0x02),
        ("in", 0x12),
        ("out", 0xA2),
        ("in", 0x02),
    ]
    (_, first), (_, ack), (_, last) = frames[1:]
    assert first[0] & 0x10 and len(first) == 1 + 253
    assert ack[0] & 0xFE == 0xA2 and ack[0] & 1 != first[0] & 1
    assert last[0] & 0x10 == 0 and last[0] & 1 == ack[0] & 1 and last[1:] == whole[253:]
    caplog.set_level(logging.WARNING, logger="nfc.clf.udp")
    assert found.transmit(read_binary(256, 2)) == CONTENT[256:258] + OK
    events = card_events(timeline)
    assert [e["blocks_out"] for e in events] == [1, 1, 1, 1, 1, 2, 1]
    assert events[5]["response"] == "<256 bytes> 9000"  # personal data stays out
    # the reader side recorded the same exchange
    reader_side = [e.data for e in timeline.events("apdu", source="rcs300")]
    assert [e["command"] for e in reader_side] == [e["command"] for e in events]


def test_long_command_is_chained_and_reassembled(
    reader: NfcFrontend, card: PinCard, timeline: Timeline, caplog: pytest.LogCaptureFixture
) -> None:
    found = connect(reader)
    long_aid = bytes(range(255))
    command = bytes([0x00, 0xA4, 0x04, 0x00, 255]) + long_aid + b"\x00"  # 261 > 253
    caplog.set_level(logging.DEBUG - 1, logger="nfc.clf.udp")
    assert found.transmit(command) == bytes.fromhex("6A82")
    directions = [(d, f[0] & 0xF2) for d, f in wire(caplog)]
    # I(chaining) out, R(ACK) back, last I-block out, I-block answer back
    assert directions == [("out", 0x12), ("in", 0xA2), ("out", 0x02), ("in", 0x02)]
    assert card.received[-1] == command
    assert card_events(timeline)[-1]["blocks_in"] == 2
    assert found.transmit(SELECT_AID) == OK  # block numbers still in step afterwards


def test_unknown_aid_gives_6a82(reader: NfcFrontend) -> None:
    found = connect(reader)
    assert found.transmit(bytes.fromhex("00A4040C05D392F00000")) == bytes.fromhex("6A82")
    assert found.transmit(SELECT_AID) == OK


def test_target_honours_fsd_and_iso_dep_block_rules(
    target: UdpType4BTarget, timeline: Timeline
) -> None:
    clf = nfc.ContactlessFrontend(target.path)
    try:
        sensed = clf.sense(nfc.clf.RemoteTarget("106B"))
        assert sensed is not None and bytes(sensed.sensb_res) == target.sensb_res()
        assert sensed.sensb_res[1:5] == PUPI
        # ATTRIB with FSDI 2: the reader takes frames of at most 32 bytes
        assert clf.exchange(b"\x1d" + PUPI + b"\x00\x02\x01\x00", 0.1) == b"\x00"
        dep = nfc.tag.tt4.IsoDepInitiator(clf, 256, FWT)
        assert dep.exchange(SELECT_AID) == OK
        assert dep.exchange(SELECT_EF) == OK
        response = dep.exchange(read_binary(0, 100))
        assert response == CONTENT[:100] + OK
        assert card_events(timeline)[-1]["blocks_out"] == 4  # 102 bytes in 29-byte pieces
        picc = dep.pni ^ 1  # the PICC's block number is the one it used last
        # R(NAK) with the PICC's own number: the reader missed its last block, sent again
        assert clf.exchange(bytes([0xB2 | picc]), 0.1) == bytes([0x02 | picc]) + response[87:]
        # R(NAK) with the other number is a presence check: R(ACK) with the PICC's number
        assert clf.exchange(bytes([0xB2 | dep.pni]), 0.1) == bytes([0xA2 | picc])
        assert dep.exchange(read_binary(0, 2)) == CONTENT[:2] + OK
        # S(DESELECT): answered, then the card is halted and ignores I-blocks
        assert clf.exchange(b"\xc2", 0.1) == b"\xc2"
        with pytest.raises(nfc.clf.TimeoutError):
            clf.exchange(bytes([0x02 | dep.pni]) + SELECT_AID, 0.1)
        # the next poll drops the field first (RFOFF), which wakes the card
        assert clf.sense(nfc.clf.RemoteTarget("106B")) is not None
    finally:
        clf.close()


def test_wait_for_card_without_card_times_out(target: UdpType4BTarget, reader: NfcFrontend) -> None:
    target.remove()
    started = time.monotonic()
    with pytest.raises(DeviceTimeout, match="rcs300: no card in the field within 0.2 s"):
        bounded(lambda: reader.wait_for_card(0.2, targets=("106B",)), 5.0)
    # nfcpy's udp driver waits 1 s per unanswered poll; the deadline stops the next one
    assert 0.2 <= time.monotonic() - started < 2.0


def test_card_removed_mid_command_raises_device_gone(
    target: UdpType4BTarget, reader: NfcFrontend, card: PinCard, timeline: Timeline
) -> None:
    found = connect(reader)
    assert found.transmit(SELECT_AID) == OK
    target.delay_next_response(5.0)  # the card would answer only after 5 s ...
    threading.Timer(0.3, target.remove).start()  # ... but leaves after 0.3 s
    started = time.monotonic()
    with pytest.raises(DeviceGone, match=r"left the field") as gone:
        bounded(lambda: found.transmit(read_binary(0, 16)), 4.0)
    assert time.monotonic() - started < 2.0  # cut short by the removal, not the delay
    assert "APDU 00 B0 00 00" in str(gone.value)
    assert card.received[-1] == SELECT_AID  # the card never executed the read
    assert card_events(timeline)[-1]["interrupted"] is True
    with pytest.raises(DeviceGone):  # the ISO-DEP session is over for good
        found.transmit(SELECT_AID)
    assert not found.is_present()
    lost = timeline.events("nfc.card_lost")
    assert len(lost) == 1 and lost[0].data["during"] == "APDU 00 B0 00 00"


def test_slow_card_answers_with_waiting_time_extension(
    target: UdpType4BTarget, reader: NfcFrontend
) -> None:
    found = connect(reader)
    assert found.transmit(SELECT_AID) == OK
    target.delay_next_response(0.6)  # ~8 FWT: without S(WTX) nfcpy would give up
    started = time.monotonic()
    assert found.transmit(SELECT_EF) == OK
    assert time.monotonic() - started >= 0.6
    assert found.transmit(read_binary(0, 4)) == CONTENT[:4] + OK


def test_hot_plug_remove_and_place_again(
    target: UdpType4BTarget, reader: NfcFrontend, timeline: Timeline
) -> None:
    first = connect(reader)
    assert first.transmit(SELECT_AID) == OK
    target.remove()
    with pytest.raises(DeviceGone):
        bounded(lambda: first.transmit(SELECT_EF), 4.0)
    assert not target.placed
    target.place()
    second = connect(reader)
    assert second.identifier == PUPI
    # a fresh activation is a fresh card session: the applet must be selected again
    assert second.transmit(SELECT_EF) == bytes.fromhex("6A82")
    assert second.transmit(SELECT_AID) == OK
    assert second.transmit(SELECT_EF) == OK
    kinds = [e.kind for e in timeline.events("nfc") if e.source == "mynumber-card"]
    assert kinds == ["nfc.card_placed", "nfc.card_removed", "nfc.card_placed"]
    assert len(timeline.events("nfc.card_found")) == 2
    with pytest.raises(DeviceGone):  # the first session ended when the reader polled again
        first.transmit(SELECT_AID)


def test_pin_never_reaches_the_timeline(
    reader: NfcFrontend, card: PinCard, timeline: Timeline
) -> None:
    found = connect(reader)
    assert found.transmit(SELECT_AID) == OK
    verify = bytes([0x00, 0x20, 0x00, 0x80, len(PIN)]) + PIN
    assert found.transmit(verify) == OK
    assert card.received[-1] == verify  # redaction is for logs only: the card got the PIN
    commands = [e.data["command"] for e in timeline.events("apdu")]
    assert commands.count("0020008004<redacted 4 bytes>") == 2  # reader side and card side
    for event in timeline:
        text = repr(event)
        for needle in (PIN.hex(), PIN.hex().upper(), PIN.decode(), "31 32 33 34"):
            assert needle not in text, f"PIN leaked in {text}"


def test_redact_apdu() -> None:
    assert redact_apdu(SELECT_AID) == SELECT_AID.hex().upper()
    assert redact_apdu(bytes.fromhex("0020008004313233340A")) == "0020008004<redacted 4 bytes>0A"
    assert redact_apdu(bytes.fromhex("00200080")) == "00200080"  # case 1: retry counter query
    change = bytes.fromhex("0024000108") + b"12345678"
    assert redact_apdu(change) == "0024000108<redacted 8 bytes>"
    extended = bytes.fromhex("00200080000004313233340000")
    assert redact_apdu(extended) == "00200080000004<redacted 4 bytes>0000"
    # malformed lengths: hide everything after the header
    assert redact_apdu(bytes.fromhex("00200080093132")) == "00200080<redacted 3 bytes>"


def test_open_errors_are_rig_errors(target: UdpType4BTarget) -> None:
    with pytest.raises(RigError, match="no NFC frontend at usb:ffff:fffe"):
        NfcFrontend("usb:ffff:fffe", "nowhere").open()
    with pytest.raises(RigError, match="no NFC frontend at udp:127.0.0.1:port"):
        NfcFrontend("udp:127.0.0.1:port", "typo").open()
    frontend = NfcFrontend(target.path, "rcs300")
    with pytest.raises(RigError, match="not open"):
        frontend.wait_for_card(0.1)
    with frontend, pytest.raises(RigError, match="bad NFC targets"):
        frontend.wait_for_card(0.1, targets=("106X",))


def test_felica_card_is_a_clear_rig_error() -> None:
    """A FeliCa (Type 3) card answering a 212F poll is not a My Number card."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.05)
    stop = threading.Event()
    idm, pmm = bytes.fromhex("0123456789ABCDEF"), bytes.fromhex("00FF000000000000")

    def felica() -> None:  # answers SENSF_REQ like a FeliCa card on nfcpy's udp framing
        while not stop.is_set():
            try:
                raw, peer = sock.recvfrom(1024)
            except OSError:
                continue
            if raw.startswith(b"212F 06"):
                res = b"\x01" + idm + pmm + b"\x00\x03"
                sock.sendto(b"212F " + (bytes([len(res) + 1]) + res).hex().encode(), peer)

    server = threading.Thread(target=felica, daemon=True)
    server.start()
    try:
        with NfcFrontend(f"udp:127.0.0.1:{sock.getsockname()[1]}", "cir315") as frontend:
            with pytest.raises(RigError, match="not an ISO-DEP card") as err:
                frontend.wait_for_card(2.0, targets=("212F",))
            assert "Type3Tag" in str(err.value)
    finally:
        stop.set()
        server.join()
        sock.close()
