"""Bench faults on the robot's serial line (see the package).

``robot.error`` makes the emulated robot refuse every line (``error:1``, as a noisy line
reads), ``robot.alarm`` closes a limit switch (the next move is ``ALARM:1`` and the machine
locks until reset and unlocked), ``robot.silent`` hangs it: the rig's robot driver names
each by itself (harness.devices.robot). ``robot.missed``: its touches land nowhere (the
stylus not felt); the rig's hands name it where the screen pressed is the terminal's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from harness.emulation.faults import switched
from harness.errors import RigError

if TYPE_CHECKING:
    from harness.bench import Bench
    from harness.emulation.robot import EmulatedRobot


def _robot(bench: Bench) -> EmulatedRobot:
    robot = bench.emulation.robot if bench.emulation is not None else None
    if robot is None:
        raise RigError(f"bench {bench.name!r} has no emulated robot (no robot: block)")
    return robot


def robot_error(bench: Bench, target: str) -> Callable[[], None]:
    return switched(_robot(bench), "refusing")


def robot_alarm(bench: Bench, target: str) -> Callable[[], None]:
    return switched(_robot(bench), "limit_switch")


def robot_silent(bench: Bench, target: str) -> Callable[[], None]:
    return switched(_robot(bench), "silent")


def robot_missed(bench: Bench, target: str) -> Callable[[], None]:
    return switched(_robot(bench), "unfelt")


#: Fault kind -> handler (harness.emulation.faults.Handler).
HANDLERS: dict[str, Callable[[Bench, str], Callable[[], None]]] = {
    "robot.error": robot_error,
    "robot.alarm": robot_alarm,
    "robot.silent": robot_silent,
    "robot.missed": robot_missed,
}
