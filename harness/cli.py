"""``onshi-rig``: the rig's command line.

Exit codes: 0 success (wiring conforms), 1 a rule was violated, 2 bad input or usage, or a
missing system part; 130 and 143: stopped by SIGINT or SIGTERM (``certify`` finishes its
report first). User errors print one message, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from harness.arguments import finite_positive_seconds, positive_int
from harness.errors import RigError

if TYPE_CHECKING:
    import datetime as dt
    import subprocess
    from collections.abc import Callable

    from harness.model.bench_spec import BenchSpec
    from harness.model.profiles import ProfileSet
    from harness.report.live import LiveReport
    from harness.report.progress import Progress
    from harness.report.stop import Stop

EXIT_OK, EXIT_VIOLATION, EXIT_BAD_INPUT = 0, 1, 2
#: certify: nothing failed, but bench faults left requirements not run (the run is not a pass).
EXIT_BENCH_FAULT = 3


def _bench_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--bench", metavar="FILE", type=Path, default=None,
        help="bench file (default: onshi-rig.toml's bench, else the emulated bench, "
             "fixtures/benches/emulated.yaml)",
    )


def _wait_arg(parser: argparse.ArgumentParser) -> None:
    from harness.bench_lock import wait_seconds

    parser.add_argument(
        "--wait-for-bench", metavar="SECONDS", type=wait_seconds, default=0.0,
        help="when another run holds the bench (its labgrid place or one of its devices): "
             "wait up to SECONDS for it (default: exit 2 at once, naming the holder)",
    )


def _holding(command: Callable[[argparse.Namespace], int]
             ) -> Callable[[argparse.Namespace], int]:
    """``command`` run holding the bench (harness.bench_lock): its labgrid place and its
    devices, released at the end, on Ctrl-C and on SIGTERM too (a CI runner's cancel)."""

    def run(args: argparse.Namespace) -> int:
        from harness.bench import default_bench_path
        from harness.bench_lock import hold_bench

        if getattr(args, "plan", False):  # collects the suites; opens nothing
            return command(args)

        def terminate(*_: object) -> None:
            raise SystemExit(128 + signal.SIGTERM)

        before = signal.signal(signal.SIGTERM, terminate)
        try:
            with hold_bench(args.bench or default_bench_path(), wait_s=args.wait_for_bench):
                return command(args)
        finally:
            signal.signal(signal.SIGTERM, before)

    return run


def _profiles_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--profiles", metavar="DIR", type=Path, default=None,
        help="folder of vendor profiles (default: onshi-rig.toml's profiles, else the "
             "shipped vendor_profiles/)",
    )


def cmd_scan(args: argparse.Namespace) -> int:
    from harness.bench import Bench
    from harness.model.profiles import ProfileSet, default_profiles_dir
    from harness.scan import format_table, scan

    profiles = ProfileSet.load(args.profiles or default_profiles_dir())
    with Bench.load(args.bench, pcsc_service=args.pcsc) as bench:
        result = scan(bench, profiles)
    if args.json:
        print(json.dumps([row.as_json() for row in result.rows], ensure_ascii=False, indent=2))
    else:
        print(format_table(result))
    return EXIT_OK if result.conforms else EXIT_VIOLATION


def cmd_pcscd_config(args: argparse.Namespace) -> int:
    from harness.bench import check_bench_file, default_bench_path
    from harness.emulation.bench import load_twins, vpcd_slots
    from harness.emulation.pcscd import SYSTEM_READER_CONF, reader_conf, write_reader_conf

    path = args.bench or default_bench_path()
    spec = check_bench_file(path)
    if spec.kind != "emulated":
        raise RigError(f"{path}: a real bench uses the system's readers; nothing to configure")
    slots = list(vpcd_slots(spec, load_twins(spec, path)).values())
    if args.dir is None:
        print(reader_conf(slots, SYSTEM_READER_CONF), end="")
        return EXIT_OK
    target = write_reader_conf(args.dir, slots)
    print(f"wrote {target} and its {len(slots)} copies of the vpcd driver: "
          + ", ".join(f"{s.reader} {s.friendly_name!r} on port {s.port}" for s in slots))
    print(f"start pcscd with them (as root):  pcscd -c {args.dir}")
    return EXIT_OK


def _fault_arg(text: str) -> tuple[str, str | None]:
    """``--fault KIND[:TARGET]``: a known fault kind, and what it strikes."""
    from harness.model.bench_faults import FAULT_KINDS

    kind, _, target = text.partition(":")
    if kind not in FAULT_KINDS:
        raise argparse.ArgumentTypeError(
            f"no such fault {kind!r} (known: {', '.join(FAULT_KINDS)})")
    return kind, target or None


