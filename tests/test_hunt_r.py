"""Hunt R's findings where an instrument or the bench's identity lied, each pinned by the
check that now refuses it."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.bench_relays import RelayContext, open_relays
from harness.emulation.relay import EmulatedRelayBoard
from harness.errors import BadInput
from harness.loading import load_yaml_model
from harness.model.bench_spec import BenchSpec
from harness.model.clock import RealClock
from harness.model.timeline import Timeline


def test_a_numato_board_pinned_by_its_id_is_checked_at_open(tmp_path: Path) -> None:
    """R9 variant: two Numato boards swap /dev/ttyACM0 and 1 after a reboot; each then
    switched the other's outlets and read its own switch back. The bench file's board_id
    is asked (``id get``) at open: another board on the port is refused, nothing switched."""
    board = EmulatedRelayBoard(8, name="other", board_id="TERMINAL")
    try:
        path = tmp_path / "bench.yaml"
        timeline = Timeline(RealClock())
        for board_id, refused in (("READERS1", True), ("TERMINAL", False)):
            path.write_text(f"""bench: lab
kind: real
instruments:
  - {{name: readers, kind: numato_relay, port: "{board.port}",
     board_id: {board_id}}}
""", encoding="utf-8")
            spec = load_yaml_model(path, BenchSpec, layered=True)
            context = RelayContext(spec, path, timeline.clock, timeline, lambda: None)
            if refused:
                with pytest.raises(BadInput) as caught:
                    open_relays(context)
                assert str(caught.value) == (
                    f"{path}:5: instruments[readers].board_id: the board at {board.port} "
                    "answers id 'TERMINAL', not 'READERS1': another board is on that port "
                    "(boards renumbered?); nothing was switched")
            else:
                relays = open_relays(context)
                relays["readers"].on(0)
                relays["readers"].close()
        assert board.mask == 0b1
    finally:
        board.stop()


def test_a_board_id_is_a_numato_field_of_8_characters(tmp_path: Path) -> None:
    path = tmp_path / "bench.yaml"
    for entry, problem in (
            ("{name: r, kind: numato_relay, port: /dev/ttyACM0, board_id: SHORT}", "board_id"),
            ("{name: r, kind: hid_relay, serial: AAAAA, board_id: ABCDEFGH}",
             "hid_relay takes no board_id")):
        path.write_text(f"bench: lab\nkind: real\ninstruments:\n  - {entry}\n",
                        encoding="utf-8")
        with pytest.raises(BadInput) as caught:
            load_yaml_model(path, BenchSpec, layered=True)
        assert problem in str(caught.value)


def _ghost_bench(tmp_path: Path, readers: str) -> Path:
    """terminal-a's USB tree (nothing at 1-1), with the readers given."""
    from harness.paths import project_file

    path = tmp_path / "bench.yaml"
    path.write_text(f"""bench: ghost
kind: real
usb_devices: sysfs
sysfs_root: {project_file("fixtures/sysfs/terminal-a")}
readers:
{readers}""", encoding="utf-8")
    return path


def test_an_nfc_probe_of_a_reader_not_on_the_bench_is_refused(tmp_path: Path, capsys) -> None:
    """R4: the reader's nfc line was another reader's frontend (a copied line): every step
    ok, exit 0, for a reader not on USB. Refused as the PC/SC probe refuses one."""
    from harness.cli import main

    bench = _ghost_bench(tmp_path, """  - {name: pasori, kind: general_reader, maker: Sony,
     model: RC-S300/S1, usb: {vid: "054C", pid: "0DC8", path: "1-1"},
     nfc: "udp:127.0.0.1:54321"}
""")
    assert main(["probe", "--bench", str(bench), "--reader", "pasori", "--nfc",
                 "--timeout", "1"]) == 2
    err = capsys.readouterr().err
    assert "'pasori': not probed: it is not on the bench (not found on USB at 1-1" in err
    assert "place a My Number card" not in err


@pytest.mark.parametrize(("second", "problem"), [
    ('nfc: "usb:054c:0dc8"', "readers[1].nfc: reader 'two': nfc 'usb:054c:0dc8' is already "
                             "'one''s: one frontend reads for one reader"),
    ('nfc: "usb:054c:06c3"', "readers[1].nfc: reader 'two': nfc 'usb:054c:06c3' is another "
                             "USB ID than its usb 054C:0DC8"),
])
def test_one_nfc_frontend_is_one_readers(tmp_path: Path, second: str, problem: str) -> None:
    """R4: two readers naming one nfc path (or an nfcpy usb:VID:PID of another device) read
    one frontend for both: bad input at the line."""
    bench = _ghost_bench(tmp_path, f"""  - {{name: one, kind: general_reader, maker: Sony,
     model: RC-S300/S1, usb: {{vid: "054C", pid: "0DC8"}}, nfc: "usb:054c:0dc8"}}
  - {{name: two, kind: general_reader, maker: Sony,
     model: RC-S300/S1, usb: {{vid: "054C", pid: "0DC8"}}, {second}}}
""")
    with pytest.raises(BadInput) as caught:
        load_yaml_model(bench, BenchSpec, layered=True)
    assert str(caught.value) == f"{bench}:9: {problem}"


