"""Frame sources: recording and replaying, live capture through OpenCV, dispatch.

OpenCV treats a video file as a capture device, so CaptureSource is exercised for real on a
recorded file; a missing camera is a device that cannot exist here (/dev/video99, index 99).
"""

from __future__ import annotations

import contextlib
import csv
import http.server
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from harness.devices import camera
from harness.devices.camera import (
    CameraStopped,
    CameraUnavailable,
    CaptureSource,
    Frame,
    FrameRecorder,
    FrameSizeChanged,
    RecordingSource,
    VideoFileSource,
    open_source,
    sidecar_path,
)
from harness.emulation.box.mjpeg import MjpegServer
from harness.errors import BadInput, RigError
from harness.model.clock import RealClock, VirtualClock

W, H = 160, 120
# Uneven, unrounded virtual times: a replay that recomputed them from fps would differ.
TIMES = [0.0, 0.137, 0.5, 1.0 / 3.0, 2.25, 2.2500001, 7.0, 31.415926535]


def picture(i: int, w: int = W, h: int = H) -> np.ndarray:
    """A frame whose content moves with ``i``, so frames can be told apart."""
    image = np.full((h, w, 3), (40, 20 + 10 * i, 60), np.uint8)
    cv2.rectangle(image, (5 + 12 * i, 10), (35 + 12 * i, 50), (0, 200, 255), -1)
    cv2.putText(image, str(i), (w // 2, h - 20), cv2.FONT_HERSHEY_SIMPLEX, 1, (255,) * 3, 2)
    return image


def diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def record(path: Path, times: list[float] = TIMES, fps: float = 10.0) -> list[np.ndarray]:
    images = [picture(i) for i in range(len(times))]
    with FrameRecorder(path, fps=fps) as rec:
        for i, (image, t) in enumerate(zip(images, times, strict=True)):
            rec.write(Frame(image, t, i, "cam1"))
    return images


def read_all(source: camera.FrameSource) -> tuple[list[Frame], CameraStopped]:
    frames = []
    while True:
        try:
            frames.append(source.read())
        except CameraStopped as stop:
            return frames, stop


def test_replay_gives_recorded_frames_with_exact_times(tmp_path: Path) -> None:
    path = tmp_path / "run.avi"
    images = record(path)
    assert path.stat().st_size > 0
    rows = list(csv.reader(sidecar_path(path).open()))
    assert rows[0] == ["index", "t"] and len(rows) == len(TIMES) + 1

    with VideoFileSource(path) as replay:
        assert replay.timestamps == "sidecar" and replay.name == "run.avi"
        frames, stop = read_all(replay)
    assert [f.t for f in frames] == TIMES  # exact, not approximately
    assert [f.index for f in frames] == list(range(len(TIMES)))
    assert {f.source for f in frames} == {"run.avi"}
    for i, frame in enumerate(frames):
        assert frame.image.shape == (H, W, 3) and frame.image.dtype == np.uint8
        # MJPG is lossy: close to its own original, and clearly closer to it than to the
        # neighbours (catches a shifted or reordered replay).
        own = diff(frame.image, images[i])
        assert own < 4.0
        for j in (i - 1, i + 1):
            if 0 <= j < len(images):
                assert own * 3 < diff(frame.image, images[j])
    assert stop.why == "end of video" and stop.source == "run.avi"
    assert "end of video" in str(stop)


def test_end_of_video_stays_ended(tmp_path: Path) -> None:
    path = tmp_path / "run.avi"
    record(path, TIMES[:2])
    replay = VideoFileSource(path, name="bench-cam")
    replay.read(), replay.read()
    for _ in range(2):
        with pytest.raises(CameraStopped, match=r"camera bench-cam: no frame \(end of video\)"):
            replay.read()
    replay.close()
    with pytest.raises(CameraStopped, match="closed"):
        replay.read()


def test_replay_without_sidecar_uses_the_videos_own_times(tmp_path: Path) -> None:
    path = tmp_path / "run.avi"
    record(path, TIMES[:6], fps=5.0)
    sidecar_path(path).unlink()
    with VideoFileSource(path) as replay:
        assert replay.timestamps == "video" and replay.fps == pytest.approx(5.0)
        frames, _ = read_all(replay)
    assert [f.t for f in frames] == pytest.approx([i / 5.0 for i in range(6)])


def test_given_times_override_the_sidecar(tmp_path: Path) -> None:
    path = tmp_path / "run.avi"
    record(path, TIMES[:3])
    with VideoFileSource(path, times=[10.0, 11.0, 12.5]) as replay:
        frames, _ = read_all(replay)
    assert [f.t for f in frames] == [10.0, 11.0, 12.5]


def test_frames_past_a_short_sidecar_continue_at_the_frame_rate(tmp_path: Path) -> None:
    path = tmp_path / "run.avi"
    record(path, [0.0, 1.0, 2.0, 3.0], fps=4.0)
    side = sidecar_path(path)
    side.write_text("\n".join(side.read_text().splitlines()[:3]) + "\n")  # rows 0 and 1
    with VideoFileSource(path) as replay:
        frames, _ = read_all(replay)
    assert [f.t for f in frames] == pytest.approx([0.0, 1.0, 1.25, 1.5])


def test_a_broken_sidecar_is_reported_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "run.avi"
    record(path, TIMES[:3])
    sidecar_path(path).write_text("index,t\n0,0.0\n1,zero\n")
    with pytest.raises(BadInput, match=r"run\.avi\.frames\.csv:3: .*zero"):
        VideoFileSource(path)


def test_missing_or_unreadable_video_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(RigError, match=r"nothere\.avi: does not exist"):
        VideoFileSource(tmp_path / "nothere.avi")
    junk = tmp_path / "junk.avi"
    junk.write_text("not a video")
    with pytest.raises(RigError, match=r"junk\.avi: OpenCV cannot read it"):
        VideoFileSource(junk)


@pytest.mark.parametrize("device", ["/dev/video99", 99, "99"])
def test_capture_of_a_missing_camera_says_what_to_check(device: int | str) -> None:
    with pytest.raises(CameraUnavailable) as info:
        CaptureSource("bench-cam", device, VirtualClock())
    message = str(info.value)
    assert message.startswith("camera bench-cam: cannot open video device")
    assert "99" in message and "check:" in message and "v4l2-ctl" in message
    assert "OpenCV" not in message and "cv2" not in message
    assert isinstance(info.value, CameraStopped)  # one except clause covers both


def test_capture_url_password_is_not_shown() -> None:
    with pytest.raises(CameraUnavailable) as info:
        CaptureSource("door", "rtsp://admin:hunter2@127.0.0.1:9/stream", VirtualClock())
    assert "hunter2" not in str(info.value) and "admin:***@127.0.0.1" in str(info.value)


def test_capture_stamps_frames_with_the_bench_clock(tmp_path: Path) -> None:
    path = tmp_path / "run.avi"
    images = record(path, TIMES[:4])
    clock = VirtualClock(start=100.0)
    with CaptureSource("bench-cam", str(path), clock, exposure=50.0) as cam:
        # A video file takes no exposure setting: recorded, not fatal.
        assert cam.exposure_locked is False and cam.white_balance_locked is False
        assert cam.size == (W, H)
        seen = []
        for step in (0.0, 0.25, 3.0, 0.5):
            clock.advance(step)
            seen.append(cam.read())
    assert [f.t for f in seen] == [100.0, 100.25, 103.25, 103.75]  # the clock, not the file
    assert [f.index for f in seen] == [0, 1, 2, 3]
    assert {f.source for f in seen} == {"bench-cam"}
    assert all(diff(f.image, images[i]) < 4.0 for i, f in enumerate(seen))
    assert cam.closed
    with pytest.raises(CameraStopped, match="closed"):
        cam.read()


class FakeDriver:
    """Camera controls as a driver keeps them: V4L2 takes the menu value truncated to int
    (1 = manual, 3 = aperture priority, anything else refused) and clamps exposure."""

    def __init__(self, manual: float | None, exposure_max: float = 2047) -> None:
        self.manual, self.exposure_max = manual, exposure_max
        self.values: dict[int, float] = {cv2.CAP_PROP_AUTO_EXPOSURE: 3}

    def set(self, prop: int, value: float) -> bool:
        if prop == cv2.CAP_PROP_AUTO_EXPOSURE:
            if self.manual is None or value not in (self.manual, 3, 0.75):
                return False
        elif prop == cv2.CAP_PROP_EXPOSURE:
            value = min(value, self.exposure_max)
        self.values[prop] = value
        return True

    def get(self, prop: int) -> float:
        return self.values.get(prop, 0.0)


@pytest.mark.parametrize(
    "backend, driver, exposure, locked",
    [
        ("V4L2", FakeDriver(manual=1), 150.0, True),
        ("V4L2", FakeDriver(manual=1), 5000.0, False),  # clamped: not what was asked
        ("DSHOW", FakeDriver(manual=0.25), -6.0, True),
        ("V4L2", FakeDriver(manual=None), 150.0, False),  # no manual mode at all
    ],
)
def test_exposure_is_locked_only_when_the_driver_keeps_it(
    tmp_path: Path, backend: str, driver: FakeDriver, exposure: float, locked: bool
) -> None:
    path = tmp_path / "run.avi"
    record(path, TIMES[:1])
    with CaptureSource("bench-cam", path, VirtualClock()) as cam:
        cam.backend = backend
        assert cam._lock_exposure(driver, exposure) is locked
    if locked:
        assert driver.values[cv2.CAP_PROP_AUTO_EXPOSURE] == driver.manual
        assert driver.values[cv2.CAP_PROP_EXPOSURE] == exposure


def test_camera_that_stops_mid_run_keeps_what_was_recorded(tmp_path: Path) -> None:
    live = tmp_path / "live.avi"
    record(live, TIMES[:5])
    clock = VirtualClock()
    kept = tmp_path / "kept" / "bench-cam.avi"  # the folder does not exist yet
    source = RecordingSource(CaptureSource("bench-cam", live, clock), FrameRecorder(kept))
    assert source.name == "bench-cam"
    read = []
    with pytest.raises(CameraStopped) as info:
        while True:
            clock.advance(0.2)
            read.append(source.read())
    message = str(info.value)
    assert message.startswith("camera bench-cam: no frame")
    assert "after 5 frame(s)" in message and "check" in message
    with pytest.raises(CameraStopped):  # stays stopped, never silently resumes
        source.read()
    source.close()

    with VideoFileSource(kept) as replay:
        frames, _ = read_all(replay)
    assert len(frames) == len(read) == 5
    assert [f.t for f in frames] == [f.t for f in read]
    assert all(diff(a.image, b.image) < 4.0 for a, b in zip(frames, read, strict=True))


def test_a_crashed_recording_is_still_replayable(tmp_path: Path) -> None:
    """The process dies without close(): the sidecar has every frame's time, and the video
    every frame OpenCV had flushed (all but the last ~32 KiB)."""
    path = tmp_path / "crash.avi"
    n = 40
    script = textwrap.dedent(f"""
        import os
        import numpy as np
        from harness.devices.camera import FrameRecorder
        from harness.protocols import Frame
        rec = FrameRecorder({str(path)!r}, fps=10.0)
        rng = np.random.default_rng(1)
        for i in range(40):
            image = rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)  # ~15 KiB as JPEG
            rec.write(Frame(image, 0.5 + i / 7, i, "cam"))
        os._exit(0)
    """)
    subprocess.run([sys.executable, "-c", script], check=True, cwd=Path(__file__).parents[1])
    assert len(sidecar_path(path).read_text().splitlines()) == n + 1
    with VideoFileSource(path) as replay:
        frames, stop = read_all(replay)
    assert stop.why == "end of video"
    assert n - 4 <= len(frames) < n
    assert [f.t for f in frames] == [0.5 + i / 7 for i in range(len(frames))]


def test_frame_of_another_size_is_refused_and_the_recording_survives(tmp_path: Path) -> None:
    path = tmp_path / "run.avi"
    rec = FrameRecorder(path)
    rec.write(Frame(picture(0), 0.0, 0, "cam1"))
    with pytest.raises(FrameSizeChanged, match=r"frame 1 of cam1 is 320x240, .* 160x120"):
        rec.write(Frame(picture(1, 320, 240), 0.1, 1, "cam1"))
    rec.write(Frame(picture(2), 0.2, 2, "cam1"))
    rec.close()
    assert rec.frames == 2
    with pytest.raises(RigError, match="closed"):
        rec.write(Frame(picture(3), 0.3, 3, "cam1"))
    with VideoFileSource(path) as replay:
        frames, _ = read_all(replay)
    assert [f.t for f in frames] == [0.0, 0.2]


def test_grey_frames_are_recorded_as_bgr(tmp_path: Path) -> None:
    path = tmp_path / "grey.avi"
    grey = cv2.cvtColor(picture(1), cv2.COLOR_BGR2GRAY)
    with FrameRecorder(path) as rec:
        rec.write(Frame(grey, 1.0, 0, "cam1"))
    with VideoFileSource(path) as replay:
        frame = replay.read()
    assert frame.image.shape == (H, W, 3)
    assert diff(frame.image, cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)) < 4.0


def test_recorder_wants_avi_and_creates_nothing_before_a_frame(tmp_path: Path) -> None:
    with pytest.raises(RigError, match=r"MJPG in AVI; name it \.avi"):
        FrameRecorder(tmp_path / "run.mp4")
    rec = FrameRecorder(tmp_path / "sub" / "run.avi")
    rec.close()
    assert not (tmp_path / "sub").exists()


class FakeCapture:
    def __init__(self, name: str, device: object, clock: object, **settings: object) -> None:
        self.name, self.device, self.settings = name, device, settings


@pytest.mark.parametrize(
    "spec, device",
    [
        (0, 0),
        ("2", "2"),
        ("/dev/video2", "/dev/video2"),
        ("/dev/v4l/by-path/pci-0000:00:14.0-usb-0:3:1.0-video-index0", None),
        ("rtsp://10.0.0.5/stream1", "rtsp://10.0.0.5/stream1"),
        ("http://10.0.0.5/mjpg", "http://10.0.0.5/mjpg"),
    ],
)
def test_open_source_picks_capture_for_devices_and_urls(
    monkeypatch: pytest.MonkeyPatch, spec: str | int, device: str | int | None
) -> None:
    monkeypatch.setattr(camera, "CaptureSource", FakeCapture)
    source = open_source(spec, "bench-cam", VirtualClock(), exposure=20.0)
    assert isinstance(source, FakeCapture)
    assert source.name == "bench-cam" and source.device == (spec if device is None else device)
    assert source.settings["exposure"] == 20.0


def test_open_source_picks_replay_for_video_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(camera, "CaptureSource", FakeCapture)
    path = tmp_path / "run.avi"
    record(path, TIMES[:2])
    odd = tmp_path / "recording.video"  # no known ending, but an existing file
    odd.write_bytes(path.read_bytes())
    for spec in (str(path), path, str(odd)):
        source = open_source(spec, "bench-cam", VirtualClock())
        assert isinstance(source, VideoFileSource) and source.name == "bench-cam"
        source.close()
    with pytest.raises(RigError, match=r"missing\.mkv: does not exist"):
        open_source(str(tmp_path / "missing.mkv"), "bench-cam", VirtualClock())
    with pytest.raises(RigError, match="neither 'emulated'"):
        open_source(str(tmp_path / "nothing-here"), "bench-cam", VirtualClock())


def test_open_source_leaves_emulated_to_the_caller() -> None:
    with pytest.raises(RigError, match="emulated"):
        open_source("emulated", "bench-cam", VirtualClock())
    marker = object()
    assert open_source("emulated", "bench-cam", VirtualClock(), emulated=lambda: marker) is marker


class QueuingV4L2:
    """A V4L2 camera as its driver serves it: frames captured at ``fps`` into a queue of
    ``buffers`` buffers; when every buffer is filled and none dequeued, new frames are
    dropped; ``grab`` dequeues the *oldest* (waiting for one when the queue is empty).
    Each picture holds its capture time (wall seconds since opening) in its first pixels."""

    def __init__(self, arg: object, api: int, *params: object) -> None:
        import threading
        import time

        self.time, self.fps, self.buffers = time, 30.0, 4
        self.start = time.monotonic()
        self.next_capture = 0
        self.queue: list[float] = []
        self.current: float | None = None
        self.lock = threading.Lock()
        self.open = True

    def _capture(self) -> None:
        now = self.time.monotonic() - self.start
        while self.next_capture / self.fps <= now:
            if len(self.queue) < self.buffers:
                self.queue.append(self.next_capture / self.fps)
            self.next_capture += 1

    def isOpened(self) -> bool:  # noqa: N802 (OpenCV's names)
        return self.open

    def getBackendName(self) -> str:  # noqa: N802
        return "V4L2"

    def set(self, prop: int, value: float) -> bool:
        return prop == cv2.CAP_PROP_BUFFERSIZE  # "accepted"; the driver keeps its 4 anyway

    def get(self, prop: int) -> float:
        return 0.0

    def grab(self) -> bool:
        while self.open:
            with self.lock:
                self._capture()
                if self.queue:
                    self.current = self.queue.pop(0)
                    return True
            self.time.sleep(0.005)
        return False

    def retrieve(self) -> tuple[bool, np.ndarray | None]:
        image = np.zeros((8, 8, 3), np.uint8)
        # The capture time, in the picture's first 8 bytes.
        image.reshape(-1)[:8] = np.frombuffer(np.float64(self.current).tobytes(), np.uint8)
        return True, image

    def read(self) -> tuple[bool, np.ndarray | None]:
        return (self.grab() and True), self.retrieve()[1]

    def release(self) -> None:
        self.open = False


def test_a_v4l2_camera_gives_its_newest_frame_not_the_oldest_queued(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """huntR R8: a V4L2 camera read only when the rig looks hands out the buffer its driver
    queued right after the previous look; the rig must see the screen as it is now."""
    import time

    from harness.model.clock import RealClock

    monkeypatch.setattr(camera.cv2, "VideoCapture", QueuingV4L2)
    cam = CaptureSource("bench-cam", "/dev/video7", RealClock())
    try:
        fake = cam._cap
        cam.read()
        for _ in range(3):
            time.sleep(0.5)  # the rig busy elsewhere between two looks
            frame = cam.read()
            captured = float(np.frombuffer(frame.image.reshape(-1)[:8].tobytes(), np.float64)[0])
            now = time.monotonic() - fake.start
            assert now - captured < 0.2, f"a frame {now - captured:.2f} s old, given as new"
    finally:
        cam.close()


def test_a_cameras_latency_is_taken_off_its_frames_times(tmp_path: Path) -> None:
    """huntR R11: a camera whose picture lags the screen by its declared latency: the frame
    showed on the screen that long before it came."""
    path = tmp_path / "run.avi"
    record(path, TIMES[:2])
    clock = VirtualClock(start=100.0)
    with CaptureSource("bench-cam", str(path), clock, latency_s=1.5) as cam:
        assert cam.read().t == 98.5


# -- network streams ---------------------------------------------------------------------------

def _smooth_image(height: int, width: int) -> np.ndarray:
    noise = np.random.default_rng(3).integers(0, 256, (height, width, 3), dtype=np.uint8)
    return cv2.GaussianBlur(noise, (0, 0), 3)


def test_an_mjpeg_stream_decodes_only_the_frames_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """An MJPEG stream's frames are taken as they come (each stamped on arrival) but only
    those the rig reads are decoded: a 30 fps camera would else spend a core's share
    decoding frames nobody looks at. What is read is the frame sent."""
    clock = RealClock()
    image = _smooth_image(720, 1280)
    server = MjpegServer({"cam": lambda: Frame(image, clock.now(), 0, "cam")}, fps=20)
    decoded: list[int] = []
    decode = cv2.imdecode
    monkeypatch.setattr(camera.cv2, "imdecode", lambda *a: decoded.append(1) or decode(*a))
    source = CaptureSource("cam", server.url("cam"), clock)
    try:
        assert source.compressed and source.size == (1280, 720)
        first = source.read()
        time.sleep(0.6)
        second = source.read()
        # (More frames came than were read, however loaded the machine: at least 4.)
        assert server.frames_sent >= 4 and len(decoded) == 2, (server.frames_sent, decoded)
        for frame in (first, second):
            assert frame.image.shape == image.shape
            assert np.abs(frame.image.astype(int) - image).mean() < 3
        assert first.t < second.t <= clock.now()
    finally:
        source.close()
        server.close()


class _Stream(http.server.BaseHTTPRequestHandler):
    """A multipart MJPEG stream of ``good`` (a JPEG), whose parts stop being JPEG images
    after ``bad_after``."""

    good = b""
    bad_after = 5

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.send_response(200)
        self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
        self.end_headers()
        with contextlib.suppress(OSError):
            for i in range(200):
                data = self.good if i < self.bad_after else b"\xff\xd8 not a picture " * 40
                self.wfile.write(b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: "
                                 + str(len(data)).encode() + b"\r\n\r\n" + data + b"\r\n")
                self.wfile.flush()
                time.sleep(0.05)

    def log_message(self, *args: object) -> None:
        pass


@contextlib.contextmanager
def _streaming(good: bytes, bad_after: int) -> Iterator[CaptureSource]:
    handler = type("Handler", (_Stream,), {"good": good, "bad_after": bad_after})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    source = CaptureSource("cam", f"http://127.0.0.1:{server.server_port}/cam.mjpg",
                           RealClock())
    try:
        yield source
    finally:
        source.close()
        server.shutdown()
        server.server_close()


def test_a_stream_part_that_is_no_jpeg_stops_the_camera_with_its_reason() -> None:
    """Fail closed: a part that does not decode is no frame; the camera stops and says why
    (it is never passed over for the next part)."""
    good = cv2.imencode(".jpg", _smooth_image(240, 320))[1].tobytes()
    with _streaming(good, bad_after=5) as source:
        assert source.compressed
        with pytest.raises(CameraStopped) as stopped:
            for _ in range(100):
                source.read()
        assert "no JPEG image" in str(stopped.value)
        with pytest.raises(CameraStopped):  # and it stays stopped
            source.read()


def test_a_streams_jpeg_orientation_tag_does_not_turn_its_frames() -> None:
    """A camera's JPEG may carry an EXIF orientation (a rotated mount): the stream's frames
    stay as sent, the size the stream says (as a decoder of the stream keeps them)."""
    plain = cv2.imencode(".jpg", _smooth_image(240, 320))[1].tobytes()
    ifd = b"\x00\x01" + b"\x01\x12\x00\x03\x00\x00\x00\x01\x00\x06\x00\x00" + b"\x00" * 4
    exif = b"Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08" + ifd
    tagged = plain[:2] + b"\xff\xe1" + (len(exif) + 2).to_bytes(2, "big") + exif + plain[2:]
    assert cv2.imdecode(np.frombuffer(tagged, np.uint8), cv2.IMREAD_COLOR).shape[:2] == (320, 240)
    with _streaming(tagged, bad_after=10_000) as source:
        assert source.compressed
        assert source.read().image.shape == (240, 320, 3)


def test_an_empty_stream_packet_stops_the_camera_with_its_reason() -> None:
    """OpenCV raises on an empty packet rather than giving no image: still a stop, said."""
    good = cv2.imencode(".jpg", _smooth_image(240, 320))[1].tobytes()
    with _streaming(good, bad_after=10_000) as source:
        assert source.compressed
        source.read()
        source._newest = lambda: (True, (np.zeros((1, 0), np.uint8), 0.0))  # type: ignore[method-assign]
        with pytest.raises(CameraStopped) as stopped:
            source.read()
        assert "OpenCV said" in str(stopped.value)
