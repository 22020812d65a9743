"""``onshi-rig report allure RUN_DIR [--history-from PREV_RUN]``: the run's allure report, with
the trend of the bench's earlier runs.

allure keeps its history in the report it generates (``history/``), not in the results: a
report shows a trend only if the previous report's ``history/`` is handed to the generator.
The rig writes the report to ``RUN_DIR/allure-report/`` from ``RUN_DIR/allure/`` and, with
``--history-from``, hands it ``PREV_RUN/allure-report/history/`` (copied into a folder of
its own beside the results, so the run's sealed ``allure/`` is never changed) and an
``executor.json`` numbering the build one after the previous report's.

A trend mixes nothing: the previous run must be of the same bench file (its SHA-256), hold a
generated report with its history, and match its manifest; anything else is refused. The
generator is npm's ``allure-commandline`` (Java): ``$ONSHI_RIG_ALLURE``, else
``.allure-cli/`` in the checkout (as ``.ci/run`` installs it), else ``allure`` on the PATH.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from harness.errors import RigError
from harness.loading import json_loads
from harness.paths import project_file
from harness.report.allure_run import ALLURE_DIR
from harness.report.stored import load_run

REPORT_DIR = "allure-report"
HISTORY = "history"
#: One generation's bound (s): the generator is a Java program, a few seconds a run.
TIMEOUT_S = 600


def find_allure() -> str:
    candidates = (os.environ.get("ONSHI_RIG_ALLURE"),
                  str(project_file(".allure-cli/node_modules/.bin/allure")),
                  shutil.which("allure"))
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return candidate
    raise RigError("allure's command-line generator is not installed (npm install --prefix "
                   ".allure-cli allure-commandline@2, and Java; or set ONSHI_RIG_ALLURE)")


def _build_order(previous: Path | None) -> int:
    if previous is None:
        return 1
    try:
        executors = json_loads((previous / REPORT_DIR / "widgets" / "executors.json")
                               .read_text("utf-8"))
        return int(executors[0]["buildOrder"]) + 1
    except (OSError, ValueError, LookupError, TypeError):
        return 2  # a report generated without one: this is at least the second


def _previous_history(run_dir: Path, report: dict[str, Any], previous: Path) -> Path:
    """The previous report's ``history/``, if it may be carried into this run's."""
    from harness.report.manifest import require_sealed

    before = load_run(previous)
    require_sealed(previous, "carrying its allure history")
    if before["bench"]["sha256"] != report["bench"]["sha256"]:
        raise RigError(f"--history-from {previous}: another bench ({before['bench']['name']}, "
                       f"SHA-256 {before['bench']['sha256']}; this run's: "
                       f"{report['bench']['name']}, SHA-256 {report['bench']['sha256']}): "
                       "a trend is of one bench's runs")
    if previous.resolve() == run_dir.resolve():
        raise RigError(f"--history-from {previous}: the run itself")
    history = previous / REPORT_DIR / HISTORY
    if not (history / "history.json").is_file():
        raise RigError(f"--history-from {previous}: no {REPORT_DIR}/{HISTORY}/history.json "
                       f"(generate its report first: onshi-rig report allure {previous})")
    return history


def generate_report(run_dir: Path, previous: Path | None = None) -> Path:
    """``run_dir/allure-report`` generated (replaced whole, or left as it was)."""
    report = load_run(run_dir)
    results = run_dir / ALLURE_DIR
    if not any(results.glob("*-result.json")):
        raise RigError(f"{results}: no allure results in this run folder")
    history = _previous_history(run_dir, report, previous) if previous is not None else None
    allure = find_allure()
    target = run_dir / REPORT_DIR
    building = run_dir / f".{REPORT_DIR}.tmp"
    shutil.rmtree(building, ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix="onshi-rig-allure-") as extra:
        if history is not None:
            shutil.copytree(history, Path(extra) / HISTORY)
        bench = report["bench"]["name"]
        (Path(extra) / "executor.json").write_text(json.dumps({
            "name": "onshi-rig", "type": "onshi-rig", "buildOrder": _build_order(previous),
            "buildName": f"{bench}: run {report.get('run', 'unknown')} of {report['started']}",
            "reportName": f"onshi-rig certification, bench {bench}"}), encoding="utf-8")
        try:
            done = subprocess.run([allure, "generate", str(results), extra, "-o", str(building)],
                                  capture_output=True, text=True, timeout=TIMEOUT_S)
        except (OSError, subprocess.TimeoutExpired) as exc:
            shutil.rmtree(building, ignore_errors=True)
            raise RigError(f"{allure}: the generator did not run: {exc}") from None
    if done.returncode != 0 or not (building / "index.html").is_file():
        shutil.rmtree(building, ignore_errors=True)
        said = (done.stderr or done.stdout).strip().splitlines()
        raise RigError(f"{allure} generate: exit {done.returncode}: "
                       f"{said[-1] if said else 'no report written'}")
    shutil.rmtree(target, ignore_errors=True)
    building.rename(target)
    return target
