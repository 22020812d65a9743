"""`onshi-rig scan` on the shipped benches, and its handling of bad input."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.cli import main
from tests.conftest import bench_file

FIELDS = {"kind", "maker", "model", "vid", "pid", "usb_path", "speed_mbps", "hubs_between",
          "pcsc_name", "violations"}


def run_json(capsys, *args: str) -> tuple[int, list[dict]]:
    code = main(["scan", "--json", *args])
    return code, json.loads(capsys.readouterr().out)


def test_default_bench_lists_the_11_readers_conforming(capsys) -> None:
    code, rows = run_json(capsys)
    assert code == 0
    assert len(rows) == 11
    assert all(set(r) >= FIELDS for r in rows)
    assert [r for r in rows if r["violations"]] == []
    kinds = [r["kind"] for r in rows]
    assert kinds.count("face_auth_reader") == 5 and kinds.count("general_reader") == 6
    pana = next(r for r in rows if r["maker"] == "panasonic")
    assert pana["speed_mbps"] == 5000 and pana["hubs_between"] == 0 and pana["root_port_usb3"]
    sony = next(r for r in rows if r["model"] == "RC-S300/S1")
    assert sony["vid"] == "054C" and sony["pid"] == "0DC8"
    assert sony["pcsc_name"].startswith("SONY FeliCa Port/PaSoRi 4.0")
    assert "USB-05" in sony["passed"]


def test_miswired_bench_names_each_planted_fault(capsys) -> None:
    code, rows = run_json(capsys, "--bench", str(bench_file("miswired.yaml")))
    assert code == 1
    faults = {r["name"]: [v["requirement"] for v in r["violations"]] for r in rows if r["violations"]}
    # The unverified RC-S380 is not designated for the makers USB-07 names either (no list
    # from the lab: the verified models).
    assert faults == {"panasonic": ["USB-01", "USB-07"], "canon": ["USB-02", "SP-05"],
                      "usen_almex": ["USB-07"], "atlas": ["USB-07"], "sony-rc-s380": ["USB-04"]}
    canon = next(r for r in rows if r["name"] == "canon")
    assert canon["hubs_between"] == 1 and "hub" in canon["violations"][0]["detail"]


def test_a_bracket_of_its_own_in_a_pcsc_name_is_no_serial(tmp_path: Path, capsys) -> None:
    """USB-05: a general reader listed as "Circle CIR315 CL (PICC)" is not the app's "Circle
    CIR315 CL 0" (CCID's bracket is the device's serial number, never another word)."""
    bench = tmp_path / "picc.yaml"
    bench.write_text(f"base: {bench_file('emulated.yaml')}\nbench: picc\nreaders:\n"
                     "  - name: sanwa-adr-mnicu3\n    deviations:\n"
                     "      - {change: pcsc.reader_name, to: Circle CIR315 CL (PICC), "
                     "why: another name}\n", encoding="utf-8")
    code, rows = run_json(capsys, "--bench", str(bench))
    assert code == 1
    faulty = [r for r in rows if r["violations"]]
    # (the four re-badged CIR315 readers carry no serial: each has the name the emulation
    # gave it, so the fault shows on the reader it was planted on)
    assert [r["name"] for r in faulty] == ["sanwa-adr-mnicu3"]
    assert [v["requirement"] for v in faulty[0]["violations"]] == ["USB-05"]
    assert "(PICC)" in faulty[0]["pcsc_name"]


def test_human_table_names_faults(capsys) -> None:
    assert main(["scan", "--bench", str(bench_file("miswired.yaml"))]) == 1
    out = capsys.readouterr().out
    assert "FAIL USB-01" in out and "does NOT conform" in out
    assert "RC-S380" in out and "not a verified general reader" in out


