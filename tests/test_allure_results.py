"""allure results of one small certification, read as written and through allure's own
command-line generator.

One certification serves the module: USEN-ALMEX on the deviant-e901 bench (its reader leaves
the frozen consent screen on card-out: E901-02 fails), two tests only (``-k`` through
``PYTEST_ADDOPTS``): that flow, and a wiring rule that passes. The generator is npm's
``allure-commandline`` (Java): ``$ONSHI_RIG_ALLURE``, else ``.allure-cli/`` in the checkout
(.ci/run installs it there), else ``allure`` on the PATH; missing, it skips on a developer's
machine and fails in CI.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from cli_fork import run_cli

from harness.errors import BenchFault
from harness.model.profiles import ProfileSet, default_profiles_dir
from harness.model.redact import redact_apdu, redact_response
from harness.model.timeline import Event
from harness.model.verdict import Verdict
from harness.paths import project_file
from harness.pytest_plugin import missing_part
from harness.report.allure_results import apdu_transcript, describe_test
from harness.report.allure_run import CATEGORIES, _escape
from harness.report.catalogue import FAMILY_TITLES
from harness.report.notices import COPY, cite
from harness.report.provenance import git_commit

BENCH = project_file("fixtures/benches/deviant-e901.yaml")
MAKER = "usen_almex"
FLOW, WIRING = "E901-02", "USB-02"
#: E901-02's card path (its phone path, which takes no card out, is another test).
SELECT = f"({MAKER}-{FLOW} and not also) or {MAKER}-{WIRING}"


def _allure() -> str:
    for candidate in (os.environ.get("ONSHI_RIG_ALLURE"),
                      str(project_file(".allure-cli/node_modules/.bin/allure")),
                      shutil.which("allure")):
        if candidate and Path(candidate).is_file():
            break
    else:
        missing_part("allure's command-line generator is not installed (npm install --prefix "
                     ".allure-cli allure-commandline@2, as .ci/run does)")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        missing_part("allure's command-line generator needs Java (apt-get install "
                     "default-jre-headless)")
    return candidate


def _steps(item: dict[str, Any]) -> list[dict[str, Any]]:
    """Every step under ``item``, depth first."""
    out = []
    for step in item.get("steps", []):
        out += [step, *_steps(step)]
    return out


def _attachments(item: dict[str, Any]) -> list[dict[str, Any]]:
    return [*item.get("attachments", []), *(a for s in _steps(item) for a in s.get("attachments", []))]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("allure") / "run"
    proc = run_cli(["certify", "--bench", str(BENCH), "--vendor", MAKER, "--jobs", "1",
                    "--out", str(out)], timeout=600, cwd=project_file("."),
                   env={**os.environ, "PYTEST_ADDOPTS": f"-k '{SELECT}'"})
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]  # E901-02 fails
    folder = out / "allure"
    results = [json.loads(p.read_text("utf-8")) for p in folder.glob("*-result.json")]
    by_story = {}
    for result in results:
        stories = [lab["value"] for lab in result["labels"] if lab["name"] == "story"]
        assert len(stories) == 1, result["name"]
        by_story[stories[0]] = result
    assert set(by_story) == {FLOW, WIRING}, proc.stdout[-3000:]
    report = json.loads((out / "certification.json").read_text("utf-8"))
    events = [json.loads(line) for line in (out / "timeline.jsonl").read_text("utf-8").splitlines()]
    return {"out": out, "allure": folder, "results": by_story, "report": report,
            "events": events}


def _verdict(run: dict[str, Any], req: str) -> dict[str, Any]:
    [verdict] = run["report"]["makers"][MAKER][req]["verdicts"]
    return verdict


def _labels(result: dict[str, Any], name: str) -> list[str]:
    return [lab["value"] for lab in result["labels"] if lab["name"] == name]


def test_each_test_is_filed_by_maker_group_and_requirement(run: dict[str, Any]) -> None:
    profile = ProfileSet.load(default_profiles_dir())[MAKER]
    for req, severity in ((FLOW, "critical"), (WIRING, "normal")):
        result = run["results"][req]
        requirement = profile.requirement(req)
        assert _labels(result, "epic") == [profile.maker_name]  # the name, not the key
        family = req.split("-")[0]
        assert _labels(result, "feature") == [f"{family}: {FAMILY_TITLES[family]}"]
        assert _labels(result, "severity") == [severity]
        assert result["name"].startswith(f"{req}: {requirement.statement[:40]}")
        assert result["name"].endswith(f" ({MAKER})")
        assert requirement.statement in result["description"]
        # A link per notice, named by its citation; never the team's file name of a copy.
        assert [link["name"] for link in result["links"]] == \
            [f"{req}: {c.text()}" for c in cite(requirement.source)]
        assert not COPY.search(json.dumps(result, ensure_ascii=False))
    assert run["results"][FLOW]["status"] == "failed"
    assert run["results"][WIRING]["status"] == "passed"
    # The case by its id (allure shows a string parameter quoted).
    assert [p["value"] for p in run["results"][FLOW]["parameters"]] == [f"'{MAKER}-{FLOW}'"]


def test_the_steps_replay_the_flow_at_bench_time(run: dict[str, Any]) -> None:
    verdict = _verdict(run, FLOW)
    t0, t1 = verdict["evidence"]["span"]
    result = run["results"][FLOW]
    flow, judged = result["steps"]
    assert flow["name"].startswith(f"on {MAKER}: bench time {t0:.1f} s to {t1:.1f} s")
    titles = [s["name"] for s in flow["steps"]]
    # Every hands action the rule saw, at its bench time, in order ...
    actions = verdict["evidence"]["observed"][-1].split()
    hands = [t for t in titles if "  hands: " in t]
    assert hands == [f"{float(a.split(':', 1)[0]):.1f} s  hands: "
                     f"{a.split(':', 1)[1].replace(':', ' ')}" for a in actions]
    # ... and every screen the reader's camera decided on in the span, none outside it.
    seen = [e for e in run["events"] if e["kind"] == "screen.seen"
            and e["source"] == f"cam-{MAKER}"]
    inside = [f"{e['t']:.1f} s  cam-{MAKER} saw {e['state']}" for e in seen
              if t0 <= e["t"] <= t1]
    assert [t.split(" (score")[0] for t in titles if f"cam-{MAKER} saw" in t] == inside
    assert len(inside) < len(seen)  # the camera saw more than the span (the boot)
    times = [float(t.split(" s ", 1)[0]) for t in titles]
    assert times == sorted(times) and t0 <= times[0] and times[-1] <= t1
    # The text read off the 901 screen, each expected text a sub-step.
    read = next(s for s in flow["steps"] if f"cam-{MAKER} read error_901" in s["name"])
    assert read["steps"] and all(s["name"].startswith("found ") for s in read["steps"])
    # The verdict's own step: failed, with what broke the rule.
    assert judged["name"] == f"{FLOW} ({MAKER}) on {MAKER}: failed"
    assert judged["status"] == "failed"
    assert verdict["problems"][0] in judged["statusDetails"]["message"]
    [wiring] = run["results"][WIRING]["steps"]
    assert (wiring["name"], wiring["status"]) == (f"{WIRING} ({MAKER}) on {MAKER}: passed",
                                                  "passed")


def test_the_attachments_are_the_evidence(run: dict[str, Any]) -> None:
    folder, store = run["allure"], run["out"] / "evidence"
    for result in run["results"].values():
        for attachment in _attachments(result):
            assert (folder / attachment["source"]).is_file(), attachment
    verdict = _verdict(run, FLOW)
    [judged] = [s for s in run["results"][FLOW]["steps"] if s["name"].startswith(FLOW)]
    files = {a["name"]: (folder / a["source"]).read_bytes() for a in judged["attachments"]}
    # The deciding frames, byte for byte as the evidence store kept them, with their
    # rectified screens (the verdict failed) ...
    for frame in verdict["evidence"]["frames"]:
        camera, stem = frame.split("/")
        t, label = stem.split("-")[1], stem.split("-", 2)[2].removesuffix(".jpg")
        [name] = [n for n in files if n.endswith(f"{camera} at {float(t):.1f} s: {label}")
                  and not n.startswith("rectified")]
        assert "deciding" in name.split(":")[0]
        assert files[name] == (store / frame).read_bytes()
        # Linked, not copied (one file system here): the store's own file.
        [source] = [a["source"] for a in judged["attachments"] if a["name"] == name]
        assert (folder / source).samefile(store / frame)
        assert files[f"rectified screen: {name}"] == \
            (store / frame.replace(".jpg", ".rectified.png")).read_bytes()
    # ... the reader's screen before the flow, and the frames behind the window its screen
    # had to stay unchanged in (the consent screen it left on card-out).
    assert any(n.startswith(f"before: cam-{MAKER} at ") for n in files)
    unchanged = [n for n in files if "unchanged" in n.split(":")[0]]
    assert any(n.endswith(": consent_wait") for n in unchanged)
    assert any(n.endswith(": first") for n in unchanged)  # what it showed instead
    # The flow's timeline picture.
    png = files[f"timeline {FLOW} on {MAKER}"]
    picture = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    assert picture is not None and picture.shape[1] > 600 and picture.std() > 10
    # The verdict as the certification holds it.
    assert json.loads(files[f"verdict {FLOW} ({MAKER})"]) == \
        {k: v for k, v in verdict.items() if k != "folder"}
    # The bench's USB tree: the reader on its root port, the general readers behind the hub.
    tree = next((folder / a["source"]).read_text("utf-8")
                for a in run["results"][FLOW]["attachments"] if a["name"] == "USB tree")
    assert f"└─ 2-3  {MAKER}: face_auth_reader, FFFF:F003, 5000 Mbit/s" in tree
    hub = tree.index("└─ 1-4  hub (hub)")
    assert tree.index("      └─ 1-4.1  sanwa-adr-mnicu3: general_reader") > hub


def test_the_run_says_what_produced_it(run: dict[str, Any]) -> None:
    folder = run["allure"]
    text = (folder / "environment.properties").read_text("ascii")
    props = dict(line.split("=", 1) for line in text.splitlines())
    assert props["bench"] == "deviant-e901"
    assert props["bench.file"] == BENCH.name
    assert props["bench.sha256"] == hashlib.sha256(BENCH.read_bytes()).hexdigest()
    # The commit the run's report names (the checkout's may have moved on since).
    commit = run["report"]["rig"]["commit"]
    assert commit and len(commit) == 40 and git_commit()["commit"]
    assert props["rig.commit"] == commit + (" (with local changes)"
                                           if run["report"]["rig"]["modified"] else "")
    assert props["rig.version"] == run["report"]["rig"]["version"]
    assert json.loads((folder / "categories.json").read_text("utf-8")) == CATEGORIES
    # One allure folder per run: nothing of allure's anywhere else in the run folder.
    assert not [p for p in run["out"].rglob("*-result.json") if p.parent != folder]


def _synthetic(folder: Path, name: str, status: str, message: str) -> None:
    result = {"uuid": str(uuid.uuid4()), "name": name, "fullName": f"synthetic.{name}",
              "historyId": hashlib.md5(name.encode()).hexdigest(), "status": status,
              "statusDetails": {"message": message}, "start": 1, "stop": 2, "labels": []}
    (folder / f"{result['uuid']}-result.json").write_text(json.dumps(result), "utf-8")


def _previous_run(run: dict[str, Any], folder: Path, history_id: str) -> Path:
    """An earlier run of the same bench, sealed, whose allure report was generated: its
    history says the failing test passed then (build 4)."""
    from harness.report.manifest import write_manifest

    folder.mkdir()
    shutil.copy(run["out"] / "certification.json", folder)
    history = folder / "allure-report" / "history"
    history.mkdir(parents=True)
    item = {"uid": "earlier", "status": "passed", "time": {"start": 1, "stop": 2, "duration": 1}}
    counts = {"failed": 0, "broken": 0, "skipped": 0, "passed": 1, "unknown": 0, "total": 1}
    (history / "history.json").write_text(json.dumps(
        {history_id: {"statistic": counts, "items": [item]}}), "utf-8")
    (history / "history-trend.json").write_text(json.dumps(
        [{"buildOrder": 4, "reportName": "earlier", "data": counts}]), "utf-8")
    widgets = folder / "allure-report" / "widgets"
    widgets.mkdir()
    (widgets / "executors.json").write_text(json.dumps([{"buildOrder": 4}]), "utf-8")
    write_manifest(folder)
    return folder


def test_the_allure_generator_reads_the_results(run: dict[str, Any], tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.cli import main

    monkeypatch.setenv("ONSHI_RIG_ALLURE", _allure())
    monkeypatch.setenv("JAVA_OPTS", "-XX:TieredStopAtLevel=1")
    copy = Path(shutil.copytree(run["out"], tmp_path / "run", symlinks=True))
    results = copy / "allure"
    previous = _previous_run(run, tmp_path / "previous", run["results"][FLOW]["historyId"])
    # A result of each other category, with the messages the rig writes.
    fault = BenchFault("camera.frozen", "cam-x", "the same frame, byte for byte, since 3 s")
    _synthetic(results, "fault", "broken", f"harness.errors.BenchFault: {fault}")
    unjudged = Verdict.of("E901-02", "canon", "canon", expected="e", seen="s",
                          errors=["the flow never reached the 901 screen"]).explain()
    _synthetic(results, "unjudged", "failed", f"Failed: {unjudged}")
    _synthetic(results, "rig", "broken", "KeyError: 'state'")
    # Generated by the rig, the previous report's history carried over (one run of Java).
    assert main(["report", "allure", str(copy), "--history-from", str(previous)]) == 0
    report = copy / "allure-report"
    data = report / "data"
    # The trend spans both runs: this one numbered after the previous report's build.
    trend = json.loads((report / "history" / "history-trend.json").read_text("utf-8"))
    assert [t.get("buildOrder") for t in trend] == [5, 4]
    assert trend[1]["data"]["passed"] == 1 and trend[0]["data"]["failed"] >= 1
    widget = json.loads((report / "widgets" / "history-trend.json").read_text("utf-8"))
    assert len(widget) == 2
    # The failing test's own history: it passed in the earlier run (and this report's
    # history, for the next one, holds both).
    history = json.loads((report / "history" / "history.json").read_text("utf-8"))
    assert [[i["status"] for i in h["items"]] for h in history.values()
            if any(i["uid"] == "earlier" for i in h["items"])
            and len(h["items"]) == 2] == [["failed", "passed"]]
    assert not (copy / ".allure-report.tmp").exists()
    # The Behaviors tree: maker > requirement group > requirement ID > the test.
    tree = json.loads((data / "behaviors.json").read_text("utf-8"))
    profile = ProfileSet.load(default_profiles_dir())[MAKER]
    [maker] = [c for c in tree["children"] if c["name"] == profile.maker_name]
    groups = {g["name"]: {s["name"]: [t["name"] for t in s["children"]] for s in g["children"]}
              for g in maker["children"]}
    assert groups == {f"E901: {FAMILY_TITLES['E901']}": {FLOW: [run["results"][FLOW]["name"]]},
                      f"USB: {FAMILY_TITLES['USB']}": {WIRING: [run["results"][WIRING]["name"]]}}
    # The failing test as the report shows it: its steps and its pictures, and its history.
    [uid] = maker["children"][0]["children"][0]["children"]
    case = json.loads((data / "test-cases" / f"{uid['uid']}.json").read_text("utf-8"))
    assert [(i["uid"], i["status"]) for i in case["extra"]["history"]["items"]] == \
        [("earlier", "passed")]
    steps = _steps(case["testStage"])
    assert len(steps) > 15 and any("hands: card_out" in s["name"] for s in steps)
    pictures = [a for a in _attachments(case["testStage"]) if a["type"] == "image/jpg"]
    assert pictures and all((data / "attachments" / a["source"]).stat().st_size > 1000
                            for a in pictures)
    # Each result in its category; the reader's failure is not a bench fault.
    categories = {c["name"]: sorted(t["name"] for m in c["children"] for t in m["children"])
                  for c in json.loads((data / "categories.json").read_text("utf-8"))["children"]}
    assert categories == {"Bench faults (not the reader)": ["fault"],
                          "Requirements that could not be judged": ["unjudged"],
                          "Reader failures (a requirement broken)": [run["results"][FLOW]["name"]],
                          "Rig errors": ["rig"]}
    environment = {e["name"]: e["values"] for e in
                   json.loads((report / "widgets" / "environment.json").read_text("utf-8"))}
    assert environment["bench"] == ["deviant-e901"]


def test_a_trend_mixes_no_other_bench_nor_an_unsealed_run(
        run: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Refused before the generator runs (a stand-in for it that would fail the test)."""
    from harness.cli import main
    from harness.report.manifest import write_manifest

    fake = tmp_path / "allure"
    fake.write_text("#!/bin/sh\nexit 99\n", encoding="utf-8")
    fake.chmod(0o755)
    monkeypatch.setenv("ONSHI_RIG_ALLURE", str(fake))
    copy = Path(shutil.copytree(run["out"], tmp_path / "run", symlinks=True))

    def refused(previous: Path) -> str:
        code = main(["report", "allure", str(copy), "--history-from", str(previous)])
        err = capsys.readouterr().err
        assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1
        assert not (copy / "allure-report").exists()
        return err

    other = _previous_run(run, tmp_path / "other", "x")
    report = json.loads((other / "certification.json").read_text("utf-8"))
    report["bench"]["sha256"] = "0" * 64  # the same name, another bench file
    (other / "certification.json").write_text(json.dumps(report), "utf-8")
    write_manifest(other)
    assert "another bench" in refused(other) and "0" * 64 in refused(other)
    unsealed = _previous_run(run, tmp_path / "unsealed", "x")
    (unsealed / "allure-report" / "history" / "history.json").write_text("{}", "utf-8")
    assert "1 changed, 0 missing, 0 extra" in refused(unsealed)
    bare = _previous_run(run, tmp_path / "bare", "x")
    shutil.rmtree(bare / "allure-report")
    write_manifest(bare)
    assert "generate its report first" in refused(bare)
    # The generator failing: said in one line, no report left half written.
    good = _previous_run(run, tmp_path / "good", "x")
    assert "generate: exit 99" in refused(good)


