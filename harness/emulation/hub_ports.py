"""The hub class requests an emulated hub answers: its hub descriptor, each port's status,
and Set/ClearPortFeature(PORT_POWER), as uhubctl sends them through libusb.

A hub whose record has ``port_power`` says so in its descriptor (wHubCharacteristics:
per-port power switching) and switches the port: what is plugged there leaves USB and
comes back (:meth:`EmulatedUsbTree.set_port_power`). Any other hub (and a root hub) says it
has no power switching and, like many real hubs, accepts the request and does nothing, so
a driver that trusts the request instead of the hub's word is caught.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

import usb.util

from harness.emulation.usb_records import EmulatedHub
from harness.model.usb_codes import (
    CLEAR_FEATURE,
    GET_DESCRIPTOR,
    GET_STATUS,
    HUB_DESCRIPTOR,
    LPSM_NONE,
    LPSM_PER_PORT,
    PORT_CONNECTION,
    PORT_ENABLE,
    PORT_POWER,
    PORT_POWER_USB2,
    PORT_POWER_USB3,
    SET_FEATURE,
    SUPERSPEED_HUB_DESCRIPTOR,
)

if TYPE_CHECKING:
    from harness.emulation.usb_descriptors import EnumeratedDevice
    from harness.emulation.usb_records import ControlRequest
    from harness.emulation.usb_tree import EmulatedUsbTree

_RECIPIENT_DEVICE = usb.util.CTRL_RECIPIENT_DEVICE
_RECIPIENT_PORT = usb.util.CTRL_RECIPIENT_OTHER  # a hub class request to a port


def hub_request(tree: EmulatedUsbTree, device: EnumeratedDevice, request: ControlRequest
                ) -> bytes | None:
    """Answer a hub class request to ``device`` (a hub or a root hub); None: STALL."""
    record = device.record
    bus = device.descriptor.bus
    if isinstance(record, EmulatedHub):
        ports, switching, prefix = record.ports, record.port_power, record.path + "."
    else:  # a root hub: its ports are the terminal's, never switched here
        ports, switching, prefix = tree.root_port_count(bus), False, f"{bus}-"
    superspeed = device.descriptor.bcdUSB >= 0x0300
    recipient = request.bmRequestType & 0x1F
    port = request.wIndex & 0xFF
    if request.is_in and request.bRequest == GET_DESCRIPTOR and recipient == _RECIPIENT_DEVICE:
        if request.wValue >> 8 not in (HUB_DESCRIPTOR, SUPERSPEED_HUB_DESCRIPTOR):
            return None
        return _descriptor(ports, switching, superspeed)
    if request.is_in and request.bRequest == GET_STATUS:
        if recipient == _RECIPIENT_DEVICE:
            return b"\x00\x00\x00\x00"  # local power good, no over-current
        if recipient == _RECIPIENT_PORT and 1 <= port <= ports:
            path = f"{prefix}{port}"
            status = 0
            if tree.port_powered(path):
                status |= PORT_POWER_USB3 if superspeed else PORT_POWER_USB2
            if tree.enumerated_at(path) is not None:
                status |= PORT_CONNECTION | PORT_ENABLE
            return struct.pack("<HH", status, 0)
        return None
    if (not request.is_in and recipient == _RECIPIENT_PORT
            and request.bRequest in (SET_FEATURE, CLEAR_FEATURE) and 1 <= port <= ports):
        if request.wValue == PORT_POWER and switching:
            tree.set_port_power(f"{prefix}{port}", request.bRequest == SET_FEATURE)
        return b""  # other features (reset, enable, ...) are accepted and change nothing
    return None


def _descriptor(ports: int, switching: bool, superspeed: bool) -> bytes:
    characteristics = LPSM_PER_PORT if switching else LPSM_NONE
    if superspeed:
        # bLength 12: ports, characteristics, PwrOn2PwrGood (2 ms units), HubContrCurrent,
        # HubHdrDecLat, wHubDelay, DeviceRemovable (16 bits).
        return struct.pack("<BBBHBBBHH", 12, SUPERSPEED_HUB_DESCRIPTOR, ports,
                           characteristics, 50, 0, 0, 0, 0)
    # DeviceRemovable and PortPwrCtrlMask: a bit per port plus bit 0, in whole bytes.
    mask_bytes = (ports + 1 + 7) // 8
    body = struct.pack("<BHBB", ports, characteristics, 50, 100)
    body += bytes(mask_bytes) + b"\xff" * mask_bytes
    return bytes([2 + len(body), HUB_DESCRIPTOR]) + body
