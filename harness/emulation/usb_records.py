"""What can be plugged into the emulated terminal's USB: its root ports, hubs and devices,
and how a device answers the control transfers that reach it (vendor and class requests).
:class:`~harness.emulation.usb_tree.EmulatedUsbTree` plugs them in."""

from __future__ import annotations

import threading
from typing import Protocol

import attrs
import usb.util

from harness.model.topology import EMULATED_HUB_PORTS, parse_port_path
from harness.model.usb_codes import HIGH_SPEED_MBPS, SPEED_MBPS, SUPERSPEED_MBPS

#: libusb_speed codes by Mbit/s: the speeds a port, hub or device can have.
SPEED_CODES: dict[float, int] = {mbps: code for code, mbps in SPEED_MBPS.items()}


def _check_path(_: object, attribute: attrs.Attribute[str], value: str) -> None:
    parse_port_path(value)  # raises ValueError naming the bad path


def _check_speed(_: object, attribute: attrs.Attribute[float], value: float) -> None:
    if value not in SPEED_CODES:
        speeds = ", ".join(f"{s:g}" for s in sorted(SPEED_CODES))
        raise ValueError(f"{attribute.name} must be one of [{speeds}], not {value}")


@attrs.frozen
class RootPort:
    """A port of the terminal itself. ``usb3``: a blue port (its USB 2 half included)."""

    path: str = attrs.field(validator=_check_path)
    usb3: bool
    #: What the port can do; default 5000 for a USB 3 port, 480 otherwise.
    speed_mbps: float | None = attrs.field(
        default=None, validator=attrs.validators.optional(_check_speed)
    )

    def __attrs_post_init__(self) -> None:
        if len(parse_port_path(self.path)[1]) != 1:
            raise ValueError(f"a root port path has one port number, like '2-1': {self.path!r}")

    @property
    def capability_mbps(self) -> float:
        if self.speed_mbps is not None:
            return float(self.speed_mbps)
        return SUPERSPEED_MBPS if self.usb3 else HIGH_SPEED_MBPS


@attrs.frozen
class ControlRequest:
    """A control transfer as the device sees it."""

    bmRequestType: int
    bRequest: int
    wValue: int
    wIndex: int
    #: OUT: the payload; IN: empty.
    data: bytes
    #: IN: wLength (bytes the host accepts); OUT: len(data).
    length: int

    @property
    def is_in(self) -> bool:
        return bool(self.bmRequestType & usb.util.CTRL_IN)


@attrs.frozen
class VendorReply:
    """What a device answers to a vendor request, and how long it takes to answer."""

    data: bytes = b""
    delay_s: float = 0.0


class VendorHandler(Protocol):
    def __call__(self, request: ControlRequest) -> VendorReply | None:
        """Answer a vendor request; None = the device does not know it (STALL)."""


class EchoHandler:
    """Vendor requests as a loopback: an OUT (0x40) payload is what the next IN (0xC0)
    returns, after ``delay_s`` (a device that takes time to answer)."""

    def __init__(self, delay_s: float = 0.0) -> None:
        self.delay_s = delay_s
        self._stored = b""
        self._lock = threading.Lock()

    def __call__(self, request: ControlRequest) -> VendorReply:
        with self._lock:
            if not request.is_in:
                self._stored = request.data
                return VendorReply(b"", self.delay_s)
            return VendorReply(self._stored[: request.length], self.delay_s)


@attrs.frozen
class EmulatedHub:
    name: str
    path: str = attrs.field(validator=_check_path)
    vid: int
    pid: int
    product: str | None = None
    manufacturer: str | None = None
    #: 2.0 or 3.x; a USB 2 hub limits everything behind it to 480 Mbit/s.
    usb_version: float = 2.0
    ports: int = EMULATED_HUB_PORTS
    #: Switches each port's power (hub class Set/ClearPortFeature PORT_POWER, as uhubctl
    #: drives it); without it the hub says it cannot and ignores those requests.
    port_power: bool = False

    @property
    def capability_mbps(self) -> float:
        return SUPERSPEED_MBPS if self.usb_version >= 3 else HIGH_SPEED_MBPS

    @property
    def max_speed_mbps(self) -> float:
        return self.capability_mbps


@attrs.frozen
class EmulatedDevice:
    name: str
    vid: int
    pid: int
    path: str = attrs.field(validator=_check_path)
    manufacturer: str | None = None
    product: str | None = None
    serial: str | None = None
    bcd_usb: int = 0x0200
    #: bDeviceClass; 0 = class given per interface (usual for CCID readers).
    device_class: int = 0x00
    #: bInterfaceClass of the one interface (0x0B CCID); None = device_class, or 0xFF
    #: (vendor specific) when device_class is 0.
    interface_class: int | None = None
    max_speed_mbps: float = attrs.field(default=480.0, converter=float, validator=_check_speed)
    bcd_device: int = 0x0100
    vendor_handler: VendorHandler | None = attrs.field(default=None, eq=False)
    #: Class requests (a HID report, ...): None = the device STALLs them.
    class_handler: VendorHandler | None = attrs.field(default=None, eq=False)
    #: Opening it fails with LIBUSB_ERROR_ACCESS, as on a bench without a udev rule.
    access_denied: bool = False


Record = EmulatedDevice | EmulatedHub
