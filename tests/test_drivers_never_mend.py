"""Drivers follow the notice's procedure and observe; they never mend a fault.

Each maker's bench is switched on by its own routine (its profile's boot_order, or the neutral
routine where the notices give none); a reader that does not reach its first screen that way
fails the run's checks with what it showed: nobody presses its power button or restarts the
terminal for it. SP-04 restarts what the maker's notice says (Panasonic, ALMEX: the management
app; the others: the terminal) and nothing more.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flow_helpers import (
    BENCHES,
    DEFAULT_BENCH,
    deviant_bench_file,
    failed,
    open_bench,
    run_judged,
)

from harness.bench import Bench, load_bench_spec
from harness.emulation.hands import TwinHands
from harness.flows import run_flow
from harness.flows.drivers import Plan
from harness.flows.power_on import (
    APART_S,
    NEUTRAL,
    READER_FIRST_S,
    PowerRoutine,
    PowerStep,
    clock_steps,
)
from harness.model.boot_rules import WITH_TERMINAL_S
from harness.model.flow_rules import check_flow
from harness.model.profiles import FlowCheck, ProfileSet

PAIRING = ("pairing", ("not_paired",))
CONSENT = ("consent", ())


@pytest.fixture(scope="module")
def pairing_bench() -> Iterator[Bench]:
    yield from open_bench(BENCHES / "deviant-pairing.yaml")


@pytest.fixture(scope="module")
def boot_bench() -> Iterator[Bench]:
    yield from open_bench(BENCHES / "deviant-boot.yaml")


def _reboots(bench: Bench, since: int) -> list[str]:
    return [e.kind for e in bench.timeline.events()[since:] if e.kind == "terminal.reboot"]


# -- the routines, from the profiles ------------------------------------------------------------
def test_each_makers_routine_comes_from_its_profile(profiles: ProfileSet) -> None:
    panasonic = PowerRoutine.of(profiles["panasonic"])
    # BOOT-01: the reader; the terminal 15 s after it at the earliest (once it has started),
    # 30 s at the latest; then the receipt computer.
    assert panasonic.steps == (
        PowerStep(("reader",)),
        PowerStep(("terminal",), 15.0, 30.0, once_reader_started=True),
        PowerStep(("receipt_computer",)))
    assert panasonic.source.startswith("BOOT-01")
    # BOOT-02: the terminal, the reader (powered) starting with it; the receipt computer once
    # the reader has started.
    atlas = PowerRoutine.of(profiles["atlas"])
    assert atlas.steps == (PowerStep(("reader", "terminal")),
                           PowerStep(("receipt_computer",), once_reader_started=True))
    # No order in the notices: no head start for the reader, no wait for it.
    for maker in ("canon", "usen_almex", "fujitsu_japan"):
        routine = PowerRoutine.of(profiles[maker])
        assert routine.source == NEUTRAL
        assert routine.steps == (PowerStep(("reader", "terminal")),
                                 PowerStep(("receipt_computer",)))


def test_an_orders_edges_are_switched_by_the_clock(profiles: ProfileSet) -> None:
    """BOOT-01's window at each edge: every face-auth reader, then the terminal exactly 15
    (30) s later without waiting to see the reader started, then the receipt computer; a
    real bench aims a quarter of a wall second inside (times its clock's scale). BOOT-02's
    reader, which starts with the terminal, powered three minutes before it (as long as it may take to start with it)."""
    spec = load_bench_spec(DEFAULT_BENCH)
    _, window = profiles["panasonic"].boot_order()  # type: ignore[misc]
    assert window.clock_starts == ("earliest", "latest")
    readers = [r.name for r in spec.readers if r.kind == "face_auth_reader"]
    terminal, receipt = [spec.terminal.name], [spec.receipt_computer.name]
    for edge, wait, real in (("earliest", 15.0, 15.25), ("latest", 30.0, 29.75)):
        for emulated, expected in ((True, wait), (False, real)):
            steps = clock_steps(spec, window, edge, emulated=emulated)
            assert [(s.switch_on, s.wait_s) for s in steps] == [
                (readers, expected), (terminal, APART_S), (receipt, 0.0)], (edge, emulated)
    _, order = profiles["atlas"].boot_order()  # type: ignore[misc]
    assert order.clock_starts == ("reader_first",)
    steps = clock_steps(spec, order, "reader_first")
    assert [(s.switch_on, s.wait_s) for s in steps] == [
        (readers, READER_FIRST_S), (terminal, WITH_TERMINAL_S), (receipt, 0.0)]
    # The watched reader first: the wait runs from when its step began switching.
    first = clock_steps(spec, window, "latest", emulated=False, watched="fujitsu_japan")[0]
    assert first.switch_on[0] == "fujitsu_japan" and sorted(first.switch_on) == sorted(readers)
    with pytest.raises(ValueError, match="start must be one of"):
        clock_steps(spec, order, "earliest")


def test_pairing_restarts_come_from_the_profiles(profiles: ProfileSet) -> None:
    """Seed 002 接続設定概要 5: 資格確認端末を再起動(※) ... ※パナソニック コネクト社・アルメックス社製の
    場合は管理アプリを再起動."""
    assert {k: profiles[k].pairing_restart() for k in profiles.face_auth_makers()} == {
        "panasonic": "management_app", "usen_almex": "management_app",
        "atlas": "terminal", "fujitsu_japan": "terminal", "canon": None}


# -- SP-04: the maker's restart and nothing more -----------------------------------------------
@pytest.mark.parametrize(("reader", "restart"), [("panasonic", "management_app"),
                                                  ("atlas", "terminal")])
def test_pairing_passes_on_the_default_bench_with_the_makers_restart_only(
        default_bench: Bench, profiles: ProfileSet, reader: str, restart: str) -> None:
    since = len(default_bench.timeline.events())
    record, judged = run_judged(default_bench, profiles, reader, PAIRING)
    # The same run judges SP-06 (the card's transcript) and SP-07 (the phone read test).
    assert {r: judged[r] for r in ("SP-04", "SP-06", "SP-07")} == {
        "SP-04": [], "SP-06": [], "SP-07": []}, judged
    assert record.card_apdus and record.phone_read is not None and record.phone_read.ok
    assert [a.what for a in record.actions if a.what.startswith("restart:")] == [
        f"restart:{restart}"]
    assert len(_reboots(default_bench, since)) == (1 if restart == "terminal" else 0)
    assert not record.unmet
    # Switched on by the maker's routine: Panasonic's terminal 15 s after the reader (it had
    # started by then); Atlas's reader with the terminal, the receipt computer once it started.
    events = default_bench.timeline.events()[since:]
    on: dict[str, float] = {}  # the last switching-on of each device: the routine's
    for e in events:
        if e.kind == "power.switched" and e.data.get("on"):
            on[e.source] = e.t
    started = min(e.t for e in events if e.kind == "reader.started" and e.source == reader
                  and e.t >= on[reader])
    if reader == "panasonic":
        assert on["terminal"] - on["panasonic"] == pytest.approx(15.0)
        assert started <= on["terminal"] <= on["receipt_computer"]
    else:
        assert on["atlas"] == on["terminal"] < started <= on["receipt_computer"]


@pytest.mark.parametrize("reader", ["panasonic", "usen_almex"])
def test_a_button_that_needs_a_terminal_restart_fails_exactly_sp04(
        pairing_bench: Bench, profiles: ProfileSet, reader: str) -> None:
    since = len(pairing_bench.timeline.events())
    record, judged = run_judged(pairing_bench, profiles, reader, PAIRING)
    # SP-07 (the button, then the read test that follows it) fails with it.
    assert failed(judged) == {"SP-04", "SP-07"}, judged
    assert "no read test" in judged["SP-07"][-1]
    assert "first was not seen" in judged["SP-04"][0] or "smartphone" in judged["SP-04"][0]
    # The app was restarted, the terminal was not (which would have shown the button).
    assert [a.what for a in record.actions if a.what.startswith("restart:")] == [
        "restart:management_app"]
    assert _reboots(pairing_bench, since) == []


def test_paired_smartphone_flows_are_not_set_up_by_a_terminal_restart_either(
        pairing_bench: Bench, profiles: ProfileSet) -> None:
    """SP-01's precondition (paired) is reached by SP-04's procedure or not at all."""
    since = len(pairing_bench.timeline.events())
    flow = ("smartphone_iphone", ("paired",))
    record, judged = run_judged(pairing_bench, profiles, "panasonic", flow)
    assert record.unmet and "smartphone button did not show" in record.unmet[0]
    assert judged and all(any(p.startswith("before the flow:") for p in problems)
                          for problems in judged.values()), judged
    assert _reboots(pairing_bench, since) == []


# -- power-on: observed, not helped ----------------------------------------------------------
def test_the_default_bench_reaches_the_first_screen_by_the_neutral_routine(
        default_bench: Bench, profiles: ProfileSet) -> None:
    """(BOOT-01's and BOOT-02's routines: the pairing runs above.)"""
    record, judged = run_judged(default_bench, profiles, "canon", CONSENT)
    assert not record.unmet, record.unmet
    assert judged and all(not problems for problems in judged.values()), judged


@pytest.mark.parametrize(("reader", "routine"), [("panasonic", "BOOT-01"), ("atlas", "BOOT-02")])
def test_a_reader_the_routine_does_not_start_fails_the_flow(
        boot_bench: Bench, profiles: ProfileSet, reader: str, routine: str) -> None:
    """deviant-boot: Panasonic needs 40 s to start (the terminal, switched on within BOOT-01's
    30 s, misses it: only a terminal restart would find it); Atlas does not start with the
    terminal (only its power button would start it). Neither is helped."""
    since = len(boot_bench.timeline.events())
    record, judged = run_judged(boot_bench, profiles, reader, CONSENT)
    (unmet,) = record.unmet
    assert f"switched on by {routine}" in unmet and "not its first screen" in unmet
    assert judged and all(problems and problems[0] == f"before the flow: {unmet}"
                          for problems in judged.values()), judged
    assert _reboots(boot_bench, since) == []
    # Neither linked: the power button was not pressed, the terminal not restarted.
    assert not TwinHands(boot_bench).world.reader(reader).linked


def test_the_neutral_routine_gives_no_head_start(tmp_path: Path, profiles: ProfileSet) -> None:
    """A Canon reader that must start before the terminal (the notices say no such thing
    for Canon) is missed by the neutral routine: reader and terminal switched on together."""
    path = deviant_bench_file(tmp_path, "head-start", readers={"canon": [
        {"change": "behaviour.link.missed_if_terminal_first", "to": True}]})
    for bench in open_bench(path):
        record, judged = run_judged(bench, profiles, "canon", CONSENT)
        (unmet,) = record.unmet
        assert f"switched on by {NEUTRAL}" in unmet and "link_wait" in unmet, unmet
        assert all(problems for problems in judged.values()), judged


def test_an_unpowered_reader_is_dark_on_a_fresh_bench(profiles: ProfileSet) -> None:
    """ERR-07 run first on a fresh bench: its camera never saw the panel lit in an earlier
    flow, so the strategy shows it lit once before; then the dark panel is dark."""
    for bench in open_bench(DEFAULT_BENCH):
        record, judged = run_judged(bench, profiles, "atlas", ("no_power", ("reader_unpowered",)))
        assert judged["ERR-07"] == [], judged
        assert record.screens and record.screens[0].shows == "dark"


def test_a_restart_belongs_to_the_pairing_flow_only() -> None:
    import pydantic

    with pytest.raises(pydantic.ValidationError, match="only the pairing flow"):
        FlowCheck.model_validate({"kind": "flow", "flow": "consent", "restart": "terminal"})


def test_a_pairing_whose_restart_the_profile_does_not_name_restarts_nothing(
        default_bench: Bench, profiles: ProfileSet) -> None:
    """Fail closed: no restart is guessed (the twin's own would pass)."""
    data = profiles["panasonic"].model_dump(exclude_unset=True)
    for req in data["requirements"]:
        for check in [req["check"], *req.get("also", [])]:
            check.pop("restart", None)
    silent = type(profiles["panasonic"]).model_validate(data)
    assert silent.pairing_restart() is None
    since = len(default_bench.timeline.events())
    record = run_flow(default_bench, TwinHands(default_bench), "panasonic",
                      Plan.of(silent, *PAIRING))
    assert not [a for a in record.actions if a.what.startswith("restart:")]
    assert not [e for e in default_bench.timeline.events()[since:]
                if e.kind in ("terminal.reboot", "app.restart")]
    problems = check_flow(silent.requirement("SP-04").check, record)
    assert problems and "names no restart" in problems[0], problems
