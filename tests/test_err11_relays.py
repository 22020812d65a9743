"""ERR-11 on a bench whose router (and PC) are on relay channels: the bench file's
``network.router`` and ``terminal.power`` (the support vendor's お知らせ 《 オンライン資格確認端末のネットワーク関連の
トラブル時に… 》 ②: PCの電源オンオフや再起動 (復旧しない場合はルーターの再起動)).

The real bench's hands (ManualHands) power-cycle the PC and then the router through the
channels the bench file names, on the emulated bench's Numato board on its pty, whose
channels power the twins: the board itself says which channel went off and on and when.

Which wrong hands or bench a weaker check would pass: hands that ask the operator although
the bench names a relay (the operator here refuses everything); that switch another channel
(the board's events are by channel and name); that switch on before off, or leave no time
off (the board's times against the bench file's off time); a router that comes back at once
or whose mains on alone clear its fault (the twin's tests); a bench file whose router relay
is unknown, out of range, or shares a channel (bad input, exit 2).
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml
from flow_helpers import DEFAULT_BENCH, Flow, failed, judge, open_bench

from harness.bench import Bench, check_bench_file
from harness.cli import main
from harness.emulation.behaviour import NetworkBehaviour
from harness.emulation.hands import TwinHands
from harness.emulation.network import NetworkTwin
from harness.errors import BadInput
from harness.flows import run_flow
from harness.flows.drivers import Plan
from harness.hands import ManualHands
from harness.model.bench_spec import BenchSpec
from harness.model.clock import VirtualClock
from harness.model.profiles import ProfileSet
from harness.model.timeline import Event, Timeline
from harness.operator import CallableOperator

ROUTER_FLOW: Flow = ("network_recovery", ("network_stuck_router",))
READER = "usen_almex"
#: The default bench's mains board: channels 0-6 switch its devices, 7 is free.
ROUTER_CHANNEL = 7
#: Not the default (10 s): the bench file's off time is the one used.
ROUTER_OFF_S = 25.0


def _bench_file(folder: Path, network: dict[str, Any], name: str = "router-on-a-relay",
                **more: Any) -> Path:
    data = {"base": str(DEFAULT_BENCH), "bench": name, "network": network, **more}
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False),
                    encoding="utf-8")
    return path


class RelayTwinHands(TwinHands):
    """The twins' hands, but for the PC's restart and the router's: those are the real
    bench's hands (ManualHands.for_bench), which switch the relay channels the bench file
    names. Its operator refuses everything: a step asked of a person fails the run."""

    def __init__(self, bench: Bench) -> None:
        super().__init__(bench)
        self.real = ManualHands.for_bench(bench)
        self.real.operator = CallableOperator(lambda question: "no", bench.clock)

    def restart_pc(self) -> None:
        self.real.restart_pc()

    def router_restart(self) -> None:
        self.real.router_restart()


def _board_events(bench: Bench, channel: int) -> list[Event]:
    return [e for e in bench.timeline.events()
            if e.kind in ("power.on", "power.off") and e.data.get("channel") == channel]


@pytest.fixture(scope="module")
def router_bench(tmp_path_factory: pytest.TempPathFactory) -> Any:
    path = _bench_file(tmp_path_factory.mktemp("router"),
                       {"router": {"relay": "mains", "channel": ROUTER_CHANNEL},
                        "router_off_s": ROUTER_OFF_S})
    yield from open_bench(path)


def test_the_router_is_switched_on_as_the_bench_opens(router_bench: Bench) -> None:
    assert router_bench.emulation is not None
    board = router_bench.emulation.relay_boards["mains"]
    assert board.state(ROUTER_CHANNEL)
    opened = _board_events(router_bench, ROUTER_CHANNEL)
    assert [(e.source, e.kind) for e in opened][:1] == [("router", "power.on")]
    assert router_bench.emulation.world.network.up


def test_err11_power_cycles_the_pc_then_the_router_through_their_channels(
        router_bench: Bench, profiles: ProfileSet) -> None:
    maker = router_bench.reader(READER).maker
    start = router_bench.clock.now()
    record = run_flow(router_bench, RelayTwinHands(router_bench), READER,
                      Plan.of(profiles[maker], *ROUTER_FLOW))
    judged = judge(profiles, maker, record, ROUTER_FLOW)
    assert set(judged) == {"ERR-11"} and failed(judged) == set(), judged
    remedies = [a for a in record.actions if a.what in ("reboot_terminal", "router_restart")]
    assert [a.what for a in remedies] == ["reboot_terminal", "router_restart"]
    pc_t, router_t = (a.t for a in remedies)

    # The board's own events: the terminal's channel off then on at the PC's step (the
    # bench file's default off time), the router's channel off then on at the router's,
    # off for the bench file's time; nothing else switched during the flow.
    terminal_link = router_bench.spec.terminal.power
    assert terminal_link is not None and terminal_link.relay == "mains"
    switched = [(e.t, e.source, e.kind, e.data["channel"]) for e in router_bench.timeline.events()
                if e.kind in ("power.on", "power.off") and e.t >= pc_t]
    pc_off = router_bench.spec.terminal.power_off_s
    assert switched == [
        (pc_t, "terminal", "power.off", terminal_link.channel),
        (pc_t + pc_off, "terminal", "power.on", terminal_link.channel),
        (router_t, "router", "power.off", ROUTER_CHANNEL),
        (router_t + ROUTER_OFF_S, "router", "power.on", ROUTER_CHANNEL)]
    assert router_bench.emulation is not None
    assert router_bench.emulation.relay_boards["mains"].state(ROUTER_CHANNEL)

    # The rig's record of what it switched, and the twins' of what they felt: the router's
    # mains, and the fault cleared by the router only after it came back.
    events = [e for e in router_bench.timeline.events() if e.t >= start]
    assert [(e.t, e.data["on"]) for e in events
            if (e.source, e.kind) == ("router", "power.switched")] == [
        (router_t, False), (router_t + ROUTER_OFF_S, True)]
    net = [(e.kind, e.data) for e in events if e.source == "network"
           and e.kind in ("network.router_power", "network.router_restart", "network.unstuck")]
    assert net == [("network.router_power", {"on": False}),
                   ("network.router_power", {"on": True}),
                   ("network.unstuck", {"fault": "router_stuck", "by": "router"})]
    unstuck = next(e.t for e in events if e.kind == "network.unstuck")
    back_s = router_bench.emulation.world.network.behaviour.router_restart_seconds
    assert unstuck == pytest.approx(router_t + ROUTER_OFF_S + back_s)
    # Nobody was asked: the relay did both.
    assert not [e for e in events if e.source == "operator"]


# -- the twin's router on its mains ---------------------------------------------------------
def _twin() -> tuple[NetworkTwin, VirtualClock]:
    clock = VirtualClock()
    twin = NetworkTwin(NetworkBehaviour(router_restart_seconds=60), clock, Timeline(clock))
    twin.set_stuck("router_stuck")
    return twin, clock


def test_the_twins_router_is_down_while_off_and_back_a_start_after_its_mains_return() -> None:
    twin, clock = _twin()
    twin.set_router_power(False)
    clock.advance(300)
    assert (twin.stuck, twin.why_down()) == ("router_stuck", "the router is restarting")
    twin.set_router_power(True)
    clock.advance(59.9)
    assert not twin.up and twin.stuck == "router_stuck"
    clock.advance(0.2)
    assert twin.up and twin.stuck is None


def test_the_twins_router_switched_on_while_on_clears_nothing() -> None:
    twin, clock = _twin()
    twin.set_router_power(True)
    clock.advance(120)
    assert twin.stuck == "router_stuck"
    # Off again before it came back: the first start's return does not count.
    twin.set_router_power(False)
    twin.set_router_power(True)
    clock.advance(30)
    twin.set_router_power(False)
    clock.advance(60)
    assert not twin.up and twin.stuck == "router_stuck"
    # A restart by hand while its mains are off does nothing.
    twin.restart_router()
    clock.advance(120)
    assert not twin.up and twin.stuck == "router_stuck"


# -- without a relay the operator is asked ------------------------------------------------------
def test_without_relays_the_operator_restarts_the_pc_and_the_router() -> None:
    spec = BenchSpec.model_validate({"bench": "b", "kind": "real"})
    clock = VirtualClock()
    bench = SimpleNamespace(spec=spec, path=Path("b.yaml"), clock=clock,
                            timeline=Timeline(clock))
    hands = ManualHands.for_bench(bench)  # type: ignore[arg-type]
    asked: list[str] = []
    hands.operator = CallableOperator(lambda q: asked.append(q) or "", clock)
    hands.restart_pc()
    hands.router_restart()
    assert len(asked) == 2
    assert "restart or power-cycle the eligibility terminal" in asked[0]
    assert "restart the router" in asked[1]


def test_the_default_off_times() -> None:
    spec = BenchSpec.model_validate({"bench": "b", "kind": "real"})
    assert (spec.network.router, spec.network.router_off_s) == (None, 10.0)
    assert spec.terminal.power_off_s == 10.0


# -- bad input ----------------------------------------------------------------------------------
@pytest.mark.parametrize(("network", "field", "problem"), [
    pytest.param({"router": {"relay": "nope", "channel": 7}}, "network.router.relay",
                 "network.router: no instrument named 'nope'", id="unknown-relay"),
    pytest.param({"router": {"relay": "mains", "channel": 8}}, "network.router.channel",
                 "network.router: relay 'mains' has channels 0..7", id="channel-out-of-range"),
    pytest.param({"router": {"relay": "mains", "channel": 0}}, "network.router.channel",
                 "network.router: relay 'mains' channel 0 already switches terminal",
                 id="terminal-channel"),
    pytest.param({"switch": {"relay": "mains", "channel": 7},
                  "router": {"relay": "mains", "channel": 7}}, "network.router.channel",
                 "network.router: relay 'mains' channel 7 already switches network.switch",
                 id="the-line-switch-channel"),
    pytest.param({"router": {"relay": "mains", "channel": 7}, "router_off_s": 0},
                 "network.router_off_s", "greater than 0", id="no-off-time"),
    pytest.param({"router": {"relay": "mains", "channel": 7}, "router_off_s": 601},
                 "network.router_off_s", "less than or equal to 600", id="off-too-long"),
])
def test_a_bad_router_link_is_bad_input(tmp_path: Path, network: dict[str, Any], field: str,
                                        problem: str) -> None:
    path = _bench_file(tmp_path, network)
    with pytest.raises(BadInput) as caught:
        check_bench_file(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    mine = [p for p in caught.value.problems if p.field == field]
    assert mine and problem in mine[0].problem, caught.value
    assert mine[0].path == str(path)
    # The line of the offending key in the deriving file.
    assert mine[0].line is not None and field.rsplit(".", 1)[-1] in lines[mine[0].line - 1]


def test_a_device_named_router_beside_a_router_relay_is_bad_input(tmp_path: Path) -> None:
    path = _bench_file(tmp_path, {"router": {"relay": "mains", "channel": 7}},
                       receipt_computer={"name": "router"})
    with pytest.raises(BadInput, match="names used twice: router"):
        check_bench_file(path)


def test_the_cli_says_file_line_field_problem_and_exits_2(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _bench_file(tmp_path, {"router": {"relay": "nope", "channel": 7}})
    assert main(["pcscd-config", "--bench", str(path)]) == 2
    err = capsys.readouterr().err
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1)
                if "relay: nope" in text)
    assert f"{path}:{line}: network.router.relay: network.router: no instrument named " \
           "'nope'" in err
    assert "Traceback" not in err
