"""``certify --plan`` on a real bench says what the selection asks of the person, per maker:
prompts and disk-image restores, counted from the selected tests' steps in earlier runs of
the same bench (hunt L3), never a guess; a test no run measured is said to be uncounted."""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from harness.report.manifest import write_manifest
from harness.report.plan import describe_cost, operator_cost

RESTORE = ("switch everything off; restore the terminal's after upgrade image; reset the "
           "readers; put every cable back")


def _run(runs: Path, name: str, sha: str, tests: dict[str, tuple[str, int, int]],
         state: str = "finished", age: float = 0) -> None:
    """A run folder whose report has ``tests``: nodeid -> (outcome, restores, other steps)."""
    folder = runs / name
    folder.mkdir(parents=True)
    steps = []
    for nodeid, (_, restores, others) in tests.items():
        steps += [{"test": nodeid, "what": RESTORE, "outcome": "answered"}] * restores
        steps += [{"test": nodeid, "what": "take the card out of canon",
                   "outcome": "answered"}] * others
    (folder / "certification.json").write_text(json.dumps({
        "state": state, "bench": {"sha256": sha},
        "tests": {n: {"outcome": o, "seconds": 600.0} for n, (o, _, _) in tests.items()},
        "operator": steps}), encoding="utf-8")
    write_manifest(folder)  # only a run as sealed is counted (hunt K2-2)
    os.utime(folder, (1e9 - age, 1e9 - age))


def test_the_plan_counts_prompts_and_restores_from_the_selected_tests(tmp_path: Path) -> None:
    _run(tmp_path, "old", "b" * 64, {"t::a": ("passed", 1, 9), "t::b": ("passed", 2, 5)},
         age=100)
    # A newer run in which t::a was stopped early by a refusal: the larger measure stands.
    _run(tmp_path, "new", "b" * 64, {"t::a": ("bench_fault", 1, 0), "t::c": ("failed", 0, 3)},
         state="interrupted")
    _run(tmp_path, "other-bench", "c" * 64, {"t::d": ("passed", 5, 50)})
    _run(tmp_path, "not-run", "b" * 64, {"t::e": ("not_run", 0, 0)})
    cost = operator_cost(tmp_path, "b" * 64, ["t::a", "t::c", "t::d", "t::e"])
    assert (cost.prompts, cost.restores) == (10 + 3, 1)
    assert cost.measured == ("t::a", "t::c") and cost.unmeasured == ("t::d", "t::e")
    lines = describe_cost(cost, tmp_path)
    assert lines[0] == ("operator: 13 prompt(s), 1 of them disk-image restore(s), 0.3 h of run "
                        "time, for 2 of 4 test(s) as they ran on this bench (old, new)")
    assert lines[1] == ("  2 more test(s) never ran on this bench: not counted, so these "
                        "numbers are a floor")


def test_a_test_only_stopped_by_a_bench_fault_is_a_floor(tmp_path: Path) -> None:
    """K2-1: a test whose only record is a bench fault (the bench did not open: no step
    asked) was counted "0 prompts" with no word: it is counted as a floor, said so."""
    _run(tmp_path, "r2", "b" * 64, {"t::a": ("bench_fault", 0, 0)})
    cost = operator_cost(tmp_path, "b" * 64, ["t::a"])
    assert cost.partial == ("t::a",)
    lines = describe_cost(cost, tmp_path)
    assert lines[1] == ("  1 of them stopped before their end (a bench fault) every time: "
                        "not fully counted, so these numbers are a floor")
    # A later record that ran to its end is the measure, even with fewer steps.
    _run(tmp_path, "r3", "b" * 64, {"t::a": ("passed", 0, 0)}, age=-10)
    assert operator_cost(tmp_path, "b" * 64, ["t::a"]).partial == ()


