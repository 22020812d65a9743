"""A camera watching another reader than the one the bench file names (huntR R1, R2): seen
in BOOT's start and named ``camera.misaimed``, a bench fault, never a pass or a fail of the
reader named. Two readers of one maker are switched on apart, so that each camera's screen
lights with its own reader only; a camera on another maker's reader sees that maker's
screens."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from harness.bench import Bench
from harness.emulation.hands import TwinHands
from harness.errors import BenchFault
from harness.flows.boot import watch_start
from harness.flows.camera_aim import STAGGER_S, staggered
from harness.model.bench_spec import PowerStep
from tests.flow_helpers import DEFAULT_BENCH, open_bench

PANASONIC_TWIN = DEFAULT_BENCH.parent.parent / "devices" / "face_auth" / "panasonic.yaml"


@pytest.fixture
def two_panasonics(tmp_path: Path) -> Iterator[Bench]:
    """The default bench with ``canon`` a second Panasonic reader whose firmware needs 40 s
    to start (the deviant one of the two)."""
    data = {"base": str(DEFAULT_BENCH), "bench": "two-panasonics", "readers": [{
        "name": "canon", "maker": "panasonic",
        "usb": {"vid": "FFFF", "pid": "F001", "placeholder": True, "path": "2-2",
                "serial": "P2"},
        "emulate": str(PANASONIC_TWIN),
        "deviations": [{"change": "behaviour.start.seconds", "to": 40,
                        "why": "firmware needs 40 s to start"}]}]}
    path = tmp_path / "two.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), "utf-8")
    yield from open_bench(path)


@pytest.fixture
def default_bench() -> Iterator[Bench]:
    yield from open_bench(DEFAULT_BENCH)


def _swap_cameras(bench: Bench, a: str, b: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The cameras of readers ``a`` and ``b`` each on the other's reader, each with the
    calibration made on what it sees (two USB cameras' /dev/video numbers swapped, or the
    two entries written the wrong way round)."""
    cam_a, cam_b = bench.camera_on(a), bench.camera_on(b)
    sources = {cam_a: bench.camera(cam_b), cam_b: bench.camera(cam_a)}
    calibrations = {cam_a: bench.camera_calibration(cam_b),
                    cam_b: bench.camera_calibration(cam_a)}
    bench._cameras.update(sources)
    own = bench.camera_calibration
    monkeypatch.setattr(bench, "camera_calibration",
                        lambda name: calibrations[name] if name in calibrations else own(name))


def test_look_alikes_are_switched_on_apart_keeping_the_steps() -> None:
    steps = [PowerStep(switch_on=["p1", "hub", "p2", "x"], wait_s=20),
             PowerStep(switch_on=["terminal"], wait_s=60)]
    assert staggered(steps, "p1", frozenset({"p2"})) == [
        PowerStep(switch_on=["hub", "p2"], wait_s=STAGGER_S),
        PowerStep(switch_on=["p1", "x"], wait_s=20),
        PowerStep(switch_on=["terminal"], wait_s=60)]
    assert staggered(steps, "p2", frozenset({"p1"})) == [
        PowerStep(switch_on=["p1", "hub"], wait_s=STAGGER_S),
        PowerStep(switch_on=["p2", "x"], wait_s=20),
        PowerStep(switch_on=["terminal"], wait_s=60)]
    assert staggered(steps, "p1", frozenset()) == steps


def test_two_readers_of_one_maker_as_wired_start_as_they_do(two_panasonics: Bench) -> None:
    bench = two_panasonics
    record = watch_start(bench, TwinHands(bench), "canon")
    switched = {e.source: e.t for e in bench.timeline.events("power.switched")
                if e.data.get("on")}
    assert switched["canon"] - switched["panasonic"] == pytest.approx(STAGGER_S)
    # Its own 40 s firmware, seen on its own camera.
    assert record.reader_started is not None
    assert record.reader_ready is None or record.reader_ready - switched["canon"] >= 40


@pytest.mark.parametrize("reader", ["panasonic", "canon"])
def test_cameras_swapped_between_two_readers_of_one_maker_are_a_bench_fault(
        two_panasonics: Bench, reader: str, monkeypatch: pytest.MonkeyPatch) -> None:
    bench = two_panasonics
    _swap_cameras(bench, "panasonic", "canon", monkeypatch)
    with pytest.raises(BenchFault) as caught:
        watch_start(bench, TwinHands(bench), reader)
    fault = caught.value
    assert fault.fault == "camera.misaimed" and fault.device == bench.camera_on(reader)
    other = "canon" if reader == "panasonic" else "panasonic"
    assert f"watching {reader}, it showed" in fault.detail
    assert f"{other} (the same maker's) was switched on" in fault.detail


def test_a_camera_on_another_makers_reader_is_a_bench_fault(
        default_bench: Bench, monkeypatch: pytest.MonkeyPatch) -> None:
    bench = default_bench
    _swap_cameras(bench, "panasonic", "canon", monkeypatch)
    # The bench's routine with the terminal's wait cut short (its 120 s let the readers
    # start; nothing here waits for the terminal): the start is judged the same way, on
    # fewer looks at an unknown screen (each a costly search of the frame, now and then).
    steps = [PowerStep(switch_on=["panasonic", "canon", "usen_almex", "fujitsu_japan", "atlas"],
                       wait_s=20), PowerStep(switch_on=["terminal"], wait_s=10)]
    with pytest.raises(BenchFault) as caught:
        watch_start(bench, TwinHands(bench), "panasonic", steps)
    fault = caught.value
    assert fault.fault == "camera.misaimed" and fault.device == "cam-panasonic"
    assert "it shows canon's screen" in fault.detail
