"""The suites' own options: the random walks' seed, and where their coverage goes.

``--walk-seed N`` draws the walks of ``test_model_based.py`` from seed N (without it they
are derandomised: the same walks every run); a failing walk's verdict says how to replay it.

The walks' coverage (per reader: the (state, action) pairs its profile names, those the
walks reached, those they missed) is written as JSON to ``--walk-coverage FILE``; without
it, to ``walk-coverage.json`` in the ``--evidence`` folder, else beside the ``--timeline``
file (``onshi-rig certify`` passes one in its output folder, so each certification, or each
of its parts, leaves its coverage there). A one-line summary ends the run.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

#: The ``user_properties`` key a walk test's coverage travels under (xdist included).
WALK_COVERAGE_PROPERTY = "onshi_rig.walk_coverage"
WALK_COVERAGE_FILE = "walk-coverage.json"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("onshi-rig walks")
    group.addoption(
        "--walk-seed", type=int, default=None, metavar="N",
        help="draw the random walks from seed N (default: derandomised, the same walks "
             "every run)",
    )
    group.addoption(
        "--walk-coverage", metavar="FILE", default=None,
        help=f"write the walks' (state, action) coverage as JSON to FILE (default: "
             f"{WALK_COVERAGE_FILE} in the --evidence folder, else beside --timeline)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(WalkCoverage(config), "onshi-rig-walk-coverage")


@pytest.fixture
def walk_seed(request: pytest.FixtureRequest) -> int | None:
    return request.config.getoption("--walk-seed")


@pytest.fixture
def walk_coverage(request: pytest.FixtureRequest) -> Callable[[dict[str, Any]], None]:
    """``walk_coverage(data)``: one reader's walk coverage, for the coverage file."""
    def keep(data: dict[str, Any]) -> None:
        request.node.user_properties.append((WALK_COVERAGE_PROPERTY, data))

    return keep


class WalkCoverage:
    """Gathers the walk tests' coverage as their reports come, writes it at the end."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.readers: dict[str, dict[str, Any]] = {}
        self.written: Path | None = None

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "call":
            return
        for name, value in report.user_properties:
            if name == WALK_COVERAGE_PROPERTY:
                self.readers[value["reader"]] = value

    def target(self) -> Path | None:
        given = self.config.getoption("--walk-coverage", None)
        if given:
            return Path(given)
        for option, folder_of in (("--evidence", Path), ("--timeline", lambda p: Path(p).parent)):
            value = self.config.getoption(option, None)
            if value:
                return folder_of(value) / WALK_COVERAGE_FILE
        return None

    def summary(self) -> dict[str, Any]:
        readers = dict(sorted(self.readers.items()))
        return {"named": sum(r["named"] for r in readers.values()),
                "reached": sum(r["reached"] for r in readers.values()),
                "steps": sum(r["steps"] for r in readers.values()),
                "seconds": round(sum(r["seconds"] for r in readers.values()), 2),
                "seed": next((r["seed"] for r in readers.values()), None),
                "readers": readers}

    def line(self) -> str:
        data = self.summary()
        per = ", ".join(f"{name} {r['reached']}/{r['named']}"
                        for name, r in data["readers"].items())
        where = f"; {self.written}" if self.written else ""
        return (f"walk coverage: {data['reached']}/{data['named']} (state, action) pairs the "
                f"profiles name reached ({per}); {data['steps']} steps in "
                f"{data['seconds']:g} s{where}")

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if not self.readers or hasattr(self.config, "workerinput"):
            return  # nothing walked, or an xdist worker: the controller writes it
        target = self.target()
        if target is not None:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(self.summary(), ensure_ascii=False, indent=2) + "\n",
                              encoding="utf-8")
            self.written = target
        if self.config.pluginmanager.get_plugin("terminalreporter") is None:
            # certify runs without the terminal plugin; its parts show lines like this one.
            print(f"  {self.line()}", flush=True)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.readers and not hasattr(self.config, "workerinput"):
            terminalreporter.write_line(self.line())
