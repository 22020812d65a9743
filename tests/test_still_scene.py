"""An emulated camera vouches for a still scene and the watcher skips the look: what the
certification's speed rests on. A vouch that missed a change would be a look that never
saw the reader do something, so each way the picture can change must end it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import attrs
import numpy as np
import pytest
from twin_helpers import check_in_by_face, patient, started_world

from harness.bench import Bench
from harness.devices.camera import CaptureSource, RecordingSource, VideoFileSource
from harness.emulation.device_spec import load_device_spec
from harness.emulation.hands import TwinHands
from harness.emulation.screen_renderer import Drawn
from harness.emulation.screen_source import EmulatedScreenSource, primed_renderer, reader_camera
from harness.emulation.world import maker_file
from harness.flows.runner import REJUDGE, FlowRun
from harness.flows.setup import morning
from harness.model.profiles import ExpectedTexts
from harness.protocols import KnowsStillScene
from harness.vision import watcher as watcher_module
from harness.vision.classify import Classifier
from harness.vision.reference import ReferenceSet, screens_dir_for
from harness.vision.watcher import SURE_LEAD, SURE_SCORE, ScreenWatcher

JST = dt.timezone(dt.timedelta(hours=9))


def eyes(maker: str) -> tuple[object, object, ScreenWatcher]:
    world, reader = started_world(maker)
    renderer = primed_renderer(load_device_spec(maker_file(maker)).display, maker)
    source = reader_camera(f"cam-{maker}", reader, renderer, world.clock, seed=3)
    source.vouches_still = True
    classifier = Classifier(ReferenceSet.load(screens_dir_for(maker)))
    watcher = ScreenWatcher(source, classifier, world.clock, timeline=world.timeline,
                            interval_s=0.5)
    return world, reader, watcher


def source_of(watcher: ScreenWatcher) -> EmulatedScreenSource:
    assert isinstance(watcher.source, EmulatedScreenSource)
    return watcher.source


# -- the renderer's key: equal keys, one picture; a change, another key ------------------------
def test_the_picture_key_changes_with_everything_the_renderer_draws() -> None:
    renderer = primed_renderer(load_device_spec(maker_file("panasonic")).display, "panasonic")
    assert renderer.look.clock  # its header shows the time: a minute's tick is a change
    first = Drawn("first", "first", ("マイナンバーカードを置いてください",))
    other = attrs.evolve(first, texts=("マイナンバーカードを置いて下さい",))
    spin = attrs.evolve(first, overlay="spinner")
    at = dt.datetime(2026, 1, 10, 9, 14, 5, tzinfo=JST)
    cases = [  # (a, b, the same picture?)
        ((first, 1.0, at), (first, 7.5, at + dt.timedelta(seconds=40)), True),
        ((first, 1.0, at), (first, 1.0, at + dt.timedelta(seconds=55)), False),  # 09:15
        ((first, 1.0, at), (first, 1.0, None), False),  # the clock unset: --:--
        ((first, 1.0, at), (other, 1.0, at), False),  # one character
        ((first, 1.0, at), (spin, 1.0, at), False),  # the loading circle drawn over it
        ((spin, 1.0, at), (spin, 1.3, at), False),  # ... and turning
        ((spin, 1.0, at), (spin, 1.0, at), True),
    ]
    for a, b, same in cases:
        keys_equal = renderer.picture_key(*a) == renderer.picture_key(*b)
        pictures_equal = np.array_equal(renderer.render(*a).image, renderer.render(*b).image)
        assert keys_equal is same and pictures_equal is same, (a, b)


# -- the watcher ------------------------------------------------------------------------------
def test_a_settled_still_screen_is_looked_at_without_a_frame_and_stays_still() -> None:
    world, _, watcher = eyes("canon")
    first = watcher.look()
    assert first.state == "first" and first.decision.known
    # Sure of it, but the first screen is drawn four ways (a button more or less): one
    # frame does not stand for it, a second real look must agree first.
    assert first.decision.score >= SURE_SCORE and first.decision.margin >= SURE_LEAD
    world.clock.sleep(2.0)
    second = watcher.look()
    assert second.frame.index == first.frame.index + 1
    assert second.decision.reference == first.decision.reference
    seen_before = len(world.timeline.events("screen.seen"))
    for _ in range(8):
        world.clock.sleep(2.0)
        obs = watcher.look()
        # No capture: the same frame, stamped now, and the same judgement of it.
        assert obs.frame.index == second.frame.index and obs.t == world.clock.now()
        assert obs.frame.image is second.frame.image
        assert obs.decision is second.decision and obs.evidence is None
        assert obs.motion is not None and not obs.motion.moving
    assert len(world.timeline.events("screen.seen")) == seen_before
    # Motion on bench time: still for the whole span, over enough frames to say stable.
    assert watcher.still_for() >= 18.0 - 1e-9 and watcher.motion.stable(15.0)
    # A fresh look is asked for: a new frame, taken.
    assert watcher.look(fresh=True).frame.index == second.frame.index + 1


def test_a_change_on_the_screen_is_taken_at_the_next_look() -> None:
    world, reader, watcher = eyes("canon")
    first = watcher.look()
    world.clock.sleep(1.0)
    watcher.look()
    world.clock.sleep(1.0)
    agreed = watcher.look()
    assert agreed.frame.index == first.frame.index + 1
    check_in_by_face(world, reader, patient())
    after = watcher.look()
    assert after.frame.index == agreed.frame.index + 1 and after.state != "first"
    assert [e.data["state"] for e in world.timeline.events("screen.seen")][-1] == after.state
    # A screen drawn one way only, judged sure on its first frame: that frame stands for it.
    assert after.decision.score >= SURE_SCORE and after.decision.margin >= SURE_LEAD
    world.clock.sleep(1.0)
    assert watcher.look().frame.index == after.frame.index


@pytest.mark.parametrize("sure", [(1.01, SURE_LEAD), (0.0, 1.01)], ids=["score", "lead"])
def test_a_look_less_than_sure_waits_for_a_second_to_agree(
        sure: tuple[float, float], monkeypatch: pytest.MonkeyPatch) -> None:
    world, reader, watcher = eyes("canon")
    watcher.look()
    check_in_by_face(world, reader, patient())
    # No look is sure now: of its score, or of its lead over the next state.
    monkeypatch.setattr(watcher_module, "SURE_SCORE", sure[0])
    monkeypatch.setattr(watcher_module, "SURE_LEAD", sure[1])
    after = watcher.look()
    assert after.state != "first" and after.decision.known
    world.clock.sleep(1.0)
    second = watcher.look()
    assert second.frame.index == after.frame.index + 1  # taken: it confirms the first
    world.clock.sleep(1.0)
    assert watcher.look().frame.index == second.frame.index  # agreed: vouched for


def test_looks_judged_apart_are_not_vouched_for(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two real looks at one scene that disagree (a frame misjudged): every look goes on
    taking a frame until two agree."""
    world, _, watcher = eyes("canon")
    keeper = type(watcher.keeper)
    classify = keeper.classify
    names = iter(["first@staff", "first@smartphone"] * 3)

    def alternating(self, image, t=None):  # noqa: ANN001, ANN202
        decision, moved = classify(self, image, t)
        return attrs.evolve(decision, reference=next(names)), moved

    monkeypatch.setattr(keeper, "classify", alternating)
    first = watcher.look()
    for k in range(1, 6):
        world.clock.sleep(1.0)
        assert watcher.look().frame.index == first.frame.index + k


