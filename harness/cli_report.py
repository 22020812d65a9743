"""``onshi-rig report render | verify | diff | allure | merge``: a run folder after the run.

Exit codes: ``render`` 0, 2 (no or a broken report; with ``--compared-with`` a folder not
as sealed), 130/143 (a signal while it wrote: it waited until the folder was sealed); ``verify`` 0 every file as sealed, 1 a file changed, missing or extra (each
listed), 2 no manifest; ``diff`` 0 nothing got worse, 1 a requirement newly fails or is
newly not run or a maker certified then is not now, 2 bad input (a folder without a report, or not as sealed); ``allure`` 0
generated, 2 bad input (no results, no generator, a previous run of another bench, without a
generated report, or not as sealed); ``merge`` 0 the merged
certification passes, 1 it does not (a requirement failed or not run, or two benches
certified a maker differently: a conflict), 2 bad input (a run unfinished, changed since
it was sealed, or given twice, by its folder or its run id; an --out folder not new or
empty), 130/143 stopped by a signal (nothing merged: the folder is made beside --out and
renamed into place whole).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import RigError
from harness.loading import json_loads

if TYPE_CHECKING:
    from harness.report.diff import RunDiff

EXIT_OK, EXIT_CHANGED, EXIT_BAD_INPUT = 0, 1, 2


def cmd_render(args: argparse.Namespace) -> int:
    from harness.report.junit import JUNIT_FILE
    from harness.report.live import REPORT_FILE
    from harness.report.manifest import MANIFEST_FILE, check_manifest, not_inside_another_run
    from harness.report.stop import deferred
    from harness.report.stored import load_run

    run_dir: Path = args.run_dir
    not_inside_another_run("render", run_dir, "render the folder it is in, or a copy of "
                           "the run outside it")
    report = load_run(run_dir)
    _not_running(run_dir, report)
    if not isinstance(report.get("tests"), dict):
        raise RigError(f"{run_dir / REPORT_FILE}: tests: missing (written by an older rig): "
                       f"{JUNIT_FILE} cannot be written from it; nothing rendered")
    # A sealed folder is sealed again after rendering, but only if it was intact: a changed
    # file is never blessed by a new manifest.
    sealed = (run_dir / MANIFEST_FILE).is_file()
    intact = sealed and check_manifest(run_dir).ok
    compared = None
    if args.compared_with is not None:
        from harness.report.diff import diff_runs

        # Both folders as sealed, or refused (diff_runs): the page names exactly that run.
        compared = diff_runs(args.compared_with, run_dir)
    # The files and the new manifest as one step: a signal between them left a sealed run
    # "changed" for good (render then never resealed it, diff and --resume refused it).
    with deferred(f"rendering {run_dir}") as stop:
        written = _render_files(run_dir, report, compared)
        resealed = _seal_again(run_dir, sealed, intact)
    # Printed once all is written: a closed stdout cannot stop it half way either.
    for line in written + resealed:
        print(line)
    if stop.signum is not None:
        print(f"{stop.name} as render ended: {run_dir} is rendered"
              + (" and sealed" if intact else ""), file=sys.stderr, flush=True)
        return stop.exit_code
    return EXIT_OK


def _render_files(run_dir: Path, report: dict[str, Any], compared: RunDiff | None
                  ) -> list[str]:
    """comparison.json (if ``compared``), certification.html and junit.xml written; what
    to say of them."""
    import jinja2

    from harness.report.html import write_html
    from harness.report.junit import JUNIT_FILE, report_junit
    from harness.report.live import REPORT_FILE
    from harness.report.merge import merged_junit

    lines = []
    try:
        if compared is not None:
            from harness.report.diff import write_comparison

            lines.append(f"compared with {compared.old_dir}: {write_comparison(compared)}")
        target = write_html(run_dir, report)
        # A merged folder's from its runs' own files (one suite per bench), as merge wrote it.
        junit = merged_junit(run_dir, report) if report.get("merged") is not None \
            else report_junit(run_dir / JUNIT_FILE, report)
    except (KeyError, TypeError, ValueError, AttributeError, jinja2.UndefinedError) as exc:
        raise RigError(f"{run_dir / REPORT_FILE}: cannot be rendered: "
                       f"{type(exc).__name__}: {exc}") from None
    except OSError as exc:
        raise RigError(f"{run_dir}: cannot write the report: {exc}") from None
    return [*lines, f"HTML report: {target}", f"JUnit XML: {junit}"]


def _not_running(run_dir: Path, report: dict[str, object]) -> None:
    """A run still going rewrites its HTML and JUnit itself (and later overwrote what
    render wrote): refused, as resume, merge and diff refuse it."""
    from harness.report.live import RUN_FILE
    from harness.report.resume import alive, run_started

    if report.get("state") != "running":
        return
    try:
        marker = json_loads((run_dir / RUN_FILE).read_text("utf-8"))
        pid = marker.get("pid")
    except (OSError, ValueError, AttributeError):
        return
    if alive(pid, run_started(marker), marker.get("boot")):
        raise RigError(f"{run_dir}: run {report.get('run')} is still going (process {pid}); "
                       "render it when it has ended")


def _seal_again(run_dir: Path, sealed: bool, intact: bool) -> list[str]:
    """A folder that matched its manifest before a command wrote into it is sealed again;
    one that did not keeps its manifest as it was (so the change stays visible). What to
    say of it is returned (said once all is written); the warning goes to stderr now."""
    from harness.report.manifest import MANIFEST_FILE, write_manifest

    if intact:
        write_manifest(run_dir)
        return [f"manifest: {run_dir / MANIFEST_FILE} (written again)"]
    if sealed:
        print(f"{MANIFEST_FILE} left as it was: the folder did not match it before "
              f"(onshi-rig report verify {run_dir})", file=sys.stderr)
    return []


def cmd_verify(args: argparse.Namespace) -> int:
    from harness.report.manifest import check_manifest

    result = check_manifest(args.run_dir)
    for line in result.lines():
        print(line)
    if result.ok:
        print(f"{args.run_dir}: all {result.checked} files as sealed")
        return EXIT_OK
    print(f"{args.run_dir}: {len(result.changed)} changed, {len(result.missing)} missing, "
          f"{len(result.extra)} extra of {result.checked} sealed", file=sys.stderr)
    return EXIT_CHANGED


def _outside_sealed_runs(option: str, path: Path) -> None:
    """A file to write that is not inside a sealed run folder (as ``--out`` is refused a
    folder that is not new or empty): the run would no longer verify."""
    from harness.report.manifest import outside_sealed_runs

    outside_sealed_runs(option, path)


#: What an HTML file ``report diff`` wrote says of itself, in its first lines.
DIFF_HTML_MARK = b'<meta name="generator" content="onshi-rig report diff">'


def _diff_html_target(path: Path) -> None:
    """``--html``'s file is new, or one ``report diff`` wrote: the file is replaced whole (a
    rename), so a user's file or a device (``/dev/null``) would be lost."""
    import stat

    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise RigError(f"--html {path}: cannot look at it ({exc.strerror})") from None
    if not stat.S_ISREG(mode):
        raise RigError(f"--html {path}: not a regular file (a folder or a device); give a "
                       "file to write")
    try:
        with path.open("rb") as file:
            head = file.read(4096)
    except OSError as exc:
        raise RigError(f"--html {path}: cannot read it ({exc.strerror})") from None
    if DIFF_HTML_MARK not in head:
        raise RigError(f"--html {path}: an existing file that report diff did not write; "
                       "give a new file (or remove it first)")


