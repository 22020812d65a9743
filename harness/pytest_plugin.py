"""The rig's pytest plugin: ``--bench``, the bench fixtures, maker and requirement markers.

Suites take readers from fixtures and never import ``harness.emulation`` (DESIGN.md
principle 1): the bench file decides what is behind them.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from harness.bench import Bench, BenchReader, default_bench_path, load_bench_spec
from harness.cases import GENERAL_PROFILE, Case, CaseWith
from harness.errors import BenchFault, DeviceGone, DeviceTimeout, MissingSystemPart, RigError
from harness.hands import Hands
from harness.model.bench_spec import BenchSpec, InjectedFault
from harness.model.profiles import ProfileSet, default_profiles_dir
from harness.model.requirements import ID_PATTERN
from harness.model.verdict import Verdict

if TYPE_CHECKING:
    from harness.vision.evidence import EvidenceStore
    from harness.vision.watcher import ScreenWatcher


__all__ = ["GENERAL_PROFILE", "case_params"]


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
    group.addoption(
        "--wait-for-bench", metavar="SECONDS", default=0.0, type=_wait_seconds,
        help="when another run holds the bench (its labgrid place or a device): wait up "
             "to SECONDS for it (default: stop at once, naming the holder)",
    )


def _wait_seconds(text: str) -> float:
    from harness.bench_lock import wait_seconds

    return wait_seconds(text)  # 0 to a day: never an unbounded wait


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "maker(key): the test is about this maker's readers")
    config.addinivalue_line(
        "markers", "requirement(*ids): requirement IDs (docs/requirements.md) the test proves"
    )
    config.addinivalue_line("markers", "pcscd: needs the real pcscd with the vpcd driver")
    # A bad --profiles is one line before anything is collected (not a collection error).
    directory = config.getoption("--profiles", None)
    if directory:
        try:
            ProfileSet.load(Path(directory))
        except RigError as exc:
            raise pytest.UsageError(f"--profiles: {exc}") from None


def pytest_sessionstart(session: pytest.Session) -> None:
    evidence = session.config.getoption("--evidence")
    if evidence and _allure_on(session.config):  # allure-pytest's writer is registered now
        from harness.report.allure_publish import link_attachments

        link_attachments(Path(evidence))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        for mark in item.iter_markers("requirement"):
            bad = [i for i in mark.args if not isinstance(i, str) or not ID_PATTERN.match(i)]
            if bad:
                raise pytest.UsageError(f"{item.nodeid}: not requirement IDs: {bad}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                              ) -> Iterator[None]:
    """A bench fault (in a fixture or the test) is reported as itself: its one line, no
    traceback, and marked so the certification makes the requirement ``not_run`` with it
    as the reason, not a failure of the reader."""
    report = yield
    fault = call.excinfo.value if call.excinfo is not None else None
    fault = _as_bench_fault(fault)
    # (Only a suite's test decides a requirement: the rig's own tests fail as they fail.)
    error = (_rig_error(call.excinfo) if report.failed and fault is not None
             and item.get_closest_marker("requirement") is not None else None)
    if error is not None or (isinstance(fault, BenchFault) and report.failed):
        if error is None:
            item.stash[_FAULT_MET] = True  # the bench file's fault, if one is due, was met
        from harness.report.certification import BENCH_FAULT_PROPERTY

        stopped = error or fault
        report.user_properties = [*report.user_properties, (BENCH_FAULT_PROPERTY, str(stopped))]
        report.longrepr = str(stopped) if error is None else f"{stopped}\n{report.longrepr}"
    return report


#: Exceptions that are a verdict (judge's pytest.fail, an assert of a suite), what a device
#: did (a bounded wait on it ran out, it went away: the reader under test's doing, judged
#: against it as before), or pytest's own (skip, exit): a test stopped by any other that is
#: not a bench fault stopped on an error of the rig's own.
_NOT_RIG_ERRORS = (AssertionError, BenchFault, DeviceTimeout, DeviceGone, pytest.fail.Exception,
                   pytest.skip.Exception, pytest.exit.Exception, pytest.xfail.Exception,
                   KeyboardInterrupt, SystemExit)


def _rig_error(excinfo: pytest.ExceptionInfo[BaseException] | None) -> BenchFault | None:
    """The rig failed (a bug, a set-up it did not foresee: a bare StopIteration, a
    termios.error): not a verdict, so never a failure of the maker. The test's requirements
    are not run with the error and where it rose as the reason (``rig.error``)."""
    if excinfo is None or isinstance(excinfo.value, _NOT_RIG_ERRORS):
        return None
    from harness.devices.camera import CameraUnavailable

    if isinstance(excinfo.value, CameraUnavailable):
        return None
    error = excinfo.value
    # Where it rose: the innermost line of the rig's own code (else the innermost at all).
    entries = list(excinfo.traceback)
    ours = [e for e in entries if {"harness", "suites"} & set(Path(str(e.path)).parts)]
    entry = (ours or entries or [None])[-1]
    where = "" if entry is None else \
        f" at {Path(*Path(str(entry.path)).parts[-2:])}:{entry.lineno + 1}"
    text = str(error).splitlines()[0] if str(error).strip() else ""
    name = type(error).__module__ + "." + type(error).__qualname__ \
        if type(error).__module__ not in ("builtins", "") else type(error).__qualname__
    return BenchFault("rig.error", "the rig", f"stopped on its own error, not a verdict: "
                      f"{name}{': ' + text if text else ''}{where}")


def _as_bench_fault(error: BaseException | None) -> BaseException | None:
    """A camera of the bench that cannot be opened at all is the bench's fault, as one that
    stops is (``camera.stopped``): never the reader under test failing."""
    from harness.devices.camera import CameraUnavailable

    if isinstance(error, CameraUnavailable):
        return BenchFault("camera.unavailable", error.source, str(error).splitlines()[0])
    return error


#: A bench fault stopped the test (any phase): a fault the bench file injected was noticed.
_FAULT_MET = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    """Once the setup is over (a failed one too), the test's allure labels, title and
    description (harness/report/allure_results.py): allure-pytest sets its own title and
    description at the end of the setup, so they go in after it."""
    try:
        return (yield)
    finally:
        if _allure_on(item.config):
            _allure_labels(item)


def _allure_on(config: pytest.Config) -> bool:
    from harness.report.allure_publish import allure_active

    return allure_active(config)


def _allure_profiles(config: pytest.Config) -> ProfileSet | None:
    """The run's profiles, read once for allure (None: unreadable, the tests say why)."""
    if _ALLURE_PROFILES not in config.stash:
        directory = config.getoption("--profiles")
        try:
            config.stash[_ALLURE_PROFILES] = ProfileSet.load(
                Path(directory) if directory else default_profiles_dir())
        except RigError:
            config.stash[_ALLURE_PROFILES] = None
    return config.stash[_ALLURE_PROFILES]


