"""Bad input the second hunt found: each is exit 2 on the command line, one message per
problem as ``file:line: field: problem`` naming the file the user wrote, never a traceback.

- YAML dates the calendar lacks (a bench's clock, a profile's schedule).
- A face-auth maker with no profile for ``scan`` and ``probe`` (as ``certify`` says it).
- The lab's list of designated general readers naming a model the profiles do not know.
- An operator script missing or with bad rules (read before the run, not at its first step).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cli_fork import run_cli
from flow_helpers import DEFAULT_BENCH

from harness.cli import main
from harness.model.profiles import default_profiles_dir
from harness.paths import project_file


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[str]]:
    """The command line in-process: its exit code and its message's lines (the command's
    prefix taken off the first)."""
    code = main(list(argv))
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    return code, err.removeprefix(f"onshi-rig {argv[0]}: ").splitlines()


def bench(tmp_path: Path, text: str, name: str = "bench.yaml") -> Path:
    """A bench file on the emulated bench: ``text`` below its ``base`` and ``bench``
    lines (so the file's line 3 is ``text``'s first)."""
    path = tmp_path / name
    path.write_text(f"base: {DEFAULT_BENCH}\nbench: t\n{text}", encoding="utf-8")
    return path


def test_a_clock_start_the_calendar_lacks_is_bad_input(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = bench(tmp_path, "clock:\n  start: 2026-02-30T08:30:00+09:00\n"
                           "power_on:\n  - wait_s: 2026-13-01\n")
    code, lines = run(capsys, "pcscd-config", "--bench", str(path))
    assert code == 2
    assert lines == [
        f"{path}:4: clock.start: not a date the calendar has (day is out of range for month)",
        f"{path}:6: power_on[0].wait_s: not a date the calendar has (month must be in 1..12)"]


def test_a_profile_date_the_calendar_lacks_is_bad_input(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "profiles"
    shutil.copytree(default_profiles_dir(), folder)
    atlas = folder / "atlas.yaml"
    text = atlas.read_text("utf-8")
    line = text[:text.index("nightly_from: 2026-01-19")].count("\n") + 1
    atlas.write_text(text.replace("nightly_from: 2026-01-19", "nightly_from: 2026-13-19"),
                     "utf-8")
    code, lines = run(capsys, "catalogue", "--profiles", str(folder))
    assert code == 2
    assert len(lines) == 1 and lines[0].startswith(f"{atlas}:{line}: ")
    assert lines[0].endswith(".nightly_from: not a date the calendar has (month must be in "
                             "1..12)")


@pytest.mark.parametrize("command", [["scan"], ["probe", "--reader", "sony-rc-s300-s1"],
                                     ["certify", "--plan"]])
def test_every_face_auth_maker_without_a_profile_is_named(
        command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = bench(tmp_path, "readers:\n  - name: canon\n    maker: cannon\n"
                           "  - name: atlas\n    maker: atlass\n")
    code, lines = run(capsys, *command, "--bench", str(path))
    assert code == 2
    assert [line.split(" has no")[0] for line in lines] == [
        f"{path}:5: readers[canon].maker: 'cannon'", f"{path}:7: readers[atlas].maker: 'atlass'"]


def test_a_designated_model_the_profiles_do_not_know_is_bad_input(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = bench(tmp_path, "general_reader_rules:\n  designated:\n"
                           "    panasonic:\n      - {maker: Sony, model: RC-S999}\n"
                           "    atlas:\n      - {maker: Sony, model: RC-S300/S1}\n"
                           "      - {maker: Sonny, model: RC-S300/S1}\n")
    code, lines = run(capsys, "scan", "--bench", str(path))
    assert code == 2
    assert [line.split(" (verified")[0] for line in lines] == [
        f"{path}:6: general_reader_rules.designated.panasonic[0]: Sony RC-S999 is not a "
        "verified model",
        f"{path}:9: general_reader_rules.designated.atlas[1]: Sonny RC-S300/S1 is not a "
        "verified model"]


LOOP = "a loop of symbolic links (a link that leads back to itself)"


@pytest.mark.parametrize("command", ["scan", "pcscd-config"])
def test_a_bench_its_base_or_its_twin_that_is_a_link_loop_is_bad_input(
        command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    loop = tmp_path / "loop.yaml"
    loop.symlink_to(loop.name)
    twin = bench(tmp_path, "readers:\n  - name: canon\n    emulate: loop.yaml\n", "twin.yaml")
    based = tmp_path / "based.yaml"
    based.write_text("base: loop.yaml\nbench: t\n", "utf-8")
    for path, expected in [(loop, f"{loop}: {LOOP}"),
                           (twin, f"{twin}:5: readers[canon].emulate: loop.yaml: {LOOP}"),
                           (based, f"{based}:1: base: loop.yaml: {LOOP}")]:
        assert run(capsys, command, "--bench", str(path)) == (2, [expected])


@pytest.mark.parametrize("option", ["--bench", "--profiles"])
def test_certify_names_a_bench_or_profiles_that_is_a_link_loop(
        option: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    loop = tmp_path / "loop"
    loop.symlink_to(loop.name)
    assert run(capsys, "certify", "--plan", option, str(loop)) == (2, [f"{loop}: {LOOP}"])


@pytest.mark.parametrize("command", [["pcscd-config", "--dir"], ["emulate", "--hardware"]])
def test_a_file_given_for_a_folder_to_write_is_bad_input(
        command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plain = tmp_path / "plain.txt"
    plain.write_text("x", "utf-8")
    assert run(capsys, *command, str(plain)) == (2, [f"{command[1]} {plain}: a file, not a "
                                                     "folder"])
    assert plain.read_text("utf-8") == "x"


@pytest.mark.parametrize("command", [
    ["learn", "--vendor", "acme", "--state", "first", "--camera", "cam-acme", "--bench",
     "{missing}", "--screens"],
    ["references", "--vendor", "acme", "--twin", "{missing}", "--out"],
    ["pcscd-config", "--bench", "{missing}", "--dir"],
    ["emulate", "--bench", "{missing}", "--hardware"],
], ids=lambda c: c[0])
def test_bad_input_leaves_no_folder_it_would_have_written(
        command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The folder to write (and the ones above it it would make) is proved makeable before
    any work, and not left behind when the command then stops on bad input."""
    missing = tmp_path / "missing.yaml"
    folder = tmp_path / "new" / "folder"
    code, lines = run(capsys, *(a.format(missing=missing) for a in command), str(folder))
    assert (code, lines) == (2, [f"{missing}: no such file"])
    assert sorted(p.name for p in tmp_path.iterdir()) == []


