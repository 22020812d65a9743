"""``certify --resume --out DIR``: finish an earlier run in its own folder.

The folder's run goes on under its run id. The tests it decided (passed or failed) are kept
as they were; the others run again: not run (the run was interrupted, killed, or a worker
died), skipped, or stopped by a bench fault. Refused before any work when what would run is
not what ran: another bench file (by its SHA-256), other profiles, another rig version or
other code (the harness and suites, by SHA-256), other makers, files changed since the run
sealed them (``manifest.sha256``); or when the folder's run is still going, or the folder
holds no run.

The earlier run's own files (``junit.xml``, ``timeline.jsonl``, ``devices.json``,
``evidence/``, ``worker-*/``) move to ``earlier-N/``: the kept verdicts' pictures and
timelines are drawn from there; allure's results stay and gain the new attempts.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import os
import signal
from pathlib import Path
from typing import Any

import attrs

from harness.errors import BadInput, RigError
from harness.loading import MAX_REPORT_BYTES, bounded_bytes, json_loads
from harness.model.bench_spec import BenchSpec
from harness.report.certification import TestRecord, bench_loads
from harness.report.device_identity import IDENTITIES_KEY, identities_of
from harness.report.devices import DEVICES_FILE, load_devices
from harness.report.junit import JUNIT_FILE
from harness.report.live import (
    REPORT_FILE,
    RUN_FILE,
    boot_mark,
    discard_staged,
    json_bytes,
    replace_staged,
    stage_files,
)
from harness.report.manifest import MANIFEST_FILE, require_sealed
from harness.report.stored import check_records, check_report

#: A test with one of these outcomes is decided: kept as it was.
DECIDED = ("passed", "failed")
#: The earlier run's files that belong to its tests (moved aside, not overwritten).
RUN_FILES = (JUNIT_FILE, "timeline.jsonl", DEVICES_FILE, "evidence")
#: ... and its workers' folders (``part-N``: an older rig's parts).
WORKER_FOLDERS = ("worker-", "part-")


@attrs.frozen
class Resume:
    run_id: str
    #: The decided tests, by node id, their evidence folder pointed at ``earlier-N``.
    kept: dict[str, TestRecord]
    #: The makers the earlier run certified (``--vendor`` keys).
    makers: set[str]
    #: The folder's resumptions so far, this one last (the report's ``resumes``).
    resumes: list[dict[str, Any]]
    #: The folder's lock, held while the run goes (:func:`_claim`; let go as it exits).
    held: int = -1
    #: The pytest options of the run that made the folder (its report's ``pytest_args``).
    first_args: list[str] | None = None
    #: The device identities the kept verdicts were made on (device_identity).
    devices: dict[str, dict[str, Any]] | None = None
    #: The stopping signals held since the folder changed (:class:`_HeldSignals`), until
    #: the run's first report is written and its stop handling is in place
    #: (:meth:`let_signals_go`): a signal in between would leave a "running" report with
    #: no seal, not the interrupted run's.
    signals: _HeldSignals | None = None

    def let_signals_go(self) -> None:
        """The held signals delivered (once; again does nothing)."""
        if self.signals is not None:
            self.signals.release()


def resume_folder(out: Path, bench_path: Path, spec: BenchSpec, rig: dict[str, Any],
                  only: set[str] | None, pytest_args: list[str] | None = None) -> Resume:
    """Check that ``out`` holds a run this one may finish, then set it up for it
    (``pytest_args``: this resumption's, recorded in its ``resumes`` entry)."""
    what = f"--resume {out}"
    held = _claim(out, what)
    try:
        return _resume(out, what, bench_path, spec, rig, only, held, pytest_args or [])
    except BaseException:
        os.close(held)
        raise


def _claim(out: Path, what: str) -> int:
    """The folder taken by this process for its resume, before anything is read or moved:
    a lock on the folder itself, held while the run goes and let go when the process ends
    however it ends (a kill leaves nothing stale). Of two resumes started together one
    only goes on; the other is refused, naming the holder, the folder untouched."""
    try:
        held = os.open(out, os.O_RDONLY | os.O_DIRECTORY)
    except FileNotFoundError:
        raise RigError(f"{what}: no such folder") from None
    except NotADirectoryError:
        raise RigError(f"{what}: a file, not a run folder") from None
    except OSError as exc:
        raise RigError(f"{what}: cannot open it ({exc.strerror})") from None
    try:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(held)
        raise RigError(f"{what}: being resumed by {_holder(out)}; not resumed again") from None
    return held


def _holder(out: Path) -> str:
    """Who resumes ``out``, as its run.json says once that run wrote it."""
    with contextlib.suppress(OSError, ValueError, AttributeError, IndexError, TypeError):
        marker = json_loads((out / RUN_FILE).read_text("utf-8"))
        pid = marker.get("pid")
        if pid != os.getpid() and marker.get("resumed") \
                and alive(pid, run_started(marker), marker.get("boot")):
            return f"process {pid} since {marker['resumed'][-1]}"
    return "another process"


def _resume(out: Path, what: str, bench_path: Path, spec: BenchSpec, rig: dict[str, Any],
            only: set[str] | None, held: int, pytest_args: list[str]) -> Resume:
    report, marker = _read(out / REPORT_FILE, what), _read(out / RUN_FILE, what)
    run_id = report.get("run")
    if not isinstance(run_id, str) or run_id != marker.get("run"):
        raise RigError(f"{what}: its report and run.json name different runs; not resumed")
    if report.get("state") == "running" and alive(marker.get("pid"), run_started(marker),
                                                   marker.get("boot")):
        raise RigError(f"{what}: run {run_id} is still going (process {marker['pid']}, "
                       f"started before its run.json's {run_started(marker)})")
    if not isinstance(report.get("tests"), dict):
        raise RigError(f"{what}: its report lists no tests (written by an older rig); "
                       "certify again into a new folder")
    if (out / MANIFEST_FILE).is_file():
        # A run that sealed itself (interrupted, or finished) and was changed since is not
        # the run that made it.
        require_sealed(out, "resuming it")
    elif report.get("state") != "running":
        # Only a run killed before it sealed lacks one; a run that ended sealed itself, and
        # a seal taken away would have the edited files sealed again as this run's.
        raise RigError(f"{what}: no {MANIFEST_FILE}, though its report says the run ended "
                       f"({report.get('state')}): its files cannot be checked; not resumed")
    _check_kept(out, report, marker)  # all before anything of the folder is moved
    problems = []
    sha = hashlib.sha256(bench_path.read_bytes()).hexdigest()
    if report["bench"]["sha256"] != sha:
        named = report["bench"].get("file")
        other = (f" (the run was of {named}: give --bench {named})"
                 if isinstance(named, str) and Path(named) != bench_path else "")
        problems.append(f"the bench file {bench_path.name} changed (or is another one)"
                        + other)
    else:
        problems += loads_changed(report["bench"].get("loads"), bench_loads(bench_path, spec))
    if report["bench"].get("changed"):  # its decided tests may have run on either file
        problems.append(f"{report['bench']['changed']}; certify again into a new folder")
    ran = report["rig"]
    if ran.get("version") != rig.get("version"):
        problems.append(f"rig version {ran.get('version')} then, {rig.get('version')} now")
    if ran.get("code_sha256") != rig.get("code_sha256"):
        problems.append("the rig's code changed (its harness and suites)")
    if ran["profiles"].get("sha256") != rig["profiles"]["sha256"]:
        problems.append("the vendor profiles changed")
    elif ran["profiles"].get("scenarios") != rig["profiles"]["scenarios"]:
        problems.append("the network scenarios the profiles replay changed")
    makers = set(report["makers"])
    if only is not None and only != makers:
        problems.append(f"--vendor {', '.join(sorted(only))}, but it certified "
                        f"{', '.join(sorted(makers))}")
    else:
        # The screens now are those of the makers asked for: with others asked, the run's
        # would all seem changed (they were not: K2-4); the makers' mismatch says it.
        problems += screens_changed(ran.get("screens"), rig.get("screens") or {})
    devices = report.get(IDENTITIES_KEY)
    if not isinstance(devices, dict):
        devices = identities_of(load_devices(out))
    decided = any(isinstance(d, dict) and d.get("outcome") in DECIDED
                  for d in report["tests"].values())
    if devices is None and decided:
        # Kept verdicts on devices not known could be another unit's (hunt R6).
        problems.append(f"the devices it was made on are not known (its {DEVICES_FILE} is "
                        "missing or its scan failed)")
    if problems:
        raise RigError(f"{what}: not the run that made it: " + "; ".join(problems))
    earlier = _earlier_name(out)
    for data in report["tests"].values():
        folder = data.get("folder") or ""
        data["folder"] = folder if folder.startswith("earlier-") else \
            f"{earlier}/{folder}" if folder else earlier
    kept = {nodeid: TestRecord.from_json(nodeid, data)
            for nodeid, data in report["tests"].items()
            if data.get("outcome") in DECIDED}
    now = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    # Each resumption's own pytest options, the first run's staying the report's own
    # ``pytest_args``: which selection decided which tests stays said (K2-5).
    resumes = [*report.get("resumes", []),
               {"at": now, "kept": len(kept), "earlier": earlier,
                **({"pytest_args": pytest_args} if pytest_args else {})}]
    # "running" (this run's, from now): stopped before its first report, the folder has no
    # seal, as a killed run's.
    files = {out / REPORT_FILE: json_bytes({**report, "resumes": resumes,
                                            "state": "running"}),
             out / RUN_FILE: json_bytes({**marker, "pid": os.getpid(), **boot_mark(),
                                         "resumed": [*marker.get("resumed", []), now]})}
    # The folder changes from here, as one step a signal cannot cut in two (it is held
    # until the run's first report is written, its stop handling in place: then it stops
    # the run as any stop does, the report finished and sealed): the old seal goes (it
    # would no longer hold, and would refuse the resume of a resume stopped), the earlier
    # files move aside, and the report says where they went, every decided record in it.
    # A step that fails (a full disk, a read-only one) puts the folder back as it was,
    # still sealed and resumable.
    signals = _HeldSignals()
    try:
        _change_folder(out, earlier, files)
    except OSError as exc:
        signals.release()
        raise RigError(f"{what}: cannot resume: {exc.strerror or exc}; the folder is as "
                       "it was") from None
    except BaseException:
        signals.release()
        raise
    first = report.get("pytest_args")
    return Resume(run_id, kept, makers, resumes, held,
                  first if isinstance(first, list) else None, devices, signals)


def _change_folder(out: Path, earlier: str, files: dict[Path, bytes]) -> None:
    """The earlier run's files moved to ``earlier``, the seal taken away, ``files``
    replaced; on an OSError, every step undone. The new files are written first (what a
    full disk refuses), then only renames, which need no space."""
    staged = stage_files(files)
    seal, held = out / MANIFEST_FILE, out / f".{MANIFEST_FILE}.{os.getpid()}.held"
    moved: list[tuple[Path, Path]] = []
    try:
        (out / earlier).mkdir()
        if seal.exists():
            os.replace(seal, held)
        for path in _earlier_files(out):
            os.rename(path, out / earlier / path.name)
            moved.append((path, out / earlier / path.name))
        replace_staged(staged)
    except OSError:
        for path, there in reversed(moved):
            with contextlib.suppress(OSError):
                os.rename(there, path)
        with contextlib.suppress(OSError):
            (out / earlier).rmdir()
        with contextlib.suppress(OSError):
            if held.exists():
                os.replace(held, seal)
        discard_staged(staged)
        raise
    held.unlink(missing_ok=True)


class _HeldSignals:
    """SIGINT, SIGTERM and SIGHUP held back from now until :meth:`release` (then delivered)."""

    def __init__(self) -> None:
        self._before: set[signal.Signals] | None = signal.pthread_sigmask(
            signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM, signal.SIGHUP})

    def release(self) -> None:
        if self._before is not None:
            before, self._before = self._before, None
            signal.pthread_sigmask(signal.SIG_SETMASK, before)


