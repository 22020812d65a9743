"""Which vpcd slot serves which emulated reader, and which PC/SC name pcscd gives it.

pcscd can hold a bench's vpcd readers in two ways:

- the rig's own reader.conf (``onshi-rig pcscd-config``): every emulated reader with a PC/SC
  side on an entry of its own, named as the reader names itself, on
  ``vpcd_base_port + VPCD_SLOTS * i`` (each entry opens VPCD_SLOTS ports; the rig uses the
  first);
- Debian's stock reader.conf (/etc/reader.conf.d/vpcd, the pcscd every Debian machine runs):
  one entry "Virtual PCD" whose slots, on ports 35963 and 35964, the bench's first
  readers take (``pcsc.vpcd_reader`` first, if set), as vsmartcard's vicc does.

The rig attaches to the rig's layout when all its ports listen, else to the stock one when
its ports do, and binds each slot to the one name pcscd lists for it. Anything else (no
port, no name, two names a slot could be) is an error with its reason: a card never goes to
a reader the rig cannot name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import attrs

from harness.emulation.device_spec import DeviceSpec
from harness.emulation.pcscd import STOCK_FRIENDLY_NAME, STOCK_PORT, VPCD_SLOTS, VpcdSlot
from harness.errors import RigError
from harness.model.bench_spec import BenchSpec


def pcsc_readers(spec: BenchSpec, twins: dict[str, DeviceSpec]) -> list[str]:
    """The bench's emulated readers with a PC/SC side, in bench order."""
    return [r.name for r in spec.readers if twins[r.name].pcsc is not None]


def entry_name(twin: DeviceSpec, reader: str) -> str:
    """The FRIENDLYNAME of ``reader``'s entry: its driver's name and, as pcsc-lite's CCID
    driver names a USB reader, its serial number in brackets (the bench's name for it when
    it has none). pcsc-lite numbers alike names only within one driver library, so entries
    with their own copies would otherwise list several re-badged readers (four of the
    emulated bench's are "Circle CIR315 CL") under one name, which no client could tell
    apart; the rules read the name without the bracket (``reader_base_name``)."""
    assert twin.pcsc is not None
    return f"{twin.pcsc.reader_name} ({twin.usb.serial or reader})"


def rig_slots(spec: BenchSpec, twins: dict[str, DeviceSpec]) -> dict[str, VpcdSlot]:
    """The rig's reader.conf: every reader with a PC/SC side, each on an entry of its own."""
    base = spec.pcsc.vpcd_base_port
    return {
        name: VpcdSlot(entry_name(twins[name], name), base + VPCD_SLOTS * i, 0, name)
        for i, name in enumerate(pcsc_readers(spec, twins))
    }


def stock_slots(spec: BenchSpec, twins: dict[str, DeviceSpec]) -> dict[str, VpcdSlot]:
    """Debian's stock vpcd reader: its slots to the bench's first readers."""
    names = pcsc_readers(spec, twins)
    first = spec.pcsc.vpcd_reader
    if first is not None:
        if first not in names:
            raise RigError(f"pcsc.vpcd_reader: {first} has no PC/SC side in its behaviour file")
        names = [first] + [n for n in names if n != first]
    port = STOCK_PORT
    return {name: VpcdSlot(STOCK_FRIENDLY_NAME, port + k, k, name)
            for k, name in enumerate(names[:VPCD_SLOTS])}


