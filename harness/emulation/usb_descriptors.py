"""The descriptors an emulated device gives, and one enumeration of a plugged record: the
device pyusb sees (its address, negotiated speed, descriptors and strings), as Linux and
libusb present it."""

from __future__ import annotations

import struct
import threading

import attrs
import usb.util

from harness.emulation.usb_records import SPEED_CODES, EmulatedHub, Record
from harness.model.usb_codes import (
    HIGH_SPEED_MBPS,
    HUB_CLASS,
    LANGID_EN_US,
    SUPERSPEED_MBPS,
    VENDOR_SPECIFIC_CLASS,
)

_LINUX_FOUNDATION = 0x1D6B  # the vendor id of the root hubs Linux presents


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
    if speed_mbps >= SUPERSPEED_MBPS:
        return 1024
    return 512 if speed_mbps >= HIGH_SPEED_MBPS else 64


def _string_descriptor(payload: bytes) -> bytes:
    return bytes([2 + len(payload), usb.util.DESC_TYPE_STRING]) + payload


class EnumeratedDevice:
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
        parent: EnumeratedDevice | None,
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
            return _string_descriptor(struct.pack("<H", LANGID_EN_US))
        text = self.strings.get(index)
        return None if text is None else _string_descriptor(text.encode("utf-16-le"))


def make_device(
    record: Record | None,
    bus: int,
    address: int,
    port_numbers: tuple[int, ...] | None,
    speed_mbps: float,
    parent: EnumeratedDevice | None,
    root_hub_superspeed: bool = False,
) -> EnumeratedDevice:
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
            interface_class = device_class or VENDOR_SPECIFIC_CLASS

    strings: dict[int, str] = {}
    indices = []
    for text in (manufacturer, product, serial):
        index = 0
        if text is not None:
            index = len(strings) + 1
            strings[index] = text
        indices.append(index)

    superspeed = speed_mbps >= SUPERSPEED_MBPS
    if device_class == HUB_CLASS:
        # One interrupt IN endpoint for port-change bits.
        endpoints: tuple[EndpointDescriptor, ...] = (_endpoint(0x81, 0x03, 2, 12),)
    else:
        bulk = _bulk_packet(speed_mbps)
        # CCID-like: bulk OUT, bulk IN, interrupt IN (slot change).
        endpoints = (
            _endpoint(0x01, 0x02, bulk, 0),
            _endpoint(0x82, 0x02, bulk, 0),
            _endpoint(0x83, 0x03, 8, 8 if speed_mbps >= HIGH_SPEED_MBPS else 16),
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
        port_numbers=port_numbers, speed=SPEED_CODES[speed_mbps],
    )  # fmt: skip
    return EnumeratedDevice(record, descriptor, speed_mbps, interface, endpoints, strings, parent)
