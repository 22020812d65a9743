"""USB HID relay boards (16c0:05df "USBRelayN"): the rig's driver through pyusb against the
emulated board in the emulated pyusb backend, and a bench powered on through one."""

from __future__ import annotations

import array
from pathlib import Path

import pytest
import usb.core

from harness.bench import Bench
from harness.cli import main
from harness.devices.hid_relay import HidRelay
from harness.devices.instruments import RelayArgumentError, RelayStuck
from harness.emulation.hid_relay import EmulatedHidRelay
from harness.emulation.usb_backend import EmulatedUsbBackend
from harness.emulation.usb_records import EmulatedDevice, RootPort
from harness.emulation.usb_tree import EmulatedUsbTree
from harness.errors import RigError
from harness.paths import project_file


def _tree(*boards: tuple[EmulatedHidRelay, str], others: tuple[EmulatedDevice, ...] = ()
          ) -> EmulatedUsbBackend:
    ports = [RootPort(f"1-{n}", usb3=False) for n in range(1, 5)]
    records = [board.record(path) for board, path in boards]
    return EmulatedUsbBackend(EmulatedUsbTree(ports, devices=[*records, *others]))


def test_on_off_switch_the_boards_own_relay_and_read_back() -> None:
    board = EmulatedHidRelay(4, serial="AB12C")
    relay = HidRelay(_tree((board, "1-2")), serial="AB12C", name="mains")
    assert relay.channels == 4
    relay.on(2)  # channel 2 is the board's relay 3
    assert (board.mask, relay.is_on(2), relay.is_on(1)) == (0b0100, True, False)
    relay.on(0)
    relay.off(2)
    assert board.mask == 0b0001 and relay.read_all() == 0b0001
    relay.all_on()
    assert board.mask == 0b1111
    relay.all_off()
    assert board.mask == 0 and relay.read_serial() == "AB12C"
    relay.close()
    with pytest.raises(RigError, match="used after close"):
        relay.on(0)


def test_the_board_is_picked_by_serial_or_usb_path_among_several() -> None:
    first = EmulatedHidRelay(2, serial="ONE01", name="first")
    second = EmulatedHidRelay(8, serial="TWO02", name="second")
    backend = _tree((first, "1-1"), (second, "1-3"))
    by_serial = HidRelay(backend, serial="TWO02")
    by_path = HidRelay(backend, path="1-1")
    by_serial.on(7)
    by_path.on(1)
    assert (first.mask, second.mask) == (0b10, 0b1000_0000)
    assert (by_serial.channels, by_path.channels) == (8, 2)
    with pytest.raises(RigError) as caught:
        HidRelay(backend, serial="TWO02", path="1-1", name="mains")
    assert str(caught.value) == ("mains (serial TWO02, USB 1-1): no such USB HID relay board "
                                 "(16c0:05df boards seen: serial ONE01 at USB 1-1; one at "
                                 "USB 1-3)")


def test_two_boards_answering_to_one_serial_are_refused_before_any_switch() -> None:
    """Hunt R9: boards flashed with one serial: the first found was driven (the terminal's
    outlet) and its read-back confirmed the switch. Refused at open, naming both ports."""
    terminal = EmulatedHidRelay(4, serial="AAAAA", name="terminal-board")
    readers = EmulatedHidRelay(4, serial="AAAAA", name="readers-board")
    backend = _tree((terminal, "1-1"), (readers, "1-3"))
    with pytest.raises(RigError) as caught:
        HidRelay(backend, serial="AAAAA", name="readers")
    assert str(caught.value) == ("readers (serial AAAAA): 2 USB HID relay boards answer to it "
                                 "(at USB 1-1, USB 1-3): which one is meant is not known; "
                                 "give its usb_path")
    assert (terminal.mask, readers.mask) == (0, 0)
    pinned = HidRelay(backend, serial="AAAAA", path="1-3", name="readers")
    pinned.on(0)
    assert (terminal.mask, readers.mask) == (0, 0b1)


def test_another_16c0_05df_device_is_not_taken_for_a_relay_board() -> None:
    # V-USB's shared ID is used by other gadgets too: only "USBRelayN" is a relay board.
    other = EmulatedDevice("gadget", 0x16C0, 0x05DF, "1-4", product="LEDstrip")
    with pytest.raises(RigError, match="a 'LEDstrip' at USB 1-4, not a USBRelay board"):
        HidRelay(_tree(others=(other,)), path="1-4")


