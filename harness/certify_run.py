"""``onshi-rig certify``: the suites run on a bench into a run folder of its own, the report
written as the run goes and finished however it ends (harness/cli.py parses the command).

One pytest run, in this process: with ``--jobs 1`` (and always on a real bench, on vpcd, or
for ``--resume``) the tests run here; with ``--jobs N`` on an emulated bench they run on N
pytest-xdist workers, each with its own emulated bench, a maker's tests on one worker, and
this process is xdist's controller (harness/report/workers.py). Either way the certification
collector, the console, JUnit and allure see one run.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import signal
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.cli import EXIT_BENCH_FAULT, EXIT_OK, EXIT_VIOLATION
from harness.errors import BadInput, RigError
from harness.loading import json_loads

if TYPE_CHECKING:
    import pytest

    from harness.model.bench_spec import BenchSpec
    from harness.model.profiles import ProfileSet
    from harness.report.live import LiveReport
    from harness.report.progress import Progress
    from harness.report.resume import Resume


def certify(args: argparse.Namespace) -> int:
    """``onshi-rig certify``: check what was asked, claim (or resume) the run folder, run."""
    from harness.bench import check_bench_file, default_bench_path
    from harness.model.profiles import ProfileSet, default_profiles_dir
    from harness.paths import reports_dir, resolved
    from harness.report.certification import applicable, bench_info
    from harness.report.console import guard_streams
    from harness.report.live import claim_folder, unique_folder
    from harness.report.manifest import not_inside_another_run, outside_sealed_runs
    from harness.report.resume import resume_folder
    from harness.scan import check_makers

    # `certify | head -1`: a closed stdout never stops the run.
    guard_streams()
    pytest_args = _pytest_args(args)
    _plan_alone(args)
    # A link loop is bad input naming the path, not pathlib's RuntimeError.
    path = resolved(args.bench or _resumed_bench(args) or default_bench_path())
    spec = check_bench_file(path)
    # The bench as the tests load it, taken once: every report names these bytes, and a
    # file edited while the run goes is found against them (_bench_change).
    bench = bench_info(path, spec)
    profiles_dir = resolved(Path(args.profiles or default_profiles_dir()))
    profiles = ProfileSet.load(profiles_dir)
    check_makers(path, spec, profiles, profiles_dir)
    only = set(args.vendor) or None
    _check_screens(spec, only)
    _check_real_bench(path, spec, only)
    _check_faults(path, spec, profiles_dir, only, pytest_args)
    if only:
        on_bench = {r.maker for r in spec.readers if r.kind == "face_auth_reader"}
        if any(r.kind == "general_reader" for r in spec.readers):
            on_bench.add("general_readers")
        missing = sorted(only - on_bench)
        if missing:
            raise RigError(f"--vendor {', '.join(missing)}: no such maker's reader on "
                           f"{path.name} (it has: {', '.join(sorted(on_bench))})")
    if not applicable(profiles, spec, only):  # a pass would certify nothing
        raise RigError(f"{path}: no reader whose maker has a profile to certify (its readers: "
                       f"{', '.join(r.name for r in spec.readers) or 'none'})")
    if args.plan:
        return _certification_plan(path, spec, profiles, profiles_dir, only, pytest_args)
    compared_with = _earlier_run(args.compared_with)
    # The folder is this run's before any work: a file, an unwritable or a used folder is
    # refused (runs never mix), and the default one is new even for runs started together.
    run_id = uuid.uuid4().hex
    resumed = None
    if args.resume:
        # The folder's run goes on: its decided tests kept, the rest run again, as one job.
        if args.out is None:
            raise RigError("--resume: give --out, the folder of the run to finish")
        out = args.out.resolve()
        not_inside_another_run("--resume --out", args.out, "resume the bench's own run "
                               "folder, or a copy of it outside")
        if compared_with == out:  # a run compared with itself says nothing
            raise RigError(f"--compared-with {args.compared_with}: the folder being resumed; "
                           "give an earlier run's")
        resumed = resume_folder(out, path, spec, _rig(profiles_dir, spec, only), only,
                                pytest_args)
        run_id, only = resumed.run_id, resumed.makers
    else:
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        out = (args.out or unique_folder(reports_dir(), f"certify-{stamp}")).resolve()
        outside_sealed_runs("--out", out, "folder")  # a run's files inside another's
        claim_folder(out, run_id)
    keys = sorted(only or applicable(profiles, spec))
    setup = Setup(path, spec, profiles, profiles_dir, only, out, run_id, resumed, pytest_args)
    setup.bench = bench
    setup.compared_with = compared_with
    try:
        return _run(args, setup, _jobs(args.jobs, spec, keys, resumed))
    except OSError as exc:  # the run folder's disk full (or gone): said in one line
        raise _unwritable(setup, exc) from None
    finally:
        if resumed is None:
            _unclaim_if_unused(out, run_id)
        else:  # a run that never wrote its first report: the held signals come now
            resumed.let_signals_go()


def _resumed_bench(args: argparse.Namespace) -> Path | None:
    """``--resume --out DIR`` with no ``--bench`` (and none in onshi-rig.toml): the bench
    the run being resumed was of, as its report names it (the emulated bench was taken,
    and the resume refused as "emulated.yaml changed": K2-17); None to take the default
    (no report to read, or its bench gone: the resume says why)."""
    from harness.config import lab_config
    from harness.loading import MAX_REPORT_BYTES, bounded_bytes
    from harness.report.live import REPORT_FILE

    if not args.resume or args.out is None or lab_config().bench is not None:
        return None
    try:
        report = json_loads(bounded_bytes(args.out / REPORT_FILE, MAX_REPORT_BYTES))
        named = report["bench"]["file"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not isinstance(named, str) or not named:
        return None
    bench = Path(named)
    # Gone (or moved): the default, which the resume then says is not the run's bench,
    # naming the run's (and every other problem of the folder, unhidden).
    return bench if bench.is_file() else None


def _check_screens(spec: BenchSpec, only: set[str] | None) -> None:
    """The reference screens of every watched reader to certify (and of the terminal, if
    watched) are there and whole before anything runs: a lab's screens folder missing a
    maker, or a broken ``screens.yaml`` in it, is the lab's to mend, not every vision test
    of the maker failing against its reader."""
    from harness.vision.reference import read_index, screens_dir_for

    for key in _screens_keys(spec, only):
        read_index(screens_dir_for(key))


def _screens_keys(spec: BenchSpec, only: set[str] | None) -> list[str]:
    """The reference screens a run of ``only`` (None: every maker) on ``spec`` judges by:
    its watched readers' makers', and the terminal's if it is watched."""
    watched = {c.watches for c in spec.cameras}
    keys = sorted({r.maker for r in spec.readers if r.kind == "face_auth_reader"
                   and r.name in watched and (only is None or r.maker in only)})
    if spec.terminal.name in watched:
        keys.append("terminal")
    return keys