def test_a_card_carrier_that_never_moves_is_bad_input(tmp_path: Path) -> None:
    """R7 variant: on_reader equal to off_reader (a carrier that never moves) was accepted
    and E901-01 failed against the maker for a card the rig never brought."""
    from tests.test_robot import JOGGED, bench_file, robot_block

    block = robot_block(JOGGED)
    block["readers"]["canon"]["card"] = {"by": "servo", "servo": 0, "on_reader": 10,
                                         "off_reader": 10}
    with pytest.raises(BadInput) as caught:
        load_yaml_model(bench_file(tmp_path, block), BenchSpec, layered=True)
    [line] = str(caught.value).splitlines()
    assert line.endswith("robot.readers.canon.card.servo: on_reader and off_reader are both "
                         "10: the carrier would never move the card")


def _two_circles(tmp_path: Path, serials: bool) -> Path:
    """terminal-a's USB tree with a second "Circle CIR315 CL" (31AA:3002) at 1-4.3 on firmware
    1.10 beside its own at 1-4.1 on 1.00: two look-alike re-badges."""
    import shutil

    from harness.paths import project_file

    root = tmp_path / "sysfs"
    shutil.copytree(project_file("fixtures/sysfs/terminal-a"), root, symlinks=True)
    for name in ("idVendor", "idProduct", "manufacturer", "product", "bDeviceClass"):
        shutil.copy(root / "1-4.1" / name, root / "1-4.3" / name)
    (root / "1-4.3" / "bcdDevice").write_text("0110\n", encoding="utf-8")
    (root / "1-4.3" / "serial").unlink()
    if serials:
        (root / "1-4.1" / "serial").write_text("CIRCLE-A\n", encoding="utf-8")
        (root / "1-4.3" / "serial").write_text("CIRCLE-B\n", encoding="utf-8")
    return root


def _circle_bench(tmp_path: Path, root: Path, maxell: str, elecom: str) -> Path:
    path = tmp_path / "bench.yaml"
    path.write_text(f"""bench: look-alikes
kind: real
usb_devices: sysfs
sysfs_root: {root}
readers:
  - {{name: maxell, kind: general_reader, maker: Maxell, model: M-1850S-N2,
     usb: {{vid: "31AA", pid: "3002"{maxell}}}}}
  - {{name: elecom, kind: general_reader, maker: Elecom, model: MR-ICA001BK,
     usb: {{vid: "31AA", pid: "3002"{elecom}}}}}
general_reader_rules:
  min_firmware:
    - {{maker: Elecom, model: MR-ICA001BK, version: "1.10"}}
""", encoding="utf-8")
    return path


def _scan_rows(bench: Path, capsys) -> tuple[int, dict[str, dict]]:  # noqa: ANN001
    import json

    from harness.cli import main

    code = main(["scan", "--json", "--bench", str(bench)])
    return code, {r["name"]: r for r in json.loads(capsys.readouterr().out) if r["name"]}


def test_look_alikes_on_each_others_ports_are_not_judged_by_the_bench_files_word(
        tmp_path: Path, capsys) -> None:
    """R3: the Elecom (firmware 1.00, under the lab's 1.10) and the Maxell (1.10) swapped on
    their ports, the bench file naming each by path only: USB-08 passed both ("wiring
    conforms"). Which look-alike is where is not known: judged as each, not known where the
    models disagree, with the hint to give usb.serial."""
    root = _two_circles(tmp_path, serials=False)
    bench = _circle_bench(tmp_path, root, ', path: "1-4.1"', ', path: "1-4.3"')
    code, rows = _scan_rows(bench, capsys)
    assert code == 1
    maxell = rows["maxell"]
    assert "USB-08" not in maxell["passed"] and maxell["undecided"] == ["USB-08"]
    reason = next(u["reason"] for u in maxell["unchecked"] if u["requirement"] == "USB-08")
    assert reason.startswith("maxell: the bench file cannot tell which of the 2 31AA:3002 "
                             "readers (at 1-4.1, 1-4.3) is its Maxell M-1850S-N2")
    assert "as Elecom MR-ICA001BK: Elecom MR-ICA001BK runs firmware 1.00, below" in reason
    assert reason.endswith("give each its usb.serial")
    # The port's own rules do not depend on the model: still judged.
    assert "USB-03" in maxell["passed"]
    # The device at 1-4.3 passes whichever of the two it is.
    assert "USB-08" in rows["elecom"]["passed"]


