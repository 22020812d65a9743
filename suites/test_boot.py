"""BOOT: the bench switched on by its own routine (the bench file's ``power_on``) through the
relays, watched by the cameras and on USB, and held against each maker's order and window."""

from __future__ import annotations

import pytest

from harness.bench import Bench
from harness.cases import Case, cases
from harness.flows.boot import watch_start
from harness.hands import Hands
from harness.model.boot_rules import judge_boot
from harness.model.profiles import BootOrderCheck, ProfileSet
from harness.pytest_plugin import case_params


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "boot_case" in metafunc.fixturenames:
        metafunc.parametrize("boot_case", case_params(metafunc.config, cases, BootOrderCheck))


def test_boot_order(boot_case: Case, bench: Bench, hands: Hands, profiles: ProfileSet,
                    judge) -> None:  # noqa: ANN001
    reader, maker, req_id = boot_case.key()
    record = watch_start(bench, hands, reader)
    judge(judge_boot(profiles[maker].requirement(req_id), maker, reader, record))