def test_properties_escape_what_java_reads_as_latin_1() -> None:
    for text in ("ベンチ 1", "a=b:c", " lead", "tab\there\nnew", "𝔸 astral", "back\\slash"):
        escaped = _escape(text)
        assert escaped.isascii() and "\n" not in escaped
        # Java's reading: \uXXXX as UTF-16 code units, a backslash before anything else kept
        # as that thing.
        decoded = codecs.decode(escaped.replace("\\ ", " "), "unicode_escape")
        assert decoded.encode("utf-16", "surrogatepass").decode("utf-16") == text
    assert _escape("a b=c", key=True) == "a\\ b\\=c"


def test_the_apdu_transcript_is_the_redacted_one() -> None:
    verify = bytes.fromhex("0020008004") + b"7391"
    events = [Event(12.0, "pcsc", "apdu", {"reader": "R 00", "command": redact_apdu(verify),
                                            "response": redact_response(b"\x90\x00")}),
              Event(13.0, "pcsc", "pcsc.card_removed", {"reader": "R 00"})]
    text = apdu_transcript(events)
    assert text.count("\n    > ") == 1 and "R 00" in text and "9000" in text.replace(" ", "")
    assert "7391" not in text and b"7391".hex() not in text
    assert apdu_transcript(events[1:]) == ""


