"""The live certification.json: rewritten while the run goes, at most every JSON_EVERY_S,
compact while running and indented once the run is over; the end is never held back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.report import live
from harness.report.live import REPORT_FILE, LiveReport


def test_the_running_report_is_written_at_most_every_second_and_the_end_at_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    now = [100.0]
    monkeypatch.setattr(live.time, "monotonic", lambda: now[0])
    builds: list[str] = []

    def build(state: str) -> dict[str, Any]:
        builds.append(state)
        return {"tests": len(builds), "makers": {"canon": {"USB-01": {"status": "passed"}}}}

    writer = LiveReport(tmp_path, "run-1", build, html=False)
    target = tmp_path / REPORT_FILE
    first = writer.update()
    assert builds == ["running"] and json.loads(target.read_text("utf-8")) == first
    # Running, a running report is one line (json's C encoder), and never says passed.
    assert target.read_text("utf-8").count("\n") == 1 and first["passed"] is False
    for _ in range(5):  # test phases in quick succession: the report last written stands
        now[0] += 0.15
        assert writer.update() is first
    assert builds == ["running"]
    # A test that did not pass is written at once: never held back for a kill to lose.
    now[0] += 0.15
    forced = writer.update(force=True)
    assert forced is not first and json.loads(target.read_text("utf-8")) == forced
    assert builds == ["running", "running"]
    now[0] += LiveReport.JSON_EVERY_S
    assert writer.update()["tests"] == 3 and len(builds) == 3
    # The end at once, however soon, and indented for people.
    now[0] += 0.01
    end = writer.update("finished")
    assert builds[-1] == "finished" and end["state"] == "finished"
    text = target.read_text("utf-8")
    assert json.loads(text) == end and text.count("\n") > 5 and '\n  "tests": 4' in text


def test_an_interrupted_run_is_written_at_once(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(live.time, "monotonic", lambda: 5.0)
    writer = LiveReport(tmp_path, "run-2", lambda state: {"state_asked": state}, html=False)
    writer.update()
    report = writer.update("interrupted")
    on_disk = json.loads((tmp_path / REPORT_FILE).read_text("utf-8"))
    assert on_disk == report and report["interrupted"] is True and report["passed"] is False
