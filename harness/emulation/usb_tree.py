"""The emulated terminal's USB tree: what is plugged where (root ports, hubs, devices), what
is enumerated (plugged, powered, and everything between it and its root port enumerated),
hot-plug, and the port power a hub switches. It is the topology source of the emulated
bench (:meth:`EmulatedUsbTree.topology`); :class:`~harness.emulation.usb_backend.
EmulatedUsbBackend` serves it to pyusb."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

from harness.emulation.usb_descriptors import EnumeratedDevice, make_device
from harness.emulation.usb_records import EmulatedDevice, EmulatedHub, Record, RootPort
from harness.errors import RigError
from harness.model.timeline import Timeline
from harness.model.topology import UsbTopology, parse_port_path
from harness.model.usb_codes import HIGH_SPEED_MBPS, SUPERSPEED_MBPS


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
        self._live: dict[str, EnumeratedDevice] = {}
        self._next_address: dict[int, int] = {}
        self._root_hubs: dict[int, EnumeratedDevice] = {}
        for bus in sorted({parse_port_path(p)[0] for p in self._ports}):
            on_bus = [p for p in self._ports.values() if parse_port_path(p.path)[0] == bus]
            # A bus whose ports are all USB 3 is the SuperSpeed half of the controller.
            superspeed = all(p.usb3 for p in on_bus)
            speed = SUPERSPEED_MBPS if superspeed else HIGH_SPEED_MBPS
            self._root_hubs[bus] = make_device(None, bus, 1, None, speed, None, superspeed)
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
            return (True, device.speed_mbps >= SUPERSPEED_MBPS, (device.path or "").count("."))

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
        """Switch a record's power; an unpowered device is not enumerated. A device whose
        cable is out keeps its power for when it is plugged in again (its mains are not its
        USB cable: switched on while out, it enumerates once plugged)."""
        with self._lock:
            if powered:
                self._unpowered.discard(name)
            else:
                self._unpowered.add(name)
            if name not in self._plugged:
                return
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

    def root_ports(self) -> list[RootPort]:
        """The terminal's own ports, as declared."""
        return list(self._ports.values())

    def snapshot(self) -> list[EnumeratedDevice]:
        """Root hubs, then enumerated devices in port order."""
        with self._lock:
            return [*(self._root_hubs[b] for b in sorted(self._root_hubs)), *self._sorted_live()]

    # -- internals

    def _sorted_live(self) -> list[EnumeratedDevice]:
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
            device = make_device(record, bus, self._address(bus), ports, speed, parent)
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

    def _record(self, kind: str, device: EnumeratedDevice) -> None:
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
