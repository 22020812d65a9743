"""Which pytest-xdist worker certifies which maker (``certify --jobs N``).

A maker's tests run on one worker, so a run lasts as long as its busiest worker: the makers
are split so that the busiest has the least work. How much work a maker is, is known after
a run, not before: the makers differ by half in wall time for the same number of
requirements (more screens, more looks per screen, a boot test). So a run plans by the
seconds each maker's tests took in the newest finished run of the same bench beside its
folder (the reports folder's earlier runs: each test's record keeps its seconds), and by
the makers' numbers of requirements when there is none.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import os
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import attrs

from harness.loading import json_loads
from harness.report.live import REPORT_FILE

#: Earlier runs looked at, newest first (a reports folder may hold hundreds).
LOOKED_AT = 20
#: A report larger than this is not read for its seconds (a full run's is a few MB).
LARGEST_REPORT = 64 * 2**20
#: Splits tried one by one up to this many (workers ** makers); past it, the largest maker
#: first to the least loaded worker.
TRIED = 100_000


def earlier_seconds(out: Path, bench_sha256: str, makers: Iterable[str]
                    ) -> tuple[dict[str, float], Path] | None:
    """Per maker, the seconds its tests took in the newest finished run of the bench (by
    its SHA-256) beside ``out`` that ran each of ``makers``, and that run's folder; None
    when there is none. A test counts for its first maker, as the workers are planned."""
    wanted = set(makers)
    try:
        folders = sorted((f for f in out.parent.iterdir() if f != out and f.is_dir()),
                         key=_mtime, reverse=True)[:LOOKED_AT]
    except OSError:
        return None
    best: tuple[dt.datetime, dict[str, float], Path] | None = None
    for folder in folders:
        try:
            measured = _measured(folder / REPORT_FILE, bench_sha256)
        except Exception:  # noqa: BLE001 - any file beside the run: not a measure, not a fault
            continue
        if measured is None or not all(measured[1].get(m, 0.0) > 0 for m in wanted):
            continue
        ended, seconds = measured
        if best is None or ended > best[0]:
            best = (ended, {m: seconds[m] for m in wanted}, folder)
    return None if best is None else (best[1], best[2])


def _report_at(path: Path) -> Any:
    """The JSON of the report at ``path``, read from a regular file only and at most
    :data:`LARGEST_REPORT` bytes of it (None otherwise): a FIFO named certification.json
    blocked the read for ever (size 0 said nothing), a link to /dev/zero never ended."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            return None
        raw = handle.read(LARGEST_REPORT + 1)
    return None if len(raw) > LARGEST_REPORT else json_loads(raw.decode("utf-8"))


def _measured(path: Path, bench_sha256: str) -> tuple[dt.datetime, dict[str, float]] | None:
    """When a finished run of the bench ended, and each maker's seconds in it; None for a
    report of another bench, one not finished, or not a run's."""
    report = _report_at(path)
    if not isinstance(report, dict):
        return None
    if report.get("state") != "finished" or report["bench"]["sha256"] != bench_sha256:
        return None
    ended = dt.datetime.fromisoformat(report["ended"])
    if ended.tzinfo is None:
        return None
    seconds: dict[str, float] = {}
    for test in report["tests"].values():
        maker = (test.get("makers") or ["-"])[0]
        took = float(test.get("seconds", 0.0))
        if not (math.isfinite(took) and took >= 0):
            return None
        seconds[maker] = seconds.get(maker, 0.0) + took
    return ended, seconds


def _mtime(folder: Path) -> float:
    try:
        return folder.stat().st_mtime
    except OSError:
        return 0.0


def split(costs: dict[str, float], workers: int) -> dict[str, int]:
    """Maker -> worker slot, the busiest worker's total the least: every split while they
    are few (``workers ** makers`` up to :data:`TRIED`), else the largest first to the
    least loaded. Ties go to the split found first (makers in name order), so a plan is
    the same from run to run."""
    workers = max(1, workers)
    makers = sorted(costs, key=lambda m: (-costs[m], m))
    if not makers:
        return {}
    if workers ** len(makers) <= TRIED:
        best: tuple[float, tuple[int, ...]] | None = None
        # The first maker on slot 0: the slots are alike, so the other splits repeat these.
        for rest in itertools.product(range(workers), repeat=len(makers) - 1):
            slots = (0, *rest)
            load = [0.0] * workers
            for maker, slot in zip(makers, slots, strict=True):
                load[slot] += costs[maker]
            if best is None or max(load) < best[0] - 1e-9:
                best = (max(load), slots)
        assert best is not None
        return dict(zip(makers, best[1], strict=True))
    load = [0.0] * workers
    plan: dict[str, int] = {}
    for maker in makers:
        slot = load.index(min(load))
        plan[maker] = slot
        load[slot] += costs[maker]
    return plan


#: An operator step that is a disk-image restore (harness.hands.ManualHands.restore).
RESTORE_STEP = "restore the terminal's"


@attrs.frozen
class OperatorCost:
    """What a selection of tests asks of the person at a real bench, as measured: each
    test's steps in the newest earlier run of the same bench that ran it (a run's
    certification.json lists every step under ``operator``)."""

    prompts: int = 0
    restores: int = 0
    #: Bench seconds the measured tests took.
    seconds: float = 0.0
    measured: tuple[str, ...] = ()
    unmeasured: tuple[str, ...] = ()
    #: The run folders the measures come from.
    runs: tuple[Path, ...] = ()
    #: Tests counted only from records that stopped before their end (a bench fault): they
    #: asked less than they will, so the counts are a floor.
    partial: tuple[str, ...] = ()
    #: Earlier runs of the bench not counted: their files do not match their manifest (or
    #: they have none), so their numbers are not the run's.
    unsealed: tuple[Path, ...] = ()


