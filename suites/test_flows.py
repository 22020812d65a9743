"""Every flow check of every maker's profile, driven on the bench and judged.

The tests are made from the profiles (the spec): one per requirement and check, on each
face-auth reader of the bench whose maker the profile is, and for the general readers' own
flow checks, on each general reader. A flow is driven once per reader, flow and
preconditions, and every check asking about it is judged on that one record, so that each
requirement passes or fails on its own. A check that compares its path with another
(``screens_as``) is judged on that other flow's record too, driven once as well.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from harness.bench import Bench
from harness.cases import Case, flow_cases
from harness.flows import run_flow
from harness.flows.drivers import FROM_POWER_ON, Plan
from harness.hands import Hands
from harness.model.flow_rules import judge_flow
from harness.model.observed import FlowRecord
from harness.model.profiles import FlowCheck, Profile, ProfileSet, run_key
from harness.pytest_plugin import case_params
from harness.vision.evidence import EvidenceStore


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "flow_case" in metafunc.fixturenames:
        metafunc.parametrize("flow_case", case_params(metafunc.config, flow_cases))


@pytest.fixture(scope="session")
def flow_records(bench: Bench, hands: Hands, profiles: ProfileSet,
                 evidence: EvidenceStore | None
                 ) -> Callable[[str, str, str | None, str, tuple[str, ...]], FlowRecord]:
    """``get(reader, maker, general, flow, given)``: the record of that flow, driven once."""
    records: dict[tuple[object, ...], FlowRecord] = {}

    def get(reader: str, maker: str, general: str | None, flow: str,
            given: tuple[str, ...]) -> FlowRecord:
        key = (reader, general, flow, run_key(given))
        plan = Plan.of(profiles[maker], flow, given)
        if bench.emulated and bench.faults.armed():
            # A bench file's fault for this test: the flow driven afresh, under it (a record
            # driven before it would have the test pass as if it had met the fault).
            return run_flow(bench, hands, reader, plan, general=general, evidence=evidence)
        if key not in records:
            records[key] = run_flow(bench, hands, reader, plan, general=general,
                                    evidence=evidence)
        return records[key]

    return get


def test_flow_requirement(flow_case: Case, flow_records, profiles: ProfileSet,  # noqa: ANN001
                          judge) -> None:  # noqa: ANN001
    requirement = profiles[flow_case.profile].requirement(flow_case.requirement)
    check = requirement.checks[flow_case.check]
    assert isinstance(check, FlowCheck)
    where = (flow_case.reader, flow_case.driver_maker, flow_case.general)
    record = flow_records(*where, check.flow, tuple(check.given))
    baseline = (flow_records(*where, check.screens_as.flow, tuple(check.screens_as.given))
                if check.screens_as is not None else None)
    # A button guard holds on every flow's first screens: each run the profile drives (its
    # record driven once, shared with the checks of that run).
    guarded = [flow_records(*where, flow, given)
               for flow, given in guarded_runs(profiles[flow_case.profile])
               ] if check.button_guard is not None else []
    judge(judge_flow(requirement, flow_case.profile, check, record,
                     subject=flow_case.general or flow_case.reader, baseline=baseline,
                     guarded=guarded))


def guarded_runs(profile: Profile) -> list[tuple[str, tuple[str, ...]]]:
    """Every run (flow, givens) of the profile's flow checks that starts from the reader's
    first screen (not one watched from power-on, whose givens are set up while it is
    watched), once each."""
    runs: dict[tuple[str, tuple[str, ...]], tuple[str, tuple[str, ...]]] = {}
    for req in profile.requirements:
        for c in req.checks:
            if isinstance(c, FlowCheck) and c.flow not in FROM_POWER_ON:
                runs.setdefault((c.flow, run_key(c.given)), (c.flow, tuple(c.given)))
    return list(runs.values())
