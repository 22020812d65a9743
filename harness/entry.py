"""The command line's entry (the ``onshi-rig`` console script, ``python -m harness.cli``):
a Ctrl-C, SIGTERM or SIGHUP that comes while the rig still loads (its imports take a moment
on a cold cache, before harness.cli's own handling is reached) ends it with one line and
exit 130, 143 or 129, not a traceback nor a silent death. Only the standard library is
imported here, so that the window before it is as short as Python's own start."""

from __future__ import annotations

import signal
import sys
from typing import Any

#: The signals ended on with one line while the rig loads (SIGINT: Python's own
#: KeyboardInterrupt).
SIGNALS = (signal.SIGTERM, signal.SIGHUP)
#: What the loading window's handlers replaced, by signal; empty once the command runs.
_replaced: dict[int, Any] = {}


class _Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP while the rig loads (a KeyboardInterrupt, so every handler of one
    ends it the same way)."""

    def __init__(self, signum: int) -> None:
        super().__init__()
        self.signum = signum


def _terminate(signum: int, _frame: Any) -> None:
    raise _Terminated(signum)


def loaded() -> None:
    """The command is about to run: the signals back to what they were (each command sets
    its own handling of them, or dies of them as any process does)."""
    for sig, before in list(_replaced.items()):
        if signal.getsignal(sig) is _terminate:
            signal.signal(sig, before)
        del _replaced[sig]


def stopped_code(exc: KeyboardInterrupt) -> int:
    """130 for SIGINT (Ctrl-C); 143 or 129 for a SIGTERM or SIGHUP that came while the rig
    loaded."""
    return 128 + (exc.signum if isinstance(exc, _Terminated) else signal.SIGINT)


def main() -> int:
    for sig in SIGNALS:
        before = signal.getsignal(sig)
        if before is not signal.SIG_IGN:  # one started to ignore it keeps ignoring it
            _replaced[sig] = before
            signal.signal(sig, _terminate)
    try:
        from harness.cli import main as cli_main

        return cli_main()
    except KeyboardInterrupt as exc:
        name = signal.Signals(exc.signum).name if isinstance(exc, _Terminated) else "SIGINT"
        print(f"onshi-rig: interrupted ({name})", file=sys.stderr, flush=True)
        return stopped_code(exc)
    finally:
        loaded()
