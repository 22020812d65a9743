"""The certification as handed over reads for a maker's manager or an integrator (review
U6): no absolute path of the certifying host in the page (the bench file by its name, or
its path within the folder the run was made in), each digest's algorithm named, and a
flow's "Seen" said once, in plain words."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from harness.report.html import bench_file_shown, render_html
from harness.report.provenance import shown_path


def _report(bench: dict[str, Any], seen: str = "flow f on r: first") -> dict[str, Any]:
    verdict = {"requirement": "E901-02", "maker": "acme", "subject": "r", "status": "passed",
               "expected": "statement [f: first]", "seen": seen, "problems": [],
               "evidence": {}}
    return {"bench": bench, "started": "2026-12-01T10:00:00+09:00",
            "ended": "2026-12-01T10:01:05+09:00", "passed": True,
            "makers": {"acme": {"E901-02": {"status": "passed", "tests": ["t"],
                                            "verdicts": [verdict]}}},
            "requirements": {"acme": {"name": "ACME", "requirements": {
                "E901-02": {"statement": "statement", "notices": [], "checks": []}}}}}


# -- 1. no machine path in what a person reads; the digests' algorithms named ----------

def test_a_path_is_shown_within_the_working_folder_else_by_its_name(tmp_path: Path) -> None:
    inside = tmp_path / "benches" / "lab.yaml"
    assert shown_path(inside, cwd=tmp_path) == "benches/lab.yaml"
    assert shown_path(inside, cwd=tmp_path / "elsewhere") == "lab.yaml"
    assert shown_path(tmp_path, cwd=tmp_path) == "."


def test_the_reports_bench_keeps_its_path_for_tools_and_adds_one_for_people(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.bench import check_bench_file, default_bench_path
    from harness.loading import STAMP_DIGEST
    from harness.report.certification import bench_info

    path = default_bench_path()
    spec = check_bench_file(path)
    monkeypatch.chdir(tmp_path)  # outside the checkout: only the name is shown
    info = bench_info(path, spec)
    assert info["file"] == str(path)  # report diff, allure and the tests read it back
    assert info["file_shown"] == path.name
    monkeypatch.chdir(path.parent.parent)
    assert bench_info(path, spec)["file_shown"] == f"{path.parent.name}/{path.name}"
    # bench.loads' digests are not SHA-256 (bench.sha256 is): the report says which.
    assert info["loads_digest"] == STAMP_DIGEST == "blake2b-128"
    top = hashlib.blake2b(path.read_bytes(), digest_size=16).hexdigest()
    assert info["loads"][path.name] == top


def test_the_profiles_folder_is_shown_without_the_hosts_path(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.paths import project_file
    from harness.report.provenance import provenance

    profiles = tmp_path / "lab" / "vendor_profiles"
    shutil.copytree(project_file("vendor_profiles"), profiles)
    monkeypatch.chdir(tmp_path)
    rig = provenance(profiles)
    assert rig["profiles"]["dir"] == str(profiles)  # as before: what the rig read
    assert rig["profiles"]["dir_shown"] == "lab/vendor_profiles"


def test_the_page_shows_the_bench_file_never_the_hosts_absolute_path(tmp_path: Path) -> None:
    secret = "/home/lab-7/checkouts/onshi-rig/fixtures/benches/emulated.yaml"
    html = render_html(tmp_path, _report({"file": secret, "file_shown":
                                          "fixtures/benches/emulated.yaml", "name": "emu",
                                          "kind": "emulated", "sha256": "0" * 64}))
    assert "/home/lab-7" not in html
    assert "<th>Bench file</th><td><code>fixtures/benches/emulated.yaml</code>" in html
    # A report written before file_shown: the file's name only.
    html = render_html(tmp_path, _report({"file": secret, "name": "emu", "kind": "emulated",
                                          "sha256": "0" * 64}))
    assert "/home/lab-7" not in html
    assert "<th>Bench file</th><td><code>emulated.yaml</code>" in html


def test_a_merged_reports_bench_files_are_each_shown_by_name() -> None:
    assert bench_file_shown({"file": "/srv/a/lab.yaml; /srv/b/box.yaml"}) == "lab.yaml; box.yaml"
    assert bench_file_shown({"file": "/srv/a/lab.yaml", "file_shown": "a/lab.yaml"}) == \
        "a/lab.yaml"


def test_the_json_a_run_writes_has_the_readable_fields(tmp_path: Path) -> None:
    """What build_report writes: the readable bench file and the loads' algorithm."""
    import datetime as dt

    from harness.bench import check_bench_file, default_bench_path
    from harness.model.profiles import ProfileSet
    from harness.paths import project_file
    from harness.report.certification import build_report

    path = default_bench_path()
    now = dt.datetime.now().astimezone()
    report = build_report(bench_path=path, spec=check_bench_file(path),
                          profiles=ProfileSet.load(project_file("vendor_profiles")),
                          tests={}, started=now, ended=now, only={"canon"})
    bench = json.loads(json.dumps(report))["bench"]
    assert bench["file_shown"] and not bench["file_shown"].startswith("/")
    assert bench["loads_digest"] == "blake2b-128"


