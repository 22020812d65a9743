"""BOOT: the bench switched on by its own routine (the bench file's ``power_on``) through the
relays, watched by the cameras and on USB, and held against each maker's order and window."""

from __future__ import annotations

import pytest

from harness.bench import Bench
from harness.flows.boot import watch_start
from harness.hands import Hands
from harness.model.boot_rules import judge_boot
from harness.model.profiles import BootOrderCheck, ProfileSet
from harness.pytest_plugin import requirement_cases


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "boot_case" in metafunc.fixturenames:
        metafunc.parametrize("boot_case", requirement_cases(metafunc.config, BootOrderCheck))


def test_boot_order(boot_case, bench: Bench, hands: Hands, profiles: ProfileSet,  # noqa: ANN001
                    judge) -> None:  # noqa: ANN001
    reader, maker, req_id = boot_case
    record = watch_start(bench, hands, reader)
    judge(judge_boot(profiles[maker].requirement(req_id), maker, reader, record))
