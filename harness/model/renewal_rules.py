"""A network scenario's periods, judged on what the reader did in each (NET-01).

Pure (DESIGN.md principle 5): a :class:`~harness.model.profiles.Renewal` and a
:class:`~harness.model.observed.FlowRecord` in, the problems out. Seed 001 (事務連絡 令和6年
12月24日, 記 2.): during the long cut no eligibility check can be made (接続エラー); during
the intermittent cuts a check that failed is tried again after a while (少々お時間をあけて再度
お試し下さい) and, if the reader's error does not clear, the reader is restarted or
power-cycled (カードリーダーの再起動、電源のオン・オフ); nothing more.

The record's tries (``attempt`` actions) cut it into windows: a try went through when the
success screen shows before the next try. The cuts are the record's ``network_cut`` /
``network_restore`` actions; the periods come from the replay. Judged:

- the cuts were done as the scenario plans them (a cut done late is a scenario not
  replayed, whatever the reader did);
- no success screen first shows during a cut (every try of every cut);
- long cut: a try just before it goes through; tries at its start, middle and just before
  its end do not, and each shows the maker's network error (its texts as the profile
  gives them);
- intermittent period: at its first and its last cut (its edges), a try during the cut
  fails and a try after the cut's end, before the next cut, goes through;
- after each long cut and each period: the first try comes within ``edge_s`` of the end
  and a check goes through before the next cut;
- remedies: only the notice's (``remedies``), each only after a try since the last cut
  failed; any other action on the bench is more than the notice allows.
"""

from __future__ import annotations

from harness.model.observed import FlowRecord, SeenScreen
from harness.model.profiles import Renewal, ScreenStep
from harness.model.replay import Span

#: A cut done this late against the plan is still the plan's (a look's step).
LATE_S = 5.0
#: What a patient does at the reader, what the replay does to the line, and the staff's OK
#: on the terminal's network error dialog: none of these is a remedy.
ORDINARY = frozenset({"card_out", "face", "consent", "network_cut", "network_restore",
                      "terminal:OK"})


def _cuts_done(record: FlowRecord) -> tuple[list[tuple[float, float]], list[str]]:
    spans: list[tuple[float, float]] = []
    problems: list[str] = []
    start: float | None = None
    for a in record.actions:
        if a.what == "network_cut":
            if start is not None:
                problems.append(f"the line was cut at {a.t:.1f} s while already cut")
            start = a.t
        elif a.what == "network_restore":
            if start is None:
                problems.append(f"the line was restored at {a.t:.1f} s without a cut")
                continue
            spans.append((start, a.t))
            start = None
    if start is not None:
        problems.append(f"the line cut at {start:.1f} s was never restored")
    return spans, problems


def _replayed(planned: tuple[Span, ...], done: list[tuple[float, float]]) -> list[str]:
    if len(done) != len(planned):
        return [f"the scenario plans {len(planned)} cuts; {len(done)} were done"]
    problems = []
    for plan, (start, end) in zip(planned, done, strict=True):
        if abs(start - plan.start) > LATE_S or abs(end - plan.end) > LATE_S:
            problems.append(f"the {plan.kind} cut planned {plan.start:.0f}-{plan.end:.0f} s "
                            f"was done {start:.0f}-{end:.0f} s: the scenario was not replayed "
                            "as written (a try ran over its edge)")
    return problems


class _Tries:
    """The record's tries, each with whether it went through."""

    def __init__(self, rule: Renewal, record: FlowRecord) -> None:
        self.record = record
        self.rule = rule
        self.times = [a.t for a in record.actions if a.what == rule.attempt]

    def window(self, t: float) -> tuple[float, float]:
        later = [u for u in self.times if u > t]
        return t, (later[0] if later else float("inf"))

    def screens(self, t: float) -> list[SeenScreen]:
        start, end = self.window(t)
        return [s for s in self.record.screens if s.until >= start and s.t < end]

    def through(self, t: float, before: float = float("inf")) -> bool:
        start, end = self.window(t)
        return any(s.shows == self.rule.succeeded and start <= s.t < min(end, before)
                   for s in self.record.screens)

    def between(self, start: float, end: float) -> list[float]:
        return [t for t in self.times if start <= t < end]


def _error_problem(step: ScreenStep, seen: list[SeenScreen]) -> str | None:
    """None when one of ``seen`` is the maker's network error with its texts."""
    # As the flows take it: an unknown screen showing its texts is the error, judged whole.
    errors = [s for s in seen if s.is_step(step)]
    if not errors:
        return f"the reader showed {' -> '.join(s.label() for s in seen) or 'nothing'}, " \
               f"not its network error ({step.screen})"
    for s in errors:
        texts = [*step.texts, *step.contains]
        found = [f is not None and f.found for f in map(s.finding, texts)]
        any_ = [f is not None and f.found for f in map(s.finding, step.contains_any)]
        if all(found) and (not step.contains_any or any(any_)):
            return None
    want = ", ".join([*step.texts, *step.contains]) or " or ".join(step.contains_any)
    read = "; ".join(f.describe() for f in errors[0].findings) or "nothing read"
    return f"the reader's {step.screen} does not show {want} ({read})"