# -- 2. a flow's "Seen" once, in plain words ------------------------------------------

def _flow(problems: list[str], states: tuple[str, ...] = ("first", "consent_1", "error_901")
          ) -> Any:
    from harness.model.observed import FlowRecord, SeenScreen

    screens = [SeenScreen(float(i), float(i) + 0.5, s, s) for i, s in enumerate(states)]
    return FlowRecord("e901", "canon", screens=screens, result="none", problems=problems)


def test_a_wait_that_ran_out_is_said_as_what_the_rig_did_and_the_path_once() -> None:
    from harness.model.flow_rules import flow_seen

    path = "first -> consent_1 -> error_901"
    seen = flow_seen(_flow([f"waited 20 s for a change from error_901; the reader showed "
                            f"{path}"]))
    assert seen == (f"flow e901 on canon: {path}; receipt computer: none; the rig waited "
                    "20 s for a change from error_901: it did not come")
    assert seen.count(path) == 1 and "while driving" not in seen
    # A wait early in the flow: its path is the beginning of the flow's, not said again.
    early = flow_seen(_flow(["waited 10 s for a change from first; the reader showed first"]))
    assert early.count("first ->") == 1 and early.endswith(": it did not come")


def test_what_the_reader_showed_stays_when_it_is_not_the_flows_path() -> None:
    from harness.model.flow_rules import flow_seen

    seen = flow_seen(_flow(["waited 5 s for checking; the reader showed unknown (near x)"]))
    assert seen.endswith("the rig waited 5 s for checking: it did not come (the reader "
                         "showed unknown (near x))")
    # A path that merely starts with the same letters is not the flow's beginning.
    seen = flow_seen(_flow(["waited 5 s for checking; the reader showed fir"]))
    assert seen.endswith("(the reader showed fir)")


def test_a_drivers_other_note_is_kept_whole() -> None:
    from harness.model.flow_rules import flow_seen

    seen = flow_seen(_flow(["the bench has no general reader to pair"]))
    assert seen.endswith("; the rig noted: the bench has no general reader to pair")
    assert flow_seen(_flow([])) == ("flow e901 on canon: first -> consent_1 -> error_901; "
                                    "receipt computer: none")


def test_a_judged_flows_verdict_says_seen_once() -> None:
    """judge_flow's verdict carries flow_seen's words (what the report shows)."""
    from harness.model.flow_rules import judge_flow
    from harness.model.profiles import ProfileSet
    from harness.paths import project_file

    profile = ProfileSet.load(project_file("vendor_profiles")).profiles["canon"]
    req = next(r for r in profile.requirements if r.id == "E901-04")
    check = req.checks[0]
    path = "first -> consent_1 -> error_901"
    verdict = judge_flow(req, "canon", check, _flow(
        [f"waited 20 s for a change from error_901; the reader showed {path}"]))
    assert verdict.seen.count(path) == 1 and "while driving" not in verdict.seen
    assert "the rig waited 20 s for a change from error_901: it did not come" in verdict.seen


# -- 3. UPD-01's nights as a table, not one run-on line --------------------------------

