"""``onshi-rig report render | verify | diff`` on real run folders: one pair of certifications
of the general readers, on the emulated bench (every requirement passes) and on the miswired
one (USB-04, USB-05, SP-03, SP-04 fail), made once for the module; the commands run in this
process on copies of them."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import cv2
import numpy as np
import pytest
from cli_fork import run_cli

from harness.cli import main
from harness.paths import project_file
from harness.report.diff import IDENTITY as DIFF_IDENTITY
from harness.report.manifest import MANIFEST_FILE, write_manifest

CHANGED = {"USB-04", "USB-05", "USB-08", "SP-03", "SP-04", "SP-06", "SP-07"}
SAME = {"USB-03", "USB-06", "SP-05"}


def _certify(out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    done = run_cli(["certify", "--vendor", "general_readers", "--jobs", "1", "--out", str(out),
                    *args], timeout=600, cwd=project_file("."))
    assert done.returncode in (0, 1), done.stdout[-2000:] + done.stderr[-2000:]
    return done


@pytest.fixture(scope="module")
def passing_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    passing = tmp_path_factory.mktemp("report-commands") / "passing"
    _certify(passing)
    return passing


@pytest.fixture(scope="module")
def miswired_run(tmp_path_factory: pytest.TempPathFactory, passing_run: Path
                 ) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """The miswired bench certified, compared with the passing run as a lab reruns after
    a change (``certify --compared-with``)."""
    out = tmp_path_factory.mktemp("report-commands") / "miswired"
    return out, _certify(out, "--bench", str(project_file("fixtures/benches/miswired.yaml")),
                         "--compared-with", str(passing_run))


@pytest.fixture(scope="module")
def runs(passing_run: Path, miswired_run: tuple[Path, subprocess.CompletedProcess[str]]
         ) -> tuple[Path, Path]:
    """(passing, miswired). Both keep their frames: the diff's pictures come from them."""
    return passing_run, miswired_run[0]