def _rig(profiles_dir: Path, spec: BenchSpec, only: set[str] | None) -> dict[str, Any]:
    """What produced the run (harness/report/provenance.py) and the reference screens that
    judge it, each maker's folder by its digest: a verdict holds for the screens it was
    judged by (``--resume`` refuses others; diff and merge compare them)."""
    from harness.report.provenance import provenance, screens_provenance
    from harness.vision.reference import screens_dir_for

    return {**provenance(profiles_dir),
            "screens": screens_provenance({key: screens_dir_for(key)
                                           for key in _screens_keys(spec, only)})}


def _bench_change(setup: Setup) -> str | None:
    """How the bench file (or a file it loads) on disk differs from the one the run began
    with; None when it does not. Kept once found: an edit undone later still leaves tests
    that may have loaded it."""
    import hashlib

    from harness.report.certification import bench_loads
    from harness.report.resume import loads_changed

    if setup.bench_changed is None:
        name, began = setup.path.name, setup.bench["sha256"]
        try:
            now = hashlib.sha256(setup.path.read_bytes()).hexdigest()
        except OSError as exc:
            setup.bench_changed = f"the bench file {name} cannot be read again " \
                                  f"({exc.strerror or exc})"
            return setup.bench_changed
        if now != began:
            setup.bench_changed = (f"the bench file {name} changed during the run (SHA-256 "
                                   f"{began[:12]} when it began, {now[:12]} now)")
        else:
            changed = loads_changed(setup.bench.get("loads"), bench_loads(setup.path,
                                                                          setup.spec))
            setup.bench_changed = "; ".join(changed) + " during the run" if changed else None
    return setup.bench_changed


def _check_faults(path: Path, spec: BenchSpec, profiles_dir: Path, only: set[str] | None,
                  pytest_args: list[str]) -> None:
    """Each of the bench file's ``faults:`` names a test of the suites (its ``during``): one
    that names none (a typo) would never strike, and the run would show nothing of the
    fault the lab asked to see noticed. Against every test the suites hold for this bench,
    whatever ``--vendor`` or ``-k`` leave of them. Each can be injected on this bench (a
    fault the bench cannot take is the bench file's mistake, found here, not a failure of
    the reader it was due in); one whose tests this run leaves out is said (not exercised)."""
    if not spec.faults:
        return
    from harness.loading import field_name, place_of, read_layered_yaml
    from harness.report.certification import DESELECTED, CertificationCollector

    collector = CertificationCollector(spec, None)
    _collect(path, profiles_dir, collector, pytest_args)
    lines = read_layered_yaml(path)[1]
    problems = [BadInput(*place_of(str(path), lines, ("faults", i, "during")),
                         field_name(("faults", i, "during"), lines),
                         f"{fault.during!r} is in no test's id of the suites for this bench "
                         "(e.g. 'canon-E901-02'): the fault would never strike")
                for i, fault in enumerate(spec.faults)
                if not any(fault.during in nodeid for nodeid in collector.tests)]
    problems += [BadInput(*place_of(str(path), lines, ("faults", i, "target")),
                          field_name(("faults", i, "target"), lines), problem)
                 for i, problem in _uninjectable(path, spec)]
    if problems:
        raise BadInput.of(problems)
    for i, fault in enumerate(spec.faults):
        running = [t for n, t in collector.tests.items() if fault.during in n
                   and t.reason != DESELECTED
                   and (only is None or not t.makers or set(t.makers) & only)]
        if not running:
            # Not an error (a shared bench file, a run narrowed on purpose), but never
            # silent: the lab asked to see this fault noticed, and this run will not.
            file, line = place_of(str(path), lines, ("faults", i))
            where = f"{file}:{line or '?'}"
            print(f"warning: {where}: faults[{i}]: {fault.fault} during {fault.during!r} is "
                  "not exercised in this run: --vendor or the pytest options after -- leave "
                  "out every test it names", file=sys.stderr, flush=True)