def _schedule_verdict(early: bool = False) -> Any:
    from harness.model.profiles import ProfileSet, ScheduleCheck
    from harness.model.schedule_rules import (
        ACCEPTED,
        DeliverySeen,
        ManualSeen,
        judge_schedule,
        schedule_probes,
    )
    from harness.paths import project_file

    profile = ProfileSet.load(project_file("vendor_profiles")).profiles["canon"]
    req = next(r for r in profile.requirements
               if any(isinstance(c, ScheduleCheck) for c in r.checks))
    check = next(c for c in req.checks if isinstance(c, ScheduleCheck))
    deliveries, manuals = schedule_probes(check)
    seen = [DeliverySeen(p, tuple(cp.delivered for cp in p.checkpoints)) for p in deliveries]
    if early:  # the first night's window opened a second early
        seen[0] = DeliverySeen(seen[0].probe, (True, True), first_seen=seen[0].probe.start)
    asked = [ManualSeen(p, p.at, ACCEPTED if p.accepted else "no_update") for p in manuals]
    return judge_schedule(req, "canon", "canon", seen, asked), deliveries, manuals


def test_the_schedules_verdict_carries_a_row_per_look_it_judged() -> None:
    from harness.model.schedule_rules import FAILED, OK, SCHEDULE_COLUMNS
    from harness.model.verdict import Verdict

    verdict, deliveries, manuals = _schedule_verdict()
    table = verdict.evidence.table
    assert table[0] == SCHEDULE_COLUMNS
    assert len(table) - 1 == sum(len(p.checkpoints) for p in deliveries) + len(manuals)
    assert {row[-1] for row in table[1:]} == {OK}
    assert [row[0] for row in table[1:]].count("manual download") == len(manuals)
    # Kept through the report's JSON (a --resume reads it back).
    assert Verdict.from_json(verdict.as_json()).evidence.table == table
    failed, _, _ = _schedule_verdict(early=True)
    assert failed.status == "failed"
    bad = [row for row in failed.evidence.table[1:] if row[-1] == FAILED]
    assert len(bad) == 1 and "not open yet" in bad[0][2]
    assert bad[0][3:5] == ("not delivered", "delivered")


def test_the_page_shows_the_nights_as_a_table_not_the_run_on_line(tmp_path: Path) -> None:
    verdict, _, _ = _schedule_verdict(early=True)
    data = verdict.as_json()
    report = _report({"file": "b.yaml", "name": "emu", "kind": "emulated", "sha256": "0" * 64})
    report["passed"] = False
    report["makers"]["acme"] = {"UPD-01": {"status": "failed", "tests": ["t"],
                                           "verdicts": [data]}}
    report["requirements"]["acme"]["requirements"]["UPD-01"] = {
        "statement": "statement", "notices": [], "checks": []}
    html = render_html(tmp_path, report)
    assert "restored at" not in html  # the run-on line is not in the page
    tables = html.split('<table class="seentable">')[1:]
    assert len(tables) == 2  # in the failure, and in the matrix
    for table in tables:
        table = table[:table.index("</table>")]
        assert "<th>Bench restored to</th>" in table
        assert table.count("<tr") == len(data["evidence"]["table"])
        assert table.count('<tr class="bad">') == 1
    # A report whose table is not rows of one width shows its seen line instead.
    data["evidence"]["table"] = [["a", "b"], ["c"]]
    assert "restored at" in render_html(tmp_path, report)


# -- 4. the screens' and dialogs' names said in words ---------------------------------

def _timeline(folder: Path) -> None:
    events = [
        {"t": 1.0, "source": "cam-r", "kind": "screen.seen", "state": "consent_1",
         "shows": "consent"},
        {"t": 2.0, "source": "cam-r", "kind": "screen.seen", "state": "please_wait",
         "shows": "please_wait"},
        {"t": 2.0, "source": "cam-r", "kind": "screen.read", "state": "please_wait",
         "lines": [{"text": "Hi-CARA"}, {"text": "しばらくお待ちくだ"}],
         "checks": [{"expected": "しばらくお待ちください", "ok": True, "wanted": True},
                    {"expected": "完了しました", "ok": True, "wanted": False},
                    {"expected": "【901", "ok": False, "wanted": True}]},
        # Another reader's camera: not this maker's screens.
        {"t": 3.0, "source": "cam-other", "kind": "screen.seen", "state": "sp_hold",
         "shows": "first"},
    ]
    (folder / "timeline.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events),
                                           encoding="utf-8")


