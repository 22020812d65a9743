"""The robot finger (issue 16 item 3): the G-code driver against the emulated robot on a real
pty (moves, touches, the ok handshake, error/ALARM/silence named as bench faults within their
bound and the next command working after the reset), the calibration taking a reference
button to the point that presses it on the twin, a touch between buttons pressing nothing,
the card carried by the servo, and a flow driven with the robot's hands."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.bench import Bench
from harness.devices.robot import GcodeRobot
from harness.emulation.robot import EmulatedRobot
from harness.errors import BadInput, BenchFault
from harness.flows import run_flow
from harness.flows.drivers import Plan
from harness.hands import Patient
from harness.loading import load_yaml_model
from harness.model.bench_spec import BenchSpec
from harness.model.flow_rules import check_flow
from harness.model.profiles import FlowCheck, ProfileSet, default_profiles_dir
from harness.model.robot_calibration import ScreenToTable
from harness.model.robot_spec import AxisCard, RobotCalibration, RobotSpec, ServoCard
from harness.robot_hands import RobotHands, bench_hands
from harness.vision.evidence import EvidenceStore

DEFAULT_BENCH = Path(__file__).resolve().parents[1] / "fixtures" / "benches" / "emulated.yaml"
#: Canon's panel on the robot's table as it really stands (turned ~2°, 0.15 mm a pixel)...
PANEL = [[40.0, 30.0], [193.5, 35.4], [190.4, 125.3], [36.9, 119.9]]
#: ... and as the lab jogged to its corners (within half a millimetre).
JOGGED = [[40.2, 29.9], [193.4, 35.6], [190.5, 125.1], [36.8, 120.1]]
CARRIER = {"by": "servo", "servo": 0, "on_reader": 90, "off_reader": 10}
BOUND_S = 0.4


class Table:
    """What the driver's own tests put under the stylus: it says where it was touched."""

    def __init__(self) -> None:
        self.carriers: list[tuple[str, float]] = []

    def touched(self, x: float, y: float) -> str:
        return f"glass at {x:g},{y:g}"

    def carrier(self, key: str, value: float) -> None:
        self.carriers.append((key, value))


@pytest.fixture
def line() -> Iterator[tuple[EmulatedRobot, GcodeRobot]]:
    robot = EmulatedRobot(Table(), travel=(300, 200))
    driver = GcodeRobot(robot.port, reply_timeout_s=BOUND_S, motion_timeout_s=BOUND_S)
    try:
        yield robot, driver
    finally:
        driver.close()
        robot.stop()


def _since_reset(robot: EmulatedRobot) -> list[str]:
    at = len(robot.received) - robot.received[::-1].index("<reset>")
    return robot.received[at:]


# -- the driver on the line --------------------------------------------------------------------
def test_a_press_is_a_move_then_a_touch_each_line_after_the_last_ok(line) -> None:
    robot, driver = line
    robot.reply_delay_s = 0.01  # a line sent before the last reply would be counted
    driver.press_at(12.5, 40, 0.1)
    # First contact: reset, unlock, mm and absolute; then the move, finished before the touch.
    assert robot.received == ["<reset>", "$X", "G21", "G90", "G0 X12.500 Y40.000", "G4 P0",
                              "M3 S1000", "G4 P0.100", "M5", "G4 P0"]
    assert robot.overruns == 0
    assert robot.touches == [(12.5, 40.0, "glass at 12.5,40")]
    assert driver.position() == (12.5, 40.0, 0.0)
    assert not robot.spindle  # the stylus is up again
    driver.jog(5, -2.5)  # as when calibrating: relative, and absolute again after it
    assert driver.position() == (17.5, 37.5, 0.0)
    driver.move_to(20, 20)
    assert robot.received[-3:] == ["<status>", "G0 X20.000 Y20.000", "G4 P0"]
    assert driver.position() == (20.0, 20.0, 0.0)
    assert robot.touches == [(12.5, 40.0, "glass at 12.5,40")]


def test_a_z_touch_and_both_card_carriers(line) -> None:
    robot, _ = line
    robot.contact_z = -2.0
    driver = GcodeRobot(robot.port, touch_down="G0 Z-2.500", touch_up="G0 Z3.000")
    try:
        driver.press_at(100, 50, 0)
        driver.move_to(120, 50)  # moved with the stylus up: no second touch
        driver.card(ServoCard(by="servo", servo=1, on_reader=95, off_reader=5), on_reader=True)
        slide = AxisCard(by="axis", axis="A", on_reader=40, off_reader=0)
        driver.card(slide, on_reader=True)
        driver.card(slide, on_reader=False)
    finally:
        driver.close()
    assert robot.touches == [(100.0, 50.0, "glass at 100,50")]
    assert robot.position["Z"] == 3.0
    assert robot.desk.carriers == [("servo:1", 95.0), ("axis:A", 40.0),
                                    ("axis:A", 0.0)]  # type: ignore[union-attr]


