"""``onshi-rig certify``: the suites run on a bench and the report says, maker by maker and
requirement by requirement, what passed; a requirement no test covers is a failure (the
deviant benches: tests/test_certify_deviant.py)."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import textwrap
from pathlib import Path

import pytest
from cli_fork import CLI, run_cli, run_python

from harness.model.profiles import ProfileSet, default_profiles_dir
from harness.paths import project_file
from harness.report.manifest import check_manifest, write_manifest
from harness.report.provenance import screens_provenance

# The frames behind the verdicts are the report tests' business (test_certify_report.py): not kept here.
#: One job unless a test asks for workers (--jobs 2 given later wins): a run of a few tests
#: on pytest-xdist would start two more interpreters for nothing.
CERTIFY_ARGS = ["certify", "--no-evidence", "--jobs", "1"]
CERTIFY = [*CLI, *CERTIFY_ARGS]


def certify(*args: str) -> subprocess.CompletedProcess[str]:
    return run_cli([*CERTIFY_ARGS, *args], timeout=900, cwd=project_file("."))


def failed(report: dict) -> dict[str, set[str]]:
    return {maker: {r for r, row in rows.items() if row["status"] != "passed"}
            for maker, rows in report["makers"].items()}


#: Canon's requirements this run certifies: the suites themselves run every requirement of
#: every maker in the test run's suites/ part, so certifying them all here again would only
#: repeat that (a minute of CI); a lab's own profiles folder (``--profiles``) holding fewer
#: of Canon's requirements is certified whole, so the run still ends passed (exit 0). (None
#: that the random walks judge: a walk fails closed on a screen the cut profile no longer
#: names.)
CANON_KEPT = ("USB-02", "UPD-01", "UPD-04", "ERR-04", "ERR-06")


def lab_profiles(folder: Path) -> Path:
    """The shipped profiles, Canon's cut to CANON_KEPT."""
    import yaml

    shutil.copytree(default_profiles_dir(), folder)
    canon = folder / "canon.yaml"
    data = yaml.safe_load(canon.read_text(encoding="utf-8"))
    data["requirements"] = [r for r in data["requirements"] if r["id"] in CANON_KEPT]
    canon.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False),
                     encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def default_run(tmp_path_factory: pytest.TempPathFactory
                ) -> tuple[subprocess.CompletedProcess[str], Path]:
    """Two makers' worth (one face-auth maker, cut to CANON_KEPT, and the general readers,
    on two pytest-xdist workers). (The --resume tests below finish copies of this run.)"""
    base = tmp_path_factory.mktemp("default")
    out = base / "run"
    return certify("--vendor", "canon", "--vendor", "general_readers", "--jobs", "2",
                   "--profiles", str(lab_profiles(base / "profiles")), "--out", str(out)), out


