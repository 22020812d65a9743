"""Behaviour files of emulated devices (``fixtures/devices/``).

They say what a twin does and how it presents itself, written from the notices and public
USB IDs: never loaded from the vendor profiles the twin is checked against.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pydantic

from harness.emulation.behaviour import ReaderBehaviour, load_with_deviations
from harness.emulation.screen_look import ScreenLook
from harness.loading import Field
from harness.model.bench_spec import Deviation
from harness.model.usb_codes import SPEED_MBPS
from harness.model.usb_ids import UsbId

#: A USB binary-coded-decimal release as lsusb prints it: ``2.00``, ``10.00``.
BCD = r"^[0-9]{1,2}\.[0-9]{2}$"


class UsbPresentation(Field):
    vid: UsbId
    pid: UsbId
    #: The maker's IDs are not public: these are stand-ins.
    placeholder: bool = False
    manufacturer: str | None = None
    product: str | None = None
    serial: str | None = None
    #: bcdUSB: the USB release it reports, as lsusb prints it (2.00): binary-coded decimal,
    #: so digits only (an "xyz" failed USB-02 mid-run, a "300.00" passed as 0x30000).
    bcd_usb: str = pydantic.Field(default="2.00", pattern=BCD)
    #: bcdDevice: the firmware release it reports (USB-08), as lsusb prints it.
    bcd_device: str = pydantic.Field(default="1.00", pattern=BCD)
    #: Fastest speed the device can run at (480: USB 2.0 high speed, 5000: USB 3 SuperSpeed):
    #: one of the USB speeds (checked when the file loads, as the emulated tree needs it).
    max_speed_mbps: float = 480
    device_class: int = pydantic.Field(default=0, ge=0, le=255)
    #: Class of its one interface (0x0B: smart card / CCID, 0xFF: vendor specific).
    interface_class: int = pydantic.Field(default=0xFF, ge=0, le=255)

    @pydantic.field_validator("max_speed_mbps")
    @classmethod
    def _a_usb_speed(cls, value: float) -> float:
        speeds = sorted(SPEED_MBPS.values())
        if value not in speeds:
            raise ValueError("one of " + ", ".join(f"{s:g}" for s in speeds))
        return value


class PcscPresentation(Field):
    #: The reader name its driver gives PC/SC (pcsc-lite adds " 00 00").
    reader_name: str


class NfcPresentation(Field):
    #: Polling technologies it reads (nfcpy brty: 106A, 106B, 212F).
    targets: list[str] = ["106A", "106B", "212F"]


class DeviceSpec(Field):
    name: str
    usb: UsbPresentation
    pcsc: PcscPresentation | None = None
    nfc: NfcPresentation | None = None
    #: Face-auth readers: screens, transitions, start-up (see harness.emulation.behaviour).
    behaviour: ReaderBehaviour | None = None
    #: Face-auth readers: how the panel looks (see harness.emulation.screen_look).
    display: ScreenLook | None = None


def load_device_spec(
    path: Path, deviations: Sequence[Deviation] = (), blame: str | None = None
) -> DeviceSpec:
    return load_with_deviations(path, DeviceSpec, deviations, blame)
