"""A general reader is the verified model it is labelled only if its USB ID does not say
otherwise (USB-04, and USB-08's Sony exemption), and a bench may name its maker as the
notice's list prints it (ソニー 「RC-S300/S1」).

- A Sony RC-S380 (054C:06C3) entered as I-O DATA USB-NFC4/E, whose ID is not public: Sony's
  vendor ID says it is not one (USB-04 fails; USB-08 is not judged on I-O DATA's rule).
- A CIR315 (31AA:3002) at firmware 1.09 entered as Sony RC-S300/S1: not exempt from the lab's
  firmware minimum by its label (USB-08 not judged), and USB-04 fails.
- The notice's maker names (ソニー, アイ・オー・データ機器) in the bench and the lab's lists are
  the verified makers: no false failure.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from flow_helpers import DEFAULT_BENCH, open_bench

from harness.model.bench_spec import GeneralReaderRules, MinFirmware
from harness.model.profiles import ProfileSet, default_profiles_dir
from harness.model.reader_lists import judge_firmware
from harness.scan import ScanRow, scan


@pytest.fixture(scope="module")
def profiles() -> ProfileSet:
    return ProfileSet.load(default_profiles_dir())


def _row(tmp_path: Path, profiles: ProfileSet, name: str, **data: Any) -> ScanRow:
    path = tmp_path / "bench.yaml"
    path.write_text(yaml.safe_dump({"base": str(DEFAULT_BENCH), "bench": "identity", **data},
                                   allow_unicode=True), "utf-8")
    for bench in open_bench(path):
        return next(r for r in scan(bench, profiles).rows if r.name == name)
    raise AssertionError("unreachable")


def _said(row: ScanRow, req: str) -> str:
    if req in row.passed:
        return "passed"
    if any(v.requirement == req for v in row.violations):
        return "violated: " + next(v.detail for v in row.violations if v.requirement == req)
    return "unchecked: " + next(u.reason for u in row.unchecked if u.requirement == req)


GENERAL = Path(__file__).resolve().parent.parent / "fixtures/devices/general"


def _labelled_iodata(tmp_path: Path, profiles: ProfileSet, vid: str, pid: str,
                     twin: str) -> ScanRow:
    """The I-O DATA USB-NFC4/E's entry (its USB ID not public) on another reader."""
    return _row(tmp_path, profiles, "iodata-usb-nfc4e", readers=[{
        "name": "iodata-usb-nfc4e", "kind": "general_reader", "maker": "I-O DATA",
        "model": "USB-NFC4/E", "usb": {"vid": vid, "pid": pid, "path": "1-4.2"},
        "emulate": str(GENERAL / twin)}])


def test_a_sony_reader_labelled_as_the_model_whose_id_is_not_public_fails_usb04(
        tmp_path: Path, profiles: ProfileSet) -> None:
    row = _labelled_iodata(tmp_path, profiles, "054C", "06C3", "sony-rc-s380.yaml")
    assert _said(row, "USB-04") == ("violated: labelled I-O DATA USB-NFC4/E, but its USB "
                                    "vendor ID 054C is Sony's"), row
    assert _said(row, "USB-08").startswith("unchecked: labelled I-O DATA USB-NFC4/E, but its "
                                           "USB vendor ID 054C is Sony's"), row


def test_another_verified_models_id_under_that_label_fails_usb04(
        tmp_path: Path, profiles: ProfileSet) -> None:
    row = _labelled_iodata(tmp_path, profiles, "31AA", "3002", "abcircle-cir315a-02.yaml")
    assert _said(row, "USB-04").startswith(
        "violated: labelled I-O DATA USB-NFC4/E, but its USB ID 31AA:3002 is Sanwa Supply "
        "ADR-MNICU3, AB Circle CIR315A-02"), row


def test_the_emulated_stand_in_id_of_that_model_still_passes(profiles: ProfileSet) -> None:
    for bench in open_bench(DEFAULT_BENCH):
        row = next(r for r in scan(bench, profiles).rows if r.name == "iodata-usb-nfc4e")
    assert {"USB-04", "USB-08"} <= set(row.passed), row


def test_a_cir315_labelled_sony_is_not_exempt_from_the_firmware_minimum(
        tmp_path: Path, profiles: ProfileSet) -> None:
    rules = {"min_firmware": [{"maker": m, "model": n, "version": "1.10"} for m, n in (
        ("Sanwa Supply", "ADR-MNICU3"), ("AB Circle", "CIR315A-02"), ("Maxell", "M-1850S-N2"),
        ("Elecom", "MR-ICA001BK"))]}
    row = _row(tmp_path, profiles, "sony-rc-s300-s1", general_reader_rules=rules, readers=[{
        "name": "sony-rc-s300-s1", "kind": "general_reader", "maker": "Sony",
        "model": "RC-S300/S1", "usb": {"vid": "31AA", "pid": "3002", "path": "1-3"},
        "emulate": str(GENERAL / "abcircle-cir315a-02.yaml"),
        "deviations": [{"change": "usb.bcd_device", "to": "1.09", "why": "old firmware"}]}])
    assert _said(row, "USB-08") == (
        "unchecked: labelled Sony RC-S300/S1, but its USB ID 31AA:3002 is not that model's "
        "(054C:0DC8): which model's firmware rule applies is not known"), row
    assert _said(row, "USB-04").startswith("violated: labelled Sony RC-S300/S1"), row


