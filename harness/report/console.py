"""A run's console output that never stops the run: ``onshi-rig certify | head -1`` closes
the pipe after one line, and the certification must still finish and write its report.

:func:`guard_streams` wraps ``sys.stdout`` and ``sys.stderr``: the first write or flush that
finds the reader gone (``BrokenPipeError``, ``EPIPE``) sends that stream's descriptor to
``/dev/null`` (so nothing buffered fails again, at exit either) and drops what follows.
Any other failed write (a full disk or quota behind ``> file``) is the same, and kept:
:func:`output_failure` says it, for the command to end with it in one line (exit 2) —
never taken for a failure of the command's own files (a run's ``--out``).
"""

from __future__ import annotations

import errno
import os
import sys
from typing import Any


class _Guarded:
    """A text stream that writes through to ``stream`` until its reader goes away."""

    def __init__(self, stream: Any, name: str) -> None:
        self._stream = stream
        self.name = name
        self.gone = False
        #: Why a write failed other than its reader going away (a full disk), if one did.
        self.failed: str | None = None
        self._buffer: _Guarded | None = None

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
                self.failed = self.failed or exc.strerror or str(exc)
            self._lost()
        return None

    @property
    def buffer(self) -> _Guarded:
        """The binary stream under it (``sys.stdout.buffer.write``), guarded alike."""
        if self._buffer is None:
            self._buffer = _Guarded(self._stream.buffer, self.name)
        return self._buffer

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
            setattr(sys, name, _Guarded(stream, name))


def output_failure() -> str | None:
    """``stdout: No space left on device`` when a write to a guarded stream failed for
    another reason than its reader going away; None when none did."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        for guarded in (stream, getattr(stream, "_buffer", None)):
            if isinstance(guarded, _Guarded) and guarded.failed:
                return f"{guarded.name}: {guarded.failed}"
    return None


def settle_streams() -> None:
    """Before exit: a stream whose reader went away stays on /dev/null, so flushing it at
    exit cannot fail (Python would exit 120)."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if isinstance(stream, _Guarded) and stream.gone:
            stream.settle()
