"""The emulated card through the real pcscd and vpcd driver, seen by pyscard and pcsc_scan."""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
import time

import pytest

from harness.bench import Bench, default_bench_path
from harness.errors import DeviceGone

READER = "sony-rc-s300-s1"
SELECT_TEST_APPLET = bytes.fromhex("00A4040009F06F6E736869726967")
SELECT_FILE = bytes.fromhex("00A40200020001")
READ_BINARY = bytes.fromhex("00B0000000")


GENERAL = ("sanwa-adr-mnicu3", "iodata-usb-nfc4e", "abcircle-cir315a-02",
           "maxell-m-1850s-n2", "elecom-mr-ica001bk", READER)


def test_pyscard_lists_the_bench_readers_by_their_names(vpcd_bench) -> None:
    names = vpcd_bench.pcsc.readers()
    emu = vpcd_bench.emulation
    assert emu.pcsc_names[READER] == "SONY FeliCa Port/PaSoRi 4.0 (EMU-sony-rc-s300-s1) 00 00"
    # pcscd-config's reader.conf: every general reader, each under a name of its own.
    assert emu.vpcd.layout == "rig" and tuple(emu.vpcd_links) == GENERAL
    served = [emu.pcsc_names[r] for r in GENERAL]
    assert len(set(served)) == 6 and set(served) <= set(names)
    assert not vpcd_bench.pcsc_gaps


def test_scan_pairs_every_general_reader_with_its_pcsc_name(vpcd_bench) -> None:
    from harness.model.profiles import ProfileSet, default_profiles_dir
    from harness.scan import scan

    rows = {r.name: r for r in scan(vpcd_bench, ProfileSet.load(default_profiles_dir())).rows}
    for reader in GENERAL:
        assert rows[reader].pcsc_name == vpcd_bench.emulation.pcsc_names[reader], reader
        assert "USB-05" in rows[reader].passed, (reader, rows[reader])


def test_card_insert_transmit_remove_through_pcscd(vpcd_bench, test_card) -> None:
    pcsc, emu = vpcd_bench.pcsc, vpcd_bench.emulation
    name = emu.pcsc_names[READER]
    pcsc.watch([name], poll=0.05)
    assert not pcsc.card_present(name)
    emu.insert_card(READER, test_card)
    pcsc.wait_for_card(name, timeout=5)
    conn = pcsc.connect(name)
    assert conn.atr == test_card.atr
    assert conn.transmit(SELECT_TEST_APPLET) == b"\x90\x00"
    assert conn.transmit(SELECT_FILE) == b"\x90\x00"
    assert conn.transmit(READ_BINARY) == b"onshi-rig test file\x90\x00"
    assert conn.transmit(bytes.fromhex("00CA000000")) == b"\x6d\x00"
    conn.close()
    emu.remove_card(READER)
    pcsc.wait_for_card(name, timeout=5, present=False)
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        kinds = [e.kind for e in vpcd_bench.timeline.events("pcsc") if e.data.get("reader") == name]
        if kinds[-2:] == ["pcsc.card_inserted", "pcsc.card_removed"]:
            break
        time.sleep(0.05)
    assert kinds[-2:] == ["pcsc.card_inserted", "pcsc.card_removed"]
    apdus = [e for e in vpcd_bench.timeline.events("apdu") if e.source == "pcsc"]
    assert [e.data["response"] for e in apdus[:3]] == ["9000", "9000", "<19 bytes> 9000"]


def test_card_pulled_mid_command_is_a_clear_error(vpcd_bench, test_card) -> None:
    pcsc, emu = vpcd_bench.pcsc, vpcd_bench.emulation
    name = emu.pcsc_names[READER]
    emu.insert_card(READER, test_card)
    pcsc.wait_for_card(name, timeout=5)
    conn = pcsc.connect(name)
    link = emu.vpcd_links[READER]
    link.delay_next_response(1.0)
    threading.Timer(0.2, emu.remove_card, args=(READER,)).start()
    started = time.monotonic()
    with pytest.raises(DeviceGone) as gone:
        conn.transmit(SELECT_TEST_APPLET)
    assert time.monotonic() - started < 5
    assert name in str(gone.value) and "00 A4 04 00" in str(gone.value)
    # The reader is usable again with the next card.
    emu.insert_card(READER, test_card)
    pcsc.wait_for_card(name, timeout=5)
    assert pcsc.connect(name).transmit(SELECT_TEST_APPLET) == b"\x90\x00"


def test_pcsc_scan_sees_six_general_readers_with_their_cards(vpcd_bench, test_card) -> None:
    tool = shutil.which("pcsc_scan")
    if tool is None:
        from harness.pytest_plugin import missing_part

        missing_part("pcsc_scan is not installed (apt-get install pcsc-tools)")
    emu = vpcd_bench.emulation
    for reader in GENERAL:
        emu.insert_card(reader, test_card)
    for reader in GENERAL:
        vpcd_bench.pcsc.wait_for_card(emu.pcsc_names[reader], timeout=5)
    # -t 1 stops after the first state report: each reader, then its card's ATR.
    scanned = subprocess.run([tool, "-t", "1", "-n"], capture_output=True, text=True,
                             timeout=30).stdout
    atr = test_card.atr.hex(" ").upper()
    for reader in GENERAL:
        # A reader's report: " Reader N: NAME", its event and card state, the card's ATR.
        block = re.search(r"^ Reader \d+: " + re.escape(emu.pcsc_names[reader])
                          + r"\n(.*?)(?=^ Reader |\Z)", scanned, re.M | re.S)
        assert block is not None, (reader, scanned[-6000:])
        assert "Card state: Card inserted" in block.group(1), (reader, block.group(1))
        assert f"ATR: {atr}" in block.group(1), (reader, block.group(1))
    # Each entry's second vpcd slot is listed too, and stays empty.
    assert scanned.count(f"ATR: {atr}") == 6, scanned
    for reader in GENERAL:  # pcscd sees them go before the next test's bench opens
        emu.remove_card(reader)
        vpcd_bench.pcsc.wait_for_card(emu.pcsc_names[reader], timeout=5, present=False)


def test_a_bench_closed_with_a_card_in_leaves_pcscd_ready(pcscd_with_vpcd, test_card) -> None:
    """pcscd notices a vpcd card going only when it polls: closing a bench waits for that,
    or the next bench's first APDU fails with 'Transaction failed'."""
    for _ in range(3):
        with Bench.load(default_bench_path(), pcsc_service="vpcd") as bench:
            emu = bench.emulation
            name = emu.pcsc_names[READER]
            emu.insert_card(READER, test_card)
            bench.pcsc.wait_for_card(name, timeout=5)
            conn = bench.pcsc.connect(name)
            assert conn.transmit(SELECT_TEST_APPLET) == b"\x90\x00"
            conn.close()
