"""certification.html from a run folder made by hand (no certification): a verdict shows the
frames its subject's camera (and the terminal's) kept during its span, and no other; each
picture is embedded once however many verdicts show it; a failure's frames come full size
with the rectified screen; times are given on the bench's clock."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from PIL import Image

from harness.kept import Kept
from harness.protocols import Frame
from harness.report.html import render_html
from harness.report.timeline_picture import _bands
from harness.vision.evidence import EvidenceStore


def _frame(source: str, t: float, index: int, shade: int) -> Frame:
    image = np.full((108, 192, 3), shade, np.uint8)
    image[20:80, 40:150] = (255 - shade, 80, 160)  # something to see
    return Frame(image, t, index, source)


def _verdict(status: str, span: list[float], subject: str = "reader-a") -> dict[str, Any]:
    return {"requirement": "E901-02", "maker": "acme", "subject": subject, "status": status,
            "expected": "The screen does not change. [e901: consent -> please_wait]",
            "seen": "flow e901 on reader-a: first -> consent -> first",
            "problems": ["please_wait was not seen after consent"] if status != "passed" else [],
            "evidence": {"span": span, "read": ["expected 【901, found (glyphs)"]}}


def _run(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    (tmp_path / "devices.json").write_text(json.dumps({
        "bench": "hand-made", "kind": "emulated", "terminal": "terminal",
        "cameras": [{"name": "cam-a", "watches": "reader-a"},
                    {"name": "cam-b", "watches": "reader-b"},
                    {"name": "cam-t", "watches": "terminal"}],
        "clock": {"t": 0.0, "wallclock": "2026-02-02T08:30:00+09:00"},
        "devices": [{"name": "reader-a", "kind": "face_auth_reader", "maker": "acme",
                     "model": None, "vid": "FFFF", "pid": "F00A", "serial": "SER-A",
                     "usb_path": "2-1", "speed_mbps": 5000.0, "hubs_between": 0, "hubs": [],
                     "pcsc_name": None, "present": True, "violations": [], "unchecked": [],
                     "twin": True, "firmware": None, "note": ""}]}), encoding="utf-8")
    # The bench set to another day later in the run: times after it are on that day.
    seen = [{"t": t, "source": "cam-a", "kind": "screen.seen", "state": state}
            for t, state in ((6.0, "first"), (10.0, "consent"), (15.0, "first"))]
    restored = {"t": 100.0, "source": "bench", "kind": "bench.restored",
                "wallclock": "2026-01-19T20:00:00+09:00"}
    (tmp_path / "timeline.jsonl").write_text(
        "".join(json.dumps(e) + "\n" for e in [*seen, restored]), encoding="utf-8")
    store = EvidenceStore(tmp_path / "evidence")
    rect = np.full((41, 70), 200, np.uint8)
    store.keep(_frame("cam-a", 10.0, 1, 40), "consent", rectified=rect)    # in span
    store.keep(_frame("cam-t", 11.0, 1, 60), "check_error_1", rectified=rect)  # terminal
    store.keep(_frame("cam-b", 12.0, 1, 80), "first", rectified=rect)      # another reader
    store.keep(_frame("cam-a", 50.0, 2, 100), "first", rectified=rect)     # after the span
    store.keep(_frame("cam-a", 105.0, 3, 120), "error_901", rectified=rect)  # the next day
    report = {
        "bench": {"file": "bench.yaml", "name": "hand-made", "kind": "emulated",
                  "sha256": "0" * 64},
        "started": "2026-12-01T10:00:00+09:00", "ended": "2026-12-01T10:01:05+09:00",
        "passed": False,
        "makers": {"acme": {
            "E901-02": {"status": "failed", "tests": ["t1"],
                        "verdicts": [_verdict("failed", [5.0, 20.0])],
                        "reasons": ["reader-a: please_wait was not seen after consent"]},
            "E901-03": {"status": "passed", "tests": ["t1"],
                        "verdicts": [_verdict("passed", [5.0, 20.0])]},
            "E901-05": {"status": "passed", "tests": ["t2"],
                        "verdicts": [_verdict("passed", [104.0, 106.0])]},
            "USB-02": {"status": "failed", "tests": [],
                       "reasons": ["no test covers this requirement"]}}},
        "requirements": {"acme": {"name": "ACME", "requirements": {
            r: {"statement": f"statement of {r}", "notices": ["MHLW 事務連絡, 記 2."],
                "checks": ["flow"]} for r in ("E901-02", "E901-03", "E901-05", "USB-02")}}},
    }
    return tmp_path, report


def _pictures(block: str) -> list[str]:
    return re.findall(r'class="thumb (p\d+)"', block)


def test_a_verdict_shows_the_frames_of_its_span_from_its_cameras_only(tmp_path: Path) -> None:
    html = render_html(*_run(tmp_path))
    captions = dict(re.findall(r'class="thumb (p\d+)" href="#view-p\d+" title="([^"]*)"', html))
    failure = html[html.index('id="failure-acme-E901-02"'):html.index("</article>")]
    shown = {captions[p] for p in _pictures(failure)}
    assert shown == {"cam-a at 10.0 s: consent", "cam-t at 11.0 s: check_error_1"}
    # Embedded once each, though two verdicts show them; the next day's frame for E901-05.
    assert sorted(set(captions.values())) == ["cam-a at 10.0 s: consent",
                                              "cam-a at 105.0 s: error_901",
                                              "cam-t at 11.0 s: check_error_1"]
    for key in captions:
        assert len(re.findall(rf"\.{key}\{{background-image:url\(data:image/jpeg;base64,",
                              html)) == 1
    # A failure's frames come with the rectified screen, a pass's alone.
    failing = set(_pictures(failure))
    for key, caption in captions.items():
        assert (f".{key}r{{" in html) == (key in failing), caption


def test_when_is_said_in_bench_time_and_on_the_bench_clock(tmp_path: Path) -> None:
    html = render_html(*_run(tmp_path))
    assert ("bench time 5.0 s to 20.0 s (15.0 s); on the bench&#39;s clock from "
            "2026-02-02 08:30:05 +09:00") in html
    assert ("bench time 104.0 s to 106.0 s (2.0 s); on the bench&#39;s clock from "
            "2026-01-19 20:00:04 +09:00") in html


def test_failures_first_and_a_reason_without_a_verdict_is_shown(tmp_path: Path) -> None:
    html = render_html(*_run(tmp_path))
    failures = html[html.index('id="failures"'):html.index('id="maker-acme"')]
    assert 'id="failure-acme-E901-02"' in failures and 'id="failure-acme-USB-02"' in failures
    assert "E901-03" not in failures and "E901-05" not in failures
    assert "no test covers this requirement" in failures
    # The verdict's own reason is not repeated beside it.
    assert failures.count("please_wait</abbr> was not seen after consent") == 1
    assert "SER-A" in html[html.index('id="devices"'):]


def test_a_failure_has_its_timeline_picture_and_a_pass_none(tmp_path: Path) -> None:
    timelines: dict[str, bytes] = {}
    html = render_html(*_run(tmp_path), timelines)
    assert set(timelines) == {"acme-E901-02-reader-a.png"}
    picture = cv2.imdecode(np.frombuffer(timelines["acme-E901-02-reader-a.png"], np.uint8),
                           cv2.IMREAD_COLOR)
    assert picture is not None and picture.shape[1] > 600 and picture.std() > 10
    with Image.open(io.BytesIO(timelines["acme-E901-02-reader-a.png"])) as im:
        assert not {k for k in im.info if k not in ("dpi",)}, im.info  # no metadata
    failure = html[html.index('id="failure-acme-E901-02"'):html.index("</article>")]
    assert failure.count('<img alt="timeline of E901-02') == 1
    assert html.count("<img ") == 1


def test_a_failure_whose_timeline_is_not_written_yet_has_no_picture(tmp_path: Path) -> None:
    """While the run goes (its timeline is written when its bench closes) the live page
    shows no picture of a failure's timeline: not one of the hands alone, lanes empty."""
    run_dir, report = _run(tmp_path)
    (run_dir / "timeline.jsonl").unlink()
    timelines: dict[str, bytes] = {}
    html = render_html(run_dir, report, timelines)
    assert timelines == {}
    assert 'id="failure-acme-E901-02"' in html and '<img alt="timeline' not in html


