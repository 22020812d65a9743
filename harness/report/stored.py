"""A finished run folder read back: its ``certification.json``, checked for what the report
commands (``report render``, ``report diff``) rely on.

A folder without the file, a file that is not JSON, or a report missing what a reader of it
needs is bad input: a :class:`~harness.errors.RigError` of one line naming the file and the
field, never a traceback and never a report drawn from half the facts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.errors import BadInput, RigError
from harness.report.live import REPORT_FILE

STATUSES = ("passed", "failed", "not_run")
_BENCH_FIELDS = ("file", "name", "kind", "sha256")
_VERDICT_FIELDS = ("subject", "status", "expected", "seen")


def load_run(run_dir: Path) -> dict[str, Any]:
    """``run_dir``'s certification report, checked; a :class:`RigError` if it has none or
    a broken one."""
    if not run_dir.is_dir():
        raise RigError(f"{run_dir}: no such run folder")
    path = run_dir / REPORT_FILE
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        raise RigError(f"{path}: no certification report in this folder") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RigError(f"{path}: cannot be read: {exc}") from None
    try:
        report = json.loads(text)
    except ValueError as exc:
        line = getattr(exc, "lineno", None)
        msg = getattr(exc, "msg", str(exc))
        raise BadInput(str(path), line, "", f"not JSON: {msg}") from None
    _check(path, report)
    return report


def _bad(path: Path, field: str, problem: str) -> BadInput:
    return BadInput(str(path), None, field, problem)


def _check(path: Path, report: Any) -> None:
    if not isinstance(report, dict):
        raise _bad(path, "", "not a certification report (not a JSON object)")
    bench = report.get("bench")
    if not isinstance(bench, dict):
        raise _bad(path, "bench", "missing (not a certification report?)")
    for key in _BENCH_FIELDS:
        if not isinstance(bench.get(key), str):
            raise _bad(path, f"bench.{key}", "missing or not text")
    for key in ("started", "ended"):
        if not isinstance(report.get(key), str):
            raise _bad(path, key, "missing or not text")
    if not isinstance(report.get("passed"), bool):
        raise _bad(path, "passed", "missing or not true/false")
    makers = report.get("makers")
    if not isinstance(makers, dict):
        raise _bad(path, "makers", "missing or not an object")
    for maker, rows in makers.items():
        if not isinstance(rows, dict):
            raise _bad(path, f"makers.{maker}", "not an object of requirements")
        for req, row in rows.items():
            where = f"makers.{maker}.{req}"
            if not isinstance(row, dict) or row.get("status") not in STATUSES:
                raise _bad(path, f"{where}.status", f"not one of {', '.join(STATUSES)}")
            verdicts = row.get("verdicts", [])
            if not isinstance(verdicts, list):
                raise _bad(path, f"{where}.verdicts", "not a list")
            for i, verdict in enumerate(verdicts):
                if not isinstance(verdict, dict):
                    raise _bad(path, f"{where}.verdicts[{i}]", "not an object")
                for key in _VERDICT_FIELDS:
                    if not isinstance(verdict.get(key), str):
                        raise _bad(path, f"{where}.verdicts[{i}].{key}", "missing or not text")
                if not isinstance(verdict.get("evidence", {}), dict):
                    raise _bad(path, f"{where}.verdicts[{i}].evidence", "not an object")
