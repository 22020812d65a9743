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