def test_a_requirement_no_profile_has_is_said_not_guessed() -> None:
    labels = describe_test(ProfileSet.load(default_profiles_dir()), ["canon"], ["ERR-99"],
                           "canon", "test_x")
    assert labels.title == "ERR-99: (not in the profile of canon) (canon)"
    assert labels.severity == "critical" and labels.links == ()


def test_an_evidence_frame_is_linked_and_any_other_file_copied(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pluggy
    from allure_commons import _hooks
    from allure_commons.logger import AllureFileLogger

    from harness.report.allure_publish import link_attachments

    store = tmp_path / "evidence"
    (store / "cam").mkdir(parents=True)
    frame = store / "cam" / "000001-1.000-first.jpg"
    frame.write_bytes(b"\xff\xd8 a frame")
    log = tmp_path / "bench.log"  # not the store's: it may be written again after
    log.write_text("a line\n")
    results = tmp_path / "allure"
    # allure's plugin manager as allure-pytest makes it, the test's own.
    manager = pluggy.PluginManager("allure")
    manager.add_hookspecs(_hooks.AllureUserHooks)
    manager.add_hookspecs(_hooks.AllureDeveloperHooks)
    logger = AllureFileLogger(results)
    manager.register(logger)
    link_attachments(store, manager)
    assert manager.get_name(logger) == str(id(logger))  # allure-pytest's clean-up finds it

    def attach(source: Path, name: str) -> Path:
        manager.hook.report_attached_file(source=str(source), file_name=name)
        return results / name

    assert attach(frame, "a-attachment.jpg").samefile(frame)
    copy = attach(log, "b-attachment.txt")
    assert copy.read_text() == "a line\n" and not copy.samefile(log)

    def refuse(*_: object) -> None:
        raise OSError(18, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", refuse)
    copy = attach(frame, "c-attachment.jpg")
    assert copy.read_bytes() == frame.read_bytes() and not copy.samefile(frame)
    assert sorted(p.name for p in results.iterdir()) == [
        "a-attachment.jpg", "b-attachment.txt", "c-attachment.jpg"]
