"""The rig's eyes on the twins: each maker's E901 screens as a camera sees them, motion on
virtual time, the timeline, evidence, a camera that stops or is knocked."""

from __future__ import annotations

import json

import pytest
from seed_texts import E901_TEXTS
from twin_helpers import check_in_by_face, patient, started_world

from harness.bench import Bench
from harness.emulation.device_spec import load_device_spec
from harness.emulation.screen_source import primed_renderer, reader_camera
from harness.emulation.world import MAKERS, maker_file
from harness.errors import BenchFault, DeviceTimeout
from harness.vision.classify import Classifier
from harness.vision.evidence import EvidenceStore
from harness.vision.reference import ReferenceSet, screens_dir_for
from harness.vision.watcher import ScreenWatcher

#: What each maker's reader shows once the check failed (notice 7福薬業発第367号, ①), as reference states.
AFTER_FAILED_CHECK = {
    "panasonic": "completion",
    "canon": "please_wait",
    "usen_almex": "consent_wait",
    "fujitsu_japan": "consent_wait",
    "atlas": "first",
}


@pytest.fixture(scope="module")
def classifiers() -> dict[str, Classifier]:
    return {m: Classifier(ReferenceSet.load(screens_dir_for(m))) for m in MAKERS}


def eyes(maker: str, classifiers: dict[str, Classifier], tmp_path=None, **world_kw):  # noqa: ANN001, ANN202
    world, reader = started_world(maker, **world_kw)
    renderer = primed_renderer(load_device_spec(maker_file(maker)).display, maker)
    source = reader_camera(f"cam-{maker}", reader, renderer, world.clock, seed=7)
    evidence = EvidenceStore(tmp_path / "evidence") if tmp_path is not None else None
    watcher = ScreenWatcher(source, classifiers[maker], world.clock, timeline=world.timeline,
                            evidence=evidence, interval_s=0.5)
    return world, reader, watcher


@pytest.mark.parametrize("maker", MAKERS)
def test_e901_screens_through_the_camera(maker: str, classifiers, tmp_path) -> None:  # noqa: ANN001
    world, reader, watcher = eyes(maker, classifiers, tmp_path, upgrade="installed")
    assert watcher.look().state == "first"
    check_in_by_face(world, reader, patient())
    expected = AFTER_FAILED_CHECK[maker]
    obs = watcher.wait_for(expected, timeout_s=5)
    assert obs.decision.score >= watcher.classifier.accept
    reader.remove_card()
    # E901-02: the screen does not change, even with the card out (Atlas: back to first).
    seen = {o.state for o in watcher.watch(8.0)}
    assert seen == {expected}
    spinner = reader.screen().overlay == "spinner"
    assert watcher.spinning(3.0) is spinner
    # Frozen but for the loading circle, which takes a few frames to be told apart.
    assert watcher.still_for(ignore_spinner=True) >= (4.0 if spinner else 7.5)
    assert (watcher.still_for() < 1.0) is spinner
    world.terminal.press("OK")
    world.terminal.press("OK")
    obs = watcher.wait_for("error_901", timeout_s=5)
    ref = watcher.classifier.references.get(obs.decision.reference)
    # The reference recognised carries the notice's text where the notice gives it.
    if maker in E901_TEXTS:
        assert [t.replace("⚠️", "") for t in ref.texts] == E901_TEXTS[maker]
    states = [e.data["state"] for e in world.timeline.events("screen.seen")]
    assert states == ["first", expected, "error_901"] if expected != "first" else \
        ["first", "error_901"]
    # Each change kept its frames, and the timeline points at them.
    lines = (tmp_path / "evidence" / "evidence.jsonl").read_text().splitlines()
    assert [json.loads(x)["label"] for x in lines] == states
    for event in world.timeline.events("screen.seen"):
        assert (tmp_path / "evidence" / event.data["evidence"]).is_file()


def test_a_deviant_901_screen_is_not_taken_for_the_901(classifiers) -> None:  # noqa: ANN001
    from harness.model.bench_spec import Deviation

    dropped = Deviation(change="behaviour.states.error_901.texts",
                        to=[E901_TEXTS["fujitsu_japan"][1]], why="a line is missing")
    world, reader, watcher = eyes("fujitsu_japan", classifiers, upgrade="installed",
                                  deviations={"fujitsu_japan": [dropped]})
    check_in_by_face(world, reader, patient())
    world.terminal.press("OK")
    world.terminal.press("OK")
    assert reader.screen().shows == "error_901"  # the twin shows its (wrong) 901 screen
    with pytest.raises(DeviceTimeout, match="saw .*unknown"):
        watcher.wait_for("error_901", timeout_s=3)


def test_still_under_exposure_drift_and_a_change_resets(classifiers) -> None:  # noqa: ANN001
    world, reader, watcher = eyes("panasonic", classifiers)
    watcher.watch(40.0)  # 81 frames; the camera's exposure and white balance drift
    assert watcher.still_for() >= 39.5
    assert not watcher.spinning(5.0)
    reader.insert_card(patient())
    obs = watcher.look() if watcher.clock.sleep(0.5) is None else None
    assert obs is not None and obs.state == "face_auth"
    assert watcher.still_for() < 0.01


def test_camera_that_stops_keeps_what_was_recorded(classifiers) -> None:  # noqa: ANN001
    world, reader, watcher = eyes("canon", classifiers)
    watcher.look()
    before = list(world.timeline.events("screen.seen"))
    watcher.source.close()
    with pytest.raises(BenchFault, match=r"\(camera\.stopped\): cam-canon: .*closed"):
        watcher.look()
    assert world.timeline.events("screen.seen") == before
    stopped = world.timeline.events("camera.stopped")
    assert len(stopped) == 1 and stopped[0].source == "cam-canon"


