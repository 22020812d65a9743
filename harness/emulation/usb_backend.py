"""An emulated pyusb backend: CI runs the real ``usb.core`` / ``usb.util`` code against it.

Only the layer under pyusb is emulated (``usb.backend.IBackend``), so
``usb.core.find(find_all=True, backend=...)`` and ``dev.product`` (string descriptors
through ``usb.util.get_string`` and GET_DESCRIPTOR control transfers) behave as with
libusb, including its error codes.

An :class:`EmulatedUsbTree` holds what is plugged where (root ports, hubs, devices) and
does hot-plug; :class:`EmulatedUsbBackend` serves it to pyusb. The tree is also the
topology source for the emulated bench (:meth:`EmulatedUsbTree.topology`).
"""

from __future__ import annotations

import array
import errno
import struct
import threading
from collections.abc import Callable, Iterable
from typing import Protocol

import attrs
import usb.backend
import usb.core
import usb.util

from harness.errors import RigError
from harness.model.timeline import Timeline
from harness.model.topology import UsbTopology, parse_port_path

# libusb return codes (libusb.h) and the errno pyusb's libusb1 backend pairs with them.
LIBUSB_ERROR_INVALID_PARAM = -2
LIBUSB_ERROR_ACCESS = -3
LIBUSB_ERROR_NO_DEVICE = -4
LIBUSB_ERROR_NOT_FOUND = -5
LIBUSB_ERROR_TIMEOUT = -7
LIBUSB_ERROR_PIPE = -9
_LIBUSB_ERRORS: dict[int, tuple[str, int]] = {
    LIBUSB_ERROR_INVALID_PARAM: ("Invalid parameter", errno.EINVAL),
    LIBUSB_ERROR_ACCESS: ("Access denied (insufficient permissions)", errno.EACCES),
    LIBUSB_ERROR_NO_DEVICE: ("No such device (it may have been disconnected)", errno.ENODEV),
    LIBUSB_ERROR_NOT_FOUND: ("Entity not found", errno.ENOENT),
    LIBUSB_ERROR_TIMEOUT: ("Operation timed out", errno.ETIMEDOUT),
    LIBUSB_ERROR_PIPE: ("Pipe error", errno.EPIPE),
}

#: libusb_speed values pyusb has no constant for (libusb >= 1.0.22 / 1.0.27).
SPEED_SUPER_PLUS = 5
SPEED_SUPER_PLUS_X2 = 6
_SPEED_CODES: dict[float, int] = {
    1.5: usb.util.SPEED_LOW,
    12: usb.util.SPEED_FULL,
    480: usb.util.SPEED_HIGH,
    5000: usb.util.SPEED_SUPER,
    10000: SPEED_SUPER_PLUS,
    20000: SPEED_SUPER_PLUS_X2,
}

USB2_PORT_MBPS = 480.0
USB3_PORT_MBPS = 5000.0
HUB_CLASS = 0x09
_CLASS_REQUEST = 1 << 5  # bmRequestType bits 6..5
_VENDOR_REQUEST = 2 << 5
_LANGID_EN_US = 0x0409
_LINUX_FOUNDATION = 0x1D6B


def _usb_error(code: int) -> usb.core.USBError:
    text, err = _LIBUSB_ERRORS[code]
    if code == LIBUSB_ERROR_TIMEOUT:
        return usb.core.USBTimeoutError(text, code, err)
    return usb.core.USBError(text, code, err)


def _check_path(_: object, attribute: attrs.Attribute[str], value: str) -> None:
    parse_port_path(value)  # raises ValueError naming the bad path


def _check_speed(_: object, attribute: attrs.Attribute[float], value: float) -> None:
    if value not in _SPEED_CODES:
        raise ValueError(f"{attribute.name} must be one of {sorted(_SPEED_CODES)}, not {value}")


# ---------------------------------------------------------------------------- the bench


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
        return USB3_PORT_MBPS if self.usb3 else USB2_PORT_MBPS


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
    ports: int = 4
    #: Switches each port's power (hub class Set/ClearPortFeature PORT_POWER, as uhubctl
    #: drives it); without it the hub says it cannot and ignores those requests.
    port_power: bool = False

    @property
    def capability_mbps(self) -> float:
        return USB3_PORT_MBPS if self.usb_version >= 3 else USB2_PORT_MBPS

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


