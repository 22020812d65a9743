"""Every command that writes a folder or file the user names refuses one inside a run
folder (hunt J-17), as ``certify --out`` does: the run's seal would break (``report
verify`` fails, ``diff`` and ``--resume`` refuse it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from test_bad_input_more import run

from harness.paths import project_file
from harness.report.manifest import check_manifest, write_manifest

FIRST = str(project_file("fixtures/screens/canon/first.png"))


@pytest.fixture
def sealed(tmp_path: Path) -> Path:
    folder = tmp_path / "run"
    (folder / "evidence").mkdir(parents=True)
    (folder / "certification.json").write_text("{}\n", encoding="utf-8")
    write_manifest(folder)
    return folder


@pytest.mark.parametrize(("argv", "option"), [
    (["pcscd-config", "--dir", "{run}/pc"], "--dir"),
    (["pcscd-config", "--dir", "{run}"], "--dir"),
    (["references", "--vendor", "canon", "--out", "{run}/scr"], "--out"),
    (["learn", "--vendor", "canon", "--state", "first", "--name", "first@x", "--camera",
      "cam-canon", "--frames", "1", "--screens", "{run}/evidence/scr"], "--screens"),
    (["classify", "--vendor", "canon", "--save-calibration", "{run}/cal.json", FIRST],
     "--save-calibration"),
    (["classify", "--vendor", "canon", "--save-calibration", "{link}/cal.json", FIRST],
     "--save-calibration"),
], ids=["pcscd-config", "pcscd-config-itself", "references", "learn", "classify", "link"])
def test_a_command_never_writes_into_a_sealed_run(
        sealed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str],
        option: str) -> None:
    (tmp_path / "link").symlink_to(sealed / "evidence")
    argv = [a.format(run=sealed, link=tmp_path / "link") for a in argv]
    code, lines = run(capsys, *argv)
    assert code == 2, lines
    assert len(lines) == 1 and lines[0].startswith(f"{option} "), lines
    assert f"inside the run folder {sealed} (it has manifest.sha256)" in lines[0]
    assert check_manifest(sealed).ok  # nothing made, nothing written


def test_emulate_hardware_never_writes_into_a_sealed_run(sealed: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "emulate", "--hardware",
                           str(sealed / "box")], cwd=project_file("."), capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "--hardware" in proc.stderr and "inside the run folder" in proc.stderr
    assert check_manifest(sealed).ok
