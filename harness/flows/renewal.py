"""NET-01: a network scenario replayed on the bench's network, a patient trying at each edge.

The scenario (harness.model.scenario) gives the region's periods and cuts; the bench file
gives the region (``network.region``). The driver walks the bench clock from one moment to
the next: it cuts and restores the line (``Hands.network_cut``: the twin's network, or the
relay or switch port the bench file's ``network.switch`` names, or the operator) at the
scenario's times, and between them a patient tries a check:

- a long cut: just before it, then at its start, its middle and just before its end, and
  after it;
- an intermittent period: during its first and its last cut and, after a while
  (RETRY_AFTER_S), again; after it ends.

A try that does not go through on a reader that still shows its error is followed by what
the notice allows (事務連絡 令和6年12月24日 記 2.(2): カードリーダーの再起動、電源のオン・オフ): the
reader restarted, then, if that did not help and the bench can switch it, power-cycled,
each followed by a try. Nothing else: the terminal is never restarted for it. Whether the
reader did right is the rule's business (harness.model.renewal_rules).

On an emulated bench the terminal's clock is set to the scenario's own date (the bench is
restored LEAD_S before its first moment): 19 hours of scenario cost no wall time. On a real
bench the clock is the lab's: the scenario's first moment is taken as now.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING

from harness.model.profiles import FlowCheck, Profile
from harness.model.replay import Replay, Span
from harness.model.scenario import Cut, Period, Scenario, load_scenario

if TYPE_CHECKING:
    from harness.bench import Bench
    from harness.flows.drivers import Plan
    from harness.flows.runner import FlowRun

#: The patient tries this long before a long cut or an intermittent period starts.
BEFORE_S = 120.0
#: ... this long after a cut starts (the reader has had time to see it) ...
IN_CUT_S = 15.0
#: ... this long before the long cut ends (the try is over before it does) ...
END_MARGIN_S = 90.0
#: ... again this long after a cut ends (少々お時間をあけて: "a while"; the notice gives no
#: time) ...
RETRY_AFTER_S = 120.0
#: ... and this long after a long cut or a period ends.
AFTER_S = 30.0
#: Emulated bench: restored this long before the scenario's first moment (the power-on
#: routine fits in it).
LEAD_S = 900.0
#: How long a restarted or power-cycled reader is given to show its first screen.
REMEDY_SETTLE_S = 120.0


def renewal_check(profile: Profile) -> FlowCheck | None:
    return next((c for r in profile.requirements for c in r.checks
                 if isinstance(c, FlowCheck) and c.renewal is not None), None)


def first_moment(scenario: Scenario, bench: Bench) -> dt.datetime | None:
    periods = scenario.periods(bench.spec.network.region)
    return periods[0].start - dt.timedelta(seconds=BEFORE_S) if periods else None


def restore_at(bench: Bench, profile: Profile) -> dt.datetime | None:
    """Emulated bench: when the bench is restored for the scenario (its terminal's clock);
    a real bench keeps its own clock (None)."""
    check = renewal_check(profile)
    if not bench.emulated or check is None or check.renewal is None:
        return None
    first = first_moment(load_scenario(check.renewal.scenario), bench)
    return None if first is None else first - dt.timedelta(seconds=LEAD_S)


Event = tuple[float, int, str, Callable[[], None]]


def drive_network_renewal(run: FlowRun, plan: Plan) -> None:
    check = renewal_check(plan.profile)
    if check is None or check.renewal is None:
        run.problem(f"{plan.profile.key}: no check of the profile names a network scenario")
        return
    scenario = load_scenario(check.renewal.scenario)
    region = run.bench.spec.network.region
    periods, cuts = scenario.periods(region), scenario.cuts(region)
    first = first_moment(scenario, run.bench)
    if first is None:
        run.problem(f"scenario {scenario.scenario} has no period for {region}")
        return
    to_t = _bench_time(run, first)
    run.record.replay = Replay(
        scenario.scenario, region, tuple(_span(p, to_t) for p in periods),
        tuple(_span(c, to_t) for c in cuts),
        origin=(first - dt.timedelta(seconds=to_t(first))).isoformat())
    events = sorted(_events(run, periods, cuts, to_t))
    for due, _, _, act in events:
        if run.clock.now() < due:
            run.hands.wait(due - run.clock.now())
        act()


def _bench_time(run: FlowRun, first: dt.datetime) -> Callable[[dt.datetime], float]:
    """Bench seconds of a scenario moment: by the terminal's clock when it stands before
    the scenario's first moment (an emulated bench restored for it), else with that first
    moment taken as now."""
    now, wall = run.clock.now(), run.clock.wallclock()
    lead = (first - wall).total_seconds()
    base = now + lead if 0 <= lead <= 2 * LEAD_S else now

    def to_t(when: dt.datetime) -> float:
        return base + (when - first).total_seconds()

    return to_t


def _span(part: Period | Cut, to_t: Callable[[dt.datetime], float]) -> Span:
    return Span(part.kind, to_t(part.start), to_t(part.end))


def _events(run: FlowRun, periods: list[Period], cuts: list[Cut],
            to_t: Callable[[dt.datetime], float]) -> list[Event]:
    """The moments of the replay in order; at one moment the line's change comes first
    (order 0), then the try (1)."""
    out: list[Event] = []

    def line(t: float, cut: bool) -> None:
        out.append((t, 0, "cut" if cut else "restore", lambda: run.do(
            "network_cut" if cut else "network_restore",
            lambda: run.hands.network_cut(cut=cut))))

    def tried(t: float, remedies: bool = False) -> None:
        out.append((t, 1, "try", lambda: _until_through(run) if remedies else _try(run)))

    for cut in cuts:
        line(to_t(cut.start), True)
        line(to_t(cut.end), False)
    for period in periods:
        start, end = to_t(period.start), to_t(period.end)
        if period.kind == "long_cut":
            tried(start - BEFORE_S)
            for t in (start + IN_CUT_S, (start + end) / 2, end - END_MARGIN_S):
                tried(t)
        else:
            inside = [c for c in cuts if period.start <= c.start < period.end]
            for cut in dict.fromkeys([inside[0], inside[-1]]) if inside else ():
                tried(to_t(cut.start) + IN_CUT_S)
                tried(to_t(cut.end) + RETRY_AFTER_S, remedies=True)
        tried(end + AFTER_S, remedies=True)
    return out


def _try(run: FlowRun) -> bool:
    """A patient tries a check, as ERR-11's driver does (drivers imports this module)."""
    from harness.flows.drivers import check_goes_through

    return check_goes_through(run)


def _until_through(run: FlowRun) -> None:
    """A try; while it fails on a reader that still shows something else than its first
    screen, the notice's remedies in turn, each followed by a try."""
    from harness.flows.drivers import power_cycle

    if _try(run):
        return
    remedies: list[tuple[str, Callable[[], object]]] = [
        ("restart_reader", lambda: run.hands.restart_reader(run.reader))]
    if run.reader in run.bench.spec.switchable():
        remedies.append(("power_cycle_reader", lambda: power_cycle(run)))
    for name, remedy in remedies:
        if run.last is not None and run.last.shows == "first":
            return  # the reader is ready and the check still failed: no remedy for that
        run.do(name, remedy)
        # Looked at without noting a problem: the try after it tells.
        run.wait(REMEDY_SETTLE_S)
        if _try(run):
            return
