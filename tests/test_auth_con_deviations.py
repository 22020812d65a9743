"""AUTH-02 and CON-01 proved in full through run_flow: readers that break them by a bench
``deviations`` entry (fixtures/benches/deviant-auth-con.yaml) fail exactly that requirement
on their pin_lock and consent flows, with what was seen; the default bench passes.

Which wrong readers would pass a weaker check: one that locks after 2 wrong PINs (the lock
was only looked for somewhere), one that never starts the count again after a right PIN (no
reset was tried), one that goes back to its first screen on a timer whatever the card does
(only the order of screens was checked; a timer firing between two looks of one visit
would pass: the consent flow's two visits hold the completion screen 3 s and 12 s).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flow_helpers import (
    BENCHES,
    Flow,
    Judged,
    deviant_bench_file,
    deviation,
    failed,
    open_bench,
    run_judged,
)

from harness.bench import Bench
from harness.model.observed import FlowRecord
from harness.model.profiles import ProfileSet

FLOWS = (("pin_lock", ()), ("consent", ()))
#: reader -> (the flow its deviation shows in, the requirement it breaks, a fragment of the
#: problem it must give). The PIN deviations cannot show in the consent flow (no PIN is
#: typed), the completion timers not in the pin_lock flow (no completion): each deviant runs
#: its own flow only, to keep the file fast.
BROKEN = {
    "panasonic": ("pin_lock", "AUTH-02", "after wrong PIN 2 in a row"),
    "canon": ("pin_lock", "AUTH-02", "after wrong PIN 1 in a row"),
    "usen_almex": ("consent", "CON-01", "not within 5 s"),
    "atlas": ("consent", "CON-01", "with no card_out before it"),
}


@pytest.fixture(scope="module")
def deviant() -> Iterator[Bench]:
    yield from open_bench(BENCHES / "deviant-auth-con.yaml")


def _judged(bench: Bench, profiles: ProfileSet, reader: str,
            flows: tuple[Flow, ...] = FLOWS) -> tuple[dict[str, FlowRecord], Judged]:
    """The flows driven on ``reader``, every check of them judged: requirement -> problems."""
    records: dict[str, FlowRecord] = {}
    out: Judged = {}
    for flow in flows:
        records[flow[0]], judged = run_judged(bench, profiles, reader, flow)
        for req, problems in judged.items():
            out.setdefault(req, []).extend(problems)
    return records, out


def test_the_default_bench_passes_both_halves(default_bench: Bench,
                                              profiles: ProfileSet) -> None:
    records, judged = _judged(default_bench, profiles, "fujitsu_japan")
    assert {"AUTH-02", "CON-01"} <= set(judged)
    assert all(not problems for problems in judged.values()), judged
    pins = [a.what for a in records["pin_lock"].actions if a.what.startswith("pin:")]
    assert pins == ["pin:wrong", "pin:wrong", "pin:right", "pin:wrong", "pin:wrong", "pin:wrong"]
    # Three visits (held short, long, short), each card taken out of the completion screen,
    # the first screen after it.
    visits = records["consent"]
    assert [a.what for a in visits.actions].count("card_out") == 3
    assert [s.shows for s in visits.screens].count("completion") == 3


@pytest.mark.parametrize("reader", list(BROKEN))
def test_each_deviation_fails_exactly_its_requirement(deviant: Bench, profiles: ProfileSet,
                                                      reader: str) -> None:
    flow, req, why = BROKEN[reader]
    _, judged = _judged(deviant, profiles, reader, ((flow, ()),))
    assert failed(judged) == {req}, judged
    assert any(why in p for p in judged[req]), judged[req]


def test_a_locked_card_let_through_with_its_face_not_matched_fails_auth02(
        tmp_path: Path, profiles: ProfileSet) -> None:
    """A reader that sends the locked card to the consents when its face does not match
    either (neither the face nor the PIN identified the patient) passed when only a PIN
    asked again after the lock was looked for."""
    path = deviant_bench_file(tmp_path, "locked-through", readers={"atlas": [deviation(
        "behaviour.transitions.face_auth.face_no_match",
        [{"to": "consent_1", "if": "card_pin_locked"}, {"to": "pin_entry"}],
        "a locked card through on an unmatched face")]})
    for bench in open_bench(path):
        _, judged = _judged(bench, profiles, "atlas", (("pin_lock", ()),))
    assert failed(judged) == {"AUTH-02"}, judged
    assert any("the locked card again at" in p and "go no further" in p
               for p in judged["AUTH-02"]), judged["AUTH-02"]
