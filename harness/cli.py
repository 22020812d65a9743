"""``onshi-rig``: the rig's command line.

Exit codes: 0 success (wiring conforms), 1 a rule was violated, 2 bad input or usage, or a
missing system part; 130 and 143: stopped by SIGINT or SIGTERM (``certify`` finishes its
report first). User errors print one message, never a traceback.
"""

from __future__ import annotations

if __name__ == "__main__":  # ``python -m harness.cli``: a signal while it loads ends it too
    import sys as _sys

    from harness.entry import main as _entry

    _sys.exit(_entry())

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from harness.arguments import check_path_names, finite_positive_seconds, positive_int
from harness.errors import RigError

if TYPE_CHECKING:
    from collections.abc import Callable

    from harness.bench import Bench
    from harness.devices.jpki_probe import ProbeReport
    from harness.emulation.card import FileSystemCard
    from harness.model.bench_spec import BenchSpec
    from harness.model.profiles import ProfileSet

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
    devices, released at the end, on Ctrl-C and on SIGTERM or SIGHUP too (a CI runner's
    cancel, a closed terminal)."""

    def run(args: argparse.Namespace) -> int:
        from harness.bench import default_bench_path
        from harness.bench_lock import hold_bench

        if getattr(args, "plan", False):  # collects the suites; opens nothing
            return command(args)

        def terminate(signum: int, _frame: object) -> None:
            print(f"onshi-rig {args.command}: interrupted ({signal.Signals(signum).name})",
                  file=sys.stderr, flush=True)
            raise SystemExit(128 + signum)

        # (SIGHUP too: an ssh session gone between the run folder's claim and the run's
        # own handling of signals left a folder of run.json alone.)
        before = {sig: signal.signal(sig, terminate) for sig in (signal.SIGTERM, signal.SIGHUP)}
        try:
            with hold_bench(args.bench or default_bench_path(), wait_s=args.wait_for_bench):
                return command(args)
        finally:
            for sig, handler in before.items():
                signal.signal(sig, handler)

    return run


def _profiles_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--profiles", metavar="DIR", type=Path, default=None,
        help="folder of vendor profiles (default: onshi-rig.toml's profiles, else the "
             "shipped vendor_profiles/)",
    )


def _profiled_bench(args: argparse.Namespace) -> ProfileSet:
    """``--profiles`` loaded, once each face-auth reader of ``--bench`` is known to have
    its maker's profile among them (as certify checks)."""
    from harness.bench import default_bench_path, load_bench_spec
    from harness.model.profiles import ProfileSet, default_profiles_dir
    from harness.scan import check_makers

    folder = args.profiles or default_profiles_dir()
    profiles = ProfileSet.load(folder)
    path = args.bench or default_bench_path()
    check_makers(path, load_bench_spec(path), profiles, folder)
    return profiles


def cmd_scan(args: argparse.Namespace) -> int:
    from harness.bench import Bench
    from harness.report.console import guard_streams
    from harness.scan import format_table, scan

    guard_streams()  # `scan --json | head -1`: a reader gone is no BrokenPipeError traceback

    profiles = _profiled_bench(args)
    with Bench.load(args.bench, pcsc_service=args.pcsc) as bench:
        result = scan(bench, profiles)
    if args.json:
        print(json.dumps([row.as_json() for row in result.rows], ensure_ascii=False, indent=2))
    else:
        print(format_table(result))
    return EXIT_OK if result.conforms else EXIT_VIOLATION


def _folder_to_write(option: str, path: Path) -> None:
    """``option``'s folder can be written (it is one, or is made): else one line of bad
    input before any work, not an OSError from deep inside the writing."""
    from harness.arguments import folder_to_write

    folder_to_write(option, path)


def cmd_pcscd_config(args: argparse.Namespace) -> int:
    from harness.bench import check_bench_file, default_bench_path
    from harness.emulation.bench import load_twins, vpcd_slots
    from harness.emulation.pcscd import SYSTEM_READER_CONF, reader_conf, write_reader_conf

    if args.dir is not None:
        _folder_to_write("--dir", args.dir)
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