def test_the_real_sony_stays_exempt(profiles: ProfileSet) -> None:
    general = profiles.general()
    judged = judge_firmware("USB-08", "Sony", "RC-S300/S1", "0.01", GeneralReaderRules(),
                            general, (0x054C, 0x0DC8))
    assert judged.outcome is None and "needs no firmware update" in judged.basis


def test_the_notices_maker_names_are_the_verified_makers(tmp_path: Path,
                                                          profiles: ProfileSet) -> None:
    rules = {"min_firmware": [{"maker": "アイ・オー・データ機器", "model": "USB-NFC4/E",
                               "version": "1.10"}],
             "designated": {"usen_almex": [{"maker": "ソニー", "model": "RC-S300/S1"},
                                           {"maker": "I-O DATA", "model": "USB-NFC4/E"}]}}
    readers = [{"name": "sony-rc-s300-s1", "maker": "ソニー"},
               {"name": "iodata-usb-nfc4e", "maker": "アイ・オー・データ機器"}]
    path = tmp_path / "bench.yaml"
    path.write_text(yaml.safe_dump({"base": str(DEFAULT_BENCH), "bench": "names",
                                    "general_reader_rules": rules, "readers": readers},
                                   allow_unicode=True), "utf-8")
    for bench in open_bench(path):
        rows = {r.name: r for r in scan(bench, profiles).rows}
    sony = rows["sony-rc-s300-s1"]
    assert {"USB-04", "USB-05", "USB-08"} <= set(sony.passed), sony
    # The lab's minimum, named by the notice's name, is I-O DATA's: its firmware is judged.
    iodata = rows["iodata-usb-nfc4e"]
    assert "USB-04" in iodata.passed, iodata
    assert "the lab's minimum for" in dict(iodata.basis)["USB-08"], iodata.basis
    # USEN-ALMEX's list names two models; the four CIR315s are not designated.
    usen = _said(rows["usen_almex"], "USB-07")
    assert usen.startswith("violated: not designated for usen_almex") and "Sanwa" in usen, usen
    assert "ソニー" not in usen.split("; designated")[0] and "sony" not in usen.split(
        "; designated")[0].casefold(), usen


def test_a_lab_list_naming_one_model_by_both_names_is_listed_twice(
        profiles: ProfileSet) -> None:
    from harness.model.reader_lists import rules_problems

    rules = GeneralReaderRules(min_firmware=[
        MinFirmware(maker="Sony", model="RC-S300/S1", version="1.00"),
        MinFirmware(maker="ソニー", model="RC-S300/S1", version="2.00")])
    found = rules_problems(rules, profiles.face_auth_makers(), profiles.general())
    assert found == [(("general_reader_rules", "min_firmware", 1),
                      "ソニー RC-S300/S1 is listed twice (first as [0])")]


def test_a_name_the_notice_does_not_print_is_no_verified_maker(profiles: ProfileSet) -> None:
    general = profiles.general()
    assert general.verified("ソニ", "RC-S300/S1") is None
    assert general.verified("sony", "RC-S300") is None
    assert general.verified("SONY", "RC-S300/S1") is not None


@pytest.mark.parametrize(("names", "field", "problem"), [
    ("[サンワサプライ, Sony]", "verified_models[0].maker_names[1]",
     "'Sony' is already the name of another maker, Sony (verified_models[5])"),
    ("[ソニー]", "verified_models[5].maker_names[0]",
     "'ソニー' is already the name of another maker, Sanwa Supply (verified_models[0])"),
    ('["ソニー\\u200b"]', "verified_models[0].maker_names[0]",
     "holds an invisible or full-width character"),
    ('["", サンワ]', "verified_models[0].maker_names[0]", "a name, without blanks"),
    ("[サンワ, サンワ]", "verified_models[0].maker_names[1]", "is said twice"),
])
def test_a_maker_name_that_is_not_one_makers_alone_is_bad_input(
        tmp_path: Path, names: str, field: str, problem: str) -> None:
    """Another maker's name among Sanwa's judged a real Sony as not verified (the first model
    claiming the name won); an invisible character left ソニー matching nothing."""
    import shutil

    from harness.errors import BadInput

    folder = tmp_path / "profiles"
    shutil.copytree(default_profiles_dir(), folder)
    path = folder / "general_readers.yaml"
    text = path.read_text("utf-8")
    assert "maker_names: [サンワサプライ]" in text
    path.write_text(text.replace("maker_names: [サンワサプライ]", f"maker_names: {names}"),
                    "utf-8")
    maker = "Sony" if "[5]" in field else "Sanwa Supply"
    line = next(n for n, row in enumerate(path.read_text("utf-8").splitlines(), 1)
                if row.startswith(f"  - {{maker: {maker},"))
    with pytest.raises(BadInput) as caught:
        ProfileSet.load(folder)
    assert f"{path}:{line}: {field}: " in str(caught.value), str(caught.value)
    assert problem in str(caught.value), str(caught.value)
