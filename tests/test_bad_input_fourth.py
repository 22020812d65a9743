"""Bad input and interruptions the fourth hunt found: each is one message per problem as
``file:line: field: problem`` (exit 2) or one line for a signal (exit 130/143), never a
traceback.

- A terminal root port listed twice, a device on an emulated hub's port beyond its 4: said
  by the emulated USB tree with no file, line or field.
- Two devices on one port, one of them in the shipped base: said only at the base's entry
  (line 1 of the user's file), never at the entry the user wrote.
- A deviation whose ``change`` is empty: "unknown field" on the deviations' line.
- Ctrl-C or SIGTERM while certify's pytest-xdist workers start: "a worker of the
  certification died", exit 2, state error.
- Ctrl-C in the first half second of any command: a traceback out of the module imports.
- ``report merge`` stopped part way: silent, a half-made folder whose report said passed;
  one run under two folder names merged as two runs agreeing.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cli_fork import run_python
from proc_helpers import children
from test_bad_input_more import bench, run
from test_report_merge import DEVIANT, MISWIRED, _certify

from harness.cli import main
from harness.paths import project_file


def test_a_root_port_listed_twice_is_named_at_both_entries(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ports = "".join(f"    - {{path: \"{p}\", usb: \"3.0\"}}\n"
                    for p in ("2-1", "2-1", "2-2", "2-3", "2-4", "2-5"))
    ports += "".join(f"    - {{path: \"1-{n}\", usb: \"2.0\"}}\n" for n in range(1, 5))
    path = bench(tmp_path, f"terminal:\n  usb_ports:\n{ports}")
    assert run(capsys, "scan", "--bench", str(path)) == (2, [
        f"{path}:5: terminal.usb_ports[0].path: port 2-1 listed twice",
        f"{path}:6: terminal.usb_ports[1].path: port 2-1 listed twice"])


@pytest.mark.parametrize(("at", "port"), [("1-4.9", 9), ("1-4.5", 5)])
def test_a_hub_port_beyond_the_emulated_hubs_is_named_at_the_path(
        at: str, port: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = bench(tmp_path, "readers:\n  - name: sony-rc-s300-s1\n"
                           f"    usb: {{vid: \"054C\", pid: \"0DC8\", path: \"{at}\"}}\n")
    code, lines = run(capsys, "scan", "--bench", str(path))
    assert (code, lines) == (2, [
        f"{path}:5: readers[sony-rc-s300-s1].usb.path: reader 'sony-rc-s300-s1': {at}: hub 'hub' at 1-4 "
        f"has 4 ports, not {port}"])


def test_the_last_port_of_an_emulated_hub_is_taken(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = bench(tmp_path, "readers:\n  - name: sony-rc-s300-s1\n"
                           "    usb: {vid: \"054C\", pid: \"0DC8\", path: \"1-4.4\"}\n")
    code, lines = run(capsys, "pcscd-config", "--bench", str(path), "--dir",
                      str(tmp_path / "conf"))
    assert "ports, not" not in "\n".join(lines)
    assert code == 0, lines


def test_a_port_clash_with_the_base_is_named_at_the_users_entry_too(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from harness.paths import project_file

    hub = project_file("fixtures/devices/hub/usb2-hub.yaml")
    path = bench(tmp_path, f"hubs:\n  - {{name: hub2, path: \"2-2\", usb: \"3.0\", "
                           f"emulate: {hub}}}\n")
    code, lines = run(capsys, "scan", "--bench", str(path))
    assert code == 2
    assert f"{path}:4: hubs[hub2].path: two devices plugged into 2-2 (hub 'hub2' and reader " \
           "'canon')" in lines, lines


@pytest.mark.parametrize(("change", "problem"), [
    ('""', "empty: a dotted path into the behaviour file, like behaviour.start.seconds"),
    ('"  "', "empty: a dotted path into the behaviour file, like behaviour.start.seconds"),
    ("behaviour..start", "'behaviour..start' has an empty part: a dotted path into the "
                         "behaviour file, like behaviour.start.seconds"),
    ("behaviour.start.", "'behaviour.start.' has an empty part: a dotted path into the "
                         "behaviour file, like behaviour.start.seconds"),
])
def test_a_deviation_with_an_empty_change_is_named_at_its_line(
        change: str, problem: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    path = bench(tmp_path, f"terminal:\n  deviations:\n    - {{change: {change}, to: 1}}\n")
    assert run(capsys, "scan", "--bench", str(path)) == (2, [
        f"{path}:5: terminal.deviations[0].change: {problem}"])


def test_a_path_changed_twice_is_named_at_the_second_change(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Only the last change would hold, while the record listed both as the device's faults.
    path = bench(tmp_path, "terminal:\n  deviations:\n"
                           "    - {change: behaviour.boot_s, to: 1}\n"
                           "    - {change: behaviour.network, to: {}}\n"
                           "    - {change: behaviour.boot_s, to: 2}\n")
    assert run(capsys, "scan", "--bench", str(path)) == (2, [
        f"{path}:7: terminal.deviations[2].change: behaviour.boot_s is changed already by "
        "deviation [0]"])


# -- a signal while the pytest-xdist workers start ------------------------------------------


@pytest.mark.parametrize("after", [0.0, 0.6])
@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143),
                                          (signal.SIGHUP, 129)])
def test_a_signal_while_the_workers_start_is_the_interruption(
        sig: signal.Signals, code: int, after: float, tmp_path: Path) -> None:
    """Signalled the moment its workers exist (xdist still bootstrapping them: its read
    met the pipe's end, an INTERNALERROR traceback) or as they import and collect: the
    workers go down keyboard-interrupted or "not properly terminated", and that is the
    run's interruption, not a worker that died (exit 2, state error)."""
    out = tmp_path / "run"
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness.cli", "certify", "--no-evidence", "--plain",
         "--vendor", "general_readers", "--vendor", "canon", "--jobs", "2", "--out", str(out)],
        cwd=project_file("."), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        start_new_session=True)
    deadline = time.monotonic() + 120
    while len(children(proc.pid)) < 2:
        assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()
        time.sleep(0.01)
    time.sleep(after)
    assert not (out / "worker-gw0" / "collected.json").exists()  # still starting
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == code, err[-3000:]
    assert f"interrupted ({sig.name})" in err and "died" not in err, err
    assert "Traceback" not in err and "INTERNALERROR" not in err
    report = json.loads((out / "certification.json").read_text("utf-8"))
    assert (report["state"], report["interrupted"], report["passed"]) == (
        "interrupted", True, False)
    assert all(t["outcome"] == "not_run" for t in report["tests"].values())