def test_a_dark_panel_is_looked_at_every_time() -> None:
    world, reader, watcher = eyes("canon")
    watcher.look()  # the screen found while lit
    reader.set_power(False)
    world.clock.sleep(1.0)
    first = watcher.look()
    assert first.decision.blank
    for k in range(1, 4):
        world.clock.sleep(1.0)
        assert watcher.look().frame.index == first.frame.index + k


def test_lamps_a_knock_and_a_fault_each_end_the_vouching(monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    world, _, watcher = eyes("atlas")
    source = source_of(watcher)
    assert source.lamps is not None
    last = watcher.look()
    world.clock.sleep(1.0)
    assert source.still_frame(last.frame) is not None
    # A lamp goes out: the picture in front of the lens changed.
    lamps = list(source.lamps())
    dimmed = [attrs.evolve(lamps[0], lit=not lamps[0].lit), *lamps[1:]]
    monkeypatch.setattr(source, "lamps", lambda: dimmed)
    assert source.still_frame(last.frame) is None
    last = watcher.look()
    world.clock.sleep(1.0)
    assert source.still_frame(last.frame) is not None
    # The camera is knocked: another pose, another picture.
    source.camera.bump()
    assert source.still_frame(last.frame) is None
    last = watcher.look()
    # A frozen or stopped camera is never vouched for: its frames must be read.
    for fault in ("frozen", "stopped"):
        world.clock.sleep(1.0)
        setattr(source, fault, True)
        assert source.still_frame(last.frame) is None
        setattr(source, fault, False)
    # Only the last frame it gave is vouched for.
    world.clock.sleep(1.0)
    newer = source.read()
    assert source.still_frame(last.frame) is None
    assert source.still_frame(newer) is not None


def test_a_source_vouches_only_when_asked_and_a_real_camera_never() -> None:
    world, _, watcher = eyes("canon")
    source = source_of(watcher)
    source.vouches_still = False
    first = watcher.look()
    world.clock.sleep(1.0)
    assert watcher.look().frame.index == first.frame.index + 1
    # A real camera's sources never vouch: the watcher reads them every time.
    for real in (CaptureSource, VideoFileSource, RecordingSource):
        assert not issubclass(real, KnowsStillScene) and not hasattr(real, "still_frame")
    assert isinstance(source, KnowsStillScene)


def test_a_doubtful_or_unrecognised_screen_is_looked_at_every_time() -> None:
    world, _, watcher = eyes("canon")
    first = watcher.look()
    # Every score now counts as a drop: the keeper's patience counts looks, so each is taken.
    watcher.keeper.recheck_below = 1.01
    for k in range(1, 4):
        world.clock.sleep(1.0)
        assert watcher.look().frame.index == first.frame.index + k


# -- a flow: a text still to be judged again wants new frames ---------------------------------
@pytest.fixture(scope="module")
def bench() -> Iterator[Bench]:
    from flow_helpers import DEFAULT_BENCH, open_bench

    yield from open_bench(DEFAULT_BENCH)


def test_the_bench_vouches_and_a_text_judged_again_gets_new_frames(bench: Bench) -> None:
    missing = "この文言は画面にない"
    run = FlowRun(bench, TwinHands(bench), "canon", "still-scene",
                  expected=ExpectedTexts(shown={"first": (missing,)}))
    run.pause_recording()
    assert morning(run)  # switched on as Canon's routine says, its first screen seen
    for _ in range(3):  # the first screen's looks agree: vouched for from now
        bench.clock.sleep(1.0)
        run.look()
    assert source_of(run.eyes).vouches_still
    before = run.eyes.last.frame.index
    bench.clock.sleep(1.0)
    run.look()
    assert run.eyes.last.frame.index == before
    run.start_recording()
    indexes = [before]
    for _ in range(REJUDGE + 3):
        run.look()
        indexes.append(run.eyes.last.frame.index)
        bench.clock.sleep(1.0)
    # The record's first look is a decision point: a frame of its own, though the scene was
    # vouched for. It reads the screen and misses the text; each of the REJUDGE looks after
    # takes a new frame to judge it again; one more agrees; then the screen is vouched for.
    steps = [b - a for a, b in zip(indexes, indexes[1:], strict=False)]
    assert steps == [1] + [1] * REJUDGE + [1, 0]
    (screen,) = run.record.screens
    assert [f.found for f in screen.findings if f.expected == missing] == [False]


def test_a_clock_tick_the_reference_masks_is_vouched_for_and_nothing_more() -> None:
    """Fujitsu's header shows the time. The recognised reference masks the clock (no look
    reads it), so a minute's tick alone is no news to the watcher; asked without that mask,
    or with a box that misses the clock, the source films the tick; a tick with any other
    change is filmed."""
    world, reader, watcher = eyes("fujitsu_japan")
    source = source_of(watcher)
    clock = source.renderer.clock_box()
    assert clock is not None
    last = watcher.look()
    for _ in range(2):  # the first screen is drawn several ways: two looks must agree
        world.clock.sleep(1.0)
        last = watcher.look()
    refs = watcher.classifier.references
    width, height = refs.size
    masks = [(x / width, y / height, w / width, h / height) for x, y, w, h in
             (r.box for r in refs.get(last.decision.reference).regions_of("mask"))]
    assert masks
    # Into the next minute: the clock ticks, nothing else changes.
    world.clock.sleep(61.0 - world.clock.wallclock().second)
    assert source.still_frame(last.frame) is None
    assert source.still_frame(last.frame, [(0.0, 0.0, 0.5, 0.5)]) is None
    # A mask two pixels short of the clock's box on any side does not cover it.
    x, y, w, h = clock
    width, height = source.renderer.look.size
    for short in ((x + 2, y, w - 2, h), (x, y, w - 2, h), (x, y, w, h - 2)):
        part = (short[0] / width, short[1] / height, short[2] / width, short[3] / height)
        assert source.still_frame(last.frame, [part]) is None, short
    assert source.still_frame(last.frame, masks) is not None
    vouched = watcher.look()
    assert vouched.frame.index == last.frame.index and vouched.state == last.state
    # A tick and a check-in: the new screen is filmed.
    world.clock.sleep(61.0 - world.clock.wallclock().second)
    check_in_by_face(world, reader, patient())
    after = watcher.look()
    assert after.frame.index == last.frame.index + 1 and after.state != "first"


def test_only_a_tick_of_the_clock_is_forgiven() -> None:
    """The scene's key differs only in the clock's text: forgiven where masked. A page
    changed, a lamp, a camera knocked: never."""
    only = EmulatedScreenSource._only_clock
    renderer = primed_renderer(load_device_spec(maker_file("panasonic")).display, "panasonic")
    first = Drawn("first", "first", ("マイナンバーカードを置いてください",))
    at = dt.datetime(2026, 1, 10, 9, 14, 5, tzinfo=JST)
    tick = at + dt.timedelta(minutes=1)
    lamps, camera = (), object()

    def scene(drawn: Drawn = first, when: dt.datetime | None = at, t: float = 1.0,
              bumps: int = 0) -> tuple[object, ...]:
        return (renderer.picture_key(drawn, t, when), lamps, renderer, camera, bumps)

    assert only(scene(when=tick), scene())
    assert not only(scene(), scene())  # nothing changed: not a tick
    assert not only(scene(attrs.evolve(first, texts=("別の文",)), tick), scene())
    assert not only(scene(when=tick, bumps=1), scene())
    assert not only(scene(attrs.evolve(first, overlay="spinner"), tick), scene())
    assert only(scene(when=None), scene())  # --:-- in the same box
    dark = attrs.evolve(first, shows="off")
    assert not only(scene(dark, tick), scene(dark))  # a dark page draws no clock
