"""E901 (notice 7福薬業発第367号 記 2. ※) broken by bench deviations, each judged through run_flow: the
deviation fails exactly the requirements it breaks for that maker, the default bench none.

fixtures/benches/deviant-e901-timing.yaml: screens that give up before the staff's OK, a
spinner over the wrong consent screen, Atlas back to its first screen only on card-out
(E901-02). fixtures/benches/deviant-e901-first-ok.yaml: frozen screens that go back to the
first screen on the staff's first OK, not held until the second brings the 901 (E901-02).
fixtures/benches/deviant-e901-early.yaml: the check asked for before the consents
end (E901-01, and so E901-02), a 901 that comes by itself (E901-04, and so E901-02).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flow_helpers import BENCHES, deviant_bench_file, deviation, failed, open_bench, run_judged

from harness.bench import Bench
from harness.flows.drivers import E901_WATCH_S, STAFF_DELAY_S
from harness.model.profiles import ProfileSet

E901 = ("e901", ("upgrade_pending_reboot",))


@pytest.fixture(scope="module")
def timing_bench() -> Iterator[Bench]:
    yield from open_bench(BENCHES / "deviant-e901-timing.yaml")


@pytest.fixture(scope="module")
def first_ok_bench() -> Iterator[Bench]:
    yield from open_bench(BENCHES / "deviant-e901-first-ok.yaml")


@pytest.fixture(scope="module")
def early_bench() -> Iterator[Bench]:
    yield from open_bench(BENCHES / "deviant-e901-early.yaml")


def test_the_default_bench_passes_e901_with_the_staff_delay(
        early_bench: Bench, profiles: ProfileSet) -> None:
    record, judged = run_judged(early_bench, profiles, "atlas", E901)  # its atlas is not deviated
    assert judged and failed(judged) == set(), judged
    # The staff acted after the bench's delay, not sooner: the hold was watched that long.
    first_ok = next(a.t for a in record.actions if a.what == "terminal:OK")
    assert first_ok - record.dialogs[0].t >= STAFF_DELAY_S


@pytest.mark.parametrize(("reader", "why"), [
    # The frozen screen gives up 20 s after the error: before the staff's OK.
    # (its card, out at a third of the staff's delay, finds it gone already)
    ("panasonic", "did not stay"),
    ("usen_almex", "did not stay until the second press of OK"),
    # The loading circle over the first consent screen, not the last (drawn so that it is
    # not recognised steadily: it does not hold either).
    ("fujitsu_japan", "consent"),
    # Still 資格確認中 when the error comes; the first screen only after card-out.
    ("atlas", "did not show when check_error_1 appeared"),
])
def test_e901_02_timing_deviations_fail_exactly_e901_02(
        timing_bench: Bench, profiles: ProfileSet, reader: str, why: str) -> None:
    record, judged = run_judged(timing_bench, profiles, reader, E901)
    assert failed(judged) == {"E901-02"}, judged
    assert why in judged["E901-02"][0], judged["E901-02"]
    if reader == "atlas":
        assert "after card_out" in judged["E901-02"][0]


def test_a_check_asked_for_before_the_consents_end_fails_e901_01(
        early_bench: Bench, profiles: ProfileSet) -> None:
    record, judged = run_judged(early_bench, profiles, "canon", E901)
    # The dialog came while the second consent screen still waited for its answer; the
    # reader was then still asking, not showing 「しばらくお待ちください」.
    # The second consent's answer asks for the check again: a second error sequence after
    # the staff's second OK (E901-04: the second OK ends the terminal's part).
    assert failed(judged) == {"E901-01", "E901-02", "E901-04"}, judged
    assert "not after the last consent" in judged["E901-01"][0]
    assert "the reader showed consent_2 then" in judged["E901-02"][0]
    assert any("the procedure ends with it" in p for p in judged["E901-04"]), judged["E901-04"]


def test_a_901_without_the_staffs_ok_fails_e901_04(
        early_bench: Bench, profiles: ProfileSet) -> None:
    record, judged = run_judged(early_bench, profiles, "fujitsu_japan", E901)
    assert failed(judged) == {"E901-02", "E901-04"}, judged
    assert any("after 0 press(es) of OK" in p for p in judged["E901-04"]), judged["E901-04"]
    # Its texts are the notice's: E901-05 holds.
    assert judged["E901-05"] == []


@pytest.mark.parametrize("reader", ["panasonic", "canon", "usen_almex", "fujitsu_japan"])
def test_a_frozen_screen_that_leaves_on_the_first_ok_fails_exactly_e901_02(
        first_ok_bench: Bench, profiles: ProfileSet, reader: str) -> None:
    """The 901 still comes on the second OK (E901-04 holds), but the frozen screen went back
    to the first screen on the first: it did not hold until the 901 (記 2. ①, ②)."""
    record, judged = run_judged(first_ok_bench, profiles, reader, E901)
    assert failed(judged) == {"E901-02"}, judged
    assert "did not stay until the second press of OK" in judged["E901-02"][0]
    assert "then first" in judged["E901-02"][0], judged["E901-02"]


def test_a_901_that_turns_into_a_done_check_later_fails(tmp_path: Path,
                                                        profiles: ProfileSet) -> None:
    """A 901 that gives way by itself, 40 s on, to 受付が完了しました: watched only 8 s after
    the second OK, it passed every E901 requirement. The 901 is watched as long as the staff
    take to come (E901_WATCH_S), and the check shown done after it fails."""
    path = deviant_bench_file(tmp_path, "901-turns-done", readers={"canon": [
        deviation("behaviour.states.error_901.after", {"seconds": 40, "event": "retry"},
                  "the 901 times out"),
        deviation("behaviour.transitions.error_901.retry", "completion", "into completion")]})
    assert E901_WATCH_S > 40
    for bench in open_bench(path):
        record, judged = run_judged(bench, profiles, "canon", E901)
    assert {"E901-01", "E901-02", "E901-04"} <= failed(judged), judged
    assert any("the check failed, yet the reader says it is done" in p
               for p in judged["E901-04"]), judged["E901-04"]
    assert "completion" in record.path()
