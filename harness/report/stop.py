"""How a certification stops when asked to: SIGINT (Ctrl-C), SIGTERM or SIGHUP (the ssh
session or terminal window closed under the run).

The first signal stops the run where it is (``on_stop`` runs: the run raises
``KeyboardInterrupt`` into the suites and pytest tears the bench down, or a run spread
over pytest-xdist workers passes the signal on to them: harness/report/workers.py); the run
then finishes its report with what was decided and exits ``128 + signal`` (130, 143, 129). Further signals while it finishes are noted and ignored:
the report is being written (SIGKILL stops at once, leaving the last report written).
"""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Stop:
    """The signal that stopped the run, if one did."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self._at = 0.0
        #: The run's tests are over and its report is being finished and sealed: a signal
        #: now is noted (``late``) and the report finished first, never cut.
        self.finishing = False
        self.late: int | None = None

    def since(self) -> float:
        """Seconds since the signal came."""
        return time.monotonic() - self._at

    @property
    def exit_code(self) -> int:
        return 128 + (self.signum or signal.SIGINT)

    @property
    def name(self) -> str:
        return signal.Signals(self.signum or signal.SIGINT).name


def interrupt_once() -> None:
    """For the rest of the process (a worker of a certification spread over processes):
    the first SIGINT, SIGTERM or SIGHUP raises ``KeyboardInterrupt`` (pytest ends the test, tears
    the bench down and stops), further ones are ignored so the teardown finishes."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        return  # signals reach the main thread only; it keeps Python's own handling
    stop = Stop()

    def handler(signum: int, _frame: Any) -> None:
        if stop.signum is None:
            stop.signum = signum
            raise KeyboardInterrupt

    for s in SIGNALS:
        signal.signal(s, handler)


def _raise_interrupt(stop: Stop) -> None:
    raise KeyboardInterrupt


@contextmanager
def stopping(on_stop: Callable[[Stop], None] = _raise_interrupt) -> Iterator[Stop]:
    """SIGINT, SIGTERM and SIGHUP handled as above for the ``with`` block; the handlers it replaced
    come back after."""
    stop = Stop()

    def handler(signum: int, _frame: Any) -> None:
        if stop.signum is not None or stop.finishing:
            if stop.signum is None and stop.late is None:
                stop.late = signum
            print(f"already stopping ({signal.Signals(signum).name}): finishing the report",
                  file=sys.stderr, flush=True)
            return
        stop.signum, stop._at = signum, time.monotonic()
        on_stop(stop)

    with _handling(handler):
        yield stop


@contextmanager
def deferred(what: str) -> Iterator[Stop]:
    """SIGINT and SIGTERM wait until the ``with`` block is over (noted in the returned
    :class:`Stop`, said at once on stderr): files written and sealed as one step, e.g. a
    rendered report and its new manifest, are never left half done by a Ctrl-C."""
    stop = Stop()

    def handler(signum: int, _frame: Any) -> None:
        if stop.signum is None:
            stop.signum, stop._at = signum, time.monotonic()
        print(f"{signal.Signals(signum).name}: finishing {what} first", file=sys.stderr,
              flush=True)

    with _handling(handler):
        yield stop


@contextmanager
def _handling(handler: Callable[[int, Any], None]) -> Iterator[None]:
    """``handler`` for the stopping signals while the block runs, the old ones after."""
    previous = {s: signal.signal(s, handler) for s in SIGNALS}
    try:
        yield
    finally:
        for s, old in previous.items():
            signal.signal(s, old)