def loads_changed(then: object, now: dict[str, str]) -> list[str]:
    """What changed of the files the bench file is made of or names (a base file, a twin):
    the same top file over other files is another bench, its kept verdicts not this one's."""
    if not isinstance(then, dict):
        return ["its report does not record the files the bench loads (an older rig)"]
    changed = sorted(name for name in {*then, *now} if then.get(name) != now.get(name))
    if not changed:
        return []
    shown = ", ".join(changed[:4]) + (", ..." if len(changed) > 4 else "")
    return [f"the files the bench file loads changed ({shown})"]


def screens_changed(then: object, now: dict[str, Any]) -> list[str]:
    """The makers whose reference screens (certify's ``rig.screens``) differ from those
    that judged the kept verdicts: a verdict holds for the screens it was judged by."""
    if not isinstance(then, dict):
        return ["its report does not record the reference screens that judged it "
                "(an older rig)"]

    def sha(entry: object) -> object:
        return entry.get("sha256") if isinstance(entry, dict) else None

    changed = sorted(key for key in then if sha(then[key]) is None
                     or sha(then[key]) != sha(now.get(key)))
    return [f"the reference screens of {', '.join(changed)} changed"] if changed else []


def _check_kept(out: Path, report: dict[str, Any], marker: dict[str, Any]) -> None:
    """What the resume reads of the report (report render's checks, its rig and each kept
    test's record) and of run.json, as BadInput naming the file and the field."""
    path = out / REPORT_FILE
    check_report(path, report)
    rig = report.get("rig")
    if not isinstance(rig, dict):
        raise BadInput(str(path), None, "rig", "missing or not an object")
    if not isinstance(rig.get("profiles"), dict):
        raise BadInput(str(path), None, "rig.profiles", "missing or not an object")
    if not isinstance(report.get("resumes", []), list):
        raise BadInput(str(path), None, "resumes", "not a list")
    if not isinstance(marker.get("resumed", []), list):
        raise BadInput(str(out / RUN_FILE), None, "resumed", "not a list")
    check_records(path, report["tests"], DECIDED)


