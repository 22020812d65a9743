"""An emulated camera gives a scene filmed before (by it, or by a camera that films alike)
as one of the frames kept of it (harness/emulation/scene_frames.py), and the rig reads and
classifies the same pixels once: what the flows' speed rests on. A kept frame handed out
where a real camera's could not be (the same bytes twice in a row, after a freeze, from
another pose, outside the region the rig reads) would hide a frozen camera or skip a look,
so each of those films afresh."""

from __future__ import annotations

import numpy as np
import pytest
from twin_helpers import started_world

from harness.emulation import scene_frames
from harness.emulation.camera_model import CameraEffects, CameraModel
from harness.emulation.device_spec import load_device_spec
from harness.emulation.scene_frames import VARIANTS
from harness.emulation.screen_renderer import Drawn
from harness.emulation.screen_source import EmulatedScreenSource, primed_renderer, reader_camera
from harness.emulation.world import maker_file
from harness.flows.runner import REJUDGE
from harness.model.clock import VirtualClock
from harness.protocols import PixelBox
from harness.vision import locate as locate_module
from harness.vision import watcher as watcher_module
from harness.vision.classify import Classifier, ClassifierParams
from harness.vision.reference import ReferenceSet, screens_dir_for
from harness.vision.watcher import ScreenWatcher

FIRST = Drawn("first", "first", ("マイナンバーカードを置いてください",))
OTHER = Drawn("first", "first", ("顔認証を開始します",))


class Scenes:
    """A Canon camera on a screen the test switches, the rig reading ``region``."""

    def __init__(self, effects: CameraEffects | None = None, seed: int = 5) -> None:
        self.clock = VirtualClock()
        self.drawn = FIRST
        renderer = primed_renderer(load_device_spec(maker_file("canon")).display, "canon")
        self.source = EmulatedScreenSource("cam", lambda: self.drawn, renderer, self.clock,
                                           CameraModel(seed=seed, effects=effects))
        self.source.vouches_still = True
        quad = self.source.camera.capture(renderer.render(FIRST, 0.0, None).image, 0.0).quad
        (x0, y0), (x1, y1) = np.floor(quad.min(axis=0)), np.ceil(quad.max(axis=0))
        self.region: PixelBox = (int(x0) - 2, int(y0) - 2, int(x1) + 3, int(y1) + 3)
        self.source.read_out(self.region)

    def film(self, drawn: Drawn) -> np.ndarray:
        """The region the rig reads of a frame of ``drawn``, a second later."""
        self.drawn = drawn
        self.clock.sleep(1.0)
        x0, y0, x1, y1 = self.region
        return self.source.read().image[y0:y1, x0:x1].copy()


def test_a_scene_come_back_to_is_given_as_last_filmed_never_twice_in_a_row() -> None:
    scenes = Scenes()
    first = scenes.film(FIRST)
    other = scenes.film(OTHER)
    again = scenes.film(FIRST)
    assert np.array_equal(again, first)  # the return: as filmed the last time
    # The same scene as the frame before: filmed afresh (a live sensor's new noise), so two
    # frames in a row never share their bytes.
    fresh = scenes.film(FIRST)
    assert not np.array_equal(fresh, again)
    # ... and the newest frame of a scene is the one given on the next return.
    assert np.array_equal(scenes.film(OTHER), other)
    assert np.array_equal(scenes.film(FIRST), fresh)


def test_a_scene_that_stays_is_filmed_until_it_has_its_frames_then_they_take_turns() -> None:
    """Looks at a screen that stays (an unknown one looked at each time, a text judged
    again) get VARIANTS different frames, then those again in turn: never one twice in a
    row, and each judgement of a text (REJUDGE more after the first) a new frame."""
    assert VARIANTS > REJUDGE
    scenes = Scenes()
    frames = [scenes.film(FIRST) for _ in range(3 * VARIANTS)]
    distinct: list[np.ndarray] = []
    for frame in frames:
        if not any(np.array_equal(frame, d) for d in distinct):
            distinct.append(frame)
    assert len(distinct) == VARIANTS
    assert all(np.array_equal(f, d) for f, d in zip(frames[:VARIANTS], distinct, strict=True))
    for k in range(VARIANTS, len(frames)):  # in turn: the one filmed VARIANTS looks before
        assert np.array_equal(frames[k], frames[k - VARIANTS])
        assert not np.array_equal(frames[k], frames[k - 1])


