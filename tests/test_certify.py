"""``onshi-rig certify``: the suites run on a bench and the report says, maker by maker and
requirement by requirement, what passed; a requirement no test covers is a failure."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from harness.model.profiles import ProfileSet, default_profiles_dir
from harness.paths import project_file


def certify(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness.cli", "certify", *args],
                          capture_output=True, text=True, timeout=600,
                          cwd=project_file("."))


def test_certify_the_default_bench(tmp_path: Path) -> None:
    proc = certify("--out", str(tmp_path))
    report = json.loads((tmp_path / "certification.json").read_text(encoding="utf-8"))
    profiles = ProfileSet.load(default_profiles_dir())
    assert report["bench"]["name"] == "emulated" and len(report["bench"]["sha256"]) == 64
    assert report["started"] <= report["ended"]
    assert set(report["makers"]) == {"panasonic", "canon", "usen_almex", "fujitsu_japan",
                                     "atlas", "general_readers"}
    for maker, rows in report["makers"].items():
        # Every requirement of the maker's profile, each with a status.
        assert set(rows) == {r.id for r in profiles.profiles[maker].requirements}
        assert all(r["status"] in ("passed", "failed", "not_run") for r in rows.values())
        if "USB-02" in rows:
            assert rows["USB-02"]["status"] == "passed" and rows["USB-02"]["tests"]
        for row in rows.values():
            if not row["tests"]:  # coverage is enforced: uncovered is a failure
                assert row["status"] == "failed"
                assert row["reasons"] == ["no test covers this requirement"]
    assert (tmp_path / "timeline.jsonl").is_file()
    uncovered = any(not r["tests"] for rows in report["makers"].values() for r in rows.values())
    assert proc.returncode == (1 if uncovered else 0), proc.stdout + proc.stderr
    assert "report:" in proc.stdout and "pass suites/" in proc.stdout  # progress shown


def test_certify_fails_exactly_the_broken_wiring(tmp_path: Path) -> None:
    proc = certify("--bench", str(project_file("fixtures/benches/miswired.yaml")),
                   "--vendor", "panasonic", "--vendor", "canon", "--out", str(tmp_path))
    assert proc.returncode == 1
    report = json.loads((tmp_path / "certification.json").read_text(encoding="utf-8"))
    assert set(report["makers"]) == {"panasonic", "canon", "general_readers"}
    pana, canon, general = (report["makers"][k] for k in
                            ("panasonic", "canon", "general_readers"))
    assert pana["USB-01"]["status"] == "failed" and pana["USB-02"]["status"] == "passed"
    assert "USB 2.0" in pana["USB-01"]["reasons"][0]
    assert canon["USB-02"]["status"] == "failed" and "hub" in canon["USB-02"]["reasons"][0]
    assert general["USB-04"]["status"] == "failed" and general["USB-03"]["status"] == "passed"


def test_certify_bad_input(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("bench: x\nkind: nonsense\n", encoding="utf-8")
    proc = certify("--bench", str(broken), "--out", str(tmp_path / "out"))
    assert proc.returncode == 2 and "broken.yaml" in proc.stderr
    assert "Traceback" not in proc.stderr
    proc = certify("--vendor", "nosuch", "--out", str(tmp_path / "out2"))
    assert proc.returncode == 2 and "nosuch" in proc.stderr
