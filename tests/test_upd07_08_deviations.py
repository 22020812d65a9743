"""UPD-07 and UPD-08 proved through run_flow on the terminal twin; a terminal deviation of
each fails exactly its requirement, with what was seen.

- UPD-07 (notice 7福薬業発第367号 記 2: 日々の診療等の開始前に自動で再起動がされるよう設定している場合を除き): the
  night delivers the upgrade, nobody restarts the terminal, its own daily restart applies
  the upgrade and the check at the practice's opening succeeds. Wrong terminal a weaker check
  would pass: one whose scheduled restart restarts only the eligibility application (the
  upgrade still waits): a check that only looked for the restart having happened, or one
  that restarted the terminal by hand, would not see it.
- UPD-08 (the support vendor's お知らせ: バージョンアップ用のデータがダウンロードされていない場合は別途ダウンロード):
  the check fails, fails again after a reboot, the data is downloaded by UPD-05's procedure,
  a second reboot, then the check succeeds. Wrong terminal: one whose reboot fetches the
  missing data by itself (a check that only looked for the final success would pass it).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from flow_helpers import (
    Flow,
    assert_fails_exactly,
    deviant_bench_file,
    deviation,
    failed,
    open_bench,
    run_judged,
)

from harness.bench import Bench
from harness.model.profiles import ProfileSet

UPD07: Flow = ("upgrade_scheduled_restart", ("in_distribution_window", "daily_restart_scheduled"))
UPD08: Flow = ("upgrade_data_missing", ("upgrade_data_missing",))
READER = "canon"

#: name -> (flow, the terminal's deviations, requirement -> a fragment of its problem).
FAULTS = {
    "scheduled-restart-restarts-only-the-app": (UPD07, [deviation(
        "scheduled_restart", "app", "the daily restart restarts only the eligibility app")],
        {"UPD-07": "the receipt computer should get the patient's result; it got nothing"}),
    "restart-fetches-missing-data": (UPD08, [deviation(
        "upgrade.restart_fetches_missing_data", True, "a restart fetches the missing data")],
        {"UPD-08": "did not show check_error_1 after check_error_2"}),
}


def test_upd07_the_scheduled_restart_applies_the_upgrade(default_bench: Bench,
                                                           profiles: ProfileSet) -> None:
    record, judged = run_judged(default_bench, profiles, READER, UPD07)
    assert set(judged) == {"UPD-07"} and failed(judged) == set(), judged
    actions = [a.what for a in record.actions]
    assert "reboot_terminal" not in actions and actions[0] == "card_in"
    timeline = default_bench.timeline
    installed = timeline.events("upgrade.installed")[-1].t
    restart = timeline.events("terminal.scheduled_restart")[-1]
    applied = timeline.events("upgrade.applied")[-1].t
    # Installed overnight, applied by the terminal's own restart, before the patient came.
    assert installed < restart.t < applied < record.actions[0].t
    assert restart.data["does"] == "restart"
    assert record.dialogs == [] and record.result == "handed_over"


def test_upd08_a_reboot_alone_does_not_clear_the_error(default_bench: Bench,
                                                       profiles: ProfileSet) -> None:
    record, judged = run_judged(default_bench, profiles, READER, UPD08)
    assert set(judged) == {"UPD-08"} and failed(judged) == set(), judged
    actions = [a.what for a in record.actions]
    assert actions.count("reboot_terminal") == 2 and actions.count("download_now") == 1
    # The second failed check comes after the first reboot, the download before the second.
    reboots = [i for i, a in enumerate(actions) if a == "reboot_terminal"]
    assert reboots[0] < actions.index("download_now") < reboots[1]
    why = [e.data["why"] for e in default_bench.timeline.events("check.failed")][-2:]
    assert why == ["upgrade installed, its data never downloaded"] * 2
    assert record.results == 1


@pytest.mark.parametrize("name", list(FAULTS))
def test_the_deviation_fails_exactly_its_requirement(tmp_path: Path, profiles: ProfileSet,
                                                     name: str) -> None:
    flow, deviations, fails = FAULTS[name]
    path = deviant_bench_file(tmp_path, name, terminal={"deviations": deviations})
    for bench in open_bench(path):
        _, judged = run_judged(bench, profiles, READER, flow)
        assert_fails_exactly(judged, fails)
