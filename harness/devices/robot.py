"""A G-code XY stylus robot on a serial line: presses screen buttons, moves the card.

The dialect is GRBL 1.1's (``G0 X.. Y..``, ``M3``/``M5``, ``G4 P<s>``, ``$X``, soft reset by
Ctrl-X, ``?`` status, ``$J=`` jogging) with Marlin's ``M280 P<servo> S<angle>`` for a card
servo. Lines go one at a time: each waits for its reply (``ok``, ``error:N`` or
``ALARM:N``) within a bound, the rig's one bounded wait (harness/model/wait.py) on wall time.
``ok`` only says a line was taken into the planner: ``G4 P0`` answers once every move
before it has finished, and is awaited with the longer motion bound.

The robot is the bench's, never the reader's: its failures are bench faults
(harness/model/bench_faults.py): ``robot.error`` (a line refused, or a reply the dialect does
not allow), ``robot.alarm`` (the machine stopped in an alarm: a limit hit, a soft limit),
``robot.silent`` (no reply within the bound). After an alarm or a silent or garbled line the
next command first brings the machine back: soft reset, its banner, ``$X`` unlock, units
and absolute mode again.
"""

from __future__ import annotations

import contextlib
import re
import select
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Self

import serial

from harness.devices.serial_port import open_port
from harness.errors import BenchFault, DeviceGone, RigError
from harness.model.clock import Clock, RealClock
from harness.model.robot_spec import AxisCard, RobotSpec, ServoCard, SpindleTouch
from harness.model.timeline import Timeline
from harness.model.wait import wait_until

SOFT_RESET = b"\x18"
STATUS = b"?"
#: Sent after every reset: millimetres, absolute positions.
SETUP = ("G21", "G90")
#: Poll granularity of a wait for a reply (a reply ends the pause at once).
STEP_S = 0.05
#: The lines a reply may carry besides its end: messages, settings, status reports, the
#: banner (GRBL 1.1's forms).
_INFO = re.compile(r"^(\[.*\]|<.*>|Grbl \S+.*|\$\d+=.*)$")
_END = re.compile(r"^(ok|error:(\d+)|ALARM:(\d+))$")
_STATUS = re.compile(r"^<(?P<state>[A-Za-z]+)(:\d+)?\|(?P<kind>MPos|WPos):"
                     r"(?P<pos>-?[\d.]+(,-?[\d.]+)+)\|.*>$")
EXCERPT = 80

#: GRBL 1.1's alarm codes, for the message.
ALARMS = {1: "hard limit", 2: "soft limit", 3: "reset while in motion", 4: "probe fail",
          5: "probe fail", 6: "homing fail (reset)", 7: "homing fail (door)",
          8: "homing fail (pull off)", 9: "homing fail (no switch)"}


def _serial_errors() -> tuple[type[Exception], ...]:
    try:
        import termios
    except ImportError:  # not POSIX
        return (OSError, serial.SerialException)
    return (OSError, serial.SerialException, termios.error)


_IO_ERRORS = _serial_errors()


