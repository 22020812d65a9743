"""Time goes through a Clock (DESIGN.md principle 4).

A real bench uses :class:`RealClock`; an emulated bench uses :class:`VirtualClock`, where a
30 s power-on window costs no wall time.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the clock's epoch (monotonic)."""

    def sleep(self, seconds: float) -> None:
        """Let ``seconds`` of bench time pass."""


class RealClock:
    def __init__(self) -> None:
        self._t0 = time.monotonic()

    def now(self) -> float:
        return time.monotonic() - self._t0

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class VirtualClock:
    """Bench time that only moves when someone sleeps or advances it."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"time cannot go backwards ({seconds} s)")
        with self._lock:
            self._now += seconds
