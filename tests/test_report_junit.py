"""junit.xml written again from a run's certification.json (``report render``), on a report
made by hand: every outcome the collector records has its JUnit form, the counts add up, the
run's properties and each test's verdicts (as JSON) are on it, durations come from the file
it replaces."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from harness.report.certification import VERDICT_PROPERTY
from harness.report.junit import finish_junit, report_junit


def _verdict(req: str, status: str, problems: list[str]) -> dict[str, Any]:
    return {"requirement": req, "maker": "acme", "subject": "reader-a", "status": status,
            "expected": "the rule", "seen": "what was seen", "problems": problems,
            "evidence": {"span": [1.0, 2.0]}}


FAILING = _verdict("E901-02", "failed", ["please_wait was not seen after consent"])
PASSING = _verdict("USB-02", "passed", [])

REPORT: dict[str, Any] = {
    "bench": {"file": "b.yaml", "name": "lab-1", "kind": "real", "sha256": "ab" * 32},
    "started": "2026-02-02T08:30:00+09:00", "ended": "2026-02-02T08:31:05+09:00",
    "passed": False, "run": "r123", "rig": {"commit": "c" * 40, "host": "lab-pc"},
    "makers": {"acme": {}},
    "tests": {
        "suites/test_flows.py::test_flow_requirement[acme-E901-02]": {
            "requirements": ["E901-02"], "makers": ["acme"], "outcome": "failed",
            "reason": "Failed: E901-02 (acme) on reader-a failed: please_wait was not seen",
            "verdicts": [FAILING]},
        "suites/test_usb_wiring.py::test_wiring_rule[acme-USB-02]": {
            "requirements": ["USB-02"], "makers": ["acme"], "outcome": "passed",
            "verdicts": [PASSING]},
        "suites/test_boot.py::TestBoot::test_boot[acme-BOOT-01]": {
            "requirements": ["BOOT-01"], "makers": ["acme"], "outcome": "bench_fault",
            "reason": "bench fault (camera.frozen) cam-a: the same frame since 3 s",
            "verdicts": []},
        "suites/test_upd.py::test_upd[acme-UPD-01]": {
            "requirements": ["UPD-01"], "makers": ["acme"], "outcome": "skipped",
            "reason": "no schedule on this bench", "verdicts": []},
        "suites/test_err.py::test_err[acme-ERR-01]": {
            "requirements": ["ERR-01"], "makers": ["acme"], "outcome": "not_run",
            "reason": "not run: deselected by the pytest options given after --",
            "verdicts": []},
    },
}


def _cases(root: ET.Element) -> dict[str, ET.Element]:
    return {f"{c.get('classname')}::{c.get('name')}": c for c in root.iter("testcase")}


def test_every_outcome_has_its_junit_form_and_the_counts_add_up(tmp_path: Path) -> None:
    root = ET.parse(report_junit(tmp_path / "junit.xml", REPORT)).getroot()
    (suite,) = root.iter("testsuite")
    cases = _cases(suite)
    assert list(cases) == ["suites.test_flows::test_flow_requirement[acme-E901-02]",
                           "suites.test_usb_wiring::test_wiring_rule[acme-USB-02]",
                           "suites.test_boot.TestBoot::test_boot[acme-BOOT-01]",
                           "suites.test_upd::test_upd[acme-UPD-01]",
                           "suites.test_err::test_err[acme-ERR-01]"]
    failed, passed, fault, skipped, not_run = cases.values()
    failure = failed.find("failure")
    assert failure is not None and failure.get("message").startswith("Failed: E901-02")
    assert "please_wait was not seen after consent [seen: what was seen]" in failure.text
    assert [c.tag for c in passed] == ["properties"]
    # A bench fault is an error of the bench, never the reader's failure.
    error = fault.find("error")
    assert fault.find("failure") is None and error is not None
    assert error.get("type") == "bench_fault" and "camera.frozen" in error.get("message")
    assert skipped.find("skipped").get("message") == "no schedule on this bench"
    assert "deselected" in not_run.find("skipped").get("message")
    for node in (suite, root):
        assert (node.get("tests"), node.get("failures"), node.get("errors"),
                node.get("skipped")) == ("5", "1", "1", "2")
    assert suite.get("time") == "65.000" and suite.get("hostname") == "lab-pc"
    props = [(p.get("name"), p.get("value")) for p in suite.find("properties")]
    assert props == [("bench", "lab-1"), ("bench_sha256", "ab" * 32), ("commit", "c" * 40),
                     ("certification", "failed"), ("run", "r123"), ("maker", "acme")]
    # Each test's verdicts, as JSON a reader can load back whole.
    [prop] = failed.find("properties")
    assert prop.get("name") == VERDICT_PROPERTY and json.loads(prop.get("value")) == FAILING


def test_durations_come_from_the_file_it_replaces(tmp_path: Path) -> None:
    target = tmp_path / "junit.xml"
    target.write_text(
        '<testsuites><testsuite name="x" tests="1"><testcase classname="suites.test_flows" '
        'name="test_flow_requirement[acme-E901-02]" time="4.250"><failure message="m">'
        "traceback</failure></testcase></testsuite></testsuites>", encoding="utf-8")
    cases = _cases(ET.parse(report_junit(target, REPORT)).getroot())
    assert [c.get("time") for c in cases.values()] == ["4.250", "0", "0", "0", "0"]
    # A file that is not JUnit: rebuilt whole, every duration unknown.
    target.write_text("<testsuites", encoding="utf-8")
    cases = _cases(ET.parse(report_junit(target, REPORT)).getroot())
    assert {c.get("time") for c in cases.values()} == {"0"}



def test_durations_the_report_keeps_win_and_an_interrupted_runs_not_run_says_why(
        tmp_path: Path) -> None:
    """An interrupted run's JUnit: each test's time as certification.json has it (not 0), and
    a test the interruption left out says so (a CI server showing "skipped: not run" reads
    as a run that chose to skip it)."""
    import copy

    report = copy.deepcopy(REPORT)
    report["interrupted"] = True
    report["tests"]["suites/test_flows.py::test_flow_requirement[acme-E901-02]"]["seconds"] = \
        10.963
    report["tests"]["suites/test_err.py::test_err[acme-ERR-02]"] = {
        "requirements": ["ERR-02"], "makers": ["acme"], "outcome": "not_run",
        "verdicts": []}
    cases = _cases(ET.parse(report_junit(tmp_path / "junit.xml", report)).getroot())
    assert cases["suites.test_flows::test_flow_requirement[acme-E901-02]"].get("time") == \
        "10.963"
    [skip] = cases["suites.test_err::test_err[acme-ERR-02]"].iter("skipped")
    assert skip.get("message") == "not run: the run was interrupted before it"
    # Seconds that are no time (edited by hand): not written as a time.
    for bad in (float("inf"), float("nan"), 1e308, -1.0, "12"):
        report["tests"]["suites/test_flows.py::test_flow_requirement[acme-E901-02]"][
            "seconds"] = bad
        cases = _cases(ET.parse(report_junit(tmp_path / "junit.xml", report)).getroot())
        assert cases["suites.test_flows::test_flow_requirement[acme-E901-02]"].get(
            "time") == "10.963", bad  # the file it replaces had it
    # A reason the report gives wins.
    [skip] = cases["suites.test_err::test_err[acme-ERR-01]"].iter("skipped")
    assert skip.get("message") == "not run: deselected by the pytest options given after --"


def test_certify_s_file_carries_the_verdicts_as_json(tmp_path: Path) -> None:
    # pytest writes a user property as Python's repr of it.
    part = tmp_path / "part.xml"
    part.write_text(
        '<testsuite name="pytest" tests="1"><testcase classname="suites.test_flows" name="t">'
        f'<properties><property name="{VERDICT_PROPERTY}" value="{FAILING!r}" /></properties>'
        "</testcase></testsuite>".replace("'", "&apos;"), encoding="utf-8")
    root = ET.parse(finish_junit(tmp_path / "junit.xml", [(part, ["acme"])], bench="lab-1",
                                 bench_sha256="ab" * 32, commit=None, passed=False)).getroot()
    [prop] = [p for p in root.iter("property") if p.get("name") == VERDICT_PROPERTY]
    assert json.loads(prop.get("value")) == FAILING