def _not_the_users_bench(folder: Path) -> None:
    """``emulate --hardware DIR`` writes DIR/bench.yaml: one a box wrote before is its
    own to replace, any other is the user's (it was overwritten without a word)."""
    from harness.emulation.box.box import BOX_MARK

    path = folder / "bench.yaml"
    try:
        with path.open("rb") as handle:
            head = handle.read(len(BOX_MARK.encode()))
    except FileNotFoundError:
        return
    except OSError as exc:
        raise RigError(f"--hardware {folder}: {path.name} cannot be read ({exc.strerror})"
                       ) from None
    if head != BOX_MARK.encode():
        raise RigError(f"--hardware {folder}: holds a bench.yaml a box did not write (the box "
                       "writes its own there); give another folder, or move the file")


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

    if args.hardware is not None:
        if args.fault:
            # A box serves its devices healthy; a lab proving its scripts handle a fault
            # would be handed a healthy device without a word.
            raise RigError("--fault with --hardware: a bench in a box does not inject faults; "
                           "run `emulate` without --hardware for them, or give the bench "
                           "file's `faults:` to certify")
        _folder_to_write("--hardware", args.hardware)
        _not_the_users_bench(args.hardware)
    path = args.bench or default_bench_path()
    spec = check_bench_file(path)
    if spec.kind != "emulated":
        raise RigError(f"{path}: `emulate` needs an emulated bench (kind: emulated)")
    if args.hardware is not None:
        return _emulate_box(args, path, spec)
    need_pcscd(str(path))
    card_path = args.card or project_file("fixtures/cards/test-card.yaml")
    stop = _stop_on_signals()
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
        _until(stop)
    print("stopped.")
    return EXIT_OK


def _emulate_box(args: argparse.Namespace, path: Path, spec: BenchSpec) -> int:
    """``emulate --hardware DIR``: the bench in a box (harness/emulation/box), until
    interrupted or terminated; DIR/bench.yaml describes it as a real bench."""
    from harness.emulation.box.box import Box

    stop = _stop_on_signals()
    box = Box(spec, Path(path), args.hardware, scale=args.scale, fps=args.fps,
              card=args.card)
    try:
        written = box.write()
        for line in box.pcsc_lines:
            print(line)
        print(f"bench in a box {spec.bench!r} running at {args.scale:g}x; its bench file: "
              f"{written}", flush=True)
        _until(stop)
    finally:
        box.close()
    print("stopped.")
    return EXIT_OK