def cmd_emulate(args: argparse.Namespace) -> int:
    from harness.bench import Bench, check_bench_file, default_bench_path
    from harness.emulation.card import FileSystemCard
    from harness.emulation.vpcd_cards import insert_shown, need_pcscd
    from harness.paths import project_file

    path = args.bench or default_bench_path()
    spec = check_bench_file(path)
    if spec.kind != "emulated":
        raise RigError(f"{path}: `emulate` needs an emulated bench (kind: emulated)")
    if args.hardware is not None:
        return _emulate_box(args, path, spec)
    need_pcscd(str(path))
    card_path = args.card or project_file("fixtures/cards/test-card.yaml")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with Bench.load(path, pcsc_service="vpcd") as bench:
        emu = bench.emulation
        assert emu is not None and emu.vpcd is not None
        attached = insert_shown(bench, lambda _reader: FileSystemCard.load(card_path))
        for kind, target in args.fault or []:
            bench.faults.inject(kind, target)  # a target it cannot strike: one line, exit 2
        print(f"emulated bench {bench.name!r} running; Ctrl-C to stop.")
        for kind, target in bench.faults.active():
            print(f"fault armed: {kind} on {target}")
        print("PC/SC readers (each holding the test card, seen there by pcscd):")
        for seen in attached:
            print(f"  {seen.pcsc_name!r:45}  <- {seen.reader} (vpcd port {seen.port})")
        for reader in emu.pcsc_readers:
            if emu.vpcd.gap(reader):
                print(f"  {reader}: {emu.vpcd.gap(reader)}")
        for name, board in emu.relay_boards.items():
            print(f"relay board {name!r} on serial port {board.port}")
        for reader, nfc in emu.nfc_paths.items():
            print(f"NFC frontend of {reader}: {nfc}")
        print("try: pcsc_scan   or   opensc-tool --list-readers", flush=True)
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    print("stopped.")
    return EXIT_OK


def _emulate_box(args: argparse.Namespace, path: Path, spec: BenchSpec) -> int:
    """``emulate --hardware DIR``: the bench in a box (harness/emulation/box), until
    interrupted or terminated; DIR/bench.yaml describes it as a real bench."""
    from harness.emulation.box.box import Box

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    box = Box(spec, Path(path), args.hardware, scale=args.scale, fps=args.fps)
    try:
        written = box.write()
        print(f"bench in a box {spec.bench!r} running at {args.scale:g}x; its bench file: "
              f"{written}", flush=True)
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    finally:
        box.close()
    print("stopped.")
    return EXIT_OK


