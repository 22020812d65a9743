"""The rig as a wheel: built from this checkout, installed into a fresh virtualenv and run
from folders that are not the checkout. It must hold every module and data file of the rig
(profiles, benches, twins, reference screens, cards, suites) and find them where the wheel
put them; a lab's own folders come from ``onshi-rig.toml`` in the working folder.

Cheap on purpose (a few seconds of CPU): nothing is downloaded. The wheel is built with
this virtualenv's setuptools; the fresh virtualenv gets no pip of its own (this one's
installs into it, ``pip --python``) and reaches this virtualenv's dependencies through a
``.pth`` line naming its site-packages (a plain path: the editable install's finder there
is not started, so ``import harness`` must find the new copy). The certification is the
general readers' on a small lab bench (a face-auth reader to pair with, two general
readers): every general-reader requirement, not a whole maker's suite.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import attrs
import pytest
import yaml

from harness.config import CONFIG_FILE, LabConfig, lab_config, load_config, screens_to_write
from harness.errors import BadInput, RigError
from harness.paths import checkout, project_file
from harness.report.provenance import tree_sha256

CHECKOUT = project_file(".")
VERSION = tomllib.loads((CHECKOUT / "pyproject.toml").read_text("utf-8"))["project"]["version"]
#: The fixtures the wheel ships (fixtures/sysfs is the tests' own).
SHIPPED_FIXTURES = ("benches", "cards", "devices", "scenarios", "screens")


@attrs.frozen
class Installed:
    wheel: Path
    python: Path
    onshi_rig: Path
    site: Path  # the fresh virtualenv's site-packages
    lab: Path  # a working folder far from the checkout

    @property
    def data(self) -> Path:
        return self.site / "onshi_rig_data"

    def run(self, *args: str | Path, cwd: Path | None = None
            ) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
        return subprocess.run([str(a) for a in args], cwd=cwd or self.lab, env=env,
                              capture_output=True, text=True, timeout=300)


def _step(cmd: list[str | Path], **kwargs: object) -> None:
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True,
                          timeout=300, **kwargs)  # type: ignore[call-overload]
    assert proc.returncode == 0, f"{cmd}: exit {proc.returncode}\n{proc.stdout}{proc.stderr}"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    tmp = tmp_path_factory.mktemp("wheel")
    # setuptools' build folders in tmp too: building leaves nothing in the checkout.
    extra = tmp / "build.cfg"
    extra.write_text(f"[build]\nbuild_base = {tmp / 'build'}\n[egg_info]\negg_base = {tmp}\n",
                     encoding="utf-8")
    _step([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-index",
           "--no-build-isolation", "--wheel-dir", tmp / "dist", CHECKOUT],
          env={**os.environ, "DIST_EXTRA_CONFIG": str(extra)})
    (wheel,) = (tmp / "dist").glob("onshi_rig-*.whl")
    venv = tmp / "v"
    _step([sys.executable, "-m", "venv", "--without-pip", venv])
    python = venv / "bin" / "python"
    _step([sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps",
           "--no-index", wheel])
    # Only now this virtualenv's packages: pip, seeing its onshi-rig there, would try to
    # replace that one.
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    site = venv / "lib" / version / "site-packages"
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "project-dependencies.pth").write_text("\n".join(sorted(ours)) + "\n",
                                                   encoding="utf-8")
    lab = tmp / "lab"
    lab.mkdir()
    return Installed(wheel, python, venv / "bin" / "onshi-rig", site, lab)


def _files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts}


def test_the_wheel_holds_the_rig_and_all_its_data(installed: Installed) -> None:
    """Every file of harness/ (a subpackage pyproject.toml does not list would be missing),
    every profile, shipped fixture and suite, under onshi_rig_data; nothing else. The
    license as an SPDX expression; the command and the pytest plugin as entry points."""
    with zipfile.ZipFile(installed.wheel) as whl:
        names = set(whl.namelist())
        meta = next(n for n in names if n.endswith(".dist-info/METADATA"))
        metadata = whl.read(meta).decode("utf-8")
        entry_points = whl.read(meta.replace("METADATA", "entry_points.txt")).decode()
    expected = {f"harness/{f}" for f in _files(CHECKOUT / "harness")}
    expected |= {f"onshi_rig_data/vendor_profiles/{f}"
                 for f in _files(CHECKOUT / "vendor_profiles")}
    for part in SHIPPED_FIXTURES:
        expected |= {f"onshi_rig_data/fixtures/{part}/{f}"
                     for f in _files(CHECKOUT / "fixtures" / part)}
    expected |= {f"onshi_rig_data/suites/{f}" for f in _files(CHECKOUT / "suites")}
    expected |= {f"onshi_rig_data/schemas/{f}" for f in _files(CHECKOUT / "schemas")}
    expected.add("onshi_rig_data/__init__.py")
    shipped = {n for n in names if ".dist-info/" not in n}
    assert sorted(expected - shipped) == [], "missing from the wheel (pyproject.toml)"
    assert sorted(shipped - expected) == [], "in the wheel but not the rig's"
    assert {"onshi_rig_data/fixtures/benches/emulated.yaml",
            "onshi_rig_data/vendor_profiles/general_readers.yaml",
            "onshi_rig_data/suites/conftest.py",
            # What the shipped files' editor hints (../schemas/*.json) name.
            "onshi_rig_data/schemas/bench.json"} <= shipped
    assert "\nLicense-Expression: Apache-2.0\n" in metadata
    assert f"\nVersion: {VERSION}\n" in metadata
    assert re.search(r"^onshi-rig = harness\.entry:main$", entry_points, re.M)
    assert re.search(r"^onshi_rig = harness\.pytest_plugin$", entry_points, re.M)


def test_the_installed_rig_runs_its_own_copy(installed: Installed) -> None:
    """``import harness`` in the fresh virtualenv is the wheel's copy, not the checkout's
    (the editable install's finder is not active there); it knows it is no checkout and
    finds its data inside the installed package."""
    probe = ("import json, sys, harness, onshi_rig_data, harness.paths as p; "
             "print(json.dumps([harness.__file__, onshi_rig_data.__file__, "
             "str(p.checkout()), str(p.project_file('vendor_profiles')), "
             "[type(f).__module__ for f in sys.meta_path]]))")
    proc = installed.run(installed.python, "-c", probe)
    assert proc.returncode == 0, proc.stderr
    harness_file, data_file, source, profiles, finders = json.loads(proc.stdout)
    assert harness_file == str(installed.site / "harness" / "__init__.py")
    assert data_file == str(installed.data / "__init__.py")
    assert source == "None"
    assert profiles == str(installed.data / "vendor_profiles")
    assert not any("editable" in f for f in finders), finders


def test_version(installed: Installed) -> None:
    """Installed: the version alone. In the checkout: the version and the commit git
    says the checkout is at."""
    proc = installed.run(installed.onshi_rig, "--version")
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, f"onshi-rig {VERSION}\n", "")
    head = subprocess.run(["git", "-C", str(CHECKOUT), "rev-parse", "HEAD"],
                          capture_output=True, text=True, check=True).stdout.strip()
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "--version"],
                          capture_output=True, text=True, cwd=installed.lab)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"onshi-rig {VERSION} (checkout {CHECKOUT}, commit {head}")


def test_scan_finds_the_shipped_default_bench(installed: Installed) -> None:
    """``onshi-rig scan`` in a folder of its own: the shipped emulated bench (its twins
    named by paths relative to it, inside the installed package), identified against the
    shipped profiles."""
    folder = installed.lab / "empty"
    folder.mkdir()
    proc = installed.run(installed.onshi_rig, "scan", cwd=folder)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("bench emulated: 11 reader(s)\n")
    assert proc.stdout.rstrip().endswith("wiring conforms")
    assert sorted(os.listdir(folder)) == []  # scan writes nothing


def test_certify_plan_on_a_shipped_deviant_bench(installed: Installed) -> None:
    """A shipped bench built on another by ``base: emulated.yaml``: every maker's
    requirements are decided by tests of the shipped suites (exit 0)."""
    bench = installed.data / "fixtures" / "benches" / "deviant-order.yaml"
    proc = installed.run(installed.onshi_rig, "certify", "--plan", "--bench", bench)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    makers = [line for line in proc.stdout.splitlines() if not line.startswith(" ")]
    assert sorted(makers) == ["atlas", "canon", "fujitsu_japan", "general_readers", "panasonic",
                      "usen_almex"]
    assert "NO TEST" not in proc.stdout


def _lab_bench(data: Path) -> str:
    """A lab's small emulated bench: the terminal, Panasonic's reader (the general readers'
    smartphone pairing runs on it) and two general readers, the shipped twins."""
    devices = data / "fixtures" / "devices"
    shipped = (data / "fixtures" / "benches" / "emulated.yaml").read_text("utf-8")
    terminal = shipped[shipped.index("terminal:"):shipped.index("hubs:")]
    every_reader = "[panasonic, canon, usen_almex, fujitsu_japan, atlas]"
    assert every_reader in terminal
    terminal = terminal.replace(every_reader, "[panasonic]")
    camera = re.search(r"  - name: cam-panasonic\n(    .*\n)+", shipped)
    monitor = re.search(r"  - name: cam-terminal\n(    .*\n)+", shipped)
    assert camera and monitor
    return f"""bench: lab-small
kind: emulated
{terminal}readers:
  - name: panasonic
    kind: face_auth_reader
    maker: panasonic
    usb: {{vid: "FFFF", pid: "F001", placeholder: true, path: "2-1"}}
    power: {{relay: mains, channel: 1}}
    camera: cam-panasonic
    emulate: {devices}/face_auth/panasonic.yaml
  - name: maxell-m-1850s-n2
    kind: general_reader
    maker: Maxell
    model: M-1850S-N2
    usb: {{vid: "31AA", pid: "3002", path: "1-1"}}
    emulate: {devices}/general/maxell-m-1850s-n2.yaml
  - name: sony-rc-s300-s1
    kind: general_reader
    maker: Sony
    model: RC-S300/S1
    usb: {{vid: "054C", pid: "0DC8", path: "1-3"}}
    emulate: {devices}/general/sony-rc-s300-s1.yaml
instruments:
  - {{name: mains, kind: numato_relay, port: emulated, channels: 8}}
cameras:
{camera.group(0)}{monitor.group(0)}pcsc:
  service: inprocess
"""


def test_certify_from_a_lab_folder(installed: Installed) -> None:
    """``onshi-rig certify`` in a lab's folder whose onshi-rig.toml names its bench (in a
    subfolder, relative to the file): the general readers certified with the shipped
    profiles, twins, screens and suites; the report in the folder's reports/, saying the
    installed rig made it (no commit: it is no checkout) from the shipped profiles."""
    lab = installed.lab / "certify"
    (lab / "benches").mkdir(parents=True)
    (lab / "benches" / "small.yaml").write_text(_lab_bench(installed.data), encoding="utf-8")
    (lab / CONFIG_FILE).write_text('bench = "benches/small.yaml"\n', encoding="utf-8")
    proc = installed.run(installed.onshi_rig, "certify", "--vendor", "general_readers",
                         "--no-evidence", "--jobs", "1", cwd=lab)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
    (run,) = (lab / "reports").iterdir()
    report = json.loads((run / "certification.json").read_text("utf-8"))
    assert report["bench"]["file"] == str(lab / "benches" / "small.yaml")
    assert report["bench"]["name"] == "lab-small"
    rows = report["makers"]["general_readers"]
    # Every requirement of the shipped general-readers profile, each passed.
    shipped = yaml.safe_load((CHECKOUT / "vendor_profiles" / "general_readers.yaml")
                             .read_text("utf-8"))
    assert {req: row["status"] for req, row in rows.items()} == {
        r["id"]: "passed" for r in shipped["requirements"]}
    assert all(test.startswith("suites/") for test in report["tests"])
    rig = report["rig"]
    assert (rig["version"], rig["commit"], rig["modified"]) == (VERSION, None, None)
    assert rig["profiles"]["dir"] == str(installed.data / "vendor_profiles")
    assert rig["profiles"]["sha256"] == tree_sha256(CHECKOUT / "vendor_profiles")
    # The code it ran: the installed copy's.
    assert rig["code_sha256"] == _code_sha256(installed.site / "harness",
                                              installed.data / "suites")
    assert not (installed.site / "reports").exists()
    assert not (installed.data / "reports").exists()


def _code_sha256(harness: Path, suites: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    for folder in (harness, suites):
        digest.update(tree_sha256(folder, "**/*.py").encode("ascii"))
    return digest.hexdigest()


def test_pytest_runs_the_shipped_suites_by_package(installed: Installed) -> None:
    """``pytest --pyargs onshi_rig_data.suites --bench FILE`` from any folder: the rig's
    plugin (an entry point) gives --bench; the shipped suites run on that bench."""
    lab = installed.lab / "pyargs"
    lab.mkdir()
    bench = lab / "small.yaml"
    bench.write_text(_lab_bench(installed.data), encoding="utf-8")
    proc = installed.run(installed.python, "-m", "pytest", "--pyargs", "onshi_rig_data.suites",
                         "--bench", bench, "-p", "no:cacheprovider", "-q",
                         "-k", "test_wiring_rule and sony", cwd=lab)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
    # The Sony reader's wiring rules, each a test of its own: at least USB-03 to USB-05 and
    # SP-05, all passed.
    found = re.search(r"^(\d+) passed, \d+ deselected in", proc.stdout, re.M)
    assert found and int(found.group(1)) >= 4, proc.stdout[-2000:]


def test_a_bad_config_file_is_one_line_and_exit_2(installed: Installed) -> None:
    lab = installed.lab / "bad"
    lab.mkdir()
    (lab / CONFIG_FILE).write_text('# the lab\nscreens = "nowhere"\n', encoding="utf-8")
    proc = installed.run(installed.onshi_rig, "scan", cwd=lab)
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == f"{CONFIG_FILE}:2: screens: no such folder: {lab / 'nowhere'}\n"


# -- onshi-rig.toml, in this process ------------------------------------------------------


def _problems(path: Path) -> list[str]:
    with pytest.raises(BadInput) as caught:
        load_config(path, shown=CONFIG_FILE)
    return [p.line_text() for p in caught.value.problems]


def test_config_paths_are_relative_to_the_file(tmp_path: Path) -> None:
    (tmp_path / "p").mkdir()
    (tmp_path / "s").mkdir()
    (tmp_path / "b.yaml").write_text("bench: x\n", encoding="utf-8")
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / CONFIG_FILE).write_text('profiles = "../p"\nscreens = "../s"\nbench = "../b.yaml"\n',
                                   encoding="utf-8")
    assert load_config(sub / CONFIG_FILE) == LabConfig(
        file=sub / CONFIG_FILE, profiles=tmp_path / "p", screens=tmp_path / "s",
        bench=tmp_path / "b.yaml")


def test_config_problems_are_all_listed_with_their_lines(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("", encoding="utf-8")
    (tmp_path / CONFIG_FILE).write_text(
        'profiles = "a-file"\n\nscreens = 3\nbench = "."\nreports = "r"\n'
        '"profile" = "x"\n', encoding="utf-8")
    assert _problems(tmp_path / CONFIG_FILE) == [
        f"{CONFIG_FILE}:1: profiles: {tmp_path / 'a-file'} is a file, not a folder",
        f'{CONFIG_FILE}:3: screens: give a path as a string, e.g. screens = "..." (got int)',
        f"{CONFIG_FILE}:4: bench: {tmp_path} is a folder, not a file",
        f"{CONFIG_FILE}:5: reports: unknown key (known: bench, profiles, screens)",
        f"{CONFIG_FILE}:6: profile: unknown key (known: bench, profiles, screens)",
    ]


def test_a_device_in_the_config_is_named_as_one(tmp_path: Path) -> None:
    """K2-6: `bench = "/dev/null"` was "a folder, not a file"."""
    (tmp_path / CONFIG_FILE).write_text('bench = "/dev/null"\nscreens = "/dev/null"\n',
                                        encoding="utf-8")
    assert _problems(tmp_path / CONFIG_FILE) == [
        f"{CONFIG_FILE}:1: bench: /dev/null is not a regular file (a character device)",
        f"{CONFIG_FILE}:2: screens: /dev/null is a character device, not a folder",
    ]


@pytest.mark.parametrize(("text", "expected"), [
    ('bench = "x"\nscreens = \n', ":2: screens: not valid TOML: invalid value (column 11)"),
    ('\n\nprofiles = "unterminated\n', ":3: profiles: not valid TOML: "),
    ('[profiles]\ndir = "p"\n', ":1: profiles: give a path as a string"),
    ('bench = ""\n', ":1: bench: an empty path"),
    ('bench = "x"\nbench = "y"\n', ":2: bench: not valid TOML: cannot overwrite a value"),
])
def test_config_syntax_errors_name_their_line(tmp_path: Path, text: str, expected: str
                                              ) -> None:
    (tmp_path / CONFIG_FILE).write_text(text, encoding="utf-8")
    (problem,) = _problems(tmp_path / CONFIG_FILE)
    assert problem.startswith(CONFIG_FILE + expected), problem


def test_config_not_utf8(tmp_path: Path) -> None:
    (tmp_path / CONFIG_FILE).write_bytes(b'bench = "x"\nscreens = "\xff"\n')
    assert _problems(tmp_path / CONFIG_FILE) == [f"{CONFIG_FILE}:2: not UTF-8 text"]


def test_the_working_folders_config_sets_the_defaults(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """From a lab folder, the defaults every command and the suites use are the lab's; an
    option still wins (the CLI's ``args.x or default``); elsewhere they are the shipped
    ones. ``learn`` writes into the lab's screens, never into an installed rig's."""
    from harness.bench import default_bench_path
    from harness.model.profiles import default_profiles_dir
    from harness.vision.reference import default_screens_dir

    monkeypatch.chdir(tmp_path)
    assert lab_config() == LabConfig()
    assert default_profiles_dir() == project_file("vendor_profiles")
    assert default_screens_dir() == project_file("fixtures/screens")
    assert default_bench_path() == project_file("fixtures/benches/emulated.yaml")
    for name in ("profiles", "screens"):
        (tmp_path / name).mkdir()
    (tmp_path / "lab.yaml").write_text("bench: lab\n", encoding="utf-8")
    (tmp_path / CONFIG_FILE).write_text(
        'profiles = "profiles"\nscreens = "screens"\nbench = "lab.yaml"\n', encoding="utf-8")
    assert default_profiles_dir() == tmp_path / "profiles"
    assert default_screens_dir() == tmp_path / "screens"
    assert default_bench_path() == tmp_path / "lab.yaml"
    assert screens_to_write(None) == tmp_path / "screens"
    assert screens_to_write(tmp_path / "given") == tmp_path / "given"
    # Changed in place: read again.
    (tmp_path / CONFIG_FILE).write_text('profiles = "missing"\n', encoding="utf-8")
    with pytest.raises(BadInput, match=r"^onshi-rig.toml:1: profiles: no such folder"):
        default_profiles_dir()


def test_an_installed_rig_never_learns_into_itself(monkeypatch: pytest.MonkeyPatch,
                                                   tmp_path: Path) -> None:
    import harness.paths

    monkeypatch.chdir(tmp_path)
    assert checkout() == CHECKOUT
    assert screens_to_write(None) == project_file("fixtures/screens")
    monkeypatch.setattr(harness.paths, "checkout", lambda: None)
    with pytest.raises(RigError, match="name the folder to write the reference screens"):
        screens_to_write(None)


def test_the_cli_stops_on_a_bad_config_before_any_command(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]
                                                          ) -> None:
    from harness.cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / CONFIG_FILE).write_text('bench = 1\nfoo = "x"\n', encoding="utf-8")
    assert main(["catalogue"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (f'{CONFIG_FILE}:1: bench: give a path as a string, e.g. bench = "..." '
                   f"(got int)\n{CONFIG_FILE}:2: foo: unknown key (known: bench, profiles, "
                   "screens)\n")
