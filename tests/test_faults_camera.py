"""Bench faults on a camera (issue 15 item 3): ``camera.frozen`` and ``camera.stopped``
injected on the emulated bench are noticed by the rig's watcher on its own, named, within
their bounds (harness.vision.camera_faults), and the same bench watches normally once they
are cleared. A healthy camera never trips them."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from flow_helpers import DEFAULT_BENCH, load_profiles, open_bench, run_judged

from harness.bench import Bench
from harness.devices.camera import CaptureSource, FrameRecorder
from harness.emulation.camera_model import CameraEffects, CameraModel
from harness.emulation.screen_source import EmulatedScreenSource
from harness.errors import BenchFault
from harness.model.clock import VirtualClock
from harness.protocols import Frame
from harness.vision.camera_faults import (
    FROZEN_LOOKS,
    FROZEN_S,
    STOPPED_BOUND_S,
    STOPPED_RETRY_S,
    FreezeWatch,
    repeats_frames,
)
from harness.vision.watcher import ScreenWatcher

READER = "canon"
#: Bench seconds between the looks of these tests (the watcher's own interval).
STEP_S = 0.25


@pytest.fixture(scope="module")
def bench() -> Iterator[Bench]:
    yield from open_bench(DEFAULT_BENCH)


@pytest.fixture
def eyes(bench: Bench) -> Iterator[ScreenWatcher]:
    """The watcher on Canon's screen, healthy at the start of each test; faults cleared at
    its end (as the plugin's fixture does between tests)."""
    watcher = bench.watcher(READER)
    assert watcher.look().state == "first"
    yield watcher
    bench.faults.clear()


def camera(bench: Bench) -> str:
    return bench.camera_on(READER)


def looks_until_fault(bench: Bench, watcher: ScreenWatcher, limit: int = 40) -> BenchFault:
    for _ in range(limit):  # bounded: a fault never noticed fails the test, never hangs it
        try:
            watcher.look()
        except BenchFault as fault:
            return fault
        bench.clock.sleep(STEP_S)
    pytest.fail(f"no bench fault within {limit} looks")


# -- camera.frozen --------------------------------------------------------------------------
def test_a_frozen_camera_is_named_within_its_bound_and_the_next_look_is_normal(
        bench: Bench, eyes: ScreenWatcher) -> None:
    bench.clock.sleep(STEP_S)
    last_fresh = eyes.look()
    still = eyes.still_for()
    bench.faults.inject("camera.frozen", camera(bench))
    bench.clock.sleep(STEP_S)
    fault = looks_until_fault(bench, eyes)
    noticed = bench.clock.now()
    assert (fault.fault, fault.device) == ("camera.frozen", camera(bench))
    # The bound: both the bench seconds and the looks, noticed at the first look with both.
    assert FROZEN_S <= noticed - last_fresh.t < FROZEN_S + STEP_S
    looks = round((noticed - last_fresh.t) / STEP_S) + 1
    assert looks >= FROZEN_LOOKS
    assert fault.detail == (f"the same frame, byte for byte, since t={last_fresh.t:.2f} s "
                            f"({looks} looks)")
    assert fault.bound_s == FROZEN_S
    assert str(fault).startswith(f"bench fault (camera.frozen): {camera(bench)}: ")
    # The repeated frames were no news of the screen: it did not grow stiller on them.
    assert eyes.still_for() == still
    frozen = bench.timeline.events("camera.frozen")
    assert frozen and frozen[-1].data["detail"] == fault.detail
    # Still frozen: the next look says so again, it does not start counting afresh.
    with pytest.raises(BenchFault, match=r"camera\.frozen"):
        eyes.look()
    bench.faults.clear()
    # The same bench, the same watcher: it watches normally again.
    for _ in range(FROZEN_LOOKS + 2):
        bench.clock.sleep(1.0)
        assert eyes.look().state == "first"
    assert eyes.freeze.looks == 1


def test_a_frozen_camera_needs_bench_seconds_as_well_as_looks(bench: Bench,
                                                              eyes: ScreenWatcher) -> None:
    """Looks at one bench instant (virtual time standing still) add no seconds; few looks
    over a long time are not enough either."""
    bench.faults.inject("camera.frozen", camera(bench))
    for _ in range(FROZEN_LOOKS + 3):
        eyes.look()  # no time passes
    assert eyes.freeze.looks == FROZEN_LOOKS + 4
    bench.faults.clear()
    eyes.look()
    bench.faults.inject("camera.frozen", camera(bench))
    for _ in range(FROZEN_LOOKS - 2):
        bench.clock.sleep(10 * FROZEN_S)
        eyes.look()
    bench.clock.sleep(10 * FROZEN_S)
    with pytest.raises(BenchFault, match=r"camera\.frozen"):
        eyes.look()  # the FROZEN_LOOKS-th look at the same bytes


def test_a_long_still_screen_on_a_healthy_camera_is_no_freeze(
        bench: Bench, eyes: ScreenWatcher, monkeypatch: pytest.MonkeyPatch) -> None:
    """Canon's first screen for four minutes: not a pixel of the screen changes, the
    sensor's noise does; and two looks at one instant are two frames. Every look takes a
    frame here: the watcher is judged on a camera's frames, not on the bench's shortcut."""
    monkeypatch.setattr(eyes.source, "vouches_still", False)
    start = bench.clock.now()
    frozen_before = bench.timeline.events("camera.frozen")
    for _ in range(12):
        bench.clock.sleep(20.0)
        assert eyes.look().state == "first"
    assert bench.clock.now() - start == 240.0
    a, b = eyes.look(), eyes.look()
    assert a.t == b.t and not np.array_equal(a.frame.image, b.frame.image)
    assert eyes.freeze.looks == 1
    assert bench.timeline.events("camera.frozen") == frozen_before


def test_a_camera_without_noise_says_so_and_is_not_judged_frozen(
        bench: Bench, monkeypatch: pytest.MonkeyPatch) -> None:
    """An ideal emulated camera gives byte-identical frames of a still screen: they prove
    nothing, so the watcher counts them, never calls them a freeze, and says so once."""
    source = bench.camera(bench.camera_on("atlas"))
    assert isinstance(source, EmulatedScreenSource) and not source.repeats_frames
    ideal = CameraModel(seed=source.camera.seed, effects=CameraEffects.none())
    source.camera, noisy = ideal, source.camera
    # Every look a frame: the identical bytes are the point.
    monkeypatch.setattr(source, "vouches_still", False)
    try:
        assert source.repeats_frames
        watcher = bench.watcher("atlas")
        for _ in range(FROZEN_LOOKS + 2):
            watcher.look()
            bench.clock.sleep(FROZEN_S)
        assert watcher.freeze.looks == FROZEN_LOOKS + 2  # identical, byte for byte
        unchecked = bench.timeline.events("camera.freeze_unchecked", source=source.name)
        assert len(unchecked) == 1
    finally:
        source.camera = noisy


def test_freeze_watch_bounds_on_frames() -> None:
    """The rule itself, at its edges: the same bytes (in new buffers) for FROZEN_LOOKS looks
    and FROZEN_S seconds; a single changed byte starts afresh."""
    image = np.full((24, 32, 3), 90, np.uint8)
    watch = FreezeWatch("cam")
    times = [0.0, FROZEN_S / 2, FROZEN_S - 0.01]
    assert [watch.see(Frame(image.copy(), t, i, "cam")) for i, t in enumerate(times)] == \
        [False, True, True]
    changed = image.copy()
    changed[5, 7, 1] ^= 1
    assert not watch.see(Frame(changed, FROZEN_S, 3, "cam"))  # one byte: a new frame
    assert watch.see(Frame(changed.copy(), FROZEN_S + 1, 4, "cam"))
    with pytest.raises(BenchFault) as info:
        watch.see(Frame(changed.copy(), 2 * FROZEN_S, 5, "cam"))
    assert info.value.detail == (f"the same frame, byte for byte, since t={FROZEN_S:.2f} s "
                                 f"({FROZEN_LOOKS} looks)")


def test_a_real_cameras_frames_are_checked_and_pass(tmp_path: Path) -> None:
    """Through OpenCV's capture path (the recorded frames of a camera replayed as a capture
    device): a camera's frames of a still screen differ; the same buffer delivered again
    is a freeze."""
    model = CameraModel(seed=3, frame_size=(320, 240))
    screen = np.full((120, 200, 3), 200, np.uint8)
    still = [model.capture(screen, t).image for t in range(5)]
    video = tmp_path / "still.avi"
    with FrameRecorder(video) as recorder:
        for n, image in enumerate(still + [still[-1]] * 4):
            recorder.write(Frame(image, float(n), n, "cam"))
    clock = VirtualClock()
    watch = FreezeWatch("cam")
    with CaptureSource("cam", video, clock) as source:
        assert not getattr(source, "repeats_frames", False)  # a real camera is checked
        assert [watch.see(source.read()) for _ in still if clock.sleep(2.0) is None] == \
            [False] * 5
        assert watch.see(source.read()) and not clock.sleep(2.0)
        with pytest.raises(BenchFault, match=r"camera\.frozen"):
            for _ in range(3):
                clock.sleep(2.0)
                watch.see(source.read())


def test_a_capture_card_the_bench_file_names_is_not_judged_frozen(tmp_path: Path) -> None:
    """A bench camera marked ``noiseless`` (an HDMI capture card on the terminal's monitor):
    its identical frames of a still screen are normal, so the watcher does not call them
    frozen (and says on the timeline that it cannot tell); the same frames from a camera
    not so marked are a freeze."""
    video = tmp_path / "card.avi"
    image = np.full((240, 320, 3), 90, np.uint8)
    with FrameRecorder(video) as recorder:
        for n in range(8):
            recorder.write(Frame(image, float(n), n, "cam"))
    for noiseless in (True, False):
        bench_file = tmp_path / f"card-{noiseless}.yaml"
        bench_file.write_text(
            "bench: card\nkind: real\ncameras:\n"
            f"  - {{name: card, watches: terminal, source: {video.name}, "
            f"noiseless: {str(noiseless).lower()}}}\n", encoding="utf-8")
        bench = Bench.load(bench_file)
        source = bench.camera("card")
        # What the watcher asks of its source before judging freezes.
        assert repeats_frames(source) is noiseless
        watch = FreezeWatch("card", checked=not repeats_frames(source))
        looks = []
        with contextlib.suppress(BenchFault):
            for n in range(8):
                frame = source.read()
                looks.append(watch.see(Frame(frame.image, 2.0 * n, n, "card")))
        # A capture card's eight identical frames pass; a camera's are frozen at the bound.
        assert len(looks) == (8 if noiseless else FROZEN_LOOKS - 1), (noiseless, looks)
        bench.close()


# -- camera.stopped -------------------------------------------------------------------------
def test_a_stopped_camera_is_retried_for_its_bound_then_named(bench: Bench,
                                                              eyes: ScreenWatcher) -> None:
    bench.faults.inject("camera.stopped", camera(bench))
    start = bench.clock.now()
    with pytest.raises(BenchFault) as info:
        eyes.look()
    fault = info.value
    assert (fault.fault, fault.device, fault.bound_s) == ("camera.stopped", camera(bench),
                                                           STOPPED_BOUND_S)
    reads = round(STOPPED_BOUND_S / STOPPED_RETRY_S) + 1
    assert fault.detail.startswith(f"no frame since t={start:.2f} s (read {reads} times over "
                                   f"{STOPPED_BOUND_S:g} s): gave no frame after ")
    assert bench.clock.now() - start == pytest.approx(STOPPED_BOUND_S)
    stopped = bench.timeline.events("camera.stopped")
    assert stopped[-1].t == start and stopped[-1].source == camera(bench)
    bench.faults.clear()
    assert eyes.look().state == "first"
    assert eyes.stopped is None
    resumed = bench.timeline.events("camera.resumed")
    assert resumed[-1].t == bench.clock.now() and resumed[-1].data["after_s"] >= STOPPED_BOUND_S


def test_a_camera_back_within_the_bound_is_no_fault(bench: Bench, eyes: ScreenWatcher) -> None:
    """A gap shorter than the bound: the look goes on with the next frame, and the gap stays
    on the timeline."""
    bench.faults.inject("camera.stopped", camera(bench))
    start = bench.clock.now()
    bench.clock.call_later(STOPPED_BOUND_S / 2, bench.faults.clear)
    obs = eyes.look()
    assert obs.state == "first" and obs.t == start + STOPPED_BOUND_S / 2
    resumed = bench.timeline.events("camera.resumed")[-1]
    assert resumed.data == {"reads": round(STOPPED_BOUND_S / 2 / STOPPED_RETRY_S) + 1,
                            "after_s": STOPPED_BOUND_S / 2}


# -- a flow that was watching ---------------------------------------------------------------
@pytest.mark.parametrize("kind", ["camera.frozen", "camera.stopped"])
def test_a_flow_stops_with_the_bench_fault_and_the_next_run_passes(bench: Bench,
                                                                   kind: str) -> None:
    """Atlas's NO-POWER watches a dark, still screen: a frozen camera would pass it
    unseen. With the fault, the flow ends with it (not a verdict against Atlas); cleared,
    the same bench runs the same flow and every check holds."""
    profiles = load_profiles()
    flow = ("no_power", ("reader_unpowered",))
    cam = bench.camera_on("atlas")
    bench.faults.inject(kind, cam)
    try:
        with pytest.raises(BenchFault) as info:
            run_judged(bench, profiles, "atlas", flow)
    finally:
        bench.faults.clear()
    assert (info.value.fault, info.value.device) == (kind, cam)
    record, judged = run_judged(bench, profiles, "atlas", flow)
    assert judged and all(not problems for problems in judged.values()), judged
    assert record.screens


# -- frozen where the rig reads (huntR R5) ---------------------------------------------------
def test_a_frozen_picture_under_a_ticking_overlay_is_frozen(
        bench: Bench, eyes: ScreenWatcher, monkeypatch: pytest.MonkeyPatch) -> None:
    """A network camera whose sensor pipeline stalled while its encoder still draws its
    clock over the last buffer: the frame's bytes change every look, the screen's never do.
    Judged where the rig reads (the calibrated screen), that is a frozen camera."""
    import cv2

    still = eyes.look().frame.image.copy()
    region = eyes._freeze_region(eyes.last.frame)  # type: ignore[union-attr]
    assert region is not None
    # The overlay in the frame's top-left corner, outside the screen the rig reads.
    assert region[0] > 60 or region[1] > 30, region

    class OverlaidStill:
        name = eyes.source.name

        def read(self) -> Frame:
            image = still.copy()
            cv2.putText(image, f"{bench.clock.now():07.2f}", (2, 12),
                        cv2.FONT_HERSHEY_PLAIN, 0.8, (255, 255, 255), 1)
            return Frame(image, bench.clock.now(), 0, self.name)

        def close(self) -> None:
            pass

    monkeypatch.setattr(eyes, "source", OverlaidStill())
    fault = looks_until_fault(bench, eyes)
    assert fault.fault == "camera.frozen"


def test_freeze_watch_judges_the_region_it_is_given() -> None:
    rng = np.random.default_rng(1)
    still = rng.integers(0, 256, (120, 160, 3), dtype=np.uint8)
    screen = (40, 30, 150, 110)
    whole, part = FreezeWatch("cam"), FreezeWatch("cam")
    with pytest.raises(BenchFault, match=r"camera\.frozen"):
        for i in range(FROZEN_LOOKS + 2):
            image = still.copy()
            image[0:10, 0:30] = i  # the overlay's clock ticks outside the screen
            frame = Frame(image, i * FROZEN_S, i, "cam")
            assert not whole.see(frame)  # the whole frame changes every look
            part.see(frame, screen)
