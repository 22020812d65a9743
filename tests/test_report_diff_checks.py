"""``report diff`` pairs a reader's verdicts check by check: a requirement with ``also:``
checks (E901-02's face, phone, PIN and staff's ways) has several verdicts on one reader, and
each changed one is shown (text, --json, --html), never only the last of them. Run folders
made by hand, sealed as a run seals them."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from harness.cli import main
from harness.report.diff import diff_runs
from harness.report.manifest import write_manifest

WAYS = ("e901", "e901_phone", "e901_pin", "e901_staff")


def _node(k: int) -> str:
    return "suites/test_flows.py::test_flow_requirement[acme-E901-02" + \
        (f"-also{k}]" if k else "]")


def _verdict(flow: str, status: str) -> dict[str, Any]:
    return {"requirement": "E901-02", "maker": "acme", "subject": "reader-a",
            "status": status,
            "expected": f"The screen does not change. [{flow}: consent -> please_wait]",
            "seen": f"flow {flow} on reader-a: first -> consent -> "
                    + ("please_wait" if status == "passed" else "first"),
            "problems": [] if status == "passed" else [f"{flow}: please_wait was not seen"],
            "evidence": {}}


def _run(folder: Path, statuses: dict[str, str], *, walk: str | None = None,
         record_tests: bool = True) -> Path:
    """A run whose E901-02 was judged on reader-a once per way (``statuses``: way ->
    status; a way left out was not judged); ``walk``: a deciding test without a verdict
    and its outcome's reason."""
    folder.mkdir()
    verdicts = {WAYS.index(w): _verdict(w, s) for w, s in statuses.items()}
    tests = {_node(k): {"requirements": ["E901-02"], "makers": ["acme"],
                        "outcome": "passed", "verdicts": [v]} for k, v in verdicts.items()}
    reasons = [f"reader-a: {v['problems'][0]}" for v in verdicts.values() if v["problems"]]
    if walk is not None:
        tests["suites/test_walk.py::test_walk[acme]"] = {
            "requirements": ["E901-02"], "makers": ["acme"], "outcome": "failed",
            "reason": walk, "verdicts": []}
        reasons.append(f"suites/test_walk.py::test_walk[acme]: {walk}")
    status = "failed" if reasons else "passed"
    report = {"bench": {"file": "bench.yaml", "name": "hand-made", "kind": "emulated",
                        "sha256": "0" * 64},
              "started": "2026-12-01T10:00:00+09:00", "ended": "2026-12-01T10:01:00+09:00",
              "passed": status == "passed",
              "makers": {"acme": {"E901-02": {
                  "status": status, "tests": list(tests), "verdicts": list(verdicts.values()),
                  **({"reasons": reasons} if reasons else {})}}},
              **({"tests": tests} if record_tests else {})}
    (folder / "certification.json").write_text(json.dumps(report, ensure_ascii=False),
                                               encoding="utf-8")
    write_manifest(folder)
    return folder


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out


ALL_PASS = dict.fromkeys(WAYS, "passed")