def test_only_xdists_own_errors_under_a_signal_are_its_echo() -> None:
    """Under a signal, the pipes' end and execnet's closed channel (an OSError with no
    errno, raised in xdist's own hooks: seen as "cannot send (already closed?)", exit 2 with
    the report in state error) are the interruption; a failed write of the run (it has an
    errno: a full disk, a folder taken away) stays a failed write."""
    import errno

    from harness.certify_run import _signal_echo

    assert _signal_echo(BrokenPipeError(errno.EPIPE, "Broken pipe"))
    assert _signal_echo(ConnectionResetError(errno.ECONNRESET, "reset"))
    assert _signal_echo(OSError("cannot send (already closed?)"))
    assert not _signal_echo(OSError(errno.ENOSPC, "No space left on device"))
    assert not _signal_echo(PermissionError(errno.EACCES, "Permission denied"))
    assert not _signal_echo(FileNotFoundError(errno.ENOENT, "No such file or directory"))


class _Gateway:
    id = "gw0"


class _Node:
    gateway = _Gateway()


@pytest.mark.parametrize("error", ["keyboard-interrupted", "Not properly terminated",
                                   "KeyboardInterrupt"])
def test_a_worker_down_on_the_runs_own_signal_is_no_death(error: str, tmp_path: Path) -> None:
    from harness.report.workers import Controller

    controller = Controller(tmp_path, None, None, {})  # type: ignore[arg-type]
    controller.pytest_testnodedown(_Node(), error)
    assert controller.died == [f"gw0: {error}"]  # no signal came: it died
    controller = Controller(tmp_path, None, None, {})  # type: ignore[arg-type]
    controller.stopping = True
    controller.pytest_testnodedown(_Node(), error)
    assert (controller.died, controller.interrupted) == ([], [f"gw0: {error}"])
    controller.pytest_testnodedown(_Node(), "segmentation fault")  # a crash stays one
    assert controller.died == ["gw0: segmentation fault"]


