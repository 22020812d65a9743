"""Frame sources: what the rig's eyes read from.

Every source (a camera or capture card, a recorded video, the emulated screen) gives
:class:`Frame` objects stamped with bench-clock time, so motion rules run on the same
seconds as the rest of the timeline (virtual seconds on an emulated bench).

- :class:`CaptureSource`: a live camera, capture card or network stream (cv2.VideoCapture).
- :class:`VideoFileSource`: a recorded video replayed offline, with its recorded times.
- :class:`FrameRecorder` / :class:`RecordingSource`: record any source for later replay.
- :func:`open_source`: the bench file's ``source`` string to one of the above.

Recordings are MJPG in AVI, written by OpenCV's built-in MJPEG encoder (no external codec),
plus a ``<video>.frames.csv`` sidecar holding each frame's exact bench time, so a replay of
an emulated run keeps its virtual-time stamps.
"""

from __future__ import annotations

import contextlib
import csv
import math
import re
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any, Self

import attrs
import cv2
import numpy as np

from harness.errors import BadInput, RigError
from harness.model.clock import Clock
from harness.protocols import CameraStopped, Frame, FrameSource


class CameraUnavailable(CameraStopped):
    """A camera, stream or video could not be opened at all; ``hint`` says what to check."""

    def __init__(self, source: str, device: str, hint: str) -> None:
        self.device = device
        self.hint = hint
        self.source = source
        self.why = f"cannot open {device}"
        RigError.__init__(self, f"camera {source}: cannot open {device}\n  check: {hint}")


class FrameSizeChanged(RigError):
    """A recording got a frame whose size differs from its first frame's."""


