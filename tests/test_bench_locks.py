"""Shared benches (issue 16 item 4): one run at a time on a bench.

A real labgrid-coordinator, started here on a free localhost port, holds the places; what
it says is read back through labgrid's own ``labgrid-client`` (not the rig's code). Runs
that hold a bench are other processes: the rig's pytest plugin on the bench (a session
that sleeps until killed) or a script holding it through harness.bench_lock; the run they
block is ``onshi-rig scan`` or ``certify`` in this process.
"""

from __future__ import annotations

import getpass
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.bench import load_bench_spec
from harness.bench_lock import HELD_ENV, BenchHeld, bench_devices, hold_bench
from harness.cli import main
from harness.device_locks import LOCK_DIR_ENV, Holder, lock_file
from harness.pytest_plugin import missing_part
from tests.conftest import stop_process

ME = f"{socket.gethostname()}/{getpass.getuser()}"
BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    found = BIN / name if (BIN / name).exists() else shutil.which(name)
    if found is None:
        missing_part(f"{name} is not installed (pip install labgrid)")
    return str(found)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def coordinator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real labgrid-coordinator of this module's own (it keeps its places.yaml in the
    folder it runs in: a temporary one)."""
    port = _free_port()
    folder = tmp_path_factory.mktemp("coordinator")
    log = (folder / "coordinator.log").open("wb")
    proc = subprocess.Popen([_tool("labgrid-coordinator"), "-l", f"127.0.0.1:{port}"],
                            cwd=folder, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    missing_part("labgrid-coordinator did not start: "
                                 + (folder / "coordinator.log").read_text()[-500:])
                time.sleep(0.05)
        yield f"127.0.0.1:{port}"
    finally:
        proc.kill()
        proc.wait()
        log.close()


def _client(address: str, *args: str, user: str) -> None:
    """labgrid-client itself, as ``user``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LG_")}
    done = subprocess.run([_tool("labgrid-client"), "-x", address, *args],
                          env={**env, "LG_USERNAME": user}, capture_output=True, text=True,
                          timeout=30)
    assert done.returncode == 0, done.stderr


def _labgrid(address: str, command: str, place: str, user: str | None = None) -> str:
    """labgrid's own client session (not the rig's code) running labgrid-client's
    ``command`` on the place, as ``user`` (default: this user); then who holds the place
    (``None``: nobody)."""
    import argparse
    import asyncio
    import contextlib
    import io

    from labgrid.remote.client import ClientSession

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        session = ClientSession(address, loop, args=argparse.Namespace(
            place=place, allow_unmatched=False, kick=False))
        if user:
            session.getuser = lambda: user
        loop.run_until_complete(session.start())
        try:
            if command != "show":
                with contextlib.redirect_stdout(io.StringIO()):
                    loop.run_until_complete(getattr(session, command)())
            return str(session.places[place].acquired)
        finally:
            loop.run_until_complete(session.stop())
            loop.run_until_complete(session.close())
    finally:
        loop.close()
        asyncio.set_event_loop(None)


def _acquired(address: str, place: str) -> str:
    return _labgrid(address, "show", place)


@pytest.fixture(autouse=True)
def _own_locks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(LOCK_DIR_ENV, str(tmp_path / "locks"))
    for name in ("LG_USERNAME", "LG_HOSTNAME", "LG_COORDINATOR", HELD_ENV):
        monkeypatch.delenv(name, raising=False)


def _bench(tmp_path: Path, name: str, *, place: str | None = None,
           coordinator: str | None = None, camera: str | None = None) -> Path:
    """A real bench with one camera (scan opens the bench without touching it)."""
    camera = camera or str(tmp_path / "video-dev")
    text = f"bench: {name}\nkind: real\nsysfs_root: '{tmp_path / 'sys'}'\n" \
           f"cameras:\n  - {{name: cam, watches: terminal, source: '{camera}'}}\n"
    if place:
        text += f"labgrid: {{coordinator: '{coordinator}', place: {place}}}\n"
    (tmp_path / "sys").mkdir(exist_ok=True)
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return path


