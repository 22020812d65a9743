"""Shared helpers for the tests that drive a flow on a bench and judge it with the profiles:
a bench opened (a file of fixtures/benches/, or the default bench with the deviations a test
writes), a flow run by harness.flows.run_flow, and every check the maker's profile makes of
that flow judged on the record."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from harness.bench import Bench
from harness.emulation.hands import TwinHands
from harness.flows import run_flow
from harness.flows.drivers import Plan
from harness.model.flow_rules import check_flow
from harness.model.observed import FlowRecord
from harness.model.profiles import FlowCheck, ProfileSet, default_profiles_dir, run_key

BENCHES = Path(__file__).resolve().parents[1] / "fixtures" / "benches"
DEFAULT_BENCH = BENCHES / "emulated.yaml"
#: A flow and its givens, as the profiles' checks name them.
Flow = tuple[str, tuple[str, ...]]
#: Requirement -> the problems its checks of one flow found (empty: it held).
Judged = dict[str, list[str]]


def load_profiles() -> ProfileSet:
    return ProfileSet.load(default_profiles_dir())


def open_bench(path: Path) -> Iterator[Bench]:
    """The bench opened, and closed once the caller is done (``yield from`` it in a
    fixture, or loop over it)."""
    bench = Bench.load(path).open()
    try:
        yield bench
    finally:
        bench.close()


def deviant_bench_file(folder: Path, name: str, *,
                       readers: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
                       terminal: Mapping[str, Any] | None = None) -> Path:
    """A bench file in ``folder`` deriving from the default bench: ``readers`` maps a
    reader's name to its ``deviations``; ``terminal`` is merged into the terminal's section
    (``deviations``, ``upgrade``, ``monitorless``). The base's twins are found relative to
    the base, wherever this file is."""
    data: dict[str, Any] = {"base": str(DEFAULT_BENCH), "bench": name}
    if readers:
        data["readers"] = [{"name": reader, "deviations": [dict(d) for d in deviations]}
                           for reader, deviations in readers.items()]
    if terminal:
        data["terminal"] = dict(terminal)
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False),
                    encoding="utf-8")
    return path


def judge(profiles: ProfileSet, maker: str, record: FlowRecord, flow: Flow,
          baselines: Mapping[Flow, FlowRecord] | None = None) -> Judged:
    """Every check of the maker's profile that names ``flow`` judged on ``record`` (and a
    ``screens_as`` check on the record of the flow it names, from ``baselines``)."""
    out: Judged = {}
    for req in profiles[maker].requirements:
        for check in req.checks:
            if isinstance(check, FlowCheck) and check.flow == flow[0] \
                    and run_key(check.given) == run_key(flow[1]):
                other = check.screens_as
                baseline = (None if other is None else
                            (baselines or {}).get((other.flow, tuple(other.given))))
                out.setdefault(req.id, []).extend(check_flow(check, record, baseline))
    return out


def run_judged(bench: Bench, profiles: ProfileSet, reader: str,
               flow: Flow) -> tuple[FlowRecord, Judged]:
    """``flow`` driven on ``reader`` as its maker's profile plans it, and judged."""
    maker = bench.reader(reader).maker
    record = run_flow(bench, TwinHands(bench), reader, Plan.of(profiles[maker], *flow))
    # A check comparing its path with another flow's (screens_as) is judged on that one too.
    others = {(c.screens_as.flow, tuple(c.screens_as.given))
              for c in profiles[maker].flow_checks(*flow) if c.screens_as is not None}
    baselines = {other: run_flow(bench, TwinHands(bench), reader,
                                 Plan.of(profiles[maker], *other)) for other in others}
    return record, judge(profiles, maker, record, flow, baselines)


def failed(judged: Judged) -> set[str]:
    """The requirements that did not hold."""
    return {req for req, problems in judged.items() if problems}


def deviation(change: str, to: Any, why: str) -> dict[str, Any]:
    """One ``deviations`` entry of a bench file."""
    return {"change": change, "to": to, "why": why}


def assert_fails_exactly(judged: Judged, fails: Mapping[str, str]) -> None:
    """Exactly the requirements of ``fails`` did not hold, each with a problem containing
    its fragment (what was expected and seen, not just a failure)."""
    assert failed(judged) == set(fails), judged
    for requirement, why in fails.items():
        assert any(why in p for p in judged[requirement]), judged[requirement]


def certify_suite_text(folder: Path, name: str, text: str) -> tuple[int, Any, Any]:
    """A suite's ``text`` written to ``folder/name`` and run in this process under a
    certification's collector, for canon on the default bench: (pytest's exit code, the
    bench spec, the collector). Each test gives its own module ``name``: pytest imports a
    module of one name once per worker."""
    import pytest

    from harness.bench import default_bench_path
    from harness.loading import load_yaml_model
    from harness.model.bench_spec import BenchSpec
    from harness.report.certification import CertificationCollector

    (folder / name).write_text(text, encoding="utf-8")
    spec = load_yaml_model(default_bench_path(), BenchSpec, layered=True)
    collector = CertificationCollector(spec, {"canon"})
    code = pytest.main([str(folder / name), "-p", "no:cacheprovider", "-q",
                        "--rootdir", str(folder)], plugins=[collector])
    return code, spec, collector