def test_the_names_in_a_makers_lines_are_said_with_what_they_are_and_their_words(
        tmp_path: Path) -> None:
    from harness.report.glossary import glossary, screens_seen

    _timeline(tmp_path)
    screens = screens_seen(tmp_path / "timeline.jsonl", {"cam-r"})
    assert screens.shows == {"consent_1": "consent", "please_wait": "please_wait"}
    # Only what the rig confirmed: not the OCR's raw line, an absence, or a text not found.
    assert screens.read == {"please_wait": ["しばらくお待ちください"]}
    entries = {e.name: e for e in glossary(
        ["flow e901 on r: consent_1 -> please_wait -> sp_hold; terminal: check_error_2; "
         "receipt computer: handed_over", "unknown_thing given upgrade_pending_reboot"],
        screens)}
    assert list(entries) == ["consent_1", "please_wait", "sp_hold", "check_error_2",
                             "handed_over"]
    assert entries["consent_1"].meaning.startswith("a consent screen")
    assert entries["please_wait"].words == "しばらくお待ちください"
    assert entries["sp_hold"].meaning == "smartphone: hold the phone over the reader"
    assert entries["check_error_2"].meaning.startswith("a dialog on the terminal")
    assert "result" in entries["handed_over"].meaning


def test_each_makers_matrix_is_followed_by_its_names_in_words(tmp_path: Path) -> None:
    (tmp_path / "devices.json").write_text(json.dumps({
        "bench": "b", "kind": "emulated", "terminal": "terminal", "devices": [],
        "cameras": [{"name": "cam-r", "watches": "r"}]}), encoding="utf-8")
    _timeline(tmp_path)
    html = render_html(tmp_path, _report(
        {"file": "b.yaml", "name": "emu", "kind": "emulated", "sha256": "0" * 64},
        seen="flow e901 on r: consent_1 -> please_wait"))
    names = html[html.index('id="names-acme"'):]
    names = names[:names.index("</table>")]
    assert "<code>consent_1</code></td><td>a consent screen" in names
    assert "<code>please_wait</code></td><td>「しばらくお待ちください」</td>" \
           "<td>しばらくお待ちください</td>" in names
    assert "sp_hold" not in names  # not in this maker's lines


# -- 5. the timeline pictures' labels never overlap ------------------------------------

def test_labels_go_to_the_first_row_with_room_else_none() -> None:
    from harness.report.timeline_picture import _rows_for

    assert _rows_for([(0, 5), (6, 9), (7, 12), (8, 10), (8.5, 11)], 3, 0.5) == \
        [0, 0, 1, 2, None]
    assert _rows_for([(0, 5), (5.4, 6)], 2, 0.5) == [0, 1]  # the gap counts


def _crowded_figure() -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    from harness.report.timeline_picture import _figure

    # consent_1 and consent_2 a second apart on a 300 s span (drawn over each other before:
    # "conse1sent_2"), and the hands' actions as close.
    states = ["first", "face_auth", "consent_1", "consent_2", "checking", "please_wait",
              "error_901"]
    events = [{"t": 100.0 + i, "source": "cam", "kind": "screen.seen", "state": s}
              for i, s in enumerate(states)]
    observed = [" ".join(f"{100.0 + i * 0.5:.1f}:{w}" for i, w in enumerate(
        ["card_in", "face:match", "consent", "consent", "card_out", "terminal:OK",
         "terminal:OK"]))]
    fig = _figure(plt, (0.0, 300.0), events, "r", None, ["cam"], [], observed, "t", [])
    return plt, fig


def test_a_crowded_timelines_labels_do_not_overlap_and_the_rest_are_named_below() -> None:
    plt, fig = _crowded_figure()
    try:
        ax = fig.axes[0]
        renderer = fig.canvas.get_renderer()
        boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in ax.texts]
        assert len(boxes) >= 6  # each row of both lanes used
        for i, (a, box_a) in enumerate(boxes):
            for b, box_b in boxes[i + 1:]:
                assert not box_a.overlaps(box_b), (a, b)
        named = {t for t, _ in boxes}
        unnamed = ax.get_xlabel()
        # Every state and action is named: in the picture, or under it with its time.
        for label in ["consent_1", "consent_2", "error_901", "card_in", "terminal:OK"]:
            assert label in named or f"{label} at " in unnamed, label
        times = [float(t) for t in re.findall(r" at (\d+\.\d) s", unnamed)]
        assert times and times == sorted(times)  # named below in time order
    finally:
        plt.close(fig)
