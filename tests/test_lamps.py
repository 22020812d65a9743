"""ERR-07's lamps through the camera: the Atlas EXC-9000's MATSUMURA logo lamp at the card
slot, drawn by the emulated camera from the twin's data and read back by the vision code
from where the bench file says the camera sees it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from harness.bench import Bench
from harness.emulation.camera_model import CameraEffects, CameraModel
from harness.emulation.device_spec import load_device_spec
from harness.emulation.lamps import LampState
from harness.emulation.screen_source import primed_renderer, reader_camera
from harness.emulation.world import TwinWorld, maker_file
from harness.errors import BadInput, RigError
from harness.loading import load_yaml_model
from harness.model.bench_spec import BenchSpec, Deviation
from harness.model.lamps import LampSpot
from harness.model.timeline import Timeline
from harness.vision.geometry import Calibration
from harness.vision.lamps import LampWatcher, colour_name, read_lamp

BENCH = Path(__file__).parents[1] / "fixtures" / "benches" / "emulated.yaml"
FRAME = (1280, 720)


def logo_spot() -> LampSpot:
    """Where the bench file's Atlas camera sees the logo lamp (the vision side's data)."""
    spec = load_yaml_model(BENCH, BenchSpec)
    camera = next(c for c in spec.cameras if c.watches == "atlas")
    return next(s for s in camera.lamps if s.name == "logo")


def calibration(quad: np.ndarray) -> Calibration:
    return Calibration(quad=quad, frame_size=FRAME, screen_size=(1024, 600))


def atlas_eye(deviations: list[Deviation] | None = None, seed: int = 3,
              effects: CameraEffects | None = None):  # noqa: ANN201
    world = TwinWorld.for_makers(["atlas"], deviations={"atlas": deviations or []})
    reader = world.reader("atlas")
    renderer = primed_renderer(load_device_spec(maker_file("atlas")).display, "atlas")
    source = reader_camera("cam-atlas", reader, renderer, world.clock, seed=seed,
                           effects=effects)
    source.camera = CameraModel(seed=seed, frame_size=FRAME, effects=effects)
    return world, reader, source


def look(source, spot: LampSpot):  # noqa: ANN001, ANN201
    """One frame through the emulated camera, the lamp read where the bench says it is."""
    t = source.clock.now()
    screen = source.renderer.render(source.content(), t, source.clock.wallclock()).image
    capture = source.camera.capture(screen, t, source.lamps())
    return read_lamp(capture.image, calibration(capture.quad), spot), capture


def test_atlas_logo_lamp_off_then_lit_white_once_started() -> None:
    world, reader, source = atlas_eye()
    spot = logo_spot()
    off, _ = look(source, spot)
    assert off.read and not off.lit and off.colour is None
    reader.set_power(True)  # powered, the terminal off: dark, the logo not lit (BOOT-02)
    world.clock.advance(60)
    dark, _ = look(source, spot)
    assert reader.powered and not dark.lit
    # the green power LED is on the back: the front camera draws (and sees) only the logo
    assert [lamp.spot.name for lamp in source.lamps()] == ["logo"]
    world.terminal.set_power(True)
    world.clock.advance(5)
    assert reader.state == "starting"
    starting, _ = look(source, spot)
    assert not starting.lit  # lit only once started, not while starting
    world.clock.advance(120)
    assert reader.started
    lit, _ = look(source, spot)
    assert lit.lit and lit.colour == "white", lit
    assert lit.level > 2 * off.level


def test_a_lamp_of_another_colour_is_read_as_that_colour() -> None:
    """A reader whose logo lights red (a deviation of its LED data) is not read as white."""
    red = Deviation(change="behaviour.leds", why="logo lamp lights red", to=[
        {"name": "power", "color": "green", "lit_when": "powered"},
        {"name": "logo", "color": "red", "lit_when": "started"},
    ])
    world, _, source = atlas_eye([red])
    world.power_on_all()
    reading, _ = look(source, logo_spot())
    assert reading.lit and reading.colour == "red", reading


def test_a_logo_lit_with_mere_power_is_read_lit_before_start() -> None:
    """A logo wired to the power (lit_when: powered) shows lit while the panel is dark."""
    early = Deviation(change="behaviour.leds", why="logo lamp on the power rail", to=[
        {"name": "power", "color": "green", "lit_when": "powered"},
        {"name": "logo", "color": "white", "lit_when": "powered"},
    ])
    world, reader, source = atlas_eye([early])
    reader.set_power(True)
    world.clock.advance(30)
    reading, _ = look(source, logo_spot())
    assert not reader.started and reading.lit


@pytest.mark.parametrize("colour", ["white", "green", "red", "amber", "blue"])
def test_each_colour_is_named_on_several_poses(colour: str) -> None:
    spot = logo_spot()
    panel = np.full((600, 1024, 3), (64, 34, 13), np.uint8)
    for seed in (1, 9):
        cam = CameraModel(seed=seed, frame_size=FRAME)
        for t in (2.0, 33.0):
            lit = cam.capture(panel, t, [LampState(spot, colour, True)])
            reading = read_lamp(lit.image, calibration(lit.quad), spot)
            assert reading.lit and reading.colour == colour, (seed, t, reading)
            unlit = cam.capture(panel, t + 1, [LampState(spot, colour, False)])
            assert not read_lamp(unlit.image, calibration(unlit.quad), spot).lit


GLARING = CameraEffects(exposure_drift=0.85, glare=120, flicker=0.1, white_balance_drift=0.2,
                        noise_sigma=(3, 5), blur_sigma=(1.5, 2.5), jpeg_quality=(45, 60))


def test_an_unlit_lamp_under_strong_exposure_and_glare_is_never_read_lit() -> None:
    spot = logo_spot()
    white = np.full((600, 1024, 3), 250, np.uint8)  # a white page: exposure and glare
    levels = []
    for seed in range(4):
        cam = CameraModel(seed=seed, frame_size=FRAME, effects=GLARING)
        for t in np.linspace(0, 90, 6):
            cap = cam.capture(white, float(t), [LampState(spot, "white", False)])
            reading = read_lamp(cap.image, calibration(cap.quad), spot)
            assert not reading.lit, (seed, t, reading)
            levels.append(reading.level)
            lit = cam.capture(white, float(t), [LampState(spot, "white", True)])
            assert read_lamp(lit.image, calibration(lit.quad), spot).lit, (seed, t)
    assert max(levels) < 0.7  # and with a margin to the lit threshold


def test_a_lamp_drowned_in_glare_is_unread_not_lit() -> None:
    spot = logo_spot()
    cam = CameraModel(seed=2, frame_size=FRAME, effects=CameraEffects.none())
    cap = cam.capture(np.zeros((600, 1024, 3), np.uint8), 0.0, [LampState(spot, "white", False)])
    frame = np.full_like(cap.image, 245)  # a surround clipped white: nothing to compare with
    reading = read_lamp(frame, calibration(cap.quad), spot)
    assert not reading.lit and not reading.read and "clipped" in (reading.why or "")
    out = calibration(cap.quad + np.float32([5000, 0]))
    assert read_lamp(cap.image, out, spot).why == "out of the frame"


def test_a_calibration_off_the_lamp_does_not_see_it_lit() -> None:
    """The lamp is read where the bench says it is: elsewhere on the housing is not it."""
    world, _, source = atlas_eye()
    world.power_on_all()
    spot = logo_spot()
    elsewhere = spot.model_copy(update={"at": (0.15, 1.265)})
    reading, capture = look(source, spot)
    assert reading.lit
    assert not read_lamp(capture.image, calibration(capture.quad), elsewhere).lit


def test_colour_names() -> None:
    assert colour_name(np.array([200, 200, 210])) == "white"
    assert colour_name(np.array([60, 230, 40])) == "green"
    assert colour_name(np.array([30, 30, 240])) == "red"
    assert colour_name(np.array([0, 140, 255])) == "amber"
    assert colour_name(np.array([250, 100, 20])) == "blue"


def test_lamp_watcher_records_changes_only() -> None:
    world, reader, source = atlas_eye()
    timeline = Timeline(world.clock)
    watcher = LampWatcher("cam-atlas", [logo_spot()], timeline)

    def observe() -> bool:
        t = world.clock.now()
        screen = source.renderer.render(source.content(), t, world.clock.wallclock()).image
        capture = source.camera.capture(screen, t, source.lamps())
        (reading,) = watcher.observe(capture.image, calibration(capture.quad), t)
        return reading.lit

    assert [observe() for _ in range(3)] == [False] * 3
    world.power_on_all()
    assert [observe() for _ in range(3)] == [True] * 3
    reader.set_power(False)
    assert observe() is False
    events = timeline.events("lamp.seen", "cam-atlas")
    assert [(e.data["lamp"], e.data["lit"], e.data["colour"]) for e in events] == [
        ("logo", False, None), ("logo", True, "white"), ("logo", False, None)]


def test_lamp_data_is_checked(tmp_path: Path) -> None:
    bad = tmp_path / "bench.yaml"
    bad.write_text(BENCH.read_text(encoding="utf-8").replace("at: [0.5, 1.265]", "at: [0.5, 12.65]"),
                   encoding="utf-8")
    with pytest.raises(BadInput, match=r"cameras\[4\]\.lamps\[0\]\.at"):
        load_yaml_model(bad, BenchSpec)
    # a drawn lamp that the behaviour does not light is refused when the camera is built
    world = TwinWorld.for_makers(["atlas"], deviations={"atlas": [
        Deviation(change="behaviour.leds", to=[
            {"name": "power", "color": "green", "lit_when": "powered"}])]})
    renderer = primed_renderer(load_device_spec(maker_file("atlas")).display, "atlas")
    with pytest.raises(RigError, match="display.lamps"):
        reader_camera("cam-atlas", world.reader("atlas"), renderer, world.clock)


def test_emulated_bench_sees_the_logo_light_as_the_reader_starts() -> None:
    """End to end: the bench file's camera, its lamp entry, the relay switching the reader;
    the bench's own watcher reads the lamps on every look."""
    with Bench.load(BENCH) as bench:
        watcher = bench.watcher("atlas")
        first = watcher.look()
        assert first.state == "first"
        assert watcher.keeper.calibration is not None
        (before,) = watcher.look().lamps
        assert before.name == "logo" and before.lit and before.colour == "white"
        bench.switch("atlas", False)
        (after,) = watcher.look().lamps
        assert not after.lit
        bench.switch("atlas", True)
        bench.clock.advance(5)
        (starting,) = watcher.look().lamps
        assert not starting.lit
        bench.clock.advance(60)
        (again,) = watcher.look().lamps
        assert again.lit and again.colour == "white"
        seen = [e.data["lit"] for e in bench.timeline.events("lamp.seen", "cam-atlas")]
        assert seen == [True, False, True]
