"""What a person at a real bench is asked to do (ManualHands): a PIN meant to be wrong is
asked for as wrong, with what it does to the lab's test card, from the driver's intent (the
digits are never compared, nor written into a prompt's record); a button is named by the
label its panel shows, not by the rig's name for it."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import yaml

from harness.bench import Bench, default_bench_path
from harness.emulation.hands import TwinHands
from harness.flows import run_flow
from harness.flows.drivers import Plan
from harness.flows.walk import WalkRunner
from harness.hands import OWN_PIN, ManualHands, PinEntry
from harness.model.clock import VirtualClock
from harness.model.profiles import ProfileSet
from harness.model.timeline import Timeline
from harness.model.walk_rules import PinRule

#: Panasonic's panel on the robot's table (tests/test_bench_in_a_box.py's).
CORNERS = [[40.0, 30.0], [193.5, 35.4], [190.4, 125.3], [36.9, 119.9]]


def _asking() -> tuple[ManualHands, list[str], Timeline]:
    clock = VirtualClock()
    timeline = Timeline(clock)
    shown: list[str] = []
    hands = ManualHands(clock, ask=lambda q: shown.append(q) or "", timeline=timeline)
    return hands, shown, timeline


def _recorded(timeline: Timeline) -> list[str]:
    return [e.data["what"] for e in timeline.events("operator.asked")]


def test_the_right_and_the_wrong_pin_are_asked_for_as_what_they_are() -> None:
    hands, shown, timeline = _asking()
    hands.pin("canon", "4321", entry=OWN_PIN)
    hands.pin("canon", "4321", entry=PinEntry(wrong=True))  # the intent, not the digits
    hands.pin("canon", "9999", entry=PinEntry(wrong=True, locks_after=3))
    hands.pin("canon", "9999", entry=PinEntry(wrong=True, locks_after=3, in_a_row=2))
    hands.pin("canon", "9999", entry=PinEntry(wrong=True, locks_after=3, in_a_row=3))
    assert _recorded(timeline) == [
        "type the card's own PIN **** on canon",
        "type a deliberately WRONG PIN **** on canon (on purpose; a wrong PIN counts "
        "against the card's tries)",
        "type a deliberately WRONG PIN **** on canon (on purpose; the card's PIN locks "
        "after 3 wrong in a row)",
        "type a deliberately WRONG PIN **** on canon (on purpose: wrong entry 2 of 3 in a "
        "row; the card's PIN locks after 3 wrong in a row)",
        "type a deliberately WRONG PIN **** on canon (on purpose: wrong entry 3 of 3 in a "
        "row; this one locks the card's PIN)"]
    # The person who types it sees the digits (and only they do); the record never.
    assert "4321" in shown[0] and "9999" in shown[2]
    assert not any(re.search(r"4321|9999", repr(e)) for e in timeline)


def test_buttons_are_named_by_the_label_on_the_panel() -> None:
    hands, _, timeline = _asking()
    for button in ("staff", "smartphone", "iphone", "android", "cancel", "確認しました"):
        hands.press("canon", button)
    assert _recorded(timeline) == [
        "press '職員用ボタン' on canon's screen", "press 'スマートフォンを利用' on canon's screen",
        "press 'iPhone' on canon's screen", "press 'Android' on canon's screen",
        "press '戻る' on canon's screen", "press '確認しました' on canon's screen"]


def test_a_bench_whose_panel_says_otherwise_is_asked_in_its_words(tmp_path: Path) -> None:
    # The bench file's robot section names a reader's own labels (a panel that says
    # スタッフ); the robot does not press here, so the operator does, by that label.
    path = tmp_path / "bench.yaml"
    path.write_text(yaml.safe_dump({
        "base": str(default_bench_path()),
        "robot": {"port": "emulated", "does": ["card"],
                  "readers": {"panasonic": {"buttons": {"staff": "スタッフ"},
                                            "calibration": {"corners": CORNERS},
                                            "card": {"by": "servo", "on_reader": 90,
                                                     "off_reader": 10}}},
                  "emulate": {"travel": [480, 200], "screens": {"panasonic": CORNERS},
                              "cards": {"panasonic": {"servo": 0, "on_reader": 90}}}}},
        allow_unicode=True), encoding="utf-8")
    bench = Bench.load(path)
    shown: list[str] = []
    hands = ManualHands.for_bench(bench)
    hands.operator = ManualHands(bench.clock, ask=lambda q: shown.append(q) or "").operator
    hands.press("panasonic", "staff")
    hands.press("canon", "staff")  # not in the robot's section: the notices' label
    assert "press 'スタッフ' on panasonic's screen" in shown[0]
    assert "press '職員用ボタン' on canon's screen" in shown[1]


class _Noting(TwinHands):
    """The twins' hands, noting what each PIN was meant to be."""

    def __init__(self, bench: Bench) -> None:
        super().__init__(bench)
        self.entries: list[PinEntry] = []

    def pin(self, reader: str, pin: str, *, entry: PinEntry = OWN_PIN) -> None:
        self.entries.append(entry)
        super().pin(reader, pin, entry=entry)


def test_the_pin_lock_driver_says_which_pins_are_wrong_and_which_locks(
        default_bench: Bench, profiles: ProfileSet) -> None:
    hands = _Noting(default_bench)
    record = run_flow(default_bench, hands, "fujitsu_japan",
                      Plan.of(profiles["fujitsu_japan"], "pin_lock", ()))
    pins = [a.what for a in record.actions if a.what.startswith("pin:")]
    assert pins == ["pin:wrong", "pin:wrong", "pin:right", "pin:wrong", "pin:wrong", "pin:wrong"]
    wrong = [PinEntry(wrong=True, locks_after=3, in_a_row=k) for k in (1, 2, 3)]
    assert hands.entries == [wrong[0], wrong[1], OWN_PIN, *wrong]
    # What a person would have been asked at the last: that it locks the card.
    asking, _, timeline = _asking()
    asking.pin("fujitsu_japan", "9999", entry=hands.entries[-1])
    assert _recorded(timeline)[0].endswith("this one locks the card's PIN)")


def test_the_walk_counts_wrong_pins_in_a_row_on_its_card() -> None:
    rule = PinRule(requirement="AUTH-02", flow="pin_lock", given=(), locks_after=3,
                   asking="pin_entry", locked="pin_locked", proceeds="consent_1")
    walker = SimpleNamespace(plan=SimpleNamespace(rules=(rule,)), wrong_in_a_row=0)
    entries = [WalkRunner._pin_entry(walker, right)  # type: ignore[arg-type]
               for right in (False, False, True, False)]
    assert entries == [PinEntry(wrong=True, locks_after=3, in_a_row=1),
                       PinEntry(wrong=True, locks_after=3, in_a_row=2), OWN_PIN,
                       PinEntry(wrong=True, locks_after=3, in_a_row=1)]
    # No AUTH-02 rule in the plan: wrong, and what a wrong PIN does in general.
    walker = SimpleNamespace(plan=SimpleNamespace(rules=()), wrong_in_a_row=0)
    assert WalkRunner._pin_entry(walker, False) == PinEntry(wrong=True)  # type: ignore[arg-type]