def _uninjectable(path: Path, spec: BenchSpec) -> list[tuple[int, str]]:
    """(index, why) of each fault whose target this emulated bench cannot take (the part
    is there but of a kind the fault cannot strike), as the injection would refuse it."""
    # (A target of the wrong kind, or none, was refused when the bench file was read.)
    found = [(i, _uninjectable_one(path, spec, fault.fault, fault.struck()))
             for i, fault in enumerate(spec.faults)]
    return [(i, why) for i, why in found if why is not None]


def _uninjectable_one(path: Path, spec: BenchSpec, kind: str, target: str) -> str | None:
    """Why fault ``kind`` cannot strike ``target`` on this bench, or None."""
    if kind == "reader.gone":
        from harness.emulation.bench import load_twins

        pcsc = sorted(n for n, twin in load_twins(spec, path).items()
                      if twin.pcsc is not None and n in {r.name for r in spec.readers})
        if target not in pcsc:
            return (f"reader.gone strikes a PC/SC reader: {target!r} is none (the bench's: "
                    f"{', '.join(pcsc) or 'none'})")
        if spec.pcsc.service != "inprocess":
            return ("reader.gone: the vpcd tier cannot take a reader out of pcscd; the "
                    "bench's pcsc.service must be inprocess")
    elif kind.startswith("robot.") and spec.robot is None:
        return f"{kind} strikes the bench's robot: the bench has none (no robot: block)"
    elif kind == "operator.silent":
        return "operator.silent: an emulated bench has no operator to silence"
    elif kind.startswith("camera."):
        source = next(c.source for c in spec.cameras if c.name == target)
        if source != "emulated":
            return f"{kind}: camera {target!r} is not an emulated camera (source {source!r})"
    elif kind.startswith("relay."):
        inst = next(x for x in spec.instruments if x.name == target)
        if inst.kind == "hid_relay":
            return (f"{kind}: relay {target!r} is a USB HID board: it has no serial line to "
                    "garble or silence")
    return None


def _check_real_bench(path: Path, spec: BenchSpec, only: set[str] | None) -> None:
    """A real bench's relay boards' serial ports and the device files of the cameras this
    run looks through are there before anything runs: an unplugged adapter is the bench's
    to mend (as ``scan`` says), never every test of every maker failing on it."""
    if spec.kind == "emulated":
        return
    from harness.loading import field_name, place_of, read_layered_yaml

    lines = read_layered_yaml(path)[1]
    makers = {r.name: r.maker for r in spec.readers if r.kind == "face_auth_reader"}
    # (A camera on a maker --vendor leaves out is no part of this run.)
    looked = [cam for cam in spec.cameras if only is None or cam.watches not in makers
              or makers[cam.watches] in only]
    found = [(("instruments", i, "port"), inst.port, f"relay {inst.name!r}")
             for i, inst in enumerate(spec.instruments) if isinstance(inst.port, str)]
    found += [(("cameras", i, "source"), cam.source, f"camera {cam.name!r}")
              for i, cam in enumerate(spec.cameras)
              if cam in looked and isinstance(cam.source, str)
              and cam.source.startswith("/dev/")]
    problems = [BadInput(*place_of(str(path), lines, loc), field_name(loc, lines),
                         f"{device}: no such device ({who}: is it plugged in?)")
                for loc, device, who in found
                if "://" not in device and device != "emulated" and not Path(device).exists()]
    # A face-auth reader of this run that no camera watches: its flows look at its screen.
    watched = {cam.watches for cam in spec.cameras}
    problems += [BadInput(*place_of(str(path), lines, ("readers", i, "name")),
                          field_name(("readers", i), lines),
                          f"face-auth reader {reader.name!r} has no camera "
                          f"on its screen (cameras[].watches: {reader.name})")
                 for i, reader in enumerate(spec.readers)
                 if reader.kind == "face_auth_reader" and reader.name not in watched
                 and (only is None or reader.maker in only)]
    terminal = spec.operator.terminal if spec.operator.script is None else None
    if terminal is not None and Path(terminal).exists() and not _is_terminal(terminal):
        problems.append(BadInput(*place_of(str(path), lines, ("operator", "terminal")),
                                 "operator.terminal", f"{terminal} is not a terminal (nobody "
                                 "could read the questions there)"))
    if problems:
        raise BadInput.of(problems)


