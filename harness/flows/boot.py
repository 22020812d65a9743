"""The BOOT runner: the bench switched on by its own routine (the bench file's ``power_on``)
through the relays, watched by the cameras and on USB; what happened when, for the boot
rules (:mod:`harness.model.boot_rules`)."""

from __future__ import annotations

from collections.abc import Sequence

from harness.bench import Bench
from harness.flows.power_on import NOT_STARTED, SETTLE_S
from harness.flows.setup import restore_morning
from harness.hands import Hands
from harness.model.bench_spec import PowerStep
from harness.model.boot_rules import BootRecord
from harness.model.wait import wait_until


def watch_start(bench: Bench, hands: Hands, reader: str,
                steps: Sequence[PowerStep] | None = None) -> BootRecord:
    """Restore the bench, run its power-on routine (or ``steps``), and note what happens
    when."""
    restore_morning(bench, hands)
    since = len(bench.timeline)  # what the routine switches, not what came before
    eyes = bench.watcher(reader)
    terminal_eyes = None
    if any(c.watches == bench.spec.terminal.name for c in bench.spec.cameras):
        terminal_eyes = bench.watcher(bench.spec.terminal.name)
    device = next(r for r in bench.spec.readers if r.name == reader)
    record = BootRecord()

    def tick() -> BootRecord:
        now = bench.clock.now()
        shows = eyes.read().shows
        if record.reader_started is None and shows not in NOT_STARTED:
            record.reader_started = now
        if record.reader_ready is None and shows == "first":
            record.reader_ready = now
        if record.reader_on_usb is None and device.usb.path is not None and any(
                d.topology.path == device.usb.path for d in bench.usb.devices()):
            record.reader_on_usb = now
        if terminal_eyes is not None and record.terminal_lit is None \
                and terminal_eyes.look().state not in ("off", "unknown"):
            record.terminal_lit = now
        return record

    bench.power_on(tick=tick, tick_s=3.0, steps=steps)
    wait_until(bench.clock, tick, lambda r: r.reader_ready is not None, SETTLE_S,
               step_s=5.0)
    roles = {reader: "reader", bench.spec.terminal.name: "terminal"}
    if bench.spec.receipt_computer is not None:
        roles[bench.spec.receipt_computer.name] = "receipt_computer"
    for event in bench.timeline.events()[since:]:
        role = roles.get(event.source)
        if event.kind == "power.switched" and event.data.get("on") and role \
                and role not in record.switched_on:
            record.switched_on[role] = event.t
    return record
