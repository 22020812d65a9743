"""The one bounded wait: look until something holds, on the bench's Clock.

Every wait of the rig (a screen, a dialog, a delivery, a still screen) is this loop: look
now; if not yet, let time pass, sooner right after an action and less often later; never
past the deadline, and always one last look *at* the deadline, so an edge is not missed by
sampling. A wait that runs out returns (never raises) what it saw last: the caller's
verdict or error carries that observation as its evidence.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Generic, TypeVar

import attrs

from harness.model.clock import Clock

T = TypeVar("T")

#: Slack for float bench time: a look this close to the deadline is the deadline's look.
EPS_S = 1e-9


@attrs.frozen
class Waited(Generic[T]):
    """How a wait ended."""

    ok: bool
    #: The last observation (the one that satisfied the wait, or the one at the deadline).
    last: T
    #: Looks taken, and the bench seconds from the first to the last.
    looks: int
    waited_s: float


def wait_until(clock: Clock, look: Callable[[], T], done: Callable[[T], bool],
               timeout_s: float, *, step_s: float, first_s: float | None = None,
               sleep: Callable[[float], None] | None = None) -> Waited[T]:
    """Look until ``done(observation)``, at most ``timeout_s`` of bench time.

    Looks are at 0, ``first_s``, then doubling gaps up to ``step_s`` (``first_s`` defaults
    to ``step_s``: even looks), and at the deadline. ``sleep`` lets time pass (default
    ``clock.sleep``; the flows pass their hands' wait, which also runs the twins)."""
    if not (timeout_s >= 0 and math.isfinite(timeout_s)):
        raise ValueError(f"a bounded wait needs a finite timeout >= 0, not {timeout_s!r}")
    if not (step_s > 0 and math.isfinite(step_s)):
        raise ValueError(f"a wait's step must be finite and > 0, not {step_s!r}")
    pause = sleep or clock.sleep
    start = clock.now()
    deadline = start + timeout_s
    gap = min(first_s if first_s is not None and first_s > 0 else step_s, step_s)
    looks = 0
    while True:
        seen = look()
        looks += 1
        if done(seen):
            return Waited(True, seen, looks, clock.now() - start)
        left = deadline - clock.now()
        if left <= EPS_S:
            return Waited(False, seen, looks, clock.now() - start)
        pause(min(gap, left))
        gap = min(gap * 2, step_s)
