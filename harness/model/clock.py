"""Time goes through a Clock (DESIGN.md principle 4).

A real bench uses :class:`RealClock`; an emulated bench uses :class:`VirtualClock`, where a
30 s power-on window costs no wall time. Both also tell the date and time in Japan, which
the upgrade's distribution schedule is written in.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import threading
import time
from collections.abc import Callable
from typing import Protocol

JST = dt.timezone(dt.timedelta(hours=9), "JST")
#: The longest any wait a file names may be: a day (a device is up in minutes; a longer wait
#: is a typo, one of 1e12 s would run the emulated clock past the year 9999 datetime can
#: hold, and a socket's timeout past what the platform's time_t holds).
MAX_WAIT_S = 86_400.0


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the clock's epoch (monotonic)."""

    def sleep(self, seconds: float) -> None:
        """Let ``seconds`` of bench time pass."""

    def wallclock(self) -> dt.datetime:
        """Date and time (Japan) at :meth:`now`."""

    def set_wallclock(self, when: dt.datetime) -> None:
        """The date and time bench time stands for from now on (a terminal's clock set)."""


class RealClock:
    """Wall time. ``scale`` > 1 runs bench time that many times faster than the wall (a
    bench in a box agreed to the same scale: harness/emulation/box); 1 on a lab bench."""

    def __init__(self, scale: float = 1.0) -> None:
        self._t0 = time.monotonic()
        self.scale = scale
        #: The bench's date where a restore set the terminal's clock to another (the
        #: distribution's days on a test environment): (bench seconds then, the date then).
        self._set: tuple[float, dt.datetime] | None = None

    def now(self) -> float:
        return (time.monotonic() - self._t0) * self.scale

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds / self.scale)

    def wallclock(self) -> dt.datetime:
        if self._set is None:
            return dt.datetime.now(JST)
        then, date = self._set
        return date + dt.timedelta(seconds=self.now() - then)

    def set_wallclock(self, date: dt.datetime) -> None:
        """The bench's date is ``date`` from now on (the operator set the terminal's clock
        to it): the rig's schedules follow the terminal's, not the host's calendar."""
        self._set = (self.now(), date)


class Timer:
    """A callback due at a bench time; :meth:`cancel` before it fires to drop it."""

    __slots__ = ("due", "callback", "cancelled", "keep")

    def __init__(self, due: float, callback: Callable[[], None]) -> None:
        self.due = due
        self.callback = callback
        self.cancelled = False
        #: Outlives :meth:`VirtualClock.cancel_all` (the bench's, not a twin's: a fault due).
        self.keep = False

    def cancel(self) -> None:
        self.cancelled = True


class VirtualClock:
    """Bench time that only moves when someone sleeps or advances it.

    Twins schedule their own delays (start-up, time-outs, downloads) with :meth:`call_later`;
    :meth:`advance` moves time to each due timer in turn and runs it, so a callback sees the
    time it was due at and may schedule more. One re-entrant lock serialises the twins: the
    relay board's thread and the test's thread never change the emulated world at once.
    """

    def __init__(self, start: float = 0.0, epoch: dt.datetime | None = None) -> None:
        self._now = start
        #: Wall-clock time at ``now() == 0``.
        self.epoch = epoch or dt.datetime(2026, 1, 19, 9, 0, tzinfo=JST)
        self.lock = threading.RLock()
        self._timers: list[tuple[float, int, Timer]] = []
        self._seq = itertools.count()

    def now(self) -> float:
        # Not under the lock: a float is read whole, and a thread that only stamps what it
        # saw (a vpcd card's APDUs, answered while the twins' thread holds the lock and waits
        # on pcscd for them) must not wait for the twins.
        return self._now

    def wallclock(self) -> dt.datetime:
        return self.epoch + dt.timedelta(seconds=self.now())

    def at_wallclock(self, when: dt.datetime) -> float:
        """Bench time of a wall-clock moment."""
        return (when - self.epoch).total_seconds()

    def sleep(self, seconds: float) -> None:
        self.advance(seconds)

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        with self.lock:
            return self.call_at(self._now + max(0.0, delay), callback)

    def call_at(self, due: float, callback: Callable[[], None]) -> Timer:
        with self.lock:
            timer = Timer(max(due, self._now), callback)
            heapq.heappush(self._timers, (timer.due, next(self._seq), timer))
            return timer

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"time cannot go backwards ({seconds} s)")
        with self.lock:
            end = self._now + seconds
            while self._timers and self._timers[0][0] <= end:
                due, _, timer = heapq.heappop(self._timers)
                if timer.cancelled:
                    continue
                self._now = max(self._now, due)
                timer.callback()
            self._now = end

    def set_wallclock(self, when: dt.datetime) -> None:
        """Set the date and time bench time stands for, as a lab sets a terminal's clock;
        bench time itself (``now``) runs on, so the timeline stays in order."""
        with self.lock:
            self.epoch = when - dt.timedelta(seconds=self._now)

    def cancel_all(self) -> None:
        """Forget every pending timer (the twins that set them are being replaced), but
        those marked ``keep``."""
        with self.lock:
            for _, _, timer in self._timers:
                if not timer.keep:
                    timer.cancel()
            self._timers = [entry for entry in self._timers if entry[2].keep]
            heapq.heapify(self._timers)

    def advance_to(self, when: dt.datetime) -> None:
        """Let time pass until a wall-clock moment (no-op if already past)."""
        self.advance(max(0.0, self.at_wallclock(when) - self.now()))
