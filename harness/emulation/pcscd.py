"""The real pcscd, with one vpcd reader per emulated PC/SC reader of a bench.

pcscd 1.9 has one socket (``/run/pcscd/pcscd.comm``) and reads its readers from a
reader.conf folder given with ``-c``. This module writes that folder for a bench, finds out
whether pcscd runs and which vpcd ports it listens on, and can start it.

A *private* pcscd (``run_dir``) lives in a mount namespace of its own with ``run_dir``
bound over /run/pcscd: Debian 12's pcscd 1.9.9 has its socket and pid file compiled in (it
ignores ``PCSCLITE_CSOCK_NAME``), while the client library honours that variable, read once
per process. So a process that sets ``PCSCLITE_CSOCK_NAME=<run_dir>/pcscd.comm`` before its
first PC/SC call talks to that pcscd alone, and nobody else's pcscd is seen or disturbed.
The rig restarts (``pcscd.restarted``) only a pcscd it started itself.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import attrs

from harness.errors import MissingSystemPart, RigError

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


def client_socket() -> Path:
    """The socket this process's PC/SC client library talks to."""
    return Path(os.environ.get("PCSCLITE_CSOCK_NAME") or PCSCD_SOCKET)


#: The pcscd processes this process started and has not stopped.
_STARTED: list[PcscdProcess] = []

#: Runs pcscd in its own mount namespace with $0 bound over /run/pcscd.
_PRIVATE = 'mkdir -p /run/pcscd && mount --bind "$0" /run/pcscd && exec "$1" --foreground -c "$2"'


class PcscdProcess:
    """A pcscd the rig started itself (CI, or a developer machine as root); with
    ``run_dir``, a private one (see the module)."""

    def __init__(self, conf_dir: Path, slots: list[VpcdSlot], log: Path | None = None,
                 run_dir: Path | None = None) -> None:
        self.conf_dir = conf_dir
        self.slots = slots
        self.log = log
        self.run_dir = run_dir
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def socket(self) -> Path:
        return self.run_dir / "pcscd.comm" if self.run_dir is not None else PCSCD_SOCKET

    def start(self, timeout: float = 10.0) -> None:
        if pcscd_running(self.socket):
            raise MissingSystemPart(
                "another pcscd is already running", "stop it, or use the running one"
            )
        write_reader_conf(self.conf_dir, self.slots)
        command = [find_pcscd(), "--foreground", "-c", str(self.conf_dir)]
        if self.run_dir is not None:
            unshare = shutil.which("unshare")
            if unshare is None or not is_root():
                raise MissingSystemPart("a private pcscd needs root and unshare(1)",
                                        "run as root with util-linux installed")
            self.run_dir.mkdir(parents=True, exist_ok=True)
            command = [unshare, "--mount", "--propagation", "private", "--", "sh", "-c",
                       _PRIVATE, str(self.run_dir), command[0], str(self.conf_dir)]
        out = open(self.log, "ab") if self.log else subprocess.DEVNULL  # noqa: SIM115
        try:
            self.proc = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        finally:
            if out is not subprocess.DEVNULL:
                out.close()
        _STARTED.append(self)
        deadline = time.monotonic() + timeout
        while not (pcscd_running(self.socket) and not missing_slots(self.slots)):
            if self.proc.poll() is not None:
                code = self.proc.returncode
                self.stop()
                raise MissingSystemPart(
                    f"pcscd exited at start (code {code})"
                    + (f"; see {self.log}" if self.log else ""),
                    "run it by hand to see why: pcscd -f -d -c " + str(self.conf_dir),
                )
            if time.monotonic() > deadline:
                self.stop()
                raise MissingSystemPart(f"pcscd did not come up within {timeout:g} s", INSTALL_HINT)
            time.sleep(0.05)

    def stop(self) -> None:
        if self in _STARTED:
            _STARTED.remove(self)
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        # A private pcscd leaves its socket behind in run_dir when killed.
        if self.run_dir is not None:
            for left in ("pcscd.comm", "pcscd.pid"):
                (self.run_dir / left).unlink(missing_ok=True)

    def restart(self, timeout: float = 10.0) -> None:
        """Stop this pcscd and start it again (its readers as before)."""
        self.stop()
        self.start(timeout)


def restart_own_pcscd() -> PcscdProcess:
    """Restart the pcscd this process's PC/SC calls go to, if this process started it;
    refuse any other (CI's, a colleague's, the system's)."""
    sock = client_socket()
    own = next((p for p in _STARTED if p.socket == sock and p.proc is not None), None)
    if own is None:
        raise RigError(f"pcscd.restarted: the pcscd on {sock} was not started by this "
                       "process; the rig restarts only its own (a private pcscd: "
                       "PcscdProcess(run_dir=...), PCSCLITE_CSOCK_NAME)")
    own.restart()
    return own


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0