@attrs.frozen
class VpcdBinding:
    #: "rig" (``pcscd-config``'s reader.conf) or "stock" (Debian's).
    layout: str
    #: Emulated reader -> its slot, in port order.
    slots: dict[str, VpcdSlot]
    #: Emulated reader -> the name pcscd lists for its slot.
    names: dict[str, str]

    def gap(self, reader: str) -> str | None:
        """Why ``reader`` has no vpcd slot here (None: it has one)."""
        if reader in self.slots:
            return None
        if self.layout == "stock":
            served = ", ".join(self.slots) or "none"
            return (f"not served through vpcd: Debian's stock vpcd reader has {VPCD_SLOTS} "
                    f"slots, taken by {served}; `onshi-rig pcscd-config` serves every reader")
        return "not served through vpcd: no PC/SC side"

    def name_gap(self, reader: str) -> str | None:
        """Why pcscd does not list ``reader`` under the name the reader gives itself."""
        if self.layout == "stock" and reader in self.names:
            return (f"served as {self.names[reader]!r} by Debian's stock vpcd reader: vpcd's "
                    "name, not the reader's (`onshi-rig pcscd-config` names each reader)")
        return self.gap(reader)


def _name_pattern(slot: VpcdSlot) -> re.Pattern[str]:
    # pcsc-lite: "<FRIENDLYNAME> <index> <slot>", two hex digits each.
    return re.compile(re.escape(slot.friendly_name) + rf" [0-9A-F]{{2}} {slot.slot:02X}")


def bind_names(slots: dict[str, VpcdSlot], listed: Iterable[str]) -> dict[str, str]:
    """Each slot's reader name among those pcscd lists: exactly one must fit it. None (the
    entry is not loaded) or several (another reader of that name, whose port the rig cannot
    know): an error naming the slot."""
    listed = list(listed)
    names: dict[str, str] = {}
    problems: list[str] = []
    for reader, slot in sorted(slots.items(), key=lambda item: item[1].port):
        pattern = _name_pattern(slot)
        found = [n for n in listed if pattern.fullmatch(n)]
        shape = f"'{slot.friendly_name} NN {slot.slot:02X}'"
        if not found:
            problems.append(f"{reader} (vpcd port {slot.port}): pcscd lists no reader {shape}")
        elif len(found) > 1:
            problems.append(f"{reader} (vpcd port {slot.port}): pcscd lists {len(found)} "
                            f"readers {shape} ({', '.join(repr(n) for n in found)}): which is "
                            "on that port cannot be told")
        else:
            names[reader] = found[0]
    if problems:
        raise RigError("; ".join(problems) + f"; pcscd lists: {', '.join(listed) or 'nothing'}")
    return names


def _ports(slots: dict[str, VpcdSlot]) -> str:
    return ", ".join(str(s.port) for s in slots.values())


def choose_layout(spec: BenchSpec, twins: dict[str, DeviceSpec], listed: Iterable[str],
                  listening: set[int] | None) -> VpcdBinding:
    """The layout pcscd serves this bench in, its slots bound to pcscd's names.

    ``listening``: the TCP ports listening on this machine (None: vpcd is on another host,
    so the names alone decide)."""
    listed = list(listed)
    rig, stock = rig_slots(spec, twins), stock_slots(spec, twins)
    if not rig:
        raise RigError("the bench has no emulated reader with a PC/SC side to serve through vpcd")

    def up(slots: dict[str, VpcdSlot]) -> bool:
        if listening is not None:
            return all(s.port in listening for s in slots.values())
        return any(_name_pattern(s).fullmatch(n) for s in slots.values() for n in listed)

    for layout, slots in (("rig", rig), ("stock", stock)):
        if up(slots):
            return VpcdBinding(layout, slots, bind_names(slots, listed))
    where = ("not listening" if listening is not None
             else "not among pcscd's readers: " + (", ".join(listed) or "none"))
    raise RigError(
        f"pcscd serves none of this bench's vpcd layouts: the rig's reader.conf "
        f"(`onshi-rig pcscd-config`, ports {_ports(rig)}) nor Debian's stock "
        f"{STOCK_FRIENDLY_NAME!r} (ports {_ports(stock)}) are {where}"
        + ("" if listening is None else
           f" (missing: {', '.join(str(s.port) for s in rig.values() if s.port not in listening)}"
           f" and {', '.join(str(s.port) for s in stock.values() if s.port not in listening)})"))
