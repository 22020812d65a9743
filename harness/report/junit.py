"""JUnit XML of a certification (``junit.xml`` in the run folder), for CI servers.

pytest writes the file (``--junitxml``; each test case carries its verdicts as properties);
:func:`finish_junit` names the suite and adds the properties a CI server shows with it:
``bench``, ``bench_sha256``, ``commit``, ``certification`` (``passed`` or ``failed``: a
requirement can fail with every test passing, e.g. one no test decides) and one ``maker`` per
maker certified (and ``run``: the run's id). A run
certified in parts is merged into one file, one ``testsuite`` per part.

:func:`report_junit` writes the file again from ``certification.json`` alone (``report
render``): one suite, a test case per test the report lists, its outcome (a failure with the
test's reason and its failing verdicts; a bench fault an ``error``, never the reader's
failure; skipped and not run ``skipped`` with why, an interrupted run's not-run tests saying
so) and its verdicts as properties (JSON). A case's ``time`` is the test's ``seconds`` in the
report; without them, from the file it replaces when that file holds the same case, else 0.
"""

from __future__ import annotations

import ast
import datetime as dt
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from harness.model.clock import MAX_WAIT_S
from harness.report.certification import VERDICT_PROPERTY
from harness.report.live import atomic_write

JUNIT_FILE = "junit.xml"
_COUNTS = ("tests", "failures", "errors", "skipped")


def suites_of(root: ET.Element) -> list[ET.Element]:
    return [root] if root.tag == "testsuite" else list(root.iter("testsuite"))


def set_properties(suite: ET.Element, properties: list[tuple[str, str]]) -> None:
    props = suite.find("properties")
    if props is None:
        props = ET.Element("properties")
        suite.insert(0, props)
    for name, value in properties:
        ET.SubElement(props, "property", name=name, value=value)


def _json_verdicts(suite: ET.Element) -> None:
    """pytest writes a verdict property as Python's repr of it; the rig's readers take JSON."""
    for prop in suite.iter("property"):
        if prop.get("name") != VERDICT_PROPERTY:
            continue
        try:
            value = ast.literal_eval(prop.get("value", ""))
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            continue  # left as pytest wrote it
        prop.set("value", json.dumps(value, ensure_ascii=False))


def run_properties(report: dict[str, Any], makers: Iterable[str]) -> list[tuple[str, str]]:
    """The suite's properties for a run's report (``bench``, ``bench_sha256``, ``commit``,
    ``certification``, ``run``, one ``maker`` each)."""
    run = report.get("run")
    return [("bench", report["bench"]["name"]), ("bench_sha256", report["bench"]["sha256"]),
            ("commit", (report.get("rig") or {}).get("commit") or "unknown"),
            ("certification", "passed" if report["passed"] else "failed"),
            *((("run", run),) if run else ()), *(("maker", m) for m in makers)]


def finish_junit(target: Path, parts: Iterable[tuple[Path, list[str]]], *, bench: str,
                 bench_sha256: str, commit: str | None, passed: bool,
                 run: str | None = None) -> Path:
    """Write ``target`` from pytest's files: ``parts`` are (file, makers it certified). The
    suites are named ``certify <bench>`` and carry the run's properties."""
    suites = []
    for path, makers in parts:
        for suite in suites_of(ET.parse(path).getroot()):
            suite.set("name", f"certify {bench}" + (f" ({', '.join(makers)})" if makers else ""))
            _json_verdicts(suite)
            set_properties(suite, [("bench", bench), ("bench_sha256", bench_sha256),
                                   ("commit", commit or "unknown"),
                                   ("certification", "passed" if passed else "failed"),
                                   *((("run", run),) if run else ()),
                                   *(("maker", m) for m in makers)])
            suites.append(suite)
    return write_suites(target, f"certify {bench}", suites)


def write_suites(target: Path, name: str, suites: Iterable[ET.Element]) -> Path:
    """``target``: the suites under one ``testsuites`` named ``name``, its counts and time
    their sums; written whole or not at all."""
    root = ET.Element("testsuites", name=name)
    totals = dict.fromkeys(_COUNTS, 0)
    time = 0.0
    for suite in suites:
        for key in _COUNTS:
            totals[key] += int(suite.get(key, "0"))
        time += float(suite.get("time", "0"))
        root.append(suite)
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", f"{time:.3f}")
    ET.indent(root)
    # Whole or not at all, no temporary file left behind (a full disk: never an empty file).
    atomic_write(target, ET.tostring(root, encoding="utf-8", xml_declaration=True))
    return target


