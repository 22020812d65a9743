"""Flows driven on a bench and recorded: what the suites run for each profile check."""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.flows.drivers import DRIVERS, FROM_POWER_ON, WITH_DIALOGS, Plan
from harness.flows.runner import FlowRun
from harness.flows.setup import (
    arrange_after_power,
    arrange_before_power,
    light_the_panel,
    morning,
    restore_for,
)
from harness.model.observed import FlowRecord

if TYPE_CHECKING:
    from harness.bench import Bench
    from harness.hands import Hands
    from harness.vision.evidence import EvidenceStore

#: What a flow needs done to the switched-off bench besides its profile givens.
FLOW_SETUP = {"startup_network_error": ("network_down_at_start",)}


def run_flow(bench: Bench, hands: Hands, reader: str, plan: Plan, *,
             general: str | None = None, evidence: EvidenceStore | None = None) -> FlowRecord:
    """Restore the bench, arrange the givens, switch on, drive the flow; the record."""
    if plan.flow not in DRIVERS:
        raise KeyError(f"no driver for flow {plan.flow!r}")
    run = FlowRun(bench, hands, reader, plan.flow, plan.given,
                  watch_terminal=plan.flow in WITH_DIALOGS, general=general, evidence=evidence,
                  expected=plan.profile.expected_texts(plan.flow, plan.given))
    from_power_on = plan.flow in FROM_POWER_ON
    keep_off = (reader,) if "reader_unpowered" in plan.given else ()
    # The camera must know where the panel is before a run that may never light it.
    light_the_panel(run)
    restore_for(run, plan.profile, plan.flow, plan.given)
    arrange_before_power(run, plan.given + FLOW_SETUP.get(plan.flow, ()))
    if not from_power_on:
        run.pause_recording()
    # Flows watched from power-on have a fault in place: no first screen is expected.
    morning(run, plan.profile, keep_off=keep_off, expect_first=not from_power_on)
    # Once the notice's procedure has not brought the reader where the flow starts, its
    # checks fail with that: setting up or driving it from elsewhere would only add noise.
    if not run.record.unmet:
        arrange_after_power(run, plan.profile, plan.given)
    if not from_power_on:
        run.start_recording()
    if not run.record.unmet:
        DRIVERS[plan.flow](run, plan)
    run.result()
    return run.record
