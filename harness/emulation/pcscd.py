"""The real pcscd, with one vpcd reader per emulated PC/SC reader of a bench.

pcscd 1.9 has one socket (``/run/pcscd/pcscd.comm``) and reads its readers from a
reader.conf folder given with ``-c``. This module writes that folder for a bench, finds out
whether pcscd runs and which vpcd ports it listens on, and can start it.

Debian's vpcd (vsmartcard-vpcd 0.8) opens ``VPCD_SLOTS`` slots per reader.conf entry, on
ports CHANNELID and CHANNELID+1, and keeps them in the driver library's globals: two entries
that share one library collide, while each entry with its own copy of the library (a copy,
not a link: the loader shares one file's globals) is independent (measured with pcsc-lite
1.9.9). So the rig's reader.conf has one entry per emulated reader, each with its own copy,
on ports two apart; each entry's second slot stays empty.

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
#: Slots per reader.conf entry in Debian's vpcd build, on ports CHANNELID + 0, 1.
VPCD_SLOTS = 2
#: Debian's own reader.conf for vpcd (/etc/reader.conf.d/vpcd): this name, CHANNELID 0x8C7B.
STOCK_FRIENDLY_NAME = "Virtual PCD"
STOCK_PORT = 0x8C7B
#: The folder, inside the reader.conf folder, with the entries' copies of the driver
#: (pcscd reads the folder's files as reader.conf files and skips its folders).
DRIVER_COPIES = "onshi-rig-vpcd"
#: The system pcscd's reader.conf folder (Debian).
SYSTEM_READER_CONF = Path("/etc/reader.conf.d")


@attrs.frozen
class VpcdSlot:
    #: The FRIENDLYNAME of its reader.conf entry; pcscd names the reader
    #: "<friendly_name> <index> <slot>", two hex digits each.
    friendly_name: str
    port: int
    #: The vpcd slot of the entry (port = the entry's CHANNELID + slot).
    slot: int = 0
    #: The bench's emulated reader served there.
    reader: str = ""


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


def driver_copy(folder: Path, slot: VpcdSlot) -> Path:
    """Where the rig's reader.conf in ``folder`` has the entry of ``slot`` load its own
    copy of the vpcd driver."""
    return folder / DRIVER_COPIES / f"libifdvpcd-{slot.port}.so"


def reader_conf(slots: list[VpcdSlot], folder: Path = SYSTEM_READER_CONF) -> str:
    """One entry per slot (each its own entry's slot 0), each loading its own copy of the
    driver from ``folder`` (made by :func:`write_reader_conf`)."""
    blocks = ["# Written by `onshi-rig pcscd-config`: one vpcd reader per emulated reader, each\n"
              "# entry with its own copy of the vpcd driver (entries sharing one collide).\n"]
    for slot in slots:
        if slot.slot != 0:
            raise RigError(f"{slot.reader}: the rig's reader.conf serves each reader on its "
                           f"entry's first slot, not slot {slot.slot}")
        name = slot.friendly_name.replace('"', "'")
        blocks.append(
            f'FRIENDLYNAME "{name}"\nDEVICENAME   /dev/null:{slot.port}\n'
            f"LIBPATH      {driver_copy(folder, slot)}\nCHANNELID    {slot.port}\n"
        )
    return "\n".join(blocks)


def write_reader_conf(folder: Path, slots: list[VpcdSlot]) -> Path:
    """Write ``folder/onshi-rig`` and the entries' driver copies; return the file."""
    driver = find_vpcd_driver().resolve()
    copies = folder / DRIVER_COPIES
    copies.mkdir(parents=True, exist_ok=True)
    wanted = {driver_copy(folder, s) for s in slots}
    for stale in copies.glob("libifdvpcd-*.so"):
        if stale not in wanted:
            stale.unlink()
    for target in wanted:
        shutil.copyfile(driver, target)
    conf = folder / "onshi-rig"
    conf.write_text(reader_conf(slots, folder.resolve()), encoding="utf-8")
    return conf


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
