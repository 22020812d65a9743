"""Remedies tried in the notice's order, each only while the trouble lasts (ERR-11).

Pure (DESIGN.md principle 5): an :class:`~harness.model.profiles.Escalation` and a
:class:`~harness.model.observed.FlowRecord` in, the problems out. The record's remedy actions
cut it into stretches; a stretch's check went through when the success screen shows in it,
and failed when it was tried (the attempt action) and the success screen did not show.

- Before the first remedy a check was tried and failed: with no trouble shown there is
  nothing to remedy, and the order cannot be judged (fail closed).
- Each remedy comes only after the one before it in the list was done (the support vendor's お知らせ ②: the
  router never before the PC), and only when the check tried since the remedy before it
  still failed (the router only if restarting the PC did not help).
- After the last remedy done a check went through.
"""

from __future__ import annotations

from harness.model.observed import FlowRecord
from harness.model.profiles import Escalation


def _stretch(rule: Escalation, record: FlowRecord, start: float, end: float
             ) -> tuple[bool, bool]:
    """(tried, went through) between ``start`` and ``end`` (bench seconds)."""
    tried = any(start <= a.t < end for a in record.actions if a.what == rule.attempt)
    through = any(start <= s.t < end for s in record.screens if s.shows == rule.succeeded)
    return tried, through


def check_escalation(rule: Escalation, record: FlowRecord) -> list[str]:
    remedies = [a for a in record.actions if a.what in rule.steps]
    bounds = [float("-inf"), *(a.t for a in remedies), float("inf")]
    problems: list[str] = []
    tried, through = _stretch(rule, record, bounds[0], bounds[1])
    if through or not tried:
        why = "it went through" if through else "none was tried"
        problems.append(f"a check must fail before the first remedy ({rule.steps[0]}); {why},"
                        f" so the order of the remedies is not shown")
    reached = -1
    for k, action in enumerate(remedies):
        step = rule.steps.index(action.what)
        if step > reached + 1:
            problems.append(f"{action.what} at {action.t:.1f} s before "
                            f"{rule.steps[reached + 1]} was tried (the order is "
                            f"{' then '.join(rule.steps)})")
        reached = max(reached, step)
        if k > 0:
            tried, through = _stretch(rule, record, bounds[k], bounds[k + 1])
            if through:
                problems.append(f"{action.what} at {action.t:.1f} s although a check went "
                                f"through after {remedies[k - 1].what}")
            elif not tried:
                problems.append(f"{action.what} at {action.t:.1f} s without a check tried "
                                f"after {remedies[k - 1].what}: whether that helped is unknown")
    tried, through = _stretch(rule, record, bounds[-2], bounds[-1])
    if not through:
        done = " ".join(f"{a.t:.1f}:{a.what}" for a in record.actions)
        if remedies:
            problems.append(f"no check went through after the last remedy ({remedies[-1].what}"
                            f" at {remedies[-1].t:.1f} s; actions {done})")
        else:
            problems.append(f"no check went through and no remedy was tried ({done})")
    return problems
