"""Bad input and interruptions the J hunt found, each said as ``file:line: field: problem``
(exit 2, no traceback) or kept whole, never judged against a maker.

- J-3: a USB port path in full-width or other-script digits, or with leading zeros, read as
  a number yet compared as written: the reader "not found", its maker failing USB-02.
- J-1: a PIN or passcode typed back at the rig's prompt recorded on the timeline.
- J-6: a device at a reader's port path taken as that reader whatever its USB ID: two
  readers swapped between ports judged as each other (USB-01 passed on a USB 2.0 port).
- J-4: a profile's UPD-01 distribution schedule checked field by field only: reversed
  nights passed with no night probed, a naive time or a far year a Python exception.
- J-5: ``references`` drew the twin's screen over a reference the lab learnt by its name.
- J-7: an operator script's bare ``answer: 0123`` typed as passcode 83, ``1:30`` as 90.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from cli_fork import run_cli
from test_bad_input_more import bench, run

from harness.hands import OWN_PIN, ManualHands, Phone
from harness.model.clock import VirtualClock
from harness.model.timeline import Timeline
from harness.paths import project_file

NOT_A_PATH = "not a USB port path like '1-4' or '1-4.2' (ASCII digits, no leading zeros)"


@pytest.mark.parametrize("at", ["２-2", "2-٢", "2-02", "02-2", "2-1.03"])
def test_a_port_path_not_as_linux_writes_it_is_bad_input(
        at: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = bench(tmp_path, "readers:\n  - {name: canon, usb: {vid: \"FFFF\", pid: \"F002\", "
                           f"placeholder: true, path: \"{at}\"}}}}\n")
    assert run(capsys, "scan", "--bench", str(path)) == (
        2, [f"{path}:4: readers[canon].usb.path: {NOT_A_PATH}: {at!r}"])


@pytest.mark.parametrize(("text", "field"), [
    ("terminal:\n  usb_ports:\n    - {path: \"２-1\", usb: \"3.0\"}\n",
     "5: terminal.usb_ports[0].path"),
    ("hubs:\n  - {name: hub2, path: \"1-04\", usb: \"2.0\"}\n", "4: hubs[hub2].path"),
])
def test_terminal_ports_and_hubs_take_the_same_paths(
        text: str, field: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = bench(tmp_path, text)
    code, lines = run(capsys, "scan", "--bench", str(path))
    assert code == 2
    assert lines[0].startswith(f"{path}:{field}: {NOT_A_PATH}")


def test_an_operator_answer_yaml_reads_as_a_number_is_bad_input(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = tmp_path / "op.yaml"
    script.write_text('- ask: "passcode"\n  answer: 0123\n- ask: "restart"\n  answer: 1:30\n'
                      '- ask: "x"\n  answer: "0123"\n', encoding="utf-8")
    path = tmp_path / "real.yaml"
    path.write_text(
        "bench: real\nkind: real\n"
        f"sysfs_root: {project_file('fixtures/sysfs/terminal-a')}\nusb_devices: sysfs\n"
        "readers:\n  - {name: pasori, kind: general_reader, maker: Sony, model: RC-S300/S1,"
        " usb: {vid: '054C', pid: '0DC8'}}\n"
        "operator: {timeout_s: 5, script: op.yaml}\n", encoding="utf-8")
    quote = "write it in quotes, as it is typed: YAML reads it unquoted as the number"
    assert run(capsys, "certify", "--plan", "--bench", str(path)) == (2, [
        f"{script}:2: [0].answer: {quote} 83 (a bare 0123 is 83, 1:30 is 90)",
        f"{script}:4: [1].answer: {quote} 90 (a bare 0123 is 83, 1:30 is 90)"])


@pytest.mark.parametrize("typed", ["7391", "PIN 7391", "ok"])
def test_a_secret_typed_back_at_the_prompt_never_reaches_the_timeline(typed: str) -> None:
    """J-1: the prompt says "type ... 7391 ... press Enter"; a person who types the digits
    at the rig's prompt, not the reader's, had them recorded as the answer."""
    clock = VirtualClock()
    timeline = Timeline(clock)

    def ask(shown: str) -> str:
        # The digits typed back; asked again (neither done nor no), then Enter.
        return "" if "is neither" in shown else typed.replace("7391", _digits(shown))

    hands = ManualHands(clock, ask=ask, timeline=timeline)
    hands.pin("canon", "7391", entry=OWN_PIN)
    hands.passcode("canon", "4821")
    hands.phone_pin("canon", Phone("phone-1", "android", "7391"), "7391")
    hands.card_out("canon")
    kept = f"({len(typed)} {'digits' if typed.isdigit() else 'characters'})"
    answers = [(e.kind, e.data["answer"]) for e in timeline
               if e.kind in ("operator.answered", "operator.unclear")]
    if typed == "ok":
        assert answers == [("operator.answered", kept)] * 3 + [("operator.answered", "ok")]
    else:
        rest = typed.replace("7391", "").strip()  # a step with no code: "" or "PIN"
        assert answers == [("operator.unclear", kept), ("operator.answered", "")] * 3 + (
            [("operator.unclear", rest)] if rest else []) + [("operator.answered", "")]
    assert not any(re.search("7391|4821", repr(e)) for e in timeline)


def _digits(shown: str) -> str:
    found = re.search(r"\b\d{4}\b", shown.rsplit("[operator] ", 1)[-1])  # the step's
    return found.group(0) if found else ""


def _swapped_bench(tmp_path: Path) -> Path:
    """The emulated bench as the lab wrote it, the two face-auth readers' devices swapped
    between their ports (the Canon device at Panasonic's 2-1, the Panasonic at 2-2)."""
    twins = project_file("fixtures/devices/face_auth")
    return bench(tmp_path, f"readers:\n  - {{name: panasonic, emulate: {twins}/canon.yaml}}\n"
                           f"  - {{name: canon, emulate: {twins}/panasonic.yaml}}\n")


SWAPPED = ["{path}:4: readers[panasonic].usb.path: panasonic: the device at 2-1 is FFFF:F002 "
           "(the ID of canon: readers swapped?), the bench file says FFFF:F001; no reader is judged "
           "on it",
           "{path}:5: readers[canon].usb.path: canon: the device at 2-2 is FFFF:F001 "
           "(the ID of panasonic: readers swapped?), the bench file says FFFF:F002; no reader is "
           "judged on it"]


def test_readers_swapped_between_ports_are_the_bench_being_wrong(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """J-6: a device at an entry's port was taken as the entry whatever its USB ID: each
    reader judged by the other maker's rules, the row printing the other's ID."""
    path = _swapped_bench(tmp_path)
    assert run(capsys, "scan", "--bench", str(path)) == (
        2, [line.format(path=path) for line in SWAPPED])


def test_a_general_reader_not_the_one_at_its_port_is_not_probed(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    twin = project_file("fixtures/devices/general/elecom-mr-ica001bk.yaml")
    path = bench(tmp_path, f"readers:\n  - {{name: sony-rc-s300-s1, emulate: {twin}}}\n")
    code, lines = run(capsys, "probe", "--bench", str(path), "--card", "card",
                      "--reader", "sony-rc-s300-s1")
    assert (code, lines) == (2, [
        f"{path}:4: readers[sony-rc-s300-s1].usb.path: sony-rc-s300-s1: the device at 1-3 is 31AA:3002 "
        "(the ID of sanwa-adr-mnicu3, abcircle-cir315a-02, maxell-m-1850s-n2, "
        "elecom-mr-ica001bk: readers swapped?), "
        "the bench file says 054C:0DC8; no reader is judged on it"])


def test_a_serial_not_the_entrys_at_its_port_is_said(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "real.yaml"
    path.write_text(
        "bench: real\nkind: real\nusb_devices: sysfs\n"
        f"sysfs_root: {project_file('fixtures/sysfs/terminal-a')}\nterminal: {{name: t}}\n"
        "readers:\n  - {name: canon, kind: face_auth_reader, maker: canon,\n"
        "     usb: {vid: 'FFFF', pid: 'F002', serial: 'C-0001', path: '1-3'}}\n",
        encoding="utf-8")
    assert run(capsys, "scan", "--bench", str(path)) == (2, [
        f"{path}:8: readers[0].usb.path: canon: the device at 1-3 is serial "
        "'PLACEHOLDER-F002', the bench file says serial 'C-0001'; no reader is judged on it"])


def test_certify_judges_no_maker_on_swapped_readers(tmp_path: Path) -> None:
    """USB-01 passed a Panasonic on a USB 2.0 port as the Canon at 2-1: now the wiring
    requirements are not run, a bench fault naming the bench file's lines."""
    path = _swapped_bench(tmp_path)
    out = tmp_path / "run"
    proc = run_cli(["certify", "--bench", str(path), "--vendor", "panasonic", "--jobs", "1",
                    "--no-evidence", "--quiet", "--out", str(out), "--", "-k",
                    "USB-01 or USB-02"], timeout=300, cwd=project_file("."))
    assert "Traceback" not in proc.stderr, proc.stderr
    report = json.loads((out / "certification.json").read_text("utf-8"))
    judged = {req: report["makers"]["panasonic"][req] for req in ("USB-01", "USB-02")}
    for verdict in judged.values():
        assert verdict["status"] == "not_run"
        assert verdict["verdicts"] == []
        assert SWAPPED[0].format(path=path) in verdict["reasons"][0]
    assert not report["passed"]


def test_references_never_redraw_a_reference_the_lab_learnt(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """J-5: ``learn --replace`` retook 'first' from the real reader; the next ``references``
    drew the twin's 'first' over its picture and dropped its entry, without a word."""
    from harness.cli import main
    from harness.vision.reference import read_index

    folder = tmp_path / "screens"
    shutil.copytree(project_file("fixtures/screens/canon"), folder / "canon")
    assert main(["learn", "--vendor", "canon", "--state", "first", "--replace", "--camera",
                 "cam-canon", "--screens", str(folder)]) == 0
    learnt = (folder / "canon/first.png").read_bytes()
    drawn = (folder / "canon/checking.png").read_bytes()
    (folder / "canon/checking.png").write_bytes(b"")  # a drawn one is drawn again
    capsys.readouterr()
    assert main(["references", "--out", str(folder), "--vendor", "canon"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1:] == ["canon: first: learnt, kept (not redrawn)"]
    assert (folder / "canon/first.png").read_bytes() == learnt
    assert (folder / "canon/checking.png").read_bytes() == drawn
    entries = read_index(folder / "canon").references
    assert entries["first"].learnt and entries["first"].state == "first"
    assert not any("first" in e.also for e in entries.values())


UPD01 = "requirements[1].check"


@pytest.mark.parametrize(("old", "new", "line", "field", "problem"), [
    ("nightly_to: 2026-01-30", "nightly_to: 2026-01-18", 31, "nightly_to",
     "before nightly_from (2026-01-19)"),
    ("manual_from: 2026-01-19T13:00:00+09:00", "manual_from: 2026-01-19T13:00:00", 35,
     "manual_from", "give a time zone, e.g. 2026-01-19T13:00:00+09:00"),
    ("nightly_from: 2026-01-19", "nightly_from: 1999-01-19", 30, "nightly_from",
     "a year from 2000 to 2100, not 1999"),
    ("all_day_from: 2026-01-31", "all_day_from: 9999-01-31", 34, "all_day_from",
     "a year from 2000 to 2100, not 9999"),
    ('end: "05:00"', 'end: "20:00"', 33, "window",
     "start and end both 20:00: a window of no time (end before start is the next morning)"),
    ("nightly_except: [2026-01-25]", "nightly_except: [2025-01-25]", 32, "nightly_except",
     "2025-01-25: not among the nights 2026-01-19 to 2026-01-30"),
    ("nightly_except: [2026-01-25]",
     "nightly_except: [" + ", ".join(f"2026-01-{d}" for d in range(19, 31)) + "]", 32,
     "nightly_except", "every night from 2026-01-19 to 2026-01-30: no night left to probe"),
    ("all_day_from: 2026-01-31", "all_day_from: 2026-01-10", 34, "all_day_from",
     "before nightly_to (2026-01-30)"),
    ("all_day_from: 2026-01-31", "all_day_from: 2026-01-30", 34, "all_day_from",
     "the same day as nightly_to (2026-01-30)"),
])
def test_a_distribution_schedule_is_checked_as_a_whole(
        old: str, new: str, line: int, field: str, problem: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """J-4: reversed nights passed UPD-01 with no night probed; a naive manual_from, a far
    year failed the maker with a TypeError or OverflowError."""
    folder = Path(shutil.copytree(project_file("vendor_profiles"), tmp_path / "profiles"))
    canon = folder / "canon.yaml"
    text = canon.read_text("utf-8")
    assert text.count(old) == 1
    canon.write_text(text.replace(old, new), "utf-8")
    assert run(capsys, "certify", "--plan", "--profiles", str(folder), "--vendor", "canon") \
        == (2, [f"{canon}:{line}: {UPD01}.{field}: {problem}"])