def test_certify_the_default_bench(
        default_run: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    proc, tmp_path = default_run
    report = json.loads((tmp_path / "certification.json").read_text(encoding="utf-8"))
    profiles = ProfileSet.load(tmp_path.parent / "profiles")
    assert {r.id for r in profiles.profiles["canon"].requirements} == set(CANON_KEPT)
    assert report["bench"]["name"] == "emulated" and len(report["bench"]["sha256"]) == 64
    assert report["started"] <= report["ended"]
    assert set(report["makers"]) == {"canon", "general_readers"}
    # The reference screens that judged it, by the digest of each folder's files.
    assert report["rig"]["screens"] == screens_provenance(
        {key: project_file(f"fixtures/screens/{key}") for key in ("canon", "terminal")})
    # One pytest run on two workers, a maker's tests on one: each test's record names the
    # worker folder that holds its bench's timeline and evidence.
    folders = {maker: {t["folder"] for t in report["tests"].values() if maker in t["makers"]}
               for maker in ("canon", "general_readers")}
    assert sorted(f for fs in folders.values() for f in fs) == ["worker-gw0", "worker-gw1"]
    for maker, rows in report["makers"].items():
        # Every requirement of the maker's profile, each decided by at least one test.
        assert set(rows) == {r.id for r in profiles.profiles[maker].requirements}
        for req, row in rows.items():
            assert row["status"] == "passed", (maker, req, row)
            assert row["tests"], (maker, req)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    # Each worker's bench's timeline, and what it collected.
    assert len(list(tmp_path.glob("worker-gw*/timeline.jsonl"))) == 2
    assert len(list(tmp_path.glob("worker-gw*/collected.json"))) == 2
    # One JUnit suite of every test run; one allure folder.
    junit = (tmp_path / "junit.xml").read_text(encoding="utf-8")
    assert junit.count("<testsuite ") == 1
    assert junit.count("<testcase ") == len(report["tests"])
    assert not list(tmp_path.glob("*/allure")) and (tmp_path / "allure").is_dir()
    assert "report:" in proc.stdout and "pass suites/" in proc.stdout  # progress shown
    # Each test's seconds are kept, for the next run's plan; this one had no earlier run of
    # the bench beside it (the profiles folder there is not a run).
    assert all(t["seconds"] > 0 for t in report["tests"].values() if t["outcome"] == "passed")
    assert "planned by the makers' numbers of requirements" in proc.stdout


def test_every_requirement_of_every_maker_has_a_deciding_test() -> None:
    """``certify --plan`` collects the suites on the default bench without running them:
    every requirement of every maker has a test that decides it."""
    proc = certify("--plan")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    profiles = ProfileSet.load(default_profiles_dir())
    listed: dict[str, dict[str, int]] = {}
    maker = ""
    for line in proc.stdout.splitlines():
        if not line.startswith(" "):
            maker = line.strip()
            listed[maker] = {}
        else:
            req, count = line.split()[:2]
            listed[maker][req] = int(count)
    assert set(listed) == {"panasonic", "canon", "usen_almex", "fujitsu_japan", "atlas",
                           "general_readers"}
    for maker, rows in listed.items():
        assert set(rows) == {r.id for r in profiles.profiles[maker].requirements}, maker
        assert all(count >= 1 for count in rows.values()), (maker, rows)


def test_a_requirement_no_test_decides_fails(tmp_path: Path) -> None:
    from harness.bench import check_bench_file, default_bench_path
    from harness.model.verdict import Verdict
    from harness.report.certification import TestRecord, build_report

    path = default_bench_path()
    spec = check_bench_file(path)
    profiles = ProfileSet.load(default_profiles_dir())
    now = dt.datetime.now().astimezone()
    judged = Verdict("USB-02", "canon", "canon", "passed", "no hub", "no hub")
    tests = {"t": TestRecord("t", ("USB-02",), ("canon",), "passed", verdicts=[judged])}
    report = build_report(bench_path=path, spec=spec, profiles=profiles, tests=tests,
                          started=now, ended=now, only={"canon"})
    rows = report["makers"]["canon"]
    assert rows["USB-02"]["status"] == "passed"
    assert rows["BOOT-01" if "BOOT-01" in rows else "E901-01"]["reasons"] == [
        "no test covers this requirement"]
    assert not report["passed"]


# (The general readers on the miswired bench: tests/test_report_commands.py, whose run it is.)


def test_certify_bad_input(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("bench: x\nkind: nonsense\n", encoding="utf-8")
    proc = certify("--bench", str(broken), "--out", str(tmp_path / "out"))
    assert proc.returncode == 2 and "broken.yaml" in proc.stderr
    assert "Traceback" not in proc.stderr
    proc = certify("--vendor", "nosuch", "--out", str(tmp_path / "out2"))
    assert proc.returncode == 2 and "nosuch" in proc.stderr


# -- certify --resume --out DIR: finish the run in DIR -------------------------------------
# The tests it decided are kept, the others (not run, skipped, stopped by a bench fault) run
# again under the same run id; a folder that is not that run's (another bench, profiles,
# makers, a run still going, no run at all) is refused before anything moves.

def report_of(folder: Path) -> dict:
    return json.loads((folder / "certification.json").read_text(encoding="utf-8"))


@pytest.fixture
def finished(default_run: tuple[subprocess.CompletedProcess[str], Path]) -> Path:
    proc, out = default_run
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr
    return out


def run_profiles(finished: Path) -> list[str]:
    """The profiles the run certified with (a resume must name the same)."""
    return ["--profiles", str(finished.parent / "profiles")]


def copy_of(finished: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "run"
    shutil.copytree(finished, folder)
    return folder


#: The signals a resume holds from its folder's change to the run's first report.
HELD = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}

#: ``onshi-rig certify ARGS`` with a SIGTERM to itself as the run's live report is made:
#: after the resume changed the folder, before the run's first report.
SIGNAL_BEFORE_THE_FIRST_REPORT = textwrap.dedent('''
    import os, signal, sys
    import harness.report.live as live

    made = live.LiveReport.__init__

    def signalled(self, *args, **kwargs):
        os.kill(os.getpid(), signal.SIGTERM)
        made(self, *args, **kwargs)

    live.LiveReport.__init__ = signalled
    from harness.cli import main
    sys.exit(main(sys.argv[1:]))
''')


def test_a_signal_before_the_resumes_first_report_finishes_it_interrupted(
        finished: Path, tmp_path: Path) -> None:
    """A SIGTERM after the resume moved the earlier run aside and before the run's first
    report (it left a "running" report with no seal, as a killed run's): held until the
    report is written, then it stops the run as any stop does: exit 143, the report
    interrupted, the folder sealed."""
    folder = copy_of(finished, tmp_path)
    proc = run_python(["-c", SIGNAL_BEFORE_THE_FIRST_REPORT, "certify", "--resume", "--out",
                       str(folder), *run_profiles(finished)], cwd=project_file("."),
                      timeout=300)
    report = report_of(folder)
    said = proc.stdout[-2000:] + proc.stderr[-2000:]
    assert report["state"] == "interrupted" and report["interrupted"] is True, said
    assert proc.returncode == 143, said
    assert check_manifest(folder).ok, said
    assert report["resumes"][-1]["kept"] == len(report_of(finished)["tests"])


def test_resume_runs_again_only_what_was_not_decided(finished: Path, tmp_path: Path) -> None:
    folder = copy_of(finished, tmp_path)
    report = report_of(folder)
    tests = report["tests"]
    # As an interrupted run, a bench fault and a skip leave them: three tests undecided.
    wiring = sorted(n for n in tests if "test_wiring_rule[sanwa" in n)
    undecided = {name: outcome for name, outcome in zip(
        wiring[:3], ("not_run", "bench_fault", "skipped"), strict=True)}
    for name, outcome in undecided.items():
        tests[name].update(outcome=outcome, verdicts=[], reason="stopped")
    (folder / "certification.json").write_text(json.dumps(report), encoding="utf-8")
    write_manifest(folder)  # as an interrupted run seals itself
    earlier_junit = (folder / "junit.xml").read_bytes()

    proc = certify("--resume", "--out", str(folder), *run_profiles(finished))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr
    ran = {line.split()[1] for line in proc.stdout.splitlines()
           if line.startswith("  pass ") or line.startswith("  FAIL ")}
    assert ran == set(undecided)
    after = report_of(folder)
    assert after["run"] == report["run"] and after["state"] == "finished" and after["passed"]
    assert all(t["outcome"] == "passed" for t in after["tests"].values())
    # The kept tests' evidence is where the earlier run left it, set aside with its files.
    # (A run on workers: each in its worker's folder.)
    assert {n for n, t in after["tests"].items()
            if t.get("folder") in ("earlier-1/worker-gw0", "earlier-1/worker-gw1")} == \
        set(tests) - set(undecided)
    assert (folder / "earlier-1" / "junit.xml").read_bytes() == earlier_junit
    assert (folder / "earlier-1" / "worker-gw1" / "timeline.jsonl").is_file()
    assert not list(folder.glob("worker-*"))
    assert [r["kept"] for r in after["resumes"]] == [len(tests) - 3]
    run = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    assert run["run"] == report["run"] and len(run["resumed"]) == 1

    # Nothing left to decide: a second resume runs nothing and says the same.
    proc = certify("--resume", "--out", str(folder), *run_profiles(finished))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr
    assert " pass " not in proc.stdout
    assert report_of(folder)["passed"] and (folder / "earlier-2").is_dir()
    assert check_manifest(folder).ok  # sealed again, the seal of before gone with its files


def test_a_resume_stopped_as_it_begins_keeps_every_decided_record(finished: Path,
                                                                    tmp_path: Path) -> None:
    """The set-aside is one step: once the earlier files moved, the report on disk says
    where, with every decided record; and the report a resumed run writes first (before
    its suites are collected, where a signal may stop it) holds them too."""
    from harness.certify_run import _rig
    from harness.loading import load_yaml_model
    from harness.model.bench_spec import BenchSpec
    from harness.model.profiles import ProfileSet
    from harness.report.certification import CertificationCollector
    from harness.report.resume import resume_folder

    folder = copy_of(finished, tmp_path)
    before = report_of(folder)
    bench = Path(before["bench"]["file"])
    spec = load_yaml_model(bench, BenchSpec, layered=True)
    ProfileSet.load(finished.parent / "profiles")
    resumed = resume_folder(folder, bench, spec, _rig(finished.parent / "profiles", spec, None),
                            None)
    # The stopping signals are held until the run's first report (here: none): let go.
    assert signal.pthread_sigmask(signal.SIG_BLOCK, set()) >= HELD
    resumed.let_signals_go()
    assert not HELD & signal.pthread_sigmask(signal.SIG_BLOCK, set())
    on_disk = report_of(folder)
    assert set(on_disk["tests"]) == set(before["tests"]) == set(resumed.kept)
    assert all(t["folder"].startswith("earlier-1") for t in on_disk["tests"].values())
    assert on_disk["resumes"] == resumed.resumes and resumed.resumes[-1]["kept"] == len(
        before["tests"])
    assert not (folder / "manifest.sha256").exists()  # the folder is being changed
    collector = CertificationCollector(spec, None, kept=resumed.kept)
    assert set(collector.tests) == set(resumed.kept)  # before any collection


def _other_profiles(tmp_path: Path) -> list[str]:
    profiles = tmp_path / "profiles"
    shutil.copytree(project_file("vendor_profiles"), profiles)
    general = profiles / "general_readers.yaml"
    general.write_text(general.read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
    return ["--profiles", str(profiles)]


def _still_running(folder: Path) -> list[str]:
    report = report_of(folder)
    report["state"] = "running"
    (folder / "certification.json").write_text(json.dumps(report), encoding="utf-8")
    run = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    run["pid"] = os.getpid()  # this test's process: alive
    (folder / "run.json").write_text(json.dumps(run), encoding="utf-8")
    return []


def _changed_since_sealed(folder: Path) -> list[str]:
    """A verdict edited in a sealed run: not the run that made it."""
    report = report_of(folder)
    name = sorted(report["tests"])[0]
    report["tests"][name].update(outcome="not_run", verdicts=[])
    (folder / "certification.json").write_text(json.dumps(report), encoding="utf-8")
    return []


def _other_scenario(folder: Path) -> list[str]:
    """A run that replayed another version of the network scenario (sealed as it was)."""
    report = report_of(folder)
    scenarios = report["rig"]["profiles"]["scenarios"]
    assert scenarios, "the shipped profiles replay a scenario (NET-01)"
    for name in scenarios:
        scenarios[name] = "0" * 64
    (folder / "certification.json").write_text(json.dumps(report), encoding="utf-8")
    write_manifest(folder)
    return []


def _other_screens(folder: Path) -> list[str]:
    """A run judged by other reference screens of canon (sealed as it was)."""
    report = report_of(folder)
    report["rig"]["screens"]["canon"]["sha256"] = "0" * 64
    (folder / "certification.json").write_text(json.dumps(report), encoding="utf-8")
    write_manifest(folder)
    return []


def _bench_changed_during(folder: Path) -> list[str]:
    """A run whose bench file was edited while it ran (and put back since)."""
    report = report_of(folder)
    report["bench"]["changed"] = "the bench file emulated.yaml changed during the run"
    (folder / "certification.json").write_text(json.dumps(report), encoding="utf-8")
    write_manifest(folder)
    return []


def _seal_taken_away(folder: Path) -> list[str]:
    """A verdict edited and the seal removed: a run that ended sealed itself."""
    _changed_since_sealed(folder)
    (folder / "manifest.sha256").unlink()
    return []


def _older_report(folder: Path) -> list[str]:
    report = report_of(folder)
    del report["tests"]
    (folder / "certification.json").write_text(json.dumps(report), encoding="utf-8")
    return []


@pytest.mark.parametrize(("change", "says"), [
    (lambda folder, tmp: ["--bench", str(project_file("fixtures/benches/miswired.yaml"))],
     "the bench file miswired.yaml changed (or is another one)"),
    (lambda folder, tmp: ["--vendor", "canon"], "--vendor canon, but it certified canon, general_readers"),
    (lambda folder, tmp: _other_profiles(tmp), "the vendor profiles changed"),
    (lambda folder, tmp: _still_running(folder), "is still going (process"),
    (lambda folder, tmp: _older_report(folder), "its report lists no tests"),
    (lambda folder, tmp: _changed_since_sealed(folder),
     "its files do not match manifest.sha256 (1 changed, 0 missing, 0 extra: "
     "certification.json"),
    (lambda folder, tmp: _other_scenario(folder),
     "the network scenarios the profiles replay changed"),
    (lambda folder, tmp: _seal_taken_away(folder),
     "no manifest.sha256, though its report says the run ended (finished)"),
    (lambda folder, tmp: _other_screens(folder), "the reference screens of canon changed"),
    (lambda folder, tmp: _bench_changed_during(folder),
     "the bench file emulated.yaml changed during the run; certify again into a new folder"),
], ids=["bench", "vendor", "profiles", "running", "older-report", "changed-since-sealed",
        "scenario", "seal-taken-away", "screens", "bench-changed-during-run"])
def test_resume_refuses_a_folder_that_is_not_this_runs(finished: Path, tmp_path: Path,
                                                       change, says: str) -> None:  # noqa: ANN001
    folder = copy_of(finished, tmp_path)
    args = change(folder, tmp_path)
    before = sorted(p.relative_to(folder) for p in folder.rglob("*"))
    if "--profiles" not in args:
        args = [*run_profiles(finished), *args]
    proc = certify("--resume", "--out", str(folder), *args)
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr
    assert says in proc.stderr and "Traceback" not in proc.stderr
    assert sorted(p.relative_to(folder) for p in folder.rglob("*")) == before  # nothing moved


def test_resume_needs_a_run_folder(tmp_path: Path) -> None:
    proc = certify("--resume")
    assert proc.returncode == 2 and "--resume: give --out" in proc.stderr
    proc = certify("--resume", "--out", str(tmp_path))
    assert proc.returncode == 2 and "no certification.json there: not a run folder" in proc.stderr


# -- bench faults: named, bounded, survived ------------------------------------------------

FAULTY_BENCH = """\
base: {base}
bench: faulty
kind: emulated
faults:
  # Panasonic's camera freezes 5 s into a smartphone pairing its screen guides; the relay
  # board falls silent during a restart the maker's procedure asks for.
  - {{fault: camera.frozen, target: cam-panasonic, during: "iodata-usb-nfc4e-SP-03", after_s: 5}}
  - {{fault: relay.silent, target: mains, during: "maxell-m-1850s-n2-SP-04"}}
"""


def test_a_bench_fault_is_named_and_the_run_goes_on(tmp_path: Path) -> None:
    """Certified on a bench whose camera freezes in one test and whose relay board falls
    silent in another: each of the two tests stops on its bench fault, named with what was
    seen; the requirements they decide are not run (not failed against the readers); every
    other test, the next ones included, passes; exit 3 (only bench faults kept it from a
    pass)."""
    bench = tmp_path / "faulty.yaml"
    bench.write_text(FAULTY_BENCH.format(base=project_file("fixtures/benches/emulated.yaml")),
                     encoding="utf-8")
    out = tmp_path / "out"
    proc = certify("--bench", str(bench), "--vendor", "general_readers", "--jobs", "1",
                   "--out", str(out))
    assert proc.returncode == 3, proc.stdout[-3000:] + proc.stderr
    report = json.loads((out / "certification.json").read_text(encoding="utf-8"))
    frozen = ("suites/test_flows.py::test_flow_requirement[iodata-usb-nfc4e-SP-03]",
              "bench fault (camera.frozen): cam-panasonic: the same frame, byte for byte, since")
    silent = ("suites/test_flows.py::test_flow_requirement[maxell-m-1850s-n2-SP-04]",
              "bench fault (relay.silent): mains: no reply to 'relay off 1' within 3 s")
    assert [(f["test"], f["fault"][:len(text)]) for f, (_, text) in
            zip(report["bench_faults"], (frozen, silent), strict=True)] == [frozen, silent]
    rows = report["makers"]["general_readers"]
    assert {req: row["status"] for req, row in rows.items() if row["status"] != "passed"} == \
        {"SP-03": "not_run", "SP-04": "not_run"}
    assert rows["SP-03"]["reasons"][0].startswith(f"{frozen[0]}: {frozen[1]}")
    assert rows["SP-04"]["reasons"][0].startswith(f"{silent[0]}: {silent[1]}")
    outcomes = {n: t["outcome"] for n, t in report["tests"].items()}
    assert {n for n, o in outcomes.items() if o != "passed"} == {frozen[0], silent[0]}
    assert f"  BENCH {frozen[0]}" in proc.stdout and f"  BENCH {silent[0]}" in proc.stdout
    html = (out / "certification.html").read_text(encoding="utf-8")
    assert "The bench failed, not the reader (2)" in html


CACHED_FAULT_BENCH = """\
base: {base}
bench: cached-fault
faults:
  # AUTH-03's 'only when' half on the PIN-lock flow: the record AUTH-02's test drove.
  - {{fault: camera.frozen, target: cam-canon, during: "canon-AUTH-03-also3]"}}
"""


def test_a_fault_due_in_a_test_whose_record_was_driven_before_is_met(tmp_path: Path) -> None:
    """Flow records are shared between the checks of one run of a flow; a test a bench
    fault is due in drives its flow afresh under it: the frozen camera is noticed (a bench
    fault), not a pass on the record an earlier test drove."""
    bench = tmp_path / "cached.yaml"
    bench.write_text(CACHED_FAULT_BENCH.format(
        base=project_file("fixtures/benches/emulated.yaml")), encoding="utf-8")
    out = tmp_path / "out"
    proc = certify("--bench", str(bench), "--vendor", "canon", "--jobs", "1", "--out",
                   str(out), "--", "-k", "AUTH-02 or (AUTH-03 and also3)")
    report = json.loads((out / "certification.json").read_text(encoding="utf-8"))
    outcomes = {n.rsplit("[", 1)[1].rstrip("]"): t["outcome"]
                for n, t in report["tests"].items() if t["outcome"] != "not_run"}
    assert outcomes == {"canon-AUTH-02": "passed", "canon-AUTH-03-also3": "bench_fault"}, \
        proc.stdout[-3000:] + proc.stderr
    [fault] = report["bench_faults"]
    assert fault["fault"].startswith("bench fault (camera.frozen): cam-canon")


@pytest.mark.parametrize("in_base", [False, True], ids=["own-file", "users-base"])
def test_a_fault_naming_no_test_is_bad_input(tmp_path: Path, in_base: bool) -> None:
    """A fault whose ``during`` is in no test's id (a typo) would never strike: the bench
    file is refused at its line before anything runs, whatever --vendor leaves; a fault
    naming another maker's test is not a typo. In a base of the lab's own the faults are
    named in that base at their line, not at line 1 of the file deriving from it."""
    written = tmp_path / ("lab-base.yaml" if in_base else "typo.yaml")
    written.write_text(CACHED_FAULT_BENCH.format(
        base=project_file("fixtures/benches/emulated.yaml")) + """\
  - {fault: camera.frozen, target: cam-canon, during: "cannon-E901-02"}
  - {fault: camera.frozen, target: cam-panasonic, during: "panasonic-E901-02"}
""", encoding="utf-8")
    bench = written
    if in_base:
        bench = tmp_path / "lab.yaml"
        bench.write_text("base: lab-base.yaml\nbench: lab\n", encoding="utf-8")
    out = tmp_path / "out"
    proc = certify("--bench", str(bench), "--vendor", "canon", "--out", str(out))
    assert proc.returncode == 2, proc.stdout[-3000:] + proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == (
        f"onshi-rig certify: {written}:6: faults[1].during: 'cannon-E901-02' is in no test's "
        "id of the suites for this bench (e.g. 'canon-E901-02'): the fault would never strike")
    assert "Traceback" not in proc.stderr and not out.exists()


def test_a_resume_claims_the_folder_before_it_reads_or_moves_anything(finished: Path,
                                                                      tmp_path: Path) -> None:
    """Two resumes of one folder started together (hunt J-12): both passed the "still
    going" check and ran into one folder. The folder is claimed first (a lock on it): the
    other is refused, exit 2, the folder as it was; the lock is held while the run goes."""
    import fcntl

    from harness.certify_run import _rig
    from harness.loading import load_yaml_model
    from harness.model.bench_spec import BenchSpec
    from harness.report.resume import resume_folder

    folder = copy_of(finished, tmp_path)
    listing = sorted(p.relative_to(folder) for p in folder.rglob("*"))
    # Another resume holds the folder and has not written its run.json yet.
    other = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        proc = certify("--resume", "--out", str(folder), *run_profiles(finished))
        assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr
        assert "being resumed by another process; not resumed again" in proc.stderr
        assert "Traceback" not in proc.stderr
        assert sorted(p.relative_to(folder) for p in folder.rglob("*")) == listing
    finally:
        os.close(other)
    # A resume that goes on holds the folder for its run.
    bench = Path(report_of(folder)["bench"]["file"])
    spec = load_yaml_model(bench, BenchSpec, layered=True)
    resumed = resume_folder(folder, bench, spec, _rig(finished.parent / "profiles", spec, None),
                            None)
    resumed.let_signals_go()  # held until a run's first report: there is no run here
    probe = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        with pytest.raises(BlockingIOError):
            fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
        proc = certify("--resume", "--out", str(folder), *run_profiles(finished))
        assert proc.returncode == 2 and "being resumed by" in proc.stderr, proc.stderr
    finally:
        os.close(probe)
        os.close(resumed.held)


def test_a_bench_file_edited_while_the_run_goes_passes_nothing(tmp_path: Path) -> None:
    """The report names the bench the run began with (not the file as edited since), the
    run ends in an error (exit 2, never PASSED), and a resume refuses the folder, even
    with the file put back: its tests may have loaded the edit."""
    import hashlib
    import time

    bench = tmp_path / "dv.yaml"
    text = f"base: {project_file('fixtures/benches/emulated.yaml')}\nbench: dv\n"
    bench.write_text(text, encoding="utf-8")
    began = hashlib.sha256(bench.read_bytes()).hexdigest()
    out = tmp_path / "run"
    proc = subprocess.Popen([*CERTIFY, "--vendor", "canon", "--quiet", "--bench", str(bench),
                             "--out", str(out), "--", "-k", "canon-USB-02 or canon-UPD-01"],
                            cwd=project_file("."), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (out / "certification.json").exists() and proc.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    bench.write_text(text + "# edited while it runs\n", encoding="utf-8")  # the lab saves
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 2, stdout[-2000:] + stderr
    assert "the bench file dv.yaml changed during the run" in stderr
    assert "Traceback" not in stderr and "PASSED: all" not in stdout
    report = report_of(out)
    assert report["state"] == "error" and not report["passed"]
    assert report["bench"]["sha256"] == began  # the file the run began with, not the edit
    assert "changed during the run" in report["bench"]["changed"]
    assert check_manifest(out).ok
    for content in (text + "# edited while it runs\n", text):  # as edited, then put back
        bench.write_text(content, encoding="utf-8")
        again = certify("--resume", "--vendor", "canon", "--bench", str(bench), "--out",
                        str(out))
        assert again.returncode == 2, again.stdout[-2000:] + again.stderr
        assert "changed during the run" in again.stderr and "Traceback" not in again.stderr
    assert report_of(out) == report  # nothing kept for the other bench


def _tree(folder: Path) -> dict[str, str]:
    import hashlib

    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("failing", ["write", "move"])
def test_a_resume_that_cannot_change_the_folder_leaves_it_as_it_was(
        finished: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str) -> None:
    """Hunt K-2: a full disk (the new report not written) or a move that fails: one line,
    the folder as it was (sealed, nothing set aside), and a later resume goes on."""
    import errno

    import harness.report.live as live
    from harness.certify_run import _rig
    from harness.errors import RigError
    from harness.loading import load_yaml_model
    from harness.model.bench_spec import BenchSpec
    from harness.report.resume import resume_folder

    folder = copy_of(finished, tmp_path)
    before = _tree(folder)
    if failing == "write":
        def full(tmp: Path, data: bytes, like: Path) -> None:
            tmp.write_bytes(data[: len(data) // 2])
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(live, "_write_synced", full)
    else:
        real, calls = os.rename, []

        def rename(src, dst) -> None:  # noqa: ANN001 - the second move fails
            calls.append(src)
            if len(calls) == 2:
                raise OSError(errno.EACCES, "Permission denied")
            real(src, dst)

        monkeypatch.setattr(os, "rename", rename)
    bench = Path(report_of(folder)["bench"]["file"])
    spec = load_yaml_model(bench, BenchSpec, layered=True)
    with pytest.raises(RigError) as said:
        resume_folder(folder, bench, spec, _rig(finished.parent / "profiles", spec, None), None)
    assert not HELD & signal.pthread_sigmask(signal.SIG_BLOCK, set())  # not held on
    why = "No space left on device" if failing == "write" else "Permission denied"
    assert str(said.value) == f"--resume {folder}: cannot resume: {why}; the folder is as it was"
    assert _tree(folder) == before and check_manifest(folder).ok
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in finished.iterdir())
    monkeypatch.undo()
    proc = certify("--resume", "--out", str(folder), *run_profiles(finished))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr
    assert (folder / "earlier-1").is_dir() and check_manifest(folder).ok
