"""A certification spread over pytest-xdist workers (``certify --jobs N``, N > 1).

One pytest run: the certify process is xdist's controller, which runs no test itself but
gets every test's report, so the certification collector, the live report, the console,
JUnit and allure all see one run. Each worker is a pytest process with its own emulated
bench (the session's fixtures are per process) and its own folder in the run folder,
``worker-<id>/`` (``worker-gw0``), for what its bench wrote: ``timeline.jsonl``,
``evidence/``, ``devices.json``, and ``collected.json``, the tests it collected with their
requirements and makers (the controller's collector reads it: it collects nothing itself).
A test's record names the worker folder it ran in (``folder``), so the reports find its
evidence.

A maker's tests run on one worker (:class:`MakerScheduling`): the makers' twins keep their
state from test to test as a real reader does. The makers are planned over the workers by
their cost (harness.report.plan: the seconds an earlier run of the bench measured, else
their numbers of requirements), each worker taking its own largest first, and a worker
that is done takes a maker not started yet from another's plan.

Fail closed: a worker that dies fails the test it was running (xdist's report: "worker
'gw0' crashed while running ..."), which is not run again on another worker (it would kill
that one too); its other tests are, on a replacement; and the run ends as an error (exit
2). A signal to certify is passed on to the workers (SIGINT: each ends its test, tears its
bench down and stops; each runs in a session of its own, so a Ctrl-C at the terminal
reaches them once, through certify; none is replaced), which are killed if they have not
stopped a minute later.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from harness.loading import json_loads

if TYPE_CHECKING:
    from harness.report.certification import CertificationCollector
    from harness.report.progress import Progress
    from harness.report.stop import Stop

#: What a worker collected (its folder's), for the controller.
COLLECTED_FILE = "collected.json"
#: A stopped worker still running this long after the signal is killed.
STOP_GRACE_S = 60.0


def worker_folder(worker_id: str) -> str:
    """The run folder's folder of worker ``worker_id`` (xdist's ``gw0``, ``gw1``...; a
    worker replacing a dead one gets a new id, so a new folder)."""
    return f"worker-{worker_id}"


def xdist_available() -> bool:
    try:
        import xdist  # noqa: F401
    except ImportError:
        return False
    return True


def xdist_args(out: Path, jobs: int, makers: set[str] | None) -> list[str]:
    """The options that make certify's pytest run a controller of ``jobs`` workers."""
    return ["-p", "xdist", "-p", "harness.report.workers", "-n", str(jobs),
            # A dead worker is replaced (at most once per worker): its other tests still run.
            f"--max-worker-restart={jobs}", f"--certify-run={out}",
            *([f"--certify-makers={','.join(sorted(makers))}"] if makers else [])]


# --- in each worker: loaded with ``-p harness.report.workers`` --------------------------------

def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("onshi-rig certify")
    group.addoption("--certify-run", metavar="DIR", default=None, help=argparse.SUPPRESS)
    group.addoption("--certify-makers", metavar="KEYS", default=None, help=argparse.SUPPRESS)