def test_swimlane_bands_carry_the_state_into_the_window_and_stop_at_its_end() -> None:
    events = [{"t": 1.0, "s": "first"}, {"t": 8.0, "s": "consent"}, {"t": 12.0, "s": "consent"},
              {"t": 15.0, "s": "first"}, {"t": 40.0, "s": "error_901"}]
    assert _bands(events, 5.0, 30.0, lambda e: e["s"]) == [
        (5.0, 8.0, "first"), (8.0, 15.0, "consent"), (15.0, 30.0, "first")]
    assert _bands(events, 41.0, 50.0, lambda e: e["s"]) == [(41.0, 50.0, "error_901")]
    assert _bands(events, -5.0, 0.5, lambda e: e["s"]) == []  # nothing known yet


def test_a_flow_verdict_carries_the_frames_its_screens_and_dialogs_were_decided_on() -> None:
    from harness.model.flow_rules import judge_flow
    from harness.model.observed import FlowRecord, SeenDialog, SeenScreen
    from harness.model.profiles import FlowCheck, ProfileSet, default_profiles_dir

    req = ProfileSet.load(default_profiles_dir())["canon"].requirement("E901-01")
    assert req is not None
    check = next(c for c in req.checks if isinstance(c, FlowCheck))
    record = FlowRecord("e901", "canon", screens=[
        SeenScreen(0, 1, "first", "first", frame="cam-canon/000001-0.000-first.jpg"),
        SeenScreen(2, 3, "consent_1", "consent"),  # a look that kept no frame
        SeenScreen(4, 5, "first", "first", frame="cam-canon/000001-0.000-first.jpg")],
        dialogs=[SeenDialog(3, "check_error_1", frame="cam-terminal/000002-3.000-e.jpg")])
    verdict = judge_flow(req, "canon", check, record)
    assert verdict.evidence.frames == ("cam-canon/000001-0.000-first.jpg",
                                       "cam-terminal/000002-3.000-e.jpg")


