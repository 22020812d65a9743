"""Hunt K2's bad-input and fail-open findings, each pinned by the check it broke."""

from __future__ import annotations

from pathlib import Path

import pytest

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