def test_a_channel_the_board_lacks_and_a_welded_contact_are_named() -> None:
    board = EmulatedHidRelay(2, serial="AB12C")
    backend = _tree((board, "1-2"))
    with pytest.raises(RelayArgumentError, match="the board has 2 relays, not 8"):
        HidRelay(backend, serial="AB12C", channels=8)
    relay = HidRelay(backend, serial="AB12C", name="mains")
    with pytest.raises(RelayArgumentError, match="no relay channel 2; this board has channels 0..1"):
        relay.on(2)
    board.stuck_channels.add(1)
    with pytest.raises(RelayStuck, match="after 'SET_REPORT FF 02' the board reads back off"):
        relay.on(1)


def test_the_emulated_board_answers_the_reports_as_labgrid_and_pdudaemon_send_them() -> None:
    # Written from the drivers' side, independently of harness.devices.hid_relay: a bare
    # 2-byte SET_REPORT (labgrid, pdudaemon) and hidapi's interface-recipient one.
    board = EmulatedHidRelay(8, serial="QWERT")
    dev = usb.core.find(backend=_tree((board, "1-1")), idVendor=0x16C0, idProduct=0x05DF)
    assert usb.util.get_string(dev, dev.iProduct) == "USBRelay8"
    dev.ctrl_transfer(0x20, 0x09, 0x0300, 0, array.array("B", [0xFF, 8]))
    dev.ctrl_transfer(0x21, 0x09, 0x0300, 0, array.array("B", [0xFF, 1, 0, 0, 0, 0, 0, 0]))
    dev.ctrl_transfer(0x20, 0x09, 0x0300, 0, array.array("B", [0xFF, 9]))  # no relay 9
    report = bytes(dev.ctrl_transfer(0xA0, 0x01, 0x0300, 0, 8))
    assert report == b"QWERT\x00\x00\x81"
    dev.ctrl_transfer(0x20, 0x09, 0x0300, 0, array.array("B", [0xFC]))
    assert board.mask == 0
    with pytest.raises(usb.core.USBError, match="Pipe error"):  # an input report: STALL
        dev.ctrl_transfer(0xA0, 0x01, 0x0100, 0, 8)


BENCH = """\
bench: hid
kind: emulated
terminal:
  name: terminal
  power: {{relay: mains, channel: 0}}
  usb_ports: [{{path: "2-1", usb: "3.0"}}, {{path: "1-3", usb: "2.0"}}]
power_on:
  - switch_on: [panasonic]
    wait_s: 20
  - switch_on: [terminal]
readers:
  - name: panasonic
    kind: face_auth_reader
    maker: panasonic
    usb: {{vid: "FFFF", pid: "F001", placeholder: true, path: "2-1"}}
    power: {{relay: mains, channel: {channel}}}
    emulate: {devices}/face_auth/panasonic.yaml
instruments:
  - {{name: mains, kind: hid_relay, serial: "{serial}", usb_path: "1-3", channels: 2}}
"""


def _bench(tmp_path: Path, serial: str = "BENCH", channel: int = 1) -> Path:
    path = tmp_path / "bench.yaml"
    path.write_text(BENCH.format(devices=project_file("fixtures/devices"), serial=serial,
                                 channel=channel))
    return path


def test_the_bench_powers_on_in_its_order_through_a_hid_relay(tmp_path: Path) -> None:
    with Bench.load(_bench(tmp_path)) as bench:
        assert bench.emulation is not None
        board = bench.emulation.hid_relays["mains"]
        assert board.named_states() == {"terminal": True, "panasonic": True}
        ons = [(e.t, e.source) for e in bench.timeline.events("power.on")]
        assert ons == [(0.0, "panasonic"), (20.0, "terminal")]
        assert bench.emulation.world.readers["panasonic"].powered
        bench.switch("panasonic", False)
        assert not board.state(1)
        assert "panasonic" not in bench.emulation.usb_tree.enumerated()


def test_no_such_board_or_channel_is_one_line_exit_2(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A real bench (libusb): this machine has no such board.
    real = tmp_path / "real.yaml"
    real.write_text(f"bench: lab\nkind: real\nsysfs_root: {project_file('fixtures/sysfs')}\n"
                    "instruments:\n  - {name: mains, kind: hid_relay, serial: OTHER}\n")
    assert main(["scan", "--bench", str(real)]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("onshi-rig scan: mains (serial OTHER): no ")
    path = _bench(tmp_path, channel=2)
    assert main(["scan", "--bench", str(path)]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line == (f"onshi-rig scan: {path}:16: readers[0].power.channel: "
                    "readers[panasonic].power: relay 'mains' has channels 0..1")
