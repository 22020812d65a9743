"""The emulated card through the real pcscd and vpcd driver, seen by pyscard and pcsc_scan."""

from __future__ import annotations

import shutil
import subprocess
import threading
import time

import pytest

from harness.bench import Bench, default_bench_path
from harness.errors import DeviceGone, RigError

READER = "sony-rc-s300-s1"
SELECT_TEST_APPLET = bytes.fromhex("00A4040009F06F6E736869726967")
SELECT_FILE = bytes.fromhex("00A40200020001")
READ_BINARY = bytes.fromhex("00B0000000")


def test_pyscard_lists_the_bench_readers_by_their_names(vpcd_bench) -> None:
    names = vpcd_bench.pcsc.readers()
    emu = vpcd_bench.emulation
    assert emu.pcsc_names[READER].startswith("SONY FeliCa Port/PaSoRi 4.0 ")
    assert emu.pcsc_names[READER] in names
    # pcscd holds one vpcd reader; the others are not served there, and say so.
    assert list(emu.vpcd_links) == [READER]
    with pytest.raises(RigError, match="not served through vpcd"):
        emu.insert_card("elecom-mr-ica001bk", None)


def test_scan_says_why_other_readers_have_no_pcsc_name(vpcd_bench) -> None:
    from harness.model.profiles import ProfileSet, default_profiles_dir
    from harness.scan import scan

    rows = {r.name: r for r in scan(vpcd_bench, ProfileSet.load(default_profiles_dir())).rows}
    assert rows[READER].pcsc_name == vpcd_bench.emulation.pcsc_names[READER]
    assert "USB-05" in rows[READER].passed
    elecom = rows["elecom-mr-ica001bk"]
    assert elecom.pcsc_name is None and not elecom.violations
    reason = next(u.reason for u in elecom.unchecked if u.requirement == "USB-05")
    assert "not served through vpcd" in reason and READER in reason


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


def test_pcsc_scan_sees_the_emulated_reader_and_card(vpcd_bench, test_card) -> None:
    tool = shutil.which("pcsc_scan")
    if tool is None:
        from harness.pytest_plugin import missing_part

        missing_part("pcsc_scan is not installed (apt-get install pcsc-tools)")
    emu = vpcd_bench.emulation
    emu.insert_card(READER, test_card)
    vpcd_bench.pcsc.wait_for_card(emu.pcsc_names[READER], timeout=5)
    # -r lists readers; -t 1 stops after the first state report.
    listed = subprocess.run([tool, "-r"], capture_output=True, text=True, timeout=20)
    assert emu.pcsc_names[READER] in listed.stdout
    scanned = subprocess.run(
        [tool, "-t", "1", "-n"], capture_output=True, text=True, timeout=30
    )
    out = scanned.stdout
    assert emu.pcsc_names[READER] in out
    assert test_card.atr.hex(" ").upper() in out


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
