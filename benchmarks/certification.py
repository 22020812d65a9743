"""The full certification run on the emulated bench: wall time and the bench time it stands for.

    python benchmarks/certification.py [--bench FILE] [--runs N]

Each run is ``onshi-rig certify`` in a fresh process (as ``./run main`` runs it, on two
pytest-xdist workers on two cores, a maker's tests on one), all five makers and the general
readers. The runs' folders lie side by side, as in a reports folder: the first plans its
workers by the makers' numbers of requirements, each later one by the seconds the run
before it measured (harness/report/plan.py); each run says which. Bench time is read off the run's timeline: the last event's
bench second, i.e. how long the same sequence takes on a real bench (power-on waits, nightly
distribution windows, reboots, time-outs).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def one_run(bench: Path | None, out: Path) -> tuple[float, float, int, bool, str]:
    cmd = [sys.executable, "-m", "harness.cli", "certify", "--out", str(out)]
    if bench is not None:
        cmd += ["--bench", str(bench)]
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - started
    last = 0.0
    # One timeline per worker (each with its own bench): their bench times add up.
    for timeline in out.glob("**/timeline.jsonl"):
        with timeline.open(encoding="utf-8") as lines:
            last += max((float(json.loads(line)["t"]) for line in lines), default=0.0)
    report = json.loads((out / "certification.json").read_text(encoding="utf-8"))
    tests = {t for rows in report["makers"].values() for row in rows.values()
             for t in row["tests"]}
    planned = next((line.split("planned by ", 1)[1].removesuffix(")")
                    for line in proc.stdout.splitlines() if "planned by " in line), "one job")
    return wall, last, len(tests), proc.returncode == 0, planned


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", type=Path, default=None)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    walls = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.runs):
            wall, bench_s, tests, ok, planned = one_run(args.bench, Path(tmp) / f"run-{i + 1}")
            walls.append(wall)
            print(f"run {i + 1}: {wall:.1f} s wall for {bench_s / 3600:.1f} h of bench time "
                  f"({bench_s:.0f} s), {tests} deciding tests, certified: "
                  f"{'yes' if ok else 'NO'}; workers planned by {planned}")
    if len(walls) > 1:
        print(f"median wall {statistics.median(walls):.1f} s over {len(walls)} runs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
