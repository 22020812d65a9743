"""The emulated bench's hands: relay power, cables pulled, cards in and out (in-process PC/SC)."""

from __future__ import annotations

import pytest

from harness.errors import DeviceGone, DeviceTimeout
from harness.model.profiles import ProfileSet, default_profiles_dir
from harness.scan import scan

SELECT = bytes.fromhex("00A4040009F06F6E736869726967")


def _row(bench, name):
    return next(r for r in scan(bench, ProfileSet.load(default_profiles_dir())).rows if r.name == name)


def test_relay_powers_the_readers(emulated_bench) -> None:
    relay = emulated_bench.relays["mains"]
    assert relay.is_on(1)
    relay.off(1)  # panasonic's channel
    row = _row(emulated_bench, "panasonic")
    assert not row.present and "not found on USB" in row.note
    relay.on(1)
    assert _row(emulated_bench, "panasonic").present
    power = [(e.source, e.kind) for e in emulated_bench.timeline.events("power")]
    assert ("panasonic", "power.off") in power and power[-1] == ("panasonic", "power.on")
    usb = [(e.source, e.kind) for e in emulated_bench.timeline.events("usb")]
    assert usb[-2:] == [("panasonic", "usb.detach"), ("panasonic", "usb.attach")]


def test_unplugged_reader_leaves_usb_and_pcsc(emulated_bench, test_card) -> None:
    emu = emulated_bench.emulation
    pcsc_name = emu.pcsc_names["elecom-mr-ica001bk"]
    emu.unplug("elecom-mr-ica001bk")
    assert not _row(emulated_bench, "elecom-mr-ica001bk").present
    assert pcsc_name not in emulated_bench.pcsc.readers()
    emu.plug("elecom-mr-ica001bk")
    assert _row(emulated_bench, "elecom-mr-ica001bk").present
    assert pcsc_name in emulated_bench.pcsc.readers()


def test_inprocess_card_events_and_removal_mid_command(emulated_bench, test_card) -> None:
    emu, pcsc = emulated_bench.emulation, emulated_bench.pcsc
    name = emu.pcsc_names["maxell-m-1850s-n2"]
    with pytest.raises(DeviceGone, match="no card"):
        pcsc.connect(name)
    emu.insert_card("maxell-m-1850s-n2", test_card)
    pcsc.wait_for_card(name, timeout=1)
    conn = pcsc.connect(name)
    assert conn.transmit(SELECT) == b"\x90\x00"

    # The card is pulled while it works on the next command: the answer never arrives.
    original = test_card.transmit

    def slow(apdu: bytes) -> bytes:
        emu.remove_card("maxell-m-1850s-n2")
        return original(apdu)

    test_card.transmit = slow  # type: ignore[method-assign]
    with pytest.raises(DeviceGone, match="00 A4 04 00"):
        conn.transmit(SELECT)
    kinds = [e.kind for e in emulated_bench.timeline.events("pcsc") if e.data.get("reader") == name]
    assert kinds[-2:] == ["pcsc.card_inserted", "pcsc.card_removed"]


def test_wait_for_card_uses_the_virtual_clock(emulated_bench) -> None:
    name = emulated_bench.emulation.pcsc_names["sony-rc-s300-s1"]
    before = emulated_bench.clock.now()
    with pytest.raises(DeviceTimeout, match="no card within 30 s"):
        emulated_bench.pcsc.wait_for_card(name, timeout=30)
    assert emulated_bench.clock.now() - before == pytest.approx(30)