@pytest.mark.parametrize(
    ("text", "where", "what"),
    [
        ("bench: x\nkind: emulated\nreaders: [{name: a, kind: face_auth_reader, maker: canon,\n"
         "  usb: {vid: '12G4', pid: '0001'}}]\n", ":4", "readers[0].usb.vid"),
        ("bench: x\nkind: real\nreaders:\n  - name: a\n    kind: scanner\n    maker: canon\n"
         "    usb: {vid: '0001', pid: '0001'}\n", ":5", "readers[0].kind"),
        ("bench: x\nkind: real\nterminal:\n  usb_ports:\n    - {path: 'one-two', usb: '3.0'}\n",
         ":5", "terminal.usb_ports[0].path"),
        ("bench: x\nkind: real\ncolour: blue\n", ":3", "colour"),
        ("bench: x\nkind: real\nreaders: [\n", "", "not valid YAML"),
    ],
)
def test_broken_bench_file_one_message_no_traceback(tmp_path: Path, capsys, text, where, what) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(text)
    assert main(["scan", "--bench", str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) + where in err and what in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_emulated_bench_needs_existing_twin(tmp_path: Path, capsys) -> None:
    text = bench_file("emulated.yaml").read_text().replace(
        "../devices/face_auth/canon.yaml", "../devices/face_auth/nope.yaml"
    )
    (tmp_path / "benches").mkdir()
    (tmp_path / "devices").symlink_to(bench_file("emulated.yaml").parent.parent / "devices")
    path = tmp_path / "benches" / "emulated.yaml"
    path.write_text(text)
    assert main(["scan", "--bench", str(path)]) == 2
    line = text.splitlines().index("    emulate: ../devices/face_auth/nope.yaml") + 1
    assert f"emulated.yaml:{line}: readers[canon].emulate: no behaviour file" in \
        capsys.readouterr().err


def test_usage_errors_exit_2(capsys) -> None:
    assert main(["scan", "--nope"]) == 2
    assert main([]) == 2
    assert main(["scan", "--bench", "/nonexistent/bench.yaml"]) == 2
    assert "no such file" in capsys.readouterr().err


def test_console_script_runs_as_a_process() -> None:
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "scan", "--json"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert len(json.loads(proc.stdout)) == 11


def _real_bench_on_terminal_a(tmp_path: Path, sony_pcsc_name: str) -> Path:
    """A real bench listed from sysfs alone (the terminal-a fixture tree): no libusb needed."""
    root = Path(__file__).resolve().parents[1] / "fixtures/sysfs/terminal-a"
    text = f"""bench: terminal-a
kind: real
sysfs_root: {root}
usb_devices: sysfs
readers:
  - {{name: pasori, kind: general_reader, maker: Sony, model: RC-S300/S1,
     usb: {{vid: "054C", pid: "0DC8"}}, pcsc_name: "{sony_pcsc_name}"}}
  - {{name: circle, kind: general_reader, maker: Sanwa Supply, model: ADR-MNICU3,
     usb: {{vid: "31AA", pid: "3002"}}}}
"""
    path = tmp_path / "bench.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("given", ["Virtual PCD 00 00", "Not Listed 00 00"])
def test_a_real_readers_pcsc_name_from_the_bench_file_is_its_own(
        tmp_path: Path, profiles, given: str) -> None:
    """``pcsc_name`` pairs the reader with that name only: listed, USB-05 judges it (a vpcd
    slot's name is not the app's: a violation); not listed, USB-05 is unchecked and says so.
    Either way no other reader takes the name, and the others still pair by product."""
    from harness.bench import Bench
    from harness.emulation.pcsc_inprocess import InProcessPcsc
    from harness.scan import scan

    with Bench.load(_real_bench_on_terminal_a(tmp_path, given)) as bench:
        assert bench.usb.devices()[0].product == "RC-S300/S"  # from sysfs: libusb unused
        pcsc = InProcessPcsc(bench.timeline)  # the PC/SC API, without a pcscd
        for name in ("Virtual PCD 00 00", "Circle CIR315 CL (X) 00 00",
                     "SONY FeliCa Port/PaSoRi 4.0 00 00"):
            pcsc.add_reader(name)
        bench.pcsc, bench.pcsc_unavailable = pcsc, None
        rows = {r.name: r for r in scan(bench, profiles).rows}
    sony, circle = rows["pasori"], rows["circle"]
    assert circle.pcsc_name == "Circle CIR315 CL (X) 00 00"
    # (X) may be CCID's serial number or part of the name: its serial not read (none in
    # this sysfs), USB-05 cannot tell, and says so (never a pass on a guess).
    [unsure] = [u for u in circle.unchecked if u.requirement == "USB-05"]
    assert "whether (X) is the device's serial number" in unsure.reason
    if given == "Virtual PCD 00 00":
        assert sony.pcsc_name == given
        [violation] = [v for v in sony.violations if v.requirement == "USB-05"]
        assert "'Virtual PCD 00 00'" in violation.detail
    else:
        # The Sony's product name is listed, but the bench file named another: not taken.
        assert sony.pcsc_name is None
        [unchecked] = [u for u in sony.unchecked if u.requirement == "USB-05"]
        assert unchecked.reason == ("pcscd lists no reader named 'Not Listed 00 00' (the bench "
                                 "file's pcsc_name)")


def test_an_emulated_bench_refuses_a_real_benchs_pcsc_name_and_usb_devices(
        tmp_path: Path, capsys) -> None:
    text = (bench_file("emulated.yaml").read_text("utf-8")
            .replace("kind: emulated", "kind: emulated\nusb_devices: sysfs", 1))
    path = tmp_path / "bench.yaml"
    path.write_text(text, encoding="utf-8")
    assert main(["scan", "--bench", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:" in err and "usb_devices is a real bench's" in err


def test_the_emulated_bench_pairs_each_reader_with_the_name_the_emulation_gave_it(
        profiles) -> None:
    """Four re-badged readers share "Circle CIR315 CL" and no serial: scan takes each one's
    PC/SC name from the emulation (which made them), not from the USB port order (which
    put sanwa's card on another reader's name)."""
    from harness.bench import Bench, default_bench_path
    from harness.scan import scan

    with Bench.load(default_bench_path()) as bench:
        truth = dict(bench.emulation.pcsc_names)
        rows = {r.name: r for r in scan(bench, profiles).rows}
    circles = [n for n, name in truth.items() if name.startswith("Circle CIR315 CL ")]
    assert len(circles) == 4
    for name in truth:
        assert rows[name].pcsc_name == truth[name], name
        assert rows[name].pcsc_unknown is None
    assert rows["sanwa-adr-mnicu3"].pcsc_name == "Circle CIR315 CL 00 00"


def _two_circles(tmp_path: Path, pcsc_name: str | None = None) -> Path:
    """terminal-a with a second "Circle CIR315 CL" (no serial) on hub port 3: two readers
    alike to PC/SC, both general readers of a real bench; ``pcsc_name`` for the first."""
    root = tmp_path / "sysfs"
    shutil.copytree(Path(__file__).resolve().parents[1] / "fixtures/sysfs/terminal-a", root,
                    symlinks=True)
    twin = root / "1-4.3"
    for name in ("idVendor", "idProduct", "product", "manufacturer", "speed"):
        (twin / name).write_text((root / "1-4.1" / name).read_text())
    (twin / "serial").unlink()
    given = f', pcsc_name: "{pcsc_name}"' if pcsc_name else ""
    path = tmp_path / "bench.yaml"
    path.write_text(f"""bench: two-circles
kind: real
sysfs_root: {root}
usb_devices: sysfs
readers:
  - {{name: sanwa, kind: general_reader, maker: Sanwa Supply, model: ADR-MNICU3,
     usb: {{vid: "31AA", pid: "3002", path: "1-4.1"}}{given}}}
  - {{name: abcircle, kind: general_reader, maker: AB Circle, model: CIR315A-02,
     usb: {{vid: "31AA", pid: "3002", path: "1-4.3"}}}}
""", encoding="utf-8")
    return path


def _scan_with(path: Path, profiles, names: list[str]) -> dict:  # noqa: ANN001
    from harness.bench import Bench
    from harness.emulation.pcsc_inprocess import InProcessPcsc
    from harness.scan import scan

    with Bench.load(path) as bench:
        pcsc = InProcessPcsc(bench.timeline)  # the PC/SC API, without a pcscd
        for name in names:
            pcsc.add_reader(name)
        bench.pcsc, bench.pcsc_unavailable = pcsc, None
        return {r.name: r for r in scan(bench, profiles).rows}


CIRCLES = ["Circle CIR315 CL 00 00", "Circle CIR315 CL 01 00"]


def test_real_readers_alike_without_serials_get_no_guessed_pcsc_name(
        tmp_path: Path, profiles) -> None:
    """Two readers with one product string and no serial: which PC/SC name is whose is not
    known. Neither row shows a slot; each says it is one of two, lists the names, and asks
    for pcsc_name. USB-05 still passes on the name both candidates share."""
    rows = _scan_with(_two_circles(tmp_path), profiles, [*CIRCLES, "Other Reader 00 00"])
    for row in (rows["sanwa"], rows["abcircle"]):
        assert row.present and row.pcsc_name is None
        assert row.pcsc_unknown == (
            "one of 2 readers named 'Circle CIR315 CL' with no serial number (PC/SC: "
            "'Circle CIR315 CL 00 00', 'Circle CIR315 CL 01 00'): which PC/SC name is this "
            "one's is not known; give each its pcsc_name in the bench file")
        assert "USB-05" in row.passed and not row.violations
        line = row.describe()
        assert "PC/SC name not known: one of 2" in line and "PC/SC 'Circle" not in line
        assert row.as_json()["pcsc_unknown"] == row.pcsc_unknown


def test_alike_readers_whose_candidates_differ_leave_usb05_unchecked(
        tmp_path: Path, profiles) -> None:
    """Candidates with different names: the slot decides USB-05, and it is not known."""
    rows = _scan_with(_two_circles(tmp_path), profiles,
                      ["Circle CIR315 CL 00 00", "Circle CIR315 CL Plus 01 00"])
    row = rows["sanwa"]
    assert "USB-05" not in row.passed and not row.violations
    [unchecked] = [u for u in row.unchecked if u.requirement == "USB-05"]
    assert unchecked.reason.startswith("one of 2 readers named 'Circle CIR315 CL'")


def test_a_pcsc_name_for_one_of_two_alike_readers_pairs_both(tmp_path: Path, profiles) -> None:
    rows = _scan_with(_two_circles(tmp_path, "Circle CIR315 CL 01 00"), profiles, CIRCLES)
    assert rows["sanwa"].pcsc_name == "Circle CIR315 CL 01 00"
    assert rows["abcircle"].pcsc_name == "Circle CIR315 CL 00 00"
    assert rows["sanwa"].pcsc_unknown is None and rows["abcircle"].pcsc_unknown is None


def test_the_table_says_the_pcsc_name_is_not_known(tmp_path: Path, profiles,
                                                   monkeypatch, capsys) -> None:
    from harness.emulation.pcsc_inprocess import InProcessPcsc

    def served(timeline):  # noqa: ANN001, ANN202
        pcsc = InProcessPcsc(timeline)
        for name in CIRCLES:
            pcsc.add_reader(name)
        return pcsc

    monkeypatch.setattr("harness.bench.PyscardService", served)
    path = _two_circles(tmp_path)
    main(["scan", "--bench", str(path)])
    out = capsys.readouterr().out
    assert "? (not known)" in out and "CL 00 00  " not in out.split("problems:")[0]
    assert "sanwa: PC/SC name not known: one of 2 readers" in out
    assert main(["probe", "--bench", str(path), "--reader", "abcircle"]) == 2
    err = capsys.readouterr().err
    assert "'abcircle': not probed: one of 2 readers named 'Circle CIR315 CL'" in err
    assert "give each its pcsc_name in the bench file" in err and "Traceback" not in err