def test_a_flow_with_a_cards_exchanges_draws_them_on_the_pcsc_lane() -> None:
    """A phone read through a general reader puts its APDUs on the timeline as bare
    ``apdu`` events beside ``pcsc.card_inserted``: a failed smartphone flow's picture is
    drawn with both on the PC/SC lane, not a crash of the whole report."""
    from harness.report.timeline_picture import flow_timeline_png

    screens = [{"t": 0.0, "source": "cam", "kind": "screen.seen", "state": "sp_hold"}]
    pcsc = [{"t": 5.0, "source": "pcsc", "kind": "pcsc.card_inserted"},
            {"t": 6.0, "source": "pcsc", "kind": "apdu"}]

    def draw(events: list[dict[str, Any]]) -> np.ndarray:
        png = flow_timeline_png(events, (0.0, 20.0), reader="r", reader_cameras=["cam"],
                                terminal=None, terminal_cameras=[], observed=[], title="t",
                                windows=[])
        return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))

    assert draw(screens + pcsc).shape[0] > draw(screens).shape[0]  # the PC/SC lane


def test_japanese_in_a_timeline_is_drawn_in_a_japanese_face() -> None:
    """A dialog's button in the hands' lane (terminal:確認しました, UPD-05) is written, not
    boxes: no glyph missing from the faces the picture is drawn in."""
    import warnings

    from harness.report.timeline_picture import flow_timeline_png

    events = [{"t": 0.0, "source": "cam", "kind": "screen.seen", "state": "first"}]
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*missing from font.*")
        png = flow_timeline_png(events, (0.0, 20.0), reader="r", reader_cameras=["cam"],
                                terminal=None, terminal_cameras=[],
                                observed=["5.0:terminal:確認しました"], title="UPD-05 待ち",
                                windows=[])
    assert png.startswith(b"\x89PNG")


def test_the_checked_windows_are_drawn_on_a_lane_of_their_own() -> None:
    from harness.report.timeline_picture import flow_timeline_png

    events = [{"t": 0.0, "source": "cam", "kind": "screen.seen", "state": "first"},
              {"t": 10.0, "source": "cam", "kind": "screen.seen", "state": "completion"}]

    def draw(windows: list[list[Any]]) -> np.ndarray:
        png = flow_timeline_png(events, (0.0, 40.0), reader="r", reader_cameras=["cam"],
                                terminal=None, terminal_cameras=[], observed=["5.0:card_in"],
                                title="t", windows=windows)
        return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))

    def blue(picture: np.ndarray) -> int:  # the windows' outline, #1565c0
        return int(np.all(np.abs(picture.astype(int) - (21, 101, 192)) <= 30, axis=2).sum())

    plain = draw([])
    checked = draw([[10.0, 35.0, "completion unchanged until the second press of OK"]])
    assert checked.shape[0] > plain.shape[0]  # one lane more
    assert blue(plain) == 0 and blue(checked) > 200


