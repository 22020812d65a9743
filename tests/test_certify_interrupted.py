"""A certification stopped part way leaves a valid report: real ``onshi-rig certify``
processes on the emulated bench, stopped once a verdict is in (SIGINT to the process group as
Ctrl-C sends it, SIGTERM to a run on pytest-xdist workers, SIGKILL, and a stdout closed by
its reader), and a reused run folder refused.

The report is polled all along: each read must parse (it is only ever replaced whole). The
general readers are the cheapest maker to certify; each run is stopped early.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from cli_fork import CLI, run_cli
from proc_helpers import children

from harness.paths import project_file
from harness.report.live import claim_folder

CERTIFY_ARGS = ["certify", "--no-evidence"]
CERTIFY = [*CLI, *CERTIFY_ARGS]
GENERAL = ("--vendor", "general_readers", "--jobs", "1")


def start(out: Path, *args: str, stdout: Any = subprocess.DEVNULL) -> subprocess.Popen[str]:
    # A session of its own: a signal to its process group reaches it and its children only.
    return subprocess.Popen([*CERTIFY, *args, "--out", str(out)], cwd=project_file("."),
                            stdout=stdout, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def read(out: Path) -> dict[str, Any] | None:
    """The report, or None before the first one; a report that does not parse fails."""
    try:
        text = (out / "certification.json").read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    return json.loads(text)


def verdicts(report: dict[str, Any]) -> set[str]:
    return {json.dumps(v, sort_keys=True) for rows in report["makers"].values()
            for row in rows.values() for v in row["verdicts"]}


def wait_for_verdicts(proc: subprocess.Popen[str], out: Path, more_than: int = 0
                      ) -> dict[str, Any]:
    """Poll the report until it holds more than ``more_than`` verdicts."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        report = read(out)
        if report is not None:
            assert report["state"] == "running" and report["passed"] is False, report["state"]
            if len(verdicts(report)) > more_than:
                return report
        assert proc.poll() is None, f"exit {proc.returncode}: {proc.stderr.read()[-3000:]}"
        time.sleep(0.02)
    raise AssertionError("no verdict in 180 s")


def check_stopped(before: dict[str, Any], out: Path, reason: str) -> dict[str, Any]:
    """The final report keeps every verdict seen before the stop; the rest is not run."""
    after = read(out)
    assert after is not None
    assert after["run"] == before["run"] and after["passed"] is False
    assert verdicts(before) <= verdicts(after)
    rows = [row for rows in after["makers"].values() for row in rows.values()]
    old = {(m, r): row["status"] for m, rows in before["makers"].items()
           for r, row in rows.items()}
    for maker, by_req in after["makers"].items():
        for req, row in by_req.items():
            assert row["status"] in ("passed", "failed", "not_run"), row
            if old[(maker, req)] != "not_run":  # a decided requirement stays decided
                assert row["status"] == old[(maker, req)], (maker, req)
            if row["status"] == "not_run":
                assert any(reason in r for r in row["reasons"]), row
    assert sum(row["status"] == "not_run" for row in rows) >= 1  # stopped early indeed
    return after


def _stopped_by(tmp_path: Path, signum: signal.Signals) -> tuple[str, dict[str, Any]]:
    """A run on the general readers sent ``signum`` on its process group once verdicts
    are in: its stderr and its report, checked as stopped (exit 128 + the signal)."""
    out = tmp_path / "run"
    proc = start(out, *GENERAL)
    before = wait_for_verdicts(proc, out)
    os.killpg(proc.pid, signum)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signum, err[-3000:]
    return err, check_stopped(before, out, "not run: the run was interrupted")


def test_ctrl_c_on_the_process_group_finishes_the_report_as_interrupted(
        tmp_path: Path) -> None:
    out = tmp_path / "run"
    err, after = _stopped_by(tmp_path, signal.SIGINT)
    assert after["interrupted"] is True and after["state"] == "interrupted"
    assert "Traceback" not in err and "interrupted (SIGINT)" in err
    # The other files of the run carry its id too.
    assert json.loads((out / "run.json").read_text())["run"] == after["run"]
    assert f"<code>{after['run']}</code>" in (out / "certification.html").read_text("utf-8")
    junit = (out / "junit.xml").read_text("utf-8")
    assert f'name="run" value="{after["run"]}"' in junit
    # Every test of the run, those not run skipped with why: not a green, complete run to a
    # CI that reads it.
    import xml.etree.ElementTree as ET

    root = ET.fromstring(junit.encode("utf-8"))
    not_run = [n for n, t in after["tests"].items() if t["outcome"] == "not_run"]
    assert not_run and int(root.get("tests")) == len(after["tests"])
    assert int(root.get("skipped")) >= len(not_run)