def test_a_kept_frame_is_a_new_array_with_its_own_index() -> None:
    scenes = Scenes()
    first = scenes.film(FIRST)
    scenes.film(OTHER)
    scenes.drawn = FIRST
    scenes.clock.sleep(1.0)
    frame = scenes.source.read()
    x0, y0, x1, y1 = scenes.region
    assert frame.index == 2 and np.array_equal(frame.image[y0:y1, x0:x1], first)
    frame.image[:] = 0  # the consumer's own buffer: what is kept is not touched
    scenes.film(OTHER)
    assert np.array_equal(scenes.film(FIRST), first)


@pytest.fixture(autouse=True)
def own_store(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test its own kept frames (another test's Canon camera films alike)."""
    monkeypatch.setattr(scene_frames, "_STORE", scene_frames._Store(scene_frames.BUDGET))


def test_a_camera_opened_again_films_alike_and_another_does_not() -> None:
    """The next test's bench: the same camera (seed, frame, effects, pose) opened again
    gets the frames kept of a scene; a camera of another seed (another pose) films afresh."""
    scenes = Scenes()
    first = scenes.film(FIRST)
    scenes.film(OTHER)
    again = Scenes()
    again.film(OTHER)  # its own first frame: what a kept region is pasted into
    assert np.array_equal(again.film(FIRST), first)
    other = Scenes(seed=6)
    other.film(OTHER)
    assert not np.array_equal(other.film(FIRST), first)


@pytest.mark.parametrize("case", ["no region", "no vouching", "a desk", "a lag", "a knock",
                                  "forgotten"])
def test_a_return_is_filmed_afresh_where_a_kept_frame_could_mislead(
        case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    scenes = Scenes(CameraEffects(finger=0.3) if case == "a desk" else None)
    source = scenes.source
    first = scenes.film(FIRST)
    scenes.film(OTHER)
    if case == "no region":  # the rig may read anywhere: every pixel must be this frame's
        source.read_out(None)
    elif case == "no vouching":  # a test of the vision on every frame
        source.vouches_still = False
    elif case == "a lag":  # a stream's frames arrive late: the scene of then
        source.lag_s = 0.5
    elif case == "a knock":  # another pose: another picture
        source.camera.bump()
        scenes.film(OTHER)
    elif case == "forgotten":  # more scenes filmed since than the budget keeps
        monkeypatch.setattr(scene_frames._STORE, "budget", 3 * first.nbytes)
        for k in range(3):
            scenes.film(Drawn("first", "first", (f"{k}",)))
    assert not np.array_equal(scenes.film(FIRST), first)


def test_a_camera_back_from_a_freeze_gives_new_bytes() -> None:
    """A frozen camera re-delivers the last frame; the first frame after it must not be the
    same bytes again (the rig would count the freeze on), though its scene was filmed."""
    scenes = Scenes()
    scenes.film(FIRST)
    scenes.film(OTHER)
    kept = scenes.film(FIRST)  # a return: the kept frame, and the one the freeze repeats
    scenes.source.frozen = True
    assert np.array_equal(scenes.film(FIRST), kept)
    scenes.source.frozen = False
    assert not np.array_equal(scenes.film(FIRST), kept)


def _counted_watcher(monkeypatch: pytest.MonkeyPatch, classified: list[int],
                     params: ClassifierParams | None = None) -> tuple[object, ScreenWatcher]:
    """A Canon bench's world and its camera's watcher, started: each classification of a
    frame counted in ``classified``."""
    world, reader = started_world("canon")
    renderer = primed_renderer(load_device_spec(maker_file("canon")).display, "canon")
    source = reader_camera("cam-canon", reader, renderer, world.clock, seed=3)
    source.vouches_still = True
    classifier = Classifier(ReferenceSet.load(screens_dir_for("canon")), params)
    classify = classifier.classify_frame
    monkeypatch.setattr(classifier, "classify_frame",
                        lambda frame, *a, **k: classified.append(1) or classify(frame, *a, **k))
    watcher = ScreenWatcher(source, classifier, world.clock, interval_s=0.5)
    for _ in range(4):  # the keeper's ring taken and the region known
        world.clock.sleep(1.0)
        watcher.look(fresh=True)
    assert watcher.keeper.read_region() is not None
    return world, watcher


def test_the_same_pixels_are_classified_and_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # What this process decided before (another test's benches) is not this test's to count.
    locate_module._DECIDED.clear()
    watcher_module._JUDGED.clear()
    classified: list[int] = []
    reads: list[int] = []
    read = watcher_module.read_text
    monkeypatch.setattr(watcher_module, "read_text",
                        lambda reading: reads.append(1) or read(reading))
    world, watcher = _counted_watcher(monkeypatch, classified)
    obs = watcher.last
    assert obs is not None
    frame = obs.frame
    calls = len(classified)
    texts = ("マイナンバーカードを置いてください",)
    first = watcher.read_texts(obs, texts)
    # The same frame again: classified and read from what was decided on its pixels.
    assert watcher.keeper.classify(frame.image)[0].state == obs.state == "first"
    assert len(classified) == calls and len(reads) == 1
    again = watcher.read_texts(obs, texts)
    assert len(reads) == 1 and again[1] == first[1] and again[0].lines == first[0].lines
    # Other texts to judge, or another pixel: judged again.
    other = watcher.read_texts(obs, texts, absent=("高額療養費",))
    assert len(reads) == 2 and [c.expected for c in other[1]] == [*texts, "高額療養費"]
    changed = frame.image.copy()
    x0, y0, x1, y1 = watcher.keeper.read_region()
    changed[(y0 + y1) // 2, (x0 + x1) // 2] ^= 1
    watcher.keeper.classify(changed)
    assert len(classified) == calls + 1
    # A bench opened again (its own classifier of the same references): pixels the other
    # bench's keeper decided, and a screen it read, are not decided nor read again; the
    # decision's screen, shared by both, cannot be written.
    replay: list[int] = []
    _, replayed = _counted_watcher(monkeypatch, replay)
    assert replayed.keeper.calibration is not None and watcher.keeper.calibration is not None
    assert np.array_equal(replayed.keeper.calibration.quad, watcher.keeper.calibration.quad)
    calls_replayed = len(replay)
    shared = replayed.keeper.classify(changed)[0]
    assert shared.state == "first" and shared.screen is not None
    assert not shared.screen.flags.writeable
    assert len(replay) == calls_replayed
    assert replayed.read_texts(obs, texts)[1] == first[1] and len(reads) == 2
    # ... but a classifier with other parameters decides for itself.
    tuned: list[int] = []
    _, other = _counted_watcher(monkeypatch, tuned, ClassifierParams(accept=0.79))
    assert other.keeper.calibration is not None
    assert np.array_equal(other.keeper.calibration.quad, watcher.keeper.calibration.quad)
    calls_tuned = len(tuned)
    other.keeper.classify(changed)  # decided with the default parameters above
    assert len(tuned) == calls_tuned + 1
    # A real camera's next frame (new noise) is classified and read afresh.
    world.clock.sleep(1.0)
    new = watcher.look(fresh=True)
    assert len(classified) == calls + 2
    watcher.read_texts(new, texts)
    assert len(reads) == 3


def test_a_camera_opened_again_replaying_the_same_looks_never_repeats_a_frame() -> None:
    """The next test's bench does what the last one did: its camera films the very frames
    the other filmed at the same moments. Mixed with the other's kept frames, two of its
    frames in a row must still never be the same bytes (a frozen camera to the rig)."""
    for looks in ([FIRST] * 2, [FIRST] * 6, [FIRST, OTHER, FIRST, FIRST, OTHER, FIRST, FIRST]):
        frames = [scenes.film(drawn) for scenes in (Scenes(), Scenes()) for drawn in looks]
        assert not any(np.array_equal(a, b) for a, b in zip(frames, frames[1:], strict=False)
                       if a is not frames[len(looks) - 1])


def test_the_same_bytes_are_kept_once_and_never_handed_out_twice_in_a_row() -> None:
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, (120, 200, 3), np.uint8)
    region: PixelBox = (10, 20, 150, 100)
    one = scene_frames.SceneFrames()
    assert one.filmed("scene", region, image)
    # The same bytes filmed again, just after they were handed out: not to be handed out.
    assert not one.filmed("scene", region, image.copy())
    # Another camera filming them (the same moment of a bench opened again): kept once.
    other = scene_frames.SceneFrames()
    assert other.filmed("scene", region, image.copy())
    assert len(scene_frames._STORE.get("scene")) == 1
    changed = image.copy()
    changed[50, 50, 0] ^= 1
    assert one.filmed("scene", region, changed)
    assert len(scene_frames._STORE.get("scene")) == 2
    # The scene stays before the lens with fewer than VARIANTS frames: filmed again.
    assert one.again("scene", region) is None
