"""``python -m harness.cli ARGS`` for the tests, each run a process of its own forked from a
warm interpreter: a zygote per test worker has imported what every command imports (numpy,
OpenCV, pydantic, pytest, the rig's models; about 1.2 s of CPU) and made what a
certification of Canon on the shipped bench makes first (its and the terminal's cameras
and classifiers, the rig's own caches: about 1.1 s more), and a command's process starts
from it instead of from nothing. CI runs some 75 commands: about a minute of CPU
was their imports (7 to 9 % of the CPU of the files that run them, back to back).

The process is a real one (its own pid, file descriptors, working folder, environment and
exit status; signals reach it), started as ``-m`` starts one: ``sys.argv[0]`` the module's
file, the working folder first on ``sys.path``, stdin /dev/null, stdout and stderr captured.
What cannot be the same is said where it matters: tests of how a fresh interpreter starts
(the wheel, a signal while the rig loads, a hook on the import path, a tty or a full device
as stdout) start one with ``subprocess``. So does every command whose environment differs
from the zygote's in what an import reads (``PYTHON*``, locale, thread pools), and all of
them with ``ONSHI_RIG_TEST_FORK=0``.

The zygote (this file run as a script) holds no test state: it imports, then forks per
request. A request's waiter forks the command and sends its pid, then its exit status.
"""

from __future__ import annotations

import atexit
import builtins
import contextlib
import gc
import importlib
import json
import os
import runpy
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
#: ``python -m harness.cli``, for the tests that start the command as a process of their own.
CLI = (sys.executable, "-m", "harness.cli")
#: Environment variables an import reads (the interpreter's, the locale, the thread pools
#: numpy and OpenCV size when imported): a command whose value differs starts afresh.
_IMPORT_READS = ("PYTHON", "LANG", "LC_", "OPENBLAS", "OPENCV", "OMP", "GOTO", "MKL", "LD_",
                 "MALLOC", "NUMPY", "TESSDATA", "MPL")


def run_cli(args: Sequence[str], *, cwd: str | os.PathLike[str] | None = None,
            env: Mapping[str, str] | None = None, timeout: float | None = None
            ) -> subprocess.CompletedProcess[str]:
    """``subprocess.run([sys.executable, "-m", "harness.cli", *args], capture_output=True,
    text=True, stdin=DEVNULL, ...)``: the same result, from the warm zygote when it can."""
    return run_python(["-m", "harness.cli", *map(os.fspath, args)], cwd=cwd, env=env,
                      timeout=timeout)


def run_python(args: Sequence[str], *, cwd: str | os.PathLike[str] | None = None,
               env: Mapping[str, str] | None = None, timeout: float | None = None
               ) -> subprocess.CompletedProcess[str]:
    """``python -m MODULE ARGS`` or ``python -c CODE ARGS`` the same way."""
    argv = [sys.executable, *map(os.fspath, args)]
    if len(argv) < 3 or argv[1] not in ("-m", "-c"):
        raise ValueError(f"run_python: -m MODULE or -c CODE, not {argv[1:3]}")
    env = dict(os.environ if env is None else env)
    folder = os.fspath(cwd) if cwd is not None else os.getcwd()
    if _may_fork(env):
        zygote = _zygote()
        if import_reads(env) == zygote.reads:
            try:
                return zygote.run(argv, folder, env, timeout)
            except _Gone:
                pass  # the zygote is gone (a new one starts next time): as a new process
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, cwd=folder,
                          env=env, stdin=subprocess.DEVNULL)


class _Gone(Exception):
    """The zygote took no request: nothing of the command ran."""


def _may_fork(env: Mapping[str, str]) -> bool:
    return env.get("ONSHI_RIG_TEST_FORK", "1") != "0"


def import_reads(env: Mapping[str, str]) -> dict[str, str]:
    """What of ``env`` an import reads: a command whose differs from the zygote's (which
    imported with its own) starts as a new interpreter."""
    return {n: v for n, v in env.items() if n.startswith(_IMPORT_READS)}


