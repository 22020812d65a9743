"""Flows driven on a bench and recorded: what the suites run for each profile check."""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.flows.drivers import DRIVERS, FROM_POWER_ON, WITH_DIALOGS, Plan
from harness.flows.runner import FlowRun
from harness.flows.strategy import BenchStrategy
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
                  expected=plan.profile.expected_texts(plan.flow, plan.given),
                  bounds=plan.bounds())
    keep_off = (reader,) if "reader_unpowered" in plan.given else ()
    BenchStrategy(bench, hands).flow_start(
        run, plan.profile, plan.given, before_power=FLOW_SETUP.get(plan.flow, ()),
        keep_off=keep_off, record_power_on=plan.flow in FROM_POWER_ON)
    if not run.record.unmet:
        DRIVERS[plan.flow](run, plan)
    run.result()
    run.check_network()  # a network the bench lost: network.dropped, not the reader's fault
    return run.record
