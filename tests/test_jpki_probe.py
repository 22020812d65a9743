"""The general-reader probe: a card or phone comes, its ATR, the JPKI applet, the token,
the authentication certificate, each step timed, and the reader's PC/SC name against the
name the management app shows (USB-05); through PC/SC (in process and pcscd) and NFC."""

from __future__ import annotations

import json

import pytest

from harness.bench import Bench, default_bench_path
from harness.cli import main
from harness.devices.jpki_probe import ProbeReport, ProbeStep, probe_nfc, probe_pcsc
from harness.devices.nfc import NfcFrontend
from harness.emulation.card import FileSystemCard
from harness.emulation.nfc_udp import UdpType4BTarget
from harness.model.clock import VirtualClock
from harness.model.timeline import Timeline
from harness.paths import project_file

READER = "sony-rc-s300-s1"
CARD = project_file("fixtures/cards/mynumber-card.yaml")
PHONE = project_file("fixtures/cards/mynumber-phone.yaml")
IPHONE = project_file("fixtures/cards/mynumber-iphone.yaml")
STEPS = ["wait for card", "select JPKI applet", "read token", "read authentication certificate"]


@pytest.mark.parametrize("holder, card", [("card", CARD), ("smartphone", PHONE),
                                          ("smartphone", IPHONE)])
def test_cli_probe_on_the_emulated_bench(holder: str, card, capsys) -> None:  # noqa: ANN001
    assert main(["probe", "--reader", READER, "--card", str(card), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] and report["holder"] == holder
    assert report["token"] == {CARD: "JPKIAPICCTOKEN2", PHONE: "JPKIAPGPSETOKEN",
                               IPHONE: "JPKIAPIOSTOKEN"}[card]
    assert report["atr"] == "3B E0 00 FF 81 31 FE 45 14"
    assert [s["name"] for s in report["steps"]] == STEPS
    assert all(s["ok"] and s["ms"] >= 0 for s in report["steps"])
    assert report["certificate"]["subject"].startswith("CN=onshi-rig test card")
    assert report["name_matches"] is True
    assert report["expected_name"] == "SONY FeliCa Port/PaSoRi 4.0"


@pytest.mark.parametrize("nfc", [[], ["--nfc"]])
def test_cli_probe_without_a_card_on_the_emulated_bench_says_to_name_one(
        nfc: list[str], capsys) -> None:  # noqa: ANN001
    """Nobody can place a card on an emulated reader: no "waiting up to 30 s" prompt and an
    instant failure, but bad input (exit 2) naming --card, before anything is waited for."""
    assert main(["probe", "--reader", READER, *nfc]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "waiting" not in captured.err and "Traceback" not in captured.err
    assert "give --card card|phone|FILE" in captured.err


def test_a_probe_without_a_card_times_out() -> None:
    with Bench.load(default_bench_path()) as bench:
        report = probe_pcsc(bench.pcsc, bench.emulation.pcsc_names[READER], READER, 0.5)
    assert not report.ok
    assert report.steps[0].name == "wait for card" and "no card within 0.5 s" in \
        report.steps[0].detail


@pytest.mark.parametrize("reader", ["sanwa-adr-mnicu3", "abcircle-cir315a-02",
                                    "maxell-m-1850s-n2", "elecom-mr-ica001bk"])
def test_cli_probe_reads_the_card_on_every_rebadged_reader(reader: str, capsys) -> None:
    """Four readers share "Circle CIR315 CL": the probe talks to the one the card is on."""
    assert main(["probe", "--reader", reader, "--card", "card", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] and report["holder"] == "card" and report["name_matches"] is True


def test_cli_probe_into_a_closed_pipe_is_quiet() -> None:
    """``probe ... | head -1``: the reader of its output gone is no traceback."""
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "harness.cli", "probe", "--reader", READER,
                             "--card", "card"], cwd=project_file("."),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    proc.stdout.close()  # the reader gone before the report is printed
    _, err = proc.communicate(timeout=120)
    assert (proc.returncode, err) == (0, "")


@pytest.mark.parametrize("argv, message", [
    (["probe", "--reader", "panasonic", "--card", "card"], "is a face auth reader"),
    (["probe", "--reader", "nope", "--card", "card"], "has no reader 'nope'"),
    (["probe", "--reader", READER, "--card", "/nonexistent.yaml"], "nonexistent.yaml"),
])
def test_cli_probe_bad_input(argv, message, capsys) -> None:  # noqa: ANN001
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_probe_through_pcscd(vpcd_bench: Bench) -> None:
    emu = vpcd_bench.emulation
    name = emu.pcsc_names[READER]
    vpcd_bench.pcsc.wait_for_card(name, timeout=5, present=False)
    emu.insert_card(READER, FileSystemCard.load(PHONE))
    try:
        report = probe_pcsc(vpcd_bench.pcsc, name, READER, 5.0,
                            expected_name="SONY FeliCa Port/PaSoRi 4.0")
    finally:
        emu.remove_card(READER)
        vpcd_bench.pcsc.wait_for_card(name, timeout=5, present=False)
    assert report.ok and report.holder == "smartphone" and report.name_matches
    assert [s.name for s in report.steps] == STEPS


def test_probe_through_nfc() -> None:
    card = FileSystemCard.load(CARD)
    with UdpType4BTarget(card, name="mynumber", timeline=Timeline(VirtualClock())) as target:
        target.place()
        with NfcFrontend(target.path, "rcs300", Timeline(VirtualClock())) as frontend:
            report = probe_nfc(frontend, "rcs300", 2.0)
    assert report.ok and report.holder == "card" and report.atr is None
    assert [s.name for s in report.steps] == STEPS


def test_a_card_without_the_jpki_applet_fails_the_probe() -> None:
    with Bench.load(default_bench_path()) as bench:
        emu = bench.emulation
        emu.insert_card(READER, FileSystemCard.load(project_file("fixtures/cards/test-card.yaml")))
        report = probe_pcsc(bench.pcsc, emu.pcsc_names[READER], READER, 1.0)
    assert not report.ok
    assert [(s.name, s.ok, s.detail) for s in report.steps][1] == \
        ("select JPKI applet", False, "6a82")


def test_usb05_name_verdicts() -> None:
    steps = (ProbeStep("wait for card", 0.0, True),)
    assert ProbeReport("r", steps, pcsc_name="SONY FeliCa Port/PaSoRi 4.0 00 00",
                       expected_name="SONY FeliCa Port/PaSoRi 4.0").name_matches is True
    assert ProbeReport("r", steps, pcsc_name="Generic NFC Reader 00 00",
                       expected_name="SONY FeliCa Port/PaSoRi 4.0").name_matches is False
    assert ProbeReport("r", steps, pcsc_name=None, expected_name="x").name_matches is None
    # The rule the scan's USB-05 applies: CCID's serial in brackets is not part of the name
    # (the name "starts with" the app's only without it), a longer name or another case is
    # another reader's.
    for pcsc_name, matches in [("Circle CIR315 CL (EMU-1) 00 00", True),
                               ("Circle CIR315 CL 0", True),
                               ("Circle CIR315 CLX 00 00", False),
                               ("Circle CIR315 CL2 (EMU-1) 00 00", False),
                               ("CIRCLE CIR315 CL 00 00", False)]:
        assert ProbeReport("r", steps, pcsc_name=pcsc_name,
                           expected_name="Circle CIR315 CL 0").name_matches is matches, pcsc_name
