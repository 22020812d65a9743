"""Planning a certification's makers over pytest-xdist workers (harness.report.plan)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from harness.report.plan import TRIED, earlier_seconds, split

#: Seconds measured for the default bench's makers (2026-12-04): as many requirements each,
#: half as much time again for one as for another.
MEASURED = {"atlas": 27.0, "fujitsu_japan": 21.0, "panasonic": 20.0, "usen_almex": 18.0,
            "canon": 16.0, "general_readers": 5.0}


def loads(plan: dict[str, int], costs: dict[str, float], workers: int) -> list[float]:
    load = [0.0] * workers
    for maker, slot in plan.items():
        load[slot] += costs[maker]
    return load


def test_the_split_whose_busiest_worker_has_least() -> None:
    plan = split(MEASURED, 2)
    assert set(plan) == set(MEASURED) and set(plan.values()) == {0, 1}
    # The largest first to the least loaded gives 57 (atlas+usen+general / the rest); the
    # best split 54 (atlas+fujitsu+general / panasonic+usen+canon).
    assert max(loads(plan, MEASURED, 2)) == pytest.approx(54.0)
    assert split(MEASURED, 2) == plan  # the same plan from run to run


def test_one_worker_and_more_workers_than_makers() -> None:
    assert set(split(MEASURED, 1).values()) == {0}
    plan = split({"a": 3.0, "b": 2.0}, 4)
    assert plan["a"] != plan["b"]
    assert split({}, 2) == {}


def test_many_makers_are_planned_largest_first() -> None:
    costs = {f"m{i:02d}": float(i + 1) for i in range(12)}
    assert 3 ** len(costs) > TRIED  # past the exhaustive search
    plan = split(costs, 3)
    load = loads(plan, costs, 3)
    assert set(plan) == set(costs)
    assert max(load) - min(load) <= max(costs.values())


def write_run(folder: Path, *, state: str = "finished", sha: str = "b" * 64,
              ended: str = "2026-12-04T10:00:00+00:00", makers: dict[str, float]) -> Path:
    folder.mkdir(parents=True)
    tests = {f"suites/test_flows.py::t[{m}-{i}]": {"makers": [m], "outcome": "passed",
                                                    "seconds": s / 2}
             for m, s in makers.items() for i in range(2)}
    report = {"state": state, "ended": ended, "bench": {"sha256": sha}, "tests": tests}
    (folder / "certification.json").write_text(json.dumps(report), encoding="utf-8")
    return folder


def test_the_newest_finished_run_of_the_bench_beside_it(tmp_path: Path) -> None:
    out = tmp_path / "this-run"
    out.mkdir()
    wanted = ["atlas", "canon"]
    assert earlier_seconds(out, "b" * 64, wanted) is None  # none yet
    write_run(tmp_path / "old", ended="2026-12-01T10:00:00+00:00",
              makers={"atlas": 10.0, "canon": 5.0})
    newest = write_run(tmp_path / "new", ended="2026-12-03T10:00:00+00:00",
                       makers={"atlas": 30.0, "canon": 20.0, "usen_almex": 1.0})
    # Not a measure: interrupted, another bench, a maker missing, a broken or no report.
    write_run(tmp_path / "cut", state="interrupted", ended="2026-12-04T10:00:00+00:00",
              makers={"atlas": 1.0, "canon": 1.0})
    write_run(tmp_path / "other", sha="c" * 64, ended="2026-12-04T10:00:00+00:00",
              makers={"atlas": 1.0, "canon": 1.0})
    write_run(tmp_path / "part", ended="2026-12-04T10:00:00+00:00", makers={"atlas": 1.0})
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "certification.json").write_text("{", encoding="utf-8")
    (tmp_path / "profiles").mkdir()
    (tmp_path / "a-file.txt").write_text("", encoding="utf-8")
    # ``out`` itself, even finished, is this run's folder.
    write_run(out / "x", makers={"atlas": 1.0})
    (out / "certification.json").write_text((newest / "certification.json").read_text(
        encoding="utf-8").replace("2026-12-03", "2026-12-09"), encoding="utf-8")
    found = earlier_seconds(out, "b" * 64, wanted)
    assert found is not None
    seconds, folder = found
    assert folder == newest and seconds == {"atlas": 30.0, "canon": 20.0}


def test_only_the_newest_folders_are_read(tmp_path: Path) -> None:
    out = tmp_path / "run"
    old = write_run(tmp_path / "old", makers={"atlas": 3.0})
    os.utime(old, (1, 1))  # older than the 20 folders after it
    for i in range(20):
        (tmp_path / f"empty-{i:02d}").mkdir()
    assert earlier_seconds(out, "b" * 64, ["atlas"]) is None


def test_what_is_not_a_measure_is_passed_over(tmp_path: Path) -> None:
    """Files beside the run that are no measure never stop a certification: seconds that
    are not finite or overflow, a nesting past the parser's depth, a naive time stamp.
    The newest is by time, whatever the offset it is written with."""
    out = tmp_path / "run"
    good = write_run(tmp_path / "good", ended="2026-12-04T10:00:00+09:00",
                     makers={"atlas": 8.0})
    # An hour later than ``good`` though its text sorts before it.
    later = write_run(tmp_path / "later", ended="2026-12-04T02:00:00+00:00",
                      makers={"atlas": 9.0})
    for name, body in (("infinite", '"seconds": 1e400'), ("huge", '"seconds": 1' + "0" * 400),
                       ("negative", '"seconds": -3')):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "certification.json").write_text(
            '{"state": "finished", "ended": "2026-12-05T00:00:00+00:00", "bench": {"sha256": "'
            + "b" * 64 + '"}, "tests": {"t": {"makers": ["atlas"], ' + body + "}}}",
            encoding="utf-8")
    (tmp_path / "deep").mkdir()
    (tmp_path / "deep" / "certification.json").write_text("[" * 100_000, encoding="utf-8")
    write_run(tmp_path / "naive", ended="2026-12-06T00:00:00", makers={"atlas": 1.0})
    found = earlier_seconds(out, "b" * 64, ["atlas"])
    assert found is not None and found[1] == later and found[0] == {"atlas": 9.0}
    assert good != later


@pytest.mark.parametrize(("cores", "workers", "threads"), [(2, 2, 1), (8, 2, 4), (2, 3, 1),
                                                           (1, 1, 1)])
def test_a_worker_sizes_opencvs_pool_to_its_share_of_the_cores(
        monkeypatch: pytest.MonkeyPatch, cores: int, workers: int, threads: int) -> None:
    import cv2

    from harness.report import workers as module

    before = cv2.getNumThreads()
    monkeypatch.setattr(module, "_cores", lambda: cores)
    try:
        module._share_cores(workers)
        assert cv2.getNumThreads() == threads
    finally:
        cv2.setNumThreads(before)


def test_the_workers_start_with_openblas_on_their_share_of_the_cores(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.report import workers as module

    monkeypatch.setattr(module, "_cores", lambda: 8)
    for name in ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)
    with module.workers_environment(2):
        assert os.environ["OPENBLAS_NUM_THREADS"] == "4"
    assert "OPENBLAS_NUM_THREADS" not in os.environ
    # The user's own stays, and so does one OpenBLAS reads instead (it reads them in this
    # order).
    for name in ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS"):
        monkeypatch.setenv(name, "3")
        with module.workers_environment(2):
            assert os.environ.get("OPENBLAS_NUM_THREADS") == ("3" if name == "OPENBLAS_NUM_THREADS"
                                                              else None)
            assert os.environ[name] == "3"
        monkeypatch.delenv(name)
    assert "OPENBLAS_NUM_THREADS" not in os.environ
