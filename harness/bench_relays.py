"""The bench's relays opened from its bench file: a driver per instrument kind.

``numato_relay`` (a serial port; on an emulated bench the board's pty), ``hid_relay`` (a
USB HID relay board through pyusb: libusb, or the emulated backend) and ``pdudaemon`` (a
PDU behind a running pdudaemon, real benches only). A ``pdudaemon`` instrument's
``readback`` names another instrument of the bench, opened first.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from pathlib import Path

import attrs
import usb.backend

from harness.devices.hid_relay import HidRelay
from harness.devices.instruments import EMULATED_REPLY_TIMEOUT_S, REPLY_TIMEOUT_S, NumatoRelay
from harness.devices.pdudaemon import PdudaemonRelay
from harness.errors import BadInput, RigError
from harness.loading import line_of, read_yaml
from harness.model.bench_spec import BenchSpec, Instrument
from harness.model.clock import Clock
from harness.model.timeline import Timeline
from harness.protocols import PowerRelay


@attrs.frozen
class RelayContext:
    """What opening a relay may need besides its bench file entry."""

    spec: BenchSpec
    path: Path
    clock: Clock
    timeline: Timeline
    #: pyusb's backend for the bench's USB (libusb, or the emulated one).
    usb_backend: Callable[[], usb.backend.IBackend | None]
    #: Emulated bench: instrument name -> the pty its emulated Numato board is on.
    serial_ports: Mapping[str, str] = attrs.field(factory=dict)


def _bad(ctx: RelayContext, inst: Instrument, field: str, problem: str) -> BadInput:
    line = None
    with contextlib.suppress(BadInput):
        data, lines = read_yaml(ctx.path)
        own = [k for k, i in enumerate(data.get("instruments") or [])
               if isinstance(i, dict) and i.get("name") == inst.name]
        line = line_of(lines, ("instruments", own[0], field)) if own else None
    return BadInput(str(ctx.path), line, f"instruments[{inst.name}].{field}", problem)


def _numato(inst: Instrument, ctx: RelayContext, opened: Mapping[str, PowerRelay]) -> PowerRelay:
    emulated = inst.name in ctx.serial_ports
    port = ctx.serial_ports[inst.name] if emulated else inst.port
    assert port is not None  # Instrument requires it
    timeout = EMULATED_REPLY_TIMEOUT_S if emulated else REPLY_TIMEOUT_S
    board = NumatoRelay(port, timeout=timeout, name=inst.name, channels=inst.channels)
    if inst.board_id is not None:
        # Two boards swap ttyACM0/1 when they enumerate in another order: each would switch
        # the other's outlets and read its own switch back. The id pins the board.
        try:
            answered = board.read_id()
        except BaseException:
            board.close()
            raise
        if answered != inst.board_id:
            board.close()
            raise _bad(ctx, inst, "board_id", f"the board at {port} answers id {answered!r}, "
                       f"not {inst.board_id!r}: another board is on that port (boards "
                       "renumbered?); nothing was switched")
    return board


def _hid(inst: Instrument, ctx: RelayContext, opened: Mapping[str, PowerRelay]) -> PowerRelay:
    return HidRelay(ctx.usb_backend(), serial=inst.serial, path=inst.usb_path, name=inst.name,
                    channels=inst.channels)


def _pdudaemon(inst: Instrument, ctx: RelayContext,
               opened: Mapping[str, PowerRelay]) -> PowerRelay:
    if ctx.spec.kind == "emulated":
        raise _bad(ctx, inst, "kind", "pdudaemon needs a real bench (kind: real): an emulated "
                   "bench runs no pdudaemon")
    readback = None
    if inst.readback is not None:
        readback = opened.get(inst.readback)
        others = [i for i in ctx.spec.instruments if i.kind != "pdudaemon"]
        if readback is None:
            raise _bad(ctx, inst, "readback", f"no relay instrument named {inst.readback!r} "
                       f"(this bench's: {', '.join(i.name for i in others) or 'none'})")
        count = next(i.channels for i in others if i.name == inst.readback)
        if count < inst.channels:
            raise _bad(ctx, inst, "readback", f"{inst.readback!r} has {count} channels, "
                       f"fewer than this PDU's {inst.channels}")
    assert inst.url is not None and inst.hostname is not None and inst.ports is not None
    return PdudaemonRelay(inst.url, inst.hostname, inst.ports, clock=ctx.clock,
                          name=inst.name, timeline=ctx.timeline, readback=readback,
                          readback_name=inst.readback, timeout_s=inst.timeout_s)


_OPENERS: dict[str, Callable[[Instrument, RelayContext, Mapping[str, PowerRelay]],
                             PowerRelay]] = {
    "numato_relay": _numato,
    "hid_relay": _hid,
    "pdudaemon": _pdudaemon,
}


def open_relays(ctx: RelayContext) -> dict[str, PowerRelay]:
    """Every instrument of the bench file, opened; on any failure those opened are closed."""
    relays: dict[str, PowerRelay] = {}
    # pdudaemon last: its read-back is another instrument.
    order = sorted(ctx.spec.instruments, key=lambda i: i.kind == "pdudaemon")
    try:
        for inst in order:
            relays[inst.name] = _OPENERS[inst.kind](inst, ctx, relays)
    except BaseException:
        for relay in relays.values():
            with contextlib.suppress(RigError):
                relay.close()
        raise
    return relays