def test_a_refused_line_is_robot_error_at_once_and_the_next_goes_through(line) -> None:
    robot, driver = line
    driver.move_to(1, 1)
    robot.refusing = True
    start = time.monotonic()
    with pytest.raises(BenchFault) as caught:
        driver.move_to(2, 3)
    assert time.monotonic() - start < BOUND_S
    assert caught.value.fault == "robot.error"
    assert caught.value.detail == "error:1 in reply to 'G0 X2.000 Y3.000'"
    robot.refusing = False
    driver.move_to(2, 3)
    assert robot.position["X"] == 2.0 and robot.position["Y"] == 3.0


def test_a_reply_outside_the_dialect_is_robot_error(line) -> None:
    robot, driver = line
    driver.move_to(1, 1)
    robot.garbage.append(b"\xf8\x80ok?\r\n")
    with pytest.raises(BenchFault) as caught:
        driver.move_to(5, 5)
    assert caught.value.fault == "robot.error"
    assert "is not GRBL's" in caught.value.detail
    driver.move_to(6, 6)  # the line brought back by a reset first
    assert _since_reset(robot) == ["$X", "G21", "G90", "G0 X6.000 Y6.000", "G4 P0"]


@pytest.mark.parametrize(("cause", "target", "said"), [
    ("limit_switch", (50.0, 50.0), "ALARM:1 (hard limit)"),
    (None, (400.0, 50.0), "ALARM:2 (soft limit)"),  # past the table's travel
])
def test_an_alarm_is_named_and_the_next_command_resets_and_unlocks(line, cause, target,
                                                                   said) -> None:
    robot, driver = line
    driver.move_to(10, 10)
    if cause:
        setattr(robot, cause, True)
    start = time.monotonic()
    with pytest.raises(BenchFault) as caught:
        driver.move_to(*target)
    assert time.monotonic() - start < BOUND_S
    assert caught.value.fault == "robot.alarm"
    assert caught.value.detail.startswith(said)
    assert robot.alarm is not None and robot.position["X"] == 10.0  # it did not go there
    if cause:
        setattr(robot, cause, False)
    driver.move_to(20, 30)
    assert robot.alarm is None and (robot.position["X"], robot.position["Y"]) == (20.0, 30.0)
    assert _since_reset(robot) == ["$X", "G21", "G90", "G0 X20.000 Y30.000", "G4 P0"]


def test_a_silent_robot_is_named_within_the_bound(line) -> None:
    robot, driver = line
    driver.move_to(1, 1)
    robot.silent = True
    start = time.monotonic()
    with pytest.raises(BenchFault) as caught:
        driver.move_to(2, 2)
    waited = time.monotonic() - start
    assert BOUND_S <= waited < BOUND_S + 0.3
    assert (caught.value.fault, caught.value.bound_s) == ("robot.silent", BOUND_S)
    assert caught.value.detail == f"no reply to 'G0 X2.000 Y2.000' within {BOUND_S:g} s"
    robot.silent = False
    driver.move_to(2, 2)
    assert robot.position["X"] == 2.0


# -- calibration -----------------------------------------------------------------------------
def test_calibration_fits_the_corners_and_names_a_point_that_disagrees() -> None:
    fit = ScreenToTable.of(RobotCalibration(corners=PANEL))  # type: ignore[arg-type]
    assert fit.table(0, 0) == pytest.approx(PANEL[0], abs=1e-6)
    assert fit.table(1, 1) == pytest.approx(PANEL[2], abs=1e-6)
    assert fit.screen(*fit.table(0.3, 0.7)) == pytest.approx((0.3, 0.7), abs=1e-9)
    centre = fit.table(0.5, 0.5)
    good = {"screen": [0.5, 0.5], "table": [centre[0] + 0.3, centre[1]]}
    assert RobotCalibration(corners=PANEL, points=[good]).tolerance_mm == 1.0  # type: ignore
    with pytest.raises(ValueError, match=r"points\[0\] lies 2\.\d\d mm from where"):
        RobotCalibration(corners=PANEL,  # type: ignore[arg-type]
                         points=[{"screen": [0.5, 0.5], "table": [centre[0], centre[1] + 3]}])
    with pytest.raises(ValueError, match="not top-left, top-right, bottom-right, bottom-left"):
        RobotCalibration(corners=[PANEL[0], PANEL[2], PANEL[1], PANEL[3]])  # type: ignore


