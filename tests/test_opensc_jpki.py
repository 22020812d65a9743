"""A real client on the emulated My Number card: OpenSC (Debian ``opensc``), through the
real pcscd and the vpcd driver, must recognise it as a JPKI card, list its certificates and
PINs, and verify a PIN; and the rig's transcript of all that shows no PIN."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator

import pytest
from cryptography import x509

from harness.bench import Bench
from harness.emulation.card import FileSystemCard
from harness.emulation.card_certificates import jpki_test_certificates
from harness.paths import project_file
from harness.pytest_plugin import missing_part

READER = "sony-rc-s300-s1"
CARD = project_file("fixtures/cards/mynumber-card.yaml")


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        missing_part(f"{name} not found (apt-get install opensc)")
    return path  # type: ignore[return-value]


@pytest.fixture
def card_in_pcscd(vpcd_bench: Bench) -> Iterator[tuple[Bench, str, FileSystemCard]]:
    emu = vpcd_bench.emulation
    name = emu.pcsc_names[READER]
    vpcd_bench.pcsc.wait_for_card(name, timeout=5, present=False)
    card = FileSystemCard.load(CARD)
    emu.insert_card(READER, card)
    vpcd_bench.pcsc.wait_for_card(name, timeout=5)
    yield vpcd_bench, name, card
    emu.remove_card(READER)
    vpcd_bench.pcsc.wait_for_card(name, timeout=5, present=False)


def run(*argv: str) -> str:
    result = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"{argv}: {result.returncode}\n{result.stdout}{result.stderr}"
    return result.stdout


def test_opensc_recognises_a_jpki_card(card_in_pcscd) -> None:  # noqa: ANN001
    _bench, name, card = card_in_pcscd
    assert run(tool("opensc-tool"), "--reader", name, "--name").strip() == "jpki"
    atr = run(tool("opensc-tool"), "--reader", name, "--atr").strip()
    assert atr.replace(":", " ").upper() == card.atr.hex(" ").upper()


def test_pkcs15_tool_lists_the_certificates(card_in_pcscd) -> None:  # noqa: ANN001
    _bench, name, _card = card_in_pcscd
    out = run(tool("pkcs15-tool"), "--reader", name, "--list-certificates")
    labels = [line.split("[", 1)[1].rstrip("]") for line in out.splitlines()
              if line.startswith("X.509 Certificate [")]
    assert labels == ["User Authentication Certificate", "Digital Signature Certificate",
                      "User Authentication Certificate CA", "Digital Signature Certificate CA"]
    # What OpenSC read is the card's own certificate (its serial number).
    auth = x509.load_der_x509_certificate(jpki_test_certificates()["auth"])
    serial = f"{auth.serial_number:040X}"
    assert serial in out.replace(" ", "")
    assert "private" in out.split("[Digital Signature Certificate]")[1].split("X.509")[0]


def test_pkcs15_tool_lists_the_pins_and_verifies_one(card_in_pcscd) -> None:  # noqa: ANN001
    bench, name, card = card_in_pcscd
    out = run(tool("pkcs15-tool"), "--reader", name, "--list-pins")
    assert "User Authentication PIN" in out and "Digital Signature PIN" in out
    assert "Tries left     : 3" in out and "Tries left     : 5" in out
    run(tool("pkcs15-tool"), "--reader", name, "--verify-pin", "--auth-id", "01",
        "--pin", "1234")
    jpki = bytes.fromhex("D392F000260100000001")
    assert card.tries_left(jpki, "auth_pin") == 3
    # OpenSC's VERIFY went through the rig's vpcd link: on the timeline, redacted.
    verifies = [e.data["command"] for e in bench.timeline.events("apdu")
                if str(e.data.get("command", "")).startswith("0020008004")]
    assert verifies and all("<redacted 4 bytes>" in c for c in verifies)
    assert not any("31323334" in str(e.data) for e in bench.timeline.events())