_ALLURE_PROFILES = pytest.StashKey[ProfileSet | None]()
#: Bench time when a test's call began (its APDUs, for a verdict without a span).
_CALL_T = pytest.StashKey[float]()


def _about(item: pytest.Item) -> tuple[list[str], list[str], str | None]:
    """A test's requirement IDs, makers (profile keys) and the reader it is about."""
    reqs = list(dict.fromkeys(r for m in item.iter_markers("requirement") for r in m.args))
    makers = [k for m in item.iter_markers("maker") for k in m.args]
    callspec = getattr(item, "callspec", None)
    params = callspec.params if callspec is not None else {}
    subject = next((v.general or v.reader for v in params.values() if isinstance(v, Case)),
                   None)
    for name in ("face_auth_reader", "general_reader", "any_reader"):
        if name in params:
            subject = params[name]
            try:
                spec = bench_spec(item.config)
            except pytest.UsageError:
                continue
            makers += [r.maker if r.kind == "face_auth_reader" else GENERAL_PROFILE
                       for r in spec.readers if r.name == subject]
    return reqs, list(dict.fromkeys(makers)), subject


def _allure_labels(item: pytest.Item) -> None:
    from harness.report.allure_publish import publish_labels
    from harness.report.allure_results import describe_test

    profiles = _allure_profiles(item.config)
    if profiles is None:
        return
    reqs, makers, subject = _about(item)
    callspec = getattr(item, "callspec", None)
    # A case by its id (its repr is long and says less).
    cases = {name: value.id for name, value in (callspec.params if callspec else {}).items()
             if isinstance(value, Case)}
    publish_labels(item, describe_test(profiles, makers, reqs, subject, item.name), cases)


