"""Host-local locks on a bench's devices: two runs on one host never drive the same relay,
reader, camera or robot at once.

One lock file per device in the lock folder, locked with ``flock``: the kernel drops the
lock when its process ends, however it ends (SIGKILL included), so a dead run leaves nothing
that blocks and no lock needs to expire. The file says who holds it (pid, user, host, since,
bench file) for the message of the run it blocks; a run empties it when it lets go, so a file
that still names a holder while nobody has it locked was left by a run that died: it is
taken over, and said so.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import getpass
import hashlib
import json
import os
import re
import socket
import tempfile
import time
from pathlib import Path
from typing import Any

import attrs

from harness.loading import json_loads

#: The lock folder, instead of the default (tests, or a lab's own place).
LOCK_DIR_ENV = "ONSHI_RIG_LOCK_DIR"
#: Shared by every user of the host (as /run/lock is): two users' runs exclude each other.
SHARED_DIR = Path("/run/lock/onshi-rig")


def lock_dir() -> Path:
    """Where the lock files are: ``$ONSHI_RIG_LOCK_DIR``, else /run/lock/onshi-rig (every
    user's), else, where /run/lock is not writable, a folder of this user's only (then other
    users' runs are not seen: said in the README)."""
    given = os.environ.get(LOCK_DIR_ENV)
    if given:
        return Path(given)
    if os.access(SHARED_DIR, os.W_OK | os.X_OK) or os.access(SHARED_DIR.parent, os.W_OK):
        return SHARED_DIR
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.access(runtime, os.W_OK):
        return Path(runtime) / "onshi-rig-locks"
    return Path(tempfile.gettempdir()) / f"onshi-rig-locks-{os.getuid()}"


def _now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


@attrs.frozen
class Holder:
    """Who holds (or held) a device's lock, as its lock file says."""

    pid: int
    user: str
    host: str
    since: str
    bench: str
    #: What else the holder noted (the labgrid place it acquired itself, and when).
    extra: dict[str, Any] = attrs.field(factory=dict)

    @classmethod
    def me(cls, bench: str, **extra: Any) -> Holder:
        return cls(os.getpid(), getpass.getuser(), socket.gethostname(), _now(), bench, extra)

    def text(self) -> str:
        return json.dumps(attrs.asdict(self), ensure_ascii=False)

    @classmethod
    def parse(cls, text: str) -> Holder | None:
        """The holder a lock file names; None for an empty file or one cut short."""
        try:
            data = json_loads(text)
            return cls(int(data["pid"]), str(data["user"]), str(data["host"]),
                       str(data["since"]), str(data["bench"]), dict(data.get("extra") or {}))
        except (ValueError, KeyError, TypeError):
            return None

    def describe(self) -> str:
        return (f"pid {self.pid} ({self.user} on {self.host}, bench {self.bench}) "
                f"since {self.since}")


def lock_file(folder: Path, device: str) -> Path:
    """The lock file of ``device`` (a key such as ``serial /dev/ttyACM0``): readable name,
    made unique by a hash of the whole key."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", device).strip("_")[:60]
    digest = hashlib.sha256(device.encode()).hexdigest()[:12]
    return folder / f"{slug}-{digest}.lock"


def _open(path: Path) -> int:
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
    with contextlib.suppress(OSError):  # another user's file: theirs to open up
        if os.fstat(fd).st_uid == os.getuid():
            os.fchmod(fd, 0o666)  # whoever runs next on this host may lock and write it
    return fd


def _read(fd: int) -> str:
    return os.pread(fd, 64 * 1024, 0).decode("utf-8", "replace")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


@attrs.define
class Taken:
    """A device's lock this process holds."""

    device: str
    #: What the bench file calls it (``instrument mains``, ``camera cam-1``).
    label: str
    fd: int
    #: The holder the file named when it was taken over from a run that died, else None.
    left_by: Holder | None

    def note(self, **extra: Any) -> None:
        """Add to what the lock file says of this run (kept if the run dies)."""
        holder = Holder.parse(_read(self.fd))
        if holder is not None:
            holder = attrs.evolve(holder, extra={**holder.extra, **extra})
            _write(self.fd, holder.text())

    def release(self) -> None:
        with contextlib.suppress(OSError):
            os.ftruncate(self.fd, 0)  # emptied: the next run knows this one let go
        with contextlib.suppress(OSError):
            fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)


def _write(fd: int, text: str) -> None:
    os.ftruncate(fd, 0)
    os.pwrite(fd, text.encode("utf-8"), 0)


@attrs.frozen
class Blocked:
    """A device held by a live run."""

    device: str
    label: str
    #: None: it has the lock but has not written who it is yet.
    holder: Holder | None

    def message(self) -> str:
        who = self.holder.describe() if self.holder else "another run (not yet saying who)"
        return f"{self.label} ({self.device}) is held by {who}"


def take_all(devices: dict[str, str], bench: str, folder: Path | None = None
             ) -> list[Taken] | Blocked:
    """The locks of every device (key -> label), or none: a device held elsewhere is
    returned as :class:`Blocked` and nothing stays taken (no run holds half a bench while it
    waits for the rest), nor is any file changed."""
    from harness.errors import RigError

    folder = folder or lock_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if folder == SHARED_DIR:
            with contextlib.suppress(OSError):
                os.chmod(folder, 0o1777)  # every user's, as /run/lock
    except OSError as exc:
        raise RigError(f"cannot make the lock folder {folder}: {exc.strerror} (set "
                       f"{LOCK_DIR_ENV} to a writable folder)") from None
    locked: list[tuple[str, int]] = []
    try:
        # A labgrid place first: its holder is the whole bench's.
        for device in sorted(devices, key=lambda d: (not d.startswith("labgrid "), d)):
            path = lock_file(folder, device)
            try:
                fd = _open(path)
            except OSError as exc:
                raise RigError(f"cannot open the lock of {devices[device]} ({path}): "
                               f"{exc.strerror}") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _holder_of(fd)
                os.close(fd)
                _unlock(locked)
                return Blocked(device, devices[device], holder)
            locked.append((device, fd))
        # All held: only now does any file change (a dead run's record read, then ours).
        me = Holder.me(bench).text()
        taken = []
        for device, fd in locked:
            left = Holder.parse(_read(fd))
            _write(fd, me)
            taken.append(Taken(device, devices[device], fd, left))
        return taken
    except BaseException:
        _unlock(locked)
        raise


def _unlock(locked: list[tuple[str, int]]) -> None:
    for _, fd in locked:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _holder_of(fd: int) -> Holder | None:
    """The live holder named in a locked file (it writes just after locking: a moment)."""
    for _ in range(20):
        holder = Holder.parse(_read(fd))
        if holder is not None:
            return holder
        time.sleep(0.01)
    return None


def takeover_notes(taken: list[Taken]) -> list[str]:
    """What to say of locks taken over from runs that died."""
    notes = []
    for lock in taken:
        left = lock.left_by
        if left is None:
            continue
        gone = "is gone" if not _pid_alive(left.pid) or left.host != socket.gethostname() \
            else "ended without letting go"
        notes.append(f"{lock.label} ({lock.device}): taken over from {left.describe()}, "
                     f"a run that {gone}")
    return notes
