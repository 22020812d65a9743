"""USB wiring and the lab's lists (USB-01 to USB-08, SP-05) of every reader on the bench, real or emulated.

One test per reader and per wiring requirement of its profile (its maker's, or the general
readers'), judged on one scan of the bench: a broken rule fails its own requirement and no
other, and a rule the scan could not check (topology or PC/SC name unknown) fails closed."""

from __future__ import annotations

import pytest

from harness.bench import Bench
from harness.cases import GENERAL, Case, cases
from harness.errors import BenchFault
from harness.flows.hotplug import replug
from harness.hands import Hands
from harness.model.profiles import (
    AppNameCheck,
    DesignatedReadersCheck,
    FirmwareCheck,
    HotplugCheck,
    ProfileSet,
    VerifiedModelCheck,
    WiringCheck,
)
from harness.model.wiring import Verdicts, judge_hotplug, judge_wiring
from harness.pytest_plugin import case_params
from harness.scan import NotTheEntrys, ScanResult, scan

SCANNED = (WiringCheck, VerifiedModelCheck, AppNameCheck, DesignatedReadersCheck, FirmwareCheck)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "wiring_case" in metafunc.fixturenames:
        metafunc.parametrize("wiring_case", [
            *case_params(metafunc.config, cases, SCANNED),
            *case_params(metafunc.config, cases, SCANNED, readers=GENERAL)])
    if "hotplug_case" in metafunc.fixturenames:
        metafunc.parametrize("hotplug_case", case_params(
            metafunc.config, cases, HotplugCheck, readers=GENERAL))


@pytest.fixture(scope="module")
def wiring(bench: Bench, profiles: ProfileSet) -> ScanResult:
    try:
        return scan(bench, profiles)
    except NotTheEntrys as exc:
        # Readers swapped between ports: each would be judged by the other's rules. The
        # bench is wrong, not a maker: not run, with the bench file's line as the reason.
        raise BenchFault("bench.wrong_device", bench.name, str(exc)) from exc


def test_wiring_rule(wiring_case: Case, bench: Bench, wiring: ScanResult,
                     profiles: ProfileSet, judge) -> None:  # noqa: ANN001
    reader, maker, req_id = wiring_case.key()
    row = next((r for r in wiring.rows if r.name == reader), None)
    kind = bench.reader(reader).spec.kind
    # A device identified as another kind than the bench file says is not the one judged.
    found = Verdicts(row.violations, row.unchecked, row.passed, row.basis) \
        if row is not None and row.present and row.kind == kind else None
    seen = row.describe() if row is not None else f"{reader}: the scan has no row for it"
    if row is not None and row.present and row.kind != kind:
        seen += f" (identified as a {row.kind}, the bench file says {kind})"
    judge(judge_wiring(profiles[maker].requirement(req_id), maker, reader, found, seen))


def test_no_unknown_device_on_the_bench(wiring: ScanResult) -> None:
    strays = [r for r in wiring.rows if r.name is None and r.kind != "other"]
    assert not strays, f"readers not in the bench file: {[r.usb_path for r in strays]}"


def test_general_reader_plugged_in_later_is_recognised(hotplug_case: Case, bench: Bench,
                                                       hands: Hands, profiles: ProfileSet,
                                                       judge) -> None:  # noqa: ANN001
    reader, maker, req_id = hotplug_case.key()
    seen = replug(bench, hands, profiles, reader)
    judge(judge_hotplug(profiles[maker].requirement(req_id), maker, reader, seen.listed,
                        seen.again, seen.monitorless))
