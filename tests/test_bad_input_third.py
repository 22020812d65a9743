"""Bad input the third hunt found: each is exit 2 on the command line, one message per
problem as ``file:line: field: problem`` naming the file the user wrote, never a traceback,
and refused when the file loads (never a requirement failed against a maker mid-run).

- A twin's panel, header or spinner sized zero, negative or beyond 4096 px.
- A twin's USB speed that is no USB speed.
- A twin's lamp off the housing, or larger than the screen.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_bad_input_more import bench, run

DEVIATED = "(canon.yaml as deviated)"


def deviation(tmp_path: Path, maker: str, change: str, to: str) -> Path:
    """A bench file whose ``maker``'s twin is deviated on line 6."""
    return bench(tmp_path, f"readers:\n  - name: {maker}\n    deviations:\n"
                           f"      - {{change: {change}, to: {to}, why: x}}\n")


@pytest.mark.parametrize(("change", "to", "problems"), [
    ("display.size", "[-1024, 600]",
     ["display.size[0]: Input should be greater than or equal to 64"]),
    ("display.size", "[100000, 60000]",
     ["display.size[0]: Input should be less than or equal to 4096",
      "display.size[1]: Input should be less than or equal to 4096"]),
    ("display.header_height", "100000",
     ["display.header_height: Input should be less than or equal to 4096"]),
    ("display.spinner.radius", "1000000",
     ["display.spinner.radius: Input should be less than or equal to 2048"]),
])
def test_a_twin_panel_sized_out_of_bounds_is_refused_at_load(
        change: str, to: str, problems: list[str], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    path = deviation(tmp_path, "canon", change, to)
    assert run(capsys, "pcscd-config", "--bench", str(path)) == (2, [
        f"{path}:6: readers[canon].deviations[0]: {p} {DEVIATED}" for p in problems])


@pytest.mark.parametrize("to", ["100", "-5", "0"])
def test_a_twin_usb_speed_that_is_no_usb_speed_is_refused_at_load(
        to: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = deviation(tmp_path, "canon", "usb.max_speed_mbps", to)
    assert run(capsys, "pcscd-config", "--bench", str(path)) == (2, [
        f"{path}:6: readers[canon].deviations[0]: usb.max_speed_mbps: one of 1.5, 12, 480, "
        f"5000, 10000, 20000 {DEVIATED}"])


@pytest.mark.parametrize(("lamp", "problem"), [
    ("at: [12, 1.265], size: [0.16, 0.035]",
     "display.lamps[1].at: [12.0, 1.265] is not on the housing (need -1 <= x, y <= 2)"),
    ("at: [0.5, 1.265], size: [1e30, 0.035]",
     "display.lamps[1].size[0]: Input should be less than or equal to 1"),
])
def test_a_twin_lamp_off_the_housing_or_too_large_is_refused_at_load(
        lamp: str, problem: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = deviation(tmp_path, "atlas", "display.lamps",
                     f"[{{name: power, side: back}}, {{name: logo, {lamp}, shape: bar}}]")
    assert run(capsys, "pcscd-config", "--bench", str(path)) == (2, [
        f"{path}:6: readers[atlas].deviations[0]: {problem} (atlas.yaml as deviated)"])
