"""The rig's pytest plugin: ``--bench``, the bench fixtures, maker and requirement markers.

Suites take readers from fixtures and never import ``harness.emulation`` (DESIGN.md
principle 1): the bench file decides what is behind them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import attrs
import pytest

from harness.bench import Bench, BenchReader, default_bench_path
from harness.errors import MissingSystemPart, RigError
from harness.hands import Hands, ManualHands
from harness.loading import load_yaml_model
from harness.model.bench_spec import BenchSpec
from harness.model.profiles import ProfileSet, default_profiles_dir
from harness.model.requirements import ID_PATTERN
from harness.model.verdict import Verdict

if TYPE_CHECKING:
    from harness.vision.evidence import EvidenceStore
    from harness.vision.watcher import ScreenWatcher


GENERAL_PROFILE = "general_readers"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


def missing_part(message: str) -> None:
    """A system part a test needs is absent: skip on a developer's machine, fail in CI."""
    if in_ci():
        pytest.fail(f"{message} (CI=true: a missing system part is a failure)", pytrace=False)
    pytest.skip(message)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("onshi-rig")
    group.addoption(
        "--bench", metavar="FILE", default=None,
        help="bench file to run against (default: the emulated bench)",
    )
    group.addoption(
        "--pcsc", choices=("inprocess", "vpcd"), default=None,
        help="emulated bench: in-process PC/SC or the real pcscd through vpcd",
    )
    group.addoption(
        "--profiles", metavar="DIR", default=None,
        help="folder of vendor profiles the suites hold the readers to (default: vendor_profiles/)",
    )
    group.addoption(
        "--timeline", metavar="FILE", default=None,
        help="write the bench's timeline (APDUs redacted) to FILE as JSON lines at the end",
    )
    group.addoption(
        "--evidence", metavar="DIR", default=None,
        help="keep the camera frames behind each screen decision in DIR (for the reports)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "maker(key): the test is about this maker's readers")
    config.addinivalue_line(
        "markers", "requirement(*ids): requirement IDs (docs/requirements.md) the test proves"
    )
    config.addinivalue_line("markers", "pcscd: needs the real pcscd with the vpcd driver")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        for mark in item.iter_markers("requirement"):
            bad = [i for i in mark.args if not isinstance(i, str) or not ID_PATTERN.match(i)]
            if bad:
                raise pytest.UsageError(f"{item.nodeid}: not requirement IDs: {bad}")


def pytest_runtest_setup(item: pytest.Item) -> None:
    try:
        import allure
    except ImportError:  # allure-pytest is a dependency; stay usable without it
        return
    for mark in item.iter_markers("requirement"):
        for req in mark.args:
            allure.dynamic.tag(req)
    for mark in item.iter_markers("maker"):
        for maker in mark.args:
            allure.dynamic.label("maker", maker)


def _bench_path(config: pytest.Config) -> Path:
    given = config.getoption("--bench")
    return Path(given) if given else default_bench_path()


def bench_spec(config: pytest.Config) -> BenchSpec:
    """The bench file, validated, without opening devices (for parametrising)."""
    try:
        return load_yaml_model(_bench_path(config), BenchSpec, layered=True)
    except RigError as exc:
        raise pytest.UsageError(f"--bench: {exc}") from None


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # One test case per reader of the bench, named after it.
    for fixture, kind in (
        ("face_auth_reader", "face_auth_reader"),
        ("general_reader", "general_reader"),
        ("any_reader", None),
    ):
        if fixture in metafunc.fixturenames:
            spec = bench_spec(metafunc.config)
            names = [r.name for r in spec.readers if kind is None or r.kind == kind]
            metafunc.parametrize(fixture, names, ids=names, indirect=True)


@pytest.fixture(scope="session")
def profiles(request: pytest.FixtureRequest) -> ProfileSet:
    """The profiles of ``--profiles DIR`` (default: the project's)."""
    directory = request.config.getoption("--profiles")
    try:
        return ProfileSet.load(Path(directory) if directory else default_profiles_dir())
    except RigError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def bench(request: pytest.FixtureRequest) -> Iterator[Bench]:
    """The bench of ``--bench``, opened once for the session."""
    config = request.config
    try:
        opened = Bench.load(_bench_path(config), pcsc_service=config.getoption("--pcsc")).open()
    except MissingSystemPart as exc:
        missing_part(str(exc))
    except RigError as exc:
        pytest.fail(f"cannot open the bench: {exc}", pytrace=False)
    yield opened
    target = config.getoption("--timeline")
    if target:
        opened.timeline.write_jsonl(Path(target))
    opened.close()


def _reader(bench: Bench, request: pytest.FixtureRequest) -> BenchReader:
    return bench.reader(request.param)


@pytest.fixture
def face_auth_reader(bench: Bench, request: pytest.FixtureRequest) -> BenchReader:
    return _reader(bench, request)


@pytest.fixture
def general_reader(bench: Bench, request: pytest.FixtureRequest) -> BenchReader:
    return _reader(bench, request)


@pytest.fixture
def any_reader(bench: Bench, request: pytest.FixtureRequest) -> BenchReader:
    return _reader(bench, request)


@pytest.fixture(scope="session")
def evidence(request: pytest.FixtureRequest) -> EvidenceStore | None:
    """Where the frames behind screen decisions are kept (``--evidence DIR``), if asked."""
    from harness.vision.evidence import EvidenceStore

    directory = request.config.getoption("--evidence")
    return EvidenceStore(Path(directory)) if directory else None


@pytest.fixture
def eyes(bench: Bench, evidence: EvidenceStore | None) -> Callable[[str], ScreenWatcher]:
    """``eyes(reader)``: the camera on a face-auth reader's screen with its maker's
    reference screens; states and motion land on the bench's timeline (with the frames
    behind them under ``--evidence DIR``)."""
    watchers: dict[str, ScreenWatcher] = {}

    def get(reader: str) -> ScreenWatcher:
        if reader not in watchers:
            try:
                watchers[reader] = bench.watcher(reader, evidence=evidence)
            except RigError as exc:
                pytest.fail(f"no eyes on {reader}: {exc}", pytrace=False)
        return watchers[reader]

    return get


@pytest.fixture
def judge(request: pytest.FixtureRequest) -> Callable[..., None]:
    """``judge(*verdicts)``: hand the test's verdicts to the certification report and allure,
    then fail the test with their explanations if any did not pass. A suite test decides a
    requirement only through this: a deciding test that passes without a verdict on it
    fails the requirement (fail closed)."""
    from harness.report.certification import VERDICT_PROPERTY

    def hold(*verdicts: Verdict) -> None:
        if not verdicts:
            pytest.fail("judge() was given no verdict", pytrace=False)
        for verdict in verdicts:
            request.node.user_properties.append((VERDICT_PROPERTY, verdict.as_json()))
            _allure_verdict(verdict)
        broken = [v.explain() for v in verdicts if not v.passed]
        if broken:
            pytest.fail("\n".join(broken), pytrace=False)

    return hold


def _allure_verdict(verdict: Verdict) -> None:
    try:
        import allure
    except ImportError:
        return
    import json

    allure.attach(json.dumps(verdict.as_json(), ensure_ascii=False, indent=2),
                  name=f"verdict {verdict.requirement} ({verdict.maker})",
                  attachment_type=allure.attachment_type.JSON)


@pytest.fixture(scope="session")
def hands(bench: Bench) -> Hands:
    """What a person does at the bench: acted on the twins on an emulated bench, asked of
    the operator on a real one. One pair of hands for the session, as one operator."""
    if bench.emulation is not None:
        from harness.emulation.hands import TwinHands

        return TwinHands(bench)
    return ManualHands(bench.clock)


@attrs.frozen
class FlowCase:
    """One flow check of one profile, on one reader of the bench."""

    reader: str
    #: The profile the check is in (a maker, or general_readers) ...
    profile: str
    requirement: str
    check: int
    #: ... the maker whose reader drives it, and the general reader it uses, if any.
    driver_maker: str
    general: str | None = None

    @property
    def id(self) -> str:
        also = f"-also{self.check}" if self.check else ""
        where = self.general or self.reader
        return f"{where}-{self.requirement}{also}"


def _profiles_for_collection() -> ProfileSet:
    try:
        return ProfileSet.load(default_profiles_dir())
    except RigError as exc:
        raise pytest.UsageError(str(exc)) from None


def flow_cases(config: pytest.Config) -> list[FlowCase]:
    """The flow checks of the profiles that apply to the bench's readers."""
    from harness.model.profiles import FlowCheck

    spec, profiles = bench_spec(config), _profiles_for_collection()
    cases: list[FlowCase] = []
    face = [r for r in spec.readers if r.kind == "face_auth_reader" and r.maker in profiles]
    for reader in face:
        for req in profiles[reader.maker].requirements:
            for i, check in enumerate(req.checks):
                if isinstance(check, FlowCheck):
                    cases.append(FlowCase(reader.name, reader.maker, req.id, i, reader.maker))
    # The general readers' own checks: each general reader, paired with the first face-auth
    # reader whose maker pairs one (its profile has a pairing flow).
    host = next((r for r in face if any(
        isinstance(c, FlowCheck) and c.flow == "pairing"
        for req in profiles[r.maker].requirements for c in req.checks)), None)
    generals = [r for r in spec.readers if r.kind == "general_reader"]
    if host is not None and generals:
        for req in profiles.general().requirements:
            for i, check in enumerate(req.checks):
                if isinstance(check, FlowCheck):
                    cases += [FlowCase(host.name, GENERAL_PROFILE, req.id, i, host.maker,
                                       g.name) for g in generals]
    return cases


def requirement_cases(config: pytest.Config, kind: type | tuple[type, ...],
                      readers: str = "face_auth_reader") -> list[object]:
    """``(reader, maker, requirement ID)`` for each reader of the bench of the kind
    ``readers`` and each requirement of its profile (its maker's, or the general readers'
    for general readers) with a check of ``kind``; marked and named."""
    spec, profiles = bench_spec(config), _profiles_for_collection()
    cases: list[object] = []
    for reader in spec.readers:
        if reader.kind != readers:
            continue
        key = reader.maker if readers == "face_auth_reader" else GENERAL_PROFILE
        if readers == "face_auth_reader" and key not in profiles:
            continue
        profile = profiles.general() if key == GENERAL_PROFILE else profiles[key]
        for req in profile.requirements:
            if any(isinstance(c, kind) for c in req.checks):
                cases.append(pytest.param((reader.name, key, req.id),
                                          id=f"{reader.name}-{req.id}",
                                          marks=[pytest.mark.requirement(req.id),
                                                 pytest.mark.maker(key)]))
    return cases
