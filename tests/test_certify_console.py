"""``onshi-rig certify``'s console, and pytest options passed through after ``--``.

Three small certifications of the miswired bench (tests/test_report_commands.py): the general
readers' USB-04 and USB-05 only (``-- -k``), where the unverified Sony RC-S380 fails both
(12 tests, 2 failing). On a terminal (a pty): the updating line with its control characters;
through a pipe, on two pytest-xdist workers: a line per test and none; on a pty with ``--quiet``:
the failures and the verdict only. What ``-k`` left undecided is not run, and the
certification does not pass.
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.cli import main
from harness.model.profiles import ProfileSet, default_profiles_dir
from harness.paths import project_file
from harness.report.progress import Progress, clock_text

BENCH = project_file("fixtures/benches/miswired.yaml")
SELECT = ["--", "-k", "USB-04 or USB-05"]
RC_S380 = "sony-rc-s380"
CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")
#: The general readers' requirements other than USB-04 and USB-05: what -k leaves not run.
OTHERS = sorted(r.id for r in ProfileSet.load(default_profiles_dir()).general().requirements
                if r.id not in ("USB-04", "USB-05"))
STATUS = re.compile(r"\[(\d+)/(\d+|\?)\] (\d\d):(\d\d) (~\d\d:\d\d left|~--:-- left|done)")


def _certify_args(out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "harness.cli", "certify", "--bench", str(BENCH),
            "--vendor", "general_readers", "--jobs", "1", "--out", str(out), *extra, *SELECT]


def _on_pty(argv: list[str]) -> tuple[int, str]:
    """Run ``argv`` with a pseudo-terminal as its stdin, stdout and stderr; all it wrote."""
    main_fd, child_fd = pty.openpty()
    proc = subprocess.Popen(argv, stdin=child_fd, stdout=child_fd, stderr=child_fd,
                            cwd=project_file("."), close_fds=True)
    os.close(child_fd)
    chunks, deadline = [], time.monotonic() + 300
    while time.monotonic() < deadline:
        ready, _, _ = select.select([main_fd], [], [], 1.0)
        if not ready:
            if proc.poll() is not None:
                break
            continue
        try:
            data = os.read(main_fd, 65536)
        except OSError:  # EIO: the child closed its end
            break
        if not data:
            break
        chunks.append(data)
    os.close(main_fd)
    return proc.wait(timeout=60), b"".join(chunks).decode("utf-8", "replace")


def _report(out: Path) -> dict:
    return json.loads((out / "certification.json").read_text("utf-8"))


def _undecided_not_passed(out: Path) -> None:
    """USB-04 and USB-05 judged (failed on the RC-S380); every other requirement of the
    general readers not run, because -k deselected its tests: not passed, not "no test"."""
    report = _report(out)
    rows = report["makers"]["general_readers"]
    assert len(OTHERS) >= 5
    assert {r: row["status"] for r, row in rows.items()} == {
        "USB-04": "failed", "USB-05": "failed", **dict.fromkeys(OTHERS, "not_run")}
    for req in OTHERS:
        assert rows[req]["tests"], req
        assert all(r.endswith(": not run: deselected by the pytest options given after --")
                   for r in rows[req]["reasons"]), rows[req]
    assert report["passed"] is False and report["pytest_args"] == SELECT[1:]
    ran = {n for n, t in report["tests"].items() if t["outcome"] != "not_run"}
    assert len(ran) == 12 and all(n.endswith(("-USB-04]", "-USB-05]")) for n in ran)


@pytest.fixture(scope="module")
def tty_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str, Path]:
    out = tmp_path_factory.mktemp("console") / "tty"
    code, text = _on_pty(_certify_args(out))
    return code, text, out


def test_a_terminal_gets_one_updating_line_and_failures_as_they_happen(
        tty_run: tuple[int, str, Path]) -> None:
    code, text, out = tty_run
    assert code == 1, text[-3000:]
    # The line is redrawn in place (carriage return, erase line), never a new line per test.
    redraws = [m.group(0) for m in re.finditer(r"\r\x1b\[K\[[^\r\n]*", text)]
    counts = [int(m.group(1)) for r in redraws if (m := STATUS.search(r))]
    assert len(redraws) >= 12 and counts, text[-2000:]
    assert counts == sorted(counts) and counts[-1] == 12  # counts up, never back
    assert "[12/12]" in text and re.search(r"\[\d+/12\] \d\d:\d\d ~\d\d:\d\d left", text)
    # The estimate comes once a test has finished; the total once the suites are collected.
    first = STATUS.search(redraws[0])
    assert first is not None and first.group(5) == "~--:-- left"
    assert "\n" not in "".join(redraws)
    # Each failure printed above the line as it happened: before the run's end, in red.
    end = text.index("[12/12]")
    for req in ("USB-04", "USB-05"):
        line = re.search(rf"\x1b\[31mFAIL\x1b\[0m {req} general_readers: {RC_S380}: "
                         rf"[^\r\n]+\(suites/[^\r\n]+{RC_S380}-{req}\]\)\r\n", text)
        assert line is not None and line.start() < end, req
    assert re.search(r"\[12/12\] \d\d:\d\d done, 2 failing\r\n", text)
    # The final table and verdict after it, on lines of their own.
    tail = text[text.index("done, 2 failing"):]
    assert f"general_readers  passed   0  failed   2  not run {len(OTHERS):3}" in tail
    assert tail.rstrip().endswith(
        f"NOT PASSED: 2 failed, {len(OTHERS)} not run; report: {out / 'certification.json'}")
    _undecided_not_passed(out)


def test_a_pipe_gets_a_line_per_test_and_no_control_character(
        tmp_path: Path) -> None:
    """Plain mode, through a run on two pytest-xdist workers (one pytest run: certify shows
    the workers' tests as one run; the options after -- reach the workers' collection)."""
    out = tmp_path / "pipe"
    argv = _certify_args(out)[:-len(SELECT)] + ["--", "-k", "USB-04 or USB-05 or USB-02"]
    argv[argv.index("--jobs") + 1] = "2"
    argv[argv.index("--vendor") + 1:argv.index("--vendor") + 1] = ["usen_almex", "--vendor"]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=300,
                          cwd=project_file("."))
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert not CONTROL.search(proc.stdout), repr(proc.stdout[-2000:])
    assert "on 2 pytest-xdist workers" in proc.stdout
    tests = [line for line in proc.stdout.splitlines() if re.match(r"  (pass|FAIL) ", line)]
    report = _report(out)
    ran = {n for n, t in report["tests"].items() if t["outcome"] != "not_run"}
    assert {line.split()[1] for line in tests} == ran and len(tests) == len(ran) == 13
    # The count: 1 to 13 in order, of the 13 the workers collected.
    counts = [STATUS.search(line) for line in tests]
    assert [int(m.group(1)) for m in counts if m] == list(range(1, 14))
    assert counts[-1] is not None and counts[-1].group(2) == "13"
    # A failure's reason on the line after it, indented.
    lines = proc.stdout.splitlines()
    for req in ("USB-04", "USB-05"):
        at = next(i for i, line in enumerate(lines)
                  if line.startswith("  FAIL ") and f"{RC_S380}-{req}]" in line)
        assert lines[at + 1].startswith(f"       {req} general_readers: {RC_S380}: "), \
            lines[at:at + 2]
    # usen_almex's USB-02 passed; everything else of it was deselected: not run.
    rows = report["makers"]["usen_almex"]
    assert rows["USB-02"]["status"] == "passed"
    assert {r["status"] for q, r in rows.items() if q != "USB-02"} == {"not_run"}
    assert report["pytest_args"] == ["-k", "USB-04 or USB-05 or USB-02"]
    assert report["passed"] is False
    assert proc.stdout.rstrip().splitlines()[-1].startswith("NOT PASSED: 2 failed, ")


def test_quiet_prints_the_failures_and_the_verdict_only(tmp_path: Path) -> None:
    """On a terminal too: no updating line, no table."""
    out = tmp_path / "quiet"
    code, text = _on_pty(_certify_args(out, "--quiet"))
    assert code == 1, text[-3000:]
    assert not CONTROL.search(text.replace("\r\n", "\n")), repr(text)
    lines = text.replace("\r\n", "\n").strip().splitlines()
    assert len(lines) == 3, lines
    for line, req in zip(lines, ("USB-04", "USB-05"), strict=False):
        assert line.startswith(f"FAIL {req} general_readers: {RC_S380}: ")
        assert line.endswith(f"(suites/test_usb_wiring.py::test_wiring_rule[{RC_S380}-{req}])")
    assert lines[2] == \
        f"NOT PASSED: 2 failed, {len(OTHERS)} not run; report: {out / 'certification.json'}"
    _undecided_not_passed(out)


@pytest.mark.parametrize("given", [["--junitxml=x.xml"], ["-p", "no:onshi_rig"],
                                   ["-pno:onshi_rig"], ["--bench", "other.yaml"],
                                   ["-o", "addopts=-x"]])
def test_options_certify_sets_itself_are_refused(given: list[str], tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["certify", "--out", str(tmp_path / "run"), "--", "-k", "USB", *given])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert f"-- {given[0]}" in err
    assert not (tmp_path / "run").exists()  # refused before any work


def test_options_after_dashdash_are_certify_s_only(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalogue", "--", "-k", "x"]) == 2
    assert "after -- are for certify" in capsys.readouterr().err


def test_the_estimate_is_the_mean_time_per_test_times_the_tests_left() -> None:
    now = [100.0]
    lines: list[str] = []

    class Sink:
        def write(self, text: str) -> None:
            lines.append(text)

        def flush(self) -> None:
            pass

    progress = Progress(Sink(), "plain", clock=lambda: now[0])  # type: ignore[arg-type]
    now[0] = 110.0
    progress.finished({"nodeid": "a", "outcome": "passed", "failures": []})
    assert lines[-1] == "  pass a  [1/?] 00:10 ~--:-- left\n"  # not counted yet
    progress.collected(8)
    now[0] = 120.0
    progress.finished({"nodeid": "b", "outcome": "failed", "failures": ["X-01 m: why\nnot"]})
    # 2 of 8 in 20 s: 10 s each, 6 left.
    assert lines[-1] == "  FAIL b  [2/8] 00:20 ~01:00 left\n       X-01 m: why not\n"
    assert progress.status(done=True) == "[2/8] 00:20 done, 1 failing"
    assert clock_text(3725) == "1:02:05" and clock_text(65) == "01:05"
