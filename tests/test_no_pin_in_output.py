"""No PIN a test entered reaches any file the run wrote.

A pytest run of its own enters PINs (right and wrong) through the real pcscd via vpcd (and
OpenSC's pkcs15-tool through it) and nfcpy's udp transport; the in-process tier formats
its transcript with the same redaction (tests/test_mynumber_card.py runs it). It
writes what a lab's run writes: a DEBUG log file (nfcpy logs every frame there), JUnit XML,
allure results and the bench's timeline. Then every file under its output folder is searched
for the PINs, as text and as hex."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from harness.paths import project_file

AUTH_PIN, SIGN_PIN = "7391", "QZ7K5R2W"

RUN = textwrap.dedent(f'''
    import logging, shutil, subprocess
    from harness.emulation.card import FileSystemCard
    from harness.emulation.nfc_udp import UdpType4BTarget
    from harness.devices.nfc import NfcFrontend
    from harness.model.timeline import Timeline

    # The worst case: a lab turns nfcpy's own logging (every frame it sends) all the way up.
    logging.getLogger("nfc").setLevel(1)

    JPKI = bytes.fromhex("D392F000260100000001")
    SELECT = bytes([0, 0xA4, 4, 0x0C, 10]) + JPKI

    def verify(send, fid, pin):
        send(bytes.fromhex("00A4020C02" + fid))
        return send(bytes.fromhex("00200080") + bytes([len(pin)]) + pin.encode())

    def card():
        return FileSystemCard.load({str(Path("CARD_FILE"))!r})

    def enter_pins(send):
        assert send(SELECT)[-2:] == b"\\x90\\x00"
        assert verify(send, "0018", "0000") == b"\\x63\\xc2"
        assert verify(send, "0018", "{AUTH_PIN}") == b"\\x90\\x00"
        assert verify(send, "001B", "{SIGN_PIN}") == b"\\x90\\x00"

    def test_pcsc(bench):
        name = bench.emulation.pcsc_names["sony-rc-s300-s1"]
        bench.pcsc.wait_for_card(name, timeout=5, present=False)
        bench.emulation.insert_card("sony-rc-s300-s1", card())
        bench.pcsc.wait_for_card(name, timeout=5)
        enter_pins(bench.pcsc.connect(name).transmit)

    def test_nfc(bench):
        with UdpType4BTarget(card(), name="phone", timeline=bench.timeline) as target:
            target.place()
            with NfcFrontend(target.path, "rcs300", bench.timeline) as frontend:
                enter_pins(frontend.wait_for_card(2.0, targets=("106B",)).transmit)

    def test_opensc(bench):
        name = bench.emulation.pcsc_names["sony-rc-s300-s1"]
        if bench.pcsc_service != "vpcd" or not shutil.which("pkcs15-tool"):
            return
        bench.emulation.remove_card("sony-rc-s300-s1")
        bench.pcsc.wait_for_card(name, timeout=5, present=False)
        bench.emulation.insert_card("sony-rc-s300-s1", card())
        bench.pcsc.wait_for_card(name, timeout=5)
        subprocess.run(["pkcs15-tool", "--reader", name, "--verify-pin", "--auth-id", "01",
                        "--pin", "{AUTH_PIN}"], check=True, capture_output=True)
''')


def test_no_pin_in_any_file_the_run_wrote(tmp_path: Path, pcscd_with_vpcd: None) -> None:
    card = tmp_path / "card.yaml"
    card.write_text(
        f"base: {project_file('fixtures/cards/mynumber-card.yaml')}\n"
        "applets:\n  - name: jpki\n    pins:\n"
        f"      - {{name: auth_pin, fid: '0018', value: '{AUTH_PIN}', tries: 3}}\n"
        f"      - {{name: sign_pin, fid: '001B', value: '{SIGN_PIN}', tries: 5}}\n",
        encoding="utf-8",
    )
    tests = tmp_path / "run"
    tests.mkdir()
    (tests / "test_pins.py").write_text(RUN.replace("CARD_FILE", str(card)), encoding="utf-8")
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tests),
         "--rootdir", str(tests), "--pcsc", "vpcd",
         f"--log-file={out / 'run.log'}", "--log-file-level=1", "--log-level=1",
         f"--junitxml={out / 'junit.xml'}", f"--alluredir={out / 'allure'}",
         f"--timeline={out / 'timeline.jsonl'}", f"--basetemp={out / 'tmp'}"],
        capture_output=True, text=True, timeout=300, cwd=tests,
        env={**os.environ, "PYTHONPATH": str(project_file("."))},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    written = [p for p in out.rglob("*") if p.is_file()]
    log = (out / "run.log").read_text(encoding="utf-8")
    # The run did enter PINs, and the log saw the frames that carried them.
    assert log.count("00200080<redacted") >= 6  # nfcpy's frames, each PIN entry
    assert "106B 0200200080<redacted" in log
    assert "0020008004<redacted" in (out / "timeline.jsonl").read_text(encoding="utf-8")
    needles = [SIGN_PIN]
    for pin in (AUTH_PIN, SIGN_PIN):
        raw = pin.encode()
        needles += [raw.hex(), raw.hex().upper(), raw.hex(" "), raw.hex(" ").upper()]
    for path in written:
        text = path.read_bytes().decode("utf-8", "replace")
        for needle in needles:
            assert needle not in text, f"{needle!r} leaked into {path}"
    assert len(written) >= 4
