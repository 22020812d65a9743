"""The real pcscd, with one vpcd reader per emulated PC/SC reader of a bench.

pcscd 1.9 has one socket (``/run/pcscd/pcscd.comm``) and reads its readers from a
reader.conf folder given with ``-c``. This module writes that folder for a bench, finds out
whether pcscd runs and which vpcd ports it listens on, and can start it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import attrs

from harness.errors import MissingSystemPart

PCSCD_SOCKET = Path("/run/pcscd/pcscd.comm")
VPCD_DRIVERS = (
    "/usr/lib/pcsc/drivers/serial/libifdvpcd.so",
    "/usr/lib64/pcsc/drivers/serial/libifdvpcd.so",
    "/usr/local/lib/pcsc/drivers/serial/libifdvpcd.so",
)
INSTALL_HINT = "apt-get install pcscd libpcsclite-dev vsmartcard-vpcd pcsc-tools"


@attrs.frozen
class VpcdSlot:
    #: Name pcscd gives the reader; it appends " 00 00" (index and slot).
    friendly_name: str
    port: int


def find_vpcd_driver() -> Path:
    for candidate in VPCD_DRIVERS:
        if Path(candidate).exists():
            return Path(candidate)
    raise MissingSystemPart("the vpcd driver (libifdvpcd.so) is not installed", INSTALL_HINT)


def find_pcscd() -> str:
    found = shutil.which("pcscd") or next(
        (p for p in ("/usr/sbin/pcscd", "/usr/local/sbin/pcscd") if Path(p).exists()), None
    )
    if not found:
        raise MissingSystemPart("pcscd is not installed", INSTALL_HINT)
    return found


def reader_conf(slots: list[VpcdSlot], driver: Path | None = None) -> str:
    driver = driver or find_vpcd_driver()
    blocks = ["# Written by `onshi-rig pcscd-config`: the emulated bench's vpcd reader.\n"]
    for slot in slots:
        # vpcd opens more slots on port + 1, ... under the same name; the rig uses slot 0.
        name = slot.friendly_name.replace('"', "'")
        blocks.append(
            f'FRIENDLYNAME "{name}"\nDEVICENAME   /dev/null:{slot.port}\n'
            f"LIBPATH      {driver}\nCHANNELID    {slot.port}\n"
        )
    return "\n".join(blocks)


def write_reader_conf(folder: Path, slots: list[VpcdSlot]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "onshi-rig"
    target.write_text(reader_conf(slots), encoding="utf-8")
    return target


def pcscd_running(sock_path: Path = PCSCD_SOCKET) -> bool:
    if not sock_path.exists():
        return False
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        try:
            sock.connect(str(sock_path))
        except OSError:
            return False
    return True


def listening_tcp_ports() -> set[int]:
    """Ports with a listening TCP socket on this machine (from /proc: probing a vpcd port
    by connecting to it would insert a card)."""
    ports: set[int] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 3 and fields[3] == "0A":  # TCP_LISTEN
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def missing_slots(slots: list[VpcdSlot]) -> list[VpcdSlot]:
    listening = listening_tcp_ports()
    return [s for s in slots if s.port not in listening]


class PcscdProcess:
    """A pcscd the rig started itself (CI, or a developer machine as root)."""

    def __init__(self, conf_dir: Path, slots: list[VpcdSlot], log: Path | None = None) -> None:
        self.conf_dir = conf_dir
        self.slots = slots
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 10.0) -> None:
        if pcscd_running():
            raise MissingSystemPart(
                "another pcscd is already running", "stop it, or use the running one"
            )
        write_reader_conf(self.conf_dir, self.slots)
        out = open(self.log, "ab") if self.log else subprocess.DEVNULL  # noqa: SIM115
        try:
            self.proc = subprocess.Popen(
                [find_pcscd(), "--foreground", "-c", str(self.conf_dir)],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        finally:
            if out is not subprocess.DEVNULL:
                out.close()
        deadline = time.monotonic() + timeout
        while not (pcscd_running() and not missing_slots(self.slots)):
            if self.proc.poll() is not None:
                raise MissingSystemPart(
                    f"pcscd exited at start (code {self.proc.returncode})"
                    + (f"; see {self.log}" if self.log else ""),
                    "run it by hand to see why: pcscd -f -d -c " + str(self.conf_dir),
                )
            if time.monotonic() > deadline:
                self.stop()
                raise MissingSystemPart(f"pcscd did not come up within {timeout:g} s", INSTALL_HINT)
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0
