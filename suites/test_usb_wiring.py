"""USB wiring (USB-01 to USB-06, SP-05) of every reader on the bench, real or emulated.

A rule a maker's profile does not have (USB-01 is Panasonic's) holds trivially for it: the
certification report counts a test only for the requirements of the maker's profile."""

from __future__ import annotations

import pytest

from harness.scan import ScanResult, scan


@pytest.fixture(scope="module")
def wiring(bench, profiles) -> ScanResult:
    return scan(bench, profiles)


def _row(wiring: ScanResult, name: str):
    row = next((r for r in wiring.rows if r.name == name), None)
    assert row is not None, f"{name} is in the bench file but the scan has no row for it"
    assert row.present, f"{name}: {row.note}"
    return row


def _holds(row, rule: str) -> None:  # noqa: ANN001
    """One rule, so that a broken rule fails its own requirement and no other."""
    broken = [v.detail for v in row.violations if v.requirement == rule]
    assert not broken, f"{rule}: " + "; ".join(broken)


@pytest.mark.parametrize("rule", [
    pytest.param(rule, marks=pytest.mark.requirement(rule), id=rule)
    for rule in ("USB-01", "USB-02", "SP-05")
])
def test_face_auth_reader_wiring(face_auth_reader, wiring: ScanResult, rule: str) -> None:
    row = _row(wiring, face_auth_reader.name)
    assert row.kind == "face_auth_reader"
    _holds(row, rule)


@pytest.mark.parametrize("rule", [
    pytest.param(rule, marks=pytest.mark.requirement(rule), id=rule)
    for rule in ("USB-03", "USB-04", "USB-05", "SP-05")
])
def test_general_reader_is_verified_and_named(general_reader, wiring: ScanResult,
                                              rule: str) -> None:
    row = _row(wiring, general_reader.name)
    assert row.kind == "general_reader"
    _holds(row, rule)
    if rule in ("USB-03", "USB-04"):
        assert rule in row.passed


def test_no_unknown_device_on_the_bench(wiring: ScanResult) -> None:
    strays = [r for r in wiring.rows if r.name is None and r.kind != "other"]
    assert not strays, f"readers not in the bench file: {[r.usb_path for r in strays]}"


@pytest.mark.requirement("USB-06")
def test_general_reader_plugged_in_later_is_recognised(general_reader, bench, hands,  # noqa: ANN001
                                                       profiles) -> None:
    """USB-06: pulled and plugged back while the terminal runs, the general reader is
    listed again by the management app (after a restart, on a monitor-less terminal)."""
    from harness.flows.runner import FlowRun
    from harness.flows.setup import morning, restore_morning

    host = next((r.name for r in bench.spec.readers if r.kind == "face_auth_reader"), None)
    assert host is not None, "the bench has no face-auth reader whose app could list it"
    run = FlowRun(bench, hands, host, "general_reader_hotplug")
    restore_morning(bench, hands)
    morning(run, profiles[bench.reader(host).maker])
    listed = hands.pair(host, general_reader.name, run.patient)
    hands.usb_cable(general_reader.name, plugged=False)
    hands.wait(5)
    hands.usb_cable(general_reader.name, plugged=True)
    hands.wait(5)
    again = hands.pair(host, general_reader.name, run.patient)
    if bench.spec.terminal.monitorless:
        hands.reboot_terminal()
        run.wait_for("first", 300, step_s=15)
        again = hands.pair(host, general_reader.name, run.patient)
    assert listed, f"USB-06: the management app lists no general reader ({general_reader.name})"
    assert sorted(again) == sorted(listed), \
        f"USB-06: after plugging {general_reader.name} in again the app lists {again}, " \
        f"before it listed {listed}"