def _scale_arg(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value <= 1000:
        raise argparse.ArgumentTypeError(f"{text!r}: a number above 0, at most 1000")
    return value


def cmd_probe(args: argparse.Namespace) -> int:
    from harness.bench import Bench
    from harness.devices.jpki_probe import probe_pcsc
    from harness.emulation.card import FileSystemCard
    from harness.model.profiles import ProfileSet, default_profiles_dir
    from harness.model.wiring import verified_model
    from harness.paths import project_file
    from harness.scan import scan

    shortcuts = {"card": "fixtures/cards/mynumber-card.yaml",
                 "phone": "fixtures/cards/mynumber-phone.yaml"}
    profiles = ProfileSet.load(args.profiles or default_profiles_dir())
    with Bench.load(args.bench, pcsc_service=args.pcsc) as bench:
        entry = bench.reader(args.reader).spec
        if entry.kind != "general_reader":
            raise RigError(f"{args.reader!r} is a {entry.kind.replace('_', ' ')}; the probe "
                           "is for general readers")
        row = next((r for r in scan(bench, profiles).rows if r.name == args.reader), None)
        pcsc_name = row.pcsc_name if row else None
        if pcsc_name is None:
            why = bench.pcsc_gaps.get(args.reader) or bench.pcsc_unavailable or \
                "no PC/SC reader on this bench matches it"
            raise RigError(f"{args.reader!r} has no PC/SC reader to probe: {why}")
        model = verified_model(profiles.general(), entry.maker, entry.model)
        if args.card:
            if bench.emulation is None:
                raise RigError("--card puts an emulated card on an emulated bench's reader; on "
                               "a real bench, place a card or phone on the reader")
            path = project_file(shortcuts[args.card]) if args.card in shortcuts \
                else Path(args.card)
            bench.emulation.insert_card(args.reader, FileSystemCard.load(path))
        else:
            print(f"place a My Number card or a phone on {pcsc_name!r} "
                  f"(waiting up to {args.timeout:g} s)", file=sys.stderr, flush=True)
        report = probe_pcsc(bench.pcsc, pcsc_name, args.reader, args.timeout,
                            expected_name=model.app_name if model else None)
    if args.json:
        print(json.dumps(report.as_json(), ensure_ascii=False, indent=2))
    else:
        for step in report.steps:
            mark = "ok " if step.ok else "FAIL"
            print(f"{mark} {step.name:34} {step.seconds * 1000:9.1f} ms  {step.detail}")
        print(f"ATR: {report.atr or '-'}")
        print(f"holder: {report.holder or '-'} (token {report.token or '-'})")
        if report.certificate:
            print(f"authentication certificate: {report.certificate.subject}, "
                  f"issued by {report.certificate.issuer}, until "
                  f"{report.certificate.not_after}")
        verdict = {True: "matches", False: "DIFFERS", None: "not known"}[report.name_matches]
        print(f"USB-05: PC/SC name {report.pcsc_name!r}, the app shows "
              f"{report.expected_name!r}: {verdict}")
    return EXIT_OK if report.ok and report.name_matches is not False else EXIT_VIOLATION


def cmd_catalogue(args: argparse.Namespace) -> int:
    """``onshi-rig catalogue > docs/requirements.md``: every requirement of the profiles."""
    from harness.model.profiles import ProfileSet, default_profiles_dir
    from harness.report.catalogue import render_catalogue

    text = render_catalogue(ProfileSet.load(args.profiles or default_profiles_dir()))
    sys.stdout.buffer.write(text.encode("utf-8"))  # UTF-8 whatever the locale says
    sys.stdout.flush()
    return EXIT_OK


def cmd_certify(args: argparse.Namespace) -> int:
    import datetime as dt

    import pytest

    from harness.bench import check_bench_file, default_bench_path
    from harness.model.profiles import ProfileSet, default_profiles_dir
    from harness.paths import project_file, reports_dir
    from harness.report.allure_run import ALLURE_DIR
    from harness.report.certification import (
        CertificationCollector,
        applicable,
        build_report,
    )
    from harness.report.console import guard_streams
    from harness.report.devices import DEVICES_FILE, DeviceRecorder
    from harness.report.junit import JUNIT_FILE
    from harness.report.live import LiveReport, claim_folder, unique_folder
    from harness.report.progress import ProgressPlugin, test_event
    from harness.report.provenance import provenance
    from harness.report.requirements import requirement_texts
    from harness.report.resume import resume_folder
    from harness.report.stop import stopping

    # `certify | head -1`: a closed stdout never stops the run.
    guard_streams()
    pytest_args = _pytest_args(args)
    path = (args.bench or default_bench_path()).resolve()
    spec = check_bench_file(path)
    profiles_dir = args.profiles or default_profiles_dir()
    profiles = ProfileSet.load(profiles_dir)
    _every_maker_profiled(path, spec, profiles, profiles_dir)
    only = set(args.vendor) or None
    if only:
        on_bench = {r.maker for r in spec.readers if r.kind == "face_auth_reader"}
        if any(r.kind == "general_reader" for r in spec.readers):
            on_bench.add("general_readers")
        missing = sorted(only - on_bench)
        if missing:
            raise RigError(f"--vendor {', '.join(missing)}: no such maker's reader on "
                           f"{path.name} (it has: {', '.join(sorted(on_bench))})")
    if args.plan:
        return _certification_plan(path, spec, profiles, profiles_dir, only)
    # The folder is this run's before any work: a file, an unwritable or a used folder is
    # refused (runs never mix), and the default one is new even for runs started together.
    run_id = args.run_id or uuid.uuid4().hex
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    resumed = None
    if args.resume:
        # The folder's run goes on: its decided tests kept, the rest run again, as one job.
        if args.out is None:
            raise RigError("--resume: give --out, the folder of the run to finish")
        out = args.out.resolve()
        resumed = resume_folder(out, path, provenance(Path(profiles_dir).resolve()), only)
        run_id, only = resumed.run_id, resumed.makers
    else:
        out = (args.out or unique_folder(reports_dir(), f"certify-{stamp}")).resolve()
        claim_folder(out, run_id)
    keys = sorted(only or applicable(profiles, spec))
    jobs = max(1, min(args.jobs, len(keys)))
    # One real bench is one bench; pcscd's vpcd ports are fixed: those run as one job.
    if (jobs > 1 and spec.kind == "emulated" and spec.pcsc.service == "inprocess"
            and resumed is None):
        return _certify_in_parts(args, path, spec, profiles, keys, jobs, out, run_id)

    part = bool(args.run_id)
    console = _console(args)
    live: LiveReport | None = None
    # From here a signal stops the run with its report finished (before the first
    # report, with none: nothing was decided).
    with stopping() as stop:
        try:
            collector = CertificationCollector(spec, only,
                                               kept=resumed.kept if resumed else None)
            started = dt.datetime.now().astimezone()
            rig = provenance(Path(profiles_dir).resolve())
            texts = requirement_texts(profiles, applicable(profiles, spec, only))

            def build(state: str) -> dict:
                report = build_report(bench_path=path, spec=spec, profiles=profiles,
                                      tests=collector.tests, started=started,
                                      ended=dt.datetime.now().astimezone(), only=only,
                                      collected=collector.collected, pending=_pending(state))
                report.update(rig=rig, requirements=texts)
                if pytest_args:
                    report["pytest_args"] = pytest_args
                if resumed is not None:
                    report["resumes"] = resumed.resumes
                return report

            live = writer = LiveReport(out, run_id, build, html=not part)
            writer.update()  # from the start: every requirement not run yet

            def progress(record) -> None:  # noqa: ANN001
                writer.update()  # the report first: a split run's parent merges it on this line
                console.finished(test_event(record))

            collector.progress = progress
            console.say(f"certifying {spec.bench!r} ({path.name}) into {out}")
            # The report's pictures: the frames behind each screen decision, in the run folder.
            evidence = [] if args.no_evidence else [f"--evidence={out / 'evidence'}"]
            code = pytest.main(
                [str(project_file("suites")), "-p", "no:terminal", "-p", "no:cacheprovider",
                 "-p", "no:labgrid",  # labgrid's own plugin: not the rig's
                 "-o", "addopts=", "--bench", str(path),
                 # A part's allure results go to its run's folder: one allure/ per run.
                 f"--alluredir={(out.parent if part else out) / ALLURE_DIR}",
                 f"--timeline={out / 'timeline.jsonl'}", "--profiles",
                 str(Path(profiles_dir).resolve()), f"--junitxml={out / JUNIT_FILE}",
                 "-o", "junit_family=xunit2", *evidence, "--rootdir", str(project_file(".")),
                 *pytest_args],
                plugins=[collector, DeviceRecorder(out / DEVICES_FILE), ProgressPlugin(console)],
            )
        except KeyboardInterrupt:  # a signal outside pytest's own handling of it
            code = pytest.ExitCode.INTERRUPTED
        finally:
            console.close()
        if live is None:
            return stop.exit_code
        if code == pytest.ExitCode.INTERRUPTED:
            if stop.signum is None:
                stop.signum = signal.SIGINT
            _finish(live, "interrupted", [(out / JUNIT_FILE, keys)], part=part,
                    mode=console.mode)
            print(f"interrupted ({stop.name}): the report holds what was decided, the rest "
                  "not run", file=sys.stderr, flush=True)
            return stop.exit_code
        if code in (pytest.ExitCode.INTERNAL_ERROR, pytest.ExitCode.USAGE_ERROR):
            _finish(live, "error", [(out / JUNIT_FILE, keys)], part=part, mode=console.mode)
            raise RigError(f"the suites did not run (pytest exit {int(code)})"
                           + (f" with the pytest options {' '.join(pytest_args)}"
                              if pytest_args else ""))
        return _finish(live, "finished", [(out / JUNIT_FILE, keys)], part=part,
                       mode=console.mode)


#: Options certify gives each part's pytest itself: given again after ``--`` they would
#: send the report's files elsewhere or run another bench, so they are refused.
_OWN_PYTEST_OPTIONS = ("--bench", "--profiles", "--alluredir", "--timeline", "--junitxml",
                       "--junit-xml", "--evidence", "--rootdir", "-p", "-o", "--override-ini",
                       "-c", "--config-file", "--confcutdir")


def _pytest_args(args: argparse.Namespace) -> list[str]:
    """What follows ``--`` on certify's line, checked: none of certify's own options."""
    given = list(getattr(args, "pytest_args", None) or [])
    for arg in given:
        name = arg.split("=", 1)[0]
        short = name[:2] if name.startswith("-") and not name.startswith("--") else ""
        if name in _OWN_PYTEST_OPTIONS or short in ("-p", "-o", "-c"):
            raise RigError(f"-- {arg}: certify sets {name} for each run itself; pytest "
                           "options after -- may select tests (-k, -m, -x, --deselect), "
                           "not move the report")
    return given


def _console(args: argparse.Namespace):  # noqa: ANN202
    """The run's console (harness/report/progress.py): a part of a split run sends events
    to its parent; else an updating line on a terminal, plain lines elsewhere, or quiet."""
    from harness.report.progress import Progress, choose_mode, console_stream

    mode = args.console or choose_mode(sys.stdout, quiet=args.quiet, plain=args.plain)
    return Progress(console_stream(mode), mode)


def _pending(state: str) -> str:
    """Why a test that has not run did not, in a report of a run in ``state``."""
    from harness.report.live import INTERRUPTED, PENDING

    return {"running": PENDING, "interrupted": INTERRUPTED,
            "error": "not run: the suites stopped"}.get(state, "not_run")


def _certification_plan(path: Path, spec: BenchSpec, profiles: ProfileSet,
                        profiles_dir: Path, only: set[str] | None) -> int:
    """``certify --plan``: the suites collected, not run; per maker, each requirement with
    the tests that would decide it. Exit 1 when a requirement has none (it would fail)."""
    import pytest

    from harness.paths import project_file
    from harness.report.certification import CertificationCollector, applicable

    collector = CertificationCollector(spec, only)
    code = pytest.main(
        [str(project_file("suites")), "--collect-only", "-p", "no:terminal",
         "-p", "no:cacheprovider", "-p", "no:labgrid", "-o", "addopts=", "--bench", str(path),
         "--profiles", str(Path(profiles_dir).resolve()), "--rootdir", str(project_file("."))],
        plugins=[collector],
    )
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
        raise RigError(f"the suites could not be collected (pytest exit {int(code)})")
    uncovered = 0
    for maker, req_ids in applicable(profiles, spec, only).items():
        print(maker)
        for req in req_ids:
            deciding = [t.nodeid for t in collector.tests.values()
                        if req in t.requirements and (maker in t.makers or not t.makers)]
            uncovered += not deciding
            print(f"  {req:8} {len(deciding):3} test(s)" if deciding
                  else f"  {req:8}   NO TEST: this requirement would fail")
    return EXIT_OK if not uncovered else EXIT_VIOLATION


def _every_maker_profiled(path: Path, spec: BenchSpec, profiles: ProfileSet,
                          profiles_dir: Path) -> None:
    """A face-auth reader whose maker has no profile would be certified against nothing:
    that is bad input, not a pass."""
    from harness.errors import BadInput
    from harness.loading import line_of, read_layered_yaml

    for i, reader in enumerate(spec.readers):
        if reader.kind == "face_auth_reader" and reader.maker not in profiles.profiles:
            _, lines = read_layered_yaml(path)
            known = ", ".join(sorted(profiles.profiles)) or "none"
            raise BadInput(str(path), line_of(lines, ("readers", i, "maker")),
                           f"readers[{i}].maker",
                           f"{reader.maker!r} has no vendor profile in {profiles_dir} "
                           f"(profiles: {known})")


def _die_with_parent() -> None:
    """In a part, before it runs: SIGTERM when the parent dies (even by SIGKILL), so no
    part goes on alone; it then finishes its own report as interrupted."""
    import contextlib
    import ctypes

    # Not Linux: a part outlives a killed parent (and finishes on its own).
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _certify_in_parts(args: argparse.Namespace, path: Path, spec: BenchSpec,
                      profiles: ProfileSet, keys: list[str], jobs: int, out: Path,
                      run_id: str) -> int:
    """The makers split over ``jobs`` processes, each on its own emulated bench (the twins
    are independent per maker); the reports merged into one as they change.

    A signal to this process is passed on to the parts (each in a session of its own, so a
    Ctrl-C reaches them once, through here); each finishes its report as interrupted, and
    the merged report keeps what they decided."""
    import datetime as dt

    from harness.report.certification import applicable
    from harness.report.stop import stopping

    sizes = applicable(profiles, spec)
    groups: list[list[str]] = [[] for _ in range(jobs)]
    for key in sorted(keys, key=lambda k: -len(sizes.get(k, []))):
        min(groups, key=lambda g: sum(len(sizes.get(k, [])) for k in g)).append(key)
    console = _console(args)
    console.parts = jobs
    console.say(f"certifying {spec.bench!r} ({path.name}) into {out}, "
                f"in {jobs} parts: {' | '.join(', '.join(g) for g in groups)}")
    started = dt.datetime.now().astimezone()
    procs: list[subprocess.Popen[str]] = []

    def forward(stop) -> None:  # noqa: ANN001
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(stop.signum)

    with stopping(forward) as stop:
        try:
            return _run_parts(args, path, spec, profiles, keys, groups, out, run_id, started,
                              procs, stop, console)
        finally:
            console.close()


def _run_parts(args: argparse.Namespace, path: Path, spec: BenchSpec, profiles: ProfileSet,
               keys: list[str], groups: list[list[str]], out: Path, run_id: str,
               started: dt.datetime, procs: list[subprocess.Popen[str]], stop: Stop,
               console: Progress) -> int:
    """:func:`_certify_in_parts` once signals are handled: start the parts, pass their
    progress on (their console events, into this run's console), merge their reports as
    they change and at the end."""
    import datetime as dt
    import selectors
    import subprocess
    import time

    from harness.model.profiles import default_profiles_dir
    from harness.report.certification import (
        applicable,
        bench_info,
        merge_reports,
        not_run_rows,
    )
    from harness.report.junit import JUNIT_FILE
    from harness.report.live import INTERRUPTED, PENDING, LiveReport
    from harness.report.progress import parse_event
    from harness.report.provenance import provenance
    from harness.report.requirements import requirement_texts

    jobs = len(groups)
    sizes = applicable(profiles, spec)
    profiles_dir = args.profiles or default_profiles_dir()
    rig = provenance(Path(profiles_dir).resolve())
    texts = requirement_texts(profiles, {k: sizes[k] for k in keys})
    bench = bench_info(path, spec)
    fates: dict[int, str] = {}  # part index -> why its unfinished requirements did not run

    def build(state: str) -> dict:
        # Each part's report carries this run's id: a part file of another run can never
        # stand in for a part that did not finish in this one.
        parts = []
        for i, group in enumerate(groups):
            fate = fates.get(i, _pending(state))
            report = _part_report(out / f"part-{i + 1}", run_id)
            if report is None:
                report = {"bench": bench, "passed": False,
                          "makers": {k: not_run_rows(sizes[k], fate) for k in group}}
            elif fate != PENDING:
                _relabel_pending(report, fate)
            parts.append(report)
        report = merge_reports(parts, started, dt.datetime.now().astimezone())
        report.update(rig=rig, requirements=texts)
        if args.pytest_args:
            report["pytest_args"] = list(args.pytest_args)
        return report

    live = LiveReport(out, run_id, build, html=True)
    live.update()
    for i, group in enumerate(groups):
        if stop.signum is not None:
            break
        cmd = [sys.executable, "-m", "harness.cli", "certify", "--bench", str(path),
               "--jobs", "1", "--out", str(out / f"part-{i + 1}"), "--run-id", run_id,
               "--console", "events"]
        if args.profiles:
            cmd += ["--profiles", str(args.profiles)]
        if args.no_evidence:
            cmd += ["--no-evidence"]
        for key in group:
            cmd += ["--vendor", key]
        if args.pytest_args:
            cmd += ["--", *args.pytest_args]
        procs.append(subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
            start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None))
    sel = selectors.DefaultSelector()
    for i, proc in enumerate(procs):
        assert proc.stdout is not None
        sel.register(proc.stdout, selectors.EVENT_READ, i)
    open_streams = len(procs)
    said: list[list[str]] = [[] for _ in groups]
    merged_at, killed = 0.0, False
    while open_streams:
        # Parts that do not stop within a minute of the signal are killed.
        if stop.signum is not None and not killed and stop.since() > 60:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
            killed = True
        for key, _ in sel.select(timeout=0.5):
            line = key.fileobj.readline()  # type: ignore[union-attr]
            if not line:
                sel.unregister(key.fileobj)
                open_streams -= 1
                continue
            event = parse_event(line)
            if event is None:  # its header, summary or error: shown only if it fails to run
                said[key.data].append(line)
            elif "collected" in event:
                console.collected(int(event["collected"]))
            elif "test" in event:  # a test finished: its part's report is new
                console.finished(event["test"])
                if time.monotonic() - merged_at >= 1.0:
                    live.update()
                    merged_at = time.monotonic()
    codes: list[int | None] = [proc.wait() for proc in procs]
    console.close()
    codes += [None] * (len(groups) - len(procs))
    reports = [_part_report(out / f"part-{i + 1}", run_id) for i in range(jobs)]
    junit = [(out / f"part-{i + 1}" / JUNIT_FILE, groups[i]) for i in range(jobs)]
    if stop.signum is not None:
        fates.update({i: INTERRUPTED for i in range(jobs)})
        _finish(live, "interrupted", junit, mode=console.mode)
        print(f"interrupted ({stop.name}): the report holds what the parts decided, the "
              "rest not run", file=sys.stderr, flush=True)
        return stop.exit_code
    # A part counts only when it finished (exit 0: all passed, 1: violations) and wrote
    # this run's finished report.
    broken = [i for i, code in enumerate(codes)
              if code not in (EXIT_OK, EXIT_VIOLATION) or reports[i] is None
              or reports[i].get("state") != "finished"]
    if broken:
        fates.update({i: f"not run: part {i + 1} did not finish (exit {codes[i]})"
                      for i in broken})
        _finish(live, "error", junit, mode=console.mode)
        for i in broken:
            sys.stderr.write(f"part {i + 1} ({', '.join(groups[i])}):\n"
                             + "".join(said[i][-20:]))
        raise RigError(f"a part of the certification did not finish (exits {codes}); "
                       f"see {out}/part-*/")
    return _finish(live, "finished", junit, mode=console.mode)