# -- on the emulated bench ---------------------------------------------------------------------
#: The terminal's touch monitor beside the panel, as it stands and as the lab jogged to it.
MONITOR = [[220.0, 20.0], [460.0, 24.2], [457.6, 159.2], [217.6, 155.0]]
MONITOR_JOGGED = [[220.1, 20.2], [459.8, 24.1], [457.7, 159.0], [217.5, 155.2]]


def robot_block(calibration: list[list[float]]) -> dict[str, Any]:
    return {"port": "emulated", "reply_timeout_s": 1.0, "motion_timeout_s": 1.0,
            "readers": {"canon": {"calibration": {"corners": calibration}, "card": CARRIER}},
            "terminal": {"calibration": {"corners": MONITOR_JOGGED}},
            "emulate": {"travel": [480, 200], "screens": {"canon": PANEL, "terminal": MONITOR},
                        "cards": {"canon": {"servo": 0, "on_reader": 90}}}}


def bench_file(folder: Path, robot: dict[str, Any], name: str = "robot-bench") -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump({"base": str(DEFAULT_BENCH), "bench": name, "robot": robot},
                                   allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bench]:
    bench = Bench.load(bench_file(tmp_path_factory.mktemp("robot"), robot_block(JOGGED)))
    bench.open()
    try:
        yield bench
    finally:
        bench.close()


@pytest.fixture
def hands(bench: Bench) -> RobotHands:
    hands = bench_hands(bench)
    assert isinstance(hands, RobotHands)
    hands.restore("after_upgrade")
    bench.power_on()
    return hands


def test_the_calibrated_robot_presses_what_the_twin_shows_there(bench: Bench,
                                                               hands: RobotHands) -> None:
    robot = bench.emulation.robot  # type: ignore[union-attr]
    twin = hands.world.readers["canon"]
    assert twin.screen().has_button("smartphone")
    hands.press("canon", "smartphone")
    assert twin.state == "sp_choose"
    press = bench.timeline.events("robot.press")[-1].data
    assert (press["label"], press["reference"]) == ("スマートフォンを利用", "first@smartphone")
    assert robot.touches[-1][2] == "canon:smartphone"
    # By label too; the twin goes where its button says.
    hands.press("canon", "戻る")
    assert twin.state == "first" and robot.touches[-1][2] == "canon:cancel"


def test_a_touch_between_buttons_or_on_text_presses_nothing(bench: Bench,
                                                            hands: RobotHands) -> None:
    robot = bench.emulation.robot  # type: ignore[union-attr]
    twin = hands.world.readers["canon"]
    hands.press("canon", "smartphone")
    assert twin.state == "sp_choose"
    refs = bench.watcher("canon").classifier.references
    ref = refs.get("sp_choose")
    iphone, android = (ref.region(f"button:{b}").box for b in ("iPhone", "Android"))
    w, h = refs.size
    gap = ((iphone[0] + iphone[2] + android[0]) / 2 / w, (iphone[1] + iphone[3] / 2) / h)
    text = ref.region("text").box
    presses = len(bench.timeline.events("reader.press"))
    for u, v in (gap, ((text[0] + text[2] / 2) / w, (text[1] + text[3] / 2) / h)):
        assert bench.robot is not None
        bench.robot.press_at(*hands.calibrations["canon"].table(u, v), 0.05)
        assert robot.touches[-1][2] == "canon:nothing"
    assert twin.state == "sp_choose"
    assert len(bench.timeline.events("reader.press")) == presses
    # A button the screen does not show is not pressed, and the timeline says why.
    hands.press("canon", "staff")
    skipped = bench.timeline.events("robot.press_skipped")[-1].data
    assert skipped["reason"] == "no button 'staff' on the screen seen (sp_choose: iPhone, " \
                                "Android, 戻る)"
    assert twin.state == "sp_choose"


def test_a_calibration_off_by_a_finger_presses_beside_the_button(tmp_path: Path) -> None:
    shifted = [[x, y - 12.0] for x, y in JOGGED]  # the button is 83 px (12.5 mm) tall
    with Bench.load(bench_file(tmp_path, robot_block(shifted), "shifted")) as bench:
        hands = bench_hands(bench)
        hands.wait(200)
        hands.press("canon", "smartphone")
        assert hands.world.readers["canon"].state == "first"  # type: ignore[attr-defined]
        assert bench.emulation.robot.touches[-1][2] == "canon:nothing"  # type: ignore


