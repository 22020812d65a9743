"""The command line's entry (the ``onshi-rig`` console script, ``python -m harness.cli``):
a Ctrl-C or SIGTERM that comes while the rig still loads (its imports take a moment on a
cold cache, before harness.cli's own handling is reached) ends it with one line and exit
130 or 143, not a traceback. Only the standard library is imported here, so that the
window before it is as short as Python's own start."""

from __future__ import annotations

import signal
import sys
from typing import Any

#: What the loading window's SIGTERM handler replaced; None once the command runs.
_replaced: list[Any] = []


class _Terminated(KeyboardInterrupt):
    """SIGTERM while the rig loads (a KeyboardInterrupt, so every handler of one ends it
    the same way)."""


def _terminate(_signum: int, _frame: Any) -> None:
    raise _Terminated


def loaded() -> None:
    """The command is about to run: SIGTERM back to what it was (each command sets its
    own handling of it, or dies of it as any process does)."""
    if _replaced and signal.getsignal(signal.SIGTERM) is _terminate:
        signal.signal(signal.SIGTERM, _replaced.pop())


def stopped_code(exc: KeyboardInterrupt) -> int:
    """130 for SIGINT (Ctrl-C), 143 for a SIGTERM that came while the rig loaded."""
    return 128 + (signal.SIGTERM if isinstance(exc, _Terminated) else signal.SIGINT)


def main() -> int:
    before = signal.getsignal(signal.SIGTERM)
    if before is not signal.SIG_IGN:  # one started to ignore it keeps ignoring it
        _replaced.append(before)
        signal.signal(signal.SIGTERM, _terminate)
    try:
        from harness.cli import main as cli_main

        return cli_main()
    except KeyboardInterrupt as exc:
        name = "SIGTERM" if isinstance(exc, _Terminated) else "SIGINT"
        print(f"onshi-rig: interrupted ({name})", file=sys.stderr, flush=True)
        return stopped_code(exc)
    finally:
        loaded()
