"""BOOT's starts watched from dark (review U15): a camera whose frames arrive late (a real
stream, the bench in a box's MJPEG) shows the bench from before the restore's cut for a
while after it. The runner keeps the devices off and sees their screens dark and the reader
off USB before switching on, and takes each moment only from a frame of after its device's
own switch-on; a record whose moments precede the switch-on fails (BOOT's rules), and a
bench that never shows its devices off is a bench fault, never a start judged anyway."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.bench import Bench
from harness.emulation.hands import TwinHands
from harness.emulation.screen_source import EmulatedScreenSource
from harness.errors import BenchFault
from harness.flows import boot
from harness.flows.boot import MIN_OFF_S, watch_start
from harness.flows.power_on import clock_steps
from harness.model.boot_rules import BootRecord, before_switch_on, check_boot, judge_boot
from harness.model.profiles import BootOrderCheck, ProfileSet
from tests.flow_helpers import deviant_bench_file, deviation, open_bench

#: Bench seconds the lagging cameras' frames take to arrive (the box's MJPEG: over one).
LAG_S = 2.5


def _boot01(profiles: ProfileSet) -> BootOrderCheck:
    requirement = profiles["panasonic"].requirement("BOOT-01")
    assert requirement is not None
    return next(c for c in requirement.checks if isinstance(c, BootOrderCheck))


# -- the rule ---------------------------------------------------------------------------------

def test_moments_before_their_devices_switch_on_fail(profiles: ProfileSet) -> None:
    check = _boot01(profiles)
    # The box's record (review U15): the terminal "lit" and the reader "ready" at 110.9 s,
    # read off pictures from before the cut; the terminal switched on at 128.65 s.
    stale = BootRecord({"reader": 110.89, "terminal": 128.65, "receipt_computer": 133.4},
                       reader_started=110.85, reader_on_usb=110.88, terminal_lit=110.9,
                       reader_ready=110.85)
    problems = check_boot(check, stale)
    assert "reader started at 110.85 s, before the reader was switched on (110.89 s): seen " \
           "from before this start, not of it" in problems
    assert any(p.startswith("reader on USB at 110.88 s, before the reader") for p in problems)
    assert any(p.startswith("reader ready at 110.85 s, before the reader") for p in problems)
    assert any(p.startswith("terminal lit at 110.90 s, before the terminal was switched on "
                            "(128.65 s)") for p in problems)
    verdict = judge_boot(profiles["panasonic"].requirement("BOOT-01"), "panasonic",
                         "panasonic", stale)
    assert not verdict.passed
    # At the switch-on itself is of this start; a role not switched is held against the
    # start's first switch.
    at_once = BootRecord({"reader": 10.0, "terminal": 30.0}, reader_started=10.0,
                         reader_on_usb=10.0, terminal_lit=30.0, reader_ready=40.0)
    assert before_switch_on(at_once) == []
    unswitched = BootRecord({"terminal": 30.0}, reader_started=29.0)
    assert before_switch_on(unswitched) == [
        "reader started at 29.00 s, before the reader was switched on (30.00 s): seen from "
        "before this start, not of it"]


# -- the runner on an emulated bench whose cameras lag ------------------------------------------

@pytest.fixture(scope="module")
def late_bench(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bench]:
    """Panasonic starting in 22 s: after BOOT-01's earliest edge (the terminal 15 s after
    it), and found by the terminal's application all the same: it still links."""
    folder = tmp_path_factory.mktemp("late")
    path = deviant_bench_file(folder, "late-start", readers={"panasonic": [
        deviation("behaviour.start.seconds", 22, "starts 7 s after the window opens"),
        deviation("behaviour.link.missed_if_terminal_first", False, "found all the same")]})
    yield from open_bench(path)


def _lagging(bench: Bench) -> None:
    """Both cameras of the start lagging, and having shown the lit bench (a run's earlier
    looks) long enough ago for it to be what arrives next."""
    for name in ("panasonic", bench.spec.terminal.name):
        camera = bench.camera(bench.camera_on(name))
        assert isinstance(camera, EmulatedScreenSource)
        camera.lag_s = LAG_S
        bench.watcher(name).look()
    bench.clock.sleep(2 * LAG_S)


