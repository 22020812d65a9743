"""tests/cli_fork.py: a command forked from the warm zygote says and does what a new
``python -m harness.cli`` process does (its folder, its environment, its exit status), and
a timeout ends it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cli_fork import _may_fork, import_reads, run_cli, run_python

from harness.paths import project_file


def _fresh(args: list[str], cwd: Path, env: dict[str, str] | None = None,
           how: tuple[str, ...] = ("-m", "harness.cli")) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *how, *args], capture_output=True, text=True,
                          timeout=120, cwd=cwd, env=env, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize(("args", "code"), [
    (["--version"], 0),
    (["certify", "--no-evidence", "--jobs", "1", "--plan", "--vendor", "atlas"], 0),
    (["certify", "--vendor", "nosuch"], 2),
    (["certify", "--bench", "nosuch.yaml"], 2),  # named as given, from the command's folder
    (["schema", "card"], 0),
])
def test_a_forked_command_says_what_a_new_process_says(args: list[str], code: int,
                                                       tmp_path: Path) -> None:
    cwd = tmp_path if "nosuch.yaml" in args else project_file(".")
    forked, fresh = run_cli(args, cwd=cwd, timeout=120), _fresh(args, cwd)
    assert (forked.returncode, forked.stdout, forked.stderr) == \
        (fresh.returncode, fresh.stdout, fresh.stderr)
    assert forked.returncode == code, forked.stderr


def test_the_command_gets_its_own_environment() -> None:
    # certify's pytest reads PYTEST_ADDOPTS when the command runs, not when the zygote
    # started: a bad option there is the command's bad input.
    env = {**os.environ, "PYTEST_ADDOPTS": "--no-such-option"}
    args = ["certify", "--no-evidence", "--jobs", "1", "--plan", "--vendor", "atlas"]
    forked = run_cli(args, cwd=project_file("."), env=env, timeout=120)
    fresh = _fresh(args, project_file("."), env)
    assert forked.returncode == fresh.returncode != 0
    assert "--no-such-option" in forked.stderr
    assert forked.stderr == fresh.stderr


def test_what_an_import_reads_differing_starts_a_new_process(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ONSHI_RIG_TEST_FORK", raising=False)
    reads = import_reads(os.environ)
    assert import_reads({**os.environ, "PYTEST_ADDOPTS": "-k x", "CI": "no"}) == reads
    for name, value in (("PYTHONPATH", "/elsewhere"), ("OPENBLAS_NUM_THREADS", "7"),
                        ("LANG", "C.X"), ("TESSDATA_PREFIX", "/x")):
        assert import_reads({**os.environ, name: value}) != reads, name
    # One whose import would read another value runs as a new interpreter: its own
    # sys.path (a fork would keep the zygote's).
    code = "import sys; print('/elsewhere' in sys.path)"
    forked = run_python(["-c", code], env={**os.environ, "PYTHONPATH": "/elsewhere"},
                        timeout=60)
    assert forked.stdout == "True\n", forked.stderr
    assert _may_fork(dict(os.environ))
    monkeypatch.setenv("ONSHI_RIG_TEST_FORK", "0")  # every command a new interpreter
    assert not _may_fork(dict(os.environ))


def test_a_timeout_ends_the_command(tmp_path: Path) -> None:
    folder = tmp_path / "slow"
    folder.mkdir()
    started = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired):
        run_cli(["certify", "--no-evidence", "--jobs", "1", "--vendor", "canon", "--out",
                 str(folder / "run"), "--bench", str(project_file("fixtures/benches/emulated.yaml"))],
                cwd=folder, timeout=3)
    assert time.monotonic() - started < 30
    # Nothing runs in its folder any more (the command was killed, and waited for).
    here = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and Path(os.readlink(entry / "cwd")) == folder:
                here.append(entry.name)
        except OSError:
            pass
    assert here == []


@pytest.mark.parametrize(("how", "code"), [
    (("-c", "import os, sys; print(sys.argv, sys.path[0] == '', os.getcwd()); sys.exit(3)"), 3),
    (("-c", "raise KeyboardInterrupt"), -2),  # the interpreter's own end: killed by SIGINT
    (("-c", "import sys; sys.exit('said')"), 1),
    (("-m", "pytest", "--version"), 0),
])
def test_python_c_and_m_as_a_new_interpreter_runs_them(how: tuple[str, ...], code: int,
                                                       tmp_path: Path) -> None:
    forked = run_python([*how, "one", "two"] if how[0] == "-c" else list(how), cwd=tmp_path,
                        timeout=60)
    fresh = _fresh(["one", "two"] if how[0] == "-c" else [], tmp_path, how=how)
    assert (forked.returncode, forked.stdout, forked.stderr) == \
        (fresh.returncode, fresh.stdout, fresh.stderr)
    assert forked.returncode == code


#: A frame of Canon's camera on the shipped emulated bench (one look, as a certification's
#: first), with whether the camera's view was already made in the process.
CANON_FRAME = """
import hashlib
from harness.bench import default_bench_path
from harness.emulation.bench import EmulatedBench
from harness.emulation.camera_view import _BUILT
emulated = EmulatedBench.alone(default_bench_path())
made = len(_BUILT)
camera = next(c for c in emulated.spec.cameras if c.watches == "canon")
frame = emulated.camera_source(camera).read()
print(made, hashlib.sha256(frame.image.tobytes()).hexdigest())
"""


def test_a_forked_command_finds_canons_camera_made_and_films_what_a_new_process_films(
        ) -> None:
    forked = run_python(["-c", CANON_FRAME], cwd=project_file("."), timeout=120)
    fresh = _fresh([], project_file("."), how=("-c", CANON_FRAME))
    assert forked.returncode == fresh.returncode == 0, forked.stderr + fresh.stderr
    (made_forked, frame_forked), (made_fresh, frame_fresh) = (
        p.stdout.split() for p in (forked, fresh))
    # The zygote made Canon's and the terminal's cameras; a new interpreter (every command
    # with ONSHI_RIG_TEST_FORK=0) makes its own.
    assert (int(made_forked) >= 2) == _may_fork(os.environ) and int(made_fresh) == 0
    assert frame_forked == frame_fresh


#: Canon's 901 screen read by OCR (every line: its text, exact confidence and box), with
#: whether the process had made its OCR engine and loaded the shipped profiles before.
CANON_901_LINES = """
import cv2
from harness.model import profiles
from harness.vision import ocr
from harness.paths import project_file
made = ocr._engines.api is not None and len(profiles._LOADED) == 1
image = cv2.imread(str(project_file("fixtures/screens/canon/error_901.png")))
print(made, [(line.text, line.confidence, line.box) for line in ocr.read_lines(image)])
"""


def test_a_forked_command_reads_with_the_zygotes_ocr_engine_what_a_new_process_reads(
        ) -> None:
    forked = run_python(["-c", CANON_901_LINES], cwd=project_file("."), timeout=120)
    fresh = _fresh([], project_file("."), how=("-c", CANON_901_LINES))
    assert forked.returncode == fresh.returncode == 0, forked.stderr + fresh.stderr
    made_forked, lines_forked = forked.stdout.split(" ", 1)
    made_fresh, lines_fresh = fresh.stdout.split(" ", 1)
    # The zygote loaded Tesseract's model and the shipped profiles; a new interpreter
    # loads its own.
    assert made_forked == str(_may_fork(os.environ)) and made_fresh == "False"
    assert lines_forked == lines_fresh and "901" in lines_forked


#: The modules of pytest plugins (and the suites) a command finds imported when it starts.
PLUGINS_IMPORTED = """
import sys
print(sorted(m for m in sys.modules if m.split(".")[0] in {
    "hypothesis", "_hypothesis_globals", "_hypothesis_pytestplugin", "xdist", "allure_pytest",
    "labgrid", "suites"}))
"""


def test_a_forked_command_finds_no_pytest_plugin_imported_as_a_new_process() -> None:
    # pytest rewrites a plugin's asserts as it imports it (and warns of one imported before);
    # hypothesis fixes its folder and settings profile from the working folder and the
    # environment when imported: a command imports them itself, in its own.
    forked = run_python(["-c", PLUGINS_IMPORTED], cwd=project_file("."), timeout=60)
    fresh = _fresh([], project_file("."), how=("-c", PLUGINS_IMPORTED))
    assert forked.stdout == fresh.stdout == "[]\n", forked.stdout + forked.stderr


def test_a_forked_commands_collector_leaves_the_zygotes_objects_alone() -> None:
    # Frozen before the fork (gc.freeze): a command's collections do not walk them.
    code = "import gc; print(gc.get_freeze_count())"
    forked = run_python(["-c", code], cwd=project_file("."), timeout=60)
    fresh = _fresh([], project_file("."), how=("-c", code))
    assert (int(forked.stdout) > 10_000) == _may_fork(os.environ), forked.stderr
    assert int(fresh.stdout) == 0