class GcodeRobot:
    """One robot on ``port`` (a device path or a pyserial URL)."""

    def __init__(self, port: str, *, name: str = "robot", baudrate: int = 115200,
                 reply_timeout_s: float = 2.0, motion_timeout_s: float = 20.0,
                 touch_down: str = "M3 S1000", touch_up: str = "M5",
                 timeline: Timeline | None = None, clock: Clock | None = None) -> None:
        self.port = port
        self.name = name
        self.reply_timeout_s = reply_timeout_s
        self.motion_timeout_s = motion_timeout_s
        self.touch_down = touch_down
        self.touch_up = touch_up
        self.timeline = timeline
        #: Wall time: the line is real even where the bench's clock is virtual.
        self.clock = clock or RealClock()
        self._lock = threading.Lock()
        self._buffer = bytearray()
        #: The machine's state is unknown (never reset, or an alarm, silence, garbage since).
        self._dirty = True
        self._closed = False
        try:
            self._serial = open_port(port, baudrate=baudrate, timeout=0,
                                     write_timeout=reply_timeout_s)
        except (*_IO_ERRORS, ValueError) as exc:
            raise RigError(f"cannot open the robot's port {port}: {exc}") from exc

    @classmethod
    def for_spec(cls, spec: RobotSpec, port: str | None = None, *,
                 timeline: Timeline | None = None) -> GcodeRobot:
        """The robot a bench file's ``robot`` block describes (on ``port`` if given: an
        emulated robot's pty)."""
        touch = spec.touch
        down, up = ((f"M3 S{touch.speed}", "M5") if isinstance(touch, SpindleTouch)
                    else (f"G0 Z{touch.down:.3f}", f"G0 Z{touch.up:.3f}"))
        return cls(port or spec.port, name=spec.name, baudrate=spec.baudrate,
                   reply_timeout_s=spec.reply_timeout_s,
                   motion_timeout_s=spec.motion_timeout_s, touch_down=down, touch_up=up,
                   timeline=timeline)

    @property
    def device(self) -> str:
        return f"{self.name} ({self.port})"

    # -- what the rig asks of it -------------------------------------------------------------
    def move_to(self, x: float, y: float) -> None:
        """Rapid move to table point (``x``, ``y``) mm, and wait until it is there."""
        self.send(f"G0 X{x:.3f} Y{y:.3f}")
        self.finish()
        self._record("robot.moved", at=[round(x, 3), round(y, 3)])

    def touch(self, dwell_s: float) -> None:
        """Stylus down for ``dwell_s`` and up again, where it stands."""
        self.send(self.touch_down)
        self.send(f"G4 P{dwell_s:.3f}")
        self.send(self.touch_up)
        self.finish()
        self._record("robot.touched", dwell_s=dwell_s)

    def press_at(self, x: float, y: float, dwell_s: float) -> None:
        """Move to (``x``, ``y``) and touch there."""
        self.move_to(x, y)
        self.touch(dwell_s)

    def card(self, carrier: ServoCard | AxisCard, on_reader: bool) -> None:
        """Move a card carrier onto the reader or away from it, and wait until it has."""
        where = carrier.on_reader if on_reader else carrier.off_reader
        if isinstance(carrier, ServoCard):
            self.send(f"M280 P{carrier.servo} S{where:g}")
        else:
            self.send(f"G0 {carrier.axis}{where:.3f}")
        self.finish()
        self._record("robot.card", on_reader=on_reader)

    def finish(self) -> None:
        """Wait (the motion bound) until every move sent has finished: ``G4 P0``."""
        self.send("G4 P0", timeout_s=self.motion_timeout_s)

    def jog(self, dx: float, dy: float, feed: float = 600.0) -> None:
        """Jog by (``dx``, ``dy``) mm, as when calibrating by hand."""
        self.send(f"$J=G91 G21 X{dx:.3f} Y{dy:.3f} F{feed:g}")
        self.finish()

    def position(self) -> tuple[float, ...]:
        """The machine position (X, Y, Z, ...) from a ``?`` status report."""
        with self._lock:
            self._ready()
            self._write(STATUS, "?")
            lines = self._await("?", self.reply_timeout_s, lambda line: line.startswith("<"))
        match = _STATUS.match(lines[-1])
        if match is None:
            raise self._garbage("?", lines[-1])
        return tuple(float(v) for v in match["pos"].split(","))

    def reset(self) -> None:
        """Soft reset (Ctrl-X), then unlock and set up: the machine in a known state."""
        with self._lock:
            self._reset()

    def send(self, line: str, timeout_s: float | None = None) -> list[str]:
        """Send one line, wait for its ``ok`` (``timeout_s``, default the reply bound);
        returns the information lines before it. A refusal, an alarm or silence is a
        :class:`BenchFault`."""
        with self._lock:
            self._ready()
            return self._exchange(line, timeout_s or self.reply_timeout_s)

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            with contextlib.suppress(*_IO_ERRORS):
                self._serial.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"GcodeRobot({self.port!r})"

    # -- one exchange --------------------------------------------------------------------------
    def _ready(self) -> None:
        if self._closed:
            raise RigError(f"{self.device}: used after close()")
        if self._dirty:
            self._reset()

    def _reset(self) -> None:
        self._dirty = True
        with contextlib.suppress(*_IO_ERRORS):
            self._serial.reset_input_buffer()
        self._buffer.clear()
        self._write(SOFT_RESET, "soft reset")
        self._await("soft reset", self.reply_timeout_s,
                    lambda line: line.startswith("Grbl "))
        # Unlock: an alarm survives the reset (GRBL keeps a lost position locked).
        self._exchange("$X", self.reply_timeout_s)
        for line in SETUP:
            self._exchange(line, self.reply_timeout_s)
        self._dirty = False
        self._record("robot.reset")

    def _exchange(self, line: str, timeout_s: float) -> list[str]:
        self._write(line.encode("ascii") + b"\n", line)
        lines = self._await(line, timeout_s, lambda text: _END.match(text) is not None)
        end = _END.match(lines[-1])
        assert end is not None
        if end[2] is not None:
            code = int(end[2])
            self._record("robot.error", sent=line, code=code)
            raise BenchFault("robot.error", self.device, f"error:{code} in reply to {line!r}",
                             bound_s=timeout_s)
        if end[3] is not None:
            code = int(end[3])
            self._dirty = True
            self._record("robot.alarm", sent=line, code=code)
            raise BenchFault("robot.alarm", self.device,
                             f"ALARM:{code} ({ALARMS.get(code, 'unknown alarm')}) after "
                             f"{line!r}", bound_s=timeout_s)
        return lines[:-1]

    def _write(self, data: bytes, what: str) -> None:
        try:
            self._serial.write(data)
        except serial.SerialTimeoutException as exc:
            raise self._silent(what, self.reply_timeout_s, writing=True) from exc
        except _IO_ERRORS as exc:
            self._dirty = True
            raise DeviceGone(self.device, repr(what), str(exc) or type(exc).__name__) from exc

    def _await(self, sent: str, timeout_s: float, last: Callable[[str], bool]) -> list[str]:
        """Lines up to and including the first that ``last(line)`` accepts. Any line that is
        neither information nor an end is garbage; an alarm ends every wait."""
        lines: list[str] = []

        def look() -> bool:
            self._read_available(sent)
            while b"\n" in self._buffer:
                raw, _, rest = self._buffer.partition(b"\n")
                self._buffer[:] = rest
                text = self._decode(sent, raw).strip()
                if not text:
                    continue
                lines.append(text)
                if last(text) or text.startswith("ALARM:"):
                    return True
                if not (_INFO.match(text) or _END.match(text)):
                    raise self._garbage(sent, text)
            return False

        waited = wait_until(self.clock, look, bool, timeout_s, step_s=STEP_S,
                            first_s=0.005, sleep=self._pause)
        if not waited.ok:
            raise self._silent(sent, timeout_s)
        if lines[-1].startswith("ALARM:") and not last(lines[-1]):
            code = lines[-1].partition(":")[2]
            self._dirty = True
            self._record("robot.alarm", sent=sent, code=code)
            raise BenchFault("robot.alarm", self.device,
                             f"ALARM:{code} ({ALARMS.get(int(code), 'unknown alarm')}) "
                             f"while waiting for the reply to {sent!r}", bound_s=timeout_s)
        return lines

    def _read_available(self, sent: str) -> None:
        try:
            waiting = self._serial.in_waiting
            if waiting:
                self._buffer += self._serial.read(waiting)
        except _IO_ERRORS as exc:
            self._dirty = True
            raise DeviceGone(self.device, repr(sent), str(exc) or type(exc).__name__) from exc

    def _pause(self, seconds: float) -> None:
        # Wait for the line to have something, at most ``seconds``: a reply ends the pause.
        fileno = getattr(self._serial, "fileno", None)
        try:
            if fileno is not None:
                select.select([fileno()], [], [], seconds)
                return
        except (OSError, ValueError, serial.SerialException):
            pass
        self.clock.sleep(seconds)

    def _decode(self, sent: str, raw: bytes) -> str:
        try:
            return raw.decode("ascii")
        except UnicodeDecodeError:
            raise self._garbage(sent, raw.decode("latin-1")) from None

    def _garbage(self, sent: str, got: str) -> BenchFault:
        self._dirty = True
        self._record("robot.garbage", sent=sent, got=got[:EXCERPT])
        return BenchFault("robot.error", self.device,
                          f"reply {ascii(got[:EXCERPT])} to {sent!r} is not GRBL's")

    def _silent(self, sent: str, seconds: float, *, writing: bool = False) -> BenchFault:
        self._dirty = True
        waited = f"room to write {sent!r}" if writing else f"reply to {sent!r}"
        self._record("robot.silent", sent=sent, seconds=seconds)
        return BenchFault("robot.silent", self.device, f"no {waited} within {seconds:g} s",
                          bound_s=seconds)

    def _record(self, kind: str, **data: object) -> None:
        if self.timeline is not None:
            self.timeline.record(self.name, kind, **data)
