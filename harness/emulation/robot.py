"""An emulated G-code stylus robot on a real pty pair, standing over the twins' screens.

The rig's driver (harness/devices/robot.py) opens :attr:`EmulatedRobot.port` with pyserial
as it opens a real robot's ``/dev/ttyUSB0``. The robot speaks GRBL 1.1 (``ok``,
``error:N``, ``ALARM:N``, ``$X``, soft reset by Ctrl-X, ``?`` status, ``$J=`` jogs) and
Marlin's ``M280`` servo command. Where the stylus comes down (``M3``, or Z at the glass)
the :class:`TwinDesk` presses what the twin's screen shows at that point of the table; a
carrier swung or slid onto a reader puts its card there.

Where the screens and carriers are is the bench file's ``robot.emulate`` (the table as it
really is), never the rig's calibration: a wrong calibration presses the wrong place.
"""

from __future__ import annotations

import os
import re
import select
import threading
import tty
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

import cv2
import numpy as np

from harness.emulation.people import PatientCard
from harness.emulation.screen_source import primed_renderer
from harness.emulation.screen_views import reader_drawn, terminal_drawn
from harness.errors import RigError
from harness.hands import Patient
from harness.model.robot_spec import EmulatedTable, RobotSpec

if TYPE_CHECKING:
    from harness.emulation.bench import EmulatedBench
    from harness.emulation.hands import TwinHands

# Deliberately not shared with the driver: two readings of the dialect catch each other.
BANNER = b"\r\nGrbl 1.1h ['$' for help]\r\n"
AXES = "XYZABCUVW"
MAX_LINE = 256  # GRBL's line buffer is smaller; noise must not grow ours without bound
_WORD = re.compile(r"([A-Z])([-+]?(?:\d+\.?\d*|\.\d+))")
#: GRBL error codes used here.
BAD_NUMBER, NO_SYSTEM_COMMAND, LOCKED, UNSUPPORTED, NO_FEED, EXPECTED_LETTER = 2, 3, 9, 20, 22, 1
HARD_LIMIT, SOFT_LIMIT = 1, 2


class Desk(Protocol):
    """What stands on the robot's table."""

    def touched(self, x: float, y: float) -> str:
        """The stylus came down at (x, y) mm; returns what it hit (for the robot's log)."""

    def carrier(self, key: str, value: float) -> None:
        """A carrier's servo (``servo:0``) or axis (``axis:A``) now stands at ``value``."""