# ---------------------------------------------------------------------------- descriptors


@attrs.frozen
class DeviceDescriptor:
    """The fields pyusb's Device copies from a backend's device descriptor."""

    bLength: int
    bDescriptorType: int
    bcdUSB: int
    bDeviceClass: int
    bDeviceSubClass: int
    bDeviceProtocol: int
    bMaxPacketSize0: int
    idVendor: int
    idProduct: int
    bcdDevice: int
    iManufacturer: int
    iProduct: int
    iSerialNumber: int
    bNumConfigurations: int
    bus: int
    address: int
    port_number: int
    port_numbers: tuple[int, ...] | None
    speed: int

    def pack(self) -> bytes:
        return struct.pack(
            "<BBHBBBBHHHBBBB", self.bLength, self.bDescriptorType, self.bcdUSB,
            self.bDeviceClass, self.bDeviceSubClass, self.bDeviceProtocol,
            self.bMaxPacketSize0, self.idVendor, self.idProduct, self.bcdDevice,
            self.iManufacturer, self.iProduct, self.iSerialNumber, self.bNumConfigurations,
        )  # fmt: skip


@attrs.frozen
class ConfigurationDescriptor:
    bLength: int
    bDescriptorType: int
    wTotalLength: int
    bNumInterfaces: int
    bConfigurationValue: int
    iConfiguration: int
    bmAttributes: int
    bMaxPower: int
    extra_descriptors: tuple[int, ...] = ()

    def pack(self) -> bytes:
        return struct.pack(
            "<BBHBBBBB", self.bLength, self.bDescriptorType, self.wTotalLength,
            self.bNumInterfaces, self.bConfigurationValue, self.iConfiguration,
            self.bmAttributes, self.bMaxPower,
        )  # fmt: skip


@attrs.frozen
class InterfaceDescriptor:
    bLength: int
    bDescriptorType: int
    bInterfaceNumber: int
    bAlternateSetting: int
    bNumEndpoints: int
    bInterfaceClass: int
    bInterfaceSubClass: int
    bInterfaceProtocol: int
    iInterface: int
    extra_descriptors: tuple[int, ...] = ()

    def pack(self) -> bytes:
        return struct.pack(
            "<BBBBBBBBB", self.bLength, self.bDescriptorType, self.bInterfaceNumber,
            self.bAlternateSetting, self.bNumEndpoints, self.bInterfaceClass,
            self.bInterfaceSubClass, self.bInterfaceProtocol, self.iInterface,
        )  # fmt: skip


@attrs.frozen
class EndpointDescriptor:
    bLength: int
    bDescriptorType: int
    bEndpointAddress: int
    bmAttributes: int
    wMaxPacketSize: int
    bInterval: int
    bRefresh: int = 0
    bSynchAddress: int = 0
    extra_descriptors: tuple[int, ...] = ()

    def pack(self) -> bytes:
        return struct.pack(
            "<BBBBHB", self.bLength, self.bDescriptorType, self.bEndpointAddress,
            self.bmAttributes, self.wMaxPacketSize, self.bInterval,
        )  # fmt: skip


def _endpoint(address: int, attributes: int, max_packet: int, interval: int) -> EndpointDescriptor:
    return EndpointDescriptor(7, usb.util.DESC_TYPE_ENDPOINT, address, attributes,
                              max_packet, interval)  # fmt: skip


def _bulk_packet(speed_mbps: float) -> int:
    if speed_mbps >= USB3_PORT_MBPS:
        return 1024
    return 512 if speed_mbps >= USB2_PORT_MBPS else 64


def _string_descriptor(payload: bytes) -> bytes:
    return bytes([2 + len(payload), usb.util.DESC_TYPE_STRING]) + payload


