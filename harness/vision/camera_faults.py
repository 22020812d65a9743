"""A camera that freezes or stops is a bench fault, noticed by the rig within a stated bound.

- ``camera.frozen``: a real sensor's noise makes two frames of the stillest screen differ,
  so frames identical byte for byte over :data:`FROZEN_S` bench seconds *and* at least
  :data:`FROZEN_LOOKS` looks are a camera re-delivering its last buffer (a V4L2 driver
  whose time stamps go on while its pixels do not). Both are needed: looks at one bench
  instant (virtual time standing still) add no seconds, and a single re-delivered buffer
  is no freeze. Noticed at the first look at which both hold: ``max(FROZEN_S, (FROZEN_LOOKS
  - 1) x the gap between looks)`` bench seconds after the frame was first seen.
- ``camera.stopped``: a read that gives no frame is retried every :data:`STOPPED_RETRY_S`
  for :data:`STOPPED_BOUND_S` bench seconds; no frame by then is the fault. Wall time is
  that plus each read's own bound (V4L2's select: 10 s; a stream: 5 s; harness.devices.camera).

Frozen is judged where the rig reads: the calibrated screen (with its lamps), when the
watcher knows where it is. Anything else in view may change while the sensor stands still (a
network camera's encoder draws its on-screen clock over the frozen buffer, a status LED
blinks, a lamp flickers), and a live sensor's noise never repeats in the screen's pixels
either; so a screen region byte-identical over the bound is frozen, whatever the rest does.

A source whose frames of a still screen are identical by nature (an emulated camera without
sensor noise; it says so with ``repeats_frames = True``) cannot show a freeze: identical
frames prove nothing there, and the watcher records ``camera.freeze_unchecked`` once.
Any other source (every real one) is checked.
"""

from __future__ import annotations

import zlib

import attrs
import numpy as np

from harness.errors import BenchFault
from harness.protocols import Frame, FrameSource, PixelBox

#: Bench seconds the same bytes must last to be a frozen camera.
FROZEN_S = 3.0
#: Looks (the first included) that must have seen the same bytes to be a frozen camera.
FROZEN_LOOKS = 3
#: Bench seconds a camera may give no frame before it is a stopped camera ...
STOPPED_BOUND_S = 2.0
#: ... read again every this many bench seconds meanwhile.
STOPPED_RETRY_S = 0.5

#: Slack for float bench time.
_EPS_S = 1e-9


def repeats_frames(source: FrameSource) -> bool:
    """The source says a still screen gives it byte-identical frames (no sensor noise)."""
    return bool(getattr(source, "repeats_frames", False))


#: Every n-th row goes into the digest: a live sensor's noise changes every row.
_DIGEST_ROWS = 8


def _digest(image: np.ndarray) -> int:
    # CRC32 of every 8th row: ~0.2 ms for a 1080p frame (all of it ~1.5 ms, on every look).
    # Only a filter: a match is confirmed byte for byte over the whole frame, so neither a
    # collision nor a change in the rows left out can ever make a frozen camera.
    return zlib.crc32(np.ascontiguousarray(image[::_DIGEST_ROWS]).reshape(-1).data)


@attrs.define
class FreezeWatch:
    """Byte-identical frames of one camera, look by look."""

    camera: str
    #: False for a source that repeats frames of a still screen: counted, never a fault.
    checked: bool = True
    frozen_s: float = FROZEN_S
    frozen_looks: int = FROZEN_LOOKS
    _crc: int | None = attrs.field(default=None, init=False)
    _image: np.ndarray | None = attrs.field(default=None, init=False, repr=False)
    _since: float = attrs.field(default=0.0, init=False)
    _looks: int = attrs.field(default=0, init=False)
    _region: PixelBox | None = attrs.field(default=None, init=False)
    #: The whole frame ``_image`` was cut from (a source vouching names the frame).
    _frame_image: np.ndarray | None = attrs.field(default=None, init=False, repr=False)

    @property
    def looks(self) -> int:
        """Looks that have seen the current bytes (0 before the first frame)."""
        return self._looks

    def see(self, frame: Frame, region: PixelBox | None = None) -> bool:
        """Note ``frame``; True when its bytes (within ``region``, x0, y0, x1, y1 pixels:
        where the rig reads; the whole frame without one) are the previous frame's there.
        Raises :class:`BenchFault` ``camera.frozen`` once they have lasted the bound."""
        image = _within(frame.image, region)
        crc = _digest(image)
        previous = self._image
        same = (crc == self._crc and previous is not None and region == self._region
                and previous.shape == image.shape and previous.dtype == image.dtype
                and np.array_equal(previous, image))
        if not same:
            self._crc, self._image, self._since, self._looks = crc, image, frame.t, 1
            self._region, self._frame_image = region, frame.image
            return False
        self._looks += 1
        if (self.checked and self._looks >= self.frozen_looks
                and frame.t - self._since >= self.frozen_s - _EPS_S):
            raise BenchFault(
                "camera.frozen", self.camera,
                f"the same frame, byte for byte, since t={self._since:.2f} s "
                f"({self._looks} looks)", bound_s=self.frozen_s)
        return True

    def vouched(self, frame: Frame) -> None:
        """The source vouched at ``frame.t`` that the scene of its last frame still stood
        and its camera was live (``KnowsStillScene``): a frame taken then would have been
        new bytes, so the same bytes from now on are frozen since then, not since before."""
        if self._image is not None and self._frame_image is frame.image:
            self._since, self._looks = frame.t, 1

    def reset(self) -> None:
        self._crc, self._image, self._since, self._looks = None, None, 0.0, 0
        self._region, self._frame_image = None, None


def _within(image: np.ndarray, region: PixelBox | None) -> np.ndarray:
    """The part of ``image`` in ``region`` (a view; the whole image without one, or when the
    region leaves nothing of it: a frame of another size than the calibration's)."""
    if region is None:
        return image
    x0, y0, x1, y1 = region
    part = image[max(0, y0):max(0, y1), max(0, x0):max(0, x1)]
    return part if part.size else image
