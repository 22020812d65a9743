"""UPD-01 and UPD-04: the schedule's probes sit on both sides of every edge, the rules judge
what a probe saw, and a terminal whose distribution moves any edge fails UPD-01."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.bench import Bench
from harness.emulation.hands import TwinHands
from harness.flows.upgrade import probe_delivery, probe_manual
from harness.model.profiles import (
    DeliveryVersionCheck,
    ProfileSet,
    ScheduleCheck,
)
from harness.model.schedule_rules import (
    ACCEPTED,
    EDGE,
    DeliverySeen,
    ManualSeen,
    judge_delivery,
    judge_schedule,
    nights,
    schedule_probes,
)
from harness.paths import project_file

MAKER = "canon"


def _schedule(profiles: ProfileSet) -> tuple[object, ScheduleCheck]:
    req = next(r for r in profiles[MAKER].requirements
               if any(isinstance(c, ScheduleCheck) for c in r.checks))
    return req, next(c for c in req.checks if isinstance(c, ScheduleCheck))


def test_probes_stand_on_both_sides_of_every_edge(profiles: ProfileSet) -> None:
    _, check = _schedule(profiles)
    deliveries, manuals = schedule_probes(check)
    points = {(cp.at, cp.delivered) for p in deliveries for cp in p.checkpoints}
    tz = check.manual_from.tzinfo
    # Every night, the middle ones too (a night left out is as wrong as the first).
    assert len(nights(check)) == 11
    for night in nights(check):
        h, m = (int(x) for x in check.window.start.split(":"))
        opens = dt.datetime(night.year, night.month, night.day, h, m, tzinfo=tz)
        assert (opens - EDGE, False) in points, f"nothing judged just before {opens}"
        assert any(d and opens < at <= opens + dt.timedelta(hours=2) for at, d in points)
    for skipped in [*check.nightly_except, check.nightly_from - dt.timedelta(days=1)]:
        # Nothing by the morning that night would have closed.
        h, m = (int(x) for x in check.window.end.split(":"))
        morning = skipped + dt.timedelta(days=1)
        assert (dt.datetime(morning.year, morning.month, morning.day, h, m, tzinfo=tz),
                False) in points, f"the night of {skipped} is not probed"
    assert any(d and at.date() == check.all_day_from and at.hour < 20 for at, d in points)
    assert any(not d and at.date() == check.all_day_from - dt.timedelta(days=1)
               for at, d in points)
    assert sorted((p.at, p.accepted) for p in manuals) == [
        (check.manual_from - dt.timedelta(seconds=1), False),
        (check.manual_from + dt.timedelta(seconds=1), True)]
    # Every probe starts before its first checkpoint, so the look at the edge can be made.
    assert all(p.start < p.checkpoints[0].at for p in deliveries)


def test_the_rule_judges_each_checkpoint_and_fails_closed(profiles: ProfileSet) -> None:
    req, check = _schedule(profiles)
    deliveries, manuals = schedule_probes(check)
    right = [DeliverySeen(p, tuple(cp.delivered for cp in p.checkpoints)) for p in deliveries]
    asked = [ManualSeen(p, p.at, ACCEPTED if p.accepted else "no_update") for p in manuals]
    assert judge_schedule(req, MAKER, "r", right, asked).passed
    early = [DeliverySeen(right[0].probe, (True, True)), *right[1:]]
    verdict = judge_schedule(req, MAKER, "r", early, asked)
    assert verdict.status == "failed" and "not open yet" in verdict.problems[0]
    unseen = [DeliverySeen(right[0].probe, (None, None), problem="no power"), *right[1:]]
    assert judge_schedule(req, MAKER, "r", unseen, asked).status == "error"
    refused = [ManualSeen(p, p.at, "no_update") for p in manuals]
    verdict = judge_schedule(req, MAKER, "r", right, refused)
    assert verdict.status == "failed" and "13:00:01" in verdict.problems[0]
    # Before the edge, the ready dialog says the request was taken as much as its acceptance.
    ready = [ManualSeen(p, p.at, ACCEPTED if p.accepted else "update_ready") for p in manuals]
    verdict = judge_schedule(req, MAKER, "r", right, ready)
    assert verdict.status == "failed" and "was accepted" in verdict.problems[0]
    # A press that reached the other side of the edge (a person's, 4 s) judges nothing: an
    # error, whatever the dialog; one that stayed on its side is judged.
    slow = [ManualSeen(p, p.at, ACCEPTED, pressed_until=p.at + dt.timedelta(seconds=4))
            for p in manuals]
    verdict = judge_schedule(req, MAKER, "r", right, slow)
    assert verdict.status == "error" and "across" in verdict.problems[0], verdict.problems
    assert len(verdict.problems) == 1  # the press after the edge is judged (accepted: right)
    # Before the edge, no dialog at all is not known to be a refusal.
    silent = [ManualSeen(p, p.at, ACCEPTED if p.accepted else None) for p in manuals]
    verdict = judge_schedule(req, MAKER, "r", right, silent)
    assert verdict.status == "error" and "no dialog came" in verdict.problems[0]
    assert judge_schedule(req, MAKER, "r", [], []).status == "error"


def test_the_delivery_list_rule(profiles: ProfileSet) -> None:
    req = next(r for r in profiles[MAKER].requirements
               if any(isinstance(c, DeliveryVersionCheck) for c in r.checks))
    check = next(c for c in req.checks if isinstance(c, DeliveryVersionCheck))
    old = "0.0.1"
    assert judge_delivery(req, MAKER, "r", check, old, check.version, check.version).passed
    assert judge_delivery(req, MAKER, "r", check, old, check.version, old).status == "failed"
    assert judge_delivery(req, MAKER, "r", check, old, None, check.version).status == "failed"
    assert judge_delivery(req, MAKER, "r", check, check.version, check.version,
                          check.version).status == "error"


#: Terminal distribution faults, each moving one edge of the notice's schedule.
MOVED = {
    # The list shows a delivery once downloaded (30 min on the twin): an earlier opening
    # shows only when it is more than that early.
    "opens at 19:00": {"distribution.nightly_start": "19:00"},
    "opens at 21:00": {"distribution.nightly_start": "21:00"},
    "closes at 03:00": {"distribution.nightly_end": "03:00"},
    "no night excluded": {"distribution.nightly_except": []},
    "a night early": {"distribution.nightly_from": "2026-01-18"},
    "all day a day early": {"distribution.all_day_from": "2026-01-30"},
    "manual from 12:00": {"distribution.manual_from": "2026-01-19T12:00:00+09:00"},
    # The manual download's edge, to the second (13時から).
    "manual from 12:59:30": {"distribution.manual_from": "2026-01-19T12:59:30+09:00"},
    "manual from 13:00:50": {"distribution.manual_from": "2026-01-19T13:00:50+09:00"},
}


def _bench(tmp_path: Path, changes: dict[str, object]) -> Iterator[Bench]:
    base = project_file("fixtures/benches/emulated.yaml")
    lines = [f"base: {base}", "bench: moved-schedule", "terminal:", "  deviations:"]
    lines += [f"    - {{change: {k}, to: {v!r}}}" if not isinstance(v, list)
              else f"    - {{change: {k}, to: []}}" for k, v in changes.items()]
    path = tmp_path / "bench.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    bench = Bench.load(path).open()
    try:
        yield bench
    finally:
        bench.close()


def _upd01(bench: Bench, profiles: ProfileSet):  # noqa: ANN202
    req, check = _schedule(profiles)
    hands = TwinHands(bench)
    reader = next(r.name for r in bench.spec.readers if r.maker == MAKER)
    deliveries, manuals = schedule_probes(check)
    return judge_schedule(
        req, MAKER, reader,
        [probe_delivery(bench, hands, reader, profiles[MAKER], p) for p in deliveries],
        [probe_manual(bench, hands, reader, profiles[MAKER], p) for p in manuals])


@pytest.mark.parametrize("fault", [None, *MOVED])
def test_a_moved_edge_fails_upd01(fault: str | None, tmp_path: Path,
                                  profiles: ProfileSet) -> None:
    for bench in _bench(tmp_path, MOVED[fault] if fault else {}):
        verdict = _upd01(bench, profiles)
        if fault is None:
            assert verdict.passed, verdict.explain()
        else:
            assert verdict.status == "failed", f"{fault}: {verdict.explain()}"


@pytest.mark.parametrize(("nightly_to", "all_day_from", "after"), [
    ("2026-01-30", "2026-01-31", None),   # the notice's: the next night is all-day
    ("2026-01-29", "2026-01-31", None),   # the night after closes on the all-day date
    ("2026-01-28", "2026-01-31", "2026-01-29"),  # a whole night before all-day delivery
])
def test_the_night_after_the_last_is_probed_only_before_all_day_delivery(
        profiles: ProfileSet, nightly_to: str, all_day_from: str, after: str | None) -> None:
    """All-day delivery starts at its date's midnight: a night that closes that morning is
    already served, and probing it for nothing would fail a genuine terminal."""
    _, check = _schedule(profiles)
    check = check.model_copy(update={"nightly_to": dt.date.fromisoformat(nightly_to),
                                     "all_day_from": dt.date.fromisoformat(all_day_from)})
    deliveries, _ = schedule_probes(check)
    dark = [cp for p in deliveries for cp in p.checkpoints if "the last night is" in cp.why]
    assert [cp.at.date() - dt.timedelta(days=1) for cp in dark] == (
        [dt.date.fromisoformat(after)] if after else [])