def pytest_configure(config: pytest.Config) -> None:
    """In a worker of a certification: its folder, its bench's files there, the collector
    that records what it collected, the recorder of its bench's devices, and signals that
    stop it once."""
    run = config.getoption("--certify-run", None)
    workerinput = getattr(config, "workerinput", None)
    if run is None or workerinput is None:
        return
    from harness.bench import check_bench_file
    from harness.report.certification import CertificationCollector
    from harness.report.devices import DEVICES_FILE, DeviceRecorder
    from harness.report.stop import interrupt_once

    folder = Path(run) / worker_folder(workerinput["workerid"])
    folder.mkdir(parents=True, exist_ok=True)
    config.option.timeline = str(folder / "timeline.jsonl")
    if config.option.evidence:
        config.option.evidence = str(folder / "evidence")
    makers = config.getoption("--certify-makers")
    spec = check_bench_file(Path(config.getoption("--bench")))
    collector = CertificationCollector(spec, set(makers.split(",")) if makers else None,
                                       written=folder / COLLECTED_FILE)
    config.pluginmanager.register(collector, "onshi_rig_certification")
    config.pluginmanager.register(DeviceRecorder(folder / DEVICES_FILE), "onshi_rig_devices")
    interrupt_once()
    _share_cores(int(workerinput.get("workercount", 1)))
    # A session of its own, as each process of the run had before xdist: the kernel shares
    # the CPU between sessions (autogroups), so on a machine others use, workers that shared
    # certify's session got less of it than separate processes (measured: 26-44 % more wall
    # time beside a run of the old rig). A Ctrl-C at the terminal reaches them through
    # certify (Controller.stop_workers).
    with contextlib.suppress(OSError, AttributeError):
        os.setsid()


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _share_cores(workers: int) -> None:
    """OpenCV's thread pool sized to this worker's share of the cores: the workers already
    keep every core busy, and a pool per worker only made them contend (its threads wait
    spinning; measured on 2 cores: 1.5 to 3 s less wall time and a third less system time
    for a certification with one thread each)."""
    import cv2

    cv2.setNumThreads(max(1, _cores() // max(1, workers)))


@contextlib.contextmanager
def workers_environment(jobs: int) -> Iterator[None]:
    """The environment the workers start with: OpenBLAS's threads (numpy's) to each
    worker's share of the cores, as for OpenCV's above. OpenBLAS reads it once, when numpy
    loads, so only the environment can say it."""
    name = "OPENBLAS_NUM_THREADS"
    # OpenBLAS takes the first of these that is set: the user's own stays.
    ours = not any(os.environ.get(n) for n in (name, "GOTO_NUM_THREADS", "OMP_NUM_THREADS"))
    if ours:
        os.environ[name] = str(max(1, _cores() // max(1, jobs)))
    try:
        yield
    finally:
        if ours:
            os.environ.pop(name, None)


# --- in the certify process: xdist's controller -----------------------------------------------

def _scheduling() -> type:
    from xdist.scheduler import LoadScopeScheduling

    class MakerScheduling(LoadScopeScheduling):
        """xdist's scope scheduling with a maker as the scope, the costliest first, and a
        test whose worker died not run again."""

        def __init__(self, config: pytest.Config, log: Any, run: Controller) -> None:
            super().__init__(config, log)
            self._run = run
            self._slots: dict[Any, int] = {}

        def _split_scope(self, nodeid: str) -> str:
            return self._run.scope_of(nodeid)

        def _assign_work_unit(self, node: Any) -> None:
            # The next maker of this worker's plan; none left: one not started of another's
            # (a replacement for a dead worker has no plan of its own).
            slot = self._slots.setdefault(node, len(self._slots))
            planned = self._run.plan(list(self.workqueue), len(self.nodes))
            scope = next((s for s in planned if planned[s] == slot), next(iter(planned)))
            self.workqueue.move_to_end(scope, last=False)
            super()._assign_work_unit(node)

        def remove_node(self, node: Any) -> str | None:
            crashed = next((nodeid for unit in self.assigned_work.get(node, {}).values()
                            for nodeid, done in unit.items() if not done), None)
            if self._run.stopping:
                # A worker stopped by the run's signal ends its test unreported (not run,
                # interrupted), not crashed.
                crashed = None
            elif crashed is not None:  # reported failed by xdist; the rest goes elsewhere
                for unit in self.assigned_work[node].values():
                    if crashed in unit:
                        unit[crashed] = True
            super().remove_node(node)
            return crashed

    return MakerScheduling


class Controller:
    """The certify process's side of an xdist run: the workers' collections into the
    collector and the console, the makers' scheduling, the workers that died, and the
    stop passed on to the workers."""

    def __init__(self, out: Path, collector: CertificationCollector, progress: Progress,
                 costs: dict[str, float]) -> None:
        self.out = out
        self.collector = collector
        self.progress = progress
        #: Maker -> its cost: seconds measured in an earlier run, or its number of
        #: requirements (harness.report.plan).
        self.costs = costs
        self._plan: dict[str, int] | None = None
        #: Workers that died: "gw0: why".
        self.died: list[str] = []
        #: Workers that went down on the run's signal before they could end their session
        #: ("gw0: keyboard-interrupted", "gw1: Not properly terminated"): the interruption.
        self.interrupted: list[str] = []
        #: Why the run's workers were told to stop, when it was not a signal (``-x``).
        self.stopped_because = ""
        #: A signal came: the workers were told to stop.
        self.stopping = False
        #: Workers that said what they collected: until one has, none has run a test
        #: (xdist schedules once all have) nor opened the bench.
        self.collections = 0
        self._scopes: dict[str, str] = {}
        self._config: pytest.Config | None = None

    def pytest_configure(self, config: pytest.Config) -> None:
        self._config = config

    # The scheduler of this run, not the checkout's own (its conftest.py has one).
    @pytest.hookimpl(tryfirst=True)
    def pytest_xdist_make_scheduler(self, config: pytest.Config, log: Any) -> Any:
        return _scheduling()(config, log, self)

    def scope_of(self, nodeid: str) -> str:
        return self._scopes.get(nodeid, "")

    def plan(self, scopes: list[str], workers: int) -> dict[str, int]:
        """Scope (maker) -> the worker slot planned for it (harness.report.plan.split),
        the largest first, in the order each worker takes them (made once, from the first
        scopes to hand out)."""
        from harness.report.plan import split

        if self._plan is None:
            self._plan = split({s: float(self.costs.get(s, 0)) for s in scopes}, workers)
        return {s: self._plan.get(s, -1) for s in sorted(
            scopes, key=lambda s: (-self.costs.get(s, 0), s))}

    @pytest.hookimpl(tryfirst=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        self.collections += 1
        if self.collector.collected or self.stopping:
            # Every worker collects the same tests (xdist checks): the first says. One
            # stopped by the run's signal may have stopped collecting part way.
            return
        worker = node.gateway.id
        path = self.out / worker_folder(worker) / COLLECTED_FILE
        try:
            tests = json_loads(path.read_text("utf-8"))["tests"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            self.died.append(f"{worker}: its collection could not be read ({exc})")
            return
        self.collector.load_collection(tests)
        for nodeid in ids:
            self._scopes[nodeid] = (tests.get(nodeid, {}).get("makers") or ["-"])[0]
        self.progress.collected(len(ids))

    def pytest_testnodedown(self, node: Any, error: object | None) -> None:
        if error is None or error == "keyboard-interrupt":
            return
        if self.stopping and _stopped_by_signal(error):
            # The run's own signal, passed on while the worker was still starting: it went
            # down interrupted (or before it could say so), not of a fault of its own.
            self.interrupted.append(f"{node.gateway.id}: {error}")
            return
        self.died.append(f"{node.gateway.id}: {error}")

    def pytest_internalerror(self, excrepr: object, excinfo: pytest.ExceptionInfo[BaseException]
                             ) -> bool | None:
        """A worker the run's signal stopped while xdist still bootstrapped it: xdist's read
        of it meets the end of its pipe (its write, a broken one). That is the interruption
        (certify says so), not a traceback; any other internal error is pytest's to print."""
        if self.stopping and isinstance(excinfo.value,
                                        EOFError | ConnectionError | KeyboardInterrupt):
            self.interrupted.append(f"a worker starting: {excinfo.value}")
            return True
        return None

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        dsession = session.config.pluginmanager.get_plugin("dsession")
        self.stopped_because = str(getattr(dsession, "shouldstop", "") or "")


    def stop_workers(self, stop: Stop) -> None:
        """The signal handler's action (harness.report.stop): SIGINT to this process's
        children, the workers (each ends its test, tears its bench down and stops), and
        the run stopped from here if they have not stopped a minute later (or at once
        when there are none yet)."""
        self.stopping = True
        # xdist replaces a worker that stopped on KeyboardInterrupt, as one that died:
        # not while the run stops (its own limit, read as each worker goes down).
        dsession = self._config.pluginmanager.get_plugin("dsession") if self._config else None
        if dsession is not None:
            dsession._max_worker_restart = 0
        children = _children()
        if not children:
            raise KeyboardInterrupt
        # A worker still starting has nothing to tear down, and a SIGINT in its Python's
        # own start-up prints a fatal error: it is ended at once.
        sig = signal.SIGINT if self.collections else signal.SIGKILL
        for pid in children:
            with contextlib.suppress(OSError):
                os.kill(pid, sig)
        timer = threading.Timer(STOP_GRACE_S, _kill_children)
        timer.daemon = True
        timer.start()


#: How xdist says a worker went down that a SIGINT stopped: it raised KeyboardInterrupt
#: (its error names it), or its channel closed before it reported (execnet's words).
_INTERRUPTED_DOWN = ("keyboard-interrupt", "keyboardinterrupt", "not properly terminated")


def _stopped_by_signal(error: object) -> bool:
    text = str(error).lower()
    return any(words in text for words in _INTERRUPTED_DOWN)


def _kill_children() -> None:
    """Workers still running a minute after the stop: killed (xdist then ends the run)."""
    for pid in _children():
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def _children() -> list[int]:
    """This process's child processes (Linux /proc; elsewhere none are known)."""
    me, pids = os.getpid(), []
    with contextlib.suppress(OSError):
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError, ValueError, IndexError):
                # The parent's pid is the 2nd field after the command's ")".
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == me:
                    pids.append(int(entry.name))
    return pids
