"""Bad input the third hunt found: each is exit 2 on the command line, one message per
problem as ``file:line: field: problem`` naming the file the user wrote, never a traceback,
and refused when the file loads (never a requirement failed against a maker mid-run).

- A twin's panel, header or spinner sized zero, negative, too small for its layout or
  beyond 4096 px.
- A twin's USB speed that is no USB speed, a bcdUSB that is no BCD release, a state timer
  of a microsecond (certify never ended).
- A twin's lamp off the housing, or larger than the screen.
- A network scenario's spans beyond a day (an overflow), a period of years with gaps that
  round to nothing (a loader that never ends).
- A calibration file with a corner no float holds, an unknown key or method, a key twice.
- onshi-rig.toml paths of a user the machine lacks, with a NUL, too long or a loop of links.
- A path option too long for the file system or a loop of links (every command), and
  a name that is not UTF-8 (OpenCV crashed on it), and
  ``references --check --out`` a folder that is not there (it said the screens differ).
- ``learn --size`` beyond a screen's 4096 px (gigabytes per frame).
- ``report merge --out`` inside one of its runs (it copied the run into itself without
  end), ``certify --out`` inside a sealed run (the run no longer verified).
- ``certify -- OPTION`` that is no test selection (``--setup-plan`` failed every
  requirement, ``--help`` gave a traceback), or certify's own joined to a flag (``-xo``).
- Profile values no reader could meet: ``max_hubs_between: -1``, a boot window whose
  ``min_s`` is above its ``max_s``, a time bound of 1e300 s (a run that waits for ever), a
  flow check's ``screens: []`` (it judged nothing and passed).
- A card file's content_hex with a typo: the message echoed the whole content (a person's
  data).
- A lab's profiles folder without the general-reader profile (certify failed the makers
  and said SIGINT).
- A calibration or run file that never ends (/dev/zero): read whole, it exhausted memory.
- A ``base:`` file that is empty, a list or text (it vanished in the merge, and a field of
  it was said to be missing).
- ``classify --save-calibration`` naming one of the pictures, or a file that is not a
  calibration (it was overwritten), or given with ``--calibration`` (nothing was saved).
- ``emulate --hardware DIR`` with the user's own DIR/bench.yaml (it was overwritten).
- ``scan --json`` into a pipe whose reader is gone (``| head -1``): a BrokenPipeError.
- ``certify --plan`` with options for a run (``--resume``, ``--out``, ``--compared-with``:
  ignored), or with a pytest selection after ``--`` (ignored: it planned every test).
- A profile with ``requirements: []``, a bench with no reader to certify ("PASSED: all 0
  requirements", exit 0).
- An output folder that cannot be made (under a file, a file itself): references --out,
  learn --screens (after the frames were taken), pcscd-config --dir.
- A reader's maker or model with a full-width letter or an invisible character (it failed
  USB-04/USB-07 under a name that prints like the verified one).
- A relay channel clash with an entry of the shipped base: said only at the base's entry
  (line 1 of the user's file, a field the user never wrote).
- ``emulate:`` naming a shipped file of another kind (a card): its lines were listed, the
  user's emulate line never.
- ``learn --region`` with an empty name (written to screens.yaml).
- ``certify`` stopped between claiming its folder and its first report: a folder holding
  only run.json, which neither ``--out`` nor ``--resume`` then took.
- ``certify --resume`` with the same bench file over a changed base file (it kept the old
  bench's verdicts and passed).
- ``report diff`` of two runs of the same top bench file over a changed base: no word that
  the bench changed (the base's change shown as the reader regressing).
- ``report render`` of a run still going (it wrote into the live run's folder).
- ``certify --resume --out RUN --compared-with RUN``: a run compared with itself.
- ``certify --resume`` on a folder whose certification.json an older rig (or a hand) wrote
  otherwise: refused before anything of the folder is moved.
- ``calibrate`` on a bench file whose camera entry it would have written into broken YAML.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_bad_input_more import bench, run

from harness.cli import main

DEVIATED = "(canon.yaml as deviated)"
LOOP = "a loop of symbolic links (a link that leads back to itself)"


def deviation(tmp_path: Path, maker: str, change: str, to: str) -> Path:
    """A bench file whose ``maker``'s twin is deviated on line 6."""
    return bench(tmp_path, f"readers:\n  - name: {maker}\n    deviations:\n"
                           f"      - {{change: {change}, to: {to}, why: x}}\n")


