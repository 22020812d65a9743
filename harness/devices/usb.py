"""The USB device family: what is plugged into the terminal, and where.

:class:`PyusbBus` enumerates through pyusb (libusb on a real bench, the emulated backend in
CI) and takes each device's topology from a topology source: sysfs on a real bench
(:class:`harness.devices.sysfs.SysfsUsbTree`), the emulated tree in CI.
"""

from __future__ import annotations

import contextlib
import os

import usb.backend
import usb.core
import usb.util

from harness.errors import MissingSystemPart
from harness.model.reader_lists import bcd_text
from harness.model.topology import UsbTopology
from harness.model.usb_codes import HUB_CLASS, SPEED_MBPS
from harness.protocols import TopologySource, UsbDeviceInfo


def speed_mbps(code: int | None) -> float | None:
    """Mbit/s for a pyusb/libusb speed code; None for SPEED_UNKNOWN or anything else."""
    return SPEED_MBPS.get(code) if code is not None else None


class PyusbBus:
    """:class:`UsbBus` through pyusb."""

    def __init__(
        self, backend: usb.backend.IBackend, topology_source: TopologySource | None = None
    ) -> None:
        self.backend = backend
        self.topology_source = topology_source

    @classmethod
    def real(cls, sysfs_root: str | os.PathLike[str] = "/sys/bus/usb/devices") -> PyusbBus:
        """A real bench: libusb 1.0 plus sysfs for the physical port facts."""
        import usb.backend.libusb1

        from harness.devices.sysfs import SysfsUsbTree

        backend = usb.backend.libusb1.get_backend()
        if backend is None:
            raise MissingSystemPart("libusb 1.0 (pyusb found no libusb1 backend)",
                                    "apt-get install libusb-1.0-0")  # fmt: skip
        return cls(backend, SysfsUsbTree(sysfs_root))

    def devices(self, include_hubs: bool = False) -> list[UsbDeviceInfo]:
        """Devices plugged in now, in port order; ``include_hubs`` adds external hubs.

        Root hubs are always left out.
        """
        found: list[UsbDeviceInfo] = []
        for dev in usb.core.find(find_all=True, backend=self.backend):
            is_hub = dev.bDeviceClass == HUB_CLASS
            if not dev.port_numbers:
                if is_hub:
                    continue  # a root hub: libusb gives it no port chain
                raise MissingSystemPart(
                    "libusb 1.0.16 or newer (this one reports no USB port numbers)",
                    "apt-get install libusb-1.0-0",
                )
            if is_hub and not include_hubs:
                continue
            manufacturer, product, serial = _strings(dev)
            found.append(
                UsbDeviceInfo(
                    vid=dev.idVendor,
                    pid=dev.idProduct,
                    manufacturer=manufacturer,
                    product=product,
                    serial=serial,
                    topology=self._topology(dev),
                    is_hub=is_hub,
                    version=bcd_text(dev.bcdDevice),
                )
            )
        return sorted(found, key=lambda d: (d.topology.bus, d.topology.port_numbers))

    def _topology(self, dev: usb.core.Device) -> UsbTopology:
        ports = tuple(dev.port_numbers)
        if self.topology_source is not None:
            known = self.topology_source.topology(dev.bus, ports)
            if known is not None:
                return known
        speed = speed_mbps(dev.speed)
        return UsbTopology(
            path=f"{dev.bus}-{'.'.join(str(p) for p in ports)}",
            speed_mbps=speed,
            # Only a SuperSpeed link proves a USB 3 root port; slower says nothing.
            root_port_usb3=True if speed is not None and speed >= 5000 else None,
            hubs_between=len(ports) - 1,
        )


def _strings(dev: usb.core.Device) -> tuple[str | None, str | None, str | None]:
    """Manufacturer, product, serial; None for any that cannot be read.

    Without access rights libusb cannot open the device, pyusb then sees no langids and
    get_string raises ValueError; a device unplugged meanwhile raises USBError.
    """
    values: list[str | None] = []
    for index in (dev.iManufacturer, dev.iProduct, dev.iSerialNumber):
        try:
            values.append(usb.util.get_string(dev, index))
        except (usb.core.USBError, ValueError, NotImplementedError):
            values.append(None)
    with contextlib.suppress(usb.core.USBError):
        usb.util.dispose_resources(dev)  # close the handle: pcscd wants the device
    return values[0], values[1], values[2]