def _read(path: Path, what: str) -> dict[str, Any]:
    try:
        value = json_loads(bounded_bytes(path, MAX_REPORT_BYTES).decode("utf-8"))
    except FileNotFoundError:
        raise RigError(f"{what}: no {path.name} there: not a run folder") from None
    except (OSError, ValueError) as exc:
        raise RigError(f"{what}: {path.name} cannot be read ({exc})") from None
    if not isinstance(value, dict):
        raise RigError(f"{what}: {path.name} is not a run's file")
    return value


def alive(pid: object, started: object = None, boot: object = None) -> bool:
    """Whether process ``pid`` (a run.json's) is still there and is that run's: one that
    started after the run did (``started``, run.json's time) holds a pid used again (a
    reboot after a power cut, the pid now a daemon's), not the run, which is then dead and
    may be resumed. Without a time, or /proc, the pid alone says."""
    if not isinstance(pid, int) or pid <= 0:
        return False
    if isinstance(boot, str) and boot_mark().get("boot", boot) != boot:
        return False  # a process of an earlier boot is gone whatever holds its pid now
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    since = _process_start(pid)
    if since is None or not isinstance(started, str):
        return True
    try:
        then = dt.datetime.fromisoformat(started)
    except ValueError:
        return True
    if then.tzinfo is None:
        return True
    # run.json's time is taken after the process started, to the second (rounded down).
    return since <= then.timestamp() + START_SLACK_S


