"""USB-08: a general reader's firmware (USB bcdDevice, read off the twin's USB descriptor as
off a real reader's) against the lab's minimum for its model (bench file
``general_reader_rules.min_firmware``), judged by the scan.

- The default bench (no minimum from the lab): USB-08 passes and says so; Sony's says it
  needs no update.
- FAULTS: a twin reporting firmware below the lab's minimum (its ``usb.bcd_device`` lowered
  by a bench deviation) fails exactly its USB-08; at the minimum it passes; Sony's passes
  below any minimum; an unread version or an unverified model fails closed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from flow_helpers import DEFAULT_BENCH
from test_reader_lists import _failures, _row, _scan, fails_exactly_as_its_mutant_row_says

from harness.model.bench_spec import GeneralReaderRules
from harness.model.profiles import ProfileSet, default_profiles_dir
from harness.model.reader_lists import bcd_text, judge_firmware
from harness.model.requirements import Unchecked
from harness.scan import ScanResult


@pytest.fixture(scope="module")
def profiles() -> ProfileSet:
    return ProfileSet.load(default_profiles_dir())


@pytest.fixture(scope="module")
def default_scan(profiles: ProfileSet) -> ScanResult:
    return _scan(DEFAULT_BENCH, profiles)


def test_default_bench_has_no_minimum_and_says_so(default_scan: ScanResult) -> None:
    sanwa = _row(default_scan, "sanwa-adr-mnicu3")
    assert sanwa.version == "1.10" and "USB-08" in sanwa.passed
    assert "no minimum for Sanwa Supply ADR-MNICU3 from the lab" in dict(sanwa.basis)["USB-08"]
    sony = _row(default_scan, "sony-rc-s300-s1")
    assert "needs no firmware update" in dict(sony.basis)["USB-08"]


def _firmware_bench(folder: Path, name: str, minimum: list[dict[str, str]],
                    lowered: dict[str, str]) -> Path:
    data: dict[str, Any] = {
        "base": str(DEFAULT_BENCH), "bench": name,
        "general_reader_rules": {"min_firmware": minimum},
        "readers": [{"name": reader, "deviations": [
            {"change": "usb.bcd_device", "to": version, "why": "old firmware"}]}
            for reader, version in lowered.items()]}
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    return path


MINIMA = [{"maker": "Sanwa Supply", "model": "ADR-MNICU3", "version": "1.10"},
          {"maker": "I-O DATA", "model": "USB-NFC4/E", "version": "10.00"},
          {"maker": "Sony", "model": "RC-S300/S1", "version": "99.99"}]

#: reader -> the firmware its twin reports on the faulty bench, and whether USB-08 fails:
#: the Sanwa one step below its minimum; the I-O DATA at 2.00 under 10.00 (as text "2.00" >
#: "10.00": a string comparison would pass it); the Elecom at an old 0.01 with no minimum
#: from the lab; the Sony under 99.99, which it needs no update for; the AB Circle at 12.34
#: (two digits before the point, read back as written: binary-coded decimal).
FAULTS = {"sanwa-adr-mnicu3": ("1.09", True), "iodata-usb-nfc4e": ("2.00", True),
          "elecom-mr-ica001bk": ("0.01", False), "sony-rc-s300-s1": ("0.01", False),
          "abcircle-cir315a-02": ("12.34", False)}


@pytest.fixture(scope="module")
def firmware_scan(tmp_path_factory: pytest.TempPathFactory,
                  profiles: ProfileSet) -> Iterator[ScanResult]:
    folder = tmp_path_factory.mktemp("firmware")
    lowered = {r: v for r, (v, _) in FAULTS.items() if r != "iodata-usb-nfc4e"}
    yield _scan(_firmware_bench(folder, "old-firmware", MINIMA, lowered), profiles)


def test_firmware_below_the_minimum_fails_exactly_usb08(firmware_scan: ScanResult) -> None:
    fails = _failures(firmware_scan)
    assert {r: [v.requirement for v in vs] for r, vs in fails.items()} == {
        r: ["USB-08"] for r, (_, bad) in FAULTS.items() if bad}
    assert "runs firmware 1.09, below the lab's minimum 1.10" in fails["sanwa-adr-mnicu3"][0].detail
    assert "2.00, below the lab's minimum 10.00" in fails["iodata-usb-nfc4e"][0].detail
    for reader, (version, _) in FAULTS.items():
        assert _row(firmware_scan, reader).version == version


def test_firmware_at_the_minimum_passes(firmware_scan: ScanResult,
                                        default_scan: ScanResult) -> None:
    # The same minimum of 1.10 on the default bench, whose Sanwa twin reports 1.10.
    assert _row(default_scan, "abcircle-cir315a-02").version == "1.10"
    profiles = ProfileSet.load(default_profiles_dir())
    rules = GeneralReaderRules.model_validate({"min_firmware": MINIMA[:1]})
    judged = judge_firmware("USB-08", "Sanwa Supply", "ADR-MNICU3", "1.10", rules,
                            profiles.general())
    assert judged.outcome is None and "minimum for Sanwa Supply ADR-MNICU3: 1.10" in judged.basis
    assert "USB-08" in _row(firmware_scan, "sony-rc-s300-s1").passed


def test_unread_version_or_unverified_model_fails_closed(profiles: ProfileSet) -> None:
    rules = GeneralReaderRules.model_validate({"min_firmware": MINIMA[:1]})
    general = profiles.general()
    unread = judge_firmware("USB-08", "Sanwa Supply", "ADR-MNICU3", None, rules, general)
    assert isinstance(unread.outcome, Unchecked)
    other = judge_firmware("USB-08", "Sony", "RC-S380", "1.00", rules, general)
    assert isinstance(other.outcome, Unchecked)
    assert bcd_text(0x0110) == "1.10" and bcd_text(0x1000) == "10.00"


def test_the_mutation_benchmarks_row_fails_exactly_usb08(tmp_path: Path,
                                                        profiles: ProfileSet) -> None:
    fails_exactly_as_its_mutant_row_says("general-reader-old-firmware", tmp_path, profiles)