def test_a_way_that_newly_fails_is_shown_though_the_last_verdict_still_passes(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The face way fails now; the staff's (the last verdict on the reader) passes still.
    old = _run(tmp_path / "old", ALL_PASS)
    new = _run(tmp_path / "new", {**ALL_PASS, "e901": "failed"})
    code, out = _cli(capsys, "report", "diff", str(old), str(new))
    assert code == 1
    block = out[out.index("NEWLY FAILING E901-02"):out.index("devices:")]
    assert "reader-a (check: e901: consent -> please_wait)" in block
    assert "then: passed: flow e901 on reader-a" in block
    assert "now:  failed: flow e901 on reader-a" in block
    # The unchanged ways are not shown as a change, and nothing reads "passed -> passed".
    assert "e901_staff" not in block and "e901_phone" not in block
    code, data = main(["report", "diff", str(old), str(new), "--json"]), \
        json.loads(capsys.readouterr().out)
    [change] = data["makers"]["acme"]["changes"]
    [pair] = change["verdicts"]
    assert pair["check"] == _node(0) and pair["label"] == "e901: consent -> please_wait"
    assert (pair["old"]["status"], pair["new"]["status"]) == ("passed", "failed")


def test_every_way_that_changed_is_paired_with_its_own(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = _run(tmp_path / "old", ALL_PASS)
    new = _run(tmp_path / "new", dict.fromkeys(WAYS, "failed"))
    rows = diff_runs(old, new).makers["acme"]
    [row] = rows
    shown = [p for p in row.verdicts if p.changed]
    assert [p.check for p in shown] == [_node(k) for k in range(4)]
    for way, pair in zip(WAYS, shown, strict=True):
        assert pair.old is not None and pair.new is not None
        assert pair.old["seen"].startswith(f"flow {way} ")
        assert pair.new["seen"].startswith(f"flow {way} ")
    # Each one's own problem is shown with it; no reason is left over.
    assert row.other_reasons == ()
    code, out = _cli(capsys, "report", "diff", str(old), str(new))
    for way in WAYS:
        assert f"now:  failed: flow {way} on reader-a" in out
        assert f"[{way}: please_wait was not seen]" in out


def test_a_verdict_in_one_run_only_is_said_to_be(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = _run(tmp_path / "old", {"e901": "passed", "e901_staff": "passed"})
    new = _run(tmp_path / "new", {"e901": "passed", "e901_pin": "failed",
                                  "e901_staff": "passed"})
    code, out = _cli(capsys, "report", "diff", str(old), str(new))
    block = out[out.index("NEWLY FAILING E901-02"):out.index("devices:")]
    assert re.search(r"reader-a \(check: e901_pin: .*\)\n      then: not judged in this run "
                     r"\(no such verdict\)\n      now:  failed: flow e901_pin", block)
    assert "e901_staff" not in block


def test_the_reasons_no_verdict_carries_are_printed(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A path newly fails, and a test without a verdict on it failed too: both are said.
    old = _run(tmp_path / "old", ALL_PASS)
    new = _run(tmp_path / "new", {**ALL_PASS, "e901_pin": "failed"},
               walk="the walk stopped on an unknown screen")
    code, out = _cli(capsys, "report", "diff", str(old), str(new))
    assert ("    also now: suites/test_walk.py::test_walk[acme]: the walk stopped on an "
            "unknown screen") in out.splitlines()
    # (The verdict's own problem is with it, not repeated as a reason.)
    assert "also now: reader-a:" not in out
    target = tmp_path / "diff.html"
    code, out = _cli(capsys, "report", "diff", str(old), str(new), "--json", "--html",
                     str(target))
    change = json.loads(out[:out.rindex("}") + 1])["makers"]["acme"]["changes"][0]
    assert change["other_reasons"] == [
        "suites/test_walk.py::test_walk[acme]: the walk stopped on an unknown screen"]
    page = target.read_text("utf-8")
    assert page.count('data-subject="reader-a"') == 1
    assert f'data-check="{_node(2)}"' in page
    assert "reader-a (check: e901_pin: consent -&gt; please_wait)" in page
    assert "the walk stopped on an unknown screen" in page[page.index("Also now"):]


def test_a_report_without_test_records_pairs_by_the_checks_words(tmp_path: Path) -> None:
    old = _run(tmp_path / "old", ALL_PASS, record_tests=False)
    new = _run(tmp_path / "new", {**ALL_PASS, "e901_phone": "failed"}, record_tests=False)
    [row] = diff_runs(old, new).makers["acme"]
    [pair] = [p for p in row.verdicts if p.changed]
    assert pair.check == "e901_phone: consent -> please_wait"
    assert pair.old is not None and pair.old["seen"].startswith("flow e901_phone ")


def test_a_run_with_test_records_pairs_with_one_without(tmp_path: Path) -> None:
    # An older report (no test records) against a new one: both by the checks' words, so
    # each way still pairs with its own (none is shown as judged in one run only).
    old = _run(tmp_path / "old", ALL_PASS, record_tests=False)
    new = _run(tmp_path / "new", {**ALL_PASS, "e901_pin": "failed"})
    [row] = diff_runs(old, new).makers["acme"]
    assert len(row.verdicts) == 4
    [pair] = [p for p in row.verdicts if p.changed]
    assert pair.old is not None and pair.new is not None
    assert pair.new["seen"].startswith("flow e901_pin ")


def test_the_html_is_written_only_over_a_diff_of_its_own(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``--html`` replaces its file whole: a user's file or a device (``/dev/null``) is
    refused, one written by ``report diff`` before is written again."""
    import os

    old = _run(tmp_path / "old", ALL_PASS)
    new = _run(tmp_path / "new", ALL_PASS)
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes", "utf-8")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for target, says in ((notes, "an existing file that report diff did not write"),
                         (fifo, "not a regular file"), (tmp_path, "not a regular file")):
        code = main(["report", "diff", str(old), str(new), "--html", str(target)])
        err = capsys.readouterr().err
        assert code == 2 and says in err and "Traceback" not in err, err
    assert notes.read_text("utf-8") == "my notes"
    page = tmp_path / "diff.html"
    for _ in range(2):  # new, then its own again
        code, _out = _cli(capsys, "report", "diff", str(old), str(new), "--html", str(page))
        assert code == 0 and "onshi-rig report diff" in page.read_text("utf-8")


def test_runs_judged_by_other_reference_screens_are_said_to_be() -> None:
    """Hunt K-4: a maker's screens judged by other references is named in the notes (and
    a maker only one run certified is not)."""
    from harness.report.diff import _notes

    def run(canon: str, atlas: str | None = None) -> dict[str, Any]:
        screens = {"canon": {"sha256": canon}, **({"atlas": {"sha256": atlas}} if atlas
                                                  else {})}
        return {"bench": {"name": "b", "sha256": "1" * 64}, "makers": {"canon": {}},
                "rig": {"screens": screens}}

    notes = _notes(run("a" * 64, "c" * 64), run("b" * 64))
    said = [n for n in notes if "reference screens" in n]
    assert said == ["the reference screens of canon differ (SHA-256 aaaaaaaaaaaa then, "
                    "bbbbbbbbbbbb now): its screens were judged by other references"]
    assert not [n for n in _notes(run("a" * 64), run("a" * 64)) if "reference screens" in n]


def test_a_maker_certified_then_and_not_now_is_worse(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """A run of another maker (or none of the old one's) compared with a passing one: what
    was known of the old maker is no longer, never "nothing got worse" (exit 0)."""
    old = _run(tmp_path / "old", ALL_PASS)
    new = _run(tmp_path / "new", ALL_PASS)
    report = json.loads((new / "certification.json").read_text("utf-8"))
    report["makers"] = {"other": report["makers"]["acme"]}
    for test in report["tests"].values():
        test["makers"] = ["other"]
    (new / "certification.json").write_text(json.dumps(report), encoding="utf-8")
    write_manifest(new)
    diff = diff_runs(old, new)
    assert diff.worse and diff.lost == ["acme"]
    code, out = _cli(capsys, "report", "diff", str(old), str(new))
    assert code == 1, out
    assert "makers certified then, not now (worse: nothing of them is known now): acme" in out
    assert out.rstrip().endswith("something got worse"), out


def test_a_maker_nothing_was_decided_of_then_is_not_lost(tmp_path: Path) -> None:
    """An old run interrupted before anything of its maker was decided: its maker missing
    now is no loss (nothing was known of it then either)."""
    old = _run(tmp_path / "old", ALL_PASS)
    report = json.loads((old / "certification.json").read_text("utf-8"))
    report["makers"]["acme"]["E901-02"]["status"] = "not_run"
    new_report = json.loads((old / "certification.json").read_text("utf-8"))
    (old / "certification.json").write_text(json.dumps(report), encoding="utf-8")
    write_manifest(old)
    new = tmp_path / "new"
    new.mkdir()
    new_report["makers"] = {"other": new_report["makers"]["acme"]}
    new_report["tests"] = {}
    (new / "certification.json").write_text(json.dumps(new_report), encoding="utf-8")
    write_manifest(new)
    diff = diff_runs(old, new)
    assert diff.lost == [] and not diff.worse
    assert any("nothing of them decided then (not compared): acme" in n for n in diff.notes)
