"""``onshi-rig certify``'s console while the run goes: how far it is, what failed, how it ended.

Three modes (:func:`choose_mode`):

- ``tty`` (stdout is a terminal): one line rewritten in place, ``[123/207] 00:21 ~00:14 left``
  and the test running last, refreshed every second; each failure printed above it as it
  happens, one line: requirement, maker, reason.
- ``plain`` (stdout is a pipe or file, ``TERM=dumb``, or ``--plain``): no control characters;
  a line per finished test, ``  pass NODEID  [3/12] 00:02 ~00:06 left`` (``FAIL``, ``BENCH``
  for a bench fault, ``skip``), each failure's reasons on indented lines below it.
- ``quiet`` (``--quiet``): only the failures, as they happen, and the final verdict.

The estimate is the mean time per finished test times the tests left: rough while few have
finished, and ``~--:--`` before the first.

A run spread over pytest-xdist workers is one pytest run: its controller, the certify
process, gets every test's report and shows them here (harness/report/workers.py).
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, TextIO

import attrs

MODES = ("tty", "plain", "quiet")
MARKS = {"passed": "pass", "failed": "FAIL", "skipped": "skip", "bench_fault": "BENCH",
         "not_run": "----"}
#: Control characters other than newline: never in a plain or quiet console (CI logs).
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")


def choose_mode(stream: TextIO, *, quiet: bool = False, plain: bool = False) -> str:
    """The console mode for ``stream``: quiet wins; a terminal (not ``TERM=dumb``) gets the
    updating line unless ``plain``."""
    if quiet:
        return "quiet"
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        tty = False
    if tty and not plain and os.environ.get("TERM", "") != "dumb":
        return "tty"
    return "plain"


def clock_text(seconds: float) -> str:
    """``01:05`` (minutes:seconds), ``1:02:05`` from an hour on."""
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def one_line(text: str) -> str:
    """``text`` on one line without control characters (a reason can quote a screen's
    text or an exception's lines)."""
    return _CONTROL.sub(" ", " ".join(text.split("\n"))).strip()


def failure_lines(record: Any) -> list[str]:
    """What a finished test broke, one line each: ``REQ MAKER: reason``. A failed verdict
    names its own requirement and maker; a test that failed (or hit a bench fault) without
    one names the requirements and makers it is marked with and its reason."""
    lines = [f"{v.requirement} {v.maker}: {v.subject}: " + "; ".join(v.problems)
             for v in record.verdicts if not v.passed]
    if record.outcome in ("failed", "bench_fault") and not lines:
        reqs = ",".join(record.requirements) or "-"
        makers = ",".join(record.makers) or "-"
        lines.append(f"{reqs} {makers}: {record.reason or record.outcome}")
    return [one_line(line) for line in lines]


def test_event(record: Any) -> dict[str, Any]:
    """A finished test as the console shows it."""
    return {"nodeid": record.nodeid, "outcome": record.outcome,
            "failures": failure_lines(record)}


@attrs.define
class Progress:
    """The console of one run."""

    stream: TextIO
    mode: str
    clock: Callable[[], float] = time.monotonic
    #: Seconds between two refreshes of the updating line while no test finishes.
    tick_s: float = 1.0
    width: int = 100
    total: int = 0
    counted: bool = False
    done: int = 0
    failed: int = 0
    last: str = ""
    started: float = attrs.field(init=False)
    _lock: threading.Lock = attrs.field(init=False, factory=threading.Lock)
    _shown: bool = attrs.field(init=False, default=False)
    _stop: threading.Event = attrs.field(init=False, factory=threading.Event)
    _ticker: threading.Thread | None = attrs.field(init=False, default=None)

    def __attrs_post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"console mode {self.mode!r}: not one of {', '.join(MODES)}")
        self.started = self.clock()
        if self.mode == "tty":
            with contextlib.suppress(OSError, ValueError, AttributeError):
                # (0 columns: a terminal that did not say its size; keep the default.)
                columns = os.get_terminal_size(self.stream.fileno()).columns
                self.width = max(40, columns - 1) if columns else self.width
            self._ticker = threading.Thread(target=self._tick, name="progress", daemon=True)
            self._ticker.start()

    # --- what the run reports -------------------------------------------------------------

    def collected(self, count: int) -> None:
        """The run collected ``count`` tests to run."""
        with self._lock:
            self.total = count
            self.counted = True
            self._draw()

    def finished(self, event: dict[str, Any]) -> None:
        """A test finished (:func:`test_event`)."""
        failures = [one_line(str(f)) for f in event.get("failures", [])]
        outcome = str(event.get("outcome", ""))
        nodeid = one_line(str(event.get("nodeid", "")))
        with self._lock:
            self.done += 1
            self.failed += outcome in ("failed", "bench_fault") or bool(failures)
            self.last = nodeid
            if self.mode == "plain":
                mark = MARKS.get(outcome, outcome)
                self._write(f"  {mark:4} {nodeid}  {self.status()}\n"
                            + "".join(f"       {f}\n" for f in failures))
            elif self.mode == "quiet":
                self._write("".join(f"{self._word(outcome)} {f}  ({nodeid})\n"
                                    for f in failures))
            else:
                self._clear()
                self._write("".join(f"{self._word(outcome, color=True)} {f}  ({nodeid})\n"
                                    for f in failures))
                self._draw()

    def say(self, text: str) -> None:
        """A message of the run's (not in quiet mode), above the updating line."""
        if self.mode == "quiet":
            return
        with self._lock:
            self._clear()
            self._write(one_line(text) + "\n" if self.mode == "plain" else text + "\n")
            self._draw()

    def close(self) -> None:
        """The run is over: the updating line stays as its last state, on a line of its own."""
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(timeout=2)
        with self._lock:
            if self.mode == "tty" and self._shown:
                self._clear()
                self._write(f"{self.status(done=True)}\n")
                self._shown = False

    # --- how it shows ---------------------------------------------------------------------

    def status(self, *, done: bool = False) -> str:
        """``[123/207] 00:21 ~00:14 left`` (the total ``?`` until the tests are counted)."""
        elapsed = self.clock() - self.started
        known = self.counted
        total = str(self.total) if known else "?"
        head = f"[{self.done}/{total}] {clock_text(elapsed)}"
        if done:
            return f"{head} done" + (f", {self.failed} failing" if self.failed else "")
        if not known or self.done == 0:
            return f"{head} ~--:-- left"
        left = elapsed / self.done * max(0, self.total - self.done)
        return f"{head} ~{clock_text(left)} left"

    @staticmethod
    def _word(outcome: str, *, color: bool = False) -> str:
        word = "BENCH FAULT" if outcome == "bench_fault" else "FAIL"
        return f"\x1b[31m{word}\x1b[0m" if color else word

    def _draw(self) -> None:
        if self.mode != "tty":
            return
        line = self.status()
        room = self.width - len(line) - 2
        if self.last and room > 10:
            last = self.last if len(self.last) <= room else "..." + self.last[-(room - 3):]
            line = f"{line}  {last}"
        self._write("\r\x1b[K" + line)
        self._shown = True

    def _clear(self) -> None:
        if self.mode == "tty" and self._shown:
            self._write("\r\x1b[K")
            self._shown = False

    def _tick(self) -> None:
        while not self._stop.wait(self.tick_s):
            with self._lock:
                self._draw()

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # a closed console never stops the run
            pass


def console_stream(mode: str) -> TextIO:
    """Where the console writes. On a terminal: its own copy of stdout's descriptor, so the
    updating line reaches the terminal while pytest captures file descriptor 1 during a
    test; elsewhere stdout itself (a closed pipe is guarded: harness.report.console)."""
    if mode != "tty":
        return sys.stdout
    sys.stdout.flush()
    return os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8", errors="replace",
                     closefd=True)


class ProgressPlugin:
    """pytest plugin: tells the console how many tests the run will run (after the
    certification's own selection and any ``-k`` given after ``--``)."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress

    def pytest_collection_finish(self, session: Any) -> None:
        self.progress.collected(len(session.items))