FIFO = "not a regular file (a FIFO): not a file the rig reads"


@pytest.mark.parametrize("command", [
    ["scan", "--bench", "{fifo}"],
    ["certify", "--plan", "--profiles", "{folder}"],
    ["probe", "--reader", "sony-rc-s300-s1", "--card", "{fifo}"],
    ["classify", "--vendor", "canon", "{fifo}"],
    ["scan"],  # onshi-rig.toml, in the working folder, a FIFO
], ids=["bench", "profile", "card", "image", "config"])
def test_a_fifo_given_for_a_file_is_bad_input_not_a_wait(command: list[str],
                                                         tmp_path: Path) -> None:
    """Opening a FIFO waits for a writer: the command hung for ever. Refused, exit 2."""
    folder = tmp_path / "profiles"
    shutil.copytree(default_profiles_dir(), folder)
    (folder / "canon.yaml").unlink()
    fifo = folder / "canon.yaml" if "--profiles" in command else tmp_path / "input.yaml"
    os.mkfifo(fifo)
    if command == ["scan"]:
        os.symlink(fifo, tmp_path / "onshi-rig.toml")
    proc = run_cli([a.format(fifo=fifo, folder=folder) for a in command], cwd=tmp_path,
                   timeout=60)  # a wait for the FIFO's writer fails here, not for ever
    said = proc.stdout + proc.stderr  # classify says each picture's on its own line
    assert proc.returncode == 2, said
    assert FIFO in said and "Traceback" not in said, said


