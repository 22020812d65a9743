"""The box's USB tree as a sysfs-style folder (what harness/devices/sysfs.py reads), kept
current on plug, unplug and power.

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
    def __init__(self, tree: EmulatedUsbTree, root: Path, usb3_buses: set[int]) -> None:
        self.tree = tree
        self.root = Path(root)
        #: Buses whose root hub is the SuperSpeed half (the bench file's blue ports).
        self.usb3_buses = usb3_buses
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
                speed = SUPERSPEED_MBPS if desc.bus in self.usb3_buses else HIGH_SPEED_MBPS
                entries.append((f"usb{desc.bus}", {"speed": f"{speed:g}",
                                                   "bDeviceClass": f"{HUB_CLASS:02x}"}))
                continue
            files = {"idVendor": f"{desc.idVendor:04x}", "idProduct": f"{desc.idProduct:04x}",
                     "bDeviceClass": f"{desc.bDeviceClass:02x}",
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
        ports: dict[int, set[int]] = {}
        for name, _ in entries:
            if not name.startswith("usb"):
                bus, numbers = parse_port_path(name)
                ports.setdefault(bus, set()).add(numbers[0])
        for name, files in entries:
            entry = folder / name
            entry.mkdir()
            for key, text in files.items():
                (entry / key).write_text(text + "\n", encoding="utf-8")
        for bus in {int(n[3:]) for n, _ in entries if n.startswith("usb")}:
            for port in ports.get(bus, ()):
                (folder / f"usb{bus}" / f"{bus}-0:1.0" / f"usb{bus}-port{port}").mkdir(
                    parents=True, exist_ok=True)
        link = self.root.with_name(self.root.name + ".new")
        with contextlib.suppress(FileNotFoundError):
            link.unlink()
        link.symlink_to(folder.name)
        os.replace(link, self.root)
        old = self.root.with_name(f"{self.root.name}.{self._generation - 2}")
        shutil.rmtree(old, ignore_errors=True)  # the one before last: no reader is in it now
        self._written = entries
        return True
