"""SP-03 (the support vendor's お知らせ 《 スマートフォンのマイナ保険証を使った受付の手順 》 ③): which reader read the
patient's phone, judged from what the general readers' PC/SC sides saw.

Which wrong reader a weaker check would pass, and what here catches it:
- a reader that takes the phone from another general reader than the paired one, or from
  any general reader (the flow holds the phone there first): the pure rule, the twin's
  terminal (``smartphone.phones_from``), and a flow run on the deviant Panasonic;
- a non-Canon reader that also takes it from its own front, a Canon reader that also (or
  only) takes it from a general reader: the pure rule (the flow holds it there first);
- the paired reader seeing a card, not a phone, or nothing, or another reader seeing it too,
  or a card lying there before: the pure rule; the twin's app refuses a card;
- a reader that leaves its hold screen with no phone held, or when the look and the hold
  share a moment (which came first is unknown): the pure rule;
- no PC/SC evidence (a general reader the rig could not watch, no hold at all): fails closed.
The default bench passing: Canon's front on the robot's run (tests/test_robot.py), every
maker's on the suites' own run.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flow_helpers import (
    assert_fails_exactly,
    deviant_bench_file,
    deviation,
    open_bench,
    run_judged,
)

from harness.bench import Bench
from harness.emulation.card import CardSpec, FileSystemCard
from harness.emulation.people import Phone
from harness.emulation.world import TwinWorld
from harness.loading import load_yaml_model
from harness.model.bench_spec import Deviation
from harness.model.observed import FlowRecord, PcscSighting, PhoneHold, SeenScreen
from harness.model.phone_rules import check_phone_read_on
from harness.model.profiles import ProfileSet
from harness.paths import project_file

PAIRED, OTHER = "sanwa-adr-mnicu3", "iodata-usb-nfc4e"
GENERALS = (PAIRED, OTHER)


# -- the pure rule --------------------------------------------------------------------------
def _screens(left_at: float, *, hold_from: float = 10.0) -> list[SeenScreen]:
    """sp_hold seen from ``hold_from`` until just before ``left_at``, then consent."""
    return [SeenScreen(hold_from, left_at - 0.5, "sp_hold", "sp_hold"),
            SeenScreen(left_at, left_at + 3, "consent_1", "consent")]


def _seen(reader: str, holder: str | None = "smartphone", *, before: bool = False
          ) -> PcscSighting:
    return PcscSighting(reader, f"{reader} 00 00", 0.0, holder, before)


def _hold(where: str, t: float, away: float, *seen: PcscSighting) -> PhoneHold:
    return PhoneHold(t, where, away, seen, GENERALS)


def _record(left_at: float, *holds: PhoneHold, paired: str | None = PAIRED) -> FlowRecord:
    record = FlowRecord("smartphone_iphone", "panasonic", ("paired",), paired_general=paired)
    record.screens = _screens(left_at)
    record.phone_holds = list(holds)
    return record


def _general_flow(left_at: float = 21.5, *, right: PhoneHold | None = None) -> FlowRecord:
    """The driver's holds on a non-Canon reader: front, another general reader, the paired."""
    return _record(left_at, _hold("front", 11.0, 15.5),
                   _hold(OTHER, 16.5, 21.0, _seen(OTHER)),
                   right or _hold(PAIRED, 21.0 + 1e-3, 22.5, _seen(PAIRED)))


def test_the_paired_reader_reading_a_phone_passes() -> None:
    assert check_phone_read_on("general_reader", _general_flow()) == []


def test_canons_front_with_no_general_reader_seeing_it_passes() -> None:
    record = _record(17.5, _hold(PAIRED, 11.0, 15.5, _seen(PAIRED)), _hold("front", 17.0, 18.0))
    assert check_phone_read_on("front", record) == []


