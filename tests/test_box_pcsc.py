"""The bench in a box's cards through the real pcscd and vpcd (issue 16 item 5), seen by the
rig's real-bench path: ``onshi-rig emulate --hardware DIR --card FILE`` with a pcscd of the
test's own running (its own socket folder, its own vpcd ports), then ``scan`` and ``probe``
on ``DIR/bench.yaml`` (``kind: real``): the readers listed from the box's sysfs folder, each
general reader paired with the PC/SC name the box wrote, the card read through pcscd."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from cli_fork import run_cli

from harness.bench import check_bench_file
from harness.emulation.bench import load_twins, vpcd_slots
from harness.emulation.card import FileSystemCard
from harness.emulation.pcscd import PcscdProcess
from harness.model.wiring import app_name_matches
from harness.paths import project_file
from tests.conftest import need_own_pcscd, stop_process

ROOT = Path(__file__).resolve().parents[1]
CARD = project_file("fixtures/cards/mynumber-card.yaml")
#: vpcd ports of this test's pcscd: away from CI's pcscd (35971-35982) and Debian's (35963).
BASE_PORT = 36371
GENERAL = ["sanwa-adr-mnicu3", "iodata-usb-nfc4e", "abcircle-cir315a-02", "maxell-m-1850s-n2",
           "elecom-mr-ica001bk", "sony-rc-s300-s1"]


def _rig(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(args, cwd=ROOT, env=env, timeout=60)


@pytest.fixture(scope="module")
def box(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    need_own_pcscd("a pcscd of the test's own needs root")
    folder = tmp_path_factory.mktemp("box-pcsc")
    source = folder / "source.yaml"
    source.write_text(yaml.safe_dump({
        "base": str(ROOT / "fixtures/benches/emulated.yaml"), "bench": "boxed-pcsc",
        "pcsc": {"service": "vpcd", "vpcd_base_port": BASE_PORT}}), encoding="utf-8")
    spec = check_bench_file(source)
    pcscd = PcscdProcess(folder / "reader.conf.d",
                         list(vpcd_slots(spec, load_twins(spec, source)).values()),
                         log=folder / "pcscd.log", run_dir=folder / "run")
    pcscd.start()
    env = {**os.environ, "PCSCLITE_CSOCK_NAME": str(pcscd.socket)}
    hardware = folder / "hw"
    log = folder / "box.log"
    out = log.open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness.cli", "emulate", "--bench", str(source), "--hardware",
         str(hardware), "--scale", "20", "--fps", "2", "--card", str(CARD)],
        cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while not (hardware / "bench.yaml").exists():
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the box wrote no bench.yaml within 30 s"
            time.sleep(0.1)
        yield {"dir": hardware, "env": env, "proc": proc, "log": log}
    finally:
        stop_process(proc, 15)
        out.close()
        pcscd.stop()


def test_the_box_names_each_general_readers_pcsc_reader(box: dict[str, Any]) -> None:
    bench = yaml.safe_load((box["dir"] / "bench.yaml").read_text("utf-8"))
    assert bench["kind"] == "real" and bench["usb_devices"] == "sysfs"
    named = {r["name"]: r.get("pcsc_name") for r in bench["readers"]}
    # Every general reader on a vpcd entry of its own, named as pcsc-lite names it; the
    # face-auth readers have no PC/SC side.
    assert all(named[g] is not None and named[g].endswith(" 00 00") for g in GENERAL), named
    assert len({named[g] for g in GENERAL}) == len(GENERAL)
    assert all(v is None for k, v in named.items() if k not in GENERAL)


def test_scan_on_the_box_lists_its_usb_from_sysfs_and_pairs_pcsc(box: dict[str, Any]) -> None:
    done = _rig(box["env"], "scan", "--bench", str(box["dir"] / "bench.yaml"), "--json")
    rows = {r["name"]: r for r in json.loads(done.stdout)}
    bench = yaml.safe_load((box["dir"] / "bench.yaml").read_text("utf-8"))
    for name in GENERAL:
        row = rows[name]
        entry = next(r for r in bench["readers"] if r["name"] == name)
        assert row["usb_path"] == entry["usb"]["path"], row  # found on the box's USB
        assert row["pcsc_name"] == entry["pcsc_name"], row
    # The verified models' names are the app's: USB-05 holds where the list names one.
    sanwa = rows["sanwa-adr-mnicu3"]
    assert "USB-05" in sanwa["passed"] and not sanwa["violations"], sanwa


def test_probe_reads_the_card_the_box_holds_through_pcscd(box: dict[str, Any]) -> None:
    done = _rig(box["env"], "probe", "--bench", str(box["dir"] / "bench.yaml"), "--reader",
                "sanwa-adr-mnicu3", "--timeout", "5", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["atr"] == FileSystemCard.load(CARD).atr.hex(" ").upper()
    assert report["ok"] and report["name_matches"] is True
    assert report["pcsc_name"].startswith("Circle CIR315 CL (")


def test_probe_reads_the_card_on_the_box_nfc_frontend_through_nfcpy(box: dict[str, Any]) -> None:
    """The same reader's NFC frontend, nfcpy's udp transport as the bench file names it."""
    bench = yaml.safe_load((box["dir"] / "bench.yaml").read_text("utf-8"))
    [entry] = [r for r in bench["readers"] if r["name"] == "sony-rc-s300-s1"]
    assert entry["nfc"].startswith("udp:127.0.0.1:")
    done = _rig(box["env"], "probe", "--bench", str(box["dir"] / "bench.yaml"), "--reader",
                "sony-rc-s300-s1", "--nfc", "--timeout", "5", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["ok"] and report["holder"] == "card" and report["atr"] is None
    assert report["pcsc_name"] is None and report["name_matches"] is None
    # A face-auth reader has no card probe: refused, exit 2, no traceback.
    done = _rig(box["env"], "probe", "--bench", str(box["dir"] / "bench.yaml"), "--reader",
                "panasonic", "--nfc")
    assert done.returncode == 2 and "face auth reader" in done.stderr
    assert "Traceback" not in done.stderr


def test_pairing_asked_of_the_box_operator_reads_the_card_through_pcscd(
        box: dict[str, Any]) -> None:
    """The rig's operator (ManualHands on the box's operator pty) asks for a pairing: the
    box's person opens the app, the real card goes on the general reader, and the twin
    terminal's app reads it through the box's pcscd."""
    from harness.bench import Bench
    from harness.devices.instruments import NumatoRelay
    from harness.hands import ManualHands, Patient
    from harness.model.clock import RealClock
    from harness.model.timeline import Timeline
    from harness.model.wait import wait_until
    from harness.operator import TtyOperator

    bench = yaml.safe_load((box["dir"] / "bench.yaml").read_text("utf-8"))
    power = {r["name"]: r["power"]["channel"] for r in bench["readers"] if "power" in r}
    rig = Timeline(RealClock())
    hands = ManualHands(rig.clock, timeout_s=30, timeline=rig,
                        operator=TtyOperator(bench["operator"]["terminal"]))
    with NumatoRelay(bench["instruments"][0]["port"]) as mains:
        try:
            # Panasonic's routine: the reader, then the terminal 15 to 30 s later. The app
            # takes the card only from a reader that is up: watched as a lab does, through
            # the box's camera on it (the rig's real-bench watcher, MJPEG).
            with Bench.load(box["dir"] / "bench.yaml") as rig_bench:
                mains.on(power["panasonic"])
                rig_bench.clock.sleep(20)
                mains.on(bench["terminal"]["power"]["channel"])
                eyes = rig_bench.watcher("panasonic")
                up = wait_until(rig_bench.clock, lambda: eyes.look().state,
                                lambda state: state == "first", 120, step_s=2)
                assert up.ok, f"panasonic never showed its first screen: {up.last}"
            assert hands.pairing_app("panasonic") == ("管理アプリ", "ペアリング")
            shown = hands.pair("panasonic", "sanwa-adr-mnicu3", Patient("patient-1", "4321"))
            # The app lists the reader by its name (USB-05's rule), and registers the pairing
            # only once it has read the card's JPKI token: through pcscd, the only way the
            # twin terminal reaches a general reader in the box (no pcscd: refused).
            assert len(shown) == 1 and app_name_matches(shown[0], "Circle CIR315 CL 0")
            assert hands.pairing_outcome("panasonic") == "registered"
        finally:
            mains.off(power["panasonic"])
            mains.off(bench["terminal"]["power"]["channel"])
    answered = [e.data for e in rig.events("operator.answered")]
    assert [a["answer"] for a in answered] == ["管理アプリ/ペアリング", shown[0], "registered"]
