"""A run folder's disk full during certify (hunt J-9): one line, exit 2, the report ended
in an error with why, junit.xml whole, the folder sealed, no traceback."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from cli_fork import run_cli, run_python

from harness.paths import project_file

#: certify in a process whose report writes fail with ENOSPC from the third one on, as long
#: as the run holds its reserve (given back, the disk has room again: as a real full disk).
FULL_DISK = """
import errno, sys
import harness.report.live as live
real, calls = live.atomic_write, [0]
def full(target, data):
    calls[0] += 1
    if calls[0] >= 3 and (target.parent / live.RESERVE_FILE).exists():
        raise OSError(errno.ENOSPC, "No space left on device")
    real(target, data)
live.atomic_write = full
from harness.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_a_full_disk_ends_the_run_as_an_error_with_its_report_whole(tmp_path: Path) -> None:
    out = tmp_path / "run"
    proc = run_python(["-c", FULL_DISK, "certify", "--no-evidence", "--vendor",
                       "general_readers", "--jobs", "1", "--quiet", "--out", str(out)],
                      cwd=project_file("."), timeout=300)
    assert proc.returncode == 2, proc.stderr[-3000:]
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr[-3000:]  # no INTERNALERROR, no traceback
    assert "No space left on device" in lines[0] and "state error" in lines[0], lines
    report = json.loads((out / "certification.json").read_text("utf-8"))
    assert report["state"] == "error" and report["passed"] is False
    outcomes = [t["outcome"] for t in report["tests"].values()]
    assert "passed" in outcomes and "not_run" in outcomes  # what was decided is kept
    reasons = [r for rows in report["makers"].values() for row in rows.values()
               for r in row.get("reasons", [])]
    assert any("could not write its files (No space left on device)" in r for r in reasons)
    root = ET.fromstring((out / "junit.xml").read_bytes())  # never empty, never cut
    assert int(root.get("skipped")) >= outcomes.count("not_run")
    left = sorted(p.name for p in out.iterdir() if p.name.startswith("."))
    assert left == [], left  # the reserve, pytest's own JUnit file: gone
    verify = run_cli(["report", "verify", str(out)], cwd=project_file("."), timeout=60)
    assert verify.returncode == 0, verify.stdout + verify.stderr  # sealed as it ended