def _after(tries: _Tries, end: float, until: float, what: str, edge_s: float) -> list[str]:
    """After ``end``: the first try within ``edge_s``, and a try through before ``until``."""
    after = tries.between(end, until)
    if not after or after[0] - end > edge_s:
        first = f"the first at {after[0]:.1f} s" if after else "none"
        return [f"after {what} (ended {end:.1f} s) no check was tried within {edge_s:g} s "
                f"({first}): the edge is not shown"]
    if not any(tries.through(t, until) for t in after):
        return [f"after {what} (ended {end:.1f} s) no check went through before "
                f"{'the next cut' if until != float('inf') else 'the end'} (tries at "
                f"{', '.join(f'{t:.1f}' for t in after)} s)"]
    return []


def _before(tries: _Tries, start: float, what: str, edge_s: float) -> list[str]:
    before = tries.between(start - edge_s, start)
    if not any(tries.through(t, start) for t in before):
        tried = ", ".join(f"{t:.1f}" for t in before) or "none"
        return [f"just before {what} (at {start:.1f} s) no check went through within "
                f"{edge_s:g} s of it (tries at {tried} s)"]
    return []


def _long_cut(rule: Renewal, tries: _Tries, cut: tuple[float, float], after: float
              ) -> list[str]:
    start, end = cut
    what = f"the long cut {start:.1f}-{end:.1f} s"
    edge = rule.edge_s
    problems = _before(tries, start, what, edge)
    middle = (start + end) / 2
    for name, lo, hi in (("its start", start, start + edge),
                         ("its middle", middle - edge, middle + edge),
                         ("just before its end", end - edge, end)):
        inside = tries.between(max(lo, start), min(hi, end))
        if not inside:
            problems.append(f"no check was tried at {name} ({lo:.1f}-{hi:.1f} s) of {what}")
            continue
        for t in inside:
            seen = [s for s in tries.screens(t) if s.t < end]
            error = _error_problem(rule.error, seen)
            if error is not None:
                problems.append(f"try at {t:.1f} s, {name} of {what}: {error}")
    return problems + _after(tries, end, after, what, edge)


def _intermittent(rule: Renewal, tries: _Tries, period: Span,
                  cuts: list[tuple[float, float]], after: float) -> list[str]:
    what = f"the intermittent period {period.start:.1f}-{period.end:.1f} s"
    problems: list[str] = []
    inside = [c for c in cuts if period.start <= c[0] < period.end]
    if not inside:
        return [*problems, f"no cut was done in {what}"]
    ends = [c[0] for c in cuts[1:]] + [float("inf")]
    # A retry belongs to its cut: before the next cut, and within the period.
    nxt = {c: min(ends[cuts.index(c)], period.end) for c in inside}
    for name, cut in (("first", inside[0]), ("last", inside[-1])):
        if name == "last" and len(inside) == 1:
            break
        start, end = cut
        during = tries.between(start, end)
        if not during:
            problems.append(f"no check was tried during the {name} cut ({start:.1f}-"
                            f"{end:.1f} s) of {what}")
        retry = tries.between(end, nxt[cut])
        if not any(tries.through(t, nxt[cut]) for t in retry):
            until = "the next cut" if nxt[cut] < period.end else "the period's end"
            problems.append(f"after the {name} cut ({start:.1f}-{end:.1f} s) of {what} no "
                            f"check tried again went through before {until} (tries at "
                            f"{', '.join(f'{t:.1f}' for t in retry) or 'none'} s)")
    return problems + _after(tries, period.end, after, what, rule.edge_s)


def _remedies(rule: Renewal, record: FlowRecord, tries: _Tries,
              cuts: list[tuple[float, float]]) -> list[str]:
    problems = []
    for a in record.actions:
        if a.what == rule.attempt or a.what in ORDINARY:
            continue
        if a.what not in rule.remedies:
            problems.append(f"{a.what} at {a.t:.1f} s: the notice allows at most "
                            f"{' or '.join(rule.remedies)} when the reader's error does not "
                            "clear")
            continue
        since = max((c[1] for c in cuts if c[1] <= a.t), default=float("-inf"))
        failed = [t for t in tries.between(since, a.t) if not tries.through(t, a.t)]
        if not failed:
            problems.append(f"{a.what} at {a.t:.1f} s with no failed try since the line came "
                            "back: the notice restarts the reader only if the error persists")
    return problems


def check_renewal(rule: Renewal, record: FlowRecord) -> list[str]:
    replay = record.replay
    if replay is None:
        return [f"no network scenario was replayed ({rule.scenario})"]
    done, problems = _cuts_done(record)
    problems += _replayed(replay.cuts, done)
    for s in record.screens:
        if s.shows == rule.succeeded and any(a <= s.t < b for a, b in done):
            problems.append(f"{s.shows} showed at {s.t:.1f} s during a cut of the line: no "
                            "check can be made then")
    tries = _Tries(rule, record)
    starts = [c[0] for c in done]
    for period in replay.periods:
        nxt = min((t for t in starts if t >= period.end), default=float("inf"))
        if period.kind == "long_cut":
            cut = next((c for c in done if abs(c[0] - period.start) <= LATE_S), None)
            if cut is None:
                problems.append(f"the long cut {period.start:.1f}-{period.end:.1f} s was not "
                                "done")
                continue
            problems += _long_cut(rule, tries, cut, nxt)
        else:
            problems += _intermittent(rule, tries, period, done, nxt)
    problems += _remedies(rule, record, tries, done)
    return problems