def _earliest(bench: Bench, profiles: ProfileSet) -> tuple[BootRecord, list[str]]:
    check = _boot01(profiles)
    steps = clock_steps(bench.spec, check, "earliest", watched="panasonic")
    record = watch_start(bench, TwinHands(bench), "panasonic", steps)
    return record, check_boot(check, record)


def test_a_late_reader_fails_the_edge_on_a_lagging_camera(late_bench: Bench,
                                                          profiles: ProfileSet) -> None:
    _lagging(late_bench)
    since = len(late_bench.timeline)
    record, problems = _earliest(late_bench, profiles)
    on = record.switched_on
    assert on["terminal"] - on["reader"] == pytest.approx(15.0)
    assert any("before the reader had started" in p for p in problems), problems
    # Seen started once it had (22 s; looks and the camera's lag later), not at its switch.
    assert 22.0 <= record.reader_started - on["reader"] <= 22.0 + 2 * 5.0 + LAG_S
    assert record.reader_ready is not None  # it links: only the order is wrong
    # Switched on once its screens were seen dark and it was off USB, MIN_OFF_S after the
    # cut at least.
    events = late_bench.timeline.events()[since:]
    cut = max(e.t for e in events if e.kind == "power.switched" and not e.data["on"])
    assert on["reader"] - cut >= MIN_OFF_S
    first_on = next(k for k, e in enumerate(events)
                    if e.kind == "power.switched" and e.data["on"])
    dark = [e for e in events[:first_on] if e.kind == "screen.seen"
            and e.data["state"] == "off"]
    assert {e.source for e in dark} == {late_bench.camera_on("panasonic"),
                                        late_bench.camera_on(late_bench.spec.terminal.name)}


def test_on_stale_frames_the_same_late_reader_would_pass_the_edge(
        late_bench: Bench, profiles: ProfileSet, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the check above guards against: switched on at once after the cut (as before
    the fix), the lagging cameras show the lit bench at the switch-on."""
    monkeypatch.setattr(boot, "_see_off", lambda *args: None)
    _lagging(late_bench)
    record, problems = _earliest(late_bench, profiles)
    assert record.reader_started == record.switched_on["reader"]
    assert not any("before the reader had started" in p for p in problems), problems


def test_a_healthy_reader_passes_both_edges_on_lagging_cameras(default_bench: Bench,
                                                               profiles: ProfileSet) -> None:
    check = _boot01(profiles)
    for start in ("earliest", "latest"):
        _lagging(default_bench)
        steps = clock_steps(default_bench.spec, check, start, watched="panasonic")
        record = watch_start(default_bench, TwinHands(default_bench), "panasonic", steps)
        assert check_boot(check, record) == [], (start, record.summary())
    for name in ("panasonic", default_bench.spec.terminal.name):
        camera = default_bench.camera(default_bench.camera_on(name))
        assert isinstance(camera, EmulatedScreenSource)
        camera.lag_s = 0.0


def test_a_bench_never_seen_off_is_a_bench_fault(tmp_path: Path, profiles: ProfileSet,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    # A restore whose cut leaves the reader's mains on (a relay that did not switch).
    with Bench.load(deviant_bench_file(tmp_path, "stuck")) as bench:
        hands = TwinHands(bench)
        restore = hands.restore

        def stuck_restore(*args: object, **kwargs: object) -> None:
            restore(*args, **kwargs)  # type: ignore[arg-type]
            bench.emulation._set_twin_power("panasonic", True)  # the twin, not the relay

        monkeypatch.setattr(hands, "restore", stuck_restore)
        before = bench.clock.now()
        with pytest.raises(BenchFault) as caught:
            watch_start(bench, hands, "panasonic")
        fault = caught.value
        assert (fault.fault, fault.device) == ("boot.not_off", "panasonic, terminal")
        assert "panasonic's screen (cam-panasonic showed" in fault.detail
        assert "panasonic on USB" in fault.detail
        assert bench.clock.now() - before <= MIN_OFF_S + boot.DARK_BOUND_S + 1e-6
        # Nothing was switched on: no start was judged.
        assert not any(e.kind == "power.switched" and e.data["on"]
                       for e in bench.timeline.events() if e.t > before)