class _EmuDevice:
    """One enumeration of a record: a new one (new address) on every attach, like libusb.

    ``gone`` is set when it is unplugged or unpowered; handles on it then fail.
    """

    def __init__(
        self,
        record: Record | None,
        descriptor: DeviceDescriptor,
        speed_mbps: float,
        interface: InterfaceDescriptor,
        endpoints: tuple[EndpointDescriptor, ...],
        strings: dict[int, str],
        parent: _EmuDevice | None,
    ) -> None:
        self.record = record  # None for a root hub
        self.descriptor = descriptor
        self.speed_mbps = speed_mbps
        self.interface = interface
        self.endpoints = endpoints
        self.strings = strings
        self.parent = parent
        self.gone = threading.Event()
        self.config = ConfigurationDescriptor(
            bLength=9, bDescriptorType=usb.util.DESC_TYPE_CONFIG,
            wTotalLength=9 + 9 + 7 * len(endpoints), bNumInterfaces=1,
            bConfigurationValue=1, iConfiguration=0, bmAttributes=0x80, bMaxPower=50,
        )  # fmt: skip

    @property
    def path(self) -> str | None:
        ports = self.descriptor.port_numbers
        if not ports:
            return None
        return f"{self.descriptor.bus}-{'.'.join(str(p) for p in ports)}"

    def config_bytes(self) -> bytes:
        parts = [self.config.pack(), self.interface.pack()]
        parts += [ep.pack() for ep in self.endpoints]
        return b"".join(parts)

    def string_bytes(self, index: int) -> bytes | None:
        if index == 0:
            return _string_descriptor(struct.pack("<H", _LANGID_EN_US))
        text = self.strings.get(index)
        return None if text is None else _string_descriptor(text.encode("utf-16-le"))


def _make_device(
    record: Record | None,
    bus: int,
    address: int,
    port_numbers: tuple[int, ...] | None,
    speed_mbps: float,
    parent: _EmuDevice | None,
    root_hub_superspeed: bool = False,
) -> _EmuDevice:
    if record is None:  # a root hub, as Linux presents it
        manufacturer, product, serial = "Linux emulated xhci-hcd", "xHCI Host Controller", "emu"
        vid, pid = _LINUX_FOUNDATION, 0x0003 if root_hub_superspeed else 0x0002
        bcd_usb, bcd_device = (0x0300 if root_hub_superspeed else 0x0200), 0x0601
        device_class, interface_class = HUB_CLASS, HUB_CLASS
    elif isinstance(record, EmulatedHub):
        manufacturer, product, serial = record.manufacturer, record.product, None
        vid, pid, bcd_device = record.vid, record.pid, 0x0100
        bcd_usb = 0x0300 if record.usb_version >= 3 else 0x0200
        device_class, interface_class = HUB_CLASS, HUB_CLASS
    else:
        manufacturer, product, serial = record.manufacturer, record.product, record.serial
        vid, pid, bcd_usb, bcd_device = record.vid, record.pid, record.bcd_usb, record.bcd_device
        device_class = record.device_class
        interface_class = record.interface_class
        if interface_class is None:
            interface_class = device_class or 0xFF

    strings: dict[int, str] = {}
    indices = []
    for text in (manufacturer, product, serial):
        index = 0
        if text is not None:
            index = len(strings) + 1
            strings[index] = text
        indices.append(index)

    superspeed = speed_mbps >= USB3_PORT_MBPS
    if device_class == HUB_CLASS:
        # One interrupt IN endpoint for port-change bits.
        endpoints: tuple[EndpointDescriptor, ...] = (_endpoint(0x81, 0x03, 2, 12),)
    else:
        bulk = _bulk_packet(speed_mbps)
        # CCID-like: bulk OUT, bulk IN, interrupt IN (slot change).
        endpoints = (
            _endpoint(0x01, 0x02, bulk, 0),
            _endpoint(0x82, 0x02, bulk, 0),
            _endpoint(0x83, 0x03, 8, 8 if speed_mbps >= USB2_PORT_MBPS else 16),
        )
    interface = InterfaceDescriptor(
        bLength=9, bDescriptorType=usb.util.DESC_TYPE_INTERFACE, bInterfaceNumber=0,
        bAlternateSetting=0, bNumEndpoints=len(endpoints), bInterfaceClass=interface_class,
        bInterfaceSubClass=0, bInterfaceProtocol=0, iInterface=0,
    )  # fmt: skip
    hub_protocol = 3 if superspeed else 1  # hubs: 1 = single TT, 3 = SuperSpeed
    descriptor = DeviceDescriptor(
        bLength=18, bDescriptorType=usb.util.DESC_TYPE_DEVICE, bcdUSB=bcd_usb,
        bDeviceClass=device_class, bDeviceSubClass=0,
        bDeviceProtocol=hub_protocol if device_class == HUB_CLASS else 0,
        bMaxPacketSize0=9 if superspeed else 64,  # SuperSpeed gives it as a power of 2
        idVendor=vid, idProduct=pid, bcdDevice=bcd_device, iManufacturer=indices[0],
        iProduct=indices[1], iSerialNumber=indices[2], bNumConfigurations=1, bus=bus,
        address=address, port_number=port_numbers[-1] if port_numbers else 0,
        port_numbers=port_numbers, speed=_SPEED_CODES[speed_mbps],
    )  # fmt: skip
    return _EmuDevice(record, descriptor, speed_mbps, interface, endpoints, strings, parent)


