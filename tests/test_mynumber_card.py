"""The emulated My Number card and smartphone at APDU level, on all three transports: in
process, through the real pcscd via vpcd, and over nfcpy's udp transport as an ISO-DEP
Type 4B target. The same card object answers; each transport only moves bytes."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from cryptography import x509

from harness.bench import Bench, default_bench_path
from harness.devices.nfc import NfcFrontend
from harness.emulation.card import FileSystemCard
from harness.emulation.nfc_udp import UdpType4BTarget
from harness.model.clock import VirtualClock
from harness.model.timeline import Timeline
from harness.paths import project_file

CARD = project_file("fixtures/cards/mynumber-card.yaml")
PHONE = project_file("fixtures/cards/mynumber-phone.yaml")
JPKI = bytes.fromhex("D392F000260100000001")
CARD_INFO = bytes.fromhex("D3921000310001010408")
READER = "sony-rc-s300-s1"  # the reader the emulated bench serves through vpcd

Send = Callable[[bytes], bytes]


def select_aid(aid: bytes) -> bytes:
    return bytes([0x00, 0xA4, 0x04, 0x0C, len(aid)]) + aid


def select_ef(fid: str) -> bytes:
    return bytes.fromhex("00A4020C02" + fid)


def read(offset: int, length: int) -> bytes:
    return bytes([0x00, 0xB0, offset >> 8, offset & 0xFF, length])


def verify(pin: bytes | None = None) -> bytes:
    return bytes.fromhex("00200080") + (bytes([len(pin)]) + pin if pin else b"")


def read_file(send: Send, fid: str) -> bytes:
    """Read a whole EF: a DER certificate knows its own length, text ends where the card
    says the offset is beyond."""
    assert send(select_ef(fid)) == b"\x90\x00"
    head = send(read(0, 4))
    assert head[-2:] == b"\x90\x00"
    is_der = head[0] == 0x30 and head[1] == 0x82
    total = 4 + int.from_bytes(head[2:4], "big") if is_der else 32
    data = b""
    while len(data) < total:
        part = send(read(len(data), min(0xE0, total - len(data))))
        assert part[-2:] == b"\x90\x00", part.hex()
        data += part[:-2]
    return data


@pytest.fixture(params=["inprocess", "vpcd", "nfc"])
def transport(request: pytest.FixtureRequest) -> Iterator[Callable[[FileSystemCard], Send]]:
    """A function that puts a card on the chosen transport and returns its APDU exchange."""
    kind = request.param
    with_cleanup: list[Callable[[], None]] = []

    def on(card: FileSystemCard) -> Send:
        if kind == "nfc":
            target = UdpType4BTarget(card, name="mynumber", timeline=Timeline(VirtualClock()))
            target.__enter__()
            with_cleanup.append(lambda: target.__exit__(None, None, None))
            target.place()
            frontend = NfcFrontend(target.path, "rcs300", Timeline(VirtualClock()))
            frontend.__enter__()
            with_cleanup.append(lambda: frontend.__exit__(None, None, None))
            conn = frontend.wait_for_card(2.0, targets=("106B",))
            return conn.transmit
        if kind == "vpcd":
            request.getfixturevalue("pcscd_with_vpcd")
        bench = Bench.load(default_bench_path(), pcsc_service=kind).open()
        with_cleanup.append(bench.close)
        emu = bench.emulation
        name = emu.pcsc_names[READER]
        # pcscd must have seen the last bench's card go before this one comes.
        bench.pcsc.wait_for_card(name, timeout=5, present=False)
        emu.insert_card(READER, card)
        bench.pcsc.wait_for_card(name, timeout=5)
        conn = bench.pcsc.connect(name)

        def take_out() -> None:
            conn.close()
            emu.remove_card(READER)
            bench.pcsc.wait_for_card(name, timeout=5, present=False)

        with_cleanup.append(take_out)
        assert conn.atr == card.atr
        return conn.transmit

    yield on
    for clean in reversed(with_cleanup):
        clean()


def test_jpki_applet_token_and_certificates(transport) -> None:  # noqa: ANN001
    send = transport(FileSystemCard.load(CARD))
    assert send(select_aid(JPKI)) == b"\x90\x00"
    assert read_file(send, "0006").rstrip(b" ") == b"JPKIAPICCTOKEN2"
    auth = x509.load_der_x509_certificate(read_file(send, "000A"))
    ca = x509.load_der_x509_certificate(read_file(send, "000B"))
    assert auth.issuer == ca.subject
    assert "test" in auth.subject.rfc4514_string()
    # Reading at an offset gives the same bytes as reading from the start.
    whole = read_file(send, "000A")
    assert send(read(100, 16))[:-2] == whole[100:116]
    assert send(read(len(whole) + 1, 1)) == b"\x6b\x00"


def test_signature_certificate_needs_the_signature_pin(transport) -> None:  # noqa: ANN001
    send = transport(FileSystemCard.load(CARD))
    send(select_aid(JPKI))
    assert send(select_ef("0001")) == b"\x90\x00"
    assert send(read(0, 4)) == b"\x69\x82"
    assert send(select_ef("001B")) == b"\x90\x00"
    assert send(verify()) == b"\x63\xc5"  # five tries
    assert send(verify(b"TESTSIGN2026")) == b"\x90\x00"
    x509.load_der_x509_certificate(read_file(send, "0001"))


def test_auth_pin_locks_after_three_wrong_tries(transport) -> None:  # noqa: ANN001
    card = FileSystemCard.load(CARD)
    send = transport(card)
    send(select_aid(JPKI))
    assert send(select_ef("0018")) == b"\x90\x00"
    assert send(verify()) == b"\x63\xc3"
    assert send(verify(b"0000")) == b"\x63\xc2"
    assert send(verify(b"1234")) == b"\x90\x00"  # a right PIN resets the counter
    assert send(verify()) == b"\x63\xc3"
    assert [send(verify(b"9999")) for _ in range(3)] == [b"\x63\xc2", b"\x63\xc1", b"\x63\xc0"]
    assert send(verify(b"1234")) == b"\x69\x83"  # locked: even the right PIN
    assert send(verify()) == b"\x69\x83"
    assert card.tries_left(JPKI, "auth_pin") == 0


def test_card_info_input_support_applet(transport) -> None:  # noqa: ANN001
    send = transport(FileSystemCard.load(CARD))
    assert send(select_aid(CARD_INFO)) == b"\x90\x00"
    assert send(select_ef("0001")) == b"\x90\x00"
    assert send(read(0, 12)) == b"\x69\x82"
    send(select_ef("0011"))
    assert send(verify(b"1234")) == b"\x90\x00"
    send(select_ef("0001"))
    assert send(read(0, 12)) == b"000000000000\x90\x00"
    # Selecting another applet forgets the verified PIN.
    send(select_aid(JPKI))
    send(select_aid(CARD_INFO))
    send(select_ef("0001"))
    assert send(read(0, 12)) == b"\x69\x82"


def test_status_words_for_bad_commands(transport) -> None:  # noqa: ANN001
    send = transport(FileSystemCard.load(CARD))
    assert send(select_aid(bytes.fromhex("A000000000"))) == b"\x6a\x82"  # unknown applet
    assert send(read(0, 4)) == b"\x69\x86"  # nothing selected
    send(select_aid(JPKI))
    assert send(select_ef("7777")) == b"\x6a\x82"  # unknown file
    assert send(bytes.fromhex("00A4080C020006")) == b"\x6a\x86"  # wrong P1
    assert send(bytes.fromhex("00A4020102000A")) == b"\x6a\x86"  # wrong P2
    assert send(bytes.fromhex("0020000104") + b"1234") == b"\x6a\x88"  # other PIN reference
    assert send(bytes.fromhex("0020010004") + b"1234") == b"\x6a\x86"  # wrong P1
    assert send(bytes.fromhex("00CA000000")) == b"\x6d\x00"  # GET DATA: unsupported
    assert send(bytes.fromhex("80A4040C00")) == b"\x6e\x00"  # proprietary class
    send(select_ef("0018"))
    assert send(read(0, 4)) == b"\x69\x82"  # a PIN is never readable


def test_the_smartphone_has_its_own_token() -> None:
    phone = FileSystemCard.load(PHONE)
    send = phone.transmit
    send(select_aid(JPKI))
    assert read_file(send, "0006").rstrip(b" ") == b"JPKIAPGPSETOKEN"
    assert x509.load_der_x509_certificate(read_file(send, "000A"))