# -- a signal while the command line loads -------------------------------------------------

#: The command line as the console script or ``python -m harness.cli`` runs it, signalling
#: itself the moment harness.loading starts to import (as a Ctrl-C in its first half second
#: would land): a KeyboardInterrupt out of the module imports.
SIGNAL_WHILE_LOADING = """
import os, runpy, signal, sys
how, sig = sys.argv[1], int(sys.argv[2])
class Hook:
    def find_spec(self, name, path=None, target=None):
        if name == "harness.loading":
            os.kill(os.getpid(), sig)
        return None
sys.meta_path.insert(0, Hook())
sys.argv = ["onshi-rig", "scan"]
if how == "module":
    runpy.run_module("harness.cli", run_name="__main__")
else:
    from harness.entry import main
    sys.exit(main())
"""


@pytest.mark.parametrize("how", ["module", "script"])
@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143),
                                          (signal.SIGHUP, 129)])
def test_a_signal_while_the_command_line_loads_is_one_line(
        how: str, sig: signal.Signals, code: int) -> None:
    proc = subprocess.run([sys.executable, "-c", SIGNAL_WHILE_LOADING, how, str(int(sig))],
                          cwd=project_file("."), capture_output=True, text=True, timeout=60)
    assert (proc.returncode, proc.stderr) == (code, f"onshi-rig: interrupted ({sig.name})\n")


def test_the_console_script_is_the_entry_that_catches_it() -> None:
    import tomllib

    pyproject = tomllib.loads(project_file("pyproject.toml").read_text("utf-8"))
    assert pyproject["project"]["scripts"]["onshi-rig"] == "harness.entry:main"


def test_sigterm_is_the_commands_own_once_it_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """While the rig loads a SIGTERM ends it with its line; the command then gets SIGTERM
    as it was (each command handles it, or dies of it), and so does whatever follows."""
    import harness.cli
    import harness.entry

    before = signal.getsignal(signal.SIGTERM)
    seen: list[object] = []

    def command(_args: object) -> int:
        seen.append(signal.getsignal(signal.SIGTERM))
        return 0

    def check(args: argparse.Namespace) -> None:  # the last step before the command
        seen.append(signal.getsignal(signal.SIGTERM))
        args.func = command

    monkeypatch.setattr(harness.cli, "check_path_names", check)
    monkeypatch.setattr(sys, "argv", ["onshi-rig", "scan"])
    hup = signal.getsignal(signal.SIGHUP)
    assert harness.entry.main() == 0
    assert seen == [harness.entry._terminate, before]
    assert signal.getsignal(signal.SIGTERM) is before
    assert signal.getsignal(signal.SIGHUP) is hup and not harness.entry._replaced