def test_a_report_with_no_operator_list_is_no_measure(tmp_path: Path) -> None:
    """K2-1: an old rig's report lists no steps: not "asked nothing"."""
    _run(tmp_path, "old", "b" * 64, {"t::a": ("passed", 2, 4)})
    report = tmp_path / "old" / "certification.json"
    data = json.loads(report.read_text("utf-8"))
    del data["operator"]
    report.write_text(json.dumps(data), encoding="utf-8")
    write_manifest(tmp_path / "old")
    cost = operator_cost(tmp_path, "b" * 64, ["t::a"])
    assert cost.measured == () and cost.unmeasured == ("t::a",)


def test_a_run_not_as_sealed_or_with_impossible_seconds_is_not_counted(tmp_path: Path) -> None:
    """K2-2: a hand-edited report (3 restores, NaN seconds) was counted: "nan h"."""
    _run(tmp_path, "r3", "b" * 64, {"t::a": ("passed", 1, 0)})
    report = tmp_path / "r3" / "certification.json"
    data = json.loads(report.read_text("utf-8"))
    data["operator"] *= 3  # steps added by hand after the seal
    report.write_text(json.dumps(data), encoding="utf-8")
    cost = operator_cost(tmp_path, "b" * 64, ["t::a"])
    assert cost.measured == () and cost.unsealed == (tmp_path / "r3",)
    assert "1 earlier run(s) of this bench not counted: their files do not match" \
        in describe_cost(cost, tmp_path)[-1]
    report.write_text(report.read_text("utf-8").replace("600.0", "NaN"), encoding="utf-8")
    write_manifest(tmp_path / "r3")  # sealed as it is: NaN is still no measure
    cost = operator_cost(tmp_path, "b" * 64, ["t::a"])
    assert cost.measured == () and cost.unsealed == ()
    assert "nan" not in " ".join(describe_cost(cost, tmp_path))


def test_a_fifo_named_like_a_report_never_blocks_the_plan(tmp_path: Path) -> None:
    """K2-12: a FIFO named certification.json (or a link to a device) beside the runs hung
    --plan and --jobs N planning for ever: it is not a report."""
    import subprocess
    import sys

    (tmp_path / "fifo").mkdir()
    os.mkfifo(tmp_path / "fifo" / "certification.json")
    (tmp_path / "zero").mkdir()
    (tmp_path / "zero" / "certification.json").symlink_to("/dev/zero")
    (tmp_path / "out").mkdir()
    code = ("import sys; from pathlib import Path; "
            "from harness.report.plan import operator_cost, earlier_seconds; "
            f"r = Path({str(tmp_path)!r}); "
            "print(operator_cost(r, 'b' * 64, ['t::a']).measured, "
            "earlier_seconds(r / 'out', 'b' * 64, ['canon']))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=30, cwd=Path(__file__).resolve().parents[1], check=False)
    assert done.stdout.strip() == "() None", done.stderr


def test_a_bench_never_run_is_said_not_counted(tmp_path: Path) -> None:
    cost = operator_cost(tmp_path / "none", "b" * 64, ["t::a"])
    [line] = describe_cost(cost, tmp_path / "none")
    assert line.startswith("operator: 1 test(s), not counted yet: no earlier run of this "
                           "bench under")


def test_the_plan_prints_it_per_maker_on_a_real_bench(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    import hashlib

    from harness import certify_run, paths

    bench = tmp_path / "bench.yaml"
    bench.write_text("bench: x\n", encoding="utf-8")
    sha = hashlib.sha256(bench.read_bytes()).hexdigest()
    _run(tmp_path / "reports", "r1", sha, {"t::canon1": ("passed", 1, 4),
                                            "t::other": ("passed", 3, 30)})
    monkeypatch.setattr(paths, "reports_dir", lambda: tmp_path / "reports")
    collector = SimpleNamespace(tests={
        "t::canon1": SimpleNamespace(nodeid="t::canon1", reason="", requirements=("AUTH-01",),
                                     makers=("canon",)),
        "t::other": SimpleNamespace(nodeid="t::other", reason="", requirements=("AUTH-01",),
                                    makers=("atlas",))})
    certify_run._plan_operator(bench, "canon", ["AUTH-01"], collector)
    out = capsys.readouterr().out
    assert out.startswith("  operator: 5 prompt(s), 1 of them disk-image restore(s)")
    assert "for 1 of 1 test(s)" in out