def _holder(tmp_path: Path, bench: Path) -> subprocess.Popen[str]:
    """A pytest session of the rig on ``bench``: its bench fixture holds it; the test then
    sleeps until killed."""
    test = tmp_path / "hold" / "test_hold.py"
    test.parent.mkdir(exist_ok=True)
    test.write_text("import time\n\ndef test_hold(bench):\n    print('HELD', flush=True)\n"
                    "    time.sleep(120)\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", str(test), "-q", "-s", "-p", "no:cacheprovider",
         "-p", "no:labgrid", "--rootdir", str(test.parent), "--bench", str(bench)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=test.parent)
    assert proc.stdout is not None
    said = []
    for line in proc.stdout:  # bounded: the session ends (and stdout closes) on any error
        said.append(line)
        if "HELD" in line:
            return proc
    proc.wait(10)
    pytest.fail("the holder did not hold the bench:\n" + "".join(said))


def _kill(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    if proc.stdout:
        proc.stdout.close()


def test_place_held_by_another_user_refuses_naming_holder(coordinator: str, tmp_path: Path,
                                                          capsys) -> None:
    _labgrid(coordinator, "add_place", "bench-a")
    _client(coordinator, "-p", "bench-a", "acquire", user="ci-runner-7")
    bench = _bench(tmp_path, "a", place="bench-a", coordinator=coordinator)
    today = time.strftime("%Y-%m-%d")
    assert main(["scan", "--bench", str(bench)]) == 2
    out, err = capsys.readouterr()
    assert out == ""  # the bench was not opened
    holder = f"{socket.gethostname()}/ci-runner-7"
    assert f"place bench-a is held by {holder} since {today}T" in err
    assert f"labgrid-client -x {coordinator} -p bench-a release --kick" in err
    assert len(err.strip().splitlines()) == 1
    # certify too, before it makes its report folder.
    out_dir = tmp_path / "report"
    assert main(["certify", "--bench", str(bench), "--out", str(out_dir)]) == 2
    assert f"is held by {holder}" in capsys.readouterr().err and not out_dir.exists()
    # A bounded wait: refused when it is over, having waited.
    start = time.monotonic()
    assert main(["scan", "--bench", str(bench), "--wait-for-bench", "1"]) == 2
    assert 1.0 <= time.monotonic() - start < 6
    assert "(waited 1 s)" in capsys.readouterr().err
    assert _acquired(coordinator, "bench-a") == holder  # the refused runs took nothing


def test_wait_for_bench_runs_once_released_and_releases_at_the_end(
        coordinator: str, tmp_path: Path, capsys) -> None:
    _labgrid(coordinator, "add_place", "bench-b")
    _labgrid(coordinator, "acquire", "bench-b", user="alice")
    bench = _bench(tmp_path, "b", place="bench-b", coordinator=coordinator)
    releaser = threading.Timer(1.0, _client, (coordinator, "-p", "bench-b", "release"),
                               {"user": "alice"})
    releaser.start()
    try:
        start = time.monotonic()
        assert main(["scan", "--bench", str(bench), "--wait-for-bench", "30"]) == 0
        waited = time.monotonic() - start
    finally:
        releaser.join()
    out, err = capsys.readouterr()
    assert "wiring conforms" in out
    assert "is held by " f"{socket.gethostname()}/alice" in err and "waiting up to 30 s" in err
    assert 1.0 <= waited < 10
    assert _acquired(coordinator, "bench-b") == "None"  # acquired by the rig, released by it
    # Afterwards nothing of the run is left: the next run takes the bench at once.
    assert main(["scan", "--bench", str(bench)]) == 0


def test_killed_holder_blocks_while_alive_then_same_user_takes_the_place_back(
        coordinator: str, tmp_path: Path, capsys) -> None:
    _labgrid(coordinator, "add_place", "bench-c")
    bench = _bench(tmp_path, "c", place="bench-c", coordinator=coordinator)
    proc = _holder(tmp_path, bench)
    try:
        assert _acquired(coordinator, "bench-c") == ME  # the pytest plugin acquired it
        # Same host and user: labgrid alone would let both in; the place's local lock not.
        assert main(["scan", "--bench", str(bench)]) == 2
        err = capsys.readouterr().err
        assert f"labgrid place bench-c (labgrid {coordinator} place bench-c) is held by " \
               f"pid {proc.pid} ({getpass.getuser()} on {socket.gethostname()}, bench " \
               f"{bench.resolve()}) since " in err
        # The suites under pytest are refused too: the session stops, exit 2, the holder named.
        second = subprocess.run(
            [sys.executable, "-m", "pytest", str(tmp_path / "hold" / "test_hold.py"), "-q",
             "-p", "no:cacheprovider", "-p", "no:labgrid", "--bench", str(bench)],
            capture_output=True, text=True, timeout=60, cwd=tmp_path / "hold")
        assert second.returncode == 2, second.stdout
        assert f"is held by pid {proc.pid} " in second.stdout and "HELD" not in second.stdout
    finally:
        _kill(proc)
    # labgrid keeps a place acquired when its client dies ...
    assert _acquired(coordinator, "bench-c") == ME
    # ... and the next run of the rig by that user on that host takes it back, says so,
    # and releases it at its end.
    assert main(["scan", "--bench", str(bench)]) == 0
    err = capsys.readouterr().err
    assert f"place bench-c was acquired by a run of the rig that is gone (pid {proc.pid} " in err
    assert f"taken over from pid {proc.pid} " in err and "a run that is gone" in err
    assert _acquired(coordinator, "bench-c") == "None"


def test_a_place_the_user_acquired_is_used_and_left_acquired(coordinator: str,
                                                             tmp_path: Path, capsys) -> None:
    _labgrid(coordinator, "add_place", "bench-d")
    _labgrid(coordinator, "acquire", "bench-d")
    bench = _bench(tmp_path, "d", place="bench-d", coordinator=coordinator)
    assert main(["scan", "--bench", str(bench)]) == 0
    assert "used as it is, and left acquired" in capsys.readouterr().err
    assert _acquired(coordinator, "bench-d") == ME


def test_place_names_are_exact_and_an_absent_coordinator_is_said(
        coordinator: str, tmp_path: Path, capsys) -> None:
    # labgrid-client matches place names by substring: bench-e would pick bench-e10.
    _labgrid(coordinator, "add_place", "bench-e10")
    bench = _bench(tmp_path, "e", place="bench-e", coordinator=coordinator)
    assert main(["scan", "--bench", str(bench)]) == 2
    assert f"labgrid coordinator {coordinator} has no place 'bench-e'" in \
        capsys.readouterr().err
    assert _acquired(coordinator, "bench-e10") == "None"
    nobody = f"127.0.0.1:{_free_port()}"
    bench = _bench(tmp_path, "f", place="bench-e10", coordinator=nobody)
    assert main(["scan", "--bench", str(bench)]) == 2
    err = capsys.readouterr().err
    assert f"labgrid coordinator {nobody} does not answer" in err and "Traceback" not in err


HOLD = ("import sys, time\nfrom harness.bench_lock import hold_bench\n"
        "with hold_bench(sys.argv[1]):\n    print('HELD', flush=True)\n    time.sleep(120)\n")


def test_host_local_lock_live_holder_blocks_killed_one_does_not(tmp_path: Path,
                                                                 capsys) -> None:
    camera = tmp_path / "video-dev"
    camera.touch()
    bench = _bench(tmp_path, "g", camera=str(camera))
    # Another bench file on the same camera, named through a link: the same device.
    (tmp_path / "video-link").symlink_to(camera)
    other = _bench(tmp_path, "h", camera=str(tmp_path / "video-link"))
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(bench)], stdout=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "HELD\n"
        for path in (bench, other):
            assert main(["scan", "--bench", str(path)]) == 2
            err = capsys.readouterr().err
            assert f"camera cam (camera {camera}) is held by pid {proc.pid} " \
                   f"({getpass.getuser()} on {socket.gethostname()}, bench {bench}) " in err
        start = time.monotonic()
        assert main(["scan", "--bench", str(other), "--wait-for-bench", "1"]) == 2
        assert time.monotonic() - start >= 1.0
        assert "(waited 1 s)" in capsys.readouterr().err
    finally:
        _kill(proc)
    # SIGKILL: the kernel dropped its lock; its file still names it: taken over, said so.
    assert main(["scan", "--bench", str(other)]) == 0
    err = capsys.readouterr().err
    assert f"camera cam (camera {camera}): taken over from pid {proc.pid} " in err
    assert "a run that is gone" in err
    # That run let go properly: its file is empty, the next run takes over nothing.
    assert main(["scan", "--bench", str(bench)]) == 0
    assert "taken over" not in capsys.readouterr().err