#: Seconds a run's process may seem to have started after its run.json's time (that time
#: rounded down to the second, the process's start to a clock tick).
START_SLACK_S = 2.0


def _process_start(pid: int) -> float | None:
    """When process ``pid`` started (seconds since the epoch), from /proc; None if unread."""
    try:
        stat_line = Path(f"/proc/{pid}/stat").read_text("ascii", "replace")
        ticks = int(stat_line[stat_line.rindex(")") + 2:].split()[19])
        boot = next(int(line.split()[1]) for line in
                    Path("/proc/stat").read_text("ascii", "replace").splitlines()
                    if line.startswith("btime "))
        return boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def run_started(marker: dict[str, Any]) -> object:
    """When run.json's process took the run: its last resume's time, else the start."""
    resumed = marker.get("resumed")
    if isinstance(resumed, list) and resumed:
        return resumed[-1]
    return marker.get("started")


def _earlier_name(out: Path) -> str:
    """The name of the ``earlier-N`` the earlier run's files move to: the first free."""
    n = 1
    while (out / f"earlier-{n}").exists():
        n += 1
    return f"earlier-{n}"


def _earlier_files(out: Path) -> list[Path]:
    """The earlier run's own files, to be set aside (the report and allure's stay)."""
    return [path for path in sorted(out.iterdir()) if path.name in RUN_FILES
            or (path.is_dir() and path.name.startswith(WORKER_FOLDERS))]
