"""``onshi-rig emulate --fault``: the emulated bench served to outside clients with a bench
fault armed. Its relay board answers garbage on its serial port, and the rig's own relay
driver, pointed at that port as a lab's bench file would point it at a real board, names
the fault (uses pcscd: ``emulate`` serves the bench's vpcd readers)."""

from __future__ import annotations

import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from harness.devices.instruments import NumatoRelay
from harness.errors import BenchFault
from harness.paths import project_file


def _lines(proc: subprocess.Popen[str]) -> queue.Queue[str]:
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def _until(lines: queue.Queue[str], text: str, seconds: float) -> str:
    seen = ""
    deadline = time.monotonic() + seconds
    while text not in seen:
        left = deadline - time.monotonic()
        assert left > 0, f"no {text!r} within {seconds} s:\n{seen}"
        try:
            seen += lines.get(timeout=left)
        except queue.Empty:
            continue
    return seen


def test_emulate_arms_a_garbled_relay_line(pcscd_with_vpcd: None) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness.cli", "emulate", "--fault", "relay.garbage:mains"],
        cwd=project_file("."), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = _lines(proc)
    try:
        out = _until(lines, "try: pcsc_scan", 60)
        assert "fault armed: relay.garbage on mains" in out
        # pcscd-config's reader.conf: every general reader, each said with its name and port.
        served = re.findall(r"^  '(.+) 00 00' +<- (\S+) \(vpcd port (\d+)\)$", out, re.M)
        assert [(r, int(p)) for _, r, p in served] == [
            ("sanwa-adr-mnicu3", 35971), ("iodata-usb-nfc4e", 35973),
            ("abcircle-cir315a-02", 35975), ("maxell-m-1850s-n2", 35977),
            ("elecom-mr-ica001bk", 35979), ("sony-rc-s300-s1", 35981)], out
        assert served[5][0] == "SONY FeliCa Port/PaSoRi 4.0 (EMU-sony-rc-s300-s1)"
        port = re.search(r"relay board 'mains' on serial port (\S+)", out)
        assert port is not None, out
        with pytest.raises(BenchFault) as caught:
            relay = NumatoRelay(port.group(1), name="mains")
            try:
                relay.on(0)
            finally:
                relay.close()
        assert caught.value.fault == "relay.garbage" and caught.value.device == "mains"
        assert "reply '" in caught.value.detail and "on /dev/pts/" in caught.value.detail
    finally:
        # Its terminal closed (an ssh session gone): the bench is closed as on Ctrl-C, not
        # killed with its cards left in pcscd's readers.
        proc.send_signal(signal.SIGHUP)
        try:
            code = proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()  # a failed test leaves no emulator behind
            proc.wait()
            raise
        assert code == 0
        assert "stopped." in _until(lines, "stopped.", 5)


def test_emulate_refuses_faults_a_box_would_not_inject(tmp_path: Path) -> None:
    """A box serves healthy devices: ``--fault`` with ``--hardware`` is refused, not
    dropped (a lab proving its relay scripts would be handed a healthy board)."""
    from harness.cli import main

    assert main(["emulate", "--hardware", str(tmp_path / "box"),
                 "--fault", "relay.garbage:mains"]) == 2
    assert not (tmp_path / "box").exists()
