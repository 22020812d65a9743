"""BOOT: the bench switched on by its own routine (the bench file's ``power_on``) through the
relays, watched by the cameras and on USB, and held against each maker's order and window;
then switched on by the notice's order by the clock where the order has edges to try: a
window's earliest and latest moment (BOOT-01's terminal 15 and 30 s after the reader), and a
reader that starts with the terminal powered long before it (BOOT-02: it stays dark)."""

from __future__ import annotations

import attrs
import pytest

from harness.bench import Bench
from harness.cases import Case, boot_starts
from harness.flows.boot import watch_start
from harness.flows.power_on import clock_steps
from harness.hands import Hands
from harness.model.boot_rules import judge_boot
from harness.model.profiles import BootOrderCheck, ProfileSet
from harness.pytest_plugin import case_params

#: What each start by the clock is, in a verdict.
STARTS = {"earliest": "switched on at the window's earliest edge",
          "latest": "switched on at the window's latest edge",
          "reader_first": "the reader's mains on three minutes before the terminal"}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "boot_case" in metafunc.fixturenames:
        metafunc.parametrize(("boot_case", "start"), case_params(metafunc.config, boot_starts))


def test_boot_order(boot_case: Case, start: str, bench: Bench, hands: Hands,
                    profiles: ProfileSet, judge) -> None:  # noqa: ANN001
    reader, maker, req_id = boot_case.key()
    requirement = profiles[maker].requirement(req_id)
    assert requirement is not None
    if start == "bench":
        judge(judge_boot(requirement, maker, reader, watch_start(bench, hands, reader)))
        return
    check = next(c for c in requirement.checks
                 if isinstance(c, BootOrderCheck) and start in c.clock_starts)
    steps = clock_steps(bench.spec, check, start, emulated=bench.emulated, watched=reader)
    verdict = judge_boot(requirement, maker, reader, watch_start(bench, hands, reader, steps))
    how = STARTS[start]
    judge(attrs.evolve(verdict, seen=f"{how}: {verdict.seen}",
                       problems=tuple(f"{how}: {p}" for p in verdict.problems)))