# ---------------------------------------------------------------------------- the tree


def _depth(record: Record) -> int:
    return len(parse_port_path(record.path)[1])


class EmulatedUsbTree:
    """What is plugged into the emulated terminal; thread-safe, hot-pluggable.

    A record is enumerated when it is plugged, powered, and everything between it and its
    root port is enumerated. ``attach``/``detach``/``set_powered`` record ``usb.attach`` /
    ``usb.detach`` on ``timeline`` for every device that appears or disappears (source:
    the record's name). What is given to the constructor is there from the start and is
    not recorded.
    """

    def __init__(
        self,
        root_ports: Iterable[RootPort],
        hubs: Iterable[EmulatedHub] = (),
        devices: Iterable[EmulatedDevice] = (),
        timeline: Timeline | None = None,
        unpowered: Iterable[str] = (),
    ) -> None:
        self.timeline = timeline
        self._lock = threading.RLock()
        self._ports: dict[str, RootPort] = {}
        for port in root_ports:
            if port.path in self._ports:
                raise RigError(f"emulated USB: root port {port.path} declared twice")
            self._ports[port.path] = port
        self._plugged: dict[str, Record] = {}
        #: Hub ports whose power the hub switched off (by port path): nothing there enumerates.
        self._port_off: set[str] = set()
        #: Called as ``listener(port_path, on)`` after a hub switched a port's power.
        self.port_listeners: list[Callable[[str, bool], None]] = []
        #: Plugged but switched off (a relay-powered device before its channel closes).
        self._unpowered: set[str] = set(unpowered)
        self._live: dict[str, _EmuDevice] = {}
        self._next_address: dict[int, int] = {}
        self._root_hubs: dict[int, _EmuDevice] = {}
        for bus in sorted({parse_port_path(p)[0] for p in self._ports}):
            on_bus = [p for p in self._ports.values() if parse_port_path(p.path)[0] == bus]
            # A bus whose ports are all USB 3 is the SuperSpeed half of the controller.
            superspeed = all(p.usb3 for p in on_bus)
            speed = USB3_PORT_MBPS if superspeed else USB2_PORT_MBPS
            self._root_hubs[bus] = _make_device(None, bus, 1, None, speed, None, superspeed)
            self._next_address[bus] = 2
        for record in [*hubs, *devices]:
            self._plug(record)
        self._refresh(record_events=False)
        #: Called after every change of what is enumerated (outside the tree's lock).
        self.listeners: list[Callable[[], None]] = []

    def _changed(self) -> None:
        for listener in list(self.listeners):
            listener()

    def link(self, name: str) -> tuple[bool, bool, int]:
        """How ``name`` reaches the terminal: (enumerated, at SuperSpeed, hubs between)."""
        with self._lock:
            device = self._live.get(name)
            if device is None:
                return (False, False, 0)
            return (True, device.speed_mbps >= USB3_PORT_MBPS, (device.path or "").count("."))

    # -- hot-plug

    def attach(self, record: Record) -> None:
        """Plug ``record`` in at ``record.path``."""
        with self._lock:
            self._plug(record)
            self._refresh()
        self._changed()

    def detach(self, name: str) -> None:
        """Unplug ``name``; a hub takes everything plugged into it along."""
        with self._lock:
            record = self._plugged.get(name)
            if record is None:
                raise RigError(f"emulated USB: nothing named {name!r} is plugged in")
            below = record.path + "."
            for other in list(self._plugged.values()):
                if other is record or other.path.startswith(below):
                    del self._plugged[other.name]
            self._refresh()
        self._changed()

    def set_powered(self, name: str, powered: bool) -> None:
        """Switch a plugged record's power; an unpowered device is not enumerated."""
        with self._lock:
            if name not in self._plugged:
                raise RigError(f"emulated USB: nothing named {name!r} is plugged in")
            if powered:
                self._unpowered.discard(name)
            else:
                self._unpowered.add(name)
            self._refresh()
        self._changed()

    def set_port_power(self, port_path: str, on: bool) -> None:
        """A hub switches the power of its port ``port_path`` (``1-4.2``): what is plugged
        there leaves USB (or returns) as if unplugged (or plugged), and stays plugged."""
        with self._lock:
            if on:
                self._port_off.discard(port_path)
            else:
                self._port_off.add(port_path)
            self._refresh()
        self._changed()
        for listener in list(self.port_listeners):
            listener(port_path, on)

    def port_powered(self, port_path: str) -> bool:
        with self._lock:
            return port_path not in self._port_off

    def enumerated_at(self, path: str) -> str | None:
        """The name of the record enumerated at port path ``path``, if any."""
        with self._lock:
            return next((d.record.name for d in self._live.values()
                         if d.path == path and d.record is not None), None)

    def root_port_count(self, bus: int) -> int:
        return sum(1 for p in self._ports if parse_port_path(p)[0] == bus)

    def plugged(self) -> list[str]:
        """Names of the records plugged in (enumerated or not)."""
        with self._lock:
            return list(self._plugged)

    def enumerated(self) -> list[str]:
        """Names of the records enumerated now, in port order."""
        with self._lock:
            return [d.record.name for d in self._sorted_live() if d.record is not None]

    # -- topology source

    def topology(self, bus: int, port_numbers: tuple[int, ...]) -> UsbTopology | None:
        if not port_numbers:
            return None
        path = f"{bus}-{'.'.join(str(p) for p in port_numbers)}"
        with self._lock:
            device = next((d for d in self._live.values() if d.path == path), None)
            if device is None:
                return None
            root = self._ports[f"{bus}-{port_numbers[0]}"]
            return UsbTopology(
                path=path,
                speed_mbps=device.speed_mbps,
                root_port_usb3=root.usb3,
                hubs_between=len(port_numbers) - 1,
            )

    # -- for the backend

    def snapshot(self) -> list[_EmuDevice]:
        """Root hubs, then enumerated devices in port order."""
        with self._lock:
            return [*(self._root_hubs[b] for b in sorted(self._root_hubs)), *self._sorted_live()]

    # -- internals

    def _sorted_live(self) -> list[_EmuDevice]:
        return sorted(
            self._live.values(),
            key=lambda d: (d.descriptor.bus, d.descriptor.port_numbers or ()),
        )

    def _plug(self, record: Record) -> None:
        bus, ports = parse_port_path(record.path)
        if record.name in self._plugged:
            raise RigError(f"emulated USB: {record.name!r} is already plugged in")
        root = f"{bus}-{ports[0]}"
        if root not in self._ports:
            raise RigError(f"emulated USB: {record.name}: no root port {root} on this terminal")
        for other in self._plugged.values():
            if other.path == record.path:
                raise RigError(
                    f"emulated USB: {record.name}: port {record.path} already has {other.name}"
                )
        if len(ports) > 1:
            parent_path = record.path.rsplit(".", 1)[0]
            hub = next(
                (r for r in self._plugged.values()
                 if r.path == parent_path and isinstance(r, EmulatedHub)),
                None,
            )  # fmt: skip
            if hub is None:
                raise RigError(f"emulated USB: {record.name}: no hub plugged in at {parent_path}")
            if ports[-1] > hub.ports:
                raise RigError(
                    f"emulated USB: {record.name}: hub {hub.name} has {hub.ports} ports, "
                    f"not {ports[-1]}"
                )
        self._plugged[record.name] = record

    def _refresh(self, record_events: bool = True) -> None:
        """Bring the enumerated set in line with what is plugged and powered."""
        wanted: dict[str, Record] = {}
        by_path: dict[str, Record] = {}
        for record in sorted(self._plugged.values(), key=_depth):
            if record.name in self._unpowered or record.path in self._port_off:
                continue
            parent_path = record.path.rsplit(".", 1)[0] if "." in record.path else None
            if parent_path is not None and parent_path not in by_path:
                continue  # its hub is not enumerated
            wanted[record.name] = record
            by_path[record.path] = record
        # A hub that leaves USB powers its ports again when it next starts (as the kernel
        # does when it sets a hub up).
        self._port_off = {p for p in self._port_off if p.rsplit(".", 1)[0] in by_path}

        # Unplugging: deepest first, as the kernel disconnects children before the hub.
        leaving = [d for n, d in self._live.items() if wanted.get(n) is not d.record]
        for device in sorted(leaving, key=lambda d: -len(d.descriptor.port_numbers or ())):
            assert device.record is not None
            del self._live[device.record.name]
            device.gone.set()
            if record_events:
                self._record("usb.detach", device)

        for record in sorted(wanted.values(), key=_depth):
            if record.name in self._live:
                continue
            bus, ports = parse_port_path(record.path)
            parent_record = by_path.get(record.path.rsplit(".", 1)[0]) if len(ports) > 1 else None
            parent = self._live[parent_record.name] if parent_record else self._root_hubs[bus]
            caps = [self._ports[f"{bus}-{ports[0]}"].capability_mbps]
            caps += [self._live[r.name].speed_mbps for r in self._chain(record, by_path)]
            speed = float(min(record.max_speed_mbps, *caps))
            device = _make_device(record, bus, self._address(bus), ports, speed, parent)
            self._live[record.name] = device
            if record_events:
                self._record("usb.attach", device)

    def _chain(self, record: Record, by_path: dict[str, Record]) -> list[Record]:
        """The hubs between ``record`` and its root port."""
        parts = record.path.split(".")
        return [by_path[".".join(parts[:i])] for i in range(1, len(parts))]

    def _address(self, bus: int) -> int:
        used = {d.descriptor.address for d in self._live.values() if d.descriptor.bus == bus}
        address = self._next_address[bus]
        while address in used or address < 2:
            address = address + 1 if address < 127 else 2
        self._next_address[bus] = address + 1 if address < 127 else 2
        return address

    def _record(self, kind: str, device: _EmuDevice) -> None:
        if self.timeline is None or device.record is None:
            return
        d = device.descriptor
        self.timeline.record(
            device.record.name,
            kind,
            path=device.path,
            vid_pid=f"{d.idVendor:04x}:{d.idProduct:04x}",
            speed_mbps=device.speed_mbps,
        )