def _stop_on_signals() -> threading.Event:
    """Set by SIGTERM or SIGHUP (the terminal closed, an ssh session gone): the bench is
    closed as on Ctrl-C, its cards taken out of pcscd's readers, not left for the next
    client to meet."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def _until(stop: threading.Event) -> None:
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass


def _scale_arg(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    from harness.model.bench_spec import MIN_SCALE

    # As the bench file's clock.scale: both sides say the same N.
    if not MIN_SCALE <= value <= 1000:
        raise argparse.ArgumentTypeError(f"{text!r}: a number from {MIN_SCALE:g} to 1000")
    return value


#: What ``--card`` takes besides a file: the shipped emulated card and phone.
CARD_SHORTCUTS = {"card": "fixtures/cards/mynumber-card.yaml",
                  "phone": "fixtures/cards/mynumber-phone.yaml"}


def _card_arg(value: str) -> Path:
    from harness.paths import project_file

    return project_file(CARD_SHORTCUTS[value]) if value in CARD_SHORTCUTS else Path(value)


def cmd_probe(args: argparse.Namespace) -> int:
    from harness.bench import Bench
    from harness.devices.jpki_probe import probe_pcsc
    from harness.report.console import guard_streams
    from harness.scan import scan

    guard_streams()  # `probe ... | head -1`: a reader gone is no BrokenPipeError traceback
    profiles = _profiled_bench(args)
    with Bench.load(args.bench, pcsc_service=args.pcsc) as bench:
        entry = bench.reader(args.reader).spec
        if bench.emulated and not args.card:
            # Nobody can place a card on an emulated reader: waiting for one only fails.
            raise RigError("an emulated bench's reader holds only the emulated card named: "
                           "give --card card|phone|FILE")
        if entry.kind != "general_reader":
            raise RigError(f"{args.reader!r} is a {entry.kind.replace('_', ' ')}; the probe "
                           "is for general readers")
        row = next((r for r in scan(bench, profiles).rows if r.name == args.reader), None)
        if args.nfc:
            if row is None or not row.present:
                # The frontend named could be another reader's (a copied nfc: line, nfcpy
                # opening the first of two alike): a read there is not this reader's.
                raise RigError(f"{args.reader!r}: not probed: it is not on the bench "
                               f"({row.note if row is not None else 'not scanned'}), so "
                               "nothing ties its NFC frontend's read to it")
            report = _probe_nfc(args, bench)
            return _print_probe(args, report)
        pcsc_name = row.pcsc_name if row else None
        if row is not None and row.pcsc_unknown is not None:
            # A guessed slot could be another reader's: its card, its name, its verdict.
            raise RigError(f"{args.reader!r}: not probed: {row.pcsc_unknown}")
        if pcsc_name is None:
            why = bench.pcsc_gaps.get(args.reader) or bench.pcsc_unavailable or \
                "no PC/SC reader on this bench matches it"
            raise RigError(f"{args.reader!r} has no PC/SC reader to probe: {why}")
        model = profiles.general().verified(entry.maker, entry.model)
        _card_on(args, bench, repr(pcsc_name),
                 lambda card: bench.emulation.insert_card(args.reader, card))
        report = probe_pcsc(bench.pcsc, pcsc_name, args.reader, args.timeout,
                            expected_name=model.app_name if model else None)
    return _print_probe(args, report)


def _card_on(args: argparse.Namespace, bench: Bench, where: str,
             put: Callable[[FileSystemCard], object]) -> None:
    """``probe --card``: the emulated card or phone ``put`` on the reader; without it a
    person is asked to place one on ``where``."""
    from harness.emulation.card import FileSystemCard

    if not args.card:
        print(f"place a My Number card or a phone on {where} (waiting up to "
              f"{args.timeout:g} s)", file=sys.stderr, flush=True)
        return
    if bench.emulation is None:
        raise RigError("--card puts an emulated card on an emulated bench's reader; on "
                       "a real bench, place a card or phone on the reader")
    put(FileSystemCard.load(args.card))


def _probe_nfc(args: argparse.Namespace, bench: Bench) -> ProbeReport:
    """``probe --nfc``: the card through the reader's NFC frontend (nfcpy, the bench file's
    ``nfc`` path), not its PC/SC side; no PC/SC name, so USB-05 is not judged."""
    from harness.devices.jpki_probe import probe_nfc
    from harness.devices.nfc import NfcFrontend

    path = bench.reader(args.reader).nfc_path
    if path is None:
        raise RigError(f"{args.reader!r} has no NFC frontend on this bench (a real bench "
                       "file's reader names it: nfc: usb:VID:PID or udp:HOST:PORT)")
    _card_on(args, bench, f"{args.reader} ({path})",
             lambda card: bench.emulation.place_on_nfc(args.reader, card))
    with NfcFrontend(path, args.reader, bench.timeline) as frontend:
        return probe_nfc(frontend, args.reader, args.timeout)


def _print_probe(args: argparse.Namespace, report: ProbeReport) -> int:
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
        if not args.nfc:
            verdict = {True: "matches", False: "DIFFERS", None: "not known"}[
                report.name_matches]
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
    from harness.certify_run import certify

    return certify(args)


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
    from harness.cli_help import TOP, Formatter, epilog, filled

    parser = argparse.ArgumentParser(
        prog="onshi-rig",
        description=filled(TOP.description),
        epilog=epilog(TOP, "A lab's own profiles, screens and bench: onshi-rig.toml in the "
                           "working folder (profiles = \"DIR\", screens = \"DIR\", bench = "
                           "\"FILE\"; paths relative to it)."),
        formatter_class=Formatter,
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
    p.add_argument("--card", type=_card_arg, default=None, metavar="card|phone|FILE",
                   help="the card (or phone, or card file) to put in each PC/SC reader "
                   "(default: the test card; with --hardware: none unless given)")
    p.add_argument("--fault", type=_fault_arg, action="append", metavar="KIND[:TARGET]",
                   help="arm a bench fault (repeatable), e.g. relay.garbage:mains (the "
                   "relay board's replies garbled) or relay.silent:mains; the PC/SC "
                   "faults are the in-process tier's (certify's bench file), refused here")
    p.add_argument("--hardware", type=Path, default=None, metavar="DIR",
                   help="a bench in a box: serve the bench through real interfaces only "
                   "(ptys, MJPEG cameras on localhost, a sysfs folder, vpcd readers in the "
                   "running pcscd, NFC on nfcpy's udp transport) and write "
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
                   help="emulated bench: run the suites on N pytest-xdist workers, each with "
                        "its own emulated bench, a maker's tests on one (default: 2 where "
                        "there are 2 cores; 1: no workers; a real bench always runs as one)")
    p.add_argument("--plan", action="store_true",
                   help="collect the suites without running them: per maker, each requirement "
                        "with the number of tests that would decide it (exit 1: one has none)")
    p.add_argument("--no-evidence", action="store_true",
                   help="keep no camera frames (the HTML report then shows no camera "
                        "pictures; a failure's timeline picture is still drawn)")
    p.add_argument("--resume", action="store_true",
                   help="finish the run in --out DIR: keep the tests it decided (passed or "
                        "failed), run again those it did not (not run, skipped, stopped by a "
                        "bench fault); same bench file, profiles and rig only; as one job")
    p.add_argument("--compared-with", type=Path, default=None, metavar="OLD_RUN",
                   help="name the run this one is compared with in its HTML (what changed "
                        "since, as `report diff` says it); OLD_RUN must be a sealed run "
                        "folder, checked before the run starts")
    p.add_argument("--quiet", action="store_true",
                   help="print only the failures, as they happen, and the final verdict")
    p.add_argument("--plain", action="store_true",
                   help="a line per finished test, no control characters, even on a "
                        "terminal (the default when stdout is not a terminal: CI logs)")
    _wait_arg(p)
    p.set_defaults(func=_holding(cmd_certify), pytest_args=[])
    p.epilog = ("After --, options for the pytest run of the suites: certify -- -k E901 -x. "
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
    p.add_argument("--card", type=_card_arg, default=None, metavar="card|phone|FILE",
                   help="emulated bench: put this emulated card or phone on the reader")
    p.add_argument("--timeout", type=finite_positive_seconds, default=30.0, help="seconds to wait for a card")
    p.add_argument("--pcsc", choices=("inprocess", "vpcd"), default=None,
                   help="emulated bench: how emulated cards reach PC/SC")
    p.add_argument("--nfc", action="store_true",
                   help="through the reader's NFC frontend (nfcpy; the bench file's nfc path) "
                   "instead of its PC/SC side")
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
    from harness.report.console import guard_streams, settle_streams

    # Every command's output: `render RUN | head -1`, `references | true` never stop a
    # command half way (a BrokenPipeError between its writes) nor end in a traceback;
    # --help and --version print as the command line is parsed.
    guard_streams()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help
        settle_streams()
        return _output_lost(argv[0] if argv else "", int(exc.code or 0))
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
    from harness.entry import loaded, stopped_code

    try:
        check_path_names(args)  # a name no file can have: before any work (no test runs)
        loaded()
        code = args.func(args)
    except RigError as exc:
        print(f"onshi-rig {args.command}: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt as exc:  # a command that says nothing of it: said here
        code = stopped_code(exc)
        print(f"onshi-rig {args.command}: interrupted ({signal.Signals(code - 128).name})",
              file=sys.stderr, flush=True)
        return code
    finally:
        settle_streams()
    return _output_lost(args.command, code)


def _output_lost(command: str, code: int) -> int:
    """A command whose output could not be written (``> file`` on a full disk): said in one
    line, exit 2 (what it printed is lost; its own files, a run's report, are not)."""
    from harness.report.console import output_failure

    for stream in (sys.stdout, sys.stderr):  # what is still buffered: its failure now
        stream.flush()
    failed = output_failure()
    if failed is None:
        return code
    print(f"onshi-rig {command}: cannot write its output ({failed}); what it printed is lost",
          file=sys.stderr, flush=True)
    return EXIT_BAD_INPUT

