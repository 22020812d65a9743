"""An emulated USB HID relay board ("USBRelay2/4/8", VID:PID 16c0:05df, the V-USB firmware
labgrid's and pdudaemon's drivers speak), plugged into the emulated USB tree.

The board is driven only through HID class feature reports on endpoint 0:
SET_REPORT ``FF n`` closes relay n (1-based), ``FD n`` opens it, ``FE`` closes all, ``FC``
opens all, ``FA s1..s5`` stores a new serial; GET_REPORT gives 8 bytes: the 5-character
serial, two unused bytes, and the relays as a bitmask (bit n-1 = relay n). A relay number
the board does not have is ignored, as the firmware does.

Like the emulated Numato board, switching a relay records ``power.on`` / ``power.off`` on
the timeline and calls the ``on_change`` callbacks, so the emulated bench powers its
devices up and down.
"""

from __future__ import annotations

from collections.abc import Mapping

from harness.emulation.contacts import OnChange, RelayContacts
from harness.emulation.usb_records import ControlRequest, EmulatedDevice, VendorReply
from harness.emulation.usb_tree import EmulatedUsbTree
from harness.errors import RigError
from harness.model.bench_spec import Instrument
from harness.model.timeline import Timeline
from harness.model.usb_codes import GET_REPORT, HID_CLASS, REPORT_TYPE_FEATURE, SET_REPORT

# The board's own protocol is deliberately not shared with the driver
# (harness.devices.hid_relay): two readings of it let the tests catch a mistake in either.
# The HID class's request codes are the USB specification's (harness.model.usb_codes).
VID, PID = 0x16C0, 0x05DF
MANUFACTURER = "www.dcttech.com"
REPORT_BYTES = 8
SERIAL_BYTES = 5
#: The board kinds made: USBRelay1, 2, 4 and 8.
CHANNEL_COUNTS = (1, 2, 4, 8)



class EmulatedHidRelay(RelayContacts):
    """The board's relays and its feature reports; :meth:`record` plugs it into a tree.

    Channels are numbered from 0 here (as the bench file's ``power.channel``); the board's
    own reports number relays from 1. Fault injection: :attr:`stuck_channels` (welded
    contacts ignore on/off)."""

    def __init__(self, channels: int = 8, *, name: str = "relay board", serial: str = "EMU01",
                 names: Mapping[int, str] | None = None,
                 timeline: Timeline | None = None) -> None:
        if channels not in CHANNEL_COUNTS:
            raise ValueError(f"USB HID relay boards have {CHANNEL_COUNTS} relays, not {channels}")
        if len(serial.encode("ascii")) != SERIAL_BYTES:
            raise ValueError(f"a HID relay board's serial is 5 ASCII characters, not {serial!r}")
        self._init_contacts(channels, name, names, timeline)
        self.serial = serial

    def record(self, path: str) -> EmulatedDevice:
        """The board as a USB device plugged in at ``path`` (a low-speed HID device)."""
        return EmulatedDevice(
            name=self.name, vid=VID, pid=PID, path=path, manufacturer=MANUFACTURER,
            product=f"USBRelay{self.channels}", bcd_usb=0x0110, interface_class=HID_CLASS,
            max_speed_mbps=1.5, class_handler=self,
        )

    # -- the firmware ---------------------------------------------------------------------
    def __call__(self, request: ControlRequest) -> VendorReply | None:
        report_type, report_id = request.wValue >> 8, request.wValue & 0xFF
        if report_type != REPORT_TYPE_FEATURE or report_id != 0:
            return None
        if request.is_in and request.bRequest == GET_REPORT:
            report = self.serial.encode("ascii") + bytes(2) + bytes([self.mask])
            return VendorReply(report[: request.length])
        if not request.is_in and request.bRequest == SET_REPORT:
            if not 1 <= len(request.data) <= REPORT_BYTES:
                return None
            self._command(request.data)
            return VendorReply()
        return None

    def _command(self, data: bytes) -> None:
        command, relay = data[0], data[1] if len(data) > 1 else 0
        match command:
            case 0xFF | 0xFD if 1 <= relay <= self.channels:
                self._switch({relay - 1: command == 0xFF})
            case 0xFE | 0xFC:
                self._switch(dict.fromkeys(range(self.channels), command == 0xFE))
            case 0xFA if len(data) >= 1 + SERIAL_BYTES:
                self.serial = data[1:1 + SERIAL_BYTES].decode("latin-1")
            case _:
                pass  # the firmware ignores what it does not know


def start_hid_relay(inst: Instrument, names: Mapping[int, str], tree: EmulatedUsbTree,
                    timeline: Timeline, on_change: OnChange) -> EmulatedHidRelay:
    """The bench file's ``hid_relay`` instrument as a board plugged in at its ``usb_path``."""
    if inst.usb_path is None:
        raise RigError(f"instrument {inst.name!r}: on an emulated bench a hid_relay needs "
                       "usb_path (where its board is plugged)")
    board = EmulatedHidRelay(inst.channels, name=inst.name, serial=inst.serial or "EMU01",
                             names=names, timeline=timeline)
    board.on_change.append(on_change)
    tree.attach(board.record(inst.usb_path))
    return board