def test_stale_lock_file_naming_a_dead_pid_does_not_block(tmp_path: Path, capsys) -> None:
    camera = tmp_path / "video-dev"
    bench = _bench(tmp_path, "i", camera=str(camera))
    dead = subprocess.Popen([sys.executable, "-c", ""])
    dead.wait()
    folder = tmp_path / "locks"
    folder.mkdir()
    stale = Holder(dead.pid, "someone", socket.gethostname(), "2026-01-01T00:00:00+09:00",
                   "/elsewhere/bench.yaml")
    lock_file(folder, f"camera {camera}").write_text(stale.text())
    assert main(["scan", "--bench", str(bench)]) == 0
    assert f"taken over from pid {dead.pid} (someone on " in capsys.readouterr().err


def test_devices_locked_by_what_they_are(tmp_path: Path) -> None:
    (tmp_path / "ttyACM0").touch()
    (tmp_path / "by-id").symlink_to(tmp_path / "ttyACM0")
    (tmp_path / "sys").mkdir()

    def devices(text: str) -> dict[str, str]:
        path = tmp_path / f"b{abs(hash(text))}.yaml"
        path.write_text(text)
        return bench_devices(load_bench_spec(path))

    real = ("bench: x\nkind: real\ninstruments:\n"
            "  - {{name: mains, kind: numato_relay, port: '{port}'}}\n"
            "  - {{name: pdu, kind: pdudaemon, url: 'http://pdu:16421/', hostname: p1, "
            "ports: [3, 4]}}\n"
            "readers:\n  - {{name: s1, kind: general_reader, maker: Sony, "
            "usb: {{vid: '054C', pid: '0DC8', path: '1-2'}}}}\n"
            "  - {{name: s2, kind: general_reader, maker: Sony, "
            "usb: {{vid: '054C', pid: '0DC8', serial: A7}}}}\n"
            "cameras:\n  - {{name: c, watches: terminal, source: 0}}\n")
    one = devices(real.format(port=tmp_path / "by-id"))
    assert one == {
        f"serial {tmp_path / 'ttyACM0'}": "instrument mains",
        "pdu http://pdu:16421 p1 port 3": "instrument pdu",
        "pdu http://pdu:16421 p1 port 4": "instrument pdu",
        "usb 1-2": "reader s1",
        "usb id 054C:0DC8 serial A7": "reader s2",
        "camera /dev/video0": "camera c",
    }
    assert set(devices(real.format(port=tmp_path / "ttyACM0"))) == set(one)
    # Another USB tree (a bench in a box's sysfs folder): its own devices.
    boxed = devices(real.format(port=tmp_path / "ttyACM0") + f"sysfs_root: '{tmp_path / 'sys'}'\n")
    assert f"usb {tmp_path / 'sys'} 1-2" in boxed and "usb 1-2" not in boxed
    # An emulated bench's devices are the process's own twins: nothing to lock.
    emulated = load_bench_spec(Path(__file__).parent.parent / "fixtures/benches/emulated.yaml")
    assert emulated.cameras and bench_devices(emulated) == {}