def test_a_picture_asked_for_again_is_drawn_once_and_anew_when_it_shows_more(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The live report asks for a failure's picture on each write: drawn once while what it
    shows stays (events after its window change nothing), drawn again when a band or an
    action in it moves."""
    from harness.report import timeline_picture

    drawn: list[object] = []
    real = timeline_picture._draw
    monkeypatch.setattr(timeline_picture, "_draw", lambda *a: drawn.append(a) or real(*a))
    monkeypatch.setattr(timeline_picture, "_DRAWN", Kept(256), raising=False)
    events = [{"t": 0.0, "source": "cam", "kind": "screen.seen", "state": "first"},
              {"t": 10.0, "source": "cam", "kind": "screen.seen", "state": "completion"}]

    def draw(events: list[dict[str, Any]], action: str = "5.0:card_in") -> bytes:
        return timeline_picture.flow_timeline_png(
            events, (0.0, 40.0), reader="r", reader_cameras=["cam"], terminal=None,
            terminal_cameras=[], observed=[action], title="t", windows=[])

    first = draw(events)
    # the next test's screens, after the window (its end, 40 s, and the 5 s around it)
    assert draw([*events, {"t": 60.0, "source": "cam", "kind": "screen.seen",
                           "state": "first"}]) == first
    assert len(drawn) == 1
    assert draw([events[0], {**events[1], "t": 12.0}]) != first
    assert draw(events, "6.0:card_in") != first
    assert draw([*events, {"t": 44.0, "source": "cam", "kind": "screen.seen",
                           "state": "first"}]) != first
    assert len(drawn) == 4


DESELECTED_REASON = ("suites/test_upgrade.py::test_distribution_schedule[acme-UPD-01]: not "
                     "run: deselected by the pytest options given after --")


def _not_run_row() -> dict[str, Any]:
    return {"status": "not_run",
            "tests": ["suites/test_upgrade.py::test_distribution_schedule[acme-UPD-01]"],
            "verdicts": [], "reasons": [DESELECTED_REASON]}


def _overall(html: str) -> str:
    return re.search(r'id="overall">\s*(.*?)\s*</div>', html, re.S)[1]


def test_a_run_that_only_left_requirements_unchecked_is_not_passed_not_failed(
        tmp_path: Path) -> None:
    """As the console's verdict line: NOT PASSED; the requirement left out is "not checked",
    in plain words, never under what failed nor as something the reader did."""
    run, report = _run(tmp_path)
    rows = report["makers"]["acme"]
    del rows["E901-02"], rows["USB-02"]
    rows["UPD-01"] = _not_run_row()
    report["requirements"]["acme"]["requirements"]["UPD-01"] = {
        "statement": "statement of UPD-01", "notices": [], "checks": []}
    html = render_html(run, report)
    assert _overall(html) == "NOT PASSED" and 'class="overall notpassed"' in html
    assert "FAILED" not in html[:html.index('id="failures"')]
    failures = html[html.index('id="failures"'):html.index('id="not-checked"')]
    assert "UPD-01" not in failures and "What the bench saw" not in failures
    assert "Nothing failed; 1 requirement(s) were not checked" in failures
    unchecked = html[html.index('id="not-checked"'):html.index('id="maker-acme"')]
    assert "Not checked (1)" in unchecked and 'id="notrun-acme-UPD-01"' in unchecked
    why = unchecked[unchecked.index("Why it was not checked"):unchecked.index("</ul>")]
    assert "left out of this run by the operator&#39;s selection" in why
    assert "deselected" not in why and "suites/" not in why  # the node id is not the why
    # The matrix row links its "why" to it and says it in the same words.
    row = html[html.index('id="row-acme-UPD-01"'):]
    row = row[:row.index("</tr>")]
    assert 'href="#notrun-acme-UPD-01"' in row and "failure-acme-UPD-01" not in row
    assert "left out of this run by the operator&#39;s selection" in row


def test_a_run_with_a_failure_is_failed_and_its_unchecked_requirements_apart(
        tmp_path: Path) -> None:
    run, report = _run(tmp_path)
    report["makers"]["acme"]["UPD-01"] = _not_run_row()
    html = render_html(run, report)
    assert _overall(html) == "FAILED"
    failures = html[html.index('id="failures"'):html.index('id="not-checked"')]
    assert 'id="failure-acme-E901-02"' in failures and "UPD-01" not in failures
    assert 'id="notrun-acme-UPD-01"' in html[html.index('id="not-checked"'):]


def test_the_reasons_a_requirement_was_not_checked_in_plain_words() -> None:
    from harness.report.html import not_run_words

    tests = ["suites/a.py::t[x]", "suites/b.py::u[x]"]
    assert not_run_words([
        "suites/a.py::t[x]: not run: the run was interrupted",
        "suites/b.py::u[x]: not run: the run was interrupted",
        "suites/b.py::u[x]: bench fault (camera.frozen): cam: the same frame",
        "suites/b.py::u[x]: skipped"], tests) == (
        "not reached: the run was interrupted before it",
        "the bench failed, not the reader: bench fault (camera.frozen): cam: the same frame",
        "skipped")
    # A reason it does not know is kept as it is, never dropped.
    assert not_run_words(["pending: the camera is calibrating"], tests) == (
        "pending: the camera is calibrating",)


def test_a_miswired_reader_is_said_above_what_failed_and_each_case_is_named(
        tmp_path: Path) -> None:
    """A face-auth reader behind a hub may never come up: its maker's failures read as the
    reader's unless the page says the bench was wired against the rules, above them. Each
    verdict names its case (the check it was judged by), and what was observed is shown."""
    run_dir, report = _run(tmp_path)
    devices = json.loads((run_dir / "devices.json").read_text("utf-8"))
    devices["devices"][0]["violations"] = [
        {"requirement": "USB-02", "detail": "1 hub(s) between the terminal and the reader"}]
    (run_dir / "devices.json").write_text(json.dumps(devices), encoding="utf-8")
    report["makers"]["acme"]["E901-02"]["verdicts"][0]["evidence"]["observed"] = [
        "12.0:card_in 14.0:card_out"]
    html = render_html(run_dir, report)
    failures = html[html.index('id="failures"'):html.index('id="failure-acme-E901-02"')]
    assert "The bench is wired against the rules (1)" in failures
    assert "reader-a: USB-02 (1 hub(s) between the terminal and the reader)" in failures
    failure = html[html.index('id="failure-acme-E901-02"'):html.index("</article>")]
    assert "broke the rule (e901: consent -&gt; please_wait):" in failure, failure
    assert "12.0:card_in 14.0:card_out" in failure
    # A correctly wired bench has no such banner.
    (tmp_path / "again").mkdir()
    assert 'id="miswired"' not in render_html(*_run(tmp_path / "again"))


def test_the_labels_with_no_room_are_named_in_lines_that_fit_the_picture() -> None:
    """A busy flow (UPD-08's dialogs and screens over 26 s) names what had no room under the
    picture: in lines the picture's width holds, its "and N more" not cut off."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from harness.report.timeline_picture import FOOTNOTE_CHARS, MAX_UNNAMED, _figure

    states = ("consent_1", "consent_2", "checking", "completion", "first")
    events = [{"t": k * 0.5, "source": "cam", "kind": "screen.seen",
               "state": states[k % len(states)]} for k in range(60)]
    fig = _figure(plt, (0.0, 30.0), events, "r", None, ["cam"], [], [], "UPD-08", [])
    try:
        label = fig.axes[0].get_xlabel()
    finally:
        plt.close(fig)
    lines = label.splitlines()
    assert lines[0] == "bench time (s)" and lines[1].startswith("no room to name: ")
    assert len(lines) > 2 and all(len(line) <= FOOTNOTE_CHARS for line in lines), lines
    assert label.count(" at ") == MAX_UNNAMED and "more" in lines[-1], label


def test_a_coined_name_in_a_failure_says_what_it_is_where_it_stands() -> None:
    """please_wait in a failure's line is marked with what it is (the glossary is a page
    away); plain words are left as they are, and the line is escaped first."""
    from harness.report.glossary import Entry
    from harness.report.html import glossed

    entries = [Entry("please_wait", "a 'please wait' screen", "しばらくお待ちください"),
               Entry("first", "the reader's first screen", ""),
               Entry("error_901", "the 901 error screen", "【901】")]
    text = glossed("please_wait was not seen after consent; first -> error_901 <b>", entries)
    assert str(text) == (
        '<abbr title="a &#39;please wait&#39; screen; its words: しばらくお待ちください">'
        'please_wait</abbr> was not seen after consent; first -&gt; '
        '<abbr title="the 901 error screen; its words: 【901】">error_901</abbr> &lt;b&gt;')
    # A name inside a longer one is not marked (error_9010 is not error_901).
    assert "<abbr" not in str(glossed("error_9010 and xplease_wait", entries))