def test_the_servo_carries_the_card_onto_the_reader_and_away(bench: Bench,
                                                             hands: RobotHands) -> None:
    twin = hands.world.readers["canon"]
    patient = Patient("patient-robot", "1234")
    hands.card_in("canon", patient)
    assert twin.card is not None and twin.card.label == "patient-robot"
    assert twin.state != "first"
    assert bench.emulation.robot.servos == {0: 90.0}  # type: ignore[union-attr]
    hands.card_out("canon")
    assert twin.card is None
    assert [e.data["card"] for e in bench.timeline.events("robot.card_loaded")][-1] == \
        "patient-robot"


def test_a_flow_pressed_by_the_robot_passes_sp01(bench: Bench, hands: RobotHands) -> None:
    profiles = ProfileSet.load(default_profiles_dir())
    flow = ("smartphone_iphone", ("not_paired",))
    before = len(bench.emulation.robot.touches)  # type: ignore[union-attr]
    record = run_flow(bench, hands, "canon", Plan.of(profiles["canon"], *flow))
    touched = [t[2] for t in bench.emulation.robot.touches[before:]]  # type: ignore
    # 戻る pressed on the hold screen (it must lead back), the way taken up again and
    # through; after the visit, 戻る on the phone's choice (then a patient's card, by the
    # face); then a second phone check-in (its completion gets the next card, hunt E-6).
    assert touched == ["canon:smartphone", "canon:iphone", "canon:cancel", "canon:smartphone",
                       "canon:iphone", "canon:smartphone", "canon:cancel", "canon:smartphone",
                       "canon:iphone"]
    checks = [c for r in profiles["canon"].requirements if r.id in ("SP-01", "SP-03")
              for c in r.checks if isinstance(c, FlowCheck) and c.flow == flow[0]]
    assert len(checks) == 2 and all(check_flow(c, record) == [] for c in checks)
    # SP-03 on the same run (tests/test_sp03.py): held over a general reader first, where
    # Canon must not take it and PC/SC saw it, then over Canon's front, which took it.
    general, front, *again = record.phone_holds
    assert [h.where for h in again] == [general.where, front.where]
    assert general.where != "front" and [s.reader for s in general.seen] == [general.where]
    assert front.where == "front" and front.seen == ()


def test_the_robot_presses_the_terminals_dialogs_on_its_touch_monitor(
        bench: Bench, hands: RobotHands, tmp_path: Path) -> None:
    robot = bench.emulation.robot  # type: ignore[union-attr]
    terminal = hands.world.terminal
    # A flow watching the terminal: its evidence store stays the flow's after the robot looks.
    store = EvidenceStore(tmp_path / "evidence")
    bench.watcher("terminal", evidence=store)
    terminal._open_dialog("check_error_1", "canon")  # E901's first dialog
    hands.terminal_press("OK")
    assert [d.id for d in terminal.dialogs] == ["check_error_2"]  # the dialog's own next
    press = bench.timeline.events("robot.press")[-1].data
    assert (press["reader"], press["label"], press["reference"]) == \
        ("terminal", "OK", "check_error_1")
    refs = bench.watcher("terminal", keep_evidence=True).classifier.references
    x, y, w, h = refs.get("check_error_1").region("button:OK").box
    ok = hands.calibrations["terminal"].table((x + w / 2) / refs.size[0],
                                              (y + h / 2) / refs.size[1])
    assert press["at"] == [round(v, 2) for v in ok]
    assert robot.touches[-1] == (pytest.approx(ok[0], abs=1e-3), pytest.approx(ok[1], abs=1e-3),
                                 "terminal:OK")  # G-code carries 3 decimals
    assert bench.watcher("terminal", keep_evidence=True).evidence is store
    # A touch on the dialog's text, not its button, presses nothing.
    x, y, w, h = refs.get("check_error_2").region("text").box
    assert bench.robot is not None
    bench.robot.press_at(*hands.calibrations["terminal"].table(
        (x + w / 2) / refs.size[0], (y + h / 2) / refs.size[1]), 0.05)
    assert robot.touches[-1][2] == "terminal:nothing"
    assert [d.id for d in terminal.dialogs] == ["check_error_2"]
    hands.terminal_press("OK")
    assert terminal.dialogs == []
    # No dialog: nothing to press, and the timeline says why; nothing was touched.
    touches = len(robot.touches)
    hands.terminal_press("OK")
    assert bench.timeline.events("robot.press_skipped")[-1].data == {
        "reader": "terminal", "button": "OK",
        "reason": "no button 'OK' on the screen seen (desktop: no buttons)"}
    assert len(robot.touches) == touches
    # A robot that does not press leaves the terminal's buttons to the other hands.
    other = RobotHands(bench, bench.robot, bench.spec.robot.model_copy(  # type: ignore
        update={"does": ["card"]}), hands.other, hands.load_card)
    terminal._open_dialog("check_error_1", "canon")
    other.terminal_press("OK")
    assert len(robot.touches) == touches and [d.id for d in terminal.dialogs] == \
        ["check_error_2"]
    terminal.press("OK")