def _relabel_pending(report: dict, fate: str) -> None:
    """A part's report left running: its tests not run yet will not run; ``fate`` says why."""
    from harness.report.live import PENDING

    for rows in report.get("makers", {}).values():
        for row in rows.values():
            if row.get("status") == "not_run":
                row["reasons"] = [r[:-len(PENDING)] + fate if r.endswith(PENDING) else r
                                  for r in row.get("reasons", [])]


def _part_report(folder: Path, run_id: str) -> dict | None:
    """The part's report, if this run wrote it."""
    try:
        report = json.loads((folder / "certification.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return report if isinstance(report, dict) and report.get("run") == run_id else None


def _finish(live: LiveReport, state: str, junit_parts: list[tuple[Path, list[str]]], *,
            part: bool = False, mode: str = "plain") -> int:
    """The run folder's last report, in ``state``: ``certification.json`` (with what
    produced it and the requirements' statements and notices), ``junit.xml`` and, for a
    whole run (not a part of one), ``certification.html``. The console gets the final table
    (``mode`` quiet: the verdict line only; a part: nothing, its parent shows the run)."""
    import xml.etree.ElementTree as ET

    from harness.report.html import HTML_FILE
    from harness.report.junit import JUNIT_FILE, finish_junit
    from harness.report.manifest import seal_run_folder, write_manifest

    report = live.update(state)
    out = live.out
    present = [(p, makers) for p, makers in junit_parts if p.is_file()]
    if present:
        try:
            finish_junit(out / JUNIT_FILE, present, bench=report["bench"]["name"],
                         bench_sha256=report["bench"]["sha256"],
                         commit=report["rig"]["commit"], passed=report["passed"],
                         run=live.run_id)
        except ET.ParseError as exc:  # a part killed while pytest wrote it
            print(f"junit.xml not written: a part's file is cut short ({exc})",
                  file=sys.stderr, flush=True)
    from harness.report.summary import final_table, verdict_line

    loud = mode in ("tty", "plain")
    if not part:
        from harness.report.allure_run import ALLURE_DIR, write_run_files

        write_run_files(out / ALLURE_DIR, report)  # what produced the results, categories
        seconds = live.write_html()
        if loud:
            print(f"HTML report: {out / HTML_FILE} ({seconds:.1f} s)", flush=True)
    if loud:
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
    if mode != "events":
        print(verdict_line(report, out), flush=True)
    if report["passed"]:
        return EXIT_OK
    failed = any(row["status"] == "failed" for rows in report["makers"].values()
                 for row in rows.values())
    return EXIT_BENCH_FAULT if report.get("bench_faults") and not failed else EXIT_VIOLATION


def version_text() -> str:
    """``onshi-rig 0.1.0``; from a checkout also its commit (and whether files differ)."""
    from harness.paths import checkout
    from harness.report.provenance import git_commit, rig_version

    text = f"onshi-rig {rig_version()}"
    source = checkout()
    if source is None:
        return text
    git = git_commit(source)
    if git["commit"] is None:
        return f"{text} (checkout {source}, not a git checkout)"
    modified = ", modified" if git["modified"] else ""
    return f"{text} (checkout {source}, commit {git['commit']}{modified})"


class _Version(argparse.Action):
    """``--version``: worked out only when asked (it may ask git)."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS,
                         help=kwargs.get("help"))  # type: ignore[arg-type]

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        print(version_text(), flush=True)
        parser.exit(EXIT_OK)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="onshi-rig",
        description="Test rig for the face-auth card readers of Japan's online eligibility system.",
        epilog="A lab's own profiles, screens and bench: onshi-rig.toml in the working folder "
               "(profiles = \"DIR\", screens = \"DIR\", bench = \"FILE\"; paths relative "
               "to it). Exit codes: 0 ok, 1 a rule violated, 2 bad input or a missing part.",
    )
    parser.add_argument("--version", action=_Version,
                        help="print the version (in a checkout, also its git commit); exit 0")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("scan", help="find the bench's readers, identify them, check the USB wiring rules")
    _bench_arg(p)
    _profiles_arg(p)
    p.add_argument("--json", action="store_true", help="one JSON object per device")
    p.add_argument("--pcsc", choices=("inprocess", "vpcd"), default=None,
                   help="emulated bench: how emulated cards reach PC/SC (default: the bench file's)")
    _wait_arg(p)
    p.set_defaults(func=_holding(cmd_scan))

    p = sub.add_parser("emulate", help="run the emulated bench until interrupted, its cards in pcscd")
    _bench_arg(p)
    p.add_argument("--card", type=Path, default=None, help="card file to put in each PC/SC reader")
    p.add_argument("--fault", type=_fault_arg, action="append", metavar="KIND[:TARGET]",
                   help="arm a bench fault (repeatable), e.g. reader.gone:sony-rc-s300-s1 "
                   "(the reader leaves at its next APDU) or pcscd.restarted")
    p.add_argument("--hardware", type=Path, default=None, metavar="DIR",
                   help="a bench in a box: serve the bench through real interfaces only "
                   "(ptys, MJPEG cameras on localhost, a sysfs folder) and write "
                   "DIR/bench.yaml, a kind: real bench file describing them")
    p.add_argument("--scale", type=_scale_arg, default=1.0,
                   help="with --hardware: bench seconds per wall second (the bench file's "
                   "clock.scale says the same to the rig; default 1)")
    p.add_argument("--fps", type=_scale_arg, default=8.0,
                   help="with --hardware: frames per wall second of each camera stream")
    p.set_defaults(func=cmd_emulate)

    p = sub.add_parser("pcscd-config", help="write the reader.conf that gives pcscd the bench's vpcd readers")
    _bench_arg(p)
    p.add_argument("--dir", type=Path, default=None, help="folder to write (default: print it)")
    p.set_defaults(func=cmd_pcscd_config)

    p = sub.add_parser("certify", help="run the suites; say per maker which requirements pass")
    _bench_arg(p)
    _profiles_arg(p)
    p.add_argument("--vendor", action="append", default=[], metavar="KEY",
                   help="only this maker's readers, or general_readers (repeatable; "
                        "default: every reader of the bench)")
    p.add_argument("--out", type=Path, default=None, metavar="DIR",
                   help="report folder (default: a new folder under reports/)")
    p.add_argument("--jobs", type=positive_int, default=min(2, os.cpu_count() or 1), metavar="N",
                   help="emulated bench: split the makers over N processes (default: 2 "
                        "where there are 2 cores; a real bench always runs as one)")
    p.add_argument("--plan", action="store_true",
                   help="collect the suites without running them: per maker, each requirement "
                        "with the number of tests that would decide it (exit 1: one has none)")
    p.add_argument("--no-evidence", action="store_true",
                   help="keep no camera frames (the HTML report then shows no pictures)")
    p.add_argument("--resume", action="store_true",
                   help="finish the run in --out DIR: keep the tests it decided (passed or "
                        "failed), run again those it did not (not run, skipped, stopped by a "
                        "bench fault); same bench file, profiles and rig only; as one job")
    p.add_argument("--quiet", action="store_true",
                   help="print only the failures, as they happen, and the final verdict")
    p.add_argument("--plain", action="store_true",
                   help="a line per finished test, no control characters, even on a "
                        "terminal (the default when stdout is not a terminal: CI logs)")
    # A part of a split run: its report carries the run's id, its console sends its
    # parent events (internal).
    p.add_argument("--run-id", default=None, help=argparse.SUPPRESS)
    p.add_argument("--console", choices=("events",), default=None, help=argparse.SUPPRESS)
    _wait_arg(p)
    p.set_defaults(func=_holding(cmd_certify), pytest_args=[])
    p.epilog = ("After --, options for each pytest run of the suites: certify -- -k E901 -x. "
                "A requirement they leave undecided is not run, and the certification does "
                "not pass.")

    p = sub.add_parser("catalogue", help="the requirement catalogue (docs/requirements.md) "
                                         "as Markdown, from the profiles")
    _profiles_arg(p)
    p.set_defaults(func=cmd_catalogue)

    p = sub.add_parser("probe", help="read a My Number card or phone on a general reader")
    _bench_arg(p)
    _profiles_arg(p)
    p.add_argument("--reader", required=True, help="the general reader (bench file name)")
    p.add_argument("--card", default=None, metavar="card|phone|FILE",
                   help="emulated bench: put this emulated card or phone on the reader")
    p.add_argument("--timeout", type=finite_positive_seconds, default=30.0, help="seconds to wait for a card")
    p.add_argument("--pcsc", choices=("inprocess", "vpcd"), default=None,
                   help="emulated bench: how emulated cards reach PC/SC")
    p.add_argument("--json", action="store_true", help="the report as one JSON object")
    _wait_arg(p)
    p.set_defaults(func=_holding(cmd_probe))

    from harness.cli_vision import add_parsers

    add_parsers(sub)
    from harness.cli_report import add_parsers as add_report_parsers

    add_report_parsers(sub)
    from harness.cli_schema import add_parsers as add_schema_parsers

    add_schema_parsers(sub)
    from harness.cli_help import document

    document(parser)  # every subcommand: what it does, an example, its exit codes
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    # `certify [options] -- PYTEST_ARGS`: what follows the first -- is pytest's, unparsed.
    passed_on = argv[argv.index("--") + 1:] if "--" in argv else None
    if passed_on is not None:
        argv = argv[:argv.index("--")]
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help
        return int(exc.code or 0)
    if passed_on is not None:
        if args.command != "certify":
            print(f"onshi-rig {args.command or ''}: options after -- are for certify's "
                  "pytest only", file=sys.stderr)
            return EXIT_BAD_INPUT
        args.pytest_args = passed_on
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_BAD_INPUT
    from harness.config import lab_config

    try:
        lab_config()  # a bad onshi-rig.toml stops every command before it starts
    except RigError as exc:
        print(exc, file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        return args.func(args)
    except RigError as exc:
        print(f"onshi-rig {args.command}: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130
    finally:
        from harness.report.console import settle_streams

        settle_streams()


if __name__ == "__main__":
    sys.exit(main())
