"""Per-port USB power on hubs that switch it, the way uhubctl does it: hub class requests
through pyusb (libusb on a real bench, the emulated backend in CI).

- GET_DESCRIPTOR (hub descriptor, 0x29; 0x2A on a SuperSpeed hub): wHubCharacteristics
  bits 1..0 say whether the hub switches each port's power (01), all ports together (00,
  "ganged") or not at all (1x). Only the first is used: many hubs accept a port power
  request and do nothing, so the hub's own word decides, and the port's status is read
  back after each switch.
- ClearPortFeature / SetPortFeature(PORT_POWER) on the port; GetPortStatus reads it back.

:class:`UsbPortPower` does this for the bench: a device whose USB path sits on a hub the
bench file marks ``port_power: true`` leaves USB (and PC/SC) when its port is switched off
and comes back when switched on; the rig waits (bounded, on the bench's Clock) until the
device has left or enumerated again, and records ``usb.port_power`` on the timeline.

On Linux, libusb needs write access to the hub's device node (root, or a udev rule as
uhubctl documents), and some kernels power a port again on their own: the read-back and
the wait name that.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import TYPE_CHECKING

import usb.backend
import usb.core
import usb.util

from harness.errors import DeviceTimeout, RigError
from harness.model.bench_spec import BenchSpec, Hub
from harness.model.clock import Clock
from harness.model.timeline import Timeline
from harness.model.topology import parse_port_path, port_path
from harness.model.usb_codes import (
    CLEAR_FEATURE,
    GET_DESCRIPTOR,
    GET_STATUS,
    HUB_CLASS,
    HUB_DESCRIPTOR,
    LPSM_GANGED,
    LPSM_PER_PORT,
    PORT_POWER,
    PORT_POWER_USB2,
    PORT_POWER_USB3,
    SET_FEATURE,
    SUPERSPEED_HUB_DESCRIPTOR,
)
from harness.model.wait import wait_until

if TYPE_CHECKING:
    from harness.bench import Bench

_TO_HUB = usb.util.CTRL_TYPE_CLASS | usb.util.CTRL_RECIPIENT_DEVICE
_TO_PORT = usb.util.CTRL_TYPE_CLASS | usb.util.CTRL_RECIPIENT_OTHER
_LPSM = {LPSM_GANGED: "switches all its ports' power together (ganged)",
         LPSM_PER_PORT: "switches each port's power", 0b10: "has no port power switching",
         0b11: "has no port power switching"}
TIMEOUT_MS = 1000
#: Bench seconds a device may take to leave or enumerate again after its port is switched.
SETTLE_S = 10.0


class PortPowerUnsupported(RigError):
    """The hub does not switch its ports' power one by one."""


def _path_of(dev: usb.core.Device) -> str | None:
    return port_path(dev.bus, dev.port_numbers)


