"""Bench faults on the bench's lines: the relay board's serial line and the terminal's
network (see the package).

``relay.garbage`` mangles every byte the emulated Numato board sends back, ``relay.silent``
hangs it (input swallowed, nothing back): the rig's relay driver names either by itself
(harness.devices.instruments). ``network.dropped`` takes the lab's uplink down under the
terminal's network: the terminal loses it as with any outage, and the bench's network
monitor sees it (harness.emulation.network); the flow runner names it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from harness.emulation.faults import switched
from harness.errors import RigError

if TYPE_CHECKING:
    from harness.bench import Bench
    from harness.emulation.bench import EmulatedBench
    from harness.emulation.relay import EmulatedRelayBoard


def _emulation(bench: Bench) -> EmulatedBench:
    if bench.emulation is None:
        raise RigError(f"bench {bench.name!r}: not open (faults strike an open emulated bench)")
    return bench.emulation


def _board(bench: Bench, target: str) -> EmulatedRelayBoard:
    boards = _emulation(bench).relay_boards
    if target not in boards:
        raise RigError(f"bench {bench.name!r} has no relay {target!r} "
                       f"(relays: {', '.join(boards) or 'none'})")
    return boards[target]


def relay_garbage(bench: Bench, target: str) -> Callable[[], None]:
    return switched(_board(bench, target), "garbled")


def relay_silent(bench: Bench, target: str) -> Callable[[], None]:
    return switched(_board(bench, target), "silent")


def network_dropped(bench: Bench, target: str) -> Callable[[], None]:
    uplink = _emulation(bench).uplink
    uplink.drop()
    return uplink.restore


#: Fault kind -> handler (harness.emulation.faults.Handler).
HANDLERS: dict[str, Callable[[Bench, str], Callable[[], None]]] = {
    "relay.garbage": relay_garbage,
    "relay.silent": relay_silent,
    "network.dropped": network_dropped,
}