def test_sigterm_stops_a_run_on_workers_and_its_workers(tmp_path: Path) -> None:
    """SIGTERM to certify alone (the xdist controller): it passes the stop on to its
    workers, each ends its test and tears its bench down (its timeline written), none is
    left running, and the report keeps what they decided, the test under way not run
    (never failed as a crashed worker's)."""
    out = tmp_path / "run"
    proc = start(out, "--vendor", "general_readers", "--vendor", "canon", "--jobs", "2")
    before = wait_for_verdicts(proc, out)
    workers = children(proc.pid)
    assert len(workers) == 2, workers
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err[-3000:]
    after = check_stopped(before, out, "not run: the run was interrupted")
    assert after["interrupted"] is True and set(after["makers"]) == {"general_readers", "canon"}
    assert not any("crashed" in t.get("reason", "") for t in after["tests"].values())
    assert len(list(out.glob("worker-gw*/timeline.jsonl"))) == 2  # torn down, not killed
    for pid in workers:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        raise AssertionError(f"worker {pid} still runs")


def test_a_closed_stdout_does_not_stop_the_run(tmp_path: Path) -> None:
    """``certify | head -1``: the reader goes after the first test's line; the run goes on
    (more tests finish, each printing into the closed pipe), then stops on SIGTERM."""
    out = tmp_path / "run"
    proc = start(out, *GENERAL, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    while not proc.stdout.readline().startswith("  "):  # the header, then a test's line
        pass
    proc.stdout.close()
    closed = read(out)
    assert closed is not None
    before = wait_for_verdicts(proc, out, more_than=len(verdicts(closed)) + 2)
    proc.send_signal(signal.SIGTERM)
    err = proc.stderr.read()
    proc.wait(timeout=120)
    assert proc.returncode == 143, err[-3000:]
    assert "Broken pipe" not in err and "Traceback" not in err, err[-3000:]
    after = check_stopped(before, out, "not run: the run was interrupted")
    assert after["interrupted"] is True


def _files(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_sigkill_leaves_the_last_report_and_the_folder_is_not_reused(tmp_path: Path) -> None:
    out = tmp_path / "run"
    proc = start(out, *GENERAL)
    before = wait_for_verdicts(proc, out)
    proc.kill()
    proc.communicate(timeout=60)
    last = check_stopped(before, out, "not run yet")
    assert last["state"] == "running" and last["interrupted"] is False
    # A second run into the folder the killed one left: refused before any work, and
    # nothing of the killed run's files changes.
    held = _files(out)
    again = run_cli([*CERTIFY_ARGS, *GENERAL, "--out", str(out)], cwd=project_file("."),
                    timeout=120)
    assert again.returncode == 2, again.stdout[-2000:] + again.stderr
    assert again.stderr.count("\n") == 1 and "Traceback" not in again.stderr
    assert "not empty" in again.stderr and last["run"] in again.stderr
    assert again.stdout == "" and _files(out) == held
    # --out naming a file: refused the same way, the file untouched.
    (tmp_path / "a-file").write_text("mine")
    proc2 = run_cli([*CERTIFY_ARGS, *GENERAL, "--out", str(tmp_path / "a-file")],
                    cwd=project_file("."), timeout=120)
    assert proc2.returncode == 2 and "is a file, not a folder" in proc2.stderr
    assert (tmp_path / "a-file").read_text() == "mine"


def test_a_folder_is_claimed_by_one_run_only(tmp_path: Path) -> None:
    """Two runs given the same new folder: the first takes it, the second is refused."""
    from harness.errors import RigError

    claim_folder(tmp_path / "out", "first")
    try:
        claim_folder(tmp_path / "out", "second")
    except RigError as exc:
        assert "not empty" in str(exc) and "first" in str(exc)
    else:
        raise AssertionError("a folder claimed twice")
    assert json.loads((tmp_path / "out" / "run.json").read_text())["run"] == "first"


def test_a_signal_while_the_report_is_sealed_is_noted_not_raised() -> None:
    """Once the tests are over, the report is finished and sealed whatever comes: a signal
    then is noted (the run exits 128 + it afterwards), never cut into the seal."""
    from harness.report.stop import stopping

    with stopping() as stop:
        stop.finishing = True
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.05)  # delivered to the main thread at the next bytecode
        assert stop.late == signal.SIGTERM and stop.signum is None
    # Before the tests are over a signal stops the run (KeyboardInterrupt into the suites).
    with pytest.raises(KeyboardInterrupt), stopping():
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)


def test_sighup_finishes_the_report_as_the_other_stopping_signals(tmp_path: Path) -> None:
    """The ssh session closed under a run (hunt J-16): SIGHUP killed certify as SIGKILL
    would (no junit.xml, no seal, state running). It stops the run as SIGTERM does."""
    out = tmp_path / "run"
    err, after = _stopped_by(tmp_path, signal.SIGHUP)
    assert after["state"] == "interrupted" and "interrupted (SIGHUP)" in err
    assert "Traceback" not in err
    assert (out / "junit.xml").stat().st_size and (out / "manifest.sha256").is_file()