def test_certify_the_general_readers_on_the_miswired_bench(
        miswired_run: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    """The miswired bench (tests/test_suites_prove_themselves.py) certified for the general
    readers fails exactly the unverified RC-S380's USB-04, USB-05 (no name the app should
    show) and USB-08 (no word of its firmware), and the smartphone flows their host reader drives: Panasonic's, on a USB 2.0
    port, never links, so they cannot be judged (fail closed); the rest passes."""
    out, proc = miswired_run
    report = json.loads((out / "certification.json").read_text(encoding="utf-8"))
    failed = {r for r, row in report["makers"]["general_readers"].items()
              if row["status"] != "passed"}
    assert failed == CHANGED, proc.stdout[-3000:]
    rows = report["makers"]["general_readers"]
    assert all("sony-rc-s380" in " ".join(rows[r]["reasons"])
               for r in ("USB-04", "USB-05", "USB-08"))
    assert all("link_wait" in " ".join(rows[r]["reasons"]) for r in ("SP-03", "SP-04"))
    assert proc.returncode == 1


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _copy(run: Path, tmp_path: Path, name: str = "copy") -> Path:
    return Path(shutil.copytree(run, tmp_path / name, symlinks=True))


def _one_line_error(err: str) -> str:
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


# --- verify ---------------------------------------------------------------------------------

def test_certify_seals_every_file_of_the_run_folder(runs: tuple[Path, Path]) -> None:
    for run in runs:
        lines = (run / MANIFEST_FILE).read_text("utf-8").splitlines()
        listed = {}
        for line in lines:
            digest, _, rel = line.partition("  ")
            listed[rel] = digest
        files = {p.relative_to(run).as_posix() for p in run.rglob("*") if p.is_file()}
        # Every file, in subfolders too (evidence, allure), the manifest itself not.
        assert set(listed) == files - {MANIFEST_FILE}
        assert any(r.startswith("evidence/") and r.endswith(".jpg") for r in listed)
        for rel, digest in listed.items():
            assert hashlib.sha256((run / rel).read_bytes()).hexdigest() == digest, rel
        assert lines == sorted(lines, key=lambda s: s.partition("  ")[2])


def test_verify_passes_a_fresh_run_and_names_each_changed_missing_and_extra_file(
        runs: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _cli(capsys, "report", "verify", str(runs[1]))
    assert code == 0, out
    copy = _copy(runs[1], tmp_path)
    assert _cli(capsys, "report", "verify", str(copy))[0] == 0
    # One byte changed in place (same size, same name), a file gone, a file added.
    frame = next(p for p in sorted((copy / "evidence").rglob("*.jpg")))
    data = bytearray(frame.read_bytes())
    data[len(data) // 2] ^= 0x01
    frame.write_bytes(bytes(data))
    (copy / "devices.json").unlink()
    (copy / "evidence" / "note.txt").write_text("added after the run\n", encoding="utf-8")
    code, out, err = _cli(capsys, "report", "verify", str(copy))
    assert code == 1
    assert out.splitlines() == [f"changed: {frame.relative_to(copy).as_posix()}",
                                "missing: devices.json", "extra: evidence/note.txt"]
    assert "1 changed, 1 missing, 1 extra" in err


def test_verify_without_a_manifest_or_with_a_broken_one_is_bad_input(
        runs: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    copy = _copy(runs[1], tmp_path)
    manifest = copy / MANIFEST_FILE
    lines = manifest.read_text("utf-8").splitlines()
    manifest.write_text("\n".join([lines[0], "not a line", *lines[1:]]) + "\n", "utf-8")
    code, _, err = _cli(capsys, "report", "verify", str(copy))
    assert code == 2 and f"{manifest}:2: not a sha256sum line" in _one_line_error(err)
    manifest.write_text(lines[0].split("  ")[0] + "  ../elsewhere.txt\n", "utf-8")
    code, _, err = _cli(capsys, "report", "verify", str(copy))
    assert code == 2 and "not a path inside the folder" in _one_line_error(err)
    manifest.unlink()
    code, _, err = _cli(capsys, "report", "verify", str(copy))
    assert code == 2 and "no manifest" in _one_line_error(err)


# --- render ---------------------------------------------------------------------------------

def test_render_rebuilds_the_html_and_seals_the_folder_again(
        runs: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Moved elsewhere: the report is drawn from the folder it is in, not where it was made.
    copy = _copy(runs[1], tmp_path)
    original = (copy / "certification.html").read_text("utf-8")
    code, out, _ = _cli(capsys, "report", "render", str(copy))
    assert code == 0 and "written again" in out
    assert _cli(capsys, "report", "verify", str(copy))[0] == 0
    # A stale page: rendered as certify rendered it, the folder matches its seal again
    # (junit.xml too: written from the report the same way each time).
    (copy / "certification.html").write_text("<html>stale</html>", encoding="utf-8")
    code, out, err = _cli(capsys, "report", "render", str(copy))
    assert code == 0 and "left as it was" in err
    assert (copy / "certification.html").read_text("utf-8") == original
    assert "link_wait" in original  # the miswired run's frame is in it
    assert _cli(capsys, "report", "verify", str(copy))[0] == 0
    # A folder changed since it was sealed: rendered, but its manifest is not blessed.
    with (copy / "run.json").open("a", encoding="utf-8") as f:
        f.write(" ")
    code, _, err = _cli(capsys, "report", "render", str(copy))
    assert code == 0 and "left as it was" in err
    code, out, _ = _cli(capsys, "report", "verify", str(copy))
    assert code == 1 and out.splitlines() == ["changed: run.json"]


def _junit_cases(path: Path) -> dict[str, tuple[str, ...]]:
    root = ET.parse(path).getroot()
    return {f"{c.get('classname')}::{c.get('name')}": tuple(
        e.tag for e in c if e.tag in ("failure", "error", "skipped")) for c in root.iter("testcase")}


def test_render_writes_junit_xml_again_from_the_report(
        runs: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    copy = _copy(runs[1], tmp_path)
    written = _junit_cases(copy / "junit.xml")  # pytest's, as certify finished it
    assert sum(bool(v) for v in written.values()) >= 5
    (copy / "junit.xml").unlink()
    code, out, _ = _cli(capsys, "report", "render", str(copy))
    assert code == 0 and f"JUnit XML: {copy / 'junit.xml'}" in out
    # The same test cases with the same outcomes, from certification.json alone.
    assert _junit_cases(copy / "junit.xml") == written
    (suite,) = ET.parse(copy / "junit.xml").getroot().iter("testsuite")
    props = dict((p.get("name"), p.get("value")) for p in suite.find("properties"))
    report = json.loads((copy / "certification.json").read_text("utf-8"))
    assert props == {"bench": "miswired", "bench_sha256": report["bench"]["sha256"],
                     "commit": report["rig"]["commit"], "certification": "failed",
                     "run": report["run"], "maker": "general_readers"}
    # A report that no longer says a test failed: the file follows it, not the old file.
    name = next(n for n, t in report["tests"].items() if t["outcome"] == "failed")
    report["tests"][name]["outcome"] = "passed"
    (copy / "certification.json").write_text(json.dumps(report), encoding="utf-8")
    assert _cli(capsys, "report", "render", str(copy))[0] == 0
    cls, _, case = name.replace("/", ".").replace(".py::", "::").rpartition("::")
    assert _junit_cases(copy / "junit.xml")[f"{cls}::{case}"] == ()


def test_after_a_template_change_render_writes_the_new_html_and_seals_it(
        runs: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.report import html

    templates = Path(shutil.copytree(html.TEMPLATES, tmp_path / "templates"))
    page = templates / "certification.html.j2"
    page.write_text(page.read_text("utf-8").replace(
        "</body>", "<p id='v2'>template v2</p></body>"), encoding="utf-8")
    monkeypatch.setattr(html, "TEMPLATES", templates)
    copy = _copy(runs[1], tmp_path)
    code, out, _ = _cli(capsys, "report", "render", str(copy))
    assert code == 0 and "written again" in out
    assert "<p id='v2'>template v2</p>" in (copy / "certification.html").read_text("utf-8")
    assert _cli(capsys, "report", "verify", str(copy))[0] == 0


@pytest.mark.parametrize(("content", "expected"), [
    (None, "no certification report in this folder"),
    ('{"bench": {"name": "x",\n  oops}', "certification.json:2: not JSON"),
    ("[]", "not a certification report"),
    ('{"bench": {"file": "b", "name": "b", "kind": "emulated", "sha256": "0"}, "started": "s",'
     ' "ended": "e", "passed": false, "makers": {"acme": {"USB-01": {"status": "ok"}}}}',
     "makers.acme.USB-01.status: not one of passed, failed, not_run"),
])
def test_render_of_a_folder_without_a_readable_report_is_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None,
        expected: str) -> None:
    if content is not None:
        (tmp_path / "certification.json").write_text(content, encoding="utf-8")
    code, _, err = _cli(capsys, "report", "render", str(tmp_path))
    assert code == 2 and expected in _one_line_error(err)
    assert not (tmp_path / "certification.html").exists()


# --- diff -----------------------------------------------------------------------------------

def _diff(capsys: pytest.CaptureFixture[str], old: Path, new: Path,
          *extra: str) -> tuple[int, dict]:
    code, out, err = _cli(capsys, "report", "diff", str(old), str(new), "--json", *extra)
    assert "Traceback" not in err
    return code, json.loads(out)


def test_diff_names_exactly_the_requirements_that_changed(
        runs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    passing, miswired = runs
    code, diff = _diff(capsys, passing, miswired)
    assert code == 1 and diff["worse"]
    rows = diff["makers"]["general_readers"]
    assert set(rows["newly_failing"]) == CHANGED and len(rows["newly_failing"]) == len(CHANGED)
    assert set(rows["unchanged"]) == SAME
    assert rows["newly_passing"] == rows["newly_not_run"] == rows["failing_more"] == []
    assert {c["requirement"] for c in rows["changes"]} == CHANGED
    # Different benches said first, each by its file's SHA-256.
    [note] = [n for n in diff["notes"] if n.startswith("different benches: emulated")]
    assert all(_bench_sha(run) in note for run in runs) and not diff["same_bench"]
    # The deciding evidence, then and now: the RC-S380 judged only now, failing USB-04.
    usb04 = next(c for c in rows["changes"] if c["requirement"] == "USB-04")
    s380 = next(v for v in usb04["verdicts"] if v["subject"] == "sony-rc-s380")
    assert s380["old"] is None and s380["new"]["status"] == "failed"
    assert "not a verified general reader" in " ".join(s380["new"]["problems"])
    sp03 = next(c for c in rows["changes"] if c["requirement"] == "SP-03")
    sanwa = next(v for v in sp03["verdicts"] if v["subject"] == "sanwa-adr-mnicu3")
    assert sanwa["old"]["status"] == "passed" and sanwa["new"]["status"] == "failed"
    # What was observed then; no text read: SP-03's check judges none (the flow's texts
    # other checks judge are theirs, not SP-03's evidence).
    assert sanwa["old"]["evidence"]["observed"] and "read" not in sanwa["old"]["evidence"]
    # The devices of both runs: the swapped general reader, the face-auth reader moved.
    devices = {d["device"]: d for d in diff["devices"]}
    # Every device of both runs, the unchanged too, with its identity then and now.
    unchanged = [d for d in devices.values() if not d["changed"]]
    assert unchanged and all(d["old"] == d["new"] and d["new"]["version"] for d in unchanged)
    assert devices["sony-rc-s380"]["old"] is None
    assert devices["sony-rc-s380"]["new"]["vid_pid"] == "054C:06C3"
    assert devices["sony-rc-s300-s1"]["new"] is None
    assert devices["sony-rc-s300-s1"]["old"]["vid_pid"] == "054C:0DC8"
    # Panasonic's reader moved to a USB 2 port: its path and its speed.
    assert devices["panasonic"]["changed"] == ["usb_path", "speed_mbps"]
    assert (devices["panasonic"]["old"]["usb_path"],
            devices["panasonic"]["new"]["usb_path"]) == ("2-1", "1-1")
    assert (devices["panasonic"]["old"]["speed_mbps"],
            devices["panasonic"]["new"]["speed_mbps"]) == (5000.0, 480.0)


def test_the_reversed_diff_names_them_newly_passing_and_nothing_got_worse(
        runs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    passing, miswired = runs
    code, diff = _diff(capsys, miswired, passing)
    rows = diff["makers"]["general_readers"]
    assert code == 0 and not diff["worse"]
    assert set(rows["newly_passing"]) == CHANGED and set(rows["unchanged"]) == SAME
    assert rows["newly_failing"] == rows["newly_not_run"] == []
    # A run against itself: nothing changed, nothing to say about benches; said to be the
    # same run (hunt K2-23: "nothing got worse" alone read as an update that changed nothing).
    code, same = _diff(capsys, passing, passing)
    assert code == 0 and same["same_bench"]
    assert [n.split(")")[1] for n in same["notes"]] == [
        " as OLD, the same report: nothing is compared (the folder given twice, or a copy of it"]
    assert same["devices"] and not [d for d in same["devices"] if d["changed"]]
    assert set(same["makers"]["general_readers"]["unchanged"]) == CHANGED | SAME


def test_text_output_lists_the_changes_per_maker(
        runs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _cli(capsys, "report", "diff", str(runs[0]), str(runs[1]))
    assert code == 1
    named = set(re.findall(r"^  NEWLY FAILING (\S+): passed -> failed$", out, re.M))
    assert named == CHANGED
    assert re.search(r"^  unchanged: (.*)$", out, re.M)[1].split(", ") == sorted(
        SAME, key=["USB-03", "USB-06", "SP-05"].index)
    assert out.rstrip().endswith("something got worse")


def _edit(run: Path, tmp_path: Path, name: str, change) -> Path:  # noqa: ANN001
    copy = _copy(run, tmp_path, name)
    report = json.loads((copy / "certification.json").read_text("utf-8"))
    change(report["makers"]["general_readers"])
    (copy / "certification.json").write_text(json.dumps(report, ensure_ascii=False), "utf-8")
    write_manifest(copy)  # sealed again: a changed report is not compared
    return copy


def test_newly_not_run_and_failing_on_more_readers_are_worse(
        runs: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    passing, miswired = runs

    def not_run(rows: dict) -> None:
        rows["SP-05"] = {"status": "not_run", "tests": [], "verdicts": [],
                         "reasons": ["not run: the run was interrupted"]}
        del rows["USB-06"]  # a requirement the new run left out is not certified by it

    code, diff = _diff(capsys, passing, _edit(passing, tmp_path, "not-run", not_run))
    rows = diff["makers"]["general_readers"]
    assert code == 1 and sorted(rows["newly_not_run"]) == ["SP-05", "USB-06"]
    assert rows["newly_failing"] == []

    def one_more(rows: dict) -> None:
        verdict = next(v for v in rows["USB-04"]["verdicts"]
                       if v["subject"] == "sanwa-adr-mnicu3")
        verdict.update(status="failed", problems=["unplugged"])

    code, diff = _diff(capsys, miswired, _edit(miswired, tmp_path, "more", one_more))
    rows = diff["makers"]["general_readers"]
    assert code == 1 and rows["failing_more"] == ["USB-04"]
    assert set(rows["unchanged"]) == (CHANGED | SAME) - {"USB-04"}


def test_a_firmware_update_is_named_among_the_devices_of_both_runs(
        runs: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    passing = runs[0]
    copy = _copy(passing, tmp_path, "updated")
    devices = json.loads((copy / "devices.json").read_text("utf-8"))
    reader = next(d for d in devices["devices"] if d["name"] == "sony-rc-s300-s1")
    before, reader["version"] = reader["version"], "9.99"
    (copy / "devices.json").write_text(json.dumps(devices), encoding="utf-8")
    write_manifest(copy)
    code, diff = _diff(capsys, passing, copy)
    changed = [(d["device"], d["changed"]) for d in diff["devices"] if d["changed"]]
    assert code == 0 and changed == [("sony-rc-s300-s1", ["version"])]
    code, out, _ = _cli(capsys, "report", "diff", str(passing), str(copy), "--html",
                        str(tmp_path / "d.html"))
    assert f"  sony-rc-s300-s1: version {before} -> 9.99" in out.splitlines()
    assert re.search(r"^devices: 1 changed, \d+ as they were", out, re.M)
    page = (tmp_path / "d.html").read_text("utf-8")
    rows = re.findall(r'<tr class="changed" data-device="sony-rc-s300-s1">.*?</tr>', page, re.S)
    [row] = [r for r in rows if "bcdDevice" in r]
    assert f'<td class="diff">{before}</td>' in row and '<td class="diff">9.99</td>' in row
    # The devices that did not change are listed too, with their identity.
    assert page.count('class="same" data-device="panasonic"') == len(DIFF_IDENTITY)


def test_diff_of_a_folder_without_a_report_is_bad_input(
        runs: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _cli(capsys, "report", "diff", str(runs[0]), str(tmp_path))
    assert code == 2 and "no certification report" in _one_line_error(err)


def _bench_sha(run: Path) -> str:
    return json.loads((run / "certification.json").read_text("utf-8"))["bench"]["sha256"]


def test_diff_refuses_a_run_whose_files_are_not_as_sealed(
        runs: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    passing, miswired = runs
    # A failure edited into a pass after the run: the report is not the one sealed.
    copy = _copy(miswired, tmp_path, "edited")
    report = json.loads((copy / "certification.json").read_text("utf-8"))
    report["makers"]["general_readers"]["USB-04"]["status"] = "passed"
    (copy / "certification.json").write_text(json.dumps(report), encoding="utf-8")
    for old, new in ((passing, copy), (copy, passing)):
        code, out, err = _cli(capsys, "report", "diff", str(old), str(new))
        line = _one_line_error(err)
        assert code == 2 and out == "" and f"{copy}: its files do not match" in line
        assert "1 changed, 0 missing, 0 extra: certification.json" in line
    # A folder without its manifest cannot be checked: refused too.
    (copy / MANIFEST_FILE).unlink()
    code, _, err = _cli(capsys, "report", "diff", str(passing), str(copy), "--json")
    assert code == 2 and "no manifest.sha256" in _one_line_error(err)


def _thumbs(block: str) -> list[tuple[str, str]]:
    return re.findall(r'class="thumb (p\d+)" href="#view-p\d+" title="([^"]*)"', block)


def test_diff_html_shows_both_runs_pictures_of_a_changed_verdict(
        runs: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    passing, miswired = runs
    # The miswired run's SP-03 verdict, as recorded, names no frame; its problem names the
    # screen that decided it (link_wait, 120 s after switching on), which the run's camera
    # kept: named here so the new side has its picture, drawn from the new run's folder.
    kept = [json.loads(line) for line in
            (miswired / "evidence" / "evidence.jsonl").read_text("utf-8").splitlines()]
    frame = next(k for k in kept if k["label"] == "link_wait")

    def name_frame(rows: dict) -> None:
        for v in rows["SP-03"]["verdicts"]:
            if v["subject"] == "sanwa-adr-mnicu3":
                v["evidence"]["frames"] = [frame["image"]]

    new = _edit(miswired, tmp_path, "named", name_frame)
    target = tmp_path / "diff.html"
    code, out, _ = _cli(capsys, "report", "diff", str(passing), str(new), "--html", str(target))
    assert code == 1 and f"HTML: {target}" in out
    page = target.read_text("utf-8")
    article = page[page.index('id="change-general_readers-SP-03"'):]
    article = article[:article.index("</article>")]
    block = article[article.index('data-subject="sanwa-adr-mnicu3"'):]
    then, now = block.split('<div class="side new">', 1)
    now = now[:now.index('<div class="sides')] if '<div class="sides' in now else now
    old_pics, new_pics = _thumbs(then), _thumbs(now)
    assert {c.rsplit(": ", 1)[1] for _, c in old_pics} >= {"sp_hold", "consent_1", "completion"}
    assert [c for _, c in new_pics] == [f"cam-panasonic at {frame['t']:.1f} s: link_wait"]
    assert "then only" not in then
    # Each picture embedded as a real image; the new one is the new run's own frame.
    for key, _ in old_pics + new_pics:
        data = re.search(rf"\.{key}\{{background-image:url\(data:image/jpeg;base64,([^)]*)\)",
                         page)[1]
        image = cv2.imdecode(np.frombuffer(base64.b64decode(data), np.uint8), cv2.IMREAD_COLOR)
        assert image is not None and image.shape[1] == 480
    source = cv2.imread(str(new / "evidence" / frame["image"]))
    data = re.search(rf"\.{new_pics[0][0]}\{{background-image:url\(data:image/jpeg;base64,"
                     r"([^)]*)\)", page)[1]
    shown = cv2.imdecode(np.frombuffer(base64.b64decode(data), np.uint8), cv2.IMREAD_COLOR)
    small = cv2.resize(source, (shown.shape[1], shown.shape[0]), interpolation=cv2.INTER_AREA)
    assert float(np.mean(cv2.absdiff(small, shown))) < 4.0
    # What was observed then is beside it (no text read: SP-03 judges none), and the
    # unchanged requirements get no article.
    assert "Observed" in then and "Text read" not in then
    for req in SAME:
        assert f'id="change-general_readers-{req}"' not in page
    for req in CHANGED:
        assert f'id="change-general_readers-{req}"' in page


# --- render --compared-with -------------------------------------------------------------------

def test_the_html_of_a_run_names_the_run_it_is_compared_with(
        runs: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    passing, miswired = runs
    copy = _copy(miswired, tmp_path)
    code, out, _ = _cli(capsys, "report", "render", str(copy), "--compared-with", str(passing))
    assert code == 0 and "written again" in out
    assert _cli(capsys, "report", "verify", str(copy))[0] == 0  # comparison.json sealed too
    then = json.loads((passing / "certification.json").read_text("utf-8"))

    def section() -> str:
        page = (copy / "certification.html").read_text("utf-8")
        return page[page.index('<section id="compared-with"'):page.index("</section>",
                                                                         page.index('id="compared-with"'))]

    block = section()
    # The earlier run's folder as a person reads it: not the host's absolute path.
    assert str(passing) not in block and f"in <code>{passing.name}</code>" in block
    for fact in (then["run"], then["bench"]["sha256"], then["started"],
                 hashlib.sha256((passing / "certification.json").read_bytes()).hexdigest(),
                 "a different bench from this run", "Something got worse"):
        assert fact in block, fact
    listed = re.search(r'<span class="bad">\d+ newly failing \(([^)]*)\)</span>', block)[1]
    assert set(listed.split(", ")) == CHANGED
    # Each changed requirement marked in the matrix, the unchanged not.
    page = (copy / "certification.html").read_text("utf-8")
    marked = set(re.findall(r'id="row-general_readers-([A-Z0-9-]+)">(?:(?!</tr>).)*'
                            r'<p class="change bad">newly failing</p>', page, re.S))
    assert marked == CHANGED
    # A later render keeps it; a report changed since (resumed, say) says it is stale.
    assert _cli(capsys, "report", "render", str(copy))[0] == 0
    assert section() == block
    report = json.loads((copy / "certification.json").read_text("utf-8"))
    report["ended"] = "2099-01-01T00:00:00+00:00"
    (copy / "certification.json").write_text(json.dumps(report), encoding="utf-8")
    assert _cli(capsys, "report", "render", str(copy))[0] == 0
    page = (copy / "certification.html").read_text("utf-8")
    assert 'id="comparison-stale"' in page and 'class="change bad"' not in page


def test_certify_compared_with_an_earlier_run_names_it_and_stays_sealed(
        runs: tuple[Path, Path], miswired_run: tuple[Path, subprocess.CompletedProcess[str]],
        capsys: pytest.CaptureFixture[str]) -> None:
    passing, miswired = runs
    assert f"compared with {passing}" in miswired_run[1].stdout
    comparison = json.loads((miswired / "comparison.json").read_text("utf-8"))
    assert comparison["run"] == json.loads(
        (miswired / "certification.json").read_text("utf-8"))["run"]
    page = (miswired / "certification.html").read_text("utf-8")
    block = page[page.index('<section id="compared-with"'):]
    block = block[:block.index("</section>")]
    assert json.loads((passing / "certification.json").read_text("utf-8"))["run"] in block
    listed = re.search(r'<span class="bad">\d+ newly failing \(([^)]*)\)</span>', block)[1]
    assert set(listed.split(", ")) == CHANGED
    assert 'id="comparison-stale"' not in page
    assert _cli(capsys, "report", "verify", str(miswired))[0] == 0  # sealed after it


def test_certify_compared_with_no_run_is_refused_before_it_starts(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    code, _, err = _cli(capsys, "certify", "--vendor", "general_readers", "--out", str(out),
                        "--compared-with", str(tmp_path / "nowhere"))
    assert code == 2 and "nowhere" in _one_line_error(err)
    assert not out.exists()


def test_compared_with_a_run_not_as_sealed_is_refused(
        runs: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    passing, miswired = runs
    old = _copy(passing, tmp_path, "old")
    (old / "evidence" / "note.txt").write_text("added\n", encoding="utf-8")
    copy = _copy(miswired, tmp_path)
    before = (copy / "comparison.json").read_bytes()  # certify's comparison with ``passing``
    code, _, err = _cli(capsys, "report", "render", str(copy), "--compared-with", str(old))
    assert code == 2 and "1 extra: evidence/note.txt" in _one_line_error(err)
    assert (copy / "comparison.json").read_bytes() == before
    assert _cli(capsys, "report", "verify", str(copy))[0] == 0  # nothing written


# --- render interrupted (hunt J-2, J-8) -------------------------------------------------------

@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_as_render_rewrites_the_junit_leaves_the_run_sealed(
        sig: signal.Signals, runs: tuple[Path, Path], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """A Ctrl-C between junit.xml rewritten and the manifest written again left a sealed run
    "changed: junit.xml" for good (render then never resealed it; diff and --resume refused
    it): the signal now waits until the folder is sealed, and render exits 128 + signal."""
    import harness.report.junit as junit

    copy = _copy(runs[0], tmp_path)
    written = junit.report_junit

    def then_signal(path: Path, report: dict) -> Path:
        done = written(path, report)
        path.write_text(path.read_text("utf-8") + "<!-- not as sealed -->", "utf-8")
        os.kill(os.getpid(), sig)  # delivered here, between the junit and the manifest
        return done

    monkeypatch.setattr(junit, "report_junit", then_signal)
    code, out, err = _cli(capsys, "report", "render", str(copy))
    assert code == 128 + sig
    assert "written again" in out
    assert f"{sig.name} as render ended: {copy} is rendered and sealed" in err
    assert "Traceback" not in err
    assert _cli(capsys, "report", "verify", str(copy))[0] == 0


def test_render_into_a_closed_stdout_still_seals_the_run(
        runs: tuple[Path, Path], tmp_path: Path) -> None:
    """``report render RUN | head -1``: a BrokenPipeError traceback came after junit.xml was
    rewritten and before the reseal."""
    copy = _copy(runs[0], tmp_path)
    (copy / "junit.xml").write_text("<testsuites/>", "utf-8")  # render's differs: resealed
    write_manifest(copy)
    read, write = os.pipe()
    os.close(read)
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "report", "render", str(copy)],
                          stdout=write, stderr=subprocess.PIPE, text=True, timeout=120,
                          cwd=project_file("."))
    os.close(write)
    assert (proc.returncode, proc.stderr) == (0, "")
    assert "<testsuites/>" not in (copy / "junit.xml").read_text("utf-8")
    verify = run_cli(["report", "verify", str(copy)], timeout=120, cwd=project_file("."))
    assert verify.returncode == 0, verify.stdout + verify.stderr


@pytest.mark.parametrize(("argv", "made"), [
    (["pcscd-config", "--dir", "{out}"], ["onshi-rig", "onshi-rig-vpcd"]),
    # (two of the folders: the second is the one a stop after the first misses)
    (["references", "--vendor", "terminal", "--vendor", "atlas", "--out", "{out}"],
     ["atlas", "terminal"]),
])
def test_every_command_writes_all_into_a_closed_stdout(argv: list[str], made: list[str],
                                                       tmp_path: Path) -> None:
    """pcscd-config ended in a BrokenPipeError traceback; references stopped after the first
    maker it drew."""
    read, write = os.pipe()
    os.close(read)
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "harness.cli",
                           *(a.format(out=out) for a in argv)],
                          stdout=write, stderr=subprocess.PIPE, text=True, timeout=300,
                          cwd=project_file("."))
    os.close(write)
    assert (proc.returncode, proc.stderr) == (0, "")
    assert sorted(p.name for p in out.iterdir()) == made
