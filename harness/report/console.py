"""A run's console output that never stops the run: ``onshi-rig certify | head -1`` closes
the pipe after one line, and the certification must still finish and write its report.

:func:`guard_streams` wraps ``sys.stdout`` and ``sys.stderr``: the first write or flush that
finds the reader gone (``BrokenPipeError``, ``EPIPE``) sends that stream's descriptor to
``/dev/null`` (so nothing buffered fails again, at exit either) and drops what follows.
"""

from __future__ import annotations

import errno
import os
import sys
from typing import Any, TextIO


class _Guarded:
    """A text stream that writes through to ``stream`` until its reader goes away."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self.gone = False

    def _lost(self) -> None:
        self.gone = True
        self.settle()

    def settle(self) -> None:
        """Point the descriptor at /dev/null again and empty the buffer there (pytest's
        capture puts the closed pipe back when it ends)."""
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)
            self._stream.flush()
        except (OSError, ValueError):
            pass

    def _guard(self, call: Any, *args: Any) -> Any:
        if self.gone:
            return None
        try:
            return call(*args)
        except BrokenPipeError:
            self._lost()
        except OSError as exc:
            if exc.errno not in (errno.EPIPE, errno.EIO):  # EIO: its terminal hung up
                raise
            self._lost()
        return None

    def write(self, text: str) -> int:
        self._guard(self._stream.write, text)
        return len(text)

    def flush(self) -> None:
        self._guard(self._stream.flush)

    def __getattr__(self, name: str) -> Any:  # fileno, encoding, isatty, buffer...
        return getattr(self._stream, name)


def guard_streams() -> None:
    """From now on a closed stdout or stderr never raises (idempotent)."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is not None and not isinstance(stream, _Guarded):
            setattr(sys, name, _Guarded(stream))


def settle_streams() -> None:
    """Before exit: a stream whose reader went away stays on /dev/null, so flushing it at
    exit cannot fail (Python would exit 120)."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if isinstance(stream, _Guarded) and stream.gone:
            stream.settle()
