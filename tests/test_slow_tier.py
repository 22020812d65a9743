"""The slow tier names tests there are: a renamed test or case in conftest.py's SLOW or
SLOW_CASES would else run in no tier's count of what it leaves out, or leave out nothing."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

from harness.paths import project_file


def _root_conftest():  # noqa: ANN202 - the module
    spec = importlib.util.spec_from_file_location("root_conftest", project_file("conftest.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


#: One collection of the files (no marks chosen), each test with whether it is marked slow
#: once conftest.py has marked them (``-m "not slow"`` leaves those out).
COLLECT = """
import json, sys
import pytest

class Marks:
    def pytest_collection_finish(self, session):
        print("marks:", json.dumps({item.nodeid: item.get_closest_marker("slow") is not None
                          for item in session.items}))

code = pytest.main(["--collect-only", "-q", "-p", "no:cacheprovider", *sys.argv[1:]],
                   plugins=[Marks()])
sys.exit(code)
"""


def _collected(files: set[str]) -> tuple[set[str], set[str]]:
    """(every test of ``files``, those the default run keeps)."""
    proc = subprocess.run([sys.executable, "-c", COLLECT, *sorted(files)],
                          cwd=project_file("."), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    marked = json.loads(next(line for line in proc.stdout.splitlines()
                              if line.startswith("marks: ")).removeprefix("marks: "))
    return set(marked), {node for node, slow in marked.items() if not slow}


def test_every_slow_test_and_case_is_one_there_is_and_a_case_of_each_stays() -> None:
    root = _root_conftest()
    functions = {*root.SLOW, *root.SLOW_CASES}
    files = {function.split("::", 1)[0] for function in functions}
    everything, default = _collected(files)
    named = {node.split("[", 1)[0] for node in everything}
    assert functions <= named, functions - named
    for function, (ids, why) in root.SLOW_CASES.items():
        cases = {f"{function}[{case}]" for case in ids}
        assert cases <= everything, cases - everything
        assert why and not cases & default
        # the rule's other cases still run in the default run
        assert any(node.startswith(f"{function}[") for node in default), function


def test_the_long_files_are_files_there_are_each_once() -> None:
    # A renamed or repeated file would silently lose its place at the run's start, and the
    # run would again end on a long file with the other workers idle.
    long_files = _root_conftest().LONG_FILES
    assert len(set(long_files)) == len(long_files), long_files
    assert [f for f in long_files if not project_file(f).is_file()] == []