def test_a_knocked_camera_is_noticed_and_recognition_goes_on(classifiers) -> None:  # noqa: ANN001
    world, reader, watcher = eyes("usen_almex", classifiers)
    assert watcher.look().state == "first"
    before = watcher.keeper.calibration
    watcher.source.camera.bump()
    states = [o.state for o in watcher.watch(3.0)]
    moved = world.timeline.events("camera.moved")
    assert len(moved) == 1 and moved[0].data["shift_px"] > 10
    assert states[-1] == "first"
    assert watcher.keeper.calibration is not before


def test_wait_for_names_what_it_saw(classifiers) -> None:  # noqa: ANN001
    world, reader, watcher = eyes("atlas", classifiers)
    with pytest.raises(DeviceTimeout, match=r"no screen error_901 \(saw first\) within 2 s"):
        watcher.wait_for("error_901", timeout_s=2)


def test_bench_gives_each_reader_its_camera_and_eyes() -> None:
    with Bench.load() as bench:
        for maker in ("panasonic", "atlas"):
            watcher = bench.watcher(maker)
            assert watcher.look().state == "first"
        with pytest.raises(Exception, match="no camera 'nope'"):
            bench.camera("nope")
        events = bench.timeline.events("screen.seen")
        assert {e.source for e in events} == {"cam-panasonic", "cam-atlas"}


def test_the_eyes_fixture_watches_a_bench_reader(eyes) -> None:  # noqa: ANN001
    watcher = eyes("fujitsu_japan")
    assert watcher is eyes("fujitsu_japan")
    assert watcher.look().state == "first"
    assert watcher.name == "cam-fujitsu_japan"


def test_wait_stable_with_and_without_the_spinner(classifiers) -> None:  # noqa: ANN001
    world, reader, watcher = eyes("usen_almex", classifiers, upgrade="installed")
    watcher.look()
    check_in_by_face(world, reader, patient())
    watcher.wait_for("consent_wait", timeout_s=5)
    with pytest.raises(DeviceTimeout, match="a screen still for 3 s"):
        watcher.wait_stable(3.0, timeout_s=6.0)
    obs = watcher.wait_stable(3.0, timeout_s=10.0, ignore_spinner=True)
    assert obs.state == "consent_wait" and watcher.spinning(3.0)


def test_a_camera_on_the_terminal_sees_its_dialogs(tmp_path) -> None:  # noqa: ANN001
    # Device paths in a base bench file resolve against the file that names the base:
    # beside fixtures/devices, as the shipped benches are.
    base = Bench.load().path
    (tmp_path / "devices").symlink_to(base.parent.parent / "devices")
    (tmp_path / "benches").mkdir()
    bench_file = tmp_path / "benches" / "with-terminal-camera.yaml"
    bench_file.write_text(
        f"base: {base}\n"
        "terminal: {upgrade: installed}\n"
        "cameras:\n  - {name: cam-terminal, watches: terminal, source: emulated}\n",
        encoding="utf-8",
    )
    with Bench.load(bench_file) as bench:
        monitor = bench.watcher("terminal")
        assert monitor.look().state == "desktop"
        world = bench.emulation.world
        check_in_by_face(world, world.reader("canon"), patient())
        assert monitor.wait_for("check_error_1", timeout_s=5).decision.margin > 0.05
        world.terminal.press("OK")
        assert monitor.wait_for("check_error_2", timeout_s=5).state == "check_error_2"


def test_a_wait_that_runs_out_carries_what_was_seen_last(classifiers) -> None:  # noqa: ANN001
    world, _reader, watcher = eyes("canon", classifiers)
    start = world.clock.now()
    with pytest.raises(DeviceTimeout, match=r"screen error_901 \(saw first\)") as caught:
        watcher.wait_for("error_901", timeout_s=3.0)
    # Looked up to the deadline itself, not short of it nor an interval past it.
    assert world.clock.now() - start == pytest.approx(3.0)
    last = caught.value.last
    assert last is not None and last.state == "first" and last.t == pytest.approx(start + 3.0)


def test_the_eyes_read_out_the_screen_alone_and_judge_alike() -> None:
    """Told where the eyes read (the calibrated screen, while the look neither takes nor
    compares the ring around it), the camera gives its noise and JPEG there alone: the
    looks judge exactly as on whole frames."""
    judged: list[list[tuple[str, float, float]]] = []
    told: list[object] = []
    for roi in (False, True):
        # A classifier of its own: its warp maps, made on a second look, move scores a bit.
        fresh = {"panasonic": Classifier(ReferenceSet.load(screens_dir_for("panasonic")))}
        world, reader, watcher = eyes("panasonic", fresh)
        source = watcher.source

        def read_out(region, real=source.read_out, roi=roi) -> None:  # noqa: ANN001
            if roi:
                told.append(region)
                real(region)

        source.read_out = read_out
        observations = watcher.watch(12.0)
        reader.insert_card(patient())
        observations += watcher.watch(3.0)
        judged.append([(o.state, o.decision.score, o.decision.margin) for o in observations])
    assert judged[0] == judged[1]
    regions = [r for r in told if r is not None]
    # every look but the first (a search), the ring's (the first recognised and every
    # RING_REFRESH-th) and the drops after the card: each region set is reset after its read
    assert len(regions) >= 20 and told.count(None) == len(regions)
    quad = watcher.keeper.calibration.quad
    assert all(r[0] <= quad[:, 0].min() and r[2] >= quad[:, 0].max() for r in regions)
