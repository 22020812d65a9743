"""Bench faults: camera (see the package).

``camera.frozen``: the emulated camera re-delivers its last image, byte for byte, with time
stamps that go on (a V4L2 driver stuck on its last buffer). ``camera.stopped``: it gives no
frame at all. Neither tells the rig: the watcher notices (harness.vision.camera_faults).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from harness.emulation.faults import switched
from harness.emulation.screen_source import EmulatedScreenSource
from harness.errors import RigError

if TYPE_CHECKING:
    from harness.bench import Bench
    from harness.emulation.faults import Handler


def _source(bench: Bench, camera: str) -> EmulatedScreenSource:
    source = bench.camera(camera)  # opened now if no one looked yet: the fault waits in it
    if not isinstance(source, EmulatedScreenSource):
        raise RigError(f"camera {camera!r}: not an emulated camera; its faults cannot be "
                       "injected")
    return source


def freeze(bench: Bench, camera: str) -> Callable[[], None]:
    return switched(_source(bench, camera), "frozen")


def stop(bench: Bench, camera: str) -> Callable[[], None]:
    return switched(_source(bench, camera), "stopped")


#: Fault kind -> handler (harness.emulation.faults.Handler).
HANDLERS: dict[str, Handler] = {"camera.frozen": freeze, "camera.stopped": stop}
