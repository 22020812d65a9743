"""A lab's screens.yaml checked as a whole (hunt J-13): one state's references agree on the
screen class they show, or the index is bad input at the line that disagrees, exit 2
(certify took canon's first screen for consent and failed 34 requirements against it)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from test_bad_input_more import run

from harness.vision.reference import default_screens_dir

FIRST = str(default_screens_dir() / "canon" / "first.png")


def test_a_state_whose_references_show_two_classes_is_bad_input_at_its_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copytree(default_screens_dir() / "canon", tmp_path / "canon")
    index = tmp_path / "canon" / "screens.yaml"
    lines = index.read_text("utf-8").splitlines(keepends=True)
    at = lines.index("  first@smartphone:\n")
    assert lines[at + 3] == "    shows: first\n"
    lines[at + 3] = "    shows: consent\n"
    index.write_text("".join(lines), "utf-8")
    code, said = run(capsys, "classify", "--vendor", "canon", "--screens", str(tmp_path), FIRST)
    assert code == 2, said
    assert len(said) == 1 and said[0].startswith(
        f"{index}:{at + 4}: references.first@smartphone.shows: 'consent', but state "
        "'first' shows 'first' in first, "), said
