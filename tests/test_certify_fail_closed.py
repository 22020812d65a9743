"""``onshi-rig certify`` fails closed on plumbing: a maker the profiles do not know, and a
part of a split run that did not finish in this run, never give a pass."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from harness.model.profiles import default_profiles_dir
from harness.paths import project_file

# The frames behind the verdicts are the report tests' business (test_certify_report.py): not kept here.
CERTIFY = [sys.executable, "-m", "harness.cli", "certify", "--no-evidence"]


def certify(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CERTIFY, *args], capture_output=True, text=True, timeout=300,
                          cwd=project_file("."), env=env)


def test_a_reader_whose_maker_has_no_profile_is_bad_input(tmp_path: Path) -> None:
    profiles = tmp_path / "profiles"
    shutil.copytree(default_profiles_dir(), profiles)
    (profiles / "atlas.yaml").unlink()
    bench = project_file("fixtures/benches/emulated.yaml")
    proc = certify("--profiles", str(profiles), "--out", str(tmp_path / "out"))
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr
    assert "Traceback" not in proc.stderr
    # file:line: field: problem, the line being the atlas reader's maker in the bench file.
    lines = bench.read_text(encoding="utf-8").splitlines()
    atlas_line = next(i + 1 for i, text in enumerate(lines) if "maker: atlas" in text)
    assert f"emulated.yaml:{atlas_line}: readers[" in proc.stderr, proc.stderr
    assert "'atlas' has no vendor profile" in proc.stderr
    assert not (tmp_path / "out" / "certification.json").exists()


def test_an_unknown_vendor_is_bad_input(tmp_path: Path) -> None:
    proc = certify("--vendor", "kanon", "--out", str(tmp_path))
    assert proc.returncode == 2 and "kanon" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "certification.json").exists()


def test_a_part_that_dies_is_not_replaced_by_an_earlier_runs_part(tmp_path: Path) -> None:
    out = tmp_path / "out"
    # Every part process of this run dies at once (as a part killed by the OOM killer does),
    # leaving in its folder a passing report of an earlier run (a reused --out is refused
    # now, so the earlier run's file is put there by the dying part itself).
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(
        "import json, os, pathlib, sys\n"
        "if '--run-id' in sys.argv:\n"
        "    folder = pathlib.Path(sys.argv[sys.argv.index('--out') + 1])\n"
        "    folder.mkdir(parents=True, exist_ok=True)\n"
        "    (folder / 'certification.json').write_text(json.dumps({'bench': {'name': "
        "'emulated'}, 'passed': True, 'state': 'finished', 'makers': {}, 'run': 'earlier'}))\n"
        "    os._exit(137)\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(hook), str(project_file(".")), os.environ.get("PYTHONPATH", "")])}
    proc = certify("--jobs", "2", "--vendor", "canon", "--vendor", "atlas", "--out", str(out),
                   env=env)
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr
    assert "did not finish" in proc.stderr and "137" in proc.stderr
    assert (out / "part-1" / "certification.json").is_file()  # the earlier run's, planted
    # The run's own report says so: nothing passed, each requirement not run with the part's
    # fate, never the earlier run's pass.
    report = json.loads((out / "certification.json").read_text(encoding="utf-8"))
    assert report["passed"] is False and report["state"] == "error"
    assert report["run"] != "earlier" and set(report["makers"]) == {"canon", "atlas"}
    for rows in report["makers"].values():
        assert rows and all(row["status"] == "not_run" for row in rows.values())
        assert all("did not finish (exit 137)" in row["reasons"][0] for row in rows.values())


def test_the_suites_hold_the_readers_to_the_given_profiles(tmp_path: Path) -> None:
    """``--profiles DIR`` reaches the suites, not only the scan: a profile copy that names
    another PC/SC name for the Sony reader fails USB-05 there."""
    profiles = tmp_path / "profiles"
    shutil.copytree(default_profiles_dir(), profiles)
    general = profiles / "general_readers.yaml"
    text = general.read_text(encoding="utf-8")
    assert 'app_name: "SONY FeliCa Port/PaSoRi 4.0"' in text
    general.write_text(text.replace('app_name: "SONY FeliCa Port/PaSoRi 4.0"',
                                    'app_name: "SONY FeliCa Port/PaSoRi 9.9"'), encoding="utf-8")
    out = tmp_path / "out"
    proc = certify("--profiles", str(profiles), "--vendor", "general_readers", "--jobs", "1",
                   "--out", str(out))
    report = json.loads((out / "certification.json").read_text(encoding="utf-8"))
    rows = report["makers"]["general_readers"]
    assert rows["USB-05"]["status"] == "failed", rows["USB-05"]
    assert any("PaSoRi 9.9" in reason for reason in rows["USB-05"]["reasons"])
    assert rows["USB-04"]["status"] == "passed"
    assert proc.returncode == 1
