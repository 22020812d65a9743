"""Model-based: random walks on each face-auth reader, judged by the maker's own profile.

Patients and staff act on the reader in random orders (cards in and out, faces, PINs,
consents, the staff and smartphone buttons, passcodes, phones, waits), in each world the
profile's checks need (a passcode issued or not, a general reader paired, ...), the reader
looked at after every action (``harness/flows/walk.py``). The walks are judged by every rule
of the profile's flow checks that holds wherever a visit goes (``harness/model/walk_rules.py``:
the card-out's return to the first screen, PIN by PIN, screens a flow must never show, what
an action must not bring, the staff and smartphone buttons' presence, the order of a flow's
screens where an action brings the next), and every screen must be one the maker's
references know, of a class its flows name.

The test is marked with the requirements whose rules the walks judge and hands one verdict
per requirement: failed with the walk shrunk to the fewest actions that still break it and
the screens they brought; an error when no walk tried one of its rules. The (state, action)
pairs the profile names that the walks reached go to the walk coverage file
(``suites/conftest.py``). The walks are derandomised: the same walks every run;
``--walk-seed N`` draws others.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from harness.bench import Bench
from harness.cases import Case, walk_cases
from harness.flows.walk import Budget, walk_reader
from harness.hands import Hands
from harness.model.profiles import Profile, ProfileSet
from harness.model.walk_rules import WalkPlan, coverage, walk_verdicts
from harness.pytest_plugin import case_params


def _judged(profile: Profile) -> tuple[str, ...]:
    return tuple(WalkPlan.of(profile).requirements)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "walk_case" in metafunc.fixturenames:
        metafunc.parametrize("walk_case", case_params(metafunc.config, walk_cases, _judged))


def test_random_walks_follow_the_profile(walk_case: Case, bench: Bench,
                                        hands: Hands, profiles: ProfileSet,
                                        judge: Callable[..., None], walk_seed: int | None,
                                        walk_coverage: Callable[[dict], None],
                                        request: pytest.FixtureRequest) -> None:
    reader, maker = walk_case.reader, walk_case.profile
    marked = [req for mark in request.node.iter_markers("requirement") for req in mark.args]
    # On a real bench every step is the operator's: the steered walks only.
    budget = Budget() if bench.emulated else Budget(random_walks=0)
    report = walk_reader(bench, hands, reader, profiles[maker], seed=walk_seed, budget=budget)
    walk_coverage({"reader": reader, "seed": walk_seed, "seconds": round(report.seconds, 2),
                   **coverage(report.plan, report.judgement)})
    bench_file = request.config.getoption("--bench")
    replay = report.replay_hint(reader, f"--bench {bench_file}" if bench_file else "")
    judge(*walk_verdicts(report.plan, report.judgement, reader, marked, shrunk=report.shrunk,
                         replay=replay))