@pytest.mark.parametrize(("where", "record", "said"), [
    # Taken while it lay on another general reader (or the front): the wrong reader.
    ("general_reader", _general_flow(18.0), f"lay on {OTHER} (held at 16.5 s), not on {PAIRED}"),
    ("general_reader", _general_flow(12.0), "lay on the face-auth reader's front"),
    ("front", _record(12.0, _hold(PAIRED, 11.0, 15.5, _seen(PAIRED)), _hold("front", 17.0, 18.0)),
     f"lay on {PAIRED}"),
    # Moved on before any hold, or never.
    ("general_reader", _general_flow(10.8), "with no phone held"),
    ("general_reader", FlowRecord("smartphone_iphone", "panasonic", paired_general=PAIRED,
                                  screens=_screens(30)[:1],
                                  phone_holds=[_hold(PAIRED, 11, 12, _seen(PAIRED))]),
     "never left its hold screen"),
    # The look that saw it move on came at the very moment of the hold: not the hold's doing.
    ("general_reader", _general_flow(22.0, right=_hold(PAIRED, 22.0, 23.0, _seen(PAIRED))),
     "with no phone held"),
    # What the paired reader's PC/SC side saw: a card, nothing, unread, there before.
    ("general_reader", _general_flow(right=_hold(PAIRED, 21.001, 22.5, _seen(PAIRED, "card"))),
     "says it is a card, not a phone"),
    ("general_reader", _general_flow(right=_hold(PAIRED, 21.001, 22.5)), "saw no card arrive"),
    ("general_reader", _general_flow(right=_hold(PAIRED, 21.001, 22.5, _seen(PAIRED, None))),
     "could not be read"),
    ("general_reader", _general_flow(right=_hold(PAIRED, 21.001, 22.5,
                                                 _seen(PAIRED, before=True))),
     "lay on sanwa-adr-mnicu3 before"),
    # Another reader saw something while the phone lay on the right one.
    ("general_reader", _general_flow(right=_hold(PAIRED, 21.001, 22.5, _seen(PAIRED),
                                                 _seen(OTHER))),
     f"{OTHER}'s PC/SC side ({OTHER} 00 00) saw a card arrive"),
    ("front", _record(17.5, _hold("front", 17.0, 18.0, _seen(PAIRED))),
     f"{PAIRED}'s PC/SC side"),
    # Never held where it must be read; no general reader paired.
    ("general_reader", _record(17.5, _hold("front", 11.0, 15.5), _hold(OTHER, 16.5, 21.0)),
     f"never held on {PAIRED}"),
    ("general_reader", FlowRecord("smartphone_iphone", "panasonic"),
     "no general reader was paired"),
])
def test_a_phone_not_read_by_the_right_reader_alone_fails(where: str, record: FlowRecord,
                                                          said: str) -> None:
    problems = check_phone_read_on(where, record)  # type: ignore[arg-type]
    assert any(said in p for p in problems), problems


def test_every_visits_phone_is_taken_from_the_right_reader() -> None:
    """The first check-in taken from the paired reader, the next off the reader's front (a
    reader right only on a way taken up after 戻る): only the first exit was judged."""
    first = _general_flow()
    record = FlowRecord("smartphone_iphone", "panasonic", ("paired",), paired_general=PAIRED)
    record.screens = [*first.screens, SeenScreen(40.0, 44.5, "sp_hold", "sp_hold"),
                      SeenScreen(45.0, 48.0, "consent_1", "consent")]
    record.phone_holds = [*first.phone_holds, _hold("front", 44.0, 46.0)]
    problems = check_phone_read_on("general_reader", record)
    assert problems == [
        "the reader left its hold screen between 44.5 s and 45.0 s while the phone lay on "
        f"the face-auth reader's front (held at 44.0 s), not on {PAIRED}: it took the phone "
        "from the wrong reader"], problems
    # Both visits right: nothing.
    record.phone_holds[-1] = _hold(PAIRED, 44.0, 46.0, _seen(PAIRED))
    assert check_phone_read_on("general_reader", record) == []


def test_no_pcsc_evidence_fails_closed() -> None:
    assert "no phone was held" in check_phone_read_on("front", _record(17.5))[0]
    blind = PhoneHold(21.001, PAIRED, 22.5, (), (),
                      ((PAIRED, "on a real bench the general reader is the terminal's"),
                       (OTHER, "the same")))
    problems = check_phone_read_on("general_reader", _general_flow(right=blind))
    assert f"{PAIRED}'s PC/SC side was not watched" in problems[0], problems
    assert any("saw no card arrive" in p for p in problems)
    # Canon's front too: a general reader nobody watched may have read it.
    front = PhoneHold(17.0, "front", 18.0, (), (), ((PAIRED, "the terminal's"),))
    assert check_phone_read_on("front", _record(17.5, front))