def pytest_runtest_call(item: pytest.Item) -> None:
    bench = getattr(item, "funcargs", {}).get("bench")
    if bench is not None and _allure_on(item.config):
        item.stash[_CALL_T] = bench.clock.now()


def _bench_path(config: pytest.Config) -> Path:
    given = config.getoption("--bench")
    return Path(given) if given else default_bench_path()


def bench_spec(config: pytest.Config) -> BenchSpec:
    """The bench file, validated, without opening devices (for parametrising)."""
    try:
        return load_bench_spec(_bench_path(config))
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
    from harness.bench_lock import BenchHeld, hold_bench

    config = request.config
    with contextlib.ExitStack() as held:
        try:
            # Its labgrid place and devices first (harness.bench_lock), for the session.
            held.enter_context(hold_bench(_bench_path(config), say=_say(config),
                                          wait_s=config.getoption("--wait-for-bench")))
            opened = Bench.load(_bench_path(config),
                                pcsc_service=config.getoption("--pcsc")).open()
        except BenchHeld as exc:
            pytest.exit(f"cannot open the bench: {exc}", returncode=2)
        except MissingSystemPart as exc:
            missing_part(str(exc))
        except RigError as exc:
            # A bench that cannot be opened (a relay port gone, a camera not there) is the
            # bench's fault: every test not run for it, never failed against the makers.
            raise BenchFault("bench.unavailable", _bench_path(config).name,
                             f"cannot open the bench: {exc}") from None
        yield opened
        target = config.getoption("--timeline")
        if target:
            opened.timeline.write_jsonl(Path(target))
        opened.close()


