"""Bench values accepted at load that broke every operator step later (hunt J-15): each
is refused at load, at its line, exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_bad_input_more import bench, run


@pytest.mark.parametrize(("text", "says"), [
    ("operator: {timeout_s: 1e300}", "operator.timeout_s: Input should be less than or equal "
                                     "to 86400"),
    ('operator: {script: ""}', "operator.script: empty: give the script file"),
    ('operator: {script: "  "}', "operator.script: empty: give the script file"),
    ("clock: {scale: 1e-300}", "clock.scale: Input should be greater than or equal to 0.001"),
], ids=["timeout-1e300", "script-empty", "script-blank", "scale-1e-300"])
def test_an_operator_bound_no_wait_can_take_is_bad_input_at_its_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, says: str) -> None:
    path = bench(tmp_path, text + "\n")
    code, lines = run(capsys, "scan", "--bench", str(path))
    assert code == 2 and len(lines) == 1 and lines[0].startswith(f"{path}:3: {says}"), lines


@pytest.mark.parametrize("text", ["operator: {timeout_s: 86400}", "clock: {scale: 0.5}"])
def test_the_bounds_themselves_load(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                    text: str) -> None:
    assert run(capsys, "scan", "--bench", str(bench(tmp_path, text + "\n")))[0] == 0


def test_emulate_scale_has_the_bench_files_floor(capsys: pytest.CaptureFixture[str]) -> None:
    code, lines = run(capsys, "emulate", "--hardware", "/nonexistent/box", "--scale", "1e-300")
    assert code == 2 and "a number from 0.001 to 1000" in "\n".join(lines)
