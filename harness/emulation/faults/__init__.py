"""Bench faults injected on the emulated bench, for tests and ``onshi-rig emulate``.

``bench.faults.inject("camera.frozen", "canon-cam")`` strikes at once (or ``after_s`` bench
seconds later); ``bench.faults.clear()`` undoes every fault injected, in reverse order. A
bench file's ``faults:`` list injects them during the tests it names (the pytest plugin).
Each kind is one handler in this package (by the part it strikes): it breaks the emulated
device the way the real one breaks, and never tells the rig: the rig's drivers must notice
and name it themselves (harness.model.bench_faults says how and within what bound).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import attrs

from harness.errors import BenchFault, RigError
from harness.model.bench_faults import FAULT_KINDS, SINGLE_PARTS

if TYPE_CHECKING:
    from harness.bench import Bench
    from harness.model.clock import Timer, VirtualClock

#: Breaks ``target`` on the open emulated ``bench``; returns what undoes it.
Handler = Callable[["Bench", str], Callable[[], None]]


def switched(device: object, flag: str) -> Callable[[], None]:
    """Set an emulated device's fault flag (``frozen``, ``silent``, ...); what clears it."""
    setattr(device, flag, True)
    return lambda: setattr(device, flag, False)


def _handlers() -> dict[str, Handler]:
    from harness.emulation.faults import camera, lines, operator, pcsc, robot

    handlers: dict[str, Handler] = {}
    for module in (pcsc, camera, lines, operator, robot):
        handlers.update(module.HANDLERS)
    return handlers


@attrs.define
class _Injected:
    kind: str
    target: str
    undo: Callable[[], None] | None = None
    timer: Timer | None = None
    #: Its strike on the clock was refused by the bench (a BenchFault was raised then).
    refused: bool = False


def _strike_later(injected: _Injected, strike: Callable[[], None]) -> None:
    """A fault struck on the clock, in whatever the test was doing: a refusal then (no
    such part, the wrong tier) is the bench's, never the reader under test failing."""
    try:
        strike()
    except BenchFault:
        raise
    except RigError as exc:
        injected.refused = True  # clear() still names it: never silently dropped
        raise BenchFault("fault.uninjected", injected.target,
                         f"{injected.kind} could not be injected: {exc}") from None


class Faults:
    """The faults injected on one open emulated bench."""

    def __init__(self, bench: Bench) -> None:
        if not bench.emulated:
            raise RigError(f"bench {bench.name!r}: faults are injected on an emulated bench only")
        self._bench = bench
        self._injected: list[_Injected] = []

    def inject(self, kind: str, target: str | None = None, *, after_s: float = 0.0) -> None:
        """Strike ``target`` (a reader, camera or relay by name; pcscd, the network and the
        operator need none) with fault ``kind``, now or ``after_s`` bench seconds later."""
        if kind not in FAULT_KINDS:
            raise RigError(f"no such fault {kind!r} (known: {', '.join(FAULT_KINDS)})")
        strikes = FAULT_KINDS[kind].strikes
        target = target if target is not None else strikes
        if strikes not in SINGLE_PARTS and target == strikes:
            raise RigError(f"{kind} strikes a {strikes}: name which one")
        handler = _handlers().get(kind)
        if handler is None:  # pragma: no cover - every kind has its handler (a test says so)
            raise RigError(f"{kind}: the emulated bench cannot inject it")
        injected = _Injected(kind, target)

        def strike() -> None:
            injected.timer = None
            injected.undo = handler(self._bench, target)  # a refusal raises: nothing struck
            self._bench.timeline.record("bench", "fault.injected", fault=kind, target=target)

        if after_s > 0:
            clock: VirtualClock = self._bench.clock  # type: ignore[assignment]
            injected.timer = clock.call_later(after_s, lambda: _strike_later(injected, strike))
            injected.timer.keep = True  # a test's restore() of the twins does not undo it
        else:
            strike()
        self._injected.append(injected)

    def armed(self) -> bool:
        """Any fault injected and not cleared (struck, or still to strike)."""
        return bool(self._injected)

    def active(self) -> list[tuple[str, str]]:
        """(kind, target) of each fault struck and not cleared."""
        return [(f.kind, f.target) for f in self._injected if f.undo is not None]

    def clear(self) -> list[tuple[str, str]]:
        """Undo every fault, the last struck first; a pending one never strikes: (kind,
        target) of each of those, and of each the bench refused on the clock, which never
        struck."""
        unstruck: list[tuple[str, str]] = []
        while self._injected:
            injected = self._injected.pop()
            if injected.timer is not None:
                injected.timer.cancel()
                if injected.undo is None:
                    unstruck.append((injected.kind, injected.target))
            elif injected.refused:  # (whatever caught the fault.uninjected raised then)
                unstruck.append((injected.kind, injected.target))
            if injected.undo is not None:
                injected.undo()
                self._bench.timeline.record("bench", "fault.cleared", fault=injected.kind,
                                         target=injected.target)
        return unstruck
