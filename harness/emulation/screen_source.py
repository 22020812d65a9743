"""The emulated camera: a twin's screen, drawn and passed through a camera model.

It is a :class:`~harness.devices.camera.FrameSource` like a real camera, so the vision code
on an emulated bench is the code that watches real readers, fed camera-like frames stamped
with virtual time.

It breaks the way a real camera breaks when a bench fault strikes it
(harness/emulation/faults/camera.py): :attr:`frozen`, it delivers its last image again with
new time stamps; :attr:`stopped`, it delivers nothing. It never tells the rig which. With
:attr:`~EmulatedScreenSource.lag_s` its frames arrive late, as a stream's do: a test of a
rig that must not take a picture from before a switch for one after it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable, Sequence
from pathlib import Path
from typing import TypeVar

import numpy as np

from harness.emulation.camera_model import CameraEffects, CameraModel
from harness.emulation.lamps import LampState, check_looks, lamp_states
from harness.emulation.reader_twin import FaceAuthReaderTwin
from harness.emulation.scene_frames import SceneFrames, scene_key
from harness.emulation.screen_look import ScreenLook
from harness.emulation.screen_renderer import Drawn, PictureKey, ScreenRenderer
from harness.emulation.screen_views import reader_drawn, terminal_drawn
from harness.emulation.terminal import TerminalTwin
from harness.errors import RigError
from harness.kept import Kept, pixels_key
from harness.model.clock import Clock
from harness.protocols import Box, CameraStopped, Frame, PixelBox
from harness.vision.reference import INDEX, ReferenceSet, default_screens_dir

T = TypeVar("T")
#: Pictures whose digests a camera keeps (the least recently used dropped first).
_DIGESTS = 256
#: A scene a camera filmed: when, what was drawn, the wall clock then, the lamps then.
_Scene = tuple[float, Drawn, dt.datetime, tuple[LampState, ...]]


class EmulatedScreenSource:
    """Frames of whatever ``content()`` says the screen shows now."""

    def __init__(
        self,
        name: str,
        content: Callable[[], Drawn],
        renderer: ScreenRenderer,
        clock: Clock,
        camera: CameraModel | None = None,
        lamps: Callable[[], Sequence[LampState]] | None = None,
    ) -> None:
        self.name = name
        self.content = content
        #: The housing's lamps as they are now (lit or not), drawn into each frame.
        self.lamps = lamps
        self.renderer = renderer
        self.clock = clock
        self.camera = camera or CameraModel()
        self._index = 0
        self._closed = False
        #: A bench fault: the driver re-delivers its last buffer from now on.
        self.frozen = False
        #: A bench fault: the driver gives no frame (a read fails).
        self.stopped = False
        self._last: np.ndarray | None = None
        #: Whether :meth:`still_frame` may vouch for a still scene: the emulated bench
        #: turns it on (a certification's looks are mostly at still screens); a test of
        #: the vision on every frame (drift, freezes, a knocked camera) leaves it off.
        self.vouches_still = False
        #: What the last captured frame filmed (see :meth:`still_frame`).
        self._scene: tuple[object, ...] | None = None
        #: Where the rig reads the next frames (see :meth:`read_out`); None: anywhere.
        self._region: PixelBox | None = None
        #: Scenes filmed before, for when they come back (see :meth:`_keeps_scenes`).
        self._filmed = SceneFrames()
        #: The digests of the pictures the renderer drew, by picture.
        self._digests: Kept[Hashable] = Kept(_DIGESTS)
        #: Bench seconds a frame takes to arrive (a stream's encoder, network and decoder;
        #: the bench in a box's MJPEG is over a second behind): each read films the scene
        #: of at least this long ago, stamped when it arrives, as a real stream's frame is
        #: (harness.devices.camera). 0: at once.
        self.lag_s = 0.0
        #: Scenes filmed and not yet arrived (a lagging camera): (when, what was drawn,
        #: the wall clock then, the lamps then).
        self._in_flight: list[_Scene] = []

    @property
    def repeats_frames(self) -> bool:
        """A still screen gives byte-identical frames: a camera model without sensor noise
        (harness.vision.camera_faults cannot tell a freeze from a still screen then)."""
        effects = self.camera.effects
        return not (effects.noise_sigma[1] > 0 or effects.shot_noise > 0)

    def read(self) -> Frame:
        if self._closed:
            raise CameraStopped(self.name, "closed")
        if self.stopped:
            raise CameraStopped(self.name, f"gave no frame after {self._index} frame(s): the "
                                "driver returned nothing")
        t = self.clock.now()
        if self.frozen and self._last is not None:
            image = self._last.copy()  # the same bytes in a new buffer, as a driver gives them
            self._scene = None
        else:
            lamps = tuple(self.lamps()) if self.lamps is not None else ()
            at, drawn, wallclock, lamps = self._arrived(
                (t, self.content(), self.clock.wallclock(), lamps))
            scene = self._scene_key(drawn, at, wallclock, lamps)
            region = self._region if self._keeps_scenes() else None
            screen = None
            kept = None
            if region is not None:
                # The renderer draws one picture per key: its pixels' digest is kept by it.
                drawn_now: list[np.ndarray] = []

                def digest() -> Hashable:
                    drawn_now.append(self.renderer.render(drawn, at, wallclock).image)
                    return pixels_key(drawn_now[0])

                kept = scene_key(self.camera.films,
                                 self._digests.get((self.renderer, scene[0]), digest),
                                 lamps, region)
                screen = drawn_now[0] if drawn_now else None
            # A scene filmed before: one of its frames, never the one handed out last.
            image = self._filmed.again(kept, region) if kept is not None else None
            if image is None:
                if screen is None:
                    screen = self.renderer.render(drawn, at, wallclock).image
                # The sensor's noise is this read's: a late frame is still a new frame.
                image = self.camera.capture(screen, t, lamps, self._region).image
                if kept is None:
                    self._filmed.handed_out()
                elif not self._filmed.filmed(kept, region, image):
                    image = self.camera.capture(screen, t, lamps, self._region).image
                    self._filmed.filmed(kept, region, image)
            self._last = image
            self._scene = scene
        frame = Frame(image, t, self._index, self.name)
        self._index += 1
        return frame

    def _keeps_scenes(self) -> bool:
        """A scene filmed again may be given as filmed before (harness/emulation/
        scene_frames.py) where the rig reads a region only, on a camera that vouches for
        still scenes (the emulated bench's; a test of the vision on every frame films each
        afresh) and whose frames are the scene alone: no desk drawn afresh each frame, no
        stream's lag."""
        return (self._region is not None and self.vouches_still
                and not self.camera.effects.desk and self.lag_s <= 0)

    def _arrived(self, now: _Scene) -> _Scene:
        """The scene a frame read ``now`` films when frames take :attr:`lag_s`: the newest
        one noted at least that long ago (the oldest in flight, when none is yet). The
        emulation notes a scene only when a frame is read: what arrives is as old as the
        looks left it, never newer."""
        if self.lag_s <= 0:
            self._in_flight.clear()
            return now
        self._in_flight.append(now)
        due = [k for k, scene in enumerate(self._in_flight) if scene[0] <= now[0] - self.lag_s]
        del self._in_flight[:due[-1] if due else 0]
        return self._in_flight[0]

    def read_out(self, region: PixelBox | None) -> None:
        """The rig reads the next frames inside ``region`` only (None: anywhere): the
        camera model gives the sensor's noise and the JPEG round trip there alone."""
        self._region = region

    def still_frame(self, since: Frame, ignoring: Sequence[Box] = ()) -> Frame | None:
        """``since`` again, stamped now, when it is the last frame captured and the camera
        would film the same scene now: no capture, no look worth taking (a still screen
        is most of a flow's looks). The camera's own drift between two frames is not news
        of the screen. Never while a fault is on the camera: its frames must be read.
        A header clock that ticked is the same scene when its box lies inside one of
        ``ignoring`` (the caller masks it)."""
        # A desk's effects (a finger at the bezel, a shake) are drawn afresh each frame.
        if (not self.vouches_still or self._closed or self.stopped or self.frozen
                or self.lag_s > 0 or self.camera.effects.desk or self._scene is None
                or since.source != self.name or since.index != self._index - 1):
            return None
        lamps = tuple(self.lamps()) if self.lamps is not None else ()
        t = self.clock.now()
        now = self._scene_key(self.content(), t, self.clock.wallclock(), lamps)
        if now != self._scene and not (self._only_clock(now, self._scene)
                                       and self._masked_clock(ignoring)):
            return None
        return Frame(since.image, t, since.index, self.name)

    @staticmethod
    def _only_clock(now: tuple[object, ...], then: tuple[object, ...]) -> bool:
        """The two scenes differ only in the time the header's clock shows."""
        picture, before = now[0], then[0]
        assert isinstance(picture, PictureKey) and isinstance(before, PictureKey)
        return (now[1:] == then[1:] and None not in (picture.clock, before.clock)
                and picture.clock != before.clock
                and picture._replace(clock=None) == before._replace(clock=None))

    def _masked_clock(self, ignoring: Sequence[Box]) -> bool:
        """The clock's whole box lies inside one of ``ignoring``, to a pixel (a reference's
        box is rounded to its own pixels)."""
        box = self.renderer.clock_box()
        if box is None:
            return False
        width, height = self.renderer.look.size
        x0, y0, x1, y1 = (box[0] / width, box[1] / height, (box[0] + box[2]) / width,
                          (box[1] + box[3]) / height)
        sx, sy = 1.0 / width, 1.0 / height
        return any(x <= x0 + sx and y <= y0 + sy and x + w >= x1 - sx and y + h >= y1 - sy
                   for x, y, w, h in ignoring)

    def _scene_key(self, drawn: Drawn, t: float, wallclock: dt.datetime,
                   lamps: tuple[LampState, ...]) -> tuple[object, ...]:
        # The camera and renderer themselves (compared as objects): another put in (a
        # test's ideal camera, another look) films another picture.
        return (self.renderer.picture_key(drawn, t, wallclock), lamps, self.renderer,
                self.camera, self.camera.bumps)

    def close(self) -> None:
        self._closed = True


