"""USB topology from Linux sysfs (``/sys/bus/usb/devices``).

libusb tells us vid/pid and the port chain, but not whether the *physical* root port is a
USB 3 (blue) port: a USB 2 device in a blue port enumerates on the xHCI's USB 2 root hub.
The kernel links the two halves of such a port with a ``peer`` symlink, so sysfs is where
the USB-01 / USB-02 wiring facts come from.

Layout read here (entries in ``root``; on a real system they are symlinks into
``/sys/devices``, everything is resolved with :func:`os.path.realpath`)::

    usbN/                         root hub of bus N (speed 480 = USB 2, 5000+ = SuperSpeed)
    usbN/N-0:1.0/usbN-portP/peer  -> the same physical port on the other root hub
    N-P[.P...]/                   a device (idVendor, idProduct, speed, bDeviceClass, ...)
    N-P[.P...]:C.I/               one of its interfaces (ignored)
"""

from __future__ import annotations

import os
import re
from typing import Any

import attrs

from harness.errors import RigError
from harness.model.reader_lists import bcd_text
from harness.model.topology import UsbTopology, parse_port_path, port_path
from harness.model.usb_codes import HUB_CLASS, SUPERSPEED_MBPS
from harness.protocols import UsbDeviceInfo

DEFAULT_ROOT = "/sys/bus/usb/devices"

# A root hub at or above SUPERSPEED_MBPS is the SuperSpeed half of an xHCI controller.
_PORT_NAME = re.compile(r"usb(\d+)-port(\d+)$")


@attrs.frozen
class SysfsUsbDevice:
    """One non-hub device as sysfs describes it; any field sysfs could not give is None."""

    #: sysfs entry name, e.g. ``1-4.1``.
    name: str
    vid: int | None
    pid: int | None
    manufacturer: str | None
    product: str | None
    serial: str | None
    #: ``version`` file without padding, e.g. ``2.00``.
    usb_version: str | None
    topology: UsbTopology
    #: ``bcdDevice``, the device's release (firmware) number: ``0x0110``.
    release: int | None = None
    is_hub: bool = False


class SysfsUsbTree:
    """Reads a directory laid out like ``/sys/bus/usb/devices``.

    Nothing is cached: every call looks at the tree as it is now, so hot-plug shows up.
    """

    def __init__(self, root: str | os.PathLike[str] = DEFAULT_ROOT) -> None:
        self.root = os.fspath(root)
        if not os.path.isdir(self.root):
            raise RigError(
                f"USB sysfs tree not found: {self.root} is not a directory "
                "(expected a layout like /sys/bus/usb/devices)"
            )

    def topology(self, bus: int, port_numbers: tuple[int, ...]) -> UsbTopology | None:
        """Topology of the device at ``bus``/``port_numbers``; None if there is none."""
        path = port_path(bus, port_numbers)
        if path is None:
            return None
        entry = os.path.join(self.root, path)
        if not os.path.isdir(entry):
            return None
        return UsbTopology(
            path=path,
            speed_mbps=_read_float(entry, "speed"),
            root_port_usb3=self._root_port_usb3(bus, port_numbers[0]),
            hubs_between=len(port_numbers) - 1,
        )

    def devices(self, hubs: bool = False) -> list[SysfsUsbDevice]:
        """All devices except root hubs (and hubs, unless ``hubs``), sorted by bus and port
        chain."""
        found: list[tuple[tuple[int, tuple[int, ...]], SysfsUsbDevice]] = []
        for name in self._entries():
            try:
                bus, ports = parse_port_path(name)
            except ValueError:
                continue  # usbN root hubs, N-P:C.I interfaces, anything unexpected
            entry = os.path.join(self.root, name)
            is_hub = _is_hub(entry)
            if is_hub and not hubs:
                continue
            topology = self.topology(bus, ports)
            if topology is None:
                continue  # unplugged between listdir and now
            found.append(
                (
                    (bus, ports),
                    SysfsUsbDevice(
                        name=name,
                        vid=_read_hex(entry, "idVendor"),
                        pid=_read_hex(entry, "idProduct"),
                        manufacturer=_read_text(entry, "manufacturer"),
                        product=_read_text(entry, "product"),
                        serial=_read_text(entry, "serial"),
                        usb_version=_read_text(entry, "version"),
                        topology=topology,
                        release=_read_hex(entry, "bcdDevice"),
                        is_hub=is_hub,
                    ),
                )
            )
        return [device for _, device in sorted(found, key=lambda pair: pair[0])]

    def _entries(self) -> list[str]:
        try:
            return os.listdir(self.root)
        except OSError as e:
            raise RigError(f"cannot list USB sysfs tree {self.root}: {e.strerror}") from e

    def _root_port_usb3(self, bus: int, port: int) -> bool | None:
        """Is root port ``port`` of bus ``bus`` physically a USB 3 port? None = cannot tell."""
        hub_dir = os.path.realpath(os.path.join(self.root, f"usb{bus}"))
        hub_superspeed = _is_superspeed_hub(hub_dir)
        if hub_superspeed:
            return True
        port_dir = _find_port_dir(hub_dir, bus, port)
        if port_dir is None:
            return None  # no port directory: no way to see a peer
        peer = os.path.join(port_dir, "peer")
        if not os.path.lexists(peer):
            # A port on a USB 2 root hub without a USB 3 twin is a USB 2-only port.
            return False if hub_superspeed is False else None
        peer_dir = os.path.realpath(peer)
        if _PORT_NAME.match(os.path.basename(peer_dir)) is None:
            return None
        # peer is usbM/M-0:1.0/usbM-portQ: two levels up is the other root hub.
        return _is_superspeed_hub(os.path.dirname(os.path.dirname(peer_dir)))


