"""Load the rig's plugin for this checkout (unless the installed package already has), and
tell pytest-xdist how the tests may be spread over workers."""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest

_installed = any(ep.name == "onshi_rig" for ep in entry_points(group="pytest11"))
pytest_plugins = [] if _installed else ["harness.pytest_plugin"]


#: Fixtures that use the machine's one pcscd and the vpcd readers' fixed ports.
PCSCD_FIXTURES = ("pcscd_with_vpcd", "vpcd_bench")


def _uses_pcscd(test_file: str) -> bool:
    try:
        text = (Path(__file__).parent / test_file).read_text(encoding="utf-8")
    except OSError:
        return False
    return any(name in text for name in PCSCD_FIXTURES)


def _weight(item: pytest.Item) -> int:
    """The longest files first, so that none of them ends the run alone: the certification
    tests (each certifies a bench in processes of its own), then the suites, then the rest."""
    path = item.nodeid.split("::", 1)[0]
    if path == "tests/test_certify_deviant.py":  # the longest of all
        return 0
    if path.startswith("tests/test_certify"):
        return 1
    return 2 if path.startswith("suites/") else 3


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    items.sort(key=_weight)  # stable: each file's tests keep their order


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Under pytest-xdist a file's tests stay on one worker, in order, so module and
    session fixtures (a deviant bench certified, a flow driven once for several checks)
    are made once; the files that use pcscd form one unit, so two workers never serve
    the same vpcd ports. (xdist's own ``loadgroup`` cannot be used: with pytest 9 its
    group marks do not reach the scheduler.)"""
    from xdist.scheduler import LoadFileScheduling

    # In collection order (the longest files first: pytest_collection_modifyitems), not the
    # files with most tests first: the certification tests are few but the longest.
    config.option.loadscopereorder = False

    class ByFileAndPcscd(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            test_file = nodeid.split("::", 1)[0]
            return "pcscd" if _uses_pcscd(test_file) else test_file

    return ByFileAndPcscd(config, log)