class _Closing:
    """``with`` closes the source or recorder, whatever happened inside."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


#: File name endings taken as recorded videos by :func:`open_source`.
VIDEO_SUFFIXES = frozenset({".avi", ".mp4", ".mkv", ".mov"})

# Bounded waits (DESIGN.md principle 6) for network streams; FFMPEG honours them. V4L2
# devices have their own bounded select() (10 s) inside OpenCV.
_STREAM_OPEN_TIMEOUT_MS = 10_000
_STREAM_READ_TIMEOUT_MS = 5_000


def sidecar_path(video: str | Path) -> Path:
    """Where a recording keeps its frame times: ``run.avi`` -> ``run.avi.frames.csv``."""
    video = Path(video)
    return video.with_name(video.name + ".frames.csv")


def redact_url(spec: str) -> str:
    """A stream URL without its password (rtsp://user:secret@host -> rtsp://user:***@host)."""
    return re.sub(r"(://[^/@:]*):[^/@]*@", r"\1:***@", spec)


@contextlib.contextmanager
def _quiet_opencv() -> Iterator[None]:
    """Silence OpenCV's own warnings while probing: our error says it better."""
    logging = getattr(getattr(cv2, "utils", None), "logging", None)
    if logging is None:
        yield
        return
    level = logging.getLogLevel()
    logging.setLogLevel(logging.LOG_LEVEL_ERROR)
    try:
        yield
    finally:
        logging.setLogLevel(level)


def _as_bgr(image: np.ndarray) -> np.ndarray:
    """The Frame contract is BGR uint8: convert grey or BGRA pictures."""
    if image.dtype != np.uint8:
        raise ValueError(f"frame image must be uint8, got {image.dtype}")
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    if image.ndim == 3 and image.shape[2] == 3:
        return image
    raise ValueError(f"frame image must be grey, BGR or BGRA, got shape {image.shape}")


@attrs.frozen
class _Target:
    """What to hand cv2.VideoCapture, and how to talk about it to the user."""

    arg: int | str
    api: int
    params: tuple[int, ...]
    label: str
    hint: str
    #: A camera or stream that goes on producing frames whether read or not (not a file).
    live: bool = True


def _capture_target(device: int | str | Path) -> _Target:
    if isinstance(device, Path):
        device = str(device)
    if isinstance(device, str) and device.strip().isdigit():
        device = int(device.strip())
    if isinstance(device, int):
        return _Target(
            device,
            cv2.CAP_ANY,
            (),
            f"video device index {device}",
            "the camera is plugged in and listed by `v4l2-ctl --list-devices` (Linux), no other "
            "program holds it, and this user may open it (group video)",
        )
    if "://" in device:
        return _Target(
            device,
            cv2.CAP_FFMPEG,
            (
                cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
                _STREAM_OPEN_TIMEOUT_MS,
                cv2.CAP_PROP_READ_TIMEOUT_MSEC,
                _STREAM_READ_TIMEOUT_MS,
            ),
            f"stream {redact_url(device)}",
            "the address and port, that the camera or encoder is on and reachable from this "
            "machine, and its user name and password",
        )
    if device.startswith("/dev/"):
        # V4L2 opens device paths (and udev's /dev/v4l/by-path links) directly.
        api = cv2.CAP_V4L2 if sys.platform.startswith("linux") else cv2.CAP_ANY
        path = Path(device)
        if not path.exists():
            hint = (
                f"{device} does not exist: is the camera plugged in? "
                "`v4l2-ctl --list-devices` lists the video devices"
            )
        else:
            hint = (
                f"{device} exists: is it a capture node (cameras often also have a metadata "
                "node), is another program using it, may this user open it (group video)?"
            )
        return _Target(device, api, (), f"video device {device}", hint)
    return _Target(
        device,
        cv2.CAP_ANY,
        (),
        device,
        "the path exists and is a video OpenCV can read",
        live=False,
    )


def _fourcc(cap: cv2.VideoCapture) -> str:
    """The stream's codec as its four characters (``MJPG``), or "" when unknown."""
    code = int(cap.get(cv2.CAP_PROP_FOURCC))
    return "".join(chr((code >> (8 * i)) & 0xFF) for i in range(4)).strip("\0 ") if code else ""


def _set_and_check(cap: cv2.VideoCapture, prop: int, value: float, tolerance: float) -> bool:
    """Set a property; True only if the driver kept it (drivers may ignore or clamp)."""
    if not cap.set(prop, value):
        return False
    return abs(cap.get(prop) - value) <= tolerance


@attrs.define(eq=False)
class CaptureSource(_Closing):
    """A live camera, capture card or network stream read through cv2.VideoCapture.

    ``device``: an index (``0`` or ``"0"``), a device path (``/dev/video2``,
    ``/dev/v4l/by-path/...``), a URL (``rtsp://``, ``http://``), or a video file (OpenCV
    treats files as capture devices; the rig's tests use that). Opened at construction, so a
    missing camera fails before a test starts, with :class:`CameraUnavailable`.

    ``exposure`` is in the driver's own units (V4L2: exposure_time_absolute in 100 µs steps;
    DirectShow: log2 seconds). Whether the driver accepted fixed exposure and fixed white
    balance is recorded in :attr:`exposure_locked` and :attr:`white_balance_locked`; a driver
    that refuses is not an error (the report says so instead). A live camera's or
    stream's frames are read by a thread as they come, stamped when they arrive, the newest
    kept: read only when the rig looks, a V4L2 driver hands out the oldest of its queued
    buffers (it keeps 2-4 whatever CAP_PROP_BUFFERSIZE asks) and a stream backs up, so a
    look would see the screen as it was a look ago, stamped now. An MJPEG stream's frames
    are taken as their JPEG packets and only those read are decoded (a 1080p frame costs
    ~9 ms to decode; a camera at 30 fps would else take a core's share for frames nobody
    looks at); a packet that is no JPEG image stops the camera. A video file read as a
    capture device is read when asked, stamped ``clock.now()``.
    """

    name: str
    device: int | str | Path = attrs.field(
        repr=lambda d: repr(redact_url(d) if isinstance(d, str) else d)
    )
    clock: Clock = attrs.field(repr=False)
    width: int | None = attrs.field(default=None, kw_only=True)
    height: int | None = attrs.field(default=None, kw_only=True)
    exposure: float | None = attrs.field(default=None, kw_only=True)
    fps: float | None = attrs.field(default=None, kw_only=True)
    #: A capture card, not a camera: identical frames are normal (no freeze check).
    repeats_frames: bool = attrs.field(default=False, kw_only=True)
    #: Seconds the picture lags the screen (the bench file's ``latency_s``): frames are
    #: stamped that much before they arrive, when the screen showed them.
    latency_s: float = attrs.field(default=0.0, kw_only=True)
    #: The driver is in manual exposure at the requested value.
    exposure_locked: bool = attrs.field(init=False, default=False)
    #: The driver accepted auto white balance off.
    white_balance_locked: bool = attrs.field(init=False, default=False)
    #: Frame size the driver reports after the settings (width, height); (0, 0) if unknown.
    size: tuple[int, int] = attrs.field(init=False, default=(0, 0))
    #: The OpenCV backend in use (V4L2, FFMPEG, ...).
    backend: str = attrs.field(init=False, default="")
    _target: _Target = attrs.field(init=False, repr=False)
    _cap: Any = attrs.field(init=False, default=None, repr=False)
    _count: int = attrs.field(init=False, default=0, repr=False)
    _stopped: str | None = attrs.field(init=False, default=None, repr=False)
    _lock: threading.Lock = attrs.field(init=False, factory=threading.Lock, repr=False)
    #: Live cameras and streams: the pump thread's newest (image, arrival time) and its count.
    _arrived: threading.Condition = attrs.field(init=False, factory=threading.Condition,
                                                repr=False)
    _newest_frame: tuple[Any, float] | None = attrs.field(init=False, default=None, repr=False)
    _arrivals: int = attrs.field(init=False, default=0, repr=False)
    _taken: int = attrs.field(init=False, default=0, repr=False)
    _pump_ended: bool = attrs.field(init=False, default=False, repr=False)
    _pump_thread: threading.Thread | None = attrs.field(init=False, default=None, repr=False)
    #: An MJPEG stream read as it comes without decoding (FFmpeg's raw packets, each a
    #: JPEG): only the frames the rig looks at are decoded (a 1080p frame is ~9 ms).
    compressed: bool = attrs.field(init=False, default=False)

    def __attrs_post_init__(self) -> None:
        self._target = target = _capture_target(self.device)
        with _quiet_opencv():
            try:
                if target.params:
                    cap = cv2.VideoCapture(target.arg, target.api, list(target.params))
                else:
                    cap = cv2.VideoCapture(target.arg, target.api)
            except cv2.error:
                cap = None
        if cap is None or not cap.isOpened():
            if cap is not None:
                cap.release()
            raise CameraUnavailable(self.name, target.label, target.hint)
        self._cap = cap
        self.backend = cap.getBackendName()
        self._configure(cap)
        if target.live and target.api == cv2.CAP_FFMPEG and _fourcc(cap) == "MJPG":
            # (Only if the backend says it took raw mode: else frames come decoded.)
            self.compressed = (bool(cap.set(cv2.CAP_PROP_FORMAT, -1))
                               and cap.get(cv2.CAP_PROP_FORMAT) == -1)
        if target.live:
            self._pump_thread = threading.Thread(target=self._pump, args=(cap,), daemon=True,
                                                 name=f"camera {self.name}")
            self._pump_thread.start()

    def _configure(self, cap: cv2.VideoCapture) -> None:
        # Only the newest frame: a queued stale frame would be stamped late.
        cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        if self.width:
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.width)
        if self.height:
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.height)
        if self.fps:
            cap.set(cv2.CAP_PROP_FPS, self.fps)
        self.size = (
            int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)),
            int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)),
        )
        if self.exposure is not None:
            self.exposure_locked = self._lock_exposure(cap, self.exposure)
        # Auto white balance shifts colours as the screen changes; classes are colour-based.
        self.white_balance_locked = _set_and_check(cap, cv2.CAP_PROP_AUTO_WB, 0, 0.0)

    def _lock_exposure(self, cap: cv2.VideoCapture, exposure: float) -> bool:
        # "Manual" differs per backend: V4L2 passes the V4L2 menu value through (1 = manual,
        # 3 = aperture priority); older normalising builds and DirectShow use 0.25 / 0.75.
        # Never try 0.25 first on V4L2: it truncates to 0, which V4L2 reads as "auto".
        manual_values = (1.0, 0.25) if self.backend == "V4L2" else (0.25, 1.0)
        for manual in manual_values:
            if _set_and_check(cap, cv2.CAP_PROP_AUTO_EXPOSURE, manual, 1e-6):
                break
        else:
            return False
        return _set_and_check(cap, cv2.CAP_PROP_EXPOSURE, exposure, max(0.5, abs(exposure) * 0.05))

    @property
    def closed(self) -> bool:
        return self._cap is None

    def read(self) -> Frame:
        with self._lock:
            if self._cap is None:
                raise CameraStopped(self.name, f"{self._target.label} is closed")
            if self._stopped is not None:
                raise CameraStopped(self.name, self._stopped)
            arrived = None
            try:
                if self._pump_thread is not None:
                    ok, newest = self._newest()
                    image, arrived = newest if ok else (None, None)
                else:
                    ok, image = self._cap.read()
                detail = ""
                if ok and image is not None and self.compressed:
                    # As FFmpeg decodes a stream's JPEG: an EXIF orientation tag is not
                    # applied. (An empty packet raises rather than giving None.)
                    image = cv2.imdecode(image.reshape(-1),
                                         cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
                    detail = "" if image is not None else "; a frame that is no JPEG image"
            except cv2.error as exc:  # some backends raise instead of returning False
                ok, image = False, None
                detail = f"; OpenCV said: {str(exc).strip().splitlines()[-1]}"
            # A stream's frame carries when it arrived, not when it was asked for; the
            # screen showed it the camera's latency before.
            t = (arrived if arrived is not None else self.clock.now()) - self.latency_s
            if not ok or image is None:
                # Stay stopped: a camera that comes back must be reopened deliberately, so
                # a gap in the frames is never silent.
                self._stopped = (
                    f"{self._target.label} gave no frame after {self._count} frame(s): "
                    "unplugged, powered off, stream ended or driver failure; check the cable "
                    f"or connection and that the device is still listed{detail}"
                )
                raise CameraStopped(self.name, self._stopped)
            frame = Frame(_as_bgr(image), t, self._count, self.name)
            self._count += 1
            return frame

    def _pump(self, cap: Any) -> None:
        """A live camera or stream, read as it arrives: each frame decoded and stamped when
        it comes, the newest kept. Read only when asked, a stream backs up (the socket's
        buffers, then the camera's blocked send) and a frame drawn seconds ago would pass
        for a fresh one (the bench in a box saw its reader start 10 bench-s late); a V4L2
        driver's queue does the same with its buffers (the oldest is dequeued first)."""
        while True:
            ok = cap.grab()
            t = self.clock.now()
            ok, image = cap.retrieve() if ok else (False, None)
            with self._arrived:
                if self._cap is None:  # closed while this grab waited: the pump's to free
                    cap.release()
                    return
                if not ok or image is None:
                    self._newest_frame = None
                    self._pump_ended = True
                    self._arrived.notify_all()
                    return
                self._newest_frame = (image, t)
                self._arrivals += 1
                self._arrived.notify_all()

    def _newest(self) -> tuple[bool, Any]:
        """The stream's newest frame not returned before (waiting, bounded, for the next
        one) and the bench time it arrived."""
        with self._arrived:
            self._arrived.wait_for(lambda: self._arrivals > self._taken or self._pump_ended,
                                   timeout=_STREAM_READ_TIMEOUT_MS / 1000)
            if self._arrivals == self._taken or self._newest_frame is None:
                return False, None
            self._taken = self._arrivals
            return True, self._newest_frame

    def close(self) -> None:
        with self._lock:
            if self._cap is not None:
                cap = self._cap
                with self._arrived:
                    self._cap = None
                    pumping = self._pump_thread is not None and not self._pump_ended
                if pumping:
                    # The pump frees the capture when its grab returns (FFmpeg's read is
                    # bounded): never under a grab in progress.
                    assert self._pump_thread is not None
                    self._pump_thread.join(timeout=_STREAM_READ_TIMEOUT_MS / 1000 + 1)
                else:
                    cap.release()


def _read_sidecar(path: Path) -> list[float]:
    """Frame times from a recorder's sidecar; row ``i`` is frame ``i`` of the video."""
    times: list[float] = []
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if not reader.fieldnames or not {"index", "t"} <= set(reader.fieldnames):
            raise BadInput(str(path), 1, "", "expected a header with columns index,t")
        for row in reader:
            try:
                index, t = int(row["index"]), float(row["t"])
            except (TypeError, ValueError):
                raise BadInput(
                    str(path), reader.line_num, "", f"not an index,t row: {row}"
                ) from None
            if index != len(times):
                raise BadInput(
                    str(path), reader.line_num, "index", f"expected {len(times)}, got {index}"
                )
            times.append(t)
    return times


@attrs.define(eq=False)
class VideoFileSource(_Closing):
    """A recorded video replayed offline, frame by frame, with recorded times.

    Frame times come from, in order: ``times`` (one per frame, given by the caller); the
    recorder's sidecar ``<video>.frames.csv``; the video's own timestamps
    (CAP_PROP_POS_MSEC); ``index / fps``. Frames beyond the end of ``times`` or the
    sidecar (a recording cut short by a crash) continue at the video's frame rate from the
    last known time. :attr:`timestamps` says which was used. The end of the video raises
    :class:`CameraStopped` with ``why == "end of video"``.
    """

    path: Path = attrs.field(converter=Path)
    #: Defaults to the file's name.
    name: str = attrs.field(
        kw_only=True, default=attrs.Factory(lambda self: self.path.name, takes_self=True)
    )
    times: Sequence[float] | None = attrs.field(kw_only=True, default=None, repr=False)
    #: Recorded from a capture card: identical frames are normal (no freeze check).
    repeats_frames: bool = attrs.field(kw_only=True, default=False)
    #: Nominal frame rate from the file (0 if it has none).
    fps: float = attrs.field(init=False, default=0.0)
    #: Where frame times come from: "given", "sidecar" or "video".
    timestamps: str = attrs.field(init=False, default="video")
    backend: str = attrs.field(init=False, default="")
    _cap: Any = attrs.field(init=False, default=None, repr=False)
    _count: int = attrs.field(init=False, default=0, repr=False)
    _ended: bool = attrs.field(init=False, default=False, repr=False)
    _lock: threading.Lock = attrs.field(init=False, factory=threading.Lock, repr=False)

    def __attrs_post_init__(self) -> None:
        if self.name is None:  # VideoFileSource(path, name=None) as the callers write it
            self.name = self.path.name
        if not self.path.is_file():
            what = "is not a file" if self.path.exists() else "does not exist"
            raise RigError(f"video {self.path}: {what}")
        with _quiet_opencv():
            cap = cv2.VideoCapture(str(self.path), cv2.CAP_ANY)
        if not cap.isOpened():
            cap.release()
            raise RigError(
                f"video {self.path}: OpenCV cannot read it (not a video, damaged, or a codec "
                "this OpenCV build lacks)"
            )
        self._cap = cap
        self.backend = cap.getBackendName()
        fps = cap.get(cv2.CAP_PROP_FPS)
        self.fps = fps if math.isfinite(fps) and fps > 0 else 0.0
        if self.times is not None:
            self.times = [float(t) for t in self.times]
            self.timestamps = "given"
        elif sidecar_path(self.path).is_file():
            self.times = _read_sidecar(sidecar_path(self.path))
            self.timestamps = "sidecar"

    def _position_time(self, index: int, ms_before: float) -> float:
        """A frame's time from the video itself, for videos without recorded times."""
        # FFMPEG reports the position of the frame just decoded; the other backends (the
        # built-in MJPEG reader) report where the next frame starts, so read it beforehand.
        ms = self._cap.get(cv2.CAP_PROP_POS_MSEC) if self.backend == "FFMPEG" else ms_before
        if math.isfinite(ms) and ms >= 0 and (ms > 0 or index == 0):
            return ms / 1000.0
        return index / self.fps if self.fps else float(index)

    def read(self) -> Frame:
        with self._lock:
            if self._cap is None:
                raise CameraStopped(self.name, "closed")
            if self._ended:
                raise CameraStopped(self.name, "end of video")
            ms_before = self._cap.get(cv2.CAP_PROP_POS_MSEC)
            ok, image = self._cap.read()
            if not ok or image is None:
                self._ended = True
                raise CameraStopped(self.name, "end of video")
            index = self._count
            times = self.times
            if times is not None and index < len(times):
                t = times[index]
            elif times:
                # Past the recorded times (a crash after the frame, before its CSV row).
                step = 1.0 / self.fps if self.fps else 1.0
                t = times[-1] + (index - len(times) + 1) * step
            else:
                t = self._position_time(index, ms_before)
            self._count += 1
            return Frame(_as_bgr(image), float(t), index, self.name)

    def close(self) -> None:
        with self._lock:
            if self._cap is not None:
                self._cap.release()
                self._cap = None


@attrs.define(eq=False)
class FrameRecorder(_Closing):
    """Records frames from any source to ``path`` (MJPG in AVI) plus its times sidecar.

    Written by OpenCV's built-in MJPEG encoder (CAP_OPENCV_MJPEG): present in every
    opencv-python(-headless) wheel, needs no external codec, and leaves a readable file
    even if the process dies before :meth:`close` (it writes in ~32 KiB chunks; only the
    last chunk is lost). The sidecar is flushed per frame. The first frame fixes the size;
    ``fps`` is only the nominal playback rate written in the header, the true times are in
    the sidecar. Nothing is created until the first frame.
    """

    path: Path = attrs.field(converter=Path)
    fps: float = 10.0
    #: Frames written so far.
    frames: int = attrs.field(init=False, default=0)
    #: (width, height), fixed by the first frame.
    size: tuple[int, int] | None = attrs.field(init=False, default=None)
    _writer: Any = attrs.field(init=False, default=None, repr=False)
    _csv_file: IO[str] | None = attrs.field(init=False, default=None, repr=False)
    _csv: Any = attrs.field(init=False, default=None, repr=False)
    _closed: bool = attrs.field(init=False, default=False, repr=False)
    _lock: threading.Lock = attrs.field(init=False, factory=threading.Lock, repr=False)

    def __attrs_post_init__(self) -> None:
        if self.path.suffix.lower() != ".avi":
            raise RigError(f"recording {self.path}: recordings are MJPG in AVI; name it .avi")
        if not (math.isfinite(self.fps) and self.fps > 0):
            raise RigError(f"recording {self.path}: fps must be positive, got {self.fps}")

    @property
    def sidecar(self) -> Path:
        return sidecar_path(self.path)

    def _open(self, width: int, height: int) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        writer = cv2.VideoWriter(
            str(self.path),
            cv2.CAP_OPENCV_MJPEG,
            cv2.VideoWriter_fourcc(*"MJPG"),
            self.fps,
            (width, height),
        )
        if not writer.isOpened():
            raise RigError(f"recording {self.path}: cannot write it (is the directory writable?)")
        self._writer = writer
        self._csv_file = self.sidecar.open("w", newline="", encoding="utf-8")
        self._csv = csv.writer(self._csv_file)
        self._csv.writerow(["index", "t"])
        self._csv_file.flush()
        self.size = (width, height)

    def write(self, frame: Frame) -> None:
        image = _as_bgr(frame.image)
        height, width = image.shape[:2]
        with self._lock:
            if self._closed:
                raise RigError(f"recording {self.path}: already closed")
            if self.size is None:
                self._open(width, height)
            elif self.size != (width, height):
                w0, h0 = self.size
                raise FrameSizeChanged(
                    f"recording {self.path}: frame {frame.index} of {frame.source} is "
                    f"{width}x{height}, the recording is {w0}x{h0} (set by its first frame); "
                    "a camera that changed resolution needs a new recording"
                )
            self._writer.write(np.ascontiguousarray(image))
            # repr() round-trips the float exactly: replays see the very same times.
            self._csv.writerow([self.frames, repr(float(frame.t))])
            assert self._csv_file is not None
            self._csv_file.flush()
            self.frames += 1

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._writer is not None:
                self._writer.release()
                self._writer = None
            if self._csv_file is not None:
                self._csv_file.close()
                self._csv_file = None


@attrs.define(eq=False)
class RecordingSource(_Closing):
    """A frame source that also records every frame it reads (a tee).

    When the inner source stops, :class:`CameraStopped` passes through and the recording
    keeps every frame read before it; :meth:`close` closes both.
    """

    source: FrameSource
    recorder: FrameRecorder
    name: str = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self.name = self.source.name

    def read(self) -> Frame:
        frame = self.source.read()
        self.recorder.write(frame)
        return frame

    def close(self) -> None:
        try:
            self.source.close()
        finally:
            self.recorder.close()


def open_source(
    spec: str | int | Path,
    name: str,
    clock: Clock,
    *,
    emulated: Callable[[], FrameSource] | None = None,
    width: int | None = None,
    height: int | None = None,
    exposure: float | None = None,
    fps: float | None = None,
    repeats_frames: bool = False,
    latency_s: float = 0.0,
) -> FrameSource:
    """The frame source a bench file's camera ``source`` names.

    An index, a device path or a URL opens a :class:`CaptureSource` (with the given
    settings); a video file (by its ending, or any existing regular file) a
    :class:`VideoFileSource`. ``"emulated"`` is the emulated bench's business: it passes
    ``emulated``, a factory for the twin's camera, and without one this raises.
    Relative file paths are taken as given (the caller resolves them against the bench file).
    """
    capture = {"width": width, "height": height, "exposure": exposure, "fps": fps,
               "repeats_frames": repeats_frames, "latency_s": latency_s}
    if isinstance(spec, int):
        return CaptureSource(name, spec, clock, **capture)
    text = str(spec).strip()
    if text == "emulated":
        if emulated is None:
            raise RigError(
                f"camera {name}: source 'emulated' needs the emulated bench's camera "
                "(open_source(..., emulated=factory)); a real bench names a device"
            )
        return emulated()
    if text.isdigit() or "://" in text or text.startswith("/dev/"):
        return CaptureSource(name, text, clock, **capture)
    path = Path(text)
    if path.suffix.lower() in VIDEO_SUFFIXES or path.is_file():
        return VideoFileSource(path, name=name, repeats_frames=repeats_frames)
    raise RigError(
        f"camera {name}: source {text!r} is neither 'emulated', a device index, a /dev path, "
        f"a URL nor an existing video file ({', '.join(sorted(VIDEO_SUFFIXES))})"
    )