def cmd_diff(args: argparse.Namespace) -> int:
    from harness.report.diff import diff_runs, format_diff, write_diff_html

    if args.html is not None:
        _outside_sealed_runs("--html", args.html)
        _diff_html_target(args.html)
    diff = diff_runs(args.old_run, args.new_run)
    if args.html is not None:
        try:
            write_diff_html(diff, args.html)
        except OSError as exc:
            raise RigError(f"--html {args.html}: cannot write: {exc}") from None
    if args.json:
        sys.stdout.buffer.write((json.dumps(diff.as_json(), ensure_ascii=False, indent=2)
                                 + "\n").encode("utf-8"))
        sys.stdout.flush()
    else:
        print(format_diff(diff))
        if args.html is not None:
            print(f"HTML: {args.html}")
    return EXIT_CHANGED if diff.worse else EXIT_OK


def cmd_allure(args: argparse.Namespace) -> int:
    from harness.report.allure_report import generate_report
    from harness.report.manifest import MANIFEST_FILE, check_manifest, not_inside_another_run

    run_dir: Path = args.run_dir
    not_inside_another_run("allure", run_dir, "generate it for a copy of the run outside it")
    # As render: a folder intact before is sealed again with its report; a changed one not.
    sealed = run_dir.is_dir() and (run_dir / MANIFEST_FILE).is_file()
    intact = sealed and check_manifest(run_dir).ok
    target = generate_report(run_dir, args.history_from)
    print(f"allure report: {target} (open it: allure open {target})")
    for line in _seal_again(run_dir, sealed, intact):
        print(line)
    return EXIT_OK