# -- the twin: the terminal's app reads the phone through PC/SC -----------------------------
def _chip(name: str) -> FileSystemCard:
    path = project_file(f"fixtures/cards/{name}.yaml")
    return FileSystemCard(load_yaml_model(path, CardSpec, layered=True))


def _at_hold(maker: str, *deviations: Deviation) -> TwinWorld:
    """``maker``'s reader paired with PAIRED (when it pairs), on its iPhone hold screen."""
    world = TwinWorld.for_makers([maker], deviations={maker: list(deviations)},
                                 general_readers={g: g for g in GENERALS})
    world.power_on_all()
    reader, term = world.reader(maker), world.terminal
    if reader.behaviour.pairing is not None:
        session = term.start_pairing(maker)
        assert session.place_card_on(PAIRED, _chip("mynumber-card").transmit)
        assert session.register()
        if reader.behaviour.pairing.then_restart == "management_app":
            term.restart_management_app(maker)
        else:
            term.reboot()
        world.clock.advance(300)
    reader.press("smartphone")
    reader.press("iphone")
    assert reader.screen().shows == "sp_hold"
    return world


def _placed(world: TwinWorld, general: str, card: str = "mynumber-iphone") -> list[str]:
    return world.terminal.phone_placed(general, Phone("phone-1", "iphone"), _chip(card).transmit)


@pytest.mark.parametrize(("phones_from", "takes"), [
    ("paired", {PAIRED}), ("any_general", {PAIRED, OTHER}), ("other_general", {OTHER})])
def test_the_app_hands_over_a_phone_only_from_the_readers_its_data_names(
        phones_from: str, takes: set[str]) -> None:
    for general in GENERALS:
        world = _at_hold("panasonic", Deviation(change="behaviour.smartphone.phones_from",
                                                to=phones_from))
        assert bool(_placed(world, general)) == (general in takes), general
        assert (world.reader("panasonic").screen().shows == "consent") == (general in takes)


def test_the_app_refuses_a_card_on_the_paired_reader() -> None:
    world = _at_hold("atlas")
    assert _placed(world, PAIRED, "mynumber-card") == []
    assert world.reader("atlas").screen().shows == "sp_hold"
    assert world.timeline.events("phone.not_a_phone")
    assert _placed(world, PAIRED) == ["atlas"]


def test_canon_takes_no_phone_from_a_general_reader_unless_deviated() -> None:
    assert _placed(_at_hold("canon"), PAIRED) == []
    deviant = _at_hold(
        "canon", Deviation(change="behaviour.smartphone.phones_from", to="any_general"),
        Deviation(change="behaviour.transitions.sp_hold.phone_held_general", to="consent_1"))
    assert _placed(deviant, PAIRED) == ["canon"]


# -- a flow run: the reader that takes a phone from any general reader ----------------------
@pytest.fixture(scope="module")
def any_general(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bench]:
    path: Path = deviant_bench_file(
        tmp_path_factory.mktemp("sp03"), "phone-from-any-general", readers={"panasonic": [
            deviation("behaviour.smartphone.phones_from", "any_general",
                      "takes a phone from any general reader, not only the paired one")]})
    yield from open_bench(path)


def test_a_reader_taking_the_phone_from_another_general_reader_fails_exactly_sp03(
        any_general: Bench, profiles: ProfileSet) -> None:
    record, judged = run_judged(any_general, profiles, "panasonic",
                                ("smartphone_iphone", ("paired",)))
    # Its screens are right (sp_hold -> consent -> completion): only the PC/SC evidence and
    # the moment it moved on tell it took the phone off the other reader.
    assert_fails_exactly(judged, {"SP-03": f"lay on {OTHER}"})
    # (the flow's two phone check-ins, hunt E-6: each taken off the other reader)
    assert [h.where for h in record.phone_holds] == ["front", OTHER] * 2
    held = record.phone_holds[1]
    assert [(s.reader, s.holder) for s in held.seen] == [(OTHER, "smartphone")]
    assert set(held.watched) == {r.name for r in any_general.spec.readers
                                 if r.kind == "general_reader"}