def _say(config: pytest.Config) -> Callable[[str], None]:
    """A line to the person running pytest (past its capture)."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")

    def say(line: str) -> None:
        if reporter is not None:
            reporter.write_line(line)
        else:
            print(line, file=sys.stderr, flush=True)

    return say


@pytest.fixture(autouse=True)
def _bench_faults(request: pytest.FixtureRequest) -> Iterator[None]:
    """The bench file's ``faults:`` injected during the tests they name (the first whose
    node id contains ``during``), cleared after it: the run must name each, bound it and go
    on with the next test."""
    if "bench" not in request.fixturenames:
        yield
        return
    due = _faults_due(request.session).get(request.node.nodeid, [])
    if not due:
        yield
        return
    bench: Bench = request.getfixturevalue("bench")
    try:
        for fault in due:
            bench.faults.inject(fault.fault, fault.target, after_s=fault.after_s)
    except RigError as exc:
        # The bench file's fault cannot be injected on this bench: the bench's (its file's)
        # fault, never the reader under test failing.
        bench.faults.clear()
        if isinstance(exc, BenchFault):
            raise
        raise BenchFault("fault.uninjected", fault.target or fault.fault,
                         f"{fault.fault} could not be injected: {exc}") from None
    yield
    struck = bench.faults.active()
    unstruck = bench.faults.clear()
    if unstruck:
        # Asked for and never struck (its after_s past the test's end, or refused when
        # due): the run cannot show it notices that fault, so the test does not count.
        kinds = ", ".join(f"{kind} on {target}" for kind, target in unstruck)
        raise BenchFault("fault.unstruck", unstruck[0][1],
                         f"the bench file's fault {kinds} never struck: the test ended "
                         "before its after_s, or the bench refused it when due")
    if struck and not request.node.stash.get(_FAULT_MET, False):
        # Struck, and the test ended with no bench fault named: the rig did not notice it
        # (or the test never looked at the part it struck). Not a pass either way.
        kinds = ", ".join(f"{kind} on {target}" for kind, target in struck)
        raise BenchFault("fault.unnoticed", struck[0][1],
                         f"the bench file's fault {kinds} struck and the test ended without "
                         "naming it (does the test look at that part of the bench?)")


def _faults_due(session: pytest.Session) -> dict[str, list[InjectedFault]]:
    """Node id -> the bench file's faults due in that test: each in the first test of the
    run's collection (the suites' order, after deselection) whose node id contains its
    ``during`` and that uses the bench. Decided from the whole collection, never from the
    tests a process happens to run: with ``certify --jobs N`` every pytest-xdist worker
    collects the same tests and runs only some makers' (in its own order), and a fault
    taken by "the first test this process runs" struck once per worker whose makers had a
    match (twice for ``during: E901-01`` on two workers), where the bench file means once."""
    due: dict[str, list[InjectedFault]] | None = session.config.stash.get(_FAULTS_DUE, None)
    if due is None:
        due = {}
        for fault in bench_spec(session.config).faults:
            first = next((item.nodeid for item in session.items
                          if fault.during in item.nodeid
                          and "bench" in getattr(item, "fixturenames", ())), None)
            if first is not None:
                due.setdefault(first, []).append(fault)
        session.config.stash[_FAULTS_DUE] = due
    return due


#: Node id -> the bench file's faults due in that test (:func:`_faults_due`).
_FAULTS_DUE = pytest.StashKey[dict]()


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
            except BenchFault:
                raise
            except RigError as exc:
                # The bench's eyes, not the reader: not run with the reason, never failed.
                raise BenchFault("camera.unavailable", reader,
                                 f"no eyes on it: {exc}") from None
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
        if _allure_on(request.config):
            _allure_verdicts(request, verdicts)
        broken = [v.explain() for v in verdicts if not v.passed]
        if broken:
            pytest.fail("\n".join(broken), pytrace=False)

    return hold


def _allure_verdicts(request: pytest.FixtureRequest, verdicts: tuple[Verdict, ...]) -> None:
    """The verdicts' steps and evidence in allure (harness/report/allure_results.py)."""
    from harness.report.allure_publish import publish_verdicts

    profiles = _allure_profiles(request.config)
    if "bench" not in request.fixturenames or profiles is None:
        return
    bench: Bench = request.getfixturevalue("bench")
    store = request.config.getoption("--evidence")
    publish_verdicts(verdicts, bench, profiles, Path(store) if store else None,
                     request.node.stash.get(_CALL_T, None))


@pytest.fixture(scope="session")
def hands(bench: Bench) -> Hands:
    """What a person does at the bench: acted on the twins on an emulated bench, asked of
    the operator on a real one; the bench file's robot presses the buttons and moves the
    card where it reaches (harness.robot_hands). One pair of hands for the session, as one
    operator."""
    from harness.robot_hands import bench_hands

    try:
        return bench_hands(bench)
    except RigError as exc:
        pytest.fail(f"operator.script: {exc}", pytrace=False)


def case_params(config: pytest.Config, make: Callable[..., Sequence[Case | CaseWith]],
                *args: object, **kwargs: object) -> list[object]:
    """The cases ``make(spec, profiles, *args, **kwargs)`` gives for the bench of ``--bench``
    and the profiles of ``--profiles`` (a case generator of :mod:`harness.cases`), as
    marked and named pytest parameters; a case given with a value and an id suffix
    (:data:`~harness.cases.CaseWith`) is a parameter of two values."""
    directory = config.getoption("--profiles")
    try:
        profiles = ProfileSet.load(Path(directory) if directory else default_profiles_dir())
    except RigError as exc:
        raise pytest.UsageError(f"--profiles: {exc}") from None
    return [item.param() if isinstance(item, Case) else item[0].param(item[1], suffix=item[2])
            for item in make(bench_spec(config), profiles, *args, **kwargs)]