# -- report merge: stopped part way, one run twice ------------------------------------------


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two small finished runs of two benches (test_report_merge's), made once."""
    base = tmp_path_factory.mktemp("merge")
    return {"miswired": _certify(base / "miswired", MISWIRED, "general_readers",
                                 "USB-04 or USB-05"),
            "deviant": _certify(base / "deviant", DEVIANT, "usen_almex", "usen_almex-USB-02")}


#: ``report merge`` in a child that signals itself at a chosen step: after the first run is
#: copied (``copy``), or as the merged folder is put in place (``place``).
MERGE_SIGNALLED = """
import os, pathlib, shutil, signal, sys
step, sig = sys.argv[1], int(sys.argv[2])
if step == "copy":
    real_copy = shutil.copytree
    def copytree(*args, **kwargs):
        done = real_copy(*args, **kwargs)
        os.kill(os.getpid(), sig)
        return done
    shutil.copytree = copytree
else:
    real_rename = pathlib.Path.rename
    def rename(self, target):
        os.kill(os.getpid(), sig)
        return real_rename(self, target)
    pathlib.Path.rename = rename
sys.argv = ["onshi-rig", "report", "merge", *sys.argv[3:]]
from harness.entry import main
sys.exit(main())
"""


def _merge_signalled(step: str, sig: signal.Signals, *args: Path
                     ) -> subprocess.CompletedProcess[str]:
    return run_python(["-c", MERGE_SIGNALLED, step, str(int(sig)), *map(str, args)],
                      cwd=project_file("."), timeout=120)


@pytest.mark.parametrize("empty", [False, True])
@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143),
                                          (signal.SIGHUP, 129)])
def test_a_merge_stopped_part_way_leaves_nothing_merged(
        sig: signal.Signals, code: int, empty: bool, two_runs: dict[str, Path],
        tmp_path: Path) -> None:
    """It left a folder whose certification.json said finished and passed, unsealed."""
    out = tmp_path / "merged"
    if empty:
        out.mkdir()  # given an empty folder: it stays one
    proc = _merge_signalled("copy", sig, two_runs["miswired"], two_runs["deviant"], "--out", out)
    assert (proc.returncode, proc.stderr) == (
        code, f"interrupted ({sig.name}): nothing merged into {out}\n")
    assert proc.stdout == ""
    assert (out.is_dir() and not any(out.iterdir())) if empty else not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == (["merged"] if empty else [])
    # The same merge then goes through.
    assert main(["report", "merge", str(two_runs["miswired"]), str(two_runs["deviant"]),
                 "--out", str(out)]) == 1
    assert main(["report", "verify", str(out)]) == 0


def test_a_signal_as_the_merged_folder_is_put_in_place_is_noted(
        two_runs: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "merged"
    proc = _merge_signalled("place", signal.SIGTERM, two_runs["miswired"], two_runs["deviant"],
                            "--out", out)
    assert proc.returncode == 143, proc.stderr
    assert proc.stderr.endswith(f"SIGTERM as the merge ended: {out} is finished and sealed\n")
    assert "Traceback" not in proc.stderr and f"merged 2 runs into {out}" in proc.stdout
    assert main(["report", "verify", str(out)]) == 0
    assert [p.name for p in tmp_path.iterdir()] == ["merged"]


def test_one_run_under_two_folder_names_is_refused(
        two_runs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """It was merged as two runs agreeing: "decided by ... in run-1, ... in run-2"."""
    copy = tmp_path / "copy"
    shutil.copytree(two_runs["miswired"], copy, symlinks=True)
    run_id = json.loads((copy / "certification.json").read_text("utf-8"))["run"]
    out = tmp_path / "merged"
    assert run(capsys, "report", "merge", str(two_runs["miswired"]), str(copy), "--out",
               str(out)) == (2, [f"{copy}: the same run ({run_id}) as {two_runs['miswired']}: "
                                 "given twice (a copy of one run is no second bench's word)"])
    assert not out.exists()


def test_a_command_stopped_by_ctrl_c_says_so_in_one_line(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """A Ctrl-C once the command runs that the command itself says nothing of (certify
    before its run starts): 130, silently, before."""
    import harness.cli

    def ctrl_c(_args: argparse.Namespace) -> int:
        raise KeyboardInterrupt

    def check(args: argparse.Namespace) -> None:  # the last step before the command
        args.func = ctrl_c

    monkeypatch.setattr(harness.cli, "check_path_names", check)
    assert run(capsys, "scan") == (130, ["interrupted (SIGINT)"])