@pytest.mark.parametrize("twin", ["/dev/zero", "fifo"])
def test_a_twin_that_is_no_regular_file_is_said_on_the_bench_line(
        twin: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The bench's ``emulate:`` naming a device or a FIFO: the bench file's line, as a
    missing twin is (it said only "/dev/zero: larger than 2 MB", naming no line)."""
    if twin == "fifo":
        twin = str(tmp_path / "twin.yaml")
        os.mkfifo(twin)
    path = bench(tmp_path, f"readers:\n  - name: canon\n    emulate: {twin}\n")
    assert run(capsys, "scan", "--bench", str(path)) == (2, [
        f"{path}:5: readers[canon].emulate: {twin} is not a regular file, not a behaviour "
        "file"])


def test_a_config_file_that_never_ends_is_refused_not_read_whole(tmp_path: Path) -> None:
    """onshi-rig.toml a link to /dev/zero was read whole until the kernel killed the rig
    (24 GB): now the 2 MB every file the rig reads is held to (here under a memory cap)."""
    (tmp_path / "onshi-rig.toml").symlink_to("/dev/zero")
    # The cap set by the child itself before it runs the rig: a preexec_fn would fork this
    # worker, whose gRPC threads (labgrid's tests) abort a forked child now and then.
    capped = ("import resource, runpy, sys; "
              "resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30)); "
              "sys.argv = ['onshi-rig', 'scan']; runpy.run_module('harness.cli', "
              "run_name='__main__')")
    proc = subprocess.run([sys.executable, "-c", capped], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(project_file("."))})
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert proc.stderr.strip() == ("onshi-rig.toml: cannot read it (larger than 2 MB: not a "
                                   "file the rig reads (a device that never ends?))"), proc.stderr


@pytest.mark.parametrize(("text", "expected"), [
    ("clock:\n  start: 9999-12-31T23:59:59+09:00\n",
     "4: clock.start: a year from 2000 to 2100, not 9999"),
    ("clock:\n  start: 1970-01-01T00:00:00+09:00\n",
     "4: clock.start: a year from 2000 to 2100, not 1970"),
    ("power_on:\n  - switch_on: [terminal]\n    wait_s: 1e12\n",
     "5: power_on[0].wait_s: Input should be less than or equal to 86400"),
])
def test_a_value_that_would_overflow_the_run_is_bad_input_up_front(
        text: str, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = bench(tmp_path, text)
    assert run(capsys, "scan", "--bench", str(path)) == (2, [f"{path}:{expected}"])


def test_a_mistake_in_a_middle_base_file_is_named_at_its_own_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    middle = bench(tmp_path, "\n\n\ndescripton: a typo\nreaders:\n  - name: canon\n"
                             "    usb: {path: '9-x'}\n", "middle.yaml")
    top = tmp_path / "top.yaml"
    top.write_text("base: middle.yaml\nbench: top\nreaders:\n  - name: atlas\n"
                   "    usb: {path: '8-y'}\n", "utf-8")
    code, lines = run(capsys, "scan", "--bench", str(top))
    assert code == 2
    assert sorted(line.split(": not a USB")[0] for line in lines) == [
        f"{middle}:6: descripton: unknown field (a typo?)",
        f"{middle}:9: readers[canon].usb.path", f"{top}:5: readers[atlas].usb.path"]


def test_a_deviation_is_named_at_its_own_entry_the_terminals_too(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = bench(tmp_path, "terminal:\n  deviations:\n"
                           "    - {change: upgrade.aplies_at, to: install}\n"
                           "    - {change: passcode_digits, to: -3}\n"
                           "readers:\n  - name: canon\n    deviations:\n"
                           "      - {change: behaviour.start.seconds, to: 40}\n"
                           "      - {change: behaviour.start.secnds, to: 40}\n"
                           "      - {change: behaviour.start.auto, to: sometimes}\n")
    code, lines = run(capsys, "pcscd-config", "--bench", str(path))
    assert code == 2
    assert [line.split(": ", 2)[0:2] for line in lines] == [
        [f"{path}:5", "terminal.deviations[0]"], [f"{path}:6", "terminal.deviations[1]"],
        [f"{path}:11", "readers[canon].deviations[1]"],
        [f"{path}:12", "readers[canon].deviations[2]"]]
    assert "upgrade.aplies_at: unknown field (a typo?) (oqs-terminal.yaml as deviated)" in \
        lines[0]


def test_a_missing_terminal_behaviour_file_is_named_at_its_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = bench(tmp_path, "terminal:\n  emulate: nosuch-terminal.yaml\n")
    assert run(capsys, "pcscd-config", "--bench", str(path)) == (
        2, [f"{path}:4: terminal.emulate: no behaviour file nosuch-terminal.yaml"])


@pytest.mark.parametrize("name", ["certification.html", "evidence/new.html"])
def test_diff_html_into_a_sealed_run_folder_is_refused(
        name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from harness.report.manifest import check_manifest, write_manifest

    run_dir = tmp_path / "run"
    (run_dir / "evidence").mkdir(parents=True)
    (run_dir / "certification.html").write_text("<p>the run's own</p>", "utf-8")
    write_manifest(run_dir)
    target = run_dir / name
    code, lines = run(capsys, "report", "diff", str(run_dir), str(run_dir), "--html",
                      str(target))
    assert code == 2
    assert lines == [f"--html {target}: inside the run folder {run_dir} (it has "
                     "manifest.sha256); writing there would change that run: give a file "
                     "outside it"]
    assert check_manifest(run_dir).ok


@pytest.mark.parametrize(("auth", "sign"), [("12a4", "AB"), ("12", "ABCDEFGHIJKLMNOPQ"),
                                           ("1234567", "abc123"), ("123", "ABC 123")])
def test_a_card_pin_the_card_could_not_have_is_bad_input_without_its_value(
        auth: str, sign: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    card = tmp_path / "card.yaml"
    card.write_text(f"base: {project_file('fixtures/cards/mynumber-card.yaml')}\nname: c\n"
                    "applets:\n  - name: jpki\n    pins:\n"
                    f"      - {{name: auth_pin, fid: '0018', value: '{auth}', tries: 3}}\n"
                    f"      - {{name: sign_pin, fid: '001B', value: '{sign}', tries: 5}}\n",
                    "utf-8")
    code, lines = run(capsys, "probe", "--reader", "sony-rc-s300-s1", "--card", str(card))
    assert code == 2
    assert lines == [
        f"{card}:6: applets[jpki].pins[auth_pin].value: the authentication PIN must be 4 digits",
        f"{card}:7: applets[jpki].pins[sign_pin].value: the signature PIN must be 6 to 16 capital "
        "letters and digits"]
    shown = [line.removeprefix(f"{card}:") for line in lines]  # its folder may hold digits
    assert not any(auth in line or sign in line for line in shown)


def test_a_folder_given_as_a_twin_is_named_at_its_emulate_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "twins").mkdir()
    path = bench(tmp_path, "readers:\n  - name: canon\n    emulate: twins\n")
    assert run(capsys, "pcscd-config", "--bench", str(path)) == (
        2, [f"{path}:5: readers[canon].emulate: twins is a folder, not a behaviour file"])


@pytest.mark.parametrize(("inline", "expected"), [
    ("quad: [[x, 187.81], [1453.48, 141.74], [1446.85, 688.29], [607.35, 669.7]], "
     "frame_size: [1920, 1080], screen_size: [1024, 600]",
     "calibration.quad[0][0]: Input should be a valid number, unable to parse string as a "
     "number"),
    ("quad: [[571.62, 187.81], [1453.48, 141.74], [1446.85, 688.29], [607.35, 669.7]], "
     "frame_size: [1920, 1080], screen_sise: [1024, 600]",
     "calibration.screen_sise: unknown field (a typo?)"),
])
def test_an_inline_calibration_names_only_its_own_problem(
        inline: str, expected: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    path = bench(tmp_path, f"cameras:\n  - name: cam-canon\n    calibration: {{{inline}}}\n")
    assert run(capsys, "pcscd-config", "--bench", str(path)) == (
        2, [f"{path}:5: cameras[cam-canon].{expected}"])


def test_a_learnt_region_out_of_range_says_why_without_pydantics_help_link() -> None:
    from harness.cli_vision import _parse_region

    assert _parse_region("a:match:1,2,-3,4") == (
        "box: needs x >= 0, y >= 0 and a positive width and height")


def test_an_operator_script_is_read_before_the_run(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """A missing script, or one with bad rules, stopped the run at the first step asked
    (failing that requirement); now it is bad input up front, every problem listed."""
    sysfs = project_file("fixtures/sysfs/terminal-a")
    path = tmp_path / "real.yaml"
    path.write_text(
        "bench: real\nkind: real\n"
        f"sysfs_root: {sysfs}\nusb_devices: sysfs\nreaders:\n"
        "  - {name: pasori, kind: general_reader, maker: Sony, model: RC-S300/S1,"
        " usb: {vid: '054C', pid: '0DC8'}}\n"
        "operator: {timeout_s: 5, script: op.yaml}\n", encoding="utf-8")
    assert run(capsys, "certify", "--plan", "--bench", str(path)) == (
        2, [f"{path}:7: operator.script: no file {tmp_path / 'op.yaml'}"])
    script = tmp_path / "op.yaml"
    script.write_text('- ask: "^take the card"\n  after_s: 3\n- ask: "(unclosed"\n'
                      '- ask: "x"\n  aftr_s: 2\n', encoding="utf-8")
    code, lines = run(capsys, "certify", "--plan", "--bench", str(path))
    assert code == 2
    assert [line.split(": ", 2)[:2] for line in lines] == [
        [f"{script}:3", "[1].ask"], [f"{script}:5", "[2].aftr_s"]]


@pytest.mark.parametrize(("text", "line", "field", "problem"), [
    ("robot:\n  port: emulated\n  readers:\n    canon:\n      calibration: {corners: "
     "[[40.2, 29.9], [193.4, 35.6], [190.5, 125.1]]}\n", 7,
     "robot.readers.canon.calibration.corners", "too few values: item [3] is missing"),
    ("cameras:\n  - name: cam-atlas\n    lamps:\n      - {name: logo, at: [0.5], "
     "size: [0.16, 0.035]}\n", 6, "cameras[cam-atlas].lamps[logo].at", "too few values: item [1] is missing"),
])
def test_a_point_or_a_quadrilateral_short_of_values_says_so(
        text: str, line: int, field: str, problem: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Not 'required field is missing' for a tuple's last position: the field is there."""
    path = bench(tmp_path, text)
    assert run(capsys, "scan", "--bench", str(path)) == (2, [f"{path}:{line}: {field}: {problem}"])


def test_a_lab_config_with_a_bom_is_read(tmp_path: Path) -> None:
    """Windows' Notepad starts a UTF-8 file with a BOM: the YAML files take it, so does the
    lab's onshi-rig.toml (tomllib alone refuses it as an invalid statement)."""
    from harness.config import load_config

    profiles = tmp_path / "profiles"
    shutil.copytree(default_profiles_dir(), profiles)
    path = tmp_path / "onshi-rig.toml"
    path.write_bytes(b"\xef\xbb\xbfprofiles = \"profiles\"\n")
    assert load_config(path).profiles == profiles


def test_a_file_given_as_the_profiles_folder_says_so(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    plain = tmp_path / "canon.yaml"
    plain.write_text("key: canon\n", "utf-8")
    assert run(capsys, "certify", "--plan", "--profiles", str(plain)) == (
        2, [f"{plain}: a file, not a folder of vendor profiles"])


CARD_WITH_THREE_PROBLEMS = """\
name: x
atr: "ZZ"
applets:
  - name: jpki
    aid: "D3 92 F0 00 26 01 00 00 00 01"
    pins:
      - {name: auth_pin, fid: "0018", value: "12345", tries: 99}
    files:
      - {name: token, fid: "0006", content_text: JPKIAPICCTOKEN2, pad_to: 32}
"""


def test_a_files_problems_come_at_once_field_and_cross_checks(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """pydantic skips a model's cross-checks when one of its fields fails: they are run
    again with the failed keys left out, so the user does not fix one problem per run."""
    card = tmp_path / "card.yaml"
    card.write_text(CARD_WITH_THREE_PROBLEMS, encoding="utf-8")
    assert run(capsys, "probe", "--reader", "sony-rc-s300-s1", "--card", str(card)) == (2, [
        f"{card}:7: applets[0].pins[0].tries: Input should be less than or equal to 15",
        f"{card}:2: atr: not hex bytes (like \"3B 8A 80\"): 'Z' at character 1 is not a hex "
        "digit",
        f"{card}:7: applets[0].pins[0].value: the authentication PIN must be 4 digits"])
    # A typo'd key and a cross-check of the bench, both named.
    path = bench(tmp_path, "cameras: [{name: cam-x, watches: nosuchreader, source: emulated}]\n"
                           "operatr: {timeout_s: 5}\n")
    assert run(capsys, "scan", "--bench", str(path)) == (2, [
        f"{path}:4: operatr: unknown field (a typo?)",
        f"{path}:3: cameras[cam-x].watches: camera 'cam-x' watches 'nosuchreader': no such reader "
        "or terminal"])
    # A value that picks a kind is not left out (the checks would judge another kind of
    # bench): its own problem alone.
    path = bench(tmp_path, "kind: emulatd\n"
                           "cameras: [{name: cam-x, watches: nosuchreader, source: emulated}]\n")
    code, lines = run(capsys, "scan", "--bench", str(path))
    assert code == 2 and [line.split(": ", 2)[:2] for line in lines] == [[f"{path}:3", "kind"]]


def test_an_unquoted_usb_id_is_refused_not_misread(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """lsusb prints ``ID 0411:1234``: written bare, YAML reads 0411 as octal (0109) and 1234
    as decimal (04D2), another device, which the scan would then not find or misname."""
    path = bench(tmp_path, "readers:\n  - name: sony-rc-s300-s1\n"
                           "    usb: {vid: 0411, pid: 1234}\n")
    assert run(capsys, "scan", "--bench", str(path)) == (2, [
        f"{path}:5: readers[0].usb.vid: 0411 unquoted is read as an octal number (the number "
        "265, 0109 in hex): write the ID as lsusb prints it, in quotes: '0411'",
        f"{path}:5: readers[0].usb.pid: 1234 unquoted is read as a decimal number (the "
        "number 1234, 04D2 in hex): write the ID as lsusb prints it, in quotes: '1234'"])
    # Quoted, or written with 0x, it is the ID meant.
    path = bench(tmp_path, "readers:\n  - name: sony-rc-s300-s1\n"
                           "    usb: {vid: '054C', pid: 0x0DC8}\n")
    code, _ = run(capsys, "scan", "--bench", str(path))
    assert code == 0


def test_a_face_auth_readers_maker_must_agree_with_the_profiles_usb_ids(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A lab that filled in its makers' USB IDs: a reader labelled canon whose ID is
    Panasonic's would be judged by Canon's rules (a Panasonic on a USB 2.0 port passed);
    one whose ID is none of its maker's listed IDs is another device."""
    profiles = tmp_path / "profiles"
    shutil.copytree(default_profiles_dir(), profiles)
    for maker, pid in (("panasonic", "F002"), ("canon", "F001")):
        path = profiles / f"{maker}.yaml"
        text = path.read_text(encoding="utf-8")
        assert "\nusb_ids: []\n" in text
        path.write_text(text.replace("\nusb_ids: []\n",
                                     f'\nusb_ids: [{{vid: "FFFF", pid: "{pid}"}}]\n'), "utf-8")
    sysfs = project_file("fixtures/sysfs/terminal-a")
    path = tmp_path / "real.yaml"
    path.write_text(
        f"bench: real\nkind: real\nusb_devices: sysfs\nsysfs_root: {sysfs}\n"
        "terminal: {name: terminal}\nreaders:\n"
        '  - {name: r1, kind: face_auth_reader, maker: canon, usb: {vid: "FFFF", pid: "F002"}}\n'
        '  - {name: r2, kind: face_auth_reader, maker: canon, usb: {vid: "FFFF", pid: "F009"}}\n',
        encoding="utf-8")
    assert run(capsys, "scan", "--bench", str(path), "--profiles", str(profiles)) == (2, [
        f"{path}:7: readers[0].maker: 'canon', but its USB ID FFFF:F002 is panasonic's in the "
        "vendor profiles",
        f"{path}:8: readers[1].usb: FFFF:F009 is not among canon's USB IDs in its vendor "
        "profile (FFFF:F001)"])


def test_a_model_listed_twice_in_the_labs_lists_is_bad_input(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Two minimum firmware versions for one model: the first used to win without a word
    (USB-08 passed against the lab's stricter line)."""
    path = bench(tmp_path, "general_reader_rules:\n  min_firmware:\n"
                           '    - {maker: Sanwa Supply, model: ADR-MNICU3, version: "1.00"}\n'
                           '    - {maker: sanwa supply, model: ADR-MNICU3, version: "9.99"}\n')
    assert run(capsys, "scan", "--bench", str(path)) == (2, [
        f"{path}:6: general_reader_rules.min_firmware[1]: sanwa supply ADR-MNICU3 is listed "
        "twice (first as [0])"])


def test_a_labs_screens_folder_missing_a_watched_maker_is_refused_before_the_run(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """onshi-rig.toml's screens folder holds Canon's references only: certifying Atlas is
    the lab's folder to mend, refused up front, not every vision test failing against the
    reader; a broken screens.yaml there is named with its line."""
    screens = tmp_path / "scr"
    shutil.copytree(project_file("fixtures/screens/canon"), screens / "canon")
    (tmp_path / "onshi-rig.toml").write_text('screens = "scr"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    assert run(capsys, "certify", "--vendor", "atlas", "--jobs", "1", "--out", str(out)) == (
        2, [f"no reference screens for 'atlas' in {screens}; known: canon"])
    assert not out.exists()
    shutil.copytree(project_file("fixtures/screens/terminal"), screens / "terminal")
    index = screens / "canon" / "screens.yaml"
    index.write_text(index.read_text("utf-8").replace("size: [1024, 600]", "size: [1024, 600",
                                                      1), "utf-8")
    code, lines = run(capsys, "certify", "--vendor", "canon", "--jobs", "1", "--out", str(out))
    assert code == 2 and lines[0].startswith(f"{index}:") and not out.exists()


@pytest.mark.parametrize("item", ["  - nmae: sony-2\n    kind: general_reader\n",
                                  "  - name: 2024\n    kind: general_reader\n"])
def test_an_item_without_a_name_in_a_list_merged_by_name_is_named_alone(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], item: str) -> None:
    """One item without a text name made the list replace the base's whole: the Canon entry
    above it lost what it inherits, four false lines about it and one true."""
    path = bench(tmp_path, "readers:\n  - name: canon\n    usb: {path: '2-2'}\n" + item)
    assert run(capsys, "scan", "--bench", str(path)) == (2, [
        f"{path}:6: readers[1].name: an item of a list merged with its base's by name needs "
        "a name (a text)"])
