"""The end of a certification on the console: the table of makers and the verdict line.

The verdict line is the last line ``certify`` prints (in ``--quiet`` mode, after the
failures, the only other one): ``PASSED``, or ``NOT PASSED`` with what kept it from passing
(failed, not run, bench faults) and where the report is. A run that did not finish never
says passed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

STATUSES = ("passed", "failed", "not_run")


def counts(rows: dict[str, Any]) -> dict[str, int]:
    return {s: sum(1 for r in rows.values() if r.get("status") == s) for s in STATUSES}


def final_table(report: dict[str, Any]) -> list[str]:
    """Per maker (certified on this bench), how many requirements passed, failed, not run."""
    width = max([16, *(len(m) + 1 for m in report["makers"])])
    lines = []
    for maker, rows in report["makers"].items():
        c = counts(rows)
        lines.append(f"{maker:{width}} passed {c['passed']:3}  failed {c['failed']:3}  "
                     f"not run {c['not_run']:3}")
    return lines


def verdict_line(report: dict[str, Any], out: Path) -> str:
    """``PASSED: ...`` or ``NOT PASSED: 2 failed, 27 not run (...)``, with the report's path."""
    total = {s: 0 for s in STATUSES}
    for rows in report["makers"].values():
        for status, n in counts(rows).items():
            total[status] += n
    where = f"report: {out / 'certification.json'}"
    state = report.get("state", "finished")
    if report.get("passed") and state == "finished":
        return f"PASSED: all {total['passed']} requirements of {len(report['makers'])} " \
               f"maker(s) passed; {where}"
    why = [f"{total['failed']} failed"] if total["failed"] else []
    if total["not_run"]:
        why.append(f"{total['not_run']} not run")
    faults = len(report.get("bench_faults", []))
    if faults:
        why.append(f"{faults} bench fault(s)")
    if state != "finished":
        why.append(f"the run {'was interrupted' if state == 'interrupted' else 'stopped'}")
    if not why:  # never a bare "NOT PASSED": say it is the report's own verdict
        why.append("the report does not pass")
    return f"NOT PASSED: {', '.join(why)}; {where}"