def _is_hub(entry: str) -> bool:
    device_class = _read_hex(entry, "bDeviceClass")
    if device_class is not None:
        return device_class == HUB_CLASS
    maxchild = _read_float(entry, "maxchild")  # ports it offers; 0 for anything but a hub
    return maxchild is not None and maxchild > 0


def _find_port_dir(hub_dir: str, bus: int, port: int) -> str | None:
    name = f"usb{bus}-port{port}"
    usual = os.path.join(hub_dir, f"{bus}-0:1.0", name)
    if os.path.isdir(usual):
        return usual
    try:
        children = os.listdir(hub_dir)
    except OSError:
        return None
    # The root hub has a single interface; tolerate an unusual name for it.
    for child in sorted(children):
        candidate = os.path.join(hub_dir, child, name)
        if ":" in child and os.path.isdir(candidate):
            return candidate
    return None


def _is_superspeed_hub(hub_dir: str) -> bool | None:
    speed = _read_float(hub_dir, "speed")
    if speed is not None:
        return speed >= SUPERSPEED_MBPS
    version = _read_float(hub_dir, "version")  # " 3.00" when speed is unreadable
    if version is not None:
        return version >= 3.0
    return None


def _read_text(entry: str, name: str) -> str | None:
    """Stripped file content, or None if missing, unreadable or empty."""
    try:
        with open(os.path.join(entry, name), encoding="utf-8", errors="replace") as f:
            text = f.read().strip()
    except OSError:  # missing, permission denied, a directory, device gone mid-read
        return None
    return text or None


def _read_hex(entry: str, name: str) -> int | None:
    text = _read_text(entry, name)
    if text is None:
        return None
    try:
        return int(text, 16)
    except ValueError:
        return None


def _read_float(entry: str, name: str) -> float | None:
    text = _read_text(entry, name)
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        return None


class SysfsBus:
    """:class:`UsbBus` from sysfs alone (bench file ``usb_devices: sysfs``): the IDs and
    strings the kernel read at enumeration, no device node opened."""

    def __init__(self, tree: SysfsUsbTree) -> None:
        self.tree = tree
        self._libusb: Any = None

    @property
    def backend(self) -> Any:
        """libusb, for what must talk to a device (HID relays, a hub's port power): opened
        on first use, so a bench that needs none runs without it."""
        if self._libusb is None:
            from harness.devices.usb import PyusbBus

            self._libusb = PyusbBus.real(self.tree.root).backend
        return self._libusb

    def devices(self, include_hubs: bool = False) -> list[UsbDeviceInfo]:
        # An entry whose IDs cannot be read left between the listing and the read.
        return [UsbDeviceInfo(vid=d.vid, pid=d.pid, manufacturer=d.manufacturer,
                              product=d.product, serial=d.serial, topology=d.topology,
                              is_hub=d.is_hub,
                              version=None if d.release is None else bcd_text(d.release))
                for d in self.tree.devices(hubs=include_hubs)
                if d.vid is not None and d.pid is not None]