class HubPorts:
    """The ports of the hub plugged in at ``path`` (``1-4``), found anew for each request so
    a hub that re-enumerated is still found."""

    def __init__(self, backend: usb.backend.IBackend | None, path: str,
                 name: str | None = None) -> None:
        parse_port_path(path)
        self.backend = backend
        self.path = path
        self.name = f"hub {name!r} at {path}" if name else f"hub at {path}"

    def _hub(self) -> usb.core.Device:
        for dev in usb.core.find(find_all=True, backend=self.backend, bDeviceClass=HUB_CLASS):
            if _path_of(dev) == self.path:
                return dev
        raise RigError(f"{self.name}: no USB hub is enumerated there")

    def _control(self, what: str, *args: object) -> bytes:
        dev = self._hub()
        try:
            got = dev.ctrl_transfer(*args, timeout=TIMEOUT_MS)  # type: ignore[arg-type]
        except usb.core.USBError as exc:
            raise RigError(f"{self.name}: {what} failed: {exc}") from exc
        finally:
            usb.util.dispose_resources(dev)
        return bytes(got) if not isinstance(got, int) else b""

    def _superspeed(self) -> bool:
        dev = self._hub()
        usb.util.dispose_resources(dev)
        return dev.bcdUSB >= 0x0300

    def characteristics(self) -> tuple[int, int]:
        """(number of ports, power switching mode: wHubCharacteristics bits 1..0)."""
        kind = SUPERSPEED_HUB_DESCRIPTOR if self._superspeed() else HUB_DESCRIPTOR
        got = self._control("GET_DESCRIPTOR (hub)", _TO_HUB | usb.util.CTRL_IN,
                            GET_DESCRIPTOR, kind << 8, 0, 64)
        if len(got) < 5 or got[1] != kind:
            raise RigError(f"{self.name}: its hub descriptor does not parse ({got.hex(' ')})")
        ports, characteristics = got[2], struct.unpack_from("<H", got, 3)[0]
        return ports, characteristics & 0b11

    def check_switchable(self, port: int) -> None:
        """Raise :class:`PortPowerUnsupported` unless the hub switches ``port`` by itself."""
        ports, mode = self.characteristics()
        if mode != LPSM_PER_PORT:
            raise PortPowerUnsupported(
                f"{self.name} {_LPSM[mode]} (its hub descriptor says so): it cannot switch "
                f"one port's power; plug the device into a hub that can (uhubctl lists them) "
                "or leave port_power out")
        if not 1 <= port <= ports:
            raise RigError(f"{self.name}: no port {port}; it has ports 1..{ports}")

    def powered(self, port: int) -> bool:
        got = self._control(f"GetPortStatus({port})", _TO_PORT | usb.util.CTRL_IN,
                            GET_STATUS, 0, port, 4)
        if len(got) != 4:
            raise RigError(f"{self.name}: port {port} status does not parse ({got.hex(' ')})")
        bit = PORT_POWER_USB3 if self._superspeed() else PORT_POWER_USB2
        return bool(struct.unpack_from("<H", got)[0] & bit)

    def set_power(self, port: int, on: bool) -> None:
        """Set/ClearPortFeature(PORT_POWER), then the port's status read back."""
        self.check_switchable(port)
        request = SET_FEATURE if on else CLEAR_FEATURE
        what = f"{'Set' if on else 'Clear'}PortFeature(PORT_POWER, {port})"
        self._control(what, _TO_PORT | usb.util.CTRL_OUT, request, PORT_POWER, port, None)
        if self.powered(port) != on:
            raise RigError(f"{self.name}: after {what} port {port} reads back "
                           f"{'unpowered' if on else 'powered'}")


class UsbPortPower:
    """Switches the USB port of bench devices on hubs whose ``port_power`` is true."""

    def __init__(self, spec: BenchSpec, backend: Callable[[], usb.backend.IBackend | None],
                 clock: Clock, timeline: Timeline | None = None,
                 settle_s: float = SETTLE_S) -> None:
        self.spec = spec
        #: pyusb's backend for the bench's USB, asked when needed (the bench opens it).
        self.backend = backend
        self.clock = clock
        self.timeline = timeline
        self.settle_s = settle_s

    def port_of(self, device: str) -> tuple[Hub, int] | None:
        """The switching hub and port ``device`` (a reader of the bench) is plugged into."""
        reader = next((r for r in self.spec.readers if r.name == device), None)
        if reader is None or reader.usb.path is None or "." not in reader.usb.path:
            return None
        parent, port = reader.usb.path.rsplit(".", 1)
        hub = next((h for h in self.spec.hubs if h.path == parent and h.port_power), None)
        return (hub, int(port)) if hub is not None else None

    def switch(self, device: str, on: bool) -> None:
        """Power ``device``'s port on or off; return once it has enumerated or left USB."""
        found = self.port_of(device)
        if found is None:
            raise RigError(f"{device}: not plugged into a hub with port_power: true")
        hub, port = found
        HubPorts(self.backend(), hub.path, hub.name).set_power(port, on)
        if self.timeline is not None:
            self.timeline.record(device, "usb.port_power", hub=hub.name, port=port, on=on)
        path = f"{hub.path}.{port}"
        waited = wait_until(self.clock, lambda: self._present(path), lambda seen: seen == on,
                            self.settle_s, step_s=0.5, first_s=0.05)
        if not waited.ok:
            raise DeviceTimeout(device, f"{'enumeration' if on else 'departure'} at USB {path} "
                                f"after its port was switched {'on' if on else 'off'}",
                                self.settle_s, last=waited.last)

    def _present(self, path: str) -> bool:
        return any(_path_of(dev) == path
                   for dev in usb.core.find(find_all=True, backend=self.backend()))

    @classmethod
    def for_bench(cls, bench: Bench) -> UsbPortPower | None:
        """The bench's port switching, if a hub of its bench file has ``port_power``."""
        if not any(h.port_power for h in bench.spec.hubs):
            return None
        return cls(bench.spec, lambda: getattr(bench.usb, "backend", None), bench.clock,
                   bench.timeline)