class EmulatedRobot:
    """The robot, served by a thread on the master side of a pty.

    Fault flags (harness/emulation/faults/robot.py): :attr:`silent` (input swallowed, nothing
    back), :attr:`refusing` (every line answered ``error:1``: a noisy line),
    :attr:`limit_switch` (a limit switch stuck closed: the next move is ``ALARM:1``),
    :attr:`garbage` (replies replaced).
    :attr:`reply_delay_s` holds each reply back (a busy planner); a line that arrives before
    the previous one's reply is counted in :attr:`overruns` (a sender that does not wait
    for ``ok`` overflows a real GRBL's buffer).
    """

    def __init__(self, desk: Desk | None = None, *, travel: tuple[float, float] = (300, 200),
                 contact_z: float | None = None, name: str = "robot") -> None:
        self.desk = desk
        self.travel = travel
        self.contact_z = contact_z
        self.name = name
        self.silent = False
        self.refusing = False
        self.limit_switch = False
        #: The panels do not feel the stylus: every touch lands on nothing (robot.missed).
        self.unfelt = False
        self.reply_delay_s = 0.0
        #: Replies to send instead of the next lines' own (a wrong baud rate, noise).
        self.garbage: list[bytes] = []
        #: Every line received (realtime bytes as ``<reset>``, ``<status>``), in order.
        self.received: list[str] = []
        #: (x, y, what was hit) for each touch of the glass.
        self.touches: list[tuple[float, float, str]] = []
        self.overruns = 0
        self.position = dict.fromkeys(AXES, 0.0)
        self.servos: dict[int, float] = {}
        self.spindle = False
        self.alarm: int | None = None
        #: A critical alarm (limits): nothing but a reset is taken until one comes.
        self.needs_reset = False
        self._relative = False
        self._inches = False
        self._feed: float | None = None
        self._touching = False
        self._line = bytearray()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._master, self._slave = os.openpty()
        self._wake_r, self._wake_w = os.pipe()
        tty.setraw(self._slave)
        os.set_blocking(self._master, False)
        self.port: str = os.ttyname(self._slave)
        self._thread = threading.Thread(target=self._serve, name=f"emulated robot {self.port}",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Unplug it: the thread ends and closes the pty. Idempotent."""
        self._stopping.set()
        if self._wake_w >= 0:
            os.write(self._wake_w, b"x")
        if threading.current_thread() is not self._thread:
            self._thread.join()

    # -- the thread ----------------------------------------------------------------------------
    def _serve(self) -> None:
        try:
            while not self._stopping.is_set():
                readable, _, _ = select.select([self._master, self._wake_r], [], [])
                if self._master in readable and not self._stopping.is_set():
                    try:
                        data = os.read(self._master, 1024)
                    except BlockingIOError:
                        continue
                    if not data:
                        return
                    self._receive(data)
        except OSError:
            return
        finally:
            for fd in (self._master, self._slave, self._wake_r, self._wake_w):
                os.close(fd)
            self._master = self._slave = self._wake_r = self._wake_w = -1

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            try:
                view = view[os.write(self._master, view):]
            except BlockingIOError:
                return  # nobody reads the line: the rest is lost

    def _receive(self, data: bytes) -> None:
        for value in data:
            if self.silent:
                self._line.clear()
                continue
            if value == 0x18:  # realtime: soft reset, wherever it comes
                self.received.append("<reset>")
                self._line.clear()
                self._soft_reset()
            elif value == ord("?"):
                self.received.append("<status>")
                self._write(self._status())
            elif value in b"!~":
                continue  # feed hold / resume: nothing moves long enough to hold
            elif value in b"\r\n":
                if self._line:
                    line = self._line.decode("latin-1")
                    self._line.clear()
                    self.received.append(line)
                    reply = self._execute(line)
                    self._reply(reply)
            elif len(self._line) < MAX_LINE:
                self._line.append(value)

    def _reply(self, reply: bytes) -> None:
        if self.garbage:
            reply = self.garbage.pop(0)
        if self.reply_delay_s:
            self._stopping.wait(self.reply_delay_s)
            if select.select([self._master], [], [], 0)[0]:
                self.overruns += 1  # the sender did not wait for this reply
        self._write(reply)

    def _soft_reset(self) -> None:
        self.spindle = False
        self._touching = False
        self._relative = self._inches = False
        self.needs_reset = False
        self._write(BANNER)
        if self.alarm is not None:
            self._write(b"[MSG:'$H'|'$X' to unlock]\r\n")

    def _status(self) -> bytes:
        state = "Alarm" if self.alarm is not None else "Idle"
        x, y, z = (self.position[a] for a in "XYZ")
        return f"<{state}|MPos:{x:.3f},{y:.3f},{z:.3f}|FS:0,0>\r\n".encode()

    # -- one line ------------------------------------------------------------------------------
    def _execute(self, raw: str) -> bytes:
        line = re.sub(r"\(.*?\)|;.*$", "", raw).replace(" ", "").upper()
        if not line:
            return b"ok\r\n"
        if self.refusing:
            return _error(EXPECTED_LETTER)
        if self.needs_reset:
            return _error(LOCKED)
        if line.startswith("$"):
            return self._system(line)
        if self.alarm is not None:
            return _error(LOCKED)
        words = _words(line)
        if words is None:
            return _error(BAD_NUMBER)
        return self._gcode(words)

    def _system(self, line: str) -> bytes:
        if line == "$X":
            if self.alarm is None:
                return b"ok\r\n"
            self.alarm = None
            return b"[MSG:Caution: Unlocked]\r\nok\r\n"
        if line.startswith("$J="):
            if self.alarm is not None:
                return _error(LOCKED)
            words = _words(line[3:])
            if words is None:
                return _error(BAD_NUMBER)
            if not any(letter == "F" for letter, _ in words):
                return _error(NO_FEED)
            relative, self._relative = self._relative, False
            try:
                return self._gcode([("G", 1.0), *words], jog=True)
            finally:
                self._relative = relative
        if line in ("$$", "$I", "$G", "$#"):
            return b"ok\r\n"
        return _error(NO_SYSTEM_COMMAND)

    def _gcode(self, words: list[tuple[str, float]], *, jog: bool = False) -> bytes:
        motion: float | None = None
        target: dict[str, float] = {}
        dwell = False
        for letter, value in words:
            if letter == "G":
                if value in (0, 1):
                    motion = value
                elif value == 4:
                    dwell = True
                elif value in (20, 21):
                    self._inches = value == 20
                elif value in (90, 91):
                    self._relative = value == 91
                else:
                    return _error(UNSUPPORTED)
            elif letter == "M":
                if value in (3, 4):
                    self.spindle = True
                elif value == 5:
                    self.spindle = False
                elif value == 280:
                    return self._servo(words)
                else:
                    return _error(UNSUPPORTED)
            elif letter in AXES:
                target[letter] = value * (25.4 if self._inches else 1.0)
            elif letter == "F":
                self._feed = value
            elif letter not in "SP":
                return _error(UNSUPPORTED)
        if dwell and not any(letter == "P" for letter, _ in words):
            return _error(UNSUPPORTED)
        if target:
            if motion == 1 and self._feed is None:
                return _error(NO_FEED)
            reply = self._move(target, jog)
            if reply is not None:
                return reply
        self._contact()
        return b"ok\r\n"

    def _move(self, target: dict[str, float], jog: bool) -> bytes | None:
        if self.limit_switch:
            return self._raise_alarm(HARD_LIMIT)
        new = dict(self.position)
        for axis, value in target.items():
            new[axis] = new[axis] + value if self._relative else value
        for axis, limit in zip("XY", self.travel, strict=True):
            if not 0.0 <= new[axis] <= limit:
                # A jog past the travel is refused; any other move is a soft-limit alarm.
                return _error(15) if jog else self._raise_alarm(SOFT_LIMIT)
        moved = [a for a in AXES if new[a] != self.position[a]]
        self.position = new
        for axis in moved:
            if axis not in "XYZ" and self.desk is not None:
                self.desk.carrier(f"axis:{axis}", new[axis])
        return None

    def _raise_alarm(self, code: int) -> bytes:
        self.alarm = code
        self.needs_reset = True
        self.spindle = False
        self._touching = False
        return f"ALARM:{code}\r\n".encode()

    def _servo(self, words: list[tuple[str, float]]) -> bytes:
        given = dict(words)
        if "P" not in given or "S" not in given or not 0 <= given["S"] <= 180:
            return _error(UNSUPPORTED)
        index = int(given["P"])
        self.servos[index] = given["S"]
        if self.desk is not None:
            self.desk.carrier(f"servo:{index}", given["S"])
        return b"ok\r\n"

    def _contact(self) -> None:
        touching = self.spindle or (self.contact_z is not None
                                    and self.position["Z"] <= self.contact_z)
        if touching and not self._touching:
            x, y = self.position["X"], self.position["Y"]
            hit = self.desk.touched(x, y) if self.desk is not None and not self.unfelt \
                else "nothing"
            self.touches.append((x, y, hit))
        self._touching = touching


def _error(code: int) -> bytes:
    return f"error:{code}\r\n".encode()


def _words(line: str) -> list[tuple[str, float]] | None:
    """``G0X10Y5`` -> [("G", 0), ("X", 10), ("Y", 5)]; None when anything is left over."""
    words = [(m[1], float(m[2])) for m in _WORD.finditer(line)]
    return words if _WORD.sub("", line) == "" else None


class TwinDesk:
    """The twins' screens and card carriers on the robot's table (``robot.emulate``)."""

    def __init__(self, emulation: EmulatedBench, spec: RobotSpec) -> None:
        table = spec.emulate or EmulatedTable()
        self.emulation = emulation
        self.table = table
        #: Reader -> table mm to screen pixels (OpenCV's perspective transform).
        self._to_screen: dict[str, tuple[np.ndarray, tuple[int, int]]] = {}
        self._renderers = {}
        #: The terminal's name (its touch monitor may stand on the table too).
        self.terminal = emulation.spec.terminal.name
        for reader, corners in table.screens.items():
            if reader == self.terminal:
                display, maker = emulation.world.terminal.behaviour.display, "terminal"
            else:
                display = emulation.twins[reader].display
                maker = next(r.maker for r in emulation.spec.readers if r.name == reader)
            if display is None:
                raise RigError(f"robot.emulate.screens: {reader!r} has no screen")
            w, h = display.size
            matrix = cv2.getPerspectiveTransform(
                np.float32(corners), np.float32([(0, 0), (w, 0), (w, h), (0, h)]))
            self._to_screen[reader] = (matrix, (w, h))
            self._renderers[reader] = primed_renderer(display, maker)
        #: Reader -> the card in its carrier (put there by the operator).
        self.loaded: dict[str, PatientCard] = {}
        self._placed: dict[str, bool] = {}

    def load(self, reader: str, card: PatientCard) -> None:
        """The operator puts ``card`` in the reader's carrier."""
        self.loaded[reader] = card

    def touched(self, x: float, y: float) -> str:
        for reader, (matrix, (w, h)) in self._to_screen.items():
            px, py = cv2.perspectiveTransform(np.float32([[[x, y]]]), matrix)[0, 0]
            if not (0 <= px < w and 0 <= py < h):
                continue
            with self.emulation.clock.lock:
                if reader == self.terminal:
                    return f"{reader}:{self._touch_monitor(px, py)}"
                twin = self.emulation.world.readers[reader]
                view = twin.screen()
                page = self._renderers[reader].render(reader_drawn(view))
                for region in page.regions:
                    bx, by, bw, bh = region.box
                    if region.name.startswith("button:") and bx <= px < bx + bw \
                            and by <= py < by + bh:
                        label = region.name.partition(":")[2]
                        name = next(b.name for b in view.buttons if b.label == label)
                        twin.press(name)
                        return f"{reader}:{name}"
            return f"{reader}:nothing"
        return "nothing"

    def _touch_monitor(self, px: float, py: float) -> str:
        """The terminal's touch monitor touched at (px, py): the button of its topmost
        dialog drawn there, pressed (by its label, as the dialog names its buttons)."""
        terminal = self.emulation.world.terminal
        page = self._renderers[self.terminal].render(terminal_drawn(terminal))
        for region in page.regions:
            bx, by, bw, bh = region.box
            if region.name.startswith("button:") and bx <= px < bx + bw and by <= py < by + bh:
                label = region.name.partition(":")[2]
                terminal.press(label)
                return label
        return "nothing"

    def carrier(self, key: str, value: float) -> None:
        for reader, carrier in self.table.cards.items():
            if key != (f"servo:{carrier.servo}" if carrier.servo is not None
                       else f"axis:{carrier.axis}"):
                continue
            on = abs(value - carrier.on_reader) <= carrier.reach
            if on == self._placed.get(reader, False):
                continue
            self._placed[reader] = on
            card = self.loaded.get(reader)
            with self.emulation.clock.lock:
                twin = self.emulation.world.readers[reader]
                if on and card is not None:
                    twin.insert_card(card)
                elif not on and card is not None and twin.card is card:
                    twin.remove_card()


def start_robot(emulation: EmulatedBench, spec: RobotSpec) -> EmulatedRobot:
    """The bench file's robot on a pty, over the twins as ``robot.emulate`` places them."""
    table = spec.emulate or EmulatedTable()
    return EmulatedRobot(TwinDesk(emulation, spec), travel=table.travel,
                         contact_z=table.contact_z, name=spec.name)


def card_loader(emulation: EmulatedBench, hands: TwinHands) -> Callable[[str, Patient], None]:
    """What the operator does on an emulated bench when asked to put a patient's card in a
    reader's carrier: the card is the one the twins' hands hold for that patient (one card
    per patient, so a PIN locked on one reader stays locked on the next)."""
    def load(reader: str, patient: Patient) -> None:
        robot = emulation.robot
        if robot is None or not isinstance(robot.desk, TwinDesk):
            raise RigError("this emulated bench has no robot")
        robot.desk.load(reader, hands._card(patient))
    return load
