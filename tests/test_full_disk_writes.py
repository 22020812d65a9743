"""Commands that write a lab's files on a full disk (hunt J-10, J-11): ``learn``'s picture
and index, ``references``' pictures, ``calibrate``'s bench file. Each file is written whole
or not at all; the command says what could not be written in one line, exit 2, and the
files are as they were (libpng's short write went unreported: a cut picture was "learnt")."""

from __future__ import annotations

import errno
import hashlib
import shutil
from pathlib import Path

import pytest
from test_bad_input_more import bench, run

import harness.report.live as live
from harness.vision.reference import default_screens_dir

FULL = "No space left on device"


def full_disk(monkeypatch: pytest.MonkeyPatch, failing: str) -> None:
    """A disk that takes half of any file whose name ends with ``failing``, then is full."""
    real = live._write_synced

    def write(tmp: Path, data: bytes, like: Path) -> None:
        if like.name.endswith(failing):
            tmp.write_bytes(data[: len(data) // 2])
            raise OSError(errno.ENOSPC, FULL)
        real(tmp, data, like)

    monkeypatch.setattr(live, "_write_synced", write)


def digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize("failing", [".png", "screens.yaml"])
def test_learn_on_a_full_disk_changes_nothing_and_says_so(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        failing: str) -> None:
    shutil.copytree(default_screens_dir() / "canon", tmp_path / "canon")
    before = digest(tmp_path / "canon")
    full_disk(monkeypatch, failing)
    code, lines = run(capsys, "learn", "--vendor", "canon", "--state", "first", "--name",
                      "first", "--replace", "--camera", "cam-canon", "--frames", "2",
                      "--screens", str(tmp_path))
    assert code == 2, lines
    assert len(lines) == 1 and FULL in lines[0] and "nothing changed" in lines[0], lines
    assert failing in lines[0]
    # The picture too when only the index failed: both or neither.
    assert digest(tmp_path / "canon") == before


def test_references_on_a_full_disk_is_one_line_and_no_cut_picture(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    full_disk(monkeypatch, "first.png")
    code, lines = run(capsys, "references", "--vendor", "canon", "--out", str(tmp_path))
    assert code == 2 and FULL in lines[-1] and "first.png" in lines[-1], lines
    assert not (tmp_path / "canon" / "first.png").exists()
    assert not [p for p in (tmp_path / "canon").iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("failing", ["bench.yaml", ".calibration.json"])
def test_calibrate_on_a_full_disk_leaves_the_bench_file_as_it_was(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        failing: str) -> None:
    path = bench(tmp_path, "cameras:\n  - {name: cam-canon, calibration: null}\n"
                           "# the lab's notes, last\n")
    text = path.read_bytes()
    path.chmod(0o640)
    full_disk(monkeypatch, failing)
    code, lines = run(capsys, "calibrate", "--camera", "cam-canon", "--bench", str(path))
    assert code == 2, lines
    assert len(lines) == 1 and FULL in lines[0], lines
    assert "the bench file is unchanged" in lines[0]
    assert path.read_bytes() == text
    assert not (tmp_path / "bench.cam-canon.calibration.json").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bench.yaml"]  # no temp file
    monkeypatch.undo()
    assert run(capsys, "calibrate", "--camera", "cam-canon", "--bench", str(path))[0] == 0
    assert path.stat().st_mode & 0o777 == 0o640  # replaced, its mode kept


# -- stdout itself on a full disk (hunt K-9) -------------------------------------------------

def _to_full(tmp_path: Path, *argv: str) -> tuple[int, list[str]]:
    """The command with its stdout on a full disk (/dev/full: every write ENOSPC)."""
    import subprocess
    import sys

    from harness.paths import project_file

    with open("/dev/full", "w") as full:
        proc = subprocess.run([sys.executable, "-m", "harness.cli", *argv], stdout=full,
                              stderr=subprocess.PIPE, text=True, timeout=600,
                              cwd=project_file("."))
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, proc.stderr.splitlines()


@pytest.mark.parametrize("argv", [["catalogue"], ["scan"], ["--version"], ["--help"],
                                  ["certify", "--help"]],
                         ids=["catalogue", "scan", "version", "help", "certify-help"])
def test_a_full_stdout_is_one_line_and_exit_2(tmp_path: Path, argv: list[str]) -> None:
    code, lines = _to_full(tmp_path, *argv)
    assert code == 2 and lines == [
        f"onshi-rig {argv[0]}: cannot write its output (stdout: {FULL}); what it printed "
        "is lost"], lines


def test_a_full_stdout_is_not_the_runs_folder(tmp_path: Path) -> None:
    """certify blamed --out for a full log and marked a good run ``state: error``."""
    import json

    from harness.report.manifest import check_manifest

    out = tmp_path / "run"
    code, lines = _to_full(tmp_path, "certify", "--vendor", "canon", "--jobs", "1", "--plain",
                           "--no-evidence", "--out", str(out), "--", "-k", "canon-USB-02")
    assert code == 2 and lines == [
        f"onshi-rig certify: cannot write its output (stdout: {FULL}); what it printed is "
        "lost"], lines
    report = json.loads((out / "certification.json").read_text("utf-8"))
    assert report["state"] == "finished" and check_manifest(out).ok
    code, lines = _to_full(tmp_path, "report", "diff", str(out), str(out))
    assert code == 2 and len(lines) == 1 and f"(stdout: {FULL})" in lines[0], lines


@pytest.mark.parametrize("argv", [["--version"], ["--help"], ["scan", "--help"]])
def test_a_reader_gone_before_the_version_is_quiet(argv: list[str]) -> None:
    # `onshi-rig --version | true`: the pipe's reader gone before anything is written.
    import os
    import subprocess
    import sys

    read, write = os.pipe()
    os.close(read)
    try:
        proc = subprocess.run([sys.executable, "-m", "harness.cli", *argv], stdout=write,
                              stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(write)
    assert (proc.returncode, proc.stderr) == (0, "")
