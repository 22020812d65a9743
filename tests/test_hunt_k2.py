"""Hunt K2's bad-input and fail-open findings, each pinned by the check it broke."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_fork import run_cli

from harness.cli import main
from harness.model.bench_spec import GeneralReaderRules
from harness.model.profiles import ProfileSet, default_profiles_dir
from harness.model.reader_lists import judge_designated

ROOT = Path(__file__).resolve().parents[1]
TERMINAL_A = ROOT / "fixtures/sysfs/terminal-a"


@pytest.fixture(scope="module")
def profiles() -> ProfileSet:
    return ProfileSet.load(default_profiles_dir())


def _unnamed_circle_bench(tmp_path: Path, minima: str) -> Path:
    """terminal-a, whose "Circle CIR315 CL" (31AA:3002, firmware 1.00, at 1-4.1) the bench
    file does not name: four verified models are sold under that USB ID."""
    path = tmp_path / "bench.yaml"
    path.write_text(f"""bench: unnamed-circle
kind: real
usb_devices: sysfs
sysfs_root: {TERMINAL_A}
readers:
  - {{name: pasori, kind: general_reader, maker: Sony, model: RC-S300/S1,
     usb: {{vid: "054C", pid: "0DC8", path: "1-2"}}}}
general_reader_rules:
  min_firmware:
{minima}
""", encoding="utf-8")
    return path


THREE_MINIMA = "\n".join(
    f'    - {{maker: {m}, model: {n}, version: "1.10"}}'
    for m, n in (("AB Circle", "CIR315A-02"), ("Elecom", "MR-ICA001BK"),
                 ("Maxell", "M-1850S-N2")))


def test_an_unnamed_rebadged_reader_is_not_guessed_and_usb08_is_not_passed(
        tmp_path: Path, capsys) -> None:
    """K2-15: the lab set 1.10 for three of the four re-badges; the one the device may be
    (the first listed, Sanwa) has none. Never named Sanwa by guess and passed: USB-08 not
    known, with each model's verdict; the scan does not conform."""
    import json

    code = main(["scan", "--json", "--bench", str(_unnamed_circle_bench(tmp_path,
                                                                         THREE_MINIMA))])
    rows = json.loads(capsys.readouterr().out)
    circle = next(r for r in rows if r["usb_path"] == "1-4.1")
    assert code == 1
    assert circle["maker"] is None and "Sanwa" not in (circle["maker"] or "")
    assert circle["model"].startswith("one of Sanwa Supply ADR-MNICU3 / AB Circle")
    assert "USB-08" not in circle["passed"] and circle["undecided"] == ["USB-08"]
    reason = next(u["reason"] for u in circle["unchecked"] if u["requirement"] == "USB-08")
    assert "cannot tell which of" in reason
    assert "as AB Circle CIR315A-02: AB Circle CIR315A-02 runs firmware 1.00, below" in reason
    # Rules every candidate passes still pass (all four are verified models).
    assert "USB-03" in circle["passed"]
    main(["scan", "--bench", str(_unnamed_circle_bench(tmp_path, THREE_MINIMA))])
    table = capsys.readouterr().out
    assert "UNKNOWN USB-08" in table and "wiring NOT shown to conform" in table


def test_an_unnamed_rebadged_reader_below_every_minimum_fails_usb08(
        tmp_path: Path, capsys) -> None:
    import json

    four = THREE_MINIMA + '\n    - {maker: Sanwa Supply, model: ADR-MNICU3, version: "1.10"}'
    code = main(["scan", "--json", "--bench", str(_unnamed_circle_bench(tmp_path, four))])
    circle = next(r for r in json.loads(capsys.readouterr().out) if r["usb_path"] == "1-4.1")
    assert code == 1
    assert [v["requirement"] for v in circle["violations"]] == ["USB-08"]
    assert circle["violations"][0]["detail"].startswith("whichever of Sanwa Supply")


