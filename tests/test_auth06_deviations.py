"""AUTH-06 proved through run_flow: a patient whose face does not match and whose PIN locks
(3 wrong entries in a row) is checked by staff through visual confirmation with that same
card, to the end (the support vendor's お知らせ 目視確認モード: 顔認証がうまくいかず、かつ…暗証番号を3回連続で間違えて
ロックがかかった場合). The default bench passes; a deviation fails exactly AUTH-06.

Which wrong reader would pass a weaker check: one that refuses a locked card on the staff
path (it asks the chip's PIN state where the staff confirmed the face). AUTH-05 alone passes
it (its card was never locked), so the test shows AUTH-05 holding on that same reader.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flow_helpers import (
    Flow,
    assert_fails_exactly,
    deviant_bench_file,
    deviation,
    failed,
    open_bench,
    run_judged,
)

from harness.bench import Bench
from harness.model.profiles import ProfileSet

AUTH06: Flow = ("pin_lock_staff", ("passcode_issued",))
STAFF: Flow = ("staff_visual", ("passcode_issued",))
READER = "usen_almex"
#: The staff path's card placed: a locked card goes to the lock screen, not the consents.
REFUSES_LOCKED = (deviation(
    "behaviour.transitions.place_card.card_in",
    [{"to": "pin_locked", "if": "card_pin_locked"}, {"to": "consent_1"}],
    "the visual confirmation refuses a card whose PIN is locked"),)


@pytest.fixture(scope="module")
def deviant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bench]:
    folder: Path = tmp_path_factory.mktemp("auth06")
    yield from open_bench(deviant_bench_file(folder, "refuses-locked",
                                             readers={READER: REFUSES_LOCKED}))


def test_the_default_bench_passes(default_bench: Bench, profiles: ProfileSet) -> None:
    record, judged = run_judged(default_bench, profiles, READER, AUTH06)
    # (SP-01's 'once' half judges the same record's first screens: nothing paired)
    assert set(judged) == {"AUTH-06", "SP-01"}
    assert failed(judged) == set(), judged
    actions = [a.what for a in record.actions]
    # The face does not match, three wrong PINs lock, the card is taken out; the staff path
    # follows with the same (locked) card and hands the patient's result over.
    assert actions[:6] == ["card_in", "face", "pin:wrong", "pin:wrong", "pin:wrong", "card_out"]
    assert "press:staff" in actions and actions.index("press:staff") > 5
    shows = [s.shows for s in record.screens]
    assert shows.index("pin_locked") < shows.index("place_card") < shows.index("completion")
    assert record.result == "handed_over"


def test_a_reader_refusing_the_locked_card_fails_exactly_auth06(
        deviant: Bench, profiles: ProfileSet) -> None:
    _, judged = run_judged(deviant, profiles, READER, AUTH06)
    assert_fails_exactly(judged, {"AUTH-06": "consent was not seen after place_card"})
    # The weaker check, the staff path with a card never locked, still passes on it.
    _, staff = run_judged(deviant, profiles, READER, STAFF)
    assert "AUTH-05" in staff and failed(staff) == set(), staff
