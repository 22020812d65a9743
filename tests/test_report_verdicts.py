"""The certification report decides each requirement from the verdicts the suites handed
to ``judge``, failing closed: a passing test without a verdict, a test that failed before
judging, and a verdict that could not be judged all fail the requirement, with reasons."""

from __future__ import annotations

import datetime as dt

import pytest

from harness.bench import check_bench_file, default_bench_path
from harness.model.profiles import ProfileSet, default_profiles_dir
from harness.model.verdict import Evidence, Verdict
from harness.report.certification import TestRecord, build_report

MAKER = "canon"
REQ = "USB-02"


def _verdict(status: str, problems: tuple[str, ...] = ()) -> Verdict:
    return Verdict(REQ, MAKER, MAKER, status, "no hub between", "1 hub", problems,  # type: ignore[arg-type]
                   Evidence(span=(1.0, 2.0), observed=("at 1-2",)))


def _row(*records: TestRecord) -> dict:
    path = default_bench_path()
    now = dt.datetime.now().astimezone()
    report = build_report(bench_path=path, spec=check_bench_file(path),
                          profiles=ProfileSet.load(default_profiles_dir()),
                          tests={r.nodeid: r for r in records}, started=now, ended=now,
                          only={MAKER})
    return report["makers"][MAKER][REQ]


def _test(outcome: str, *verdicts: Verdict, reason: str = "") -> TestRecord:
    return TestRecord(f"t-{outcome}-{len(verdicts)}", (REQ,), (MAKER,), outcome, reason,
                      list(verdicts))


def test_a_passing_verdict_passes_and_is_carried_whole() -> None:
    row = _row(_test("passed", _verdict("passed")))
    assert row["status"] == "passed"
    assert row["verdicts"] == [_verdict("passed").as_json()]
    assert Verdict.from_json(row["verdicts"][0]) == _verdict("passed")


@pytest.mark.parametrize(("records", "reason"), [
    ((_test("passed"),), "passed without a verdict on USB-02 for canon"),
    ((_test("failed", _verdict("failed", ("a hub",)), reason="x"),), "canon: a hub"),
    ((_test("failed", reason="cannot open the bench: pcscd"),), "cannot open the bench"),
    ((_test("passed", _verdict("error", ("topology unknown",))),), "topology unknown"),
    # One test's pass does not cover another's failure on the same requirement.
    ((_test("passed", _verdict("passed")), _test("failed", reason="boom")), "boom"),
])
def test_anything_but_a_judged_pass_fails(records: tuple[TestRecord, ...], reason: str) -> None:
    row = _row(*records)
    assert row["status"] == "failed", row
    assert any(reason in r for r in row["reasons"]), row["reasons"]


def test_a_verdict_on_another_maker_does_not_decide() -> None:
    other = Verdict(REQ, "atlas", "atlas", "passed", "", "")
    row = _row(_test("passed", other))
    assert row["status"] == "failed" and "without a verdict" in row["reasons"][0]


def test_a_skipped_test_is_not_run_not_passed() -> None:
    row = _row(_test("skipped", reason="no camera"))
    assert row["status"] == "not_run"


def test_a_test_failed_for_another_verdict_leaves_this_one_standing() -> None:
    other = Verdict("AUTH-04", MAKER, MAKER, "failed", "", "", ("button",))
    row = _row(_test("failed", _verdict("passed"), other, reason="AUTH-04 failed"))
    assert row["status"] == "passed", row
