"""UPD-01 (when the upgrade is distributed) and UPD-04 (what the delivery list says), on each
face-auth reader's bench. Where to look comes from the maker's profile
(:func:`~harness.model.schedule_rules.schedule_probes`: both sides of every edge of the
schedule); the bench is driven by :mod:`harness.flows.upgrade` and judged by the pure rules."""

from __future__ import annotations

import pytest

from harness.bench import Bench
from harness.cases import Case, cases
from harness.flows.upgrade import probe_delivery, probe_delivery_list, probe_manual
from harness.hands import Hands
from harness.model.profiles import DeliveryVersionCheck, ProfileSet, ScheduleCheck
from harness.model.schedule_rules import judge_delivery, judge_schedule, schedule_probes
from harness.pytest_plugin import case_params


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "schedule_case" in metafunc.fixturenames:
        metafunc.parametrize("schedule_case", case_params(metafunc.config, cases, ScheduleCheck))
    if "delivery_case" in metafunc.fixturenames:
        metafunc.parametrize("delivery_case",
                             case_params(metafunc.config, cases, DeliveryVersionCheck))


def test_distribution_schedule(schedule_case: Case, bench: Bench, hands: Hands,
                               profiles: ProfileSet, judge) -> None:  # noqa: ANN001
    reader, maker, req_id = schedule_case.key()
    profile = profiles[maker]
    requirement = profile.requirement(req_id)
    check = next(c for c in requirement.checks if isinstance(c, ScheduleCheck))
    deliveries, manuals = schedule_probes(check)
    judge(judge_schedule(
        requirement, maker, reader,
        [probe_delivery(bench, hands, reader, profile, p) for p in deliveries],
        [probe_manual(bench, hands, reader, profile, p) for p in manuals]))


def test_delivery_list_version(delivery_case: Case, bench: Bench, hands: Hands,
                               profiles: ProfileSet, judge) -> None:  # noqa: ANN001
    reader, maker, req_id = delivery_case.key()
    profile = profiles[maker]
    requirement = profile.requirement(req_id)
    check = next(c for c in requirement.checks if isinstance(c, DeliveryVersionCheck))
    judge(judge_delivery(requirement, maker, reader, check,
                         *probe_delivery_list(bench, hands, reader, profile, check)))
