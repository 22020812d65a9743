"""DESIGN.md principle 2: the twins never read the spec they are checked against."""

from __future__ import annotations

import ast
import builtins
import io
from pathlib import Path

import pytest

from harness import loading
from harness.bench import Bench
from harness.paths import project_file

EMULATION = project_file("harness/emulation")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted(EMULATION.glob("*.py")), ids=lambda p: p.name)
def test_no_emulation_module_imports_the_profiles(path: Path) -> None:
    assert "harness.model.profiles" not in imported_modules(path)


def test_opening_the_emulated_bench_reads_no_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    """Open every shipped emulated bench while watching every file opened."""
    profiles = project_file("vendor_profiles").resolve()
    opened: list[Path] = []
    real_open = builtins.open

    def watching_open(file, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003
        if isinstance(file, str | Path):
            opened.append(Path(file).resolve())
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", watching_open)
    monkeypatch.setattr(io, "open", watching_open)  # what pathlib uses
    monkeypatch.setattr(loading, "_parsed", {})  # no cached parse may hide a read
    for bench_file in sorted(project_file("fixtures/benches").glob("*.yaml")):
        if "kind: real" in bench_file.read_text(encoding="utf-8"):
            continue
        with Bench.load(bench_file) as bench:
            bench.clock.sleep(3600)
    assert opened, "the watch saw no file at all: it watches the wrong thing"
    assert not [p for p in opened if p.is_relative_to(profiles)]
