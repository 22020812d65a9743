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
import json
import math
from collections.abc import Iterable
from pathlib import Path

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


def _measured(path: Path, bench_sha256: str) -> tuple[dt.datetime, dict[str, float]] | None:
    """When a finished run of the bench ended, and each maker's seconds in it; None for a
    report of another bench, one not finished, or not a run's."""
    if path.stat().st_size > LARGEST_REPORT:
        return None
    report = json.loads(path.read_text("utf-8"))
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
