"""Bench faults on the bench's lines and its operator, injected on the emulated bench:
``relay.garbage`` and ``relay.silent`` (the Numato board's serial line, a real pty),
``network.dropped`` (the lab's uplink under the terminal's network) and
``operator.silent`` (a scripted operator who never answers). Each: the named outcome (kind,
device, what was seen), within its bound, and the same bench doing the same thing again
once the fault is cleared; and no fault named on a healthy bench or for what the flow (or
the reader) did itself."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from harness.bench import Bench, default_bench_path
from harness.devices.instruments import (
    EMULATED_REPLY_TIMEOUT_S,
    REPLY_TIMEOUT_S,
    RelayGarbage,
    RelaySilent,
)
from harness.emulation.hands import TwinHands
from harness.errors import BenchFault, DeviceGone, RigError
from harness.flows import run_flow
from harness.flows.boot import watch_start
from harness.flows.drivers import Plan
from harness.flows.runner import FlowRun
from harness.hands import OWN_PIN, ManualHands, Patient
from harness.model.profiles import ProfileSet, default_profiles_dir
from harness.operator import OperatorRefused, OperatorSilent

#: The relay of the default bench, and a device it switches.
RELAY, DEVICE = "mains", "canon"
#: A flow that touches no network and ends on the first screen (cheap once warm).
QUIET = ("first_screen", ("no_passcode_issued",))


@pytest.fixture(scope="module")
def bench() -> Iterator[Bench]:
    bench = Bench.load(default_bench_path()).open()
    try:
        yield bench
    finally:
        bench.close()


@pytest.fixture(autouse=True)
def cleared(bench: Bench) -> Iterator[None]:
    yield
    bench.faults.clear()


@pytest.fixture(scope="module")
def profiles() -> ProfileSet:
    return ProfileSet.load(default_profiles_dir())


def timed(action: object) -> tuple[BaseException | None, float]:
    started = time.monotonic()
    try:
        action()  # type: ignore[operator]
    except BaseException as exc:  # noqa: BLE001 - handed back to the test
        return exc, time.monotonic() - started
    return None, time.monotonic() - started


# -- relay.garbage, relay.silent ------------------------------------------------------------

def test_a_garbled_relay_line_is_named_at_once_and_the_line_resyncs(bench: Bench) -> None:
    board = bench.emulation.relay_boards[RELAY]
    bench.switch(DEVICE, True)  # a session in step
    bench.faults.inject("relay.garbage", RELAY)
    error, elapsed = timed(lambda: bench.switch(DEVICE, False))
    assert isinstance(error, RelayGarbage) and isinstance(error, BenchFault), error
    assert (error.fault, error.device) == ("relay.garbage", RELAY)
    # What came back, shown escaped, and the command it answered.
    assert error.detail.startswith("reply '\\x") and "to 'relay off 2'" in error.detail
    assert str(error).startswith("bench fault (relay.garbage): mains: reply ")
    assert elapsed < REPLY_TIMEOUT_S / 2, elapsed  # at once, not after the timeout
    # The line is now out of step: the next command resyncs first and is named at once too.
    error, elapsed = timed(lambda: bench.switch(DEVICE, True))
    assert isinstance(error, RelayGarbage) and elapsed < REPLY_TIMEOUT_S / 2, (error, elapsed)

    bench.faults.clear()
    assert bench.faults.active() == []
    bench.switch(DEVICE, False)  # resynced: the half-read replies are gone
    bench.switch(DEVICE, True)
    assert board.named_states()[DEVICE] is True
    assert bench.relays[RELAY].is_on(2)


def test_a_silent_relay_is_named_after_the_serial_timeout(bench: Bench) -> None:
    board = bench.emulation.relay_boards[RELAY]
    bench.switch(DEVICE, False)
    bench.faults.inject("relay.silent", RELAY)
    error, elapsed = timed(lambda: bench.switch(DEVICE, True))
    assert isinstance(error, RelaySilent), error
    # The emulated board's bound: wider than a real one's, which a loaded machine outlasted.
    bound = EMULATED_REPLY_TIMEOUT_S
    assert bound > REPLY_TIMEOUT_S
    assert (error.fault, error.device, error.bound_s) == ("relay.silent", RELAY, bound)
    assert error.detail.startswith(f"no reply to 'relay on 2' within {bound:g} s")
    # Bounded in wall time: the timeout, give or take the poll and a loaded machine.
    assert bound * 0.9 <= elapsed < bound + 1.5, elapsed
    assert not board.named_states()[DEVICE]  # the board took nothing

    bench.faults.clear()
    bench.switch(DEVICE, True)
    assert board.named_states()[DEVICE]


def test_boot_stopped_by_a_silent_relay_is_a_bench_fault_then_the_routine_runs(
        bench: Bench) -> None:
    # The BOOT runner: its first switch (the restore's all-off) meets the silent board.
    bench.faults.inject("relay.silent", RELAY)
    with pytest.raises(BenchFault) as caught:
        watch_start(bench, TwinHands(bench), "panasonic")
    assert (caught.value.fault, caught.value.device) == ("relay.silent", RELAY)
    bench.faults.clear()

    # The bench file's power-on routine (what BOOT runs), struck in its first wait:
    # the readers are on, the terminal's switch meets the silent board.
    bench.switch_all_off()
    bench.faults.inject("relay.silent", RELAY, after_s=10)
    with pytest.raises(RelaySilent) as silent:
        bench.power_on()
    assert "'relay on 0'" in silent.value.detail  # the terminal's channel, switched next
    assert bench.faults.active() == [("relay.silent", RELAY)]

    bench.faults.clear()
    bench.switch_all_off()
    since = len(bench.timeline)
    bench.power_on()
    switched = [e.source for e in bench.timeline.events()[since:]
                if e.kind == "power.switched" and e.data["on"]]
    order = [name for step in bench.spec.power_on or [] for name in step.switch_on]
    assert switched == order
    assert all(bench.emulation.relay_boards[RELAY].named_states().values())


def test_an_unplugged_relay_is_not_called_garbage_or_silence() -> None:
    with Bench.load(default_bench_path()) as bench:
        bench.emulation.relay_boards[RELAY].stop()
        with pytest.raises(DeviceGone) as caught:
            bench.switch(DEVICE, False)
    assert not isinstance(caught.value, BenchFault)


# -- network.dropped --------------------------------------------------------------------------

def test_a_network_dropped_mid_check_is_named_and_the_next_check_passes(
        bench: Bench, profiles: ProfileSet) -> None:
    plan = Plan.of(profiles["canon"], *QUIET)
    hands = TwinHands(bench)
    run_flow(bench, hands, "canon", plan)  # healthy: no fault (and the camera warm)
    started = bench.clock.now()
    bench.faults.inject("network.dropped", after_s=60)  # while the bench starts up
    with pytest.raises(BenchFault) as caught:
        run_flow(bench, hands, "canon", plan)
    ended = bench.clock.now()
    fault = caught.value
    assert (fault.fault, fault.device) == ("network.dropped", "network")
    down = float(fault.detail.split("down from t=")[1].split(" s")[0])
    # Noticed within the check it happened in: the drop began in it, and was named by it.
    assert started < down < ended and "(still down)" in fault.detail
    assert "during first_screen on canon, which had not cut it" in fault.detail

    bench.faults.clear()
    record = run_flow(bench, hands, "canon", plan)
    assert not record.problems and not record.unmet
    # (the first screen, a visit, the first screen again: drive_look_at_first)
    shows = [s.shows for s in record.screens]
    assert shows[0] == shows[-1] == "first" and "completion" in shows, shows

    # A flow that pulls the LAN cable itself: the drop is what it tests, not a bench fault.
    cut = ("network_error", ("network_down",))
    record = run_flow(bench, hands, "canon", Plan.of(profiles["canon"], *cut))
    assert [a.what for a in record.actions if a.what == "lan_out"] == ["lan_out"]
    assert "error_network" in [s.shows for s in record.screens]


def test_the_flows_own_cut_and_the_last_runs_are_not_bench_faults(bench: Bench) -> None:
    hands = TwinHands(bench)
    morning = bench.spec.clock.start
    run = FlowRun(bench, hands, "canon", "network_error")
    run.hands.restore("after_upgrade", morning)
    run.hands.wait(5)
    run.hands.lan_cable(seated=False)  # the flow cuts the network: its own business
    run.hands.wait(30)
    run.check_network()

    # The next run starts with the cable still out, until its restore puts it back.
    run = FlowRun(bench, hands, "canon", "first_screen")
    run.hands.wait(3)
    run.hands.restore("after_upgrade", morning)
    run.hands.wait(30)
    run.check_network()

    # A drop struck before the run outlives its restore (the lab's uplink, not the twins').
    bench.faults.inject("network.dropped")
    run = FlowRun(bench, hands, "canon", "first_screen")
    run.hands.restore("after_upgrade", morning)
    run.hands.wait(5)
    with pytest.raises(BenchFault, match=r"\(still down\)"):
        run.check_network()
    bench.faults.clear()

    # A drop before the flow's own cut is the bench's, whatever the flow does after.
    run = FlowRun(bench, hands, "canon", "network_error")
    run.hands.restore("after_upgrade", morning)
    bench.faults.inject("network.dropped", after_s=4)
    run.hands.wait(5)
    bench.faults.clear()
    run.hands.wait(5)
    run.hands.lan_cable(seated=False)
    with pytest.raises(BenchFault) as caught:
        run.check_network()
    start = run.started
    assert caught.value.detail.startswith("down from t=")
    assert "(still down)" not in caught.value.detail  # it came back before the flow's cut
    assert f"t={start + 4:.1f} s to t={start + 5:.1f} s" in caught.value.detail


def test_a_bench_without_a_network_monitor_names_no_drop(bench: Bench) -> None:
    run = FlowRun(bench, TwinHands(bench), "canon", "first_screen")
    monitor, bench.network_monitor = bench.network_monitor, None
    try:
        bench.faults.inject("network.dropped")
        run.hands.wait(5)
        run.check_network()  # it cannot tell: the flow's own rules judge what it saw
    finally:
        bench.network_monitor = monitor
    with pytest.raises(BenchFault):
        run.check_network()


# -- operator.silent --------------------------------------------------------------------------

def test_the_emulated_bench_has_no_operator_to_silence(bench: Bench) -> None:
    with pytest.raises(RigError) as caught:
        bench.faults.inject("operator.silent")
    assert "has no operator" in str(caught.value) and "\n" not in str(caught.value)
    assert not isinstance(caught.value, BenchFault)


OPERATOR_BENCH = {"bench": "with-operator", "kind": "emulated",
                  "operator": {"timeout_s": 45, "script": "operator.yaml"}}
SCRIPT = """
- {ask: "PIN", never: true}
- {ask: "take the card out", after_s: 44}
- {ask: "LAN cable", answer: "no"}
- {ask: ".", after_s: 2}
"""


def test_an_operator_who_never_answers_is_named_within_the_bound(tmp_path: Path) -> None:
    path = tmp_path / "bench.yaml"
    path.write_text(yaml.safe_dump({"base": str(default_bench_path()), **OPERATOR_BENCH}),
                    encoding="utf-8")
    (tmp_path / "operator.yaml").write_text(SCRIPT, encoding="utf-8")
    with Bench.load(path) as bench:
        hands = ManualHands.for_bench(bench)
        before = bench.clock.now()
        with pytest.raises(OperatorSilent) as caught:
            hands.pin("canon", "8642", entry=OWN_PIN)
        fault = caught.value
        assert (fault.fault, fault.device, fault.bound_s) == ("operator.silent", "operator", 45)
        assert str(fault) == ("bench fault (operator.silent): operator: no answer to "
                              "'type the card's own PIN **** on canon' within 45 s")
        assert bench.clock.now() - before == 45  # the bound, on the bench clock
        assert "8642" not in repr(vars(fault)) + str(fault)

        # Within the bound is an answer; a refusal is the operator's word, not silence.
        hands.card_out("canon")
        assert bench.clock.now() - before == 45 + 44
        with pytest.raises(OperatorRefused) as refused:
            hands.lan_cable(seated=False)
        # The bench could not do the step: its own bench fault, naming the step and the
        # person's words (the requirement is not run, never failed against the maker).
        assert (refused.value.fault, refused.value.device) == ("operator.refused", "operator")
        assert str(refused.value) == ("bench fault (operator.refused): operator: refused: "
                                      "loosen the terminal's LAN cable (answered 'no' after "
                                      "0.0 s)")
        hands.card_in("canon", Patient("patient-1", "1111"))  # the next step: answered
        kinds = [e.kind for e in bench.timeline.events() if e.source == "operator"]
        assert kinds == ["operator.asked", "operator.timeout", "operator.asked",
                         "operator.answered", "operator.asked", "operator.refused",
                         "operator.asked", "operator.answered"]


def test_a_fault_that_never_struck_is_said(bench: Bench) -> None:
    """A bench file's fault whose ``after_s`` the test outlived: clearing says it never
    struck (the plugin then stops the test as a bench fault, not a pass as if struck)."""
    bench.faults.inject("relay.silent", RELAY, after_s=80_000)
    bench.faults.inject("relay.garbage", RELAY)
    assert bench.faults.clear() == [("relay.silent", RELAY)]
    assert bench.faults.clear() == []
