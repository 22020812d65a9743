"""The device protocols, in one place: what suites, vision and the twin talk to.

Real devices (``harness/devices/``) and the twin (``harness/emulation/``) both implement
these; vision and the twin import them from here, never from ``harness/devices/``, so that
neither depends on the real device families (DESIGN.md principle 1).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import attrs
import numpy as np

from harness.errors import RigError
from harness.model.topology import UsbTopology

#: A part of a screen: x, y, w, h as fractions of its width and height.
Box = tuple[float, float, float, float]

# -- frames ------------------------------------------------------------------------------------


@attrs.frozen(eq=False)
class Frame:
    """One picture from a frame source."""

    #: BGR, uint8, as OpenCV gives it.
    image: np.ndarray = attrs.field(repr=lambda a: f"<image {a.shape} {a.dtype}>")
    #: Bench-clock seconds when it was taken (a network stream's: when it arrived, which
    #: may be later: what it shows may be older than its stamp).
    t: float
    #: Running number within its source, from 0.
    index: int
    #: The source's name (a camera name from the bench file, a file name, ...).
    source: str


class CameraStopped(RigError):
    """A frame source gave no frame (unplugged camera, end of a video, a driver error)."""

    def __init__(self, source: str, why: str) -> None:
        self.source = source
        self.why = why
        super().__init__(f"camera {source}: no frame ({why})")


class FrameSource(Protocol):
    name: str

    def read(self) -> Frame:
        """The next frame; raises :class:`CameraStopped` when there is none."""

    def close(self) -> None:
        """Release the device or file."""


@runtime_checkable
class KnowsStillScene(Protocol):
    """A frame source that can tell nothing in front of its lens has changed since a frame
    it gave: an emulated camera knows what it films; a real camera never can, and does not
    implement this."""

    def still_frame(self, since: Frame, ignoring: Sequence[Box] = ()) -> Frame | None:
        """``since`` again, stamped now, when it was this source's last frame and the scene
        is the same (the screen's picture, its lamps, the camera's pose) and no fault is on
        the camera; None when anything may have changed: then :meth:`FrameSource.read`.
        ``ignoring``: parts of the screen (x, y, w, h as fractions of its width and height)
        whose changes the caller does not look at (a reference's masked clock): a picture
        changed only inside them is the same scene to it."""


#: A rectangle of frame pixels: x0, y0, x1, y1 (exclusive).
PixelBox = tuple[int, int, int, int]


@runtime_checkable
class ReadsOutRegion(Protocol):
    """A frame source told where the rig reads its next frames, as a camera's sensor reads
    out a region of interest: only there must its frames be true to the camera (an
    emulated camera spends its sensor's noise and JPEG round trip there alone). A source
    that does not implement it gives whole frames."""

    def read_out(self, region: PixelBox | None) -> None:
        """The frames read from now on are read by the rig inside ``region`` only; None:
        anywhere."""


# -- USB ---------------------------------------------------------------------------------------


@attrs.frozen
class UsbDeviceInfo:
    vid: int
    pid: int
    manufacturer: str | None
    product: str | None
    serial: str | None
    topology: UsbTopology
    is_hub: bool
    #: bcdDevice, the device's release (firmware) number as lsusb prints it: ``1.10``.
    version: str | None = None

    @property
    def vid_pid(self) -> str:
        return f"{self.vid:04x}:{self.pid:04x}"


class TopologySource(Protocol):
    def topology(self, bus: int, port_numbers: tuple[int, ...]) -> UsbTopology | None:
        """Where the device at ``bus``/``port_numbers`` sits; None if unknown."""


class UsbBus(Protocol):
    def devices(self) -> list[UsbDeviceInfo]:
        """The USB devices plugged in now, hubs and root hubs left out."""


# -- PC/SC -------------------------------------------------------------------------------------


class PcscConnection(Protocol):
    atr: bytes

    def transmit(self, apdu: bytes) -> bytes:
        """Send a command APDU; return the response with SW1 SW2."""

    def close(self) -> None: ...


class PcscService(Protocol):
    def readers(self) -> list[str]: ...

    def card_present(self, reader: str) -> bool: ...

    def wait_for_card(self, reader: str, timeout: float, present: bool = True) -> None:
        """Wait until a card is (or is no longer) in ``reader``; DeviceTimeout after ``timeout``."""

    def connect(self, reader: str) -> PcscConnection: ...

    def close(self) -> None: ...


# -- power -------------------------------------------------------------------------------------


@runtime_checkable
class PowerRelay(Protocol):
    """Switches the mains of bench devices, one channel per device."""

    def on(self, channel: int) -> None:
        """Close the relay (power the device); returns once the board confirms it."""

    def off(self, channel: int) -> None:
        """Open the relay (cut the device's power); returns once the board confirms it."""

    def is_on(self, channel: int) -> bool:
        """Whether the relay on ``channel`` is closed."""

    def close(self) -> None:
        """Release the port; relay states are left as they are."""


class NetworkMonitor(Protocol):
    """Watches the terminal's network from the bench's side (a ping from the terminal's LAN
    to the eligibility system): the rig's way to tell a network the bench lost from a
    reader's failure, without asking the terminal."""

    def downs(self, since: float, until: float) -> list[tuple[float, float | None]]:
        """The spans (bench seconds) the network was down that overlap ``since``..``until``;
        a span not over yet ends None."""