#: Earlier runs a plan counts the operator's steps in, newest first.
COUNTED_RUNS = 100


def operator_cost(runs_dir: Path, bench_sha256: str, tests: Iterable[str]) -> OperatorCost:
    """The prompts and restores ``tests`` asked on the bench (by its SHA-256), each test's
    most in the newest runs under ``runs_dir``, finished or interrupted and as sealed; a
    test no run of the bench ran is left uncounted, one only stopped early (a bench fault)
    counted as a floor, and both said to be."""
    wanted = list(dict.fromkeys(tests))
    found: dict[str, tuple[list[dict[str, object]], float, Path, bool]] = {}
    unsealed: list[Path] = []
    try:
        folders = sorted((f for f in runs_dir.iterdir() if f.is_dir()), key=_mtime,
                         reverse=True)[:COUNTED_RUNS]
    except OSError:
        folders = []
    for folder in folders:
        ran = _steps_of(folder / REPORT_FILE, bench_sha256)
        if not any(n in wanted for n in ran):
            continue
        if not _sealed(folder):
            unsealed.append(folder)
            continue
        for nodeid, (steps, seconds, whole) in ran.items():
            # A record that ran to its end first, then the most a test asked: a test stopped
            # early (a refusal, a bench fault) asked less than it would have.
            if nodeid in wanted and (nodeid not in found or (whole, len(steps)) > (
                    found[nodeid][3], len(found[nodeid][0]))):
                found[nodeid] = (steps, seconds, folder, whole)
    steps = [s for nodeid in wanted if nodeid in found for s in found[nodeid][0]]
    return OperatorCost(
        prompts=len(steps),
        restores=sum(RESTORE_STEP in str(s.get("what", "")) for s in steps),
        seconds=sum(found[n][1] for n in wanted if n in found),
        measured=tuple(n for n in wanted if n in found),
        unmeasured=tuple(n for n in wanted if n not in found),
        runs=tuple(dict.fromkeys(found[n][2] for n in wanted if n in found)),
        partial=tuple(n for n in wanted if n in found and not found[n][3]),
        unsealed=tuple(unsealed))


def _sealed(folder: Path) -> bool:
    """The run folder matches its manifest (a hand-edited or half-copied run's numbers are
    not the run's, as diff, merge and --resume refuse it)."""
    from harness.report.manifest import MANIFEST_FILE, check_manifest

    try:
        return (folder / MANIFEST_FILE).is_file() and check_manifest(folder).ok
    except Exception:  # noqa: BLE001 - an unreadable manifest: not sealed
        return False


#: Outcomes of a test that ran to its end; a bench fault stopped it part way.
WHOLE, STOPPED = ("passed", "failed"), ("bench_fault",)


def _steps_of(path: Path, bench_sha256: str
              ) -> dict[str, tuple[list[dict[str, object]], float, bool]]:
    """Per test that ran in the run at ``path`` (of the bench): its operator steps (each
    one question: an answer asked again counts again), its bench seconds and whether it ran
    to its end. A report with no ``operator`` list (a rig before steps were recorded) says
    nothing of them: not a measure, as one with impossible seconds."""
    try:
        report = _report_at(path)
        if not isinstance(report, dict) or report.get("state") not in ("finished", "interrupted") \
                or report["bench"]["sha256"] != bench_sha256 \
                or not isinstance(report.get("operator"), list):
            return {}
        out: dict[str, tuple[list[dict[str, object]], float, bool]] = {}
        for nodeid, test in report["tests"].items():
            if test.get("outcome") not in (*WHOLE, *STOPPED):
                continue
            took = float(test.get("seconds", 0.0))
            if not (math.isfinite(took) and took >= 0):
                return {}
            out[nodeid] = ([], took, test["outcome"] in WHOLE)
        for step in report["operator"]:
            if step.get("test") in out:
                out[step["test"]][0].append(step)
        return out
    except Exception:  # noqa: BLE001 - any file beside the run: not a measure, not a fault
        return {}


def describe_cost(cost: OperatorCost, runs_dir: Path) -> list[str]:
    """The plan's lines on what a maker's selection asks of the person."""
    total = len(cost.measured) + len(cost.unmeasured)
    unsealed = ([f"  {len(cost.unsealed)} earlier run(s) of this bench not counted: "
                 "their files do not match their manifest.sha256 ("
                 + ", ".join(f.name for f in cost.unsealed) + "; onshi-rig report verify)"]
                if cost.unsealed else [])
    if not cost.measured:
        return [f"operator: {total} test(s), not counted yet: no earlier run of this bench "
                f"under {runs_dir} ran them (each flow test starts from a disk-image restore "
                f"the person does; a run's certification.json lists every step)", *unsealed]
    hours = cost.seconds / 3600
    lines = [f"operator: {cost.prompts} prompt(s), {cost.restores} of them disk-image "
             f"restore(s), {hours:.1f} h of run time, for {len(cost.measured)} of "
             f"{total} test(s) as they ran on this bench "
             f"({', '.join(f.name for f in cost.runs)})"]
    if cost.partial:
        lines.append(f"  {len(cost.partial)} of them stopped before their end (a bench "
                     "fault) every time: not fully counted, so these numbers are a floor")
    if cost.unmeasured:
        lines.append(f"  {len(cost.unmeasured)} more test(s) never ran on this bench: not "
                     "counted, so these numbers are a floor")
    return [*lines, *unsealed]