def test_usb07_of_a_reader_that_may_be_an_undesignated_model_is_not_passed(
        profiles: ProfileSet) -> None:
    """K2-15 (USB-07): a device that may be one of two models, one designated: not known;
    both designated: holds; neither: broken."""
    general = profiles.general()
    rules = GeneralReaderRules.model_validate({"designated": {"atlas": [
        {"maker": "Sanwa Supply", "model": "ADR-MNICU3"}]}})
    maybe = [("x", "Sanwa Supply", "ADR-MNICU3"), ("x", "AB Circle", "CIR315A-02")]
    judged = judge_designated("USB-07", "atlas", maybe, rules, general)
    assert type(judged.outcome).__name__ == "Unchecked"
    assert "one of Sanwa Supply ADR-MNICU3 / AB Circle CIR315A-02" in judged.outcome.reason
    assert judge_designated("USB-07", "atlas", maybe[:1], rules, general).outcome is None
    none = judge_designated("USB-07", "atlas", maybe[1:], rules, general)
    assert type(none.outcome).__name__ == "Violation"


def _merged_with_a_run(tmp_path: Path) -> tuple[Path, Path]:
    """A sealed folder (as ``report merge`` makes) holding a run's copy ``run-1``: only the
    outer manifest matters to the check, before anything is read or written."""
    outer = tmp_path / "merged"
    run = outer / "run-1"
    run.mkdir(parents=True)
    (outer / "manifest.sha256").write_text("", encoding="utf-8")
    (run / "run.json").write_text("{}", encoding="utf-8")
    return outer, run


@pytest.mark.parametrize("command", [
    ["report", "render", "{run}", "--compared-with", "{other}"],
    ["report", "allure", "{run}"],
    ["certify", "--resume", "--out", "{run}", "--jobs", "1", "--quiet"],
])
def test_nothing_writes_into_a_run_copy_inside_a_merged_folder(
        tmp_path: Path, capsys, command: list[str]) -> None:
    """K2-22, K2-14: a merged folder's run-N is a copy its seal covers: resumed, rendered or
    given an allure report there, the merged folder no longer verified (exit 0 all the
    same). Refused, naming the folder, nothing written."""
    outer, run = _merged_with_a_run(tmp_path)
    args = [a.format(run=run, other=tmp_path / "other") for a in command]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert f"inside the run folder {outer} (it has manifest.sha256)" in err
    assert "break its seal" in err
    assert sorted(p.name for p in run.iterdir()) == ["run.json"]


def test_a_fifo_in_place_of_a_sealed_file_is_changed_not_a_hang(tmp_path: Path) -> None:
    """K2-12: the manifest's check read a FIFO for ever (plan checks earlier runs' seals)."""
    import os

    from harness.report.manifest import check_manifest, write_manifest

    (tmp_path / "certification.json").write_text("{}", encoding="utf-8")
    write_manifest(tmp_path)
    (tmp_path / "certification.json").unlink()
    os.mkfifo(tmp_path / "certification.json")
    assert check_manifest(tmp_path).changed == ("certification.json",)


def test_a_pid_used_again_is_not_the_run_still_going() -> None:
    """K2-11: after a power cut and a reboot run.json's pid is some daemon's: the run was
    judged "still going" for ever (the pid alone). A process that started after the run's
    run.json, or one of another boot, is not the run's."""
    import datetime as dt
    import os
    import subprocess
    import sys

    from harness.report.live import boot_mark
    from harness.report.resume import alive

    hour_ago = (dt.datetime.now().astimezone() - dt.timedelta(hours=1)).isoformat(
        timespec="seconds")
    later = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert alive(later.pid) is True  # the pid alone: what was judged
        assert alive(later.pid, hour_ago) is False  # it started after the run's run.json
    finally:
        later.kill()
        later.wait()
    # This test's process started before now: it may be the run's.
    now = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    assert alive(os.getpid(), now) is True
    if boot_mark():
        assert alive(os.getpid(), now, boot_mark()["boot"]) is True
        assert alive(os.getpid(), now, "another-boot") is False


