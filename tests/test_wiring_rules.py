"""The scan's identity rules as pure functions: USB-05 wants the management app's name
exactly, whatever PC/SC appends (slot numbers, interface, serial)."""

from __future__ import annotations

import pytest

from harness.model.profiles import ProfileSet, default_profiles_dir
from harness.model.topology import UsbTopology
from harness.model.wiring import FoundDevice, Verdicts, check_device


def _verdict_on(name: str, serial: str | None = None) -> tuple[set[str], list[str]]:
    general = ProfileSet.load(default_profiles_dir()).general()
    device = FoundDevice("general_reader", "Sony", "RC-S300/S1", 0x054C, 0x0DC8, None, name,
                         serial=serial)
    verdicts = check_device(device, general)
    return set(verdicts.passed), [v.requirement for v in verdicts.violations]


@pytest.mark.parametrize("name", [
    "SONY FeliCa Port/PaSoRi 4.0 00 00",          # pcsc-lite
    "SONY FeliCa Port/PaSoRi 4.0 0",              # Windows
])
def test_the_apps_name_with_pcscs_suffixes_passes(name: str) -> None:
    passed, failed = _verdict_on(name)
    assert "USB-05" in passed and "USB-05" not in failed


@pytest.mark.parametrize("name", [
    "SONY FeliCa Port/PaSoRi 4.0 Plus 00 00",     # a longer name: not a prefix match
    "SONY FeliCa Port/PaSoRi 4 00 00",            # shorter
    "Sony FeliCa Port/PaSoRi 4.0 00 00",          # another case
    "SONY FeliCa Port／PaSoRi 4.0 00 00",         # full-width slash
])
def test_any_other_name_fails(name: str) -> None:
    passed, failed = _verdict_on(name)
    assert "USB-05" in failed and "USB-05" not in passed


@pytest.mark.parametrize(("hubs", "ok"), [(0, True), (1, True), (5, True), (6, False)])
def test_usb03_allows_hubs_up_to_the_usb_chain_limit(hubs: int, ok: bool) -> None:
    general = ProfileSet.load(default_profiles_dir()).general()
    path = "1-" + ".".join(["1"] * (hubs + 1))
    device = FoundDevice("general_reader", "Sony", "RC-S300/S1", 0x054C, 0x0DC8,
                         UsbTopology(path, 12.0, True, hubs), "SONY FeliCa Port/PaSoRi 4.0 00 00")
    verdicts = check_device(device, general)
    assert ("USB-03" in verdicts.passed) is ok
    assert any(v.requirement == "USB-03" for v in verdicts.violations) is not ok


@pytest.mark.parametrize(("name", "serial", "ok"), [
    # CCID's bracket is the device's serial number, before pcsc-lite's index.
    ("SONY FeliCa Port/PaSoRi 4.0 (0123) 00 00", "0123", True),
    ("SONY FeliCa Port/PaSoRi 4.0 [PICC] (0123) 00 01", "0123", True),
    # A bracket that is not the serial is part of the name: another name than the app's.
    ("SONY FeliCa Port/PaSoRi 4.0 (PICC) 00 00", "0123", False),
    ("SONY FeliCa Port/PaSoRi 4.0 (PICC) (0123) 00 00", "0123", False),
    # A bracket that ends the name, with no index after it, is never CCID's.
    ("SONY FeliCa Port/PaSoRi 4.0 (0123)", "0123", False),
    ("SONY FeliCa Port/PaSoRi 4.0 (PICC)", None, False),
])
def test_only_the_devices_serial_is_ccids_bracket(name: str, serial: str | None,
                                                  ok: bool) -> None:
    passed, failed = _verdict_on(name, serial)
    assert ("USB-05" in passed) is ok and ("USB-05" in failed) is not ok


def test_a_bracket_that_may_be_the_serial_or_the_name_is_not_judged() -> None:
    """The serial not read: "... (PICC) 00 00" matches the app's name only if the bracket
    is CCID's serial number, which cannot be told: USB-05 unchecked with why, never a pass
    (a reader named "Circle CIR315 CL (PICC)" passed). A name that matches with the bracket
    kept passes, one that matches in no reading fails."""
    general = ProfileSet.load(default_profiles_dir()).general()

    def verdicts(name: str) -> Verdicts:
        return check_device(FoundDevice("general_reader", "Sony", "RC-S300/S1", 0x054C,
                                        0x0DC8, UsbTopology("1-1", 12.0, True, 0), name),
                            general)

    unsure = verdicts("SONY FeliCa Port/PaSoRi 4.0 (PICC) 00 00")
    assert "USB-05" not in unsure.passed
    assert not any(v.requirement == "USB-05" for v in unsure.violations)
    [why] = [u.reason for u in unsure.unchecked if u.requirement == "USB-05"]
    assert "whether (PICC) is the device's serial number" in why
    assert "USB-05" in verdicts("SONY FeliCa Port/PaSoRi 4.0 00 00").passed
    assert any(v.requirement == "USB-05"
               for v in verdicts("Sony FeliCa Port/PaSoRi 4.0 (PICC) 00 00").violations)
