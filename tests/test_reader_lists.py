"""USB-07: the general readers on the bench against the lab's list of those designated for
each face-auth maker (bench file ``general_reader_rules.designated``), judged by the scan.

- The default bench (no list from the lab): USB-07 passes on the verified six and says so.
- deviant-general-readers.yaml: a lab's list designating only the Sony for USEN-ALMEX fails
  exactly USEN-ALMEX's USB-07, naming the five others (and the mutation benchmark's row).
- The lab's lists naming a maker or model the profiles do not know: bad input, exit 2.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from flow_helpers import DEFAULT_BENCH, open_bench

from harness.cli import main
from harness.model.bench_spec import GeneralReaderRules, ReaderModel
from harness.model.profiles import ProfileSet, default_profiles_dir
from harness.model.reader_lists import judge_designated
from harness.model.requirements import Unchecked, Violation
from harness.scan import ScanResult, scan
from tests.conftest import bench_file

LISTED = ("usen_almex", "atlas", "panasonic")


@pytest.fixture(scope="module")
def profiles() -> ProfileSet:
    return ProfileSet.load(default_profiles_dir())


def _scan(path: Path, profiles: ProfileSet) -> ScanResult:
    for bench in open_bench(path):
        return scan(bench, profiles)
    raise AssertionError("unreachable")


def _failures(result: ScanResult) -> dict[str, list[Violation]]:
    return {r.name or "": list(r.violations) for r in result.rows if r.violations}


@pytest.fixture(scope="module")
def default_scan(profiles: ProfileSet) -> ScanResult:
    return _scan(DEFAULT_BENCH, profiles)


def _row(result: ScanResult, name: str):  # noqa: ANN202
    return next(r for r in result.rows if r.name == name)


def test_default_bench_designates_the_verified_six_and_says_so(default_scan: ScanResult) -> None:
    for maker in LISTED:
        row = _row(default_scan, maker)
        assert "USB-07" in row.passed, row
        basis = dict(row.basis)["USB-07"]
        assert f"no list from the lab for {maker}" in basis and "the 6 verified models" in basis
    # Makers the notice does not name have no USB-07 at all.
    assert "USB-07" not in _row(default_scan, "canon").passed


def test_a_lab_list_without_a_reader_on_the_bench_fails_exactly_that_makers_usb07(
        profiles: ProfileSet) -> None:
    result = _scan(bench_file("deviant-general-readers.yaml"), profiles)
    fails = _failures(result)
    assert list(fails) == ["usen_almex"] and [v.requirement for v in fails["usen_almex"]] == [
        "USB-07"]
    detail = fails["usen_almex"][0].detail
    assert "sanwa-adr-mnicu3" in detail and "elecom-mr-ica001bk" in detail
    assert "sony-rc-s300-s1" not in detail.split("; designated")[0]
    assert "the lab's list for usen_almex" in dict(_row(result, "usen_almex").basis)["USB-07"]
    assert "USB-07" in _row(result, "atlas").passed


@pytest.mark.parametrize(("maker", "model", "ok"), [
    ("SONY", "RC-S300/S1", True),      # the maker in another case is the same maker
    ("Sony", "RC-S300", False),        # another product (the support vendor's お知らせ)
    ("Sony", "RC-S300/S1 ", False),    # the model character for character
    ("Sanwa Supply", "ADR-MNICU3", False),
])
def test_designated_models_match_maker_and_model(profiles: ProfileSet, maker: str, model: str,
                                                 ok: bool) -> None:
    rules = GeneralReaderRules(designated={"atlas": [ReaderModel(maker="Sony",
                                                                 model="RC-S300/S1")]})
    judged = judge_designated("USB-07", "atlas", [("r", maker, model)], rules, profiles.general())
    assert (judged.outcome is None) is ok


def test_no_general_reader_on_the_bench_is_not_a_pass(profiles: ProfileSet) -> None:
    judged = judge_designated("USB-07", "atlas", [], GeneralReaderRules(), profiles.general())
    assert isinstance(judged.outcome, Unchecked)


def test_a_misspelt_maker_or_model_in_the_lab_lists_is_bad_input(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "lab.yaml"
    path.write_text(yaml.safe_dump({
        "base": str(DEFAULT_BENCH), "bench": "lab",
        "general_reader_rules": {
            "designated": {"usen-almex": [{"maker": "Sony", "model": "RC-S300/S1"}]},
            "min_firmware": [{"maker": "Sanwa", "model": "ADR-MNICU3", "version": "1.10"}]}}),
        "utf-8")
    assert main(["scan", "--bench", str(path)]) == 2
    err = capsys.readouterr().err
    assert "general_reader_rules.designated.usen-almex: no face-auth maker 'usen-almex'" in err
    assert "general_reader_rules.min_firmware[0]: Sanwa ADR-MNICU3 is not a verified model" in err
    assert "Traceback" not in err


def fails_exactly_as_its_mutant_row_says(row_id: str, tmp_path: Path,
                                         profiles: ProfileSet) -> None:
    """A row of benchmarks/mutants.yaml, its bench written as the benchmark writes it,
    fails on the scan exactly what the row says it must."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent.parent / "benchmarks"))
    import mutants

    catalogue = mutants.load_catalogue()
    row = next(r for r in catalogue.mutants if r.id == row_id)
    found = [m for m in mutants.catalogued(catalogue, row.makers, profiles) if m.kind == row_id]
    assert len(found) == 1
    result = _scan(mutants.write_bench(found[0], tmp_path), profiles)
    failing = {v.requirement for r in result.rows for v in r.violations}
    assert failing == found[0].must_fail == set(row.must_fail)


def test_the_mutation_benchmarks_row_fails_exactly_usb07(tmp_path: Path,
                                                        profiles: ProfileSet) -> None:
    fails_exactly_as_its_mutant_row_says("general-reader-not-designated", tmp_path, profiles)
