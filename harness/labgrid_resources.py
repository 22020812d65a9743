"""A real bench file's gaps filled from its labgrid place (issue 16 item 4): where the file
leaves out a relay's or the robot's serial port, a camera's source or a reader's USB path,
the resource of the same name in the place gives it, as the lab's exporter offers it.

labgrid resource (by its name in the place) -> bench file field:

- ``NetworkSerialPort`` (what an exporter's USBSerialPort or RawSerialPort becomes, served by
  ser2net) -> ``instruments[].port`` of a ``numato_relay``, ``robot.port``: the pyserial URL
  ``rfc2217://HOST:PORT?ign_set_control`` as labgrid opens it (``socket://`` for
  ``protocol: raw``);
- ``HTTPVideoStream`` -> ``cameras[].source``: its url, opened as an IP camera;
- any USB resource (labgrid's ``path``: the kernel's port path, ``1-4.1``) ->
  ``readers[].usb.path``, only from an exporter on this machine: a USB path is its host's.

A field the file gives is kept. A port or source the file leaves out and the place has no
resource for is bad input naming the place's resources (a reader's USB path stays optional:
without it the reader is found by its USB ID). The coordinator is asked only when something
is left out, so a complete bench file needs no coordinator to be read.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import attrs

from harness.errors import BadInput
from harness.labgrid_place import Coordinator, PlaceResource, coordinator_address
from harness.loading import line_of

_LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}


def _serial_url(params: dict[str, Any]) -> str | None:
    if params.get("host") is None or params.get("port") is None:
        return None  # not served (yet)
    if params.get("protocol") == "raw":
        return f"socket://{params['host']}:{params['port']}"
    # As labgrid's own SerialDriver opens it: ser2net does not answer SET_CONTROL for every
    # device (a pty has no modem lines), and the rig sets no flow control.
    return f"rfc2217://{params['host']}:{params['port']}?ign_set_control"


def _usb_path(params: dict[str, Any]) -> str | None:
    host = str(params.get("host", "localhost"))
    if host not in _LOCAL_HOSTS | {socket.gethostname(), socket.getfqdn()}:
        return None
    return params.get("path")


@attrs.frozen
class Gap:
    """A field the bench file leaves out that a resource of the place may give."""

    loc: tuple[Any, ...]
    resource: str
    #: labgrid classes that give it; empty: any class with a ``path`` (the USB resources).
    classes: tuple[str, ...]
    value: Callable[[dict[str, Any]], Any]
    required: bool = True

    def field(self) -> str:
        return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in self.loc)[1:] \
            if self.loc else ""

    def takes(self, resource: PlaceResource) -> bool:
        if resource.name != self.resource:
            return False
        return resource.cls in self.classes if self.classes else "path" in resource.params


def gaps(data: dict[str, Any]) -> list[Gap]:
    """What ``data`` (a real bench file, its bases merged) leaves out that a place can give."""
    found: list[Gap] = []
    for i, inst in enumerate(_items(data, "instruments")):
        if inst.get("kind") == "numato_relay" and "port" not in inst and "name" in inst:
            found.append(Gap(("instruments", i, "port"), str(inst["name"]),
                             ("NetworkSerialPort",), _serial_url))
    robot = data.get("robot")
    if isinstance(robot, dict) and "port" not in robot:
        found.append(Gap(("robot", "port"), "robot", ("NetworkSerialPort",), _serial_url))
    for i, camera in enumerate(_items(data, "cameras")):
        if "source" not in camera and "name" in camera:
            found.append(Gap(("cameras", i, "source"), str(camera["name"]),
                             ("HTTPVideoStream",), lambda p: p["url"]))
    for i, reader in enumerate(_items(data, "readers")):
        usb = reader.get("usb")
        if isinstance(usb, dict) and "path" not in usb and "name" in reader:
            found.append(Gap(("readers", i, "usb", "path"), str(reader["name"]), (),
                             _usb_path, required=False))
    return found


def _items(data: dict[str, Any], key: str) -> list[dict[str, Any]]:
    items = data.get(key)
    return [x if isinstance(x, dict) else {} for x in items] if isinstance(items, list) else []


def fill_from_place(data: Any, lines: dict[tuple[Any, ...], int], where: str) -> None:
    """Fill ``data``'s gaps from its labgrid place, in place; bad input for a required one
    the place cannot fill."""
    if not isinstance(data, dict) or data.get("kind") != "real":
        return
    lab = data.get("labgrid")
    if not isinstance(lab, dict) or not isinstance(lab.get("place"), str):
        return
    wanted = gaps(data)
    if not wanted:
        return
    coordinator = lab.get("coordinator")
    address = coordinator_address(coordinator if isinstance(coordinator, str) else None)
    place = lab["place"]
    with Coordinator(address) as session:
        resources = session.resources(place)
    problems: list[BadInput] = []
    for gap in wanted:
        resource = next((r for r in resources if gap.takes(r)), None)
        value = gap.value(resource.params) if resource is not None else None
        if value is not None:
            _set(data, gap.loc, value)
            continue
        if resource is not None:
            # An exporter serves a serial port (ser2net) only while the place is acquired.
            problems.append(BadInput(
                where, line_of(lines, gap.loc[:-1]), gap.field(),
                f"not given, and labgrid place {place}'s {resource.cls} {resource.name!r} "
                f"does not give it ({resource.path}: {resource.params}); a serial port is "
                "served only while the place is acquired" if gap.classes else
                f"not given, and labgrid place {place}'s {resource.cls} {resource.name!r} "
                f"is on another host ({resource.params.get('host')})"))
        elif gap.required:
            offered = ", ".join(f"{r.cls} {r.name!r}" for r in resources) or "none"
            problems.append(BadInput(
                where, line_of(lines, gap.loc[:-1]), gap.field(),
                f"not given, and labgrid place {place} has no {' or '.join(gap.classes)} "
                f"named {gap.resource!r} (its resources: {offered})"))
    if problems:
        raise BadInput.of(problems)


def _set(data: dict[str, Any], loc: tuple[Any, ...], value: Any) -> None:
    node: Any = data
    for part in loc[:-1]:
        node = node[part]
    node[loc[-1]] = value