def test_look_alikes_told_apart_by_serial_are_judged_as_their_models(
        tmp_path: Path, capsys) -> None:
    root = _two_circles(tmp_path, serials=True)
    bench = _circle_bench(tmp_path, root, ', serial: CIRCLE-B', ', serial: CIRCLE-A')
    code, rows = _scan_rows(bench, capsys)
    assert rows["maxell"]["usb_path"] == "1-4.3" and "USB-08" in rows["maxell"]["passed"]
    assert rows["elecom"]["usb_path"] == "1-4.1"
    assert [v["requirement"] for v in rows["elecom"]["violations"]] == ["USB-08"]
    assert code == 1


def test_look_alikes_without_paths_are_never_paired_by_the_order_found(
        tmp_path: Path, capsys) -> None:
    """R3 (b18): without usb.path the first entry took the first device found: USB-08 of
    the Elecom was judged on whichever look-alike enumerated first. No device nor firmware
    is said to be either's, and USB-08 is not known for both."""
    root = _two_circles(tmp_path, serials=False)
    code, rows = _scan_rows(_circle_bench(tmp_path, root, "", ""), capsys)
    assert code == 1
    for name in ("maxell", "elecom"):
        row = rows[name]
        assert row["present"] and row["usb_path"] is None and row["version"] is None
        assert "USB-08" in row["undecided"]
        reason = next(u["reason"] for u in row["unchecked"] if u["requirement"] == "USB-08")
        assert "as Elecom MR-ICA001BK at 1-4.1: Elecom MR-ICA001BK runs firmware 1.00" in reason
        assert reason.endswith("give each its usb.serial and usb.path")


def test_a_resume_onto_a_replaced_reader_is_refused_and_keeps_what_was_decided(
        tmp_path: Path) -> None:
    """R6: the Elecom swapped for another unit (another serial, older firmware) after USB-08
    passed on firmware 1.00; the resumption was accepted and the report kept "firmware 1.00"
    beside the new unit's. Refused (exit 2) naming what changed, the kept verdicts as they
    were; with the run's device back the resume goes on."""
    import json
    import shutil

    from harness.paths import project_file
    from tests.test_certify import certify

    root = tmp_path / "sysfs"
    shutil.copytree(project_file("fixtures/sysfs/terminal-a"), root, symlinks=True)
    bench = tmp_path / "bench.yaml"
    bench.write_text(f"""bench: replaced
kind: real
usb_devices: sysfs
sysfs_root: {root}
readers:
  - {{name: elecom, kind: general_reader, maker: Elecom, model: MR-ICA001BK,
     usb: {{vid: "31AA", pid: "3002", path: "1-4.1"}}}}
general_reader_rules:
  min_firmware:
    - {{maker: Elecom, model: MR-ICA001BK, version: "1.00"}}
""", encoding="utf-8")
    out = tmp_path / "run"
    run = ["--jobs", "1", "--quiet", "--vendor", "general_readers", "--bench", str(bench),
           "--out", str(out)]
    first = certify(*run, "--", "-k", "USB-08")
    usb08 = "suites/test_usb_wiring.py::test_wiring_rule[elecom-USB-08]"
    assert json.loads((out / "certification.json").read_text("utf-8"))["tests"][usb08][
        "outcome"] == "passed", first.stdout + first.stderr
    (root / "1-4.1" / "bcdDevice").write_text("0090\n", encoding="utf-8")
    (root / "1-4.1" / "serial").write_text("OTHER-UNIT\n", encoding="utf-8")
    refused = certify("--resume", *run, "--", "-k", "USB-03")
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert ("--resume: the bench's devices are not those the run was made on: elecom: "
            "serial None then, 'OTHER-UNIT' now, firmware '1.00' then, '0.90' now") \
        in refused.stderr
    report = json.loads((out / "certification.json").read_text("utf-8"))
    assert report["state"] == "error" and not report["passed"]
    assert report["tests"][usb08]["outcome"] == "passed"  # kept, nothing lost
    usb03 = "suites/test_usb_wiring.py::test_wiring_rule[elecom-USB-03]"
    assert report["tests"][usb03]["outcome"] == "not_run"
    (root / "1-4.1" / "bcdDevice").write_text("0100\n", encoding="utf-8")
    (root / "1-4.1" / "serial").unlink()
    again = certify("--resume", *run, "--", "-k", "USB-03")
    report = json.loads((out / "certification.json").read_text("utf-8"))
    assert report["tests"][usb03]["outcome"] == "passed", again.stdout + again.stderr