# ---------------------------------------------------------------------------- the backend


class _Handle:
    def __init__(self, device: _EmuDevice) -> None:
        self.device = device
        self.configuration = 1  # Linux configures a device when it enumerates
        self.claimed: set[int] = set()
        self.closed = False


class EmulatedUsbBackend(usb.backend.IBackend):
    """pyusb backend serving an :class:`EmulatedUsbTree`, with libusb's error behaviour."""

    def __init__(self, tree: EmulatedUsbTree) -> None:
        self.tree = tree

    # -- descriptors (cached at enumeration, so readable after unplug, as in libusb)

    def enumerate_devices(self) -> list[_EmuDevice]:
        return self.tree.snapshot()

    def get_parent(self, dev: _EmuDevice) -> _EmuDevice | None:
        return dev.parent

    def get_device_descriptor(self, dev: _EmuDevice) -> DeviceDescriptor:
        return dev.descriptor

    def get_configuration_descriptor(self, dev: _EmuDevice, config: int) -> ConfigurationDescriptor:
        if config != 0:
            raise _usb_error(LIBUSB_ERROR_NOT_FOUND)
        return dev.config

    def get_interface_descriptor(
        self, dev: _EmuDevice, intf: int, alt: int, config: int
    ) -> InterfaceDescriptor:
        self.get_configuration_descriptor(dev, config)
        if intf != 0:
            raise IndexError(f"Invalid interface index {intf}")
        if alt != 0:
            raise IndexError(f"Invalid alternate setting index {alt}")
        return dev.interface

    def get_endpoint_descriptor(
        self, dev: _EmuDevice, ep: int, intf: int, alt: int, config: int
    ) -> EndpointDescriptor:
        self.get_interface_descriptor(dev, intf, alt, config)
        if not 0 <= ep < len(dev.endpoints):
            raise IndexError(f"Invalid endpoint index {ep}")
        return dev.endpoints[ep]

    # -- handles

    def open_device(self, dev: _EmuDevice) -> _Handle:
        if dev.gone.is_set():
            raise _usb_error(LIBUSB_ERROR_NO_DEVICE)
        if isinstance(dev.record, EmulatedDevice) and dev.record.access_denied:
            raise _usb_error(LIBUSB_ERROR_ACCESS)
        return _Handle(dev)

    def close_device(self, dev_handle: _Handle) -> None:
        dev_handle.closed = True

    def set_configuration(self, dev_handle: _Handle, config_value: int) -> None:
        self._alive(dev_handle)
        if config_value not in (0, dev_handle.device.config.bConfigurationValue):
            raise _usb_error(LIBUSB_ERROR_NOT_FOUND)
        dev_handle.configuration = config_value

    def get_configuration(self, dev_handle: _Handle) -> int:
        self._alive(dev_handle)
        return dev_handle.configuration

    def set_interface_altsetting(self, dev_handle: _Handle, intf: int, altsetting: int) -> None:
        self._alive(dev_handle)
        if intf != 0 or altsetting != 0:
            raise _usb_error(LIBUSB_ERROR_NOT_FOUND)

    def claim_interface(self, dev_handle: _Handle, intf: int) -> None:
        self._alive(dev_handle)
        if intf != 0:
            raise _usb_error(LIBUSB_ERROR_NOT_FOUND)
        dev_handle.claimed.add(intf)

    def release_interface(self, dev_handle: _Handle, intf: int) -> None:
        self._alive(dev_handle)
        if intf not in dev_handle.claimed:
            raise _usb_error(LIBUSB_ERROR_NOT_FOUND)
        dev_handle.claimed.discard(intf)

    def clear_halt(self, dev_handle: _Handle, ep: int) -> None:
        self._alive(dev_handle)

    def reset_device(self, dev_handle: _Handle) -> None:
        self._alive(dev_handle)

    def is_kernel_driver_active(self, dev_handle: _Handle, intf: int) -> bool:
        self._alive(dev_handle)
        # Only hubs are bound to a kernel driver; readers are left to pcscd/libusb.
        return dev_handle.device.descriptor.bDeviceClass == HUB_CLASS

    def detach_kernel_driver(self, dev_handle: _Handle, intf: int) -> None:
        if not self.is_kernel_driver_active(dev_handle, intf):
            raise _usb_error(LIBUSB_ERROR_NOT_FOUND)

    def attach_kernel_driver(self, dev_handle: _Handle, intf: int) -> None:
        self._alive(dev_handle)

    # -- transfers

    def ctrl_transfer(
        self,
        dev_handle: _Handle,
        bmRequestType: int,
        bRequest: int,
        wValue: int,
        wIndex: int,
        data: array.array[int],
        timeout: int,
    ) -> int:
        device = self._alive(dev_handle)
        length = len(data) * data.itemsize
        request = ControlRequest(
            bmRequestType, bRequest, wValue, wIndex,
            b"" if bmRequestType & usb.util.CTRL_IN else data.tobytes(), length,
        )  # fmt: skip
        kind = bmRequestType & (3 << 5)
        if kind == _VENDOR_REQUEST:
            reply = self._vendor(device, request, timeout)
        elif kind == _CLASS_REQUEST:
            reply = self._class(device, request, timeout)
        else:
            reply = self._standard(dev_handle, request)
        if not request.is_in:
            return length
        answer = reply[:length]
        data[: len(answer)] = array.array("B", answer)
        return len(answer)

    def bulk_write(self, dev_handle: _Handle, ep: int, intf: int, data: array.array[int],
                   timeout: int) -> int:  # fmt: skip
        self._alive(dev_handle)
        return len(data) * data.itemsize

    def intr_write(self, dev_handle: _Handle, ep: int, intf: int, data: array.array[int],
                   timeout: int) -> int:  # fmt: skip
        return self.bulk_write(dev_handle, ep, intf, data, timeout)

    def bulk_read(self, dev_handle: _Handle, ep: int, intf: int, buff: array.array[int],
                  timeout: int) -> int:  # fmt: skip
        # The emulated device never sends on its IN endpoints: wait out the timeout.
        device = self._alive(dev_handle)
        self._wait(device, None, timeout)
        raise _usb_error(LIBUSB_ERROR_TIMEOUT)

    def intr_read(self, dev_handle: _Handle, ep: int, intf: int, buff: array.array[int],
                  timeout: int) -> int:  # fmt: skip
        return self.bulk_read(dev_handle, ep, intf, buff, timeout)

    # -- internals

    def _alive(self, dev_handle: _Handle) -> _EmuDevice:
        if dev_handle.closed:
            raise _usb_error(LIBUSB_ERROR_INVALID_PARAM)
        if dev_handle.device.gone.is_set():
            raise _usb_error(LIBUSB_ERROR_NO_DEVICE)
        return dev_handle.device

    def _standard(self, dev_handle: _Handle, request: ControlRequest) -> bytes:
        device = dev_handle.device
        if request.is_in and request.bRequest == 0x06:  # GET_DESCRIPTOR
            kind, index = request.wValue >> 8, request.wValue & 0xFF
            answer: bytes | None = None
            if kind == usb.util.DESC_TYPE_DEVICE:
                answer = device.descriptor.pack()
            elif kind == usb.util.DESC_TYPE_CONFIG and index == 0:
                answer = device.config_bytes()
            elif kind == usb.util.DESC_TYPE_STRING:
                answer = device.string_bytes(index)
            if answer is None:
                raise _usb_error(LIBUSB_ERROR_PIPE)  # the device STALLs unknown descriptors
            return answer
        if request.is_in and request.bRequest == 0x00:  # GET_STATUS
            return b"\x00\x00"
        if request.is_in and request.bRequest == 0x08:  # GET_CONFIGURATION
            return bytes([dev_handle.configuration])
        if not request.is_in and request.bRequest == 0x09:  # SET_CONFIGURATION
            self.set_configuration(dev_handle, request.wValue & 0xFF)
            return b""
        if not request.is_in and request.bRequest in (0x01, 0x03):  # CLEAR/SET_FEATURE
            return b""
        raise _usb_error(LIBUSB_ERROR_PIPE)

    def _class(self, device: _EmuDevice, request: ControlRequest, timeout: int) -> bytes:
        if device.descriptor.bDeviceClass == HUB_CLASS:
            from harness.emulation.hub_ports import hub_request

            answer = hub_request(self.tree, device, request)
            if answer is None:
                raise _usb_error(LIBUSB_ERROR_PIPE)
            return answer
        handler = (
            device.record.class_handler if isinstance(device.record, EmulatedDevice) else None
        )
        return self._answer(device, handler, request, timeout)

    def _vendor(self, device: _EmuDevice, request: ControlRequest, timeout: int) -> bytes:
        handler = (
            device.record.vendor_handler if isinstance(device.record, EmulatedDevice) else None
        )
        return self._answer(device, handler, request, timeout)

    def _answer(self, device: _EmuDevice, handler: VendorHandler | None,
                request: ControlRequest, timeout: int) -> bytes:
        reply = handler(request) if handler is not None else None
        if reply is None:
            raise _usb_error(LIBUSB_ERROR_PIPE)
        self._wait(device, reply.delay_s, timeout)
        return reply.data

    def _wait(self, device: _EmuDevice, needed_s: float | None, timeout_ms: int) -> None:
        """Let ``needed_s`` pass (None: forever) within the transfer timeout (0: none).

        Unplugging ends the wait at once with ENODEV, like libusb cancelling the URB;
        running out of time raises a timeout.
        """
        limit_s = timeout_ms / 1000 if timeout_ms > 0 else None
        waits = [w for w in (needed_s, limit_s) if w is not None]
        wait_s = min(waits) if waits else None
        if device.gone.wait(wait_s):
            raise _usb_error(LIBUSB_ERROR_NO_DEVICE)
        if needed_s is None or (limit_s is not None and needed_s > limit_s):
            raise _usb_error(LIBUSB_ERROR_TIMEOUT)
