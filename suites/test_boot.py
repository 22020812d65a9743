"""BOOT: the bench switched on by its own routine (the bench file's ``power_on``) through the
relays, watched by the cameras and on USB, and held against each maker's order and window."""

from __future__ import annotations

import pytest

from harness.bench import Bench
from harness.flows.setup import restore_morning
from harness.hands import Hands
from harness.model.boot_rules import BootRecord, check_boot
from harness.model.profiles import BootOrderCheck, ProfileSet
from harness.pytest_plugin import requirement_cases

#: Screen classes of a reader that has not finished starting.
NOT_STARTED = {"dark", "starting"}
#: Bench seconds to keep watching after the routine for the reader's first screen.
SETTLE_S = 120.0


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "boot_case" in metafunc.fixturenames:
        metafunc.parametrize("boot_case", requirement_cases(metafunc.config, BootOrderCheck))


def watch_start(bench: Bench, hands: Hands, reader: str) -> BootRecord:
    """Restore the bench, run its power-on routine, and note what happens when."""
    restore_morning(bench, hands)
    since = len(bench.timeline)  # what the routine switches, not what came before
    eyes = bench.watcher(reader)
    terminal_eyes = None
    if any(c.watches == bench.spec.terminal.name for c in bench.spec.cameras):
        terminal_eyes = bench.watcher(bench.spec.terminal.name)
    device = next(r for r in bench.spec.readers if r.name == reader)
    record = BootRecord()

    def tick() -> None:
        now = bench.clock.now()
        shows = eyes.read().shows
        if record.reader_started is None and shows is not None and shows not in NOT_STARTED:
            record.reader_started = now
        if record.reader_ready is None and shows == "first":
            record.reader_ready = now
        if record.reader_on_usb is None and device.usb.path is not None and any(
                d.topology.path == device.usb.path for d in bench.usb.devices()):
            record.reader_on_usb = now
        if terminal_eyes is not None and record.terminal_lit is None \
                and terminal_eyes.look().state not in ("off", "unknown"):
            record.terminal_lit = now

    bench.power_on(tick=tick, tick_s=3.0)
    waited = 0.0
    while record.reader_ready is None and waited < SETTLE_S:
        bench.clock.sleep(5.0)
        waited += 5.0
        tick()
    roles = {reader: "reader", bench.spec.terminal.name: "terminal"}
    if bench.spec.receipt_computer is not None:
        roles[bench.spec.receipt_computer.name] = "receipt_computer"
    for event in bench.timeline.events()[since:]:
        role = roles.get(event.source)
        if event.kind == "power.switched" and event.data.get("on") and role \
                and role not in record.switched_on:
            record.switched_on[role] = event.t
    return record


def test_boot_order(boot_case, bench: Bench, hands: Hands, profiles: ProfileSet) -> None:  # noqa: ANN001
    reader, maker, req_id = boot_case
    requirement = profiles[maker].requirement(req_id)
    assert requirement is not None
    record = watch_start(bench, hands, reader)
    problems = [p for check in requirement.checks if isinstance(check, BootOrderCheck)
                for p in check_boot(check, record)]
    assert not problems, f"{req_id}: " + "; ".join(problems) + f" [{record.summary()}]"
