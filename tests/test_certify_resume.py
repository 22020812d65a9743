"""``certify --resume --out DIR`` finishes the run in DIR: the tests it decided are kept,
the others (not run, skipped, stopped by a bench fault) run again, under the same run id;
a folder that is not that run's (another bench, profiles, makers, a run still going, no run
at all) is refused before anything moves."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.paths import project_file

CERTIFY = [sys.executable, "-m", "harness.cli", "certify", "--no-evidence"]


def certify(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CERTIFY, *args], capture_output=True, text=True, timeout=300,
                          cwd=project_file("."))


def report_of(folder: Path) -> dict:
    return json.loads((folder / "certification.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The general readers certified on the default bench, whole."""
    out = tmp_path_factory.mktemp("resume") / "run"
    proc = certify("--vendor", "general_readers", "--jobs", "1", "--out", str(out))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr
    return out


def copy_of(finished: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "run"
    shutil.copytree(finished, folder)
    return folder


def test_resume_runs_again_only_what_was_not_decided(finished: Path, tmp_path: Path) -> None:
    folder = copy_of(finished, tmp_path)
    report = report_of(folder)
    tests = report["tests"]
    # As an interrupted run, a bench fault and a skip leave them: three tests undecided.
    undecided = {name: outcome for name, outcome in zip(
        sorted(tests)[:3], ("not_run", "bench_fault", "skipped"), strict=True)}
    for name, outcome in undecided.items():
        tests[name].update(outcome=outcome, verdicts=[], reason="stopped")
    (folder / "certification.json").write_text(json.dumps(report), encoding="utf-8")
    earlier_junit = (folder / "junit.xml").read_bytes()

    proc = certify("--resume", "--out", str(folder))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr
    ran = {line.split()[1] for line in proc.stdout.splitlines()
           if line.startswith("  pass ") or line.startswith("  FAIL ")}
    assert ran == set(undecided)
    after = report_of(folder)
    assert after["run"] == report["run"] and after["state"] == "finished" and after["passed"]
    assert all(t["outcome"] == "passed" for t in after["tests"].values())
    # The kept tests' evidence is where the earlier run left it, set aside with its files.
    assert {n for n, t in after["tests"].items() if t.get("folder") == "earlier-1"} == \
        set(tests) - set(undecided)
    assert (folder / "earlier-1" / "junit.xml").read_bytes() == earlier_junit
    assert (folder / "earlier-1" / "timeline.jsonl").is_file()
    assert [r["kept"] for r in after["resumes"]] == [len(tests) - 3]
    run = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    assert run["run"] == report["run"] and len(run["resumed"]) == 1

    # Nothing left to decide: a second resume runs nothing and says the same.
    proc = certify("--resume", "--out", str(folder))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr
    assert " pass " not in proc.stdout
    assert report_of(folder)["passed"] and (folder / "earlier-2").is_dir()


def _other_profiles(tmp_path: Path) -> list[str]:
    profiles = tmp_path / "profiles"
    shutil.copytree(project_file("vendor_profiles"), profiles)
    general = profiles / "general_readers.yaml"
    general.write_text(general.read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
    return ["--profiles", str(profiles)]


def _still_running(folder: Path) -> list[str]:
    report = report_of(folder)
    report["state"] = "running"
    (folder / "certification.json").write_text(json.dumps(report), encoding="utf-8")
    run = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    run["pid"] = os.getpid()  # this test's process: alive
    (folder / "run.json").write_text(json.dumps(run), encoding="utf-8")
    return []


def _older_report(folder: Path) -> list[str]:
    report = report_of(folder)
    del report["tests"]
    (folder / "certification.json").write_text(json.dumps(report), encoding="utf-8")
    return []


@pytest.mark.parametrize(("change", "says"), [
    (lambda folder, tmp: ["--bench", str(project_file("fixtures/benches/miswired.yaml"))],
     "the bench file miswired.yaml changed (or is another one)"),
    (lambda folder, tmp: ["--vendor", "canon"], "--vendor canon, but it certified general_readers"),
    (lambda folder, tmp: _other_profiles(tmp), "the vendor profiles changed"),
    (lambda folder, tmp: _still_running(folder), "is still going (process"),
    (lambda folder, tmp: _older_report(folder), "its report lists no tests"),
], ids=["bench", "vendor", "profiles", "running", "older-report"])
def test_resume_refuses_a_folder_that_is_not_this_runs(finished: Path, tmp_path: Path,
                                                       change, says: str) -> None:  # noqa: ANN001
    folder = copy_of(finished, tmp_path)
    args = change(folder, tmp_path)
    before = sorted(p.relative_to(folder) for p in folder.rglob("*"))
    proc = certify("--resume", "--out", str(folder), *args)
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr
    assert says in proc.stderr and "Traceback" not in proc.stderr
    assert sorted(p.relative_to(folder) for p in folder.rglob("*")) == before  # nothing moved


def test_resume_needs_a_run_folder(tmp_path: Path) -> None:
    proc = certify("--resume")
    assert proc.returncode == 2 and "--resume: give --out" in proc.stderr
    proc = certify("--resume", "--out", str(tmp_path))
    assert proc.returncode == 2 and "no certification.json there: not a run folder" in proc.stderr