def _is_terminal(device: str) -> bool:
    """``device`` opens as a terminal (a folder, a file or /dev/null does not)."""
    import os

    try:
        fd = os.open(device, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    except OSError:
        return True  # not openable now: the test says so as operator.unavailable
    try:
        return os.isatty(fd)
    finally:
        os.close(fd)


def _unclaim_if_unused(out: Path, run_id: str) -> None:
    """A run stopped (a signal, an error) before its first report leaves a folder holding
    only its run.json, which neither ``--out`` nor ``--resume`` would take: the claim is
    undone, and it is said."""
    from harness.report.live import REPORT_FILE, RUN_FILE

    marker = out / RUN_FILE
    try:
        if (out / REPORT_FILE).exists() or json_loads(marker.read_text("utf-8")).get(
                "run") != run_id:
            return
        marker.unlink()
    except (OSError, ValueError, AttributeError):
        return
    print(f"stopped before the run began: nothing was run; {out} is free again",
          file=sys.stderr, flush=True)


def _costs(setup: Setup) -> tuple[dict[str, float], str]:
    """Each maker's cost for planning the workers, and what it is: the seconds the newest
    finished run of the bench beside this one took, else the numbers of requirements."""
    from harness.report.certification import applicable
    from harness.report.plan import earlier_seconds

    makers = applicable(setup.profiles, setup.spec, setup.only)
    sha256 = setup.bench["sha256"]  # as the reports have it
    earlier = earlier_seconds(setup.out, sha256, makers)
    if earlier is not None:
        seconds, folder = earlier
        return seconds, f"the seconds each maker took in {folder.name}"
    return ({m: float(len(reqs)) for m, reqs in makers.items()},
            "the makers' numbers of requirements (no earlier run of this bench beside it)")


def _earlier_run(old: Path | None) -> Path | None:
    """``--compared-with``: a run folder that is sealed and intact, checked before the run
    (an hour's certification is not spent to fail on a typo at its end)."""
    if old is None:
        return None
    from harness.report.manifest import require_sealed
    from harness.report.stored import load_run

    load_run(old)
    require_sealed(old, "a comparison")
    return old.resolve()


def _jobs(asked: int, spec: BenchSpec, keys: list[str], resumed: Resume | None) -> int:
    """How many pytest-xdist workers: at most one per maker; one bench for a real bench,
    whose devices are one of each, and for the vpcd tier (pcscd serves one set of vpcd
    readers); one job to finish a run (``--resume``)."""
    from harness.report.workers import xdist_available

    jobs = max(1, min(asked, len(keys)))
    if spec.kind != "emulated" or spec.pcsc.service != "inprocess" or resumed is not None:
        return 1
    return jobs if jobs == 1 or xdist_available() else 1


class Setup:
    """What a certification runs with, checked (:func:`certify`)."""

    def __init__(self, path: Path, spec: BenchSpec, profiles: ProfileSet, profiles_dir: Path,
                 only: set[str] | None, out: Path, run_id: str, resumed: Resume | None,
                 pytest_args: list[str]) -> None:
        self.path, self.spec, self.profiles = path, spec, profiles
        self.profiles_dir, self.only, self.out, self.run_id = profiles_dir, only, out, run_id
        self.resumed, self.pytest_args = resumed, pytest_args
        self.compared_with: Path | None = None
        #: The bench as the run began (bench_info), and how the file changed since, if it did.
        self.bench: dict[str, Any] = {}
        self.bench_changed: str | None = None
        self.live: LiveReport | None = None
        #: Why the tests not run were not, for a run that ends in an error.
        self.error = "not run: the suites stopped"


def _unwritable(setup: Setup, exc: OSError) -> RigError:
    """A write of the run failed (a full disk): the space held back given back, the last
    report marked ended in an error with why (compact: it must fit), junit.xml from it, the
    folder sealed; the one line to say. What cannot be written is said, never a pass."""
    from harness.report.junit import JUNIT_FILE, report_junit
    from harness.report.live import release_space
    from harness.report.manifest import write_manifest

    out, why = setup.out, exc.strerror or str(exc)
    release_space(out)
    (out / PYTEST_JUNIT).unlink(missing_ok=True)
    if setup.live is None:
        return RigError(f"--out {out}: cannot write the report: {why}")
    setup.error = f"not run: the run could not write its files ({why})"
    try:
        report = setup.live.update("error", compact=True)
        report_junit(out / JUNIT_FILE, report)
    except OSError as again:
        return RigError(f"--out {out}: {why}; the report could not be marked ended "
                        f"({again.strerror}): the last one written stands, state running")
    decided = sum(t.get("outcome") in ("passed", "failed") for t in report["tests"].values())
    sealed = ""
    try:
        write_manifest(out)
    except OSError as again:
        sealed = f"; not sealed ({again.strerror})"
    return RigError(f"--out {out}: {why}; the report keeps what was decided ({decided} "
                    f"test{'s' * (decided != 1)}), state error{sealed}")


#: pytest's own JUnit file, hidden: it writes in place (a full disk leaves it empty);
#: junit.xml is only ever the rig's, written whole (harness/report/junit.py).
PYTEST_JUNIT = ".pytest-junit.xml"


class _InternalErrors:
    """A write that failed inside pytest (allure's results, the live report): kept to be
    said in one line, not pytest's INTERNALERROR traceback."""

    def __init__(self) -> None:
        self.oserror: OSError | None = None

    def pytest_internalerror(self, excrepr: object, excinfo: pytest.ExceptionInfo) -> bool | None:
        if isinstance(excinfo.value, OSError):
            self.oserror = self.oserror or excinfo.value
            return True
        return None


def _run(args: argparse.Namespace, setup: Setup, jobs: int) -> int:
    """The suites' pytest run, the live report along it, and its end: finished, interrupted
    (a signal), or an error (pytest could not run, a worker died)."""
    import warnings

    import pytest
    from pluggy import PluggyTeardownRaisedWarning

    from harness.paths import project_file
    from harness.report.allure_run import ALLURE_DIR
    from harness.report.certification import CertificationCollector, applicable, build_report
    from harness.report.device_identity import IDENTITIES_KEY
    from harness.report.devices import DEVICES_FILE, DeviceRecorder
    from harness.report.live import LiveReport, reserve_space
    from harness.report.progress import ProgressPlugin, test_event
    from harness.report.requirements import requirement_texts
    from harness.report.stop import stopping
    from harness.report.workers import Controller, workers_environment, xdist_args

    spec, out, only, resumed = setup.spec, setup.out, setup.only, setup.resumed
    console = _console(args)
    collector = CertificationCollector(spec, only, kept=resumed.kept if resumed else None)
    unmade = _CollectionErrors()
    internal = _InternalErrors()
    costs, planned = _costs(setup) if jobs > 1 else ({}, "")
    controller = Controller(out, collector, console, costs) if jobs > 1 else None
    recorder: DeviceRecorder | None = None
    if controller is not None:
        plugins: list[Any] = [collector, controller, unmade, internal]
        spread = xdist_args(out, jobs, only)
    else:
        recorder = DeviceRecorder(out / DEVICES_FILE,
                                  earlier=resumed.devices if resumed else None)
        plugins = [collector, recorder, ProgressPlugin(console), unmade, internal]
        spread = []
    keys = sorted(only or applicable(setup.profiles, spec))
    live: LiveReport | None = None
    # From here a signal stops the run with its report finished (before the first
    # report, with none: nothing was decided).
    with (stopping(controller.stop_workers) if controller else stopping()) as stop:
        try:
            started = dt.datetime.now().astimezone()
            rig = _rig(setup.profiles_dir, spec, only)
            texts = requirement_texts(setup.profiles, applicable(setup.profiles, spec, only))

            def build(state: str) -> dict:
                report = build_report(bench_path=setup.path, spec=spec, profiles=setup.profiles,
                                      tests=collector.tests, started=started,
                                      ended=dt.datetime.now().astimezone(), only=only,
                                      collected=collector.collected,
                                      pending=_pending(state, setup.error),
                                      bench=setup.bench)
                changed = _bench_change(setup)
                if changed:  # --resume refuses it: its tests may have run on either file
                    report["bench"]["changed"] = changed
                report.update(rig=rig, requirements=texts)
                if resumed is not None:  # the first run's; each resumption's in resumes
                    if resumed.first_args:
                        report["pytest_args"] = resumed.first_args
                    report["resumes"] = resumed.resumes
                    # What the kept verdicts were made on, for the next resumption.
                    report[IDENTITIES_KEY] = resumed.devices
                elif setup.pytest_args:
                    report["pytest_args"] = setup.pytest_args
                return report

            live = setup.live = writer = LiveReport(out, setup.run_id, build, html=True)
            reserve_space(out)
            writer.update()  # from the start: every requirement not run yet
            if resumed is not None:  # held since the folder changed: the stop handles it now
                resumed.let_signals_go()

            def progress(record) -> None:  # noqa: ANN001
                writer.update(force=record.outcome != "passed")
                console.finished(test_event(record))

            collector.progress = progress
            console.say(f"certifying {spec.bench!r} ({setup.path.name}) into {out}"
                        + (f", on {jobs} pytest-xdist workers (a maker's tests on one; "
                           f"planned by {planned})" if controller else ""))
            # The report's pictures: the frames behind each screen decision, in the run folder.
            evidence = [] if args.no_evidence else [f"--evidence={out / 'evidence'}"]
            with (workers_environment(jobs) if controller else contextlib.nullcontext(),
                  warnings.catch_warnings()):
                # A failed write in a plugin's teardown: said once, below, in one line.
                warnings.filterwarnings("ignore", r"(?s).*\nOSError: ",
                                        PluggyTeardownRaisedWarning)
                code = pytest.main(
                    [str(project_file("suites")), "-p", "no:terminal", "-p", "no:cacheprovider",
                     "-p", "no:labgrid",  # labgrid's own plugin: not the rig's
                     "-o", "addopts=", "--bench", str(setup.path),
                     f"--alluredir={out / ALLURE_DIR}", f"--timeline={out / 'timeline.jsonl'}",
                     "--profiles", str(setup.profiles_dir), f"--junitxml={out / PYTEST_JUNIT}",
                     "-o", "junit_family=xunit2", *evidence, "--rootdir", str(project_file(".")),
                     *spread, *setup.pytest_args],
                    plugins=plugins,
                )
        except KeyboardInterrupt:  # a signal outside pytest's own handling of it
            code = pytest.ExitCode.INTERRUPTED
        except OSError as exc:
            if stop.signum is None or not _signal_echo(exc):
                raise  # a write that failed: the report ended by certify (_unwritable)
            # The signal's own echo: xdist still bootstrapping a worker the signal took
            # down met its pipe's end. The interruption, not a failed write of the run.
            code = pytest.ExitCode.INTERRUPTED
        except Exception:
            # The rig's own fault: the report as it stands, every result decided in it (the
            # running one is written at most every second), then the error.
            if live is not None:
                live.update("error")
            raise
        finally:
            console.close()
        # The report is finished and sealed from here whatever comes: a signal now is noted.
        stop.finishing = True
        if live is None:
            return stop.exit_code
        if internal.oserror is not None:
            if stop.signum is None or not _signal_echo(internal.oserror):
                raise internal.oserror
            code = pytest.ExitCode.INTERRUPTED  # xdist's, in its own hooks: the same echo
        junit = [(out / PYTEST_JUNIT, keys)]
        if (code == pytest.ExitCode.INTERRUPTED and stop.signum is None
                and controller is not None and controller.stopped_because.startswith(
                    "stopping after")):
            code = pytest.ExitCode.TESTS_FAILED  # -x or --maxfail after --: it stopped as asked
        if code == pytest.ExitCode.INTERRUPTED and stop.signum is None and unmade.found:
            # pytest's exit for errors during collection: no one pressed Ctrl-C.
            setup.error = "not run: the suites could not be collected"
            _finish(live, "error", junit, mode=console.mode)
            raise RigError("the suites could not be collected: " + "; ".join(unmade.found[:3])
                           + f" (report: {out / 'certification.json'})")
        if _bench_change(setup):
            # The tests may have loaded either file: no verdict of either bench.
            setup.error = f"not run: {setup.bench_changed}"
            _finish(live, "error", junit, mode=console.mode)
            raise RigError(f"{setup.bench_changed}: the run's tests may have run on either; "
                           f"the report names the one it began with and passes nothing "
                           f"(see {out / 'certification.json'}); certify again into a new "
                           "folder")
        if recorder is not None and recorder.changed:
            # A resumption onto other devices (hunt R6): nothing ran on them; the verdicts
            # kept stay as they were, the rest not run with why.
            setup.error = f"not run: {recorder.changed}"
            _finish(live, "error", junit, mode=console.mode)
            raise RigError(f"--resume: {recorder.changed}; put the run's devices back, or "
                           "certify again into a new folder")
        if stop.signum is not None and not (controller is not None and controller.died):
            # A signal stopped the run: workers still starting end with another code (none
            # of their tests ran), and still it is the interruption, not a verdict.
            code = pytest.ExitCode.INTERRUPTED
        if code == pytest.ExitCode.INTERRUPTED:
            if stop.signum is None:
                stop.signum = signal.SIGINT
            _finish(live, "interrupted", junit, mode=console.mode,
                    compared_with=setup.compared_with)
            print(f"interrupted ({stop.name}): the report holds what was decided, the rest "
                  "not run", file=sys.stderr, flush=True)
            return stop.exit_code
        if controller is not None and controller.died:
            died = "; ".join(controller.died)
            setup.error = f"not run: a worker of the run died ({died})"
            _finish(live, "error", junit, mode=console.mode)
            raise RigError(f"a worker of the certification died ({died}); the test it ran "
                           f"failed, see {out / 'certification.json'}")
        if code in (pytest.ExitCode.INTERNAL_ERROR, pytest.ExitCode.USAGE_ERROR):
            _finish(live, "error", junit, mode=console.mode)
            raise RigError(f"the suites did not run (pytest exit {int(code)})"
                           + (f" with the pytest options {' '.join(setup.pytest_args)}"
                              if setup.pytest_args else ""))
        verdict = _finish(live, "finished", junit, mode=console.mode,
                          compared_with=setup.compared_with)
        if stop.late is not None:
            # Asked to stop as the run ended: its report is whole and sealed, and the exit
            # says a signal came (128 + it), not the verdict.
            print(f"{signal.Signals(stop.late).name} as the run ended: its report is "
                  "finished and sealed", file=sys.stderr, flush=True)
            return 128 + stop.late
        return verdict


class _CollectionErrors:
    """What pytest could not collect, each with its last line: its terminal is off, so
    nothing else says why (a run that stopped there is no interrupted run)."""

    def __init__(self) -> None:
        self.found: list[str] = []

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            lines = str(report.longrepr).strip().splitlines()
            self.found.append(f"{report.nodeid or 'the suites'}: "
                              f"{lines[-1] if lines else 'not collected'}")


def _compare(live: LiveReport, old: Path, loud: bool) -> None:
    """``--compared-with``: the comparison with the earlier run (as ``report diff`` makes
    it, from both folders as sealed), the HTML written again to name it, the folder sealed
    again. A comparison that cannot be made is said; the run's own verdict stands."""
    from harness.report.diff import diff_runs, write_comparison
    from harness.report.manifest import write_manifest

    try:
        target = write_comparison(diff_runs(old, live.out))
        live.write_html()
        write_manifest(live.out)
    except (RigError, OSError) as exc:
        print(f"not compared with {old}: {exc}", file=sys.stderr, flush=True)
        return
    if loud:
        print(f"compared with {old}: {target}", flush=True)


#: Options certify gives its pytest run itself: given again after ``--`` they would send
#: the report's files elsewhere, run another bench or spread the run otherwise: refused.
_OWN_PYTEST_OPTIONS = ("--bench", "--profiles", "--alluredir", "--timeline", "--junitxml",
                       "--junit-xml", "--evidence", "--rootdir", "-p", "-o", "--override-ini",
                       "-c", "--config-file", "--confcutdir", "-n", "--numprocesses",
                       "--dist", "--maxprocesses", "--max-worker-restart", "--tx",
                       "--certify-run", "--certify-makers")


#: What may follow ``--``: options that select tests or stop the run early (a requirement
#: they leave undecided is not run, never passed), each with whether it takes a value. Any
#: other pytest option changes what a run is (``--setup-plan`` and ``--noconftest`` ran no
#: test and failed every requirement, ``--help`` gave a traceback): refused.
_SELECTING = {"-k": True, "-m": True, "-x": False, "--exitfirst": False, "--maxfail": True,
              "--deselect": True}


def _pytest_args(args: argparse.Namespace) -> list[str]:
    """What follows ``--`` on certify's line, checked: test selection only (_SELECTING),
    none of certify's own options, each option's value given."""
    given = list(getattr(args, "pytest_args", None) or [])
    i = 0
    while i < len(given):
        if _takes_value(given[i]):
            if i + 1 == len(given):
                raise RigError(f"-- {given[i]}: give its value")
            i += 1  # the value (a -k expression may start with '-')
        i += 1
    return given


def _takes_value(arg: str) -> bool:
    """Whether ``arg``, an option after ``--``, takes the next argument as its value; a
    RigError when it is not one that selects tests. Short flags may be joined (``-xk``):
    each letter is checked, so ``-xo ...`` is no way around the refusal of ``-o``."""
    name, eq, _ = arg.partition("=")
    if name.startswith("--"):
        if name in _OWN_PYTEST_OPTIONS:
            raise _own_option(arg, name)
        if name not in _SELECTING:
            raise _not_selection(arg)
        return _SELECTING[name] and not eq
    if not name.startswith("-") or len(name) < 2:
        raise _not_selection(arg)  # a path or node id: the suites are certify's to give
    for k, letter in enumerate(arg[1:], 2):
        option = f"-{letter}"
        if option in _OWN_PYTEST_OPTIONS:
            raise _own_option(arg, option)
        if option not in _SELECTING:
            raise _not_selection(arg)
        if _SELECTING[option]:  # its value: the rest of the argument, or the next one
            return k == len(arg)
    return False


def _own_option(arg: str, name: str) -> RigError:
    return RigError(f"-- {arg}: certify sets {name} for each run itself; pytest options "
                    "after -- may select tests (-k, -m, -x, --deselect), not move the report")


def _not_selection(arg: str) -> RigError:
    return RigError(f"-- {arg}: not a test selection; pytest options after -- may only select "
                    "tests or stop early (-k, -m, -x, --maxfail, --deselect)")


def _console(args: argparse.Namespace) -> Progress:
    """The run's console (harness/report/progress.py): an updating line on a terminal,
    plain lines elsewhere, or quiet."""
    from harness.report.progress import Progress, choose_mode, console_stream

    mode = choose_mode(sys.stdout, quiet=args.quiet, plain=args.plain)
    return Progress(console_stream(mode), mode)


def _pending(state: str, error: str) -> str:
    """Why a test that has not run did not, in a report of a run in ``state`` (``error``:
    why, for a run that ended in one)."""
    from harness.report.live import INTERRUPTED, PENDING

    return {"running": PENDING, "interrupted": INTERRUPTED, "error": error}.get(state,
                                                                                 "not_run")


def _plan_alone(args: argparse.Namespace) -> None:
    """``--plan`` runs nothing and writes no folder: an option for a run given with it was
    silently ignored (``--resume``, ``--out``, ``--compared-with``)."""
    if not args.plan:
        return
    given = [name for name, on in (("--resume", args.resume), ("--out", args.out is not None),
                                   ("--compared-with", args.compared_with is not None)) if on]
    if given:
        raise RigError(f"--plan with {', '.join(given)}: the plan runs nothing and writes no "
                       "run folder; give those to a run, without --plan")


def _collect(path: Path, profiles_dir: Path, collector: Any, pytest_args: list[str]) -> None:
    """The suites collected for the bench at ``path``, not run, into ``collector``."""
    import pytest

    from harness.paths import project_file

    code = pytest.main(
        [str(project_file("suites")), "--collect-only", "-p", "no:terminal",
         "-p", "no:cacheprovider", "-p", "no:labgrid", "-o", "addopts=", "--bench", str(path),
         "--profiles", str(profiles_dir), "--rootdir", str(project_file(".")),
         *pytest_args],
        plugins=[collector],
    )
    if code == pytest.ExitCode.INTERRUPTED:  # Ctrl-C while collecting: a stop, not an error
        raise KeyboardInterrupt
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
        raise RigError(f"the suites could not be collected (pytest exit {int(code)})")


def _certification_plan(path: Path, spec: BenchSpec, profiles: ProfileSet,
                        profiles_dir: Path, only: set[str] | None,
                        pytest_args: list[str]) -> int:
    """``certify --plan``: the suites collected, not run; per maker, each requirement with
    the tests that would decide it. Exit 1 when a requirement has none (it would fail);
    the pytest options after ``--`` select as in the run (one they leave out is not run)."""
    from harness.report.certification import DESELECTED, CertificationCollector, applicable

    collector = CertificationCollector(spec, only)
    _collect(path, profiles_dir, collector, pytest_args)
    uncovered = 0
    for maker, req_ids in applicable(profiles, spec, only).items():
        print(maker)
        for req in req_ids:
            deciding = [t.nodeid for t in collector.tests.values()
                        if req in t.requirements and (maker in t.makers or not t.makers)
                        and t.reason != DESELECTED]
            uncovered += not deciding
            print(f"  {req:8} {len(deciding):3} test(s)" if deciding
                  else f"  {req:8}   NO TEST: this requirement would fail" if not pytest_args
                  else f"  {req:8}   NO TEST selected: it would not be run")
        if spec.kind == "real":  # a person does each step: what the selection asks of them
            _plan_operator(path, maker, req_ids, collector)
    return EXIT_OK if not uncovered else EXIT_VIOLATION


def _plan_operator(path: Path, maker: str, req_ids: list[str], collector: Any) -> None:
    """A real bench's plan: the maker's prompts and restores, as its selected tests last
    ran on this bench (harness.report.plan.operator_cost)."""
    import hashlib

    from harness.paths import reports_dir
    from harness.report.certification import DESELECTED
    from harness.report.plan import describe_cost, operator_cost

    tests = [t.nodeid for t in collector.tests.values() if t.reason != DESELECTED
             and set(req_ids) & set(t.requirements) and (maker in t.makers or not t.makers)]
    cost = operator_cost(reports_dir(), hashlib.sha256(path.read_bytes()).hexdigest(), tests)
    for line in describe_cost(cost, reports_dir()):
        print(f"  {line}")


def _finish(live: LiveReport, state: str, junit: list[tuple[Path, list[str]]], *,
            mode: str = "plain", compared_with: Path | None = None) -> int:
    """The run folder's last report, in ``state``: ``certification.json`` (with what
    produced it and the requirements' statements and notices), ``junit.xml``,
    ``certification.html`` and allure's run files, then the manifest. The console gets the
    final table (``mode`` quiet: the verdict line only)."""
    import xml.etree.ElementTree as ET

    from harness.report.allure_run import ALLURE_DIR, write_run_files
    from harness.report.html import HTML_FILE
    from harness.report.junit import JUNIT_FILE, finish_junit, report_junit
    from harness.report.live import release_space
    from harness.report.manifest import seal_run_folder, write_manifest
    from harness.report.summary import final_table, verdict_line

    out = live.out
    release_space(out)  # its space for the last files; the seal never lists it
    report = live.update(state)
    present = [(p, makers) for p, makers in junit if p.is_file() and p.stat().st_size]
    ran_all = state == "finished" and all(
        t.get("outcome") in ("passed", "failed") for t in report["tests"].values())
    if not ran_all or not present:
        # Every test the run knows, those not run skipped with why (as report render
        # writes it): a run interrupted or narrowed is not a complete green one to a CI,
        # and a run stopped before pytest wrote its file still has one.
        report_junit(out / JUNIT_FILE, report)
    else:
        try:
            finish_junit(out / JUNIT_FILE, present, bench=report["bench"]["name"],
                         bench_sha256=report["bench"]["sha256"],
                         commit=report["rig"]["commit"], passed=report["passed"],
                         run=live.run_id)
        except ET.ParseError as exc:  # pytest stopped while it wrote the file
            print(f"junit.xml from the report: pytest's file is cut short ({exc})",
                  file=sys.stderr, flush=True)
            report_junit(out / JUNIT_FILE, report)
    for path, _ in junit:
        path.unlink(missing_ok=True)
    loud = mode in ("tty", "plain")
    write_run_files(out / ALLURE_DIR, report)  # what produced the results, categories
    seconds = live.write_html()
    if loud:
        print(f"HTML report: {out / HTML_FILE} ({seconds:.1f} s)", flush=True)
        print("\n".join(final_table(report)), flush=True)
        print(f"report: {out / 'certification.json'}", flush=True)
        for fault in report.get("bench_faults", []):
            print(f"BENCH FAULT {fault['test']}: {fault['fault']}", flush=True)
    # Last: the manifest lists every file the run wrote.
    if loud:
        seal_run_folder(out)
    else:
        try:
            write_manifest(out)
        except OSError as exc:
            print(f"{out}: manifest not written: {exc}", file=sys.stderr, flush=True)
    if compared_with is not None:
        _compare(live, compared_with, loud)
    print(verdict_line(report, out), flush=True)
    if report["passed"]:
        return EXIT_OK
    failed = any(row["status"] == "failed" for rows in report["makers"].values()
                 for row in rows.values())
    return EXIT_BENCH_FAULT if report.get("bench_faults") and not failed else EXIT_VIOLATION


def _signal_echo(exc: OSError) -> bool:
    """An error a signal's taking down of the workers causes in xdist: their pipe's end
    (broken, reset), or execnet's channel found closed ("cannot send (already closed?)",
    an OSError with no errno: a write of the run's own always has one)."""
    return isinstance(exc, (BrokenPipeError, ConnectionResetError)) or exc.errno is None