class _Zygote:
    def __init__(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._socket = ours
        self._lock = threading.Lock()
        #: The environment's part the zygote's imports read (it starts with the worker's).
        self.reads = import_reads(os.environ)
        self.process = subprocess.Popen(
            [sys.executable, __file__, str(theirs.fileno())], pass_fds=(theirs.fileno(),),
            cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        theirs.close()
        atexit.register(self.close)

    def close(self) -> None:
        self._socket.close()  # the zygote sees the end and leaves
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def run(self, argv: list[str], cwd: str, env: dict[str, str], timeout: float | None
            ) -> subprocess.CompletedProcess[str]:
        request = json.dumps({"args": argv[1:], "cwd": cwd, "env": env}).encode()
        reply, theirs = socket.socketpair()
        with open(os.devnull, "rb") as stdin, tempfile.TemporaryFile() as out, \
                tempfile.TemporaryFile() as err, reply:
            try:
                with self._lock:
                    socket.send_fds(self._socket, [request], [stdin.fileno(), out.fileno(),
                                                               err.fileno(), theirs.fileno()])
            except OSError as exc:
                raise _Gone from exc
            finally:
                theirs.close()
            try:
                pid = int(_line(reply))
            except RuntimeError as exc:
                raise _Gone from exc
            reply.settimeout(timeout)
            try:
                code = int(_line(reply))
            except TimeoutError:
                os.kill(pid, signal.SIGKILL)
                reply.settimeout(None)
                _line(reply)
                raise subprocess.TimeoutExpired(argv, timeout or 0, *_read(out, err)) from None
            return subprocess.CompletedProcess(argv, code, *_read(out, err))


def _line(reply: socket.socket) -> str:
    """One line the waiter sent (its pid, or the command's exit status)."""
    got = b""
    while not got.endswith(b"\n"):
        chunk = reply.recv(1)
        if not chunk:
            raise RuntimeError("the command's waiter ended before it said " +
                               ("its exit status" if got else "anything"))
        got += chunk
    return got.decode("ascii")


def _read(*files: Any) -> tuple[str, ...]:
    texts = []
    for handle in files:
        handle.seek(0)
        texts.append(handle.read().decode("utf-8", errors="replace"))
    return tuple(texts)


_started: list[_Zygote] = []
_start_lock = threading.Lock()


def _zygote() -> _Zygote:
    with _start_lock:
        if _started and _started[0].process.poll() is not None:
            _started.clear()  # it died: a new one
        if not _started:
            _started.append(_Zygote())
        return _started[0]


# -- the zygote's side ----------------------------------------------------------------------
def _preload() -> None:
    """What a command imports before it does anything, what certify's suites import, and
    matplotlib: a certification that fails (most of the tests' do) draws its timeline
    pictures, 0.7 s of import. Then what a certification imports before its pytest session
    and pytest loads as it starts (0.2 s): pytest's own default plugins, the rig's report
    writers, jinja2 and execnet. Not the modules of pytest plugins (hypothesis, xdist,
    allure's, the suites) nor the rig's modules a fresh certification imports only once
    pytest runs (the walks, the boot and upgrade flows, the cases): pytest rewrites their
    asserts as it imports them (and says so of one imported before it could), and
    hypothesis fixes its folder and settings profile from the working folder and the
    environment when it is imported."""
    import cv2  # noqa: F401
    import execnet  # noqa: F401
    import jinja2  # noqa: F401
    import matplotlib.pyplot  # noqa: F401
    import numpy  # noqa: F401
    import pytest  # noqa: F401
    from _pytest.config import default_plugins

    import harness.bench  # noqa: F401
    import harness.certify_run  # noqa: F401
    import harness.cli  # noqa: F401
    import harness.cli_report  # noqa: F401
    import harness.cli_vision  # noqa: F401
    import harness.emulation.bench  # noqa: F401
    import harness.entry  # noqa: F401
    import harness.flows.runner  # noqa: F401
    import harness.report.allure_run  # noqa: F401
    import harness.report.certification  # noqa: F401
    import harness.report.console  # noqa: F401
    import harness.report.diff  # noqa: F401
    import harness.report.html  # noqa: F401
    import harness.report.junit  # noqa: F401
    import harness.report.resume  # noqa: F401
    import harness.report.workers  # noqa: F401
    import harness.scan  # noqa: F401
    import harness.vision.watcher  # noqa: F401

    for name in default_plugins:
        importlib.import_module(f"_pytest.{name}")


#: The makers whose cameras the zygote films once: most commands the tests fork certify
#: Canon, each with the terminal's camera too.
_WARMED = ("canon", "terminal")


def _warm() -> None:
    """What a certification of :data:`_WARMED` on the shipped emulated bench makes first,
    made once here (about 1.1 s of CPU a command): each camera's desk, pose and view
    (harness.emulation.camera_scene, camera_view) and its maker's references and
    classifier (harness.vision). They are the rig's own caches (harness.kept), kept by
    what they are made from, as a test worker keeps them from test to test: a command on
    another bench, camera or screens folder makes its own. Nothing of a bench stays open
    (no thread, file or twin). And the OCR engine, its Japanese model loaded by a first
    line read (0.2 s of a command that reads a screen): Tesseract as this build bundles it
    starts no thread, so a forked command uses it as its own."""
    from harness.bench import default_bench_path
    from harness.emulation.bench import EmulatedBench
    from harness.model.profiles import ProfileSet, default_profiles_dir
    from harness.report.html import templates
    from harness.vision.classify import Classifier
    from harness.vision.ocr import read_lines
    from harness.vision.reference import ReferenceSet, screens_dir_for

    # The shipped profiles (kept by their files' stamps) and the report's page, compiled.
    ProfileSet.load(default_profiles_dir())
    templates().get_template("certification.html.j2")
    emulated = EmulatedBench.alone(default_bench_path())
    spec = emulated.spec
    makers = {r.name: r.maker for r in spec.readers} | {spec.terminal.name: "terminal"}
    try:
        for camera in spec.cameras:
            maker = makers.get(camera.watches)
            if maker in _WARMED:
                emulated.camera_source(camera).read()
                Classifier(ReferenceSet.load(screens_dir_for(maker, None)))
        # The OCR engine: a line of the first warmed maker's first screen read (its
        # references are kept, not loaded again).
        read_lines(ReferenceSet.load(screens_dir_for(_WARMED[0], None)).get("first").image)
    finally:
        emulated.close()


def _serve(fd: int) -> None:
    control = socket.socket(fileno=fd)
    sys.path[0] = str(ROOT)  # not this file's folder: a command's own is set when it starts
    _preload()
    with contextlib.suppress(Exception):  # a bench that cannot be warmed: commands make it
        _warm()
    # What the zygote holds, out of the collector's sight: a command's collections walked
    # the zygote's every object (and wrote to their pages, copying them from the zygote's):
    # 0.6 to 0.8 s of a forked Canon certification's 5 s (the gc module's pre-fork use).
    gc.collect()
    gc.freeze()
    control.settimeout(1.0)
    while True:
        _reap()
        try:
            message, fds, _flags, _address = socket.recv_fds(control, 1 << 20, 4)
        except TimeoutError:
            continue
        if not message:
            return  # the test worker is gone
        if os.fork() == 0:
            control.close()
            _wait_for(json.loads(message), *fds)
        for received in fds:
            os.close(received)


def _reap() -> None:
    try:
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass
    except ChildProcessError:
        pass


def _wait_for(request: dict[str, Any], stdin: int, stdout: int, stderr: int,
              reply_fd: int) -> None:
    """The waiter: the command forked, its pid and then its exit status sent back."""
    reply = socket.socket(fileno=reply_fd)
    try:
        pid = os.fork()
        if pid == 0:
            reply.close()
            _command(request, stdin, stdout, stderr)
        for received in (stdin, stdout, stderr):
            os.close(received)
        reply.sendall(f"{pid}\n".encode())
        _, status = os.waitpid(pid, 0)
        reply.sendall(f"{os.waitstatus_to_exitcode(status)}\n".encode())
    finally:
        os._exit(0)


def _command(request: dict[str, Any], stdin: int, stdout: int, stderr: int) -> None:
    """The command's process: as ``python -m harness.cli`` would have it, then run."""
    code: Any = 1
    try:
        for received, std in ((stdin, 0), (stdout, 1), (stderr, 2)):
            os.dup2(received, std)
            os.close(received)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        for name in ("SIGTERM", "SIGCHLD", "SIGHUP", "SIGQUIT"):
            signal.signal(getattr(signal, name), signal.SIG_DFL)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        how, what, *args = request["args"]
        if how == "-m":  # as -m runs it: the folder first on the path, argv[0] its file
            sys.path[0] = request["cwd"]
            sys.argv = [what, *args]
            # Run anew, as the module a fresh interpreter has not imported yet (runpy warns
            # of one already imported, and its import-time work is part of the command).
            sys.modules.pop(what, None)
            runpy.run_module(what, run_name="__main__", alter_sys=True)
        else:
            sys.path[0] = ""
            sys.argv = ["-c", *args]
            exec(compile(what, "<string>", "exec"), {"__name__": "__main__",  # noqa: S102
                                                     "__builtins__": builtins})
        code = 0
    except SystemExit as exc:
        code = exc.code
    except KeyboardInterrupt as exc:  # as the interpreter ends on one: said, killed by SIGINT
        _print_exception(exc)
        _shutdown(0)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
    except BaseException as exc:  # noqa: BLE001 - as the interpreter would: said, exit 1
        _print_exception(exc)
        code = 1
    finally:
        os._exit(_shutdown(code))


def _print_exception(exc: BaseException) -> None:
    """The traceback from the command's own code on (not this file's frames)."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
        tb = tb.tb_next
    traceback.print_exception(type(exc), exc, tb)


def _shutdown(code: Any) -> int:
    """The interpreter's own end: threads joined, atexit's functions, streams flushed; the
    exit status as ``sys.exit(code)`` gives it."""
    if code is None:
        code = 0
    elif not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    with contextlib.suppress(Exception):
        threading._shutdown()  # type: ignore[attr-defined]
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            code = code or 120  # as Python exits when its stdout cannot be flushed
    return code & 0xFF


if __name__ == "__main__":
    _serve(int(sys.argv[1]))