def cmd_merge(args: argparse.Namespace) -> int:
    from harness.report.stop import stopping

    # SIGINT or SIGTERM: the merge undone (harness.report.merge), one line, 130 or 143.
    with stopping() as stop:
        try:
            from harness.report.merge import format_merge, merge_runs

            result = merge_runs(args.run_dirs, args.out, stop)
        except KeyboardInterrupt:
            print(f"interrupted ({stop.name}): nothing merged into {args.out}",
                  file=sys.stderr, flush=True)
            return stop.exit_code
    for line in format_merge(result):
        print(line)
    if stop.late is not None:  # it came as the merged folder was put in place: it is whole
        print(f"{signal.Signals(stop.late).name} as the merge ended: {args.out} is "
              "finished and sealed", file=sys.stderr, flush=True)
        return 128 + stop.late
    return EXIT_OK if result.passed else EXIT_CHANGED


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="a run folder after the run: render its HTML again, "
                                      "verify its files, compare two runs, merge benches' "
                                      "runs")
    report = p.add_subparsers(dest="report_command", metavar="ACTION", required=True)

    r = report.add_parser("render", help="write certification.html and junit.xml again from "
                                         "the folder's certification.json")
    r.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    r.add_argument("--compared-with", type=Path, default=None, metavar="OLD_RUN",
                   help="name an earlier run in the HTML: which run (id, bench and the "
                        "SHA-256 of its report), what changed since, per requirement newly "
                        "failing or passing (kept in RUN_DIR/comparison.json for later "
                        "renders; both folders must match their manifests)")
    r.set_defaults(func=cmd_render)

    r = report.add_parser("verify", help="check every file of the folder against its "
                                         "manifest.sha256 (exit 1: a file changed, missing "
                                         "or extra)")
    r.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    r.set_defaults(func=cmd_verify)

    r = report.add_parser("diff", help="what changed from one run to another: requirements "
                                       "newly failing, passing, not run (exit 1: something "
                                       "got worse)")
    r.add_argument("old_run", type=Path, metavar="OLD_RUN")
    r.add_argument("new_run", type=Path, metavar="NEW_RUN")
    r.add_argument("--html", type=Path, default=None, metavar="FILE",
                   help="also write the comparison as one HTML file, with the evidence "
                        "pictures of both runs side by side")
    r.add_argument("--json", action="store_true", help="the comparison as one JSON object")
    r.set_defaults(func=cmd_diff)

    r = report.add_parser("allure", help="generate the run's allure report into "
                                         "RUN_DIR/allure-report, with the trend of the "
                                         "bench's earlier runs (--history-from)")
    r.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    r.add_argument("--history-from", type=Path, default=None, metavar="PREV_RUN",
                   help="the previous run of the same bench (its allure-report generated, "
                        "its files as sealed): its history/ carried into this report")
    r.set_defaults(func=cmd_allure)

    r = report.add_parser("merge", help="the runs of several benches as one certification: "
                                        "each maker from the bench that certified it, "
                                        "conflicts shown (exit 1), never overwritten")
    r.add_argument("run_dirs", type=Path, nargs="+", metavar="RUN_DIR")
    r.add_argument("--out", type=Path, required=True, metavar="DIR",
                   help="the merged folder (new or empty): certification.json, .html, "
                        "junit.xml, manifest.sha256, each run copied whole into run-N/")
    r.set_defaults(func=cmd_merge)
