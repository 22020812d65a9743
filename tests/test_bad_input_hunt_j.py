"""Bad input and interruptions the J hunt found, each said as ``file:line: field: problem``
(exit 2, no traceback) or kept whole, never judged against a maker.

- J-3: a USB port path in full-width or other-script digits, or with leading zeros, read as
  a number yet compared as written: the reader "not found", its maker failing USB-02.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_bad_input_more import bench, run

NOT_A_PATH = "not a USB port path like '1-4' or '1-4.2' (ASCII digits, no leading zeros)"


@pytest.mark.parametrize("at", ["２-2", "2-٢", "2-02", "02-2", "2-1.03"])
def test_a_port_path_not_as_linux_writes_it_is_bad_input(
        at: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = bench(tmp_path, "readers:\n  - {name: canon, usb: {vid: \"FFFF\", pid: \"F002\", "
                           f"placeholder: true, path: \"{at}\"}}}}\n")
    assert run(capsys, "scan", "--bench", str(path)) == (
        2, [f"{path}:4: readers[1].usb.path: {NOT_A_PATH}: {at!r}"])


@pytest.mark.parametrize(("text", "field"), [
    ("terminal:\n  usb_ports:\n    - {path: \"２-1\", usb: \"3.0\"}\n",
     "5: terminal.usb_ports[0].path"),
    ("hubs:\n  - {name: hub2, path: \"1-04\", usb: \"2.0\"}\n", "4: hubs[1].path"),
])
def test_terminal_ports_and_hubs_take_the_same_paths(
        text: str, field: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = bench(tmp_path, text)
    code, lines = run(capsys, "scan", "--bench", str(path))
    assert code == 2
    assert lines[0].startswith(f"{path}:{field}: {NOT_A_PATH}")