def test_a_new_run_json_records_the_boot(tmp_path: Path) -> None:
    from harness.report.live import RUN_FILE, boot_mark, claim_folder

    claim_folder(tmp_path / "out", "r1")
    import json

    marker = json.loads((tmp_path / "out" / RUN_FILE).read_text("utf-8"))
    assert marker.get("boot") == boot_mark().get("boot")


def _certify(*args: str):  # noqa: ANN202
    return run_cli(["certify", "--no-evidence", "--jobs", "1", "--quiet", *args], timeout=600,
                   cwd=ROOT)


@pytest.fixture(scope="module")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One canon test certified on a bench file outside fixtures/ (a lab's own), sealed."""
    base = tmp_path_factory.mktemp("k2run")
    bench = base / "lab.yaml"
    bench.write_text(f"base: {ROOT / 'fixtures/benches/emulated.yaml'}\nbench: lab\n",
                     encoding="utf-8")
    out = base / "run"
    proc = _certify("--bench", str(bench), "--vendor", "canon", "--out", str(out), "--",
                    "-k", "canon-AUTH-01 and not also")
    assert proc.returncode == 1, proc.stderr  # a restricted run never certifies
    return out


def _copy(run: Path, tmp_path: Path) -> Path:
    import shutil

    shutil.copytree(run, tmp_path / "run")
    return tmp_path / "run"


def test_resume_without_bench_takes_the_runs_bench_and_keeps_each_selection(
        small_run: Path, tmp_path: Path) -> None:
    """K2-17: README's `--resume --out DIR` (no --bench) compared the run with the emulated
    bench ("emulated.yaml changed"): the run's own bench is taken. K2-5: the resume's
    pytest options overwrote the first run's: each is kept."""
    import json

    folder = _copy(small_run, tmp_path)
    proc = _certify("--resume", "--out", str(folder), "--", "-k", "canon-AUTH-02 and not also")
    assert proc.returncode == 1, proc.stderr  # ran: still restricted, so not certified
    assert "changed" not in proc.stderr
    report = json.loads((folder / "certification.json").read_text("utf-8"))
    assert report["bench"]["file"] == str(small_run.parent / "lab.yaml")
    assert report["pytest_args"] == ["-k", "canon-AUTH-01 and not also"]
    assert report["resumes"][-1]["pytest_args"] == ["-k", "canon-AUTH-02 and not also"]
    outcomes = {n.rsplit("[", 1)[-1]: t["outcome"] for n, t in report["tests"].items()}
    assert outcomes["canon-AUTH-01]"] == "passed" and outcomes["canon-AUTH-02]"] == "passed"


def test_resume_with_other_makers_names_only_that(small_run: Path, tmp_path: Path) -> None:
    """K2-4: `--vendor atlas` on canon's run also said canon's screens changed (they did
    not)."""
    folder = _copy(small_run, tmp_path)
    proc = _certify("--resume", "--out", str(folder), "--vendor", "atlas")
    assert proc.returncode == 2
    assert "--vendor atlas, but it certified canon" in proc.stderr
    assert "reference screens" not in proc.stderr


def test_resume_on_another_bench_names_the_runs(small_run: Path, tmp_path: Path) -> None:
    folder = _copy(small_run, tmp_path)
    proc = _certify("--resume", "--out", str(folder), "--bench",
                    str(ROOT / "fixtures/benches/emulated.yaml"))
    assert proc.returncode == 2
    assert f"(the run was of {small_run.parent / 'lab.yaml'}: give --bench" in proc.stderr


def test_a_run_diffed_with_itself_is_said_to_be_the_same_run(
        small_run: Path, tmp_path: Path, capsys) -> None:
    """K2-23: a run (or its copy) as OLD and NEW said "nothing got worse" and no more: read
    as a firmware update that changed nothing. Said to be the same run."""
    copy = _copy(small_run, tmp_path)
    for old, new in ((small_run, small_run), (small_run, copy)):
        assert main(["report", "diff", str(old), str(new)]) == 0
        out = capsys.readouterr().out
        assert "note: the same run (" in out and "as OLD, the same report" in out
        assert out.rstrip().endswith("nothing got worse: OLD and NEW are the same run")
