"""The box's USB tree as a sysfs-style folder (what harness/devices/sysfs.py reads), kept
current on plug, unplug and power.

As the kernel lays it out: a root hub per bus (``usbN``, its speed), a folder per root port
(``usbN/N-0:1.0/usbN-portP``), and for a blue port whose USB 2 half is on a High-Speed bus a
``peer`` link to its SuperSpeed half, so a USB 2 device in a blue port reads as in a USB 3
port (USB-01), as on a real xHCI. A tree with no SuperSpeed bus gets one more root hub for
the peers to point at.

``root`` is a symlink to the generation now written: each change writes a new folder and
swaps the link in one rename, so a reader never sees a half-written tree.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

from harness.emulation.usb_tree import EmulatedUsbTree
from harness.model.topology import parse_port_path
from harness.model.usb_codes import HIGH_SPEED_MBPS, HUB_CLASS, SUPERSPEED_MBPS


class SysfsWriter:
    def __init__(self, tree: EmulatedUsbTree, root: Path) -> None:
        self.tree = tree
        self.root = Path(root)
        ports = [(parse_port_path(p.path), p.usb3) for p in tree.root_ports()]
        buses = {bus for (bus, _), _ in ports}
        #: The buses whose root hub is the SuperSpeed half: every port on them is blue.
        self.superspeed = {bus for bus in buses
                           if all(usb3 for (b, _), usb3 in ports if b == bus)}
        #: Each root port (bus, port) and, for a blue one on a High-Speed bus, its peer's bus.
        peer_bus = min(self.superspeed) if self.superspeed else max(buses, default=0) + 1
        self.ports = {(bus, numbers[0]): peer_bus if usb3 and bus not in self.superspeed
                      else None for (bus, numbers), usb3 in ports}
        self._peer_bus = peer_bus
        self._written: tuple[object, ...] | None = None
        self._generation = 0
        # A box that ran in this folder before left its generations: they are not this tree.
        for old in self.root.parent.glob(f"{self.root.name}.*"):
            if old.name.removeprefix(f"{self.root.name}.").isdigit():
                shutil.rmtree(old, ignore_errors=True)

    def _entries(self) -> tuple[tuple[str, dict[str, str]], ...]:
        entries: list[tuple[str, dict[str, str]]] = []
        for dev in self.tree.snapshot():
            desc = dev.descriptor
            path = dev.path
            if path is None:  # a root hub
                speed = SUPERSPEED_MBPS if desc.bus in self.superspeed else HIGH_SPEED_MBPS
                entries.append((f"usb{desc.bus}", {"speed": f"{speed:g}",
                                                   "bDeviceClass": f"{HUB_CLASS:02x}"}))
                continue
            files = {"idVendor": f"{desc.idVendor:04x}", "idProduct": f"{desc.idProduct:04x}",
                     "bDeviceClass": f"{desc.bDeviceClass:02x}",
                     "bcdDevice": f"{desc.bcdDevice:04x}",
                     "speed": f"{dev.speed_mbps:g}",
                     "version": f"{desc.bcdUSB >> 8:2x}.{desc.bcdUSB & 0xFF:02x}"}
            for key, index in (("manufacturer", desc.iManufacturer),
                               ("product", desc.iProduct), ("serial", desc.iSerialNumber)):
                if index and index in dev.strings:
                    files[key] = dev.strings[index]
            entries.append((path, files))
        return tuple(entries)

    def update(self) -> bool:
        """Write the tree if it changed; True if it did."""
        entries = self._entries()
        if entries == self._written:
            return False
        self._generation += 1
        folder = self.root.with_name(f"{self.root.name}.{self._generation}")
        folder.mkdir(parents=True)
        for name, files in entries:
            entry = folder / name
            entry.mkdir()
            for key, text in files.items():
                (entry / key).write_text(text + "\n", encoding="utf-8")
        peers = {peer for peer in self.ports.values() if peer is not None}
        if peers and not (folder / f"usb{self._peer_bus}").exists():
            hub = folder / f"usb{self._peer_bus}"  # the SuperSpeed half no device is on
            hub.mkdir()
            (hub / "speed").write_text(f"{SUPERSPEED_MBPS:g}\n", encoding="utf-8")
            (hub / "bDeviceClass").write_text(f"{HUB_CLASS:02x}\n", encoding="utf-8")
        for (bus, port), peer in self.ports.items():
            port_dir = _port_dir(folder, bus, port)
            port_dir.mkdir(parents=True, exist_ok=True)
            if peer is not None:
                other = _port_dir(folder, peer, port)
                other.mkdir(parents=True, exist_ok=True)
                (port_dir / "peer").symlink_to(os.path.relpath(other, port_dir))
        link = self.root.with_name(self.root.name + ".new")
        with contextlib.suppress(FileNotFoundError):
            link.unlink()
        link.symlink_to(folder.name)
        os.replace(link, self.root)
        old = self.root.with_name(f"{self.root.name}.{self._generation - 2}")
        shutil.rmtree(old, ignore_errors=True)  # the one before last: no reader is in it now
        self._written = entries
        return True


def _port_dir(folder: Path, bus: int, port: int) -> Path:
    return folder / f"usb{bus}" / f"{bus}-0:1.0" / f"usb{bus}-port{port}"
