"""The bench file's ``robot`` block: a G-code XY stylus that presses the readers' screen
buttons and moves the card (harness/devices/robot.py drives it, harness/robot_hands.py
decides what it does).

What the rig knows of the robot (its port, how it touches, each reader's calibration and
card carrier) is kept apart from ``emulate``, where an emulated bench says where the twins'
screens and carriers really are on the robot's table: a calibration that does not match
them presses the wrong place, as on a real bench.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

import pydantic

from harness.loading import Field
from harness.model.clock import MAX_WAIT_S
from harness.model.screens import ReaderButton

if TYPE_CHECKING:
    from harness.model.bench_spec import BenchSpec

#: A point on the robot's table, in millimetres (machine coordinates).
TablePoint = tuple[float, float]
#: The labels the notices give the buttons a suite presses by name (AUTH-03, SP-01) and the
#: twins' labels for the rest; a bench file's ``buttons`` changes them for a reader whose
#: panel says otherwise.
DEFAULT_BUTTONS = {"staff": "職員用ボタン", "smartphone": "スマートフォンを利用",
                   "iphone": "iPhone", "android": "Android", "cancel": "戻る"}


class SpindleTouch(Field):
    """The stylus goes down on ``M3 S<speed>`` and up on ``M5`` (a solenoid on the spindle
    output, the usual GRBL pen plotter wiring)."""

    by: Literal["spindle"] = "spindle"
    speed: int = pydantic.Field(default=1000, ge=0)


class ZTouch(Field):
    """The stylus touches by a Z move: ``G0 Z<down>``, then back to ``G0 Z<up>``."""

    by: Literal["z"]
    down: float
    up: float

    @pydantic.model_validator(mode="after")
    def _up_is_up(self) -> ZTouch:
        if self.up <= self.down:
            raise ValueError(f"up ({self.up:g}) must be above down ({self.down:g})")
        return self


def _carrier_moves(on_reader: float, off_reader: float) -> None:
    """A carrier whose two positions are one never brings (or takes away) the card: every
    card step would be acknowledged and the reader failed for a card the rig never put."""
    if on_reader == off_reader:
        raise ValueError(f"on_reader and off_reader are both {on_reader:g}: the carrier "
                         "would never move the card")


class ServoCard(Field):
    """A servo swings the card carrier: ``M280 P<servo> S<angle>``."""

    by: Literal["servo"]
    servo: int = pydantic.Field(default=0, ge=0, le=15)
    #: Angles (degrees) with the card on the reader and away from it.
    on_reader: float = pydantic.Field(ge=0, le=180)
    off_reader: float = pydantic.Field(ge=0, le=180)

    @pydantic.model_validator(mode="after")
    def _moves(self) -> ServoCard:
        _carrier_moves(self.on_reader, self.off_reader)
        return self


class AxisCard(Field):
    """A second axis slides the card carrier: ``G0 <axis><position>``."""

    by: Literal["axis"]
    axis: Literal["A", "B", "C", "U", "V", "W"]
    #: Positions (mm) with the card on the reader and away from it.
    on_reader: float
    off_reader: float

    @pydantic.model_validator(mode="after")
    def _moves(self) -> AxisCard:
        _carrier_moves(self.on_reader, self.off_reader)
        return self


Card = Annotated[ServoCard | AxisCard, pydantic.Field(discriminator="by")]
Touch = Annotated[SpindleTouch | ZTouch, pydantic.Field(discriminator="by")]


class CalibrationPoint(Field):
    """A further touched point: where on the screen (fractions of its width and height, 0 to
    1 from the top left) and where the stylus stood on the table."""

    screen: tuple[float, float]
    table: TablePoint


class RobotCalibration(Field):
    """Where a reader's screen lies on the robot's table, as jogged to (README, "the robot and
    its calibration"): the panel's corners top-left, top-right, bottom-right, bottom-left,
    and any further points touched."""

    corners: tuple[TablePoint, TablePoint, TablePoint, TablePoint]
    points: list[CalibrationPoint] = []
    #: How far (mm) a further point may lie from where the others put it.
    tolerance_mm: float = pydantic.Field(default=1.0, gt=0)

    @pydantic.model_validator(mode="after")
    def _fits(self) -> RobotCalibration:
        from harness.model.robot_calibration import ScreenToTable

        ScreenToTable.of(self)  # ValueError says what is wrong
        return self


class RobotReader(Field):
    """What the robot does on one reader."""

    calibration: RobotCalibration
    #: The card carrier; without it the card goes by the other hands (the operator).
    card: Card | None = None
    #: Button name -> label, where this reader's panel differs from DEFAULT_BUTTONS.
    buttons: dict[ReaderButton, str] = {}


class RobotMonitor(Field):
    """The terminal's monitor, where it is a touch screen the stylus reaches: the robot
    presses its dialogs' buttons (OK, 確認しました) as it presses a reader's."""

    calibration: RobotCalibration


class EmulatedCarrier(Field):
    """Emulated bench: the servo or axis that really moves a reader's card, and where the
    card is on the reader (within ``reach`` degrees or mm of ``on_reader``)."""

    servo: int | None = pydantic.Field(default=None, ge=0, le=15)
    axis: Literal["A", "B", "C", "U", "V", "W"] | None = None
    on_reader: float
    reach: float = pydantic.Field(default=3.0, gt=0)

    @pydantic.model_validator(mode="after")
    def _one(self) -> EmulatedCarrier:
        if (self.servo is None) == (self.axis is None):
            raise ValueError("give either servo or axis")
        return self


class EmulatedTable(Field):
    """Emulated bench: the robot's table as the twins stand on it (the rig never reads it)."""

    #: Travel in X and Y (mm); a move past it is a soft-limit alarm (ALARM:2).
    travel: TablePoint = (300.0, 200.0)
    #: Reader (or the terminal, its touch monitor) -> its screen's corners on the table
    #: (mm), top-left, top-right, bottom-right, bottom-left.
    screens: dict[str, tuple[TablePoint, TablePoint, TablePoint, TablePoint]] = {}
    #: Reader -> the carrier that moves its card.
    cards: dict[str, EmulatedCarrier] = {}
    #: A Z-touching stylus reaches the glass at or below this Z (none: only M3 touches).
    contact_z: float | None = None


class RobotSpec(Field):
    """A G-code XY stylus robot on a serial line (GRBL 1.1's dialect, Marlin's M280)."""

    name: str = "robot"
    #: Serial port (``/dev/ttyUSB0``, a pyserial URL); ``emulated`` on an emulated bench.
    port: str
    baudrate: int = pydantic.Field(default=115200, gt=0)
    #: Wall seconds for the reply to one line (its ``ok``, ``error:N`` or ``ALARM:N``).
    reply_timeout_s: float = pydantic.Field(default=2.0, gt=0, le=MAX_WAIT_S)
    #: Wall seconds for the moves sent to finish (the reply to ``G4 P0``).
    motion_timeout_s: float = pydantic.Field(default=20.0, gt=0, le=MAX_WAIT_S)
    touch: Touch = SpindleTouch()
    #: How long the stylus stays on the glass (seconds).
    dwell_s: float = pydantic.Field(default=0.15, ge=0, le=5)
    #: What the robot does; the rest is done by the operator (real bench) or the twins.
    does: list[Literal["press", "card"]] = ["press", "card"]
    #: The readers it reaches, by name.
    readers: dict[str, RobotReader] = {}
    #: The terminal's touch monitor, where the robot reaches it (``press`` then includes
    #: the buttons of the terminal's dialogs); without it the operator presses them.
    terminal: RobotMonitor | None = None
    #: Emulated bench only: where the twins really are on the table.
    emulate: EmulatedTable | None = None

    def buttons(self, reader: str) -> dict[str, str]:
        """Button name -> label on ``reader``."""
        return {**DEFAULT_BUTTONS, **self.readers[reader].buttons}

    def problems(self, bench: BenchSpec) -> list[tuple[tuple[Any, ...], str]]:
        """What does not fit the bench (BenchSpec's cross-checks, located in ``robot``)."""
        found: list[tuple[tuple[Any, ...], str]] = []
        readers = {r.name: r for r in bench.readers}
        for name in self.readers:
            reader = readers.get(name)
            if reader is None or reader.kind != "face_auth_reader":
                known = [r.name for r in bench.readers if r.kind == "face_auth_reader"]
                found.append((("robot", "readers", name), (
                    f"robot.readers: no face-auth reader named {name!r} (the bench's: "
                    f"{', '.join(known) or 'none'})")))
            elif "press" in self.does and reader.camera is None:
                found.append((("robot", "readers", name), (
                    f"robot.readers: {name!r} has no camera: the robot finds a button by "
                    "the screen the camera sees")))
        terminal = bench.terminal.name
        if self.terminal is not None and "press" in self.does and not any(
                c.watches == terminal for c in bench.cameras):
            found.append((("robot", "terminal"), (
                f"robot.terminal: no camera watches {terminal!r}: the robot finds a dialog's "
                "button by what the camera sees")))
        emulated = bench.kind == "emulated"
        if emulated and self.port != "emulated":
            found.append((("robot", "port"), "robot.port must be 'emulated' here"))
        if not emulated and self.port == "emulated":
            found.append((("robot", "port"), "robot.port 'emulated' needs kind: emulated"))
        if emulated and self.emulate is None:
            found.append((("robot",), "robot: an emulated bench needs 'emulate' (where the "
                                       "twins stand on the robot's table)"))
        if not emulated and self.emulate is not None:
            found.append((("robot", "emulate"), "robot.emulate needs kind: emulated"))
        for name in (self.emulate.screens if self.emulate else {}):
            if name not in readers and name != terminal:
                found.append((("robot", "emulate", "screens", name),
                              f"robot.emulate.screens: no reader or terminal named {name!r}"))
        return found