def test_a_press_on_the_terminal_that_does_not_register_is_a_bench_fault(
        tmp_path: Path) -> None:
    """Hunt R7: the robot's table knocked 10 mm after calibrating; its press of the
    terminal's OK landed beside it and six requirements failed against the maker, though the
    rig saw its own press change nothing. The terminal is the bench's: robot.missed, with
    what was pressed and seen."""
    block = robot_block(JOGGED)
    block["terminal"]["calibration"]["corners"] = [[x, y - 10.0] for x, y in MONITOR_JOGGED]
    with Bench.load(bench_file(tmp_path, block, "knocked")) as bench:
        hands = bench_hands(bench)
        assert isinstance(hands, RobotHands)
        terminal = hands.world.terminal
        terminal._open_dialog("check_error_1", "canon")
        hands.terminal_press("OK")
        # The flow waits for the next dialog, looking at the terminal as it goes.
        watcher = bench.watcher("terminal")
        hands.wait(2)
        watcher.look()
        hands.wait(4)  # still within the bound: the terminal may be slow to close it
        watcher.look()
        with pytest.raises(BenchFault) as caught:
            hands.wait(1)
        assert caught.value.fault == "robot.missed"
        assert "pressed 'OK' on the terminal's check_error_1" in caught.value.detail
        assert "still saw check_error_1 at" in caught.value.detail
        assert "the press did not register" in caught.value.detail
        assert [d.id for d in terminal.dialogs] == ["check_error_1"]
        assert bench.timeline.events("robot.missed")


def test_robot_missed_injected_strikes_the_terminal_press_not_a_reader_press(
        bench: Bench, hands: RobotHands) -> None:
    """The injected fault: no touch is felt. On the terminal the rig names it; on a reader's
    panel it is left to the flow (a reader that ignores touches must still fail)."""
    terminal = hands.world.terminal
    terminal._open_dialog("check_error_1", "canon")
    bench.faults.inject("robot.missed")
    try:
        hands.terminal_press("OK")
        hands.wait(6)
        bench.watcher("terminal").look()
        with pytest.raises(BenchFault) as caught:
            hands.wait(1)
        assert caught.value.fault == "robot.missed"
        state = hands.world.readers["canon"].state
        hands.press("canon", "smartphone")
        assert hands.world.readers["canon"].state == state
    finally:
        bench.faults.clear()
    hands.terminal_press("OK")
    hands.terminal_press("OK")
    assert terminal.dialogs == []


def test_a_robot_on_the_terminal_needs_a_camera_on_it() -> None:
    spec = load_yaml_model(DEFAULT_BENCH, BenchSpec, layered=True)
    robot = RobotSpec.model_validate({**robot_block(JOGGED), "port": "emulated"})
    blind = spec.model_copy(update={"cameras": [c for c in spec.cameras
                                                if c.watches != "terminal"]})
    assert robot.problems(spec) == []
    assert robot.problems(blind) == [(("robot", "terminal"), (
        "robot.terminal: no camera watches 'terminal': the robot finds a dialog's button by "
        "what the camera sees"))]
    card_only = robot.model_copy(update={"does": ["card"]})
    assert card_only.problems(blind) == []


def test_a_robot_fault_injected_on_the_bench_is_named_then_cleared(bench: Bench,
                                                                  hands: RobotHands) -> None:
    bench.faults.inject("robot.alarm")
    try:
        with pytest.raises(BenchFault) as caught:
            hands.press("canon", "smartphone")
        assert caught.value.fault == "robot.alarm"
    finally:
        bench.faults.clear()
    hands.press("canon", "smartphone")
    assert hands.world.readers["canon"].state == "sp_choose"


def test_a_robot_block_that_does_not_fit_the_bench_is_named(tmp_path: Path) -> None:
    block = robot_block(JOGGED)
    block["readers"]["nobody"] = block["readers"]["canon"]
    block["port"] = "/dev/ttyUSB0"
    with pytest.raises(BadInput) as caught:
        load_yaml_model(bench_file(tmp_path, block), BenchSpec, layered=True)
    text = str(caught.value)
    assert "robot.readers: no face-auth reader named 'nobody'" in text
    assert "robot.port must be 'emulated' here" in text
