"""``onshi-rig certify`` fails closed on plumbing: a maker the profiles do not know, and a
pytest-xdist worker that dies in the middle of a test, never give a pass."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from cli_fork import run_cli

from harness.model.profiles import default_profiles_dir
from harness.paths import project_file

# The frames behind the verdicts are the report tests' business (test_certify_report.py): not kept here.
CERTIFY_ARGS = ["certify", "--no-evidence"]


def certify(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run_cli([*CERTIFY_ARGS, *args], timeout=300, cwd=project_file("."), env=env)


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


#: Loaded by every Python process of the run: in an xdist worker (started as ``python -c``),
#: the process dies at once (as one the OOM killer takes) in the test named by DIE_IN.
DYING_WORKER = """\
import os, sys
if sys.argv[:1] == ["-c"] and os.environ.get("DIE_IN"):
    import harness.report.certification as certification
    steps = certification.operator_steps

    def dying(events, test):
        if os.environ["DIE_IN"] in test:
            os._exit(137)
        return steps(events, test)

    certification.operator_steps = dying
"""


def test_a_worker_that_dies_fails_its_test_and_the_run(tmp_path: Path) -> None:
    out = tmp_path / "out"
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(DYING_WORKER)
    dying = "suites/test_usb_wiring.py::test_wiring_rule[canon-USB-02]"
    env = {**os.environ, "DIE_IN": dying, "PYTHONPATH": os.pathsep.join(
        [str(hook), str(project_file(".")), os.environ.get("PYTHONPATH", "")])}
    proc = certify("--jobs", "2", "--vendor", "canon", "--vendor", "general_readers",
                   "--out", str(out), "--", "-k", "USB-02 or USB-04", env=env)
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr
    assert "a worker of the certification died (gw" in proc.stderr
    assert "Traceback" not in proc.stderr
    report = json.loads((out / "certification.json").read_text(encoding="utf-8"))
    assert report["passed"] is False and report["state"] == "error"
    # The test it ran failed with the reason, and was not run again (it would have killed
    # the replacement too: one worker died); the others ran, on the replacement too.
    assert report["tests"][dying]["outcome"] == "failed"
    assert report["tests"][dying]["reason"].startswith("worker 'gw")
    assert "crashed while running" in report["tests"][dying]["reason"]
    assert proc.stderr.count("crashed") <= 1 and proc.stderr.count("; gw") == 0
    usb02 = report["makers"]["canon"]["USB-02"]
    assert usb02["status"] == "failed" and "crashed while running" in usb02["reasons"][0]
    ran = {n: t["outcome"] for n, t in report["tests"].items() if t["outcome"] != "not_run"}
    assert {o for n, o in ran.items() if n != dying} == {"passed"} and len(ran) > 2


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
