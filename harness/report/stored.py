"""A finished run folder read back: its ``certification.json``, checked for what the report
commands (``report render``, ``report diff``) rely on.

A folder without the file, a file that is not JSON, or a report missing what a reader of it
needs is bad input: a :class:`~harness.errors.RigError` of one line naming the file and the
field, never a traceback and never a report drawn from half the facts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.errors import BadInput, RigError
from harness.loading import MAX_LISTED, MAX_REPORT_BYTES, bounded_bytes, json_loads
from harness.report.live import REPORT_FILE, RUN_FILE

STATUSES = ("passed", "failed", "not_run")
_BENCH_FIELDS = ("file", "name", "kind", "sha256")
_VERDICT_FIELDS = ("subject", "status", "expected", "seen")
#: A kept test record's fields (``TestRecord.as_json``) and what each must be.
_RECORD_TEXTS = ("outcome",)
_RECORD_LISTS = ("requirements", "makers")
_RECORD_OPTIONAL_TEXTS = ("reason", "folder")


def load_run(run_dir: Path) -> dict[str, Any]:
    """``run_dir``'s certification report, checked; a :class:`RigError` if it has none or
    a broken one."""
    if not run_dir.is_dir():
        raise RigError(f"{run_dir}: no such run folder")
    path = run_dir / REPORT_FILE
    try:
        text = bounded_bytes(path, MAX_REPORT_BYTES).decode("utf-8")
    except FileNotFoundError:
        raise RigError(f"{path}: no certification report in this folder") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RigError(f"{path}: cannot be read: {exc}") from None
    try:
        report = json_loads(text)
    except ValueError as exc:
        line = getattr(exc, "lineno", None)
        msg = getattr(exc, "msg", str(exc))
        raise BadInput(str(path), line, "", f"not JSON: {msg}") from None
    check_report(path, report)
    _one_run(run_dir, report)
    return report


def _one_run(run_dir: Path, report: dict[str, Any]) -> None:
    """The report is of the run its folder's run.json names (a merged run has none): a
    report copied in from another run is not rendered, compared or merged as this one's."""
    marker_path = run_dir / RUN_FILE
    if not marker_path.exists():
        return
    try:
        marker = json_loads(bounded_bytes(marker_path, MAX_REPORT_BYTES).decode("utf-8"))
    except (OSError, ValueError) as exc:
        raise BadInput(str(marker_path), None, "", f"cannot be read: {exc}") from None
    named = marker.get("run") if isinstance(marker, dict) else None
    if named != report.get("run"):
        raise BadInput(str(run_dir / REPORT_FILE), None, "run",
                       f"{report.get('run')!r}, but {RUN_FILE} names run {named!r}: the files "
                       "of two runs")


def _bad(path: Path, field: str, problem: str) -> BadInput:
    return BadInput(str(path), None, field, problem)


def check_report(path: Path, report: Any) -> None:
    """What a reader of a run's report relies on is there (the first problem found)."""
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


def check_records(path: Path, tests: dict[str, Any], keep: tuple[str, ...]) -> None:
    """Each test record of a report's ``tests`` that ``--resume`` keeps (its outcome in
    ``keep``) is what TestRecord.from_json reads: every problem, one line each, before the
    folder is touched (an older rig's record lacks fields this one needs)."""
    found: list[BadInput] = []
    for nodeid, data in tests.items():
        where = f"tests.{nodeid}"
        if not isinstance(data, dict):
            found.append(_bad(path, where, "not an object"))
        elif data.get("outcome") in keep:
            found += [_bad(path, f"{where}.{field}", problem)
                      for field, problem in _record_problems(data)]
    if len(found) > MAX_LISTED:
        more = len(found) - MAX_LISTED
        found = [*found[:MAX_LISTED], _bad(path, "", f"and {more} more problems")]
    if found:
        raise BadInput.of(found)


def _record_problems(data: dict[str, Any]) -> list[tuple[str, str]]:
    """(field, problem) of one kept test record."""
    found = [(key, "missing or not a list of text") for key in _RECORD_LISTS
             if not _texts(data.get(key))]
    found += [(key, "missing or not text") for key in _RECORD_TEXTS
              if not isinstance(data.get(key), str)]
    found += [(key, "not text") for key in _RECORD_OPTIONAL_TEXTS
              if not isinstance(data.get(key, ""), str)]
    seconds = data.get("seconds", 0.0)
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        found.append(("seconds", "not a number"))
    verdicts = data.get("verdicts")
    if not isinstance(verdicts, list):
        return [*found, ("verdicts", "missing or not a list")]
    for i, verdict in enumerate(verdicts):
        found += [(f"verdicts[{i}]{'.' if field else ''}{field}", problem)
                  for field, problem in _verdict_problems(verdict)]
    return found


def _verdict_problems(verdict: Any) -> list[tuple[str, str]]:
    """(field, problem) of one verdict of a kept record, as Verdict.from_json reads it."""
    from harness.model.verdict import Verdict

    if not isinstance(verdict, dict):
        return [("", "not an object")]
    found = [(key, "missing or not text") for key in ("requirement", "maker", *_VERDICT_FIELDS)
             if not isinstance(verdict.get(key), str)]
    if not _texts(verdict.get("problems", [])):
        found.append(("problems", "not a list of text"))
    if found:
        return found
    try:  # its evidence: spans, frames and windows
        Verdict.from_json(verdict)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        return [("evidence", f"not evidence this rig reads ({type(exc).__name__}: {exc})")]
    return []


def _texts(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)
