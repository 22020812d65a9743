"""One case generator (harness/cases.py) for every suite, fed by the bench of ``--bench`` and
the profiles of ``--profiles``: a lab's own profiles decide which tests exist, not the
shipped ones (a requirement the lab added gets its test; one it dropped has none)."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml
from cli_fork import run_python

from harness.cases import Case, cases, flow_cases, walk_cases
from harness.loading import load_yaml_model
from harness.model.bench_spec import BenchSpec
from harness.model.profiles import BootOrderCheck, FlowCheck, ProfileSet, default_profiles_dir
from harness.paths import project_file

BENCH = project_file("fixtures/benches/emulated.yaml")


def _spec() -> BenchSpec:
    return load_yaml_model(BENCH, BenchSpec, layered=True)


def test_every_check_of_every_reader_gets_one_case() -> None:
    spec, profiles = _spec(), ProfileSet.load(default_profiles_dir())
    face = {r.name: r.maker for r in spec.readers if r.kind == "face_auth_reader"}
    boot = cases(spec, profiles, BootOrderCheck)
    assert {(c.reader, c.requirement) for c in boot} == {
        (reader, req.id) for reader, maker in face.items()
        for req in profiles[maker].requirements
        if any(isinstance(k, BootOrderCheck) for k in req.checks)}
    flows = flow_cases(spec, profiles)
    # Each flow check on its own (a requirement's "also" checks too), ids unique.
    own = [c for c in flows if c.general is None]
    assert len(own) == sum(isinstance(k, FlowCheck) for maker in face.values()
                           for req in profiles[maker].requirements for k in req.checks)
    assert len({c.id for c in flows}) == len(flows)
    # The general readers' flows are driven by a face-auth reader whose maker pairs one.
    generals = {r.name for r in spec.readers if r.kind == "general_reader"}
    theirs = [c for c in flows if c.general is not None]
    assert {c.general for c in theirs} == generals
    assert all(c.profile == "general_readers" and c.driver_maker == face[c.reader]
               for c in theirs)
    walks = walk_cases(spec, profiles, lambda p: [r.id for r in p.requirements][:2])
    assert [c.reader for c in walks] == list(face) and all(len(c.judges) == 2 for c in walks)


def test_a_case_is_marked_with_what_it_decides() -> None:
    param = Case("canon", "canon", "E901-02", check=1).param()
    marks = {m.name: m.args for m in param.marks}
    assert marks == {"requirement": ("E901-02",), "maker": ("canon",)}
    assert param.id == "canon-E901-02-also1"
    walk = Case("atlas", "atlas", "", judges=("AUTH-03", "CON-02")).param()
    assert {m.name: m.args for m in walk.marks}["requirement"] == ("AUTH-03", "CON-02")
    assert walk.id == "atlas"


def _collected(*args: str) -> set[str]:
    proc = run_python(["-m", "pytest", "-q", "--collect-only", "-p", "no:cacheprovider", *args],
                      cwd=project_file("."), timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return {line.split("[", 1)[1].rstrip("]") for line in proc.stdout.splitlines()
            if "::" in line}


def test_the_given_profiles_decide_the_cases(tmp_path: Path) -> None:
    profiles = tmp_path / "profiles"
    shutil.copytree(default_profiles_dir(), profiles)
    # The lab's panasonic profile without its boot order requirement.
    path = profiles / "panasonic.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["requirements"] = [r for r in data["requirements"] if r["id"] != "BOOT-01"]
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    shipped = _collected("suites/test_boot.py")
    assert "panasonic-BOOT-01" in shipped
    given = _collected("suites/test_boot.py", "--profiles", str(profiles))
    # With it go the starts at its window's edges.
    assert given == shipped - {"panasonic-BOOT-01", "panasonic-BOOT-01-earliest",
                               "panasonic-BOOT-01-latest"}
    assert {"atlas-BOOT-02", "atlas-BOOT-02-reader-first"} <= given


def test_a_bad_profiles_folder_is_one_line_before_collection(tmp_path: Path) -> None:
    proc = run_python(["-m", "pytest", "-q", "--collect-only", "-p", "no:cacheprovider",
                       "suites/test_boot.py", "--profiles", str(tmp_path / "none")],
                      cwd=project_file("."), timeout=120)
    assert proc.returncode == 4, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert f"ERROR: --profiles: {tmp_path / 'none'}" in proc.stderr
