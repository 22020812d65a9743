"""``onshi-rig report merge``: runs of several benches as one certification.

Three small runs (``-- -k``, a few wiring tests each), made once for the module: the general
readers on the miswired bench (the RC-S380's USB-04 and USB-05 fail) and on the emulated
bench (they pass), and USEN-ALMEX's USB-02 on the deviant-e901 bench. Miswired + deviant-e901:
one report naming each maker's bench; miswired + emulated: the general readers certified
twice, differently: a conflict, whichever run comes first.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from cli_fork import run_cli

from harness.cli import main
from harness.model.profiles import ProfileSet, default_profiles_dir
from harness.paths import project_file
from harness.report.manifest import write_manifest
from harness.report.provenance import shown_path

MISWIRED = project_file("fixtures/benches/miswired.yaml")
EMULATED = project_file("fixtures/benches/emulated.yaml")
DEVIANT = project_file("fixtures/benches/deviant-e901.yaml")


def _certify(out: Path, bench: Path, maker: str, select: str) -> Path:
    proc = run_cli(["certify", "--bench", str(bench), "--vendor", maker, "--jobs", "1",
                    "--out", str(out), "--quiet", "--", "-k", select], timeout=300,
                   cwd=project_file("."))
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]  # -k: not passed
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("merge")
    wiring = "USB-04 or USB-05"
    return {"miswired": _certify(base / "miswired", MISWIRED, "general_readers", wiring),
            "emulated": _certify(base / "emulated", EMULATED, "general_readers", wiring),
            "deviant": _certify(base / "deviant", DEVIANT, "usen_almex", "usen_almex-USB-02")}


def _report(folder: Path) -> dict:
    return json.loads((folder / "certification.json").read_text("utf-8"))


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _merge(capsys: pytest.CaptureFixture[str], out: Path, *runs: Path) -> tuple[int, str, str]:
    code = main(["report", "merge", *map(str, runs), "--out", str(out)])
    got = capsys.readouterr()
    return code, got.out, got.err


def test_two_benches_make_one_report_naming_each_maker_s_bench(
        runs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "merged"
    code, stdout, err = _merge(capsys, out, runs["miswired"], runs["deviant"])
    # Not passed (the RC-S380 fails, -k left the rest not run); no conflict.
    assert code == 1, stdout + err
    assert "CONFLICT" not in stdout
    report = _report(out)
    merged = report["merged"]
    assert merged["decided_by"] == {"general_readers": ["run-1"], "usen_almex": ["run-2"]}
    assert [r["bench"]["sha256"] for r in merged["runs"]] == [_sha(MISWIRED), _sha(DEVIANT)]
    assert merged["conflicts"] == [] and report["passed"] is False
    # Each maker's rows are its own bench's, requirement by requirement.
    for maker, source in (("general_readers", "miswired"), ("usen_almex", "deviant")):
        rows = _report(runs[source])["makers"][maker]
        assert {r: row["status"] for r, row in report["makers"][maker].items()} == \
            {r: row["status"] for r, row in rows.items()}
        assert [v["subject"] for row in report["makers"][maker].values()
                for v in row["verdicts"]] == [v["subject"] for row in rows.values()
                                              for v in row["verdicts"]]
    assert report["makers"]["general_readers"]["USB-04"]["status"] == "failed"
    assert report["makers"]["usen_almex"]["USB-02"]["status"] == "passed"
    # Every verdict's evidence is looked for in the run it came from.
    assert {v["folder"] for v in report["makers"]["usen_almex"]["USB-02"]["verdicts"]} == \
        {"run-2"}
    # The console names the bench per maker.
    lines = stdout.splitlines()
    assert any(ln.startswith("general_readers") and f"miswired ({_sha(MISWIRED)[:12]}) in run-1"
               in ln for ln in lines), stdout
    assert any(ln.startswith("usen_almex") and f"deviant-e901 ({_sha(DEVIANT)[:12]}) in run-2"
               in ln for ln in lines), stdout
    assert lines[-1].startswith("NOT PASSED: 2 failed, ")
    # The HTML names them too, and the failure.
    html = (out / "certification.html").read_text("utf-8")
    assert "Which bench decided each maker (merged from 2 runs)" in html
    for name, bench in (("miswired", MISWIRED), ("deviant-e901", DEVIANT)):
        # The bench file as a person reads it (within the working folder), not the host's
        # absolute path.
        shown = shown_path(bench)
        assert not shown.startswith("/") and shown.endswith(bench.name)
        assert f"<td>{name} (<code>{shown}</code>)</td><td><code>{_sha(bench)}</code>" in html
    assert str(MISWIRED) not in html
    assert report["bench"]["file_shown"] == f"{shown_path(MISWIRED)}; {shown_path(DEVIANT)}"
    assert "Conflicts" not in html and "sony-rc-s380" in html
    # JUnit: both runs' suites, each with its bench; the merged result on each.
    root = ET.parse(out / "junit.xml").getroot()
    props = [{p.get("name"): p.get("value") for p in s.iter("property")}
             for s in root.iter("testsuite")]
    assert [p["bench"] for p in props] == ["miswired", "deviant-e901"]
    assert [p["maker"] for p in props] == ["general_readers", "usen_almex"]
    assert {p["merged_certification"] for p in props} == {"failed"}
    # (13 decided; each run narrowed with -k lists its other tests as skipped, with why)
    assert int(root.get("tests", "0")) - int(root.get("skipped", "0")) == 13
    assert int(root.get("failures", "0")) == 2 and int(root.get("skipped", "0")) > 0
    # The merged folder is sealed, and so is each run in it.
    for folder in (out, out / "run-1", out / "run-2"):
        assert main(["report", "verify", str(folder)]) == 0, folder
    # Rendered again: junit.xml from the runs' own files, one suite per bench, as merged.
    junit = (out / "junit.xml").read_bytes()
    (out / "junit.xml").unlink()
    assert main(["report", "render", str(out)]) == 0
    assert (out / "junit.xml").read_bytes() == junit
    capsys.readouterr()


@pytest.mark.parametrize("order", ["miswired first", "emulated first"])
def test_a_maker_certified_differently_is_a_conflict_never_overwritten(
        runs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str],
        order: str) -> None:
    pair = [runs["miswired"], runs["emulated"]]
    if order == "emulated first":
        pair.reverse()
    out = tmp_path / "merged"
    code, stdout, err = _merge(capsys, out, *pair, runs["deviant"])
    assert code == 1, stdout + err
    conflicts = [ln for ln in stdout.splitlines() if ln.startswith("CONFLICT")]
    assert [c.split()[2].rstrip(":") for c in conflicts] == ["USB-04", "USB-05"]
    for c in conflicts:
        assert f"miswired ({_sha(MISWIRED)[:12]}) failed" in c
        assert f"emulated ({_sha(EMULATED)[:12]}) passed" in c
    assert stdout.splitlines()[-1].startswith("NOT PASSED: 2 conflict(s), ")
    report = _report(out)
    rows = report["makers"]["general_readers"]
    for req in ("USB-04", "USB-05"):
        assert rows[req]["status"] == "failed"
        assert sorted(rows[req]["reasons"]) == sorted(
            [f"conflict: bench miswired (SHA-256 {_sha(MISWIRED)}) says failed",
             f"conflict: bench emulated (SHA-256 {_sha(EMULATED)}) says passed"])
        # Both benches' verdicts kept, each with its own run's folder.
        assert len({v["folder"] for v in rows[req]["verdicts"]}) == 2
    # What both said alike is no conflict; the other maker is untouched.
    others = {r.id for r in ProfileSet.load(default_profiles_dir()).general().requirements
              } - {"USB-04", "USB-05"}
    assert len(others) >= 5
    assert {r: row["status"] for r, row in rows.items() if r not in ("USB-04", "USB-05")} \
        == dict.fromkeys(others, "not_run")
    assert [(c["maker"], c["requirement"]) for c in report["merged"]["conflicts"]] == \
        [("general_readers", "USB-04"), ("general_readers", "USB-05")]
    assert report["merged"]["decided_by"]["usen_almex"] == ["run-3"]
    html = (out / "certification.html").read_text("utf-8")
    assert "Conflicts (2): two benches certified the same maker differently" in html
    assert html.count(f"SHA-256 <code>{_sha(EMULATED)}</code>) says passed") == 2


def _passing_copy(run: Path, target: Path) -> Path:
    """``run`` as if its profile held only the requirements it passed (sealed again): the
    shape of a finished, passing run, without certifying everything."""
    shutil.copytree(run, target)
    report = _report(target)
    for maker, rows in report["makers"].items():
        report["makers"][maker] = {r: row for r, row in rows.items()
                                   if row["status"] == "passed"}
    report["passed"] = True
    (target / "certification.json").write_text(json.dumps(report), "utf-8")
    write_manifest(target)
    return target


def test_a_merge_of_passing_runs_passes(runs: dict[str, Path], tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    general = _passing_copy(runs["emulated"], tmp_path / "general")
    almex = _passing_copy(runs["deviant"], tmp_path / "almex")
    code, stdout, err = _merge(capsys, tmp_path / "merged", general, almex)
    assert code == 0, stdout + err
    assert stdout.splitlines()[-1].startswith("PASSED: all 3 requirements of 2 maker(s)")
    assert _report(tmp_path / "merged")["passed"] is True


def test_unfinished_changed_or_repeated_runs_are_refused(
        runs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def refused(*folders: Path) -> str:
        out = tmp_path / "merged"
        code, stdout, err = _merge(capsys, out, *folders)
        assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
        assert not out.exists()  # refused before the folder is made
        return err

    assert "given twice" in refused(runs["miswired"], runs["miswired"])
    assert "two or more" in refused(runs["miswired"])
    changed = Path(shutil.copytree(runs["emulated"], tmp_path / "changed"))
    (changed / "junit.xml").write_text("<testsuites/>", "utf-8")
    assert "do not match manifest.sha256" in refused(runs["miswired"], changed)
    unfinished = Path(shutil.copytree(runs["emulated"], tmp_path / "unfinished"))
    report = _report(unfinished)
    report["state"] = "interrupted"
    (unfinished / "certification.json").write_text(json.dumps(report), "utf-8")
    write_manifest(unfinished)
    assert "did not finish (state interrupted)" in refused(unfinished, runs["deviant"])


@pytest.mark.parametrize(("field", "says"), [
    (("profiles", "sha256"), "profiles (rig.profiles.sha256): "),
    (("code_sha256",), "rig code (rig.code_sha256): "),
    (("profiles", "scenarios"), "network scenarios (rig.profiles.scenarios): "),
    (("screens", "terminal", "sha256"), "reference screens of terminal "
     "(rig.screens.terminal.sha256): "),
], ids=["profiles", "code", "scenarios", "screens"])
def test_runs_judged_under_other_profiles_or_code_are_not_merged(
        runs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str],
        field: tuple[str, ...], says: str) -> None:
    """Hunt J-14: a maker certified against a lab's weakened profiles was merged under the
    shipped profiles' hash (the merged ``rig`` the first run's only)."""
    other = Path(shutil.copytree(runs["deviant"], tmp_path / "other"))
    report = _report(other)
    *path, last = field
    holder = report["rig"]
    for key in path:
        holder = holder[key]
    holder[last] = "e" * 64 if last != "scenarios" else {"net": "0" * 64}
    (other / "certification.json").write_text(json.dumps(report), "utf-8")
    write_manifest(other)  # sealed as it is: a run made so, not a changed one
    out = tmp_path / "merged"
    code, _, err = _merge(capsys, out, runs["emulated"], other)
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert f"{other}: not judged as {runs['emulated']} was (" in err and says in err, err
    assert not out.exists()
