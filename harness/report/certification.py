"""The certification report: requirement by requirement, maker by maker, what passed.

A pytest plugin (:class:`CertificationCollector`) records, for every suite test, the
requirement IDs it is marked with, the maker(s) it is about (from the reader it ran on or its
``maker`` mark), its outcome and the verdicts it handed to the ``judge`` fixture.
:func:`build_report` then sets these against the profiles: each requirement that applies to
a maker on the bench is ``passed`` (covered, and every deciding test passed with a passing
verdict on it), ``failed`` (a verdict failed, a test failed or errored, a test passed without
a verdict, or no test covers it: coverage is enforced) or ``not_run`` (its tests were skipped
or deselected, the run stopped before them, or a bench fault stopped them before they judged
it: the fault is the reason, and the report's ``bench_faults`` lists them; a test that did
not meet the bench file's own fault, :data:`UNMET_FAULTS`, decides nothing). A row carries
its verdicts (expected, seen, evidence), never an assertion message scraped from a passing
test.

While the run goes (and when it was interrupted) the report is built the same way from the
tests finished so far: a test not run yet leaves its requirements ``not_run`` with the reason
``pending`` (harness/report/live.py writes it after every test).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

import attrs
import pytest

from harness.model.bench_spec import BenchSpec
from harness.model.profiles import ProfileSet
from harness.model.verdict import Verdict

#: The ``user_properties`` key a test's verdicts travel under (xdist and parts included).
VERDICT_PROPERTY = "onshi_rig.verdict"
#: ... and the bench fault that stopped it (harness.errors.BenchFault; the pytest plugin).
BENCH_FAULT_PROPERTY = "onshi_rig.bench_fault"
#: ... and each step a person (or the scripted operator) did in it (:func:`operator_steps`).
OPERATOR_PROPERTY = "onshi_rig.operator"

GENERAL = "general_readers"
#: Why a test the pytest options given to certify (after ``--``) deselected did not run.
DESELECTED = "not run: deselected by the pytest options given after --"


@attrs.define
class TestRecord:
    __test__ = False  # not a test class, though pytest would collect it by its name

    nodeid: str
    requirements: tuple[str, ...]
    makers: tuple[str, ...]
    #: passed | failed | bench_fault | skipped | not_run. A bench fault leaves what the test
    #: had not judged yet ``not_run`` with the fault as the reason (never ``failed``).
    outcome: str = "not_run"
    reason: str = ""
    verdicts: list[Verdict] = attrs.Factory(list)
    #: The steps a person (or the scripted operator) did in this test (operator_steps).
    operator: list[dict[str, Any]] = attrs.Factory(list)
    #: Where its evidence lies, under the run folder: "" (the folder itself),
    #: ``worker-gwN`` (the pytest-xdist worker that ran it: harness/report/workers.py),
    #: ``earlier-N[/...]`` (kept from before a ``--resume``).
    folder: str = ""
    #: Wall seconds its phases took (setup, call, teardown): a later run plans its workers
    #: by them (harness.report.plan).
    seconds: float = 0.0

    def as_json(self) -> dict[str, Any]:
        """The record as the report keeps it (``--resume`` reads it back)."""
        return {"requirements": list(self.requirements), "makers": list(self.makers),
                "outcome": self.outcome, **({"reason": self.reason} if self.reason else {}),
                **({"folder": self.folder} if self.folder else {}),
                **({"seconds": round(self.seconds, 3)} if self.seconds else {}),
                "verdicts": [v.as_json() for v in self.verdicts]}

    @classmethod
    def from_json(cls, nodeid: str, data: dict[str, Any]) -> TestRecord:
        return cls(nodeid, tuple(data["requirements"]), tuple(data["makers"]),
                   data["outcome"], data.get("reason", ""),
                   [Verdict.from_json(v) for v in data["verdicts"]],
                   folder=data.get("folder", ""), seconds=float(data.get("seconds", 0.0)))

    def verdicts_on(self, requirement: str, maker: str) -> list[Verdict]:
        return [v for v in self.verdicts if v.requirement == requirement and v.maker == maker]


def _short_reason(report: pytest.TestReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    text = crash.message if crash is not None else str(report.longrepr)
    # The first line whole: a verdict's explanation is one line, and a cut one misleads.
    return text.strip().splitlines()[0] if text.strip() else "failed"


class CertificationCollector:
    """Collects suite tests and their outcomes, keyed by node id."""

    def __init__(self, spec: BenchSpec, makers: set[str] | None = None,
                 progress: Any = None, kept: dict[str, TestRecord] | None = None,
                 written: Path | None = None) -> None:
        self.spec = spec
        #: In a pytest-xdist worker: where it writes what it collected, for the controller
        #: (harness/report/workers.py), whose collector gets it with :meth:`load_collection`.
        self.written = written
        self.only = makers
        self.progress = progress
        #: ``--resume``: the tests an earlier run of the folder decided, not run again; in
        #: every report from the first (a resume stopped before its collection keeps them).
        self.kept = kept or {}
        self.tests: dict[str, TestRecord] = dict(self.kept)
        #: The suites were collected: from then on, a requirement no test covers fails.
        self.collected = False
        self._operator_seen = 0  # the bench's timeline events read so far
        self._operator_timeline: object = None
        self._under_way: pytest.Item | None = None
        self._reader_maker = {r.name: (r.maker if r.kind == "face_auth_reader" else GENERAL)
                              for r in spec.readers}

    def _makers_of(self, item: pytest.Item) -> tuple[str, ...]:
        makers: list[str] = []
        for mark in item.iter_markers("maker"):
            makers += list(mark.args)
        callspec = getattr(item, "callspec", None)
        for name in ("face_auth_reader", "general_reader", "any_reader"):
            reader = callspec.params.get(name) if callspec else None
            if reader in self._reader_maker:
                makers.append(self._reader_maker[reader])
        return tuple(dict.fromkeys(makers))

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, config: pytest.Config,
                                      items: list[pytest.Item]) -> None:
        kept, dropped = [], []
        for item in items:
            reqs = tuple(r for m in item.iter_markers("requirement") for r in m.args)
            makers = self._makers_of(item)
            record = TestRecord(item.nodeid, reqs, makers)
            self.tests[item.nodeid] = record
            if self.only is not None and makers and not set(makers) & self.only:
                dropped.append(item)
            elif item.nodeid in self.kept:
                self.tests[item.nodeid] = self.kept[item.nodeid]
                dropped.append(item)
            else:
                kept.append(item)
        if dropped:
            config.hook.pytest_deselected(items=dropped)
            items[:] = kept
        self.collected = True

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        # pytest's own options (certify -- -k/-m/--deselect) deselect before the trylast
        # hook above sees the items: kept as not run, so what only they decide is
        # ``not_run`` for that reason, never "no test covers it" nor a pass.
        for item in items:
            if item.nodeid not in self.tests:
                reqs = tuple(r for m in item.iter_markers("requirement") for r in m.args)
                self.tests[item.nodeid] = TestRecord(item.nodeid, reqs, self._makers_of(item),
                                                     reason=DESELECTED)

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if self.written is not None:
            from harness.report.live import write_json

            write_json(self.written, {"tests": {n: t.as_json() for n, t in self.tests.items()}})

    def load_collection(self, tests: dict[str, Any]) -> None:
        """What a pytest-xdist worker collected (:meth:`pytest_collection_finish`): the
        controller runs no collection of its own."""
        for nodeid, data in tests.items():
            self.tests.setdefault(nodeid, TestRecord.from_json(nodeid, data))
        self.collected = True

    def pytest_runtest_makereport(self, item: pytest.Item) -> None:
        # The operator's steps are on the bench's timeline; each phase takes the new ones,
        # onto the test's properties (they reach a pytest-xdist controller with its report).
        bench = (getattr(item, "funcargs", None) or {}).get("bench")
        if bench is None:
            return
        if bench.timeline is not self._operator_timeline:  # another bench: from its start
            self._operator_timeline, self._operator_seen = bench.timeline, 0
        self._take_steps(item)

    def _take_steps(self, item: pytest.Item, *, stopped: bool = False) -> None:
        """The operator's steps on the bench's timeline since the last look, onto the
        test's properties; ``stopped`` (the run stopped in the test): the step asked and
        not answered yet too."""
        timeline: Any = self._operator_timeline
        recorded = len(timeline)
        events = timeline.events(source="operator", start=self._operator_seen, stop=recorded)
        steps = operator_steps(events, item.nodeid)
        if stopped:
            steps += step_under_way(events, item.nodeid, timeline.clock.now())
        item.user_properties += [(OPERATOR_PROPERTY, step) for step in steps]
        self._operator_seen = recorded

    def pytest_runtest_protocol(self, item: pytest.Item) -> None:
        self._under_way = item  # the test running now: its steps, should the run stop in it

    def pytest_runtest_logfinish(self) -> None:
        self._under_way = None

    def pytest_sessionfinish(self) -> None:
        """A run stopped in the middle of a test (Ctrl-C, a signal) reports no teardown for
        it: the steps a person did in it (a restore done) are taken here, into the record."""
        item, self._under_way = self._under_way, None
        record = self.tests.get(item.nodeid) if item is not None else None
        if item is None or record is None or self._operator_timeline is None:
            return
        # (Its fixtures are gone by now: the bench's timeline as its setup reported it.)
        self._take_steps(item, stopped=True)
        record.operator = [value for name, value in item.user_properties
                           if name == OPERATOR_PROPERTY]

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        record = self.tests.get(report.nodeid)
        if record is None:
            return
        worker = getattr(report, "node", None)  # a pytest-xdist worker's report
        if worker is not None:
            from harness.report.workers import worker_folder

            record.folder = worker_folder(worker.gateway.id)
        record.seconds += max(0.0, float(getattr(report, "duration", 0.0) or 0.0))
        record.verdicts += [Verdict.from_json(value) for name, value in report.user_properties
                            if name == VERDICT_PROPERTY and report.when == "call"]
        if report.when == "teardown":  # the test's properties, all phases'
            record.operator = [value for name, value in report.user_properties
                               if name == OPERATOR_PROPERTY]
        faults = [value for name, value in report.user_properties
                  if name == BENCH_FAULT_PROPERTY]
        if report.failed and faults:
            record.outcome, record.reason = "bench_fault", str(faults[-1])
        elif report.failed and record.outcome != "bench_fault":
            # (A teardown failing after a bench fault is the fault's, not the reader's.)
            record.outcome, record.reason = "failed", _short_reason(report)
        elif report.skipped and record.outcome != "failed":
            record.outcome = "skipped"
            record.reason = str(report.longrepr[-1]) if isinstance(report.longrepr, tuple) \
                else "skipped"
        elif report.when == "call" and report.passed and record.outcome == "not_run":
            record.outcome = "passed"
        # (xdist reports a test whose worker died as one report of its own.)
        if report.when not in ("setup", "call") and self.progress is not None:
            self.progress(record)


#: How an operator step ended, by the timeline event that ends it.
OPERATOR_ENDS = {"operator.answered": "answered", "operator.refused": "refused",
                 "operator.timeout": "timeout", "operator.failed": "failed",
                 "operator.unclear": "unclear"}


def operator_steps(events: list[Any], test: str) -> list[dict[str, Any]]:
    """The steps that needed a person: who answered, what, when (bench time), how it
    ended and how long they took (already redacted on the timeline)."""
    return [{"test": test, "who": e.data.get("by", "operator"), "what": e.data.get("what"),
             "at": round(e.t, 3), "outcome": OPERATOR_ENDS[e.kind],
             **({"seconds": e.data["seconds"]} if "seconds" in e.data else {}),
             **({"reason": e.data["reason"]} if "reason" in e.data else {})}
            for e in events if e.kind in OPERATOR_ENDS]


def step_under_way(events: list[Any], test: str, now: float) -> list[dict[str, Any]]:
    """The step a person was asked and had not answered when the run stopped (half-way
    through a disk-image restore: what a lab must know before ``--resume`` asks it again):
    ``interrupted``, with the seconds it had taken so far (bench time)."""
    asked = [e for e in events if e.kind == "operator.asked" or e.kind in OPERATOR_ENDS]
    if not asked or asked[-1].kind != "operator.asked":
        return []
    last = asked[-1]
    return [{"test": test, "who": last.data.get("by", "operator"), "what": last.data.get("what"),
             "at": round(last.t, 3), "outcome": "interrupted",
             "seconds": round(max(0.0, now - last.t), 3)}]


def applicable(profiles: ProfileSet, spec: BenchSpec,
               only: set[str] | None = None) -> dict[str, list[str]]:
    """Maker (or ``general_readers``) -> the requirement IDs that apply on this bench."""
    makers = [r.maker for r in spec.readers if r.kind == "face_auth_reader"]
    out: dict[str, list[str]] = {}
    for maker in dict.fromkeys(makers):
        if only is not None and maker not in only:
            continue
        profile = profiles.profiles.get(maker)
        if profile is not None:
            out[maker] = [r.id for r in profile.requirements]
    if any(r.kind == "general_reader" for r in spec.readers) and (only is None or GENERAL in only):
        out[GENERAL] = [r.id for r in profiles.general().requirements]
    return out


#: Bench faults about the bench file's own ``faults:`` (harness/pytest_plugin.py): the
#: test did not meet the fault it was there to meet.
UNMET_FAULTS = ("fault.unstruck", "fault.unnoticed", "fault.uninjected")


def unmet_fault(test: TestRecord) -> bool:
    """The test stopped on one of :data:`UNMET_FAULTS`."""
    return test.outcome == "bench_fault" and any(
        test.reason.startswith(f"bench fault ({kind})") for kind in UNMET_FAULTS)


def _decide(req: str, maker: str, deciding: list[TestRecord], pending: str = "not_run"
            ) -> tuple[str, list[str], list[Verdict]]:
    """A requirement's status from its deciding tests and their verdicts, failing closed;
    ``pending``: why a test that never ran did not."""
    if not deciding:
        return "failed", ["no test covers this requirement"], []
    unmet = [t for t in deciding if unmet_fault(t)]
    # A test that did not run as the bench file asked (its fault never struck, or struck
    # unnoticed, or could not be injected) decides nothing: its verdicts were not judged
    # under the fault it was there to meet, so they neither pass nor fail the maker.
    deciding = [t for t in deciding if t not in unmet]
    verdicts = [v for t in deciding for v in t.verdicts_on(req, maker)]
    reasons = [f"{v.subject}: " + "; ".join(v.problems) for v in verdicts if not v.passed]
    for t in deciding:
        if t.outcome == "failed" and not t.verdicts_on(req, maker):
            # Failed before (or without) judging this requirement: a bench fault or an error.
            # (A test that judged it failed for another verdict: this one stands.)
            reasons.append(f"{t.nodeid}: {t.reason}")
        elif t.outcome == "passed" and not t.verdicts_on(req, maker):
            reasons.append(f"{t.nodeid}: passed without a verdict on {req} for {maker}")
    if reasons:
        return "failed", reasons, verdicts
    if unmet:
        return "not_run", [f"{t.nodeid}: {t.reason}" for t in unmet] + [
            f"{t.nodeid}: {t.reason or (pending if t.outcome == 'not_run' else t.outcome)}"
            for t in deciding if t.outcome != "passed" and not t.verdicts_on(req, maker)
        ], verdicts
    if all(t.outcome == "passed" or t.verdicts_on(req, maker) for t in deciding):
        return "passed", [], verdicts
    return "not_run", [f"{t.nodeid}: {t.reason or (pending if t.outcome == 'not_run' else t.outcome)}"
                       for t in deciding if t.outcome != "passed"], verdicts


def _verdict_json(verdict: Verdict, deciding: list[TestRecord]) -> dict[str, Any]:
    """A row's verdict; with ``folder`` when its evidence is not in the run folder itself
    (kept from before a ``--resume``)."""
    out = verdict.as_json()
    folder = next((t.folder for t in deciding if t.folder and verdict in t.verdicts), "")
    if folder:
        out["folder"] = folder
    return out


def bench_info(bench_path: Path, spec: BenchSpec) -> dict[str, Any]:
    """The bench as the report names it; ``loads``: a digest of each file the bench file
    is made of or names (its base files, twins, calibrations, script), for ``--resume``,
    with the digest's algorithm named (``loads_digest``: not the SHA-256 of ``sha256``).
    ``file`` is the path as given (read back by tools); ``file_shown`` is what a person
    reads (no absolute path of the certifying host)."""
    from harness.loading import STAMP_DIGEST
    from harness.report.provenance import shown_path

    return {"file": str(bench_path), "file_shown": shown_path(bench_path),
            "name": spec.bench, "kind": spec.kind,
            "sha256": hashlib.sha256(bench_path.read_bytes()).hexdigest(),
            "loads": bench_loads(bench_path, spec), "loads_digest": STAMP_DIGEST}


def bench_loads(bench_path: Path, spec: BenchSpec) -> dict[str, str]:
    """The files the bench is made of and names, and the terminal twin's default file where
    an emulated bench names none (its terminal is made from it all the same)."""
    from harness.emulation.world import default_terminal_file
    from harness.loading import loaded_files

    implied = [default_terminal_file()] \
        if spec.kind == "emulated" and spec.terminal.emulate is None else []
    return loaded_files(bench_path, implied)


def not_run_rows(req_ids: list[str], reason: str) -> dict[str, Any]:
    """Rows of requirements nothing was decided on (yet): ``not_run``, with the reason."""
    return {req: {"status": "not_run", "tests": [], "verdicts": [], "reasons": [reason]}
            for req in req_ids}


def build_report(*, bench_path: Path, spec: BenchSpec, profiles: ProfileSet,
                 tests: dict[str, TestRecord], started: dt.datetime, ended: dt.datetime,
                 only: set[str] | None = None, collected: bool = True,
                 pending: str = "not_run", bench: dict[str, Any] | None = None
                 ) -> dict[str, Any]:
    """The report from the tests' records. ``collected`` False: the suites are not collected
    yet (every requirement ``not_run``, ``pending`` saying why); ``pending``: the reason of
    a test that has not run; ``bench``: the bench as :func:`bench_info` took it when the run
    began (certify: the file on disk may have been edited since; the report names the one
    the tests ran on), else taken now."""
    makers: dict[str, Any] = {}
    all_passed = True
    for maker, req_ids in applicable(profiles, spec, only).items():
        if not collected:
            makers[maker] = not_run_rows(req_ids, pending)
            all_passed = False
            continue
        rows: dict[str, Any] = {}
        for req in req_ids:
            deciding = [t for t in tests.values()
                        if req in t.requirements and (maker in t.makers or not t.makers)]
            status, reasons, verdicts = _decide(req, maker, deciding, pending)
            all_passed &= status == "passed"
            rows[req] = {"status": status, "tests": [t.nodeid for t in deciding],
                         "verdicts": [_verdict_json(v, deciding) for v in verdicts],
                         **({"reasons": reasons} if reasons else {})}
        makers[maker] = rows
    return {
        "bench": dict(bench) if bench is not None else bench_info(bench_path, spec),
        "started": started.isoformat(timespec="seconds"),
        "ended": ended.isoformat(timespec="seconds"),
        "passed": all_passed,
        "makers": makers,
        "operator": [step for t in tests.values() for step in t.operator],
        "bench_faults": [{"test": t.nodeid, "fault": t.reason} for t in tests.values()
                         if t.outcome == "bench_fault"],
        "tests": {t.nodeid: t.as_json() for t in tests.values()
                  if only is None or not t.makers or set(t.makers) & only},
    }