def _case_names(nodeid: str) -> tuple[str, str]:
    """(classname, name) as pytest's junitxml names a node: ``suites/test_x.py::T::test[p]``
    -> ``suites.test_x.T``, ``test[p]``."""
    parts = nodeid.split("::")
    parts[0] = parts[0].replace("/", ".").removesuffix(".py")
    return ".".join(parts[:-1]), parts[-1]


def _times(path: Path) -> dict[tuple[str, str], str]:
    """The cases' durations in the file about to be replaced (none if it is not JUnit)."""
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        return {}
    return {(c.get("classname", ""), c.get("name", "")): c.get("time", "0")
            for c in root.iter("testcase")}


def _test_case(nodeid: str, test: dict[str, Any],
               times: dict[tuple[str, str], str], interrupted: bool = False) -> ET.Element:
    classname, name = _case_names(nodeid)
    seconds = test.get("seconds")
    # Seconds past a day (infinity, a NaN: edited by hand) are no time: the file's, or 0.
    took = f"{seconds:.3f}" if isinstance(seconds, int | float) and not isinstance(
        seconds, bool) and 0 <= seconds <= MAX_WAIT_S else times.get((classname, name), "0")
    case = ET.Element("testcase", classname=classname, name=name, time=took)
    verdicts = test.get("verdicts", [])
    if verdicts:
        set_properties(case, [(VERDICT_PROPERTY, json.dumps(v, ensure_ascii=False))
                              for v in verdicts])
    outcome, reason = test.get("outcome", "not_run"), test.get("reason", "")
    bad = [f"{v['requirement']} ({v['maker']}) on {v['subject']} {v['status']}: "
           + "; ".join(v.get("problems", ())) + f" [seen: {v['seen']}]"
           for v in verdicts if v.get("status") != "passed"]
    if outcome == "failed":
        message = reason or (bad[0] if bad else "failed")
        ET.SubElement(case, "failure", message=message).text = "\n".join(bad) or message
    elif outcome == "bench_fault":
        ET.SubElement(case, "error", type="bench_fault",
                      message=reason or "bench fault").text = reason or "bench fault"
    elif outcome in ("skipped", "not_run"):
        said = reason or ("not run: the run was interrupted before it"
                          if interrupted and outcome == "not_run" else outcome.replace("_", " "))
        ET.SubElement(case, "skipped", message=said)
    elif outcome != "passed":
        ET.SubElement(case, "error", message=f"unknown outcome {outcome!r}")
    return case


def report_junit(target: Path, report: dict[str, Any]) -> Path:
    """``target`` written again from the run's report (``certification.json``, already
    checked by harness.report.stored): see the module's description."""
    tests = report.get("tests")
    if not isinstance(tests, dict):
        raise ValueError("the report lists no tests (written by an older rig)")
    times = _times(target)
    interrupted = bool(report.get("interrupted"))
    cases = [_test_case(nodeid, test, times, interrupted) for nodeid, test in tests.items()]
    bench = report["bench"]["name"]
    makers = list(report["makers"])
    suite = ET.Element("testsuite", name=f"certify {bench}" + (
        f" ({', '.join(makers)})" if makers else ""))
    counts = {"tests": len(cases),
              "failures": sum(c.find("failure") is not None for c in cases),
              "errors": sum(c.find("error") is not None for c in cases),
              "skipped": sum(c.find("skipped") is not None for c in cases)}
    for key, value in counts.items():
        suite.set(key, str(value))
    suite.set("time", f"{_seconds(report):.3f}")
    suite.set("timestamp", report["started"])
    host = (report.get("rig") or {}).get("host")
    if host:
        suite.set("hostname", str(host))
    set_properties(suite, run_properties(report, makers))
    suite.extend(cases)
    return write_suites(target, f"certify {bench}", [suite])


def _seconds(report: dict[str, Any]) -> float:
    try:
        return max(0.0, (dt.datetime.fromisoformat(report["ended"])
                         - dt.datetime.fromisoformat(report["started"])).total_seconds())
    except ValueError:
        return 0.0