def test_a_run_started_by_the_holder_shares_its_hold(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """certify's parts (processes it starts) run on the bench their parent holds; a hold
    named in the environment by a process that is not an ancestor is not trusted."""
    bench = _bench(tmp_path, "j", camera=str(tmp_path / "video-dev"))
    code = ("import sys\nfrom harness.bench_lock import hold_bench\n"
            "with hold_bench(sys.argv[1]):\n    print('IN', flush=True)\n")
    with hold_bench(bench):
        child = subprocess.run([sys.executable, "-c", code, str(bench)],
                               capture_output=True, text=True, timeout=60)
        assert (child.returncode, child.stdout) == (0, "IN\n"), child.stderr
        monkeypatch.setenv(HELD_ENV, json.dumps({"pid": 1, "bench": str(bench.resolve())}))
        with pytest.raises(BenchHeld, match=f"is held by pid {os.getpid()} "), \
                hold_bench(bench):
            pass
    assert HELD_ENV not in os.environ  # not left for the processes started after the run


# -- what the bench file leaves out, from the place's resources (a real labgrid-exporter) ---


@pytest.fixture(scope="module")
def exporter(coordinator: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A real labgrid-exporter offering, in group ``desk``: the emulated Numato board on its
    pty as a RawSerialPort (served through ser2net once a place acquires it), a camera
    stream, a reader's USB port on this host and one on another; place ``desk-1`` takes
    them all."""
    from harness.emulation.relay import EmulatedRelayBoard

    ser2net = shutil.which("ser2net")
    if ser2net is None:
        missing_part("ser2net is not installed (apt-get install ser2net): labgrid's exporter "
                     "serves serial ports through it")
    folder = tmp_path_factory.mktemp("exporter")
    with EmulatedRelayBoard(8, name="mains") as board:
        config = {"desk": {
            "mains": {"cls": "RawSerialPort", "port": board.port, "speed": 115200},
            "cam": {"cls": "HTTPVideoStream", "url": "http://127.0.0.1:9/cam.mjpg"},
            "pasori": {"cls": "NetworkUSBMassStorage", "host": "127.0.0.1", "busnum": 1,
                       "devnum": 5, "path": "1-4.1", "vendor_id": 0x054C,
                       "model_id": 0x0DC8},
            "far": {"cls": "NetworkUSBMassStorage", "host": "bench-pc-9.lab.example",
                    "busnum": 1, "devnum": 7, "path": "1-2", "vendor_id": 0x054C,
                    "model_id": 0x0DC8}}}
        (folder / "exporter.yaml").write_text(json.dumps(config))
        log = (folder / "exporter.log").open("wb")
        # Published as 127.0.0.1: CI's network namespace has only its loopback, not the
        # address the host's name resolves to.
        proc = subprocess.Popen([_tool("labgrid-exporter"), "-c", coordinator, "--name",
                                 "desk-host", "--hostname", "127.0.0.1",
                                 str(folder / "exporter.yaml")],
                                cwd=folder, stdout=log, stderr=subprocess.STDOUT)
        try:
            _client(coordinator, "-p", "desk-1", "create", user=getpass.getuser())
            deadline = time.monotonic() + 20
            while "Exporter ready" not in (folder / "exporter.log").read_text():
                assert proc.poll() is None and time.monotonic() < deadline, \
                    (folder / "exporter.log").read_text()[-2000:]
                time.sleep(0.1)
            _client(coordinator, "-p", "desk-1", "add-match", "desk-host/desk/*/*",
                    user=getpass.getuser())
            yield board
        finally:
            stop_process(proc)
            log.close()


def _desk_bench(tmp_path: Path, coordinator: str, extra: str = "") -> Path:
    """A real bench that leaves its relay's port, its camera's source and its reader's USB
    path to the place."""
    path = tmp_path / "desk.yaml"
    path.write_text(
        f"bench: desk\nkind: real\nlabgrid: {{coordinator: '{coordinator}', place: desk-1}}\n"
        "instruments:\n  - {name: mains, kind: numato_relay}\n"
        "cameras:\n  - {name: cam, watches: terminal, latency_s: 0.3}\n"
        "readers:\n  - {name: pasori, kind: general_reader, maker: Sony, model: RC-S300/S1,\n"
        "     usb: {vid: '054C', pid: '0DC8'}}\n" + extra)
    return path


def test_what_the_bench_file_leaves_out_comes_from_the_place(
        coordinator: str, exporter: Any, tmp_path: Path) -> None:
    """Held, the bench's relay is the exporter's serial port (ser2net, RFC 2217) and
    switches the board; the camera is the place's stream, the reader at its USB port."""
    from harness.devices.instruments import NumatoRelay

    path = _desk_bench(tmp_path, coordinator)
    with hold_bench(path):
        spec = load_bench_spec(path)
        assert _acquired(coordinator, "desk-1") == ME
        port = spec.instruments[0].port
        assert port is not None and port.startswith("rfc2217://")
        assert spec.cameras[0].source == "http://127.0.0.1:9/cam.mjpg"
        assert spec.readers[0].usb.path == "1-4.1"
        assert bench_devices(spec)[f"serial {port}"] == "instrument mains"
        relay = NumatoRelay(port, timeout=5)
        try:
            relay.on(5)
            assert exporter.state(5) and relay.is_on(5)
            relay.off(5)
            assert not exporter.state(5)
        finally:
            relay.close()
    assert _acquired(coordinator, "desk-1") == "None"


def test_a_field_given_is_kept_and_a_complete_file_needs_no_coordinator(
        tmp_path: Path) -> None:
    path = tmp_path / "given.yaml"
    path.write_text("bench: given\nkind: real\n"
                    "labgrid: {coordinator: '127.0.0.1:1', place: nowhere}\n"
                    "instruments:\n  - {name: mains, kind: numato_relay, port: /dev/ttyACM3}\n")
    assert load_bench_spec(path).instruments[0].port == "/dev/ttyACM3"


@pytest.mark.parametrize("extra, problem", [
    ("robot:\n  readers: {}\n",
     "desk.yaml:11: robot.port: not given, and labgrid place desk-1 has no NetworkSerialPort "
     "named 'robot' (its resources: HTTPVideoStream 'cam', NetworkUSBMassStorage 'far', "
     "NetworkSerialPort 'mains', NetworkUSBMassStorage 'pasori')"),
    ("  - {name: far, kind: general_reader, maker: Sony, model: RC-S300/S1,\n"
     "     usb: {vid: '054C', pid: '0DC8'}}\n",
     "desk.yaml:12: readers[1].usb.path: not given, and labgrid place desk-1's "
     "NetworkUSBMassStorage 'far' is on another host (bench-pc-9.lab.example)"),
])
def test_what_the_place_cannot_give_is_bad_input_and_the_place_is_let_go(
        coordinator: str, exporter: Any, tmp_path: Path, capsys, extra: str,
        problem: str) -> None:
    assert main(["scan", "--bench", str(_desk_bench(tmp_path, coordinator, extra))]) == 2
    err = capsys.readouterr().err
    assert problem in err, err
    assert "Traceback" not in err and _acquired(coordinator, "desk-1") == "None"


def test_certify_stopped_by_sigterm_lets_its_place_go_and_leaves_a_report(
        coordinator: str, tmp_path: Path) -> None:
    """A certification holding a place, stopped mid-run (a CI runner's cancel): the place is
    released on the coordinator and the report says the run was interrupted. It is stopped
    while its first operator step waits on a terminal the test holds."""
    import select
    import tty

    _labgrid(coordinator, "add_place", "bench-term")
    master, slave = os.openpty()
    tty.setraw(slave)
    (tmp_path / "sys").mkdir()
    bench = tmp_path / "term.yaml"
    bench.write_text(
        f"bench: term\nkind: real\nsysfs_root: '{tmp_path / 'sys'}'\n"
        f"labgrid: {{coordinator: '{coordinator}', place: bench-term}}\n"
        f"operator: {{terminal: {os.ttyname(slave)}, timeout_s: 60}}\n"
        "readers:\n  - {name: panasonic, kind: face_auth_reader, maker: panasonic,\n"
        "     usb: {vid: 'FFFF', pid: 'F001'}, camera: cam}\n"
        f"cameras:\n  - {{name: cam, watches: panasonic, source: '{tmp_path / 'none.mp4'}'}}\n")
    out = tmp_path / "report"
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness.cli", "certify", "--bench", str(bench), "--vendor",
         "panasonic", "--jobs", "1", "--out", str(out), "--", "-k", "BOOT-01"],
        cwd=Path(__file__).resolve().parents[1], stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)
    try:
        asked, deadline = b"", time.monotonic() + 60
        while b"[operator]" not in asked:
            assert proc.poll() is None and time.monotonic() < deadline, asked
            if select.select([master], [], [], 0.5)[0]:
                asked += os.read(master, 4096)
        assert _acquired(coordinator, "bench-term") == ME  # held while it runs
        proc.send_signal(signal.SIGTERM)
        said, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
        os.close(slave)
    assert proc.returncode == 128 + signal.SIGTERM, said
    assert _acquired(coordinator, "bench-term") == "None"
    assert "interrupted (SIGTERM)" in said
    report = json.loads((out / "certification.json").read_text("utf-8"))
    assert report["passed"] is False
    assert {e["status"] for e in report["makers"]["panasonic"].values()} == {"not_run"}
