"""Where a USB device sits: the facts the wiring rules (USB-01 to USB-03) need.

The same record comes from sysfs on a real Linux bench and from the bench file on an
emulated one.
"""

from __future__ import annotations

import attrs


@attrs.frozen
class UsbTopology:
    #: Linux-style port path, e.g. ``2-1`` (bus 2, root port 1) or ``1-4.2`` (port 2 of the
    #: hub on root port 4).
    path: str
    #: Negotiated speed in Mbit/s (1.5, 12, 480, 5000, 10000, ...); None when unknown.
    speed_mbps: float | None
    #: Whether the terminal's root port the chain starts at is a USB 3.x port (blue port).
    root_port_usb3: bool | None
    #: Hubs between the device and the terminal's root port (0 = plugged in directly).
    hubs_between: int

    @property
    def bus(self) -> int:
        return int(self.path.split("-", 1)[0])

    @property
    def port_numbers(self) -> tuple[int, ...]:
        return tuple(int(p) for p in self.path.split("-", 1)[1].split("."))


#: The ports of an emulated hub (harness.emulation.usb_records.EmulatedHub): the bench's
#: hubs are 4-port ones, and a bench file is checked against it before its tree is built.
EMULATED_HUB_PORTS = 4


def _plain_number(text: str, zero: bool = False) -> bool:
    """``text`` is a number as Linux writes it: ASCII digits, no leading zero (port 0 only
    where ``zero`` allows it: bus numbers start at 1, but a bench may say bus 0)."""
    if not (text.isascii() and text.isdigit()):
        return False
    return text == str(int(text)) and (zero or int(text) > 0)


def parse_port_path(path: str) -> tuple[int, tuple[int, ...]]:
    """Split ``1-4.2`` into ``(1, (4, 2))``; raise ValueError for anything else."""
    bus, sep, ports = path.partition("-")
    numbers = ports.split(".")
    # The path is kept and compared as written (sysfs spells it in ASCII, no leading
    # zeros): '２-2' or '2-02' would read as 2-2 yet never match a device.
    if not sep or not _plain_number(bus, zero=True) or not all(map(_plain_number, numbers)):
        raise ValueError(f"not a USB port path like '1-4' or '1-4.2' (ASCII digits, no "
                         f"leading zeros): {path!r}")
    if len(numbers) > 7:
        raise ValueError(f"USB allows at most 7 tiers of ports: {path!r}")
    return int(bus), tuple(int(n) for n in numbers)


def port_path(bus: int, ports: tuple[int, ...] | list[int] | None) -> str | None:
    """``1-4.2`` for the device on bus 1 behind ports 4 then 2; None without ports (a root
    hub, or a backend that does not say)."""
    return f"{bus}-{'.'.join(str(p) for p in ports)}" if ports else None