def primed_renderer(look: ScreenLook | None, maker: str, screens: Path | None = None
                    ) -> ScreenRenderer:
    """A renderer in a device's look, primed with the reference screens of ``maker`` (a
    maker key or ``terminal``) when there are some: then no font is needed for the
    screens they hold."""
    if look is None:
        raise RigError(f"{maker}: its device file has no 'display' section: nothing to film")
    renderer = ScreenRenderer(look)
    directory = (screens or default_screens_dir()) / maker
    if (directory / INDEX).is_file():
        renderer.prime(ReferenceSet.load(directory))
    return renderer


def _current(twin: T | Callable[[], T]) -> Callable[[], T]:
    # A bench restored to a fresh morning replaces its twins: a camera then films the new
    # one, as a real camera films whatever stands on the bench.
    return twin if callable(twin) else lambda: twin


def terminal_camera(name: str, terminal: TerminalTwin | Callable[[], TerminalTwin],
                    renderer: ScreenRenderer, clock: Clock, *, seed: int = 0,
                    effects: CameraEffects | None = None) -> EmulatedScreenSource:
    """A camera on the terminal's monitor (its dialogs)."""
    current = _current(terminal)
    return EmulatedScreenSource(name, lambda: terminal_drawn(current()), renderer, clock,
                                CameraModel(seed=seed, effects=effects))


def reader_camera(
    name: str,
    twin: FaceAuthReaderTwin | Callable[[], FaceAuthReaderTwin],
    renderer: ScreenRenderer,
    clock: Clock,
    *,
    seed: int = 0,
    effects: CameraEffects | None = None,
) -> EmulatedScreenSource:
    current = _current(twin)
    looks = renderer.look.lamps
    if looks:
        check_looks(looks, [led.name for led in current().behaviour.leds], name)
    return EmulatedScreenSource(
        name, lambda: reader_drawn(current().screen()), renderer, clock,
        CameraModel(seed=seed, effects=effects),
        (lambda: lamp_states(looks, current().leds())) if looks else None,
    )