@pytest.mark.parametrize(("change", "to", "problems"), [
    ("display.size", "[-1024, 600]",
     ["display.size[0]: Input should be greater than or equal to 160"]),
    ("display.size", "[64, 600]",
     ["display.size[0]: Input should be greater than or equal to 160"]),
    ("display.size", "[100000, 60000]",
     ["display.size[0]: Input should be less than or equal to 4096",
      "display.size[1]: Input should be less than or equal to 4096"]),
    ("display.header_height", "100000",
     ["display.header_height: Input should be less than or equal to 4096"]),
    ("display.spinner.radius", "1000000",
     ["display.spinner.radius: Input should be less than or equal to 2048"]),
])
def test_a_twin_panel_sized_out_of_bounds_is_refused_at_load(
        change: str, to: str, problems: list[str], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    path = deviation(tmp_path, "canon", change, to)
    assert run(capsys, "pcscd-config", "--bench", str(path)) == (2, [
        f"{path}:6: readers[canon].deviations[0]: {p} {DEVIATED}" for p in problems])


@pytest.mark.parametrize("to", ["100", "-5", "0"])
def test_a_twin_usb_speed_that_is_no_usb_speed_is_refused_at_load(
        to: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = deviation(tmp_path, "canon", "usb.max_speed_mbps", to)
    assert run(capsys, "pcscd-config", "--bench", str(path)) == (2, [
        f"{path}:6: readers[canon].deviations[0]: usb.max_speed_mbps: one of 1.5, 12, 480, "
        f"5000, 10000, 20000 {DEVIATED}"])


@pytest.mark.parametrize(("lamp", "problem"), [
    ("at: [12, 1.265], size: [0.16, 0.035]",
     "display.lamps[1].at: [12.0, 1.265] is not on the housing (need -1 <= x, y <= 2)"),
    ("at: [0.5, 1.265], size: [1e30, 0.035]",
     "display.lamps[1].size[0]: Input should be less than or equal to 1"),
])
def test_a_twin_lamp_off_the_housing_or_too_large_is_refused_at_load(
        lamp: str, problem: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = deviation(tmp_path, "atlas", "display.lamps",
                     f"[{{name: power, side: back}}, {{name: logo, {lamp}, shape: bar}}]")
    assert run(capsys, "pcscd-config", "--bench", str(path)) == (2, [
        f"{path}:6: readers[atlas].deviations[0]: {problem} (atlas.yaml as deviated)"])


@pytest.mark.parametrize(("entry", "camera", "written"), [
    ("{name: cam-canon2, watches: canon, source: emulated}  # a second camera",
     "cam-canon2", {"watches": "canon", "source": "emulated"}),
    ("{name: cam-canon, calibration: ~}", "cam-canon", {}),
    ("{name: cam-canon, calibration: }", "cam-canon", {}),
    ("name: cam-canon\n    calibration: Null\n    watches: canon", "cam-canon",
     {"watches": "canon"}),
])
def test_calibrate_edits_a_flow_entry_with_a_comment_or_a_null_calibration(
        entry: str, camera: str, written: dict[str, str], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """It took a flow entry followed by a comment for a block one, and added a second
    ``calibration`` beside ``~``: the file it wrote was not YAML, or not a bench."""
    path = bench(tmp_path, f"cameras:\n  - {entry}\n")
    code, _ = run(capsys, "calibrate", "--camera", camera, "--bench", str(path))
    assert code == 0
    name = f"bench.{camera}.calibration.json"
    (got,) = yaml.safe_load(path.read_text("utf-8"))["cameras"]
    assert got == {"name": camera, **written, "calibration": name}
    assert (tmp_path / name).is_file()
    assert run(capsys, "pcscd-config", "--bench", str(path))[0] == 0


def test_calibrate_refuses_an_entry_it_cannot_edit_safely_and_writes_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """cam-canon's null is cam-atlas's, through an alias: the edit would change both."""
    path = bench(tmp_path, "cameras:\n  - {name: cam-atlas, calibration: &none ~}\n"
                           "  - {name: cam-canon, calibration: *none}\n")
    text = path.read_text("utf-8")
    assert run(capsys, "calibrate", "--camera", "cam-canon", "--bench", str(path)) == (2, [
        f"{path}:5: cameras[1]: calibrate cannot add 'calibration: "
        "bench.cam-canon.calibration.json' to this file safely: add it yourself, then "
        "calibrate again (the file is unchanged)"])
    assert path.read_text("utf-8") == text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bench.yaml"]


def run_folder(tmp_path: Path, report: dict[str, Any]) -> Path:
    """An interrupted run's folder holding ``report`` over a well-formed one's fields."""
    folder = tmp_path / "run"
    (folder / "evidence").mkdir(parents=True)
    (folder / "evidence" / "frame.jpg").write_bytes(b"jpeg")
    (folder / "junit.xml").write_text("<testsuites/>", "utf-8")
    (folder / "run.json").write_text(json.dumps({"run": "r1", "pid": 0}), "utf-8")
    verdict = {"requirement": "CON-01", "maker": "canon", "subject": "canon",
               "status": "passed", "expected": "e", "seen": "s"}
    full = {"run": "r1", "state": "interrupted", "started": "2026-12-05T12:00:00+09:00",
            "ended": "2026-12-05T12:01:00+09:00", "passed": False, "makers": {},
            "bench": {"file": "emulated.yaml", "name": "emulated", "kind": "emulated",
                      "sha256": "0" * 64},
            "rig": {"version": "0", "code_sha256": "0", "profiles": {"sha256": "0"}},
            "tests": {"t.py::a": {"requirements": ["CON-01"], "makers": ["canon"],
                                  "outcome": "passed", "verdicts": [verdict]}}}
    (folder / "certification.json").write_text(json.dumps({**full, **report}), "utf-8")
    from harness.report.manifest import write_manifest

    write_manifest(folder)  # as an interrupted run seals itself
    return folder


def contents(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


@pytest.mark.parametrize(("report", "problems"), [
    ({"tests": {"t.py::a": {"requirements": ["CON-01"], "outcome": "passed", "verdicts": []},
                "t.py::b": {"requirements": ["CON-01"], "makers": ["canon"],
                            "outcome": "failed", "verdicts": [{"requirement": "CON-01"}]},
                "t.py::c": {"outcome": "not_run"}}},
     ["tests.t.py::a.makers: missing or not a list of text",
      "tests.t.py::b.verdicts[0].maker: missing or not text",
      "tests.t.py::b.verdicts[0].subject: missing or not text",
      "tests.t.py::b.verdicts[0].status: missing or not text",
      "tests.t.py::b.verdicts[0].expected: missing or not text",
      "tests.t.py::b.verdicts[0].seen: missing or not text"]),
    ({"bench": "emulated.yaml"}, ["bench: missing (not a certification report?)"]),
    ({"rig": {"version": "0"}}, ["rig.profiles: missing or not an object"]),
])
def test_resume_checks_every_kept_record_before_it_moves_anything(
        report: dict[str, Any], problems: list[str], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    folder = run_folder(tmp_path, report)
    before = contents(folder)
    path = folder / "certification.json"
    assert run(capsys, "certify", "--vendor", "canon", "--jobs", "1", "--out", str(folder),
               "--resume") == (2, [f"{path}: {p}" for p in problems])
    assert contents(folder) == before


SCENARIO = """scenario: {name}
notice: x
regions:
  西日本:
    - {{kind: intermittent, start: "2024-12-31T08:00:00+09:00", end: "{end}"}}
intermittent:
  seed: 1
  cut_s: {{min: 60, max: 60}}
  gap_s: {{min: {gap}, max: {gap}}}
  first_within_s: {first}
"""


@pytest.mark.parametrize(("end", "gap", "first", "problems"), [
    ("2025-01-01T03:00:00+09:00", "1e300", "1e300",
     ["9: intermittent.gap_s.min: Input should be less than or equal to 86400",
      "9: intermittent.gap_s.max: Input should be less than or equal to 86400",
      "10: intermittent.first_within_s: Input should be less than or equal to 86400"]),
    ("9999-01-01T03:00:00+09:00", "0.001", "600",
     ["5: regions.西日本[0].end: a year from 2000 to 2100, not 9999",
      "9: intermittent.gap_s.min: Input should be greater than or equal to 1",
      "9: intermittent.gap_s.max: Input should be greater than or equal to 1"]),
    ("2025-01-09T08:00:00+09:00", "1", "600",
     ["5: regions.西日本[0].end: 9 days after the start: a period lasts at most 7 days"]),
])
def test_a_scenario_span_or_period_out_of_bounds_is_refused_at_load(
        end: str, gap: str, first: str, problems: list[str], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The profiles name a scenario under fixtures/scenarios/, a lab's by a relative name."""
    from harness.model.profiles import default_profiles_dir
    from harness.model.scenario import scenarios_dir

    name = os.path.relpath(tmp_path / "scn", scenarios_dir())
    path = scenarios_dir() / f"{name}.yaml"
    (tmp_path / "scn.yaml").write_text(
        SCENARIO.format(name=name, end=end, gap=gap, first=first), "utf-8")
    profiles = tmp_path / "profiles"
    shutil.copytree(default_profiles_dir(), profiles)
    canon = profiles / "canon.yaml"
    canon.write_text(canon.read_text("utf-8").replace(
        "scenario: year-end-network-renewal-2024", f"scenario: {name}"), "utf-8")
    assert run(capsys, "catalogue", "--profiles", str(profiles)) == (
        2, [f"{path}:{p}" for p in problems])


QUAD = "[[0, 0], [1022, 0], [1022, 599], [0, 599]]"
SIZES = '"frame_size": [1024, 600], "screen_size": [1024, 600]'


@pytest.mark.parametrize(("text", "problem"), [
    (f'{{"quad": [[0, 0], [1{"0" * 400}, 0], [1022, 599], [0, 599]], {SIZES}}}',
     "not a calibration file (quad must be four [x, y] corners)"),
    (f'{{"quad": {QUAD}, {SIZES}, "methd": "quad"}}',
     "not a calibration file (unknown field methd (a typo?))"),
    (f'{{"quad": {QUAD}, {SIZES}, "method": "bogus"}}',
     "not a calibration file (method must be quad or features, not 'bogus')"),
    (f'{{"quad": {QUAD}, "frame_size": [1024, 600], "screen_size": [1{"0" * 30}, 600]}}',
     "not a calibration file (screen_size must be [width, height], two positive integers "
     "up to 4096)"),
    (f'{{"quad": {QUAD}, "quad": {QUAD}, {SIZES}}}',
     "cannot read it as JSON (quad is given twice)"),
])
def test_a_calibration_file_no_calibration_could_be_is_bad_input(
        text: str, problem: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    calibration = tmp_path / "cal.json"
    calibration.write_text(text, "utf-8")
    assert run(capsys, "classify", "--vendor", "canon", "--calibration", str(calibration),
               str(tmp_path / "frame.png")) == (2, [f"{calibration}: {problem}"])
    path = bench(tmp_path, "cameras:\n  - name: cam-canon\n    calibration: cal.json\n")
    assert run(capsys, "pcscd-config", "--bench", str(path)) == (
        2, [f"{path}:5: cameras[cam-canon].calibration: cal.json: {problem}"])


def test_a_lab_config_path_no_file_can_have_is_named_with_the_others(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Each was a traceback from pathlib for every command, and hid the keys after it."""
    (tmp_path / "loopa").symlink_to("loopb")
    (tmp_path / "loopb").symlink_to("loopa")
    (tmp_path / "onshi-rig.toml").write_text(
        'profiles = "~nosuchuser/x"\nscreens = "a\\u0000b"\nbench = "loopa"\n'
        '[more]\nx = 1\n', "utf-8")
    monkeypatch.chdir(tmp_path)
    assert run(capsys, "catalogue") == (2, [
        "onshi-rig.toml:1: profiles: ~nosuchuser: no such user (its home folder is not known)",
        "onshi-rig.toml:2: screens: a NUL character in the name (no file has one)",
        "onshi-rig.toml:3: bench: a loop of symbolic links (a link that leads back to itself)",
        "onshi-rig.toml:4: more: unknown key (known: bench, profiles, screens)"])
    (tmp_path / "onshi-rig.toml").write_text(f'profiles = "{"a" * 5000}"\n', "utf-8")
    assert run(capsys, "catalogue") == (2, ["onshi-rig.toml:1: profiles: file name too long"])


PATH_COMMANDS = [
    ["catalogue", "--profiles", "{p}"], ["classify", "--vendor", "canon", "{p}"],
    ["classify", "--vendor", "canon", "--screens", "{p}", "x.png"],
    ["certify", "--vendor", "canon", "--jobs", "1", "--out", "{p}"],
    ["certify", "--compared-with", "{p}"], ["report", "verify", "{p}"],
    ["report", "render", "{p}"], ["report", "diff", "{p}", "{p}"],
    ["pcscd-config", "--dir", "{p}"], ["references", "--check", "--out", "{p}"],
    ["learn", "--vendor", "canon", "--state", "first", "--source", "{p}"],
]


@pytest.mark.parametrize("command", PATH_COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_a_path_no_file_can_have_is_bad_input_naming_it(
        command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "loopa").symlink_to("loopb")
    (tmp_path / "loopb").symlink_to("loopa")
    for path, problem in [(tmp_path / ("a" * 300), "file name too long"),
                          (tmp_path / "loopa" / "sub", LOOP)]:
        argv = [part.format(p=path) for part in command]
        assert run(capsys, *argv) == (2, [f"{path}: {problem}"])


def test_references_check_on_a_folder_that_is_not_there_is_bad_input(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "screenz"
    assert run(capsys, "references", "--check", "--out", str(missing)) == (
        2, [f"--out {missing}: no such folder"])


def test_learn_refuses_a_screen_size_beyond_4096_before_the_camera(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "learn", "--vendor", "acme", "--state", "first", "--source",
               str(tmp_path / "no-such-video.avi"), "--screens", str(tmp_path / "screens"),
               "--size", "40000", "40000") == (
        2, ["--size 40000 40000: at least 64 64, at most 4096 4096"])


def sealed_run(tmp_path: Path) -> Path:
    from harness.report.manifest import write_manifest

    folder = tmp_path / "run"
    (folder / "evidence").mkdir(parents=True)
    (folder / "certification.json").write_text("{}", "utf-8")
    write_manifest(folder)
    return folder


def test_merge_out_inside_one_of_its_runs_is_refused_before_any_copy(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from harness.report.manifest import check_manifest

    folder = sealed_run(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    for out in (folder / "merged", other / "merged"):
        assert run(capsys, "report", "merge", "--out", str(out), str(folder), str(other)) == (
            2, [f"--out {out}: inside the run folder {out.parent}: merging would copy the run "
                "into itself; give a folder outside it"])
        assert not out.exists()
    assert check_manifest(folder).ok


def test_certify_out_inside_a_sealed_run_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from harness.report.manifest import check_manifest

    folder = sealed_run(tmp_path)
    out = folder / "sub"
    assert run(capsys, "certify", "--vendor", "canon", "--jobs", "1", "--out", str(out)) == (
        2, [f"--out {out}: inside the run folder {folder} (it has manifest.sha256); "
            "writing there would change that run: give a folder outside it"])
    assert not out.exists() and check_manifest(folder).ok
    # A run not sealed yet (going on, or stopped or killed before it sealed) is as much
    # another run's: its seal would list this run's files as its own.
    (folder / "manifest.sha256").unlink()
    (folder / "run.json").write_text('{"run": "0123"}', "utf-8")
    assert run(capsys, "certify", "--vendor", "canon", "--jobs", "1", "--out", str(out)) == (
        2, [f"--out {out}: inside the run folder {folder} (it has run.json); "
            "writing there would change that run: give a folder outside it"])
    assert not out.exists()


NOT_SELECTION = ("not a test selection; pytest options after -- may only select tests or "
                 "stop early (-k, -m, -x, --maxfail, --deselect)")
OWN = ("for each run itself; pytest options after -- may select tests (-k, -m, -x, "
       "--deselect), not move the report")


@pytest.mark.parametrize(("given", "problem"), [
    (["--setup-plan"], f"-- --setup-plan: {NOT_SELECTION}"),
    (["--help"], f"-- --help: {NOT_SELECTION}"),
    (["--noconftest"], f"-- --noconftest: {NOT_SELECTION}"),
    (["-k", "USB", "suites/test_usb_wiring.py"], f"-- suites/test_usb_wiring.py: {NOT_SELECTION}"),
    (["-xo", "python_functions=nothing"], f"-- -xo: certify sets -o {OWN}"),
    (["-xn2"], f"-- -xn2: certify sets -n {OWN}"),
    (["-x", "-k"], "-- -k: give its value"),
])
def test_certify_takes_only_test_selection_after_dashdash(
        given: list[str], problem: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    assert run(capsys, "certify", "--vendor", "canon", "--jobs", "1", "--out", str(out),
               "--", *given) == (2, [problem])
    assert not out.exists()  # refused before any work


def test_resume_refuses_a_bench_whose_base_file_changed(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import hashlib

    from harness.certify_run import _rig
    from harness.loading import load_yaml_model
    from harness.model.bench_spec import BenchSpec
    from harness.model.profiles import default_profiles_dir
    from harness.paths import resolved
    from harness.report.certification import bench_loads

    base = bench(tmp_path, "readers:\n  - name: canon\n    deviations:\n"
                           "      - {change: behaviour.pin_lock.after_wrong, to: 2, why: x}\n",
                 "r1base.yaml")
    top = tmp_path / "r1.yaml"
    top.write_text("base: r1base.yaml\nbench: r1\n", "utf-8")
    spec = load_yaml_model(top, BenchSpec, layered=True)
    folder = run_folder(tmp_path, {
        "bench": {"file": str(top), "name": "r1", "kind": "emulated", "loads": bench_loads(top, spec),
                  "sha256": hashlib.sha256(top.read_bytes()).hexdigest()},
        "rig": _rig(resolved(default_profiles_dir()), spec, None), "tests": {}})
    base.write_text(base.read_text("utf-8").replace("after_wrong, to: 2", "after_wrong, to: 4"),
                    "utf-8")
    before = contents(folder)
    assert run(capsys, "certify", "--bench", str(top), "--jobs", "1", "--out", str(folder),
               "--resume") == (
        2, [f"--resume {folder}: not the run that made it: the files the bench file loads "
            "changed (r1base.yaml)"])
    assert contents(folder) == before


def test_the_terminals_default_twin_is_among_the_files_a_bench_loads(tmp_path: Path) -> None:
    """An emulated bench that names no terminal twin is made with the default one: a resume
    after that file changed must see it, as it sees a twin the bench names."""
    from harness.emulation.world import default_terminal_file
    from harness.loading import load_yaml_model
    from harness.model.bench_spec import BenchSpec
    from harness.report.certification import bench_loads

    default = os.path.relpath(default_terminal_file(), tmp_path)
    path = bench(tmp_path, "")
    assert default in bench_loads(path, load_yaml_model(path, BenchSpec, layered=True))
    own = tmp_path / "own-terminal.yaml"
    own.write_text(f"base: {default_terminal_file()}\n", "utf-8")
    path = bench(tmp_path, "terminal: {emulate: own-terminal.yaml}\n")
    loads = bench_loads(path, load_yaml_model(path, BenchSpec, layered=True))
    assert "own-terminal.yaml" in loads
    # Its base is the default file: there through the chain the bench names, not implied.
    assert default in loads


def profiles_with(tmp_path: Path, maker: str, old: str, new: str) -> tuple[Path, int]:
    """A copy of the shipped profiles with ``old`` in ``maker``'s profile (its first
    occurrence) made ``new``; that file and the line of the change."""
    from harness.model.profiles import default_profiles_dir

    folder = tmp_path / "profiles"
    shutil.copytree(default_profiles_dir(), folder)
    path = folder / f"{maker}.yaml"
    text = path.read_text("utf-8")
    line = text[:text.index(old)].count("\n") + 1
    path.write_text(text.replace(old, new, 1), "utf-8")
    return folder, line


def test_a_negative_hub_count_in_a_profile_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder, line = profiles_with(tmp_path, "canon", "max_hubs_between: 0",
                                 "max_hubs_between: -1")
    assert run(capsys, "catalogue", "--profiles", str(folder)) == (2, [
        f"{folder / 'canon.yaml'}:{line}: requirements[0].check.max_hubs_between: Input should "
        "be greater than or equal to 0"])


def test_a_boot_window_upside_down_in_a_profile_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder, line = profiles_with(tmp_path, "panasonic", "min_s: 15, max_s: 30",
                                 "min_s: 30, max_s: 15")
    assert run(capsys, "catalogue", "--profiles", str(folder)) == (2, [
        f"{folder / 'panasonic.yaml'}:{line}: requirements[3].check.gaps[0].min_s: 30 s is "
        "above max_s 15 s"])


@pytest.mark.parametrize(("old", "new", "field"), [
    ("upon: card_out, within_s: 5}", "upon: card_out, within_s: 1e300}",
     "requirements[34].check.screens[2].within_s"),
    ("stays_s: 300}", "stays_s: 1e300}", "requirements[15].check.screens[0].stays_s"),
])
def test_a_profile_time_bound_beyond_a_day_is_refused(
        old: str, new: str, field: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    folder, line = profiles_with(tmp_path, "canon", old, new)
    assert run(capsys, "catalogue", "--profiles", str(folder)) == (2, [
        f"{folder / 'canon.yaml'}:{line}: {field}: Input should be less than or equal to 86400"])


@pytest.mark.parametrize("to", ["xyz", '""', "abc", "'300.00'"])
def test_a_twin_bcd_usb_that_is_no_bcd_release_is_refused_at_load(
        to: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = deviation(tmp_path, "canon", "usb.bcd_usb", to)
    assert run(capsys, "pcscd-config", "--bench", str(path)) == (2, [
        f"{path}:6: readers[canon].deviations[0]: usb.bcd_usb: String should match pattern "
        f"'^[0-9]{{1,2}}\\.[0-9]{{2}}$' {DEVIATED}"])


def test_a_card_content_hex_typo_is_named_without_the_content(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from harness.paths import project_file

    content = "59414D414441205441524F2F544F4B594F"  # YAMADA TARO/TOKYO
    card = tmp_path / "card.yaml"
    card.write_text(f"base: {project_file('fixtures/cards/mynumber-card.yaml')}\nname: c\n"
                    "applets:\n  - name: card_info_input\n    files:\n"
                    "      - {name: basic_four, content_text: null, "
                    f"content_hex: '{content}G'}}\n"
                    "      - {name: my_number, content_text: null, content_hex: '313'}\n",
                    "utf-8")
    code, lines = run(capsys, "probe", "--reader", "sony-rc-s300-s1", "--card", str(card))
    assert (code, lines) == (2, [  # in the order of the card's files (the base's)
        f"{card}:7: applets[card_info_input].files[my_number].content_hex: not hex bytes (like \"3B 8A 80\"): its hex "
        "digits do not pair into bytes",
        f"{card}:6: applets[card_info_input].files[basic_four].content_hex: not hex bytes (like \"3B 8A 80\"): 'G' at "
        f"character {len(content) + 1} is not a hex digit"])


@pytest.mark.parametrize("command", [["classify", "--vendor", "canon", "{p}"],
                                     ["classify", "--vendor", "canon", "--screens", "{p}", "x"],
                                     ["learn", "--vendor", "acme", "--state", "first",
                                      "--source", "{p}"]], ids=lambda c: c[-2])
def test_a_path_that_is_not_utf8_is_bad_input_not_a_crash(
        command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / os.fsdecode(b"\xff\xfe.png")
    path.write_bytes(b"\x89PNG")
    argv = [part.format(p=path) for part in command]
    assert run(capsys, *argv) == (2, [f"{tmp_path}/\\xff\\xfe.png: a name that is not UTF-8 text: "
                                      "rename it"])


@pytest.mark.parametrize("command", [["certify", "--vendor", "canon", "--jobs", "1"],
                                     ["certify", "--plan"], ["scan"]], ids=lambda c: c[-1])
def test_profiles_without_the_general_reader_profile_are_refused_up_front(
        command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from harness.model.profiles import default_profiles_dir

    folder = tmp_path / "profiles"
    shutil.copytree(default_profiles_dir(), folder)
    (folder / "general_readers.yaml").unlink()
    out = tmp_path / "run"
    extra = ["--out", str(out)] if command[-1] == "1" else []
    assert run(capsys, *command, *extra, "--profiles", str(folder)) == (2, [
        f"{folder}: no general-reader profile (a file with kind: general_reader, as the "
        "shipped general_readers.yaml): the rig's rules for the general readers and the "
        "wiring need it"])
    assert not out.exists()


ENDLESS = "larger than {mb} MB: not a file the rig reads (a device that never ends?)"


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_a_file_that_never_ends_is_refused_not_read_whole(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "z1"
    folder.mkdir()
    for name in ("certification.json", "run.json", "manifest.sha256"):
        (folder / name).symlink_to("/dev/zero")
    path = bench(tmp_path, "cameras:\n  - {name: cam-canon, calibration: /dev/zero}\n")
    big = ENDLESS.format(mb=64)
    for argv, expected in [
        (["pcscd-config", "--bench", str(path)],
         f"{path}:4: cameras[cam-canon].calibration: /dev/zero: cannot read it as JSON "
         f"({ENDLESS.format(mb=2)})"),
        (["classify", "--vendor", "canon", "--calibration", "/dev/zero", "x.png"],
         f"/dev/zero: cannot read it as JSON ({ENDLESS.format(mb=2)})"),
        (["report", "render", str(folder)],
         f"{folder / 'certification.json'}: cannot be read: {big}"),
        (["report", "verify", str(folder)], f"{folder / 'manifest.sha256'}: cannot be read: {big}"),
        (["certify", "--resume", "--jobs", "1", "--out", str(folder)],
         f"--resume {folder}: certification.json cannot be read ({big})"),
    ]:
        assert run(capsys, *argv) == (2, [expected])


def test_a_lab_twin_too_small_for_its_layout_is_refused_by_references(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from harness.paths import project_file

    twin = tmp_path / "twin.yaml"
    twin.write_text(f"base: {project_file('fixtures/devices/face_auth/canon.yaml')}\n"
                    "display: {size: [64, 64]}\n", "utf-8")
    assert run(capsys, "references", "--vendor", "canon", "--twin", str(twin), "--out",
               str(tmp_path / "out")) == (2, [
        f"{twin}:2: display.size[0]: Input should be greater than or equal to 160",
        f"{twin}:2: display.size[1]: Input should be greater than or equal to 160"])


@pytest.mark.parametrize(("text", "what"), [("- a\n- b\n", "a list, not a mapping of keys"),
                                            ("hello\n", "text, not a mapping of keys"),
                                            ("", "empty")])
def test_a_base_file_that_is_no_mapping_is_named(
        text: str, what: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "base.yaml").write_text(text, "utf-8")
    path = tmp_path / "t.yaml"
    path.write_text("base: base.yaml\nbench: t\n", "utf-8")
    assert run(capsys, "pcscd-config", "--bench", str(path)) == (
        2, [f"{path}:1: base: base.yaml is {what}"])


def test_a_twin_timer_shorter_than_a_frame_is_refused_at_load(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = deviation(tmp_path, "canon", "behaviour.states.first.after",
                     "{seconds: 0.000001, event: retry}")
    assert run(capsys, "pcscd-config", "--bench", str(path)) == (2, [
        f"{path}:6: readers[canon].deviations[0]: behaviour.states.first.after.seconds: Input "
        f"should be greater than or equal to 0.05 {DEVIATED}"])


def test_save_calibration_never_overwrites_a_picture_or_another_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    picture = tmp_path / "frame1.png"
    picture.write_bytes(b"\x89PNG not really")
    notes = tmp_path / "notes.txt"
    notes.write_text("mine", "utf-8")
    calibration = tmp_path / "cal.json"
    calibration.write_text(f'{{"quad": {QUAD}, {SIZES}}}', "utf-8")
    for target, problem in [
        (picture, "one of the pictures to classify; give another file"),
        (notes, "an existing file that is not a calibration; give a new file (or remove it "
                "first)"),
    ]:
        assert run(capsys, "classify", "--vendor", "canon", "--save-calibration", str(target),
                   str(picture)) == (2, [f"--save-calibration {target}: {problem}"])
    assert run(capsys, "classify", "--vendor", "canon", "--calibration", str(calibration),
               "--save-calibration", str(tmp_path / "new.json"), str(picture)) == (2, [
        f"--save-calibration {tmp_path / 'new.json'}: with --calibration the screen is not "
        "looked for, so there is nothing to save; give one of them"])
    assert picture.read_bytes() == b"\x89PNG not really" and notes.read_text("utf-8") == "mine"


def test_emulate_hardware_never_overwrites_the_users_bench_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mine = tmp_path / "bench.yaml"
    mine.write_text("# my precious bench\n", "utf-8")
    assert run(capsys, "emulate", "--hardware", str(tmp_path)) == (2, [
        f"--hardware {tmp_path}: holds a bench.yaml a box did not write (the box writes its "
        "own there); give another folder, or move the file"])
    assert mine.read_text("utf-8") == "# my precious bench\n"


def test_scan_into_a_closed_pipe_is_quiet() -> None:
    import subprocess
    import sys

    from harness.paths import project_file

    proc = subprocess.Popen([sys.executable, "-m", "harness.cli", "scan", "--json"],
                            cwd=project_file("."), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    proc.stdout.close()  # the reader gone before the table is printed
    _, err = proc.communicate(timeout=120)
    assert (proc.returncode, err) == (0, "")


@pytest.mark.parametrize("key", ["screens", "dialogs"])
def test_a_flow_check_with_an_empty_list_is_refused(
        key: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder, line = profiles_with(tmp_path, "canon", "      flow: network_renewal\n",
                                 f"      flow: network_renewal\n      {key}: []\n")
    assert run(capsys, "catalogue", "--profiles", str(folder)) == (2, [
        f"{folder / 'canon.yaml'}:{line + 1}: requirements[22].check.{key}: an empty list "
        "judges nothing: give at least one, or leave the key out"])


def test_certify_plan_refuses_the_options_of_a_run(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "certify", "--plan", "--resume", "--vendor", "canon") == (2, [
        "--plan with --resume: the plan runs nothing and writes no run folder; give those to "
        "a run, without --plan"])
    assert run(capsys, "certify", "--plan", "--out", str(tmp_path / "o"), "--compared-with",
               str(tmp_path)) == (2, [
        "--plan with --out, --compared-with: the plan runs nothing and writes no run folder; "
        "give those to a run, without --plan"])


def test_certify_plan_honours_the_selection_after_dashdash(
        capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["certify", "--plan", "--vendor", "canon", "--", "-k", "E901"])
    lines = capsys.readouterr().out.splitlines()
    assert code == 1  # as the run: what the selection leaves out is not run, no pass
    assert "  USB-02     NO TEST selected: it would not be run" in lines
    assert any(line.startswith("  E901-01 ") and "test(s)" in line for line in lines)


def test_a_certification_of_nothing_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from harness.model.profiles import default_profiles_dir

    folder = tmp_path / "profiles"
    shutil.copytree(default_profiles_dir(), folder)
    canon = folder / "canon.yaml"
    text = canon.read_text("utf-8")
    cut = text.index("\nrequirements:")
    canon.write_text(text[:cut] + "\nrequirements: []\n", "utf-8")
    line = text[:cut].count("\n") + 2
    assert run(capsys, "catalogue", "--profiles", str(folder)) == (2, [
        f"{canon}:{line}: requirements: none listed: a profile without requirements would pass "
        "its maker with nothing checked"])
    empty = tmp_path / "empty.yaml"
    empty.write_text("bench: nothing\nkind: emulated\nterminal: {name: terminal, usb_ports: []}"
                     "\nreaders: []\n", "utf-8")
    out = tmp_path / "run"
    assert run(capsys, "certify", "--bench", str(empty), "--jobs", "1", "--out", str(out)) == (
        2, [f"{empty}: no reader whose maker has a profile to certify (its readers: none)"])
    assert not out.exists()


def test_an_output_folder_that_cannot_be_made_is_refused_before_the_work(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plain = tmp_path / "c1.png"
    plain.write_text("x", "utf-8")
    under = plain / "sub"
    learn = ["learn", "--vendor", "acme", "--state", "first", "--source",
             str(tmp_path / "v.avi")]
    for argv, expected in [
        (["references", "--vendor", "canon", "--out", str(under)],
         f"--out {under}: {plain} is a file, not a folder"),
        ([*learn, "--screens", str(under)], f"--screens {under}: {plain} is a file, not a folder"),
        ([*learn, "--screens", str(plain)], f"--screens {plain}: a file, not a folder"),
    ]:
        assert run(capsys, *argv) == (2, [expected])
    if Path("/proc/self").is_dir():  # a folder no one can make
        assert run(capsys, "pcscd-config", "--dir", "/proc/onshi-rig-x") == (
            2, ["--dir /proc/onshi-rig-x: cannot make the folder: No such file or directory"])


def test_a_maker_or_model_with_invisible_or_full_width_characters_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = bench(tmp_path, "readers:\n  - name: sony-rc-s300-s1\n    maker: Ｓｏｎｙ\n"
                           "  - name: elecom-mr-ica001bk\n    model: \"MR-ICA001BK\\u200b\"\n")
    code, lines = run(capsys, "scan", "--bench", str(path))
    assert (code, sorted(lines)) == (2, [
        f"{path}:5: readers[sony-rc-s300-s1].maker: 'Ｓｏｎｙ' holds an invisible or full-width character; "
        "did you mean 'Sony'?",
        f"{path}:7: readers[elecom-mr-ica001bk].model: 'MR-ICA001BK\\u200b' holds an invisible or full-width "
        "character; did you mean 'MR-ICA001BK'?"])


def test_a_relay_channel_clash_with_the_base_is_named_at_the_users_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = bench(tmp_path, "readers:\n  - name: canon\n    power: {relay: mains, channel: 0}\n")
    assert run(capsys, "pcscd-config", "--bench", str(path)) == (2, [
        f"{path}:1: terminal.power.channel: terminal.power: relay 'mains' channel 0 already "
        "switches readers[canon]",
        f"{path}:5: readers[canon].power.channel: readers[canon].power: relay 'mains' channel 0 "
        "also switches terminal"])


def test_emulate_naming_a_shipped_card_file_is_named_at_the_emulate_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from harness.paths import project_file

    card = project_file("fixtures/cards/mynumber-card.yaml")
    path = bench(tmp_path, f"readers:\n  - name: canon\n    emulate: {card}\n")
    text = card.read_text("utf-8")
    line = text[:text.index("\natr:")].count("\n") + 1  # the name's line: usb is missing
    assert run(capsys, "pcscd-config", "--bench", str(path)) == (2, [
        f"{path}:5: readers[canon].emulate: {card} is not a behaviour file (as one, it has 3 "
        f"problem(s), the first {card}:{line}: usb: required field is missing)"])


def test_report_diff_says_when_the_bench_s_base_changed(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json as json_

    from harness.report.manifest import write_manifest

    folders = []
    for name, digest in (("old", "aa"), ("new", "bb")):
        folder = run_folder(tmp_path / name, {"bench": {
            "file": "r1.yaml", "name": "r1", "kind": "emulated", "sha256": "0" * 64,
            "loads": {"r1.yaml": "11", "r1base.yaml": digest}}})
        write_manifest(folder)
        folders.append(folder)
    assert main(["report", "diff", "--json", *map(str, folders)]) == 0
    diff = json_.loads(capsys.readouterr().out)
    assert diff["same_bench"] is False
    assert diff["notes"][0] == (
        f"the same bench file (SHA-256 {'0' * 64}) over other files it loads: r1base.yaml "
        "changed (another bench: what changed may be the bench's, not the readers')")


def test_report_render_refuses_a_run_still_going(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = run_folder(tmp_path, {"state": "running"})
    (folder / "run.json").write_text(json.dumps({"run": "r1", "pid": os.getpid()}), "utf-8")
    before = contents(folder)
    assert run(capsys, "report", "render", str(folder)) == (2, [
        f"{folder}: run r1 is still going (process {os.getpid()}); render it when it has "
        "ended"])
    assert contents(folder) == before


def test_a_learnt_region_without_a_name_is_refused() -> None:
    from harness.cli_vision import _parse_region

    assert _parse_region(":match:0,0,10,10") == "name: String should have at least 1 character"


def test_a_run_stopped_before_its_first_report_frees_its_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    def stopped(*_: object) -> None:  # as a signal in the first tenth of a second
        raise KeyboardInterrupt

    monkeypatch.setattr("harness.report.provenance.provenance", stopped)
    out = tmp_path / "run"
    assert main(["certify", "--vendor", "canon", "--jobs", "1", "--out", str(out)]) == 130
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"stopped before the run began: nothing was run; {out} is free again")
    assert list(out.iterdir()) == []


def test_resume_compared_with_itself_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from harness.report.manifest import write_manifest

    folder = run_folder(tmp_path, {})
    write_manifest(folder)
    before = contents(folder)
    assert run(capsys, "certify", "--jobs", "1", "--out", str(folder), "--resume",
               "--compared-with", str(folder)) == (2, [
        f"--compared-with {folder}: the folder being resumed; give an earlier run's"])
    assert contents(folder) == before


def test_a_sighup_before_the_first_report_frees_the_folder_too(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """An ssh session gone in the same moment: SIGHUP killed the rig, leaving a folder of
    run.json alone that neither --out nor --resume would take."""
    import signal

    import harness.certify_run

    console = harness.certify_run._console

    def hung_up(args: object) -> object:  # after the claim, before the run's own handling
        os.kill(os.getpid(), signal.SIGHUP)
        return console(args)  # type: ignore[arg-type]

    monkeypatch.setattr(harness.certify_run, "_console", hung_up)
    out = tmp_path / "run"
    before = signal.getsignal(signal.SIGHUP)
    with pytest.raises(SystemExit) as stopped:
        main(["certify", "--vendor", "canon", "--jobs", "1", "--out", str(out)])
    assert stopped.value.code == 129
    assert signal.getsignal(signal.SIGHUP) is before
    err = capsys.readouterr().err.splitlines()
    assert "onshi-rig certify: interrupted (SIGHUP)" in err, err
    assert list(out.iterdir()) == []
