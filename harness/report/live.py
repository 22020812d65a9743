"""A run folder's report kept current while the run goes, so the folder always holds one.

``certification.json`` is rewritten after every test: a temporary file in the same folder,
written, fsynced, then renamed over the old one (:func:`atomic_write`), so a reader (or a
SIGKILL) only ever sees a whole report, the last one written. ``certification.html`` follows
at most every few seconds (it can embed many pictures) and at the end.

A run folder belongs to one run: :func:`claim_folder` refuses a folder that holds anything
and leaves ``run.json`` in it (the run's id, when and what started it), and every report the
run writes carries the same id (``run``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.errors import RigError
from harness.loading import json_loads

RUN_FILE = "run.json"
REPORT_FILE = "certification.json"
#: The reason a requirement is ``not_run`` while the run goes on, and after it stopped.
PENDING = "not run yet"
INTERRUPTED = "not run: the run was interrupted"
#: Space a run holds in its folder from its start, given back when a write fails (a full
#: disk) so the report can still be marked ended with why, and at the end before the seal.
RESERVE_FILE = ".onshi-rig-reserve"
RESERVE_BYTES = 2 * 1024 * 1024


def reserve_space(folder: Path, size: int = RESERVE_BYTES) -> None:
    """Hold ``size`` bytes in ``folder`` (as much as fits: a disk already that full fails
    at its first report, which is said)."""
    chunk = bytes(64 * 1024)
    with contextlib.suppress(OSError), open(folder / RESERVE_FILE, "wb") as f:
        for _ in range(0, size, len(chunk)):
            f.write(chunk)
        f.flush()
        os.fsync(f.fileno())


def release_space(folder: Path) -> None:
    """The reserve given back (none held: nothing to do)."""
    with contextlib.suppress(OSError):
        (folder / RESERVE_FILE).unlink(missing_ok=True)


def _temporary(target: Path) -> Path:
    return target.with_name(f".{target.name}.{os.getpid()}.tmp")


def _write_synced(tmp: Path, data: bytes, like: Path) -> None:
    """``data`` in ``tmp``, on the disk; the permissions of ``like`` if it is a file (a
    user's bench file replaced keeps its mode)."""
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    with contextlib.suppress(OSError):
        os.chmod(tmp, os.stat(like).st_mode & 0o7777)


def _sync_folder(folder: Path) -> None:
    # The rename itself reaches the disk with the folder's entry.
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write(target: Path, data: bytes) -> None:
    """``target`` replaced by ``data`` whole, or left as it was (never half written)."""
    tmp = _temporary(target)
    try:
        _write_synced(tmp, data, target)
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    _sync_folder(target.parent)


def write_files(files: dict[Path, bytes]) -> None:
    """Several files replaced together (a picture and the index naming it): each written
    whole to a temporary file first, then all renamed. A failed write (a full disk) is a
    :class:`RigError` naming the file, and none of them is replaced."""
    staged: list[tuple[Path, Path]] = []
    current = next(iter(files), Path("."))
    try:
        for current, data in files.items():
            staged.append((_temporary(current), current))
            _write_synced(staged[-1][0], data, current)
        for tmp, current in staged:
            os.replace(tmp, current)
    except OSError as exc:
        raise RigError(f"cannot write {current}: {exc.strerror or exc}; nothing changed"
                       ) from None
    finally:
        for tmp, _ in staged:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
    for folder in {target.parent for target in files}:
        _sync_folder(folder)


def stage_files(files: dict[Path, bytes]) -> list[tuple[Path, Path]]:
    """Each file written whole to a temporary file beside its target (an OSError, a full
    disk, leaves none behind and no target changed); the pairs for :func:`replace_staged`,
    whose renames need no space."""
    staged: list[tuple[Path, Path]] = []
    try:
        for target, data in files.items():
            staged.append((_temporary(target), target))
            _write_synced(staged[-1][0], data, target)
    except OSError:
        discard_staged(staged)
        raise
    return staged


def replace_staged(staged: list[tuple[Path, Path]]) -> None:
    for tmp, target in staged:
        os.replace(tmp, target)
    for folder in {target.parent for _, target in staged}:
        _sync_folder(folder)


def discard_staged(staged: list[tuple[Path, Path]]) -> None:
    for tmp, _ in staged:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def json_bytes(value: Any, *, compact: bool = False) -> bytes:
    """``value`` as JSON, indented for people; ``compact``: on one line (json's C encoder,
    several times faster: for a report rewritten while its run goes on)."""
    text = json.dumps(value, ensure_ascii=False, indent=None if compact else 2,
                      separators=(",", ":") if compact else None)
    return (text + "\n").encode("utf-8")


def write_json(target: Path, value: Any, *, compact: bool = False) -> None:
    """``value`` as JSON (:func:`json_bytes`), replacing ``target`` whole."""
    atomic_write(target, json_bytes(value, compact=compact))


def claim_folder(out: Path, run_id: str, *, what: str = "--out") -> None:
    """Make ``out`` this run's folder, or refuse (a :class:`RigError`, before any work): a
    file, a folder that cannot be written, or one that holds anything already (another
    run's files would mix with this one's)."""
    if out.exists() and not out.is_dir():
        raise RigError(f"{what} {out}: is a file, not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RigError(f"{what} {out}: cannot make the folder: {exc.strerror}") from None
    held = sorted(p.name for p in out.iterdir())
    if held:
        other = _run_of(out)
        shown = ", ".join(held[:4]) + (", ..." if len(held) > 4 else "")
        raise RigError(f"{what} {out}: not empty (holds {shown}"
                       + (f" of run {other}" if other else "")
                       + "); give a new or empty folder, so runs never mix"
                       + (" (or --resume to finish that run)" if other else ""))
    if not os.access(out, os.W_OK | os.X_OK):
        raise RigError(f"{what} {out}: cannot write there (permission denied)")
    marker = {"run": run_id, "pid": os.getpid(),
              "started": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
              **boot_mark()}
    try:
        # Exclusive: of two runs given the same empty folder at once, one only gets it.
        with open(out / RUN_FILE, "x", encoding="utf-8") as f:
            f.write(json.dumps(marker) + "\n")
    except FileExistsError:
        raise RigError(f"{what} {out}: another run ({_run_of(out) or 'unknown'}) took this "
                       "folder; give a new or empty folder") from None
    except OSError as exc:
        raise RigError(f"{what} {out}: cannot write there: {exc.strerror}") from None


def boot_mark() -> dict[str, str]:
    """``{"boot": ID}``, the kernel's id of this boot (Linux), for run.json: a pid of
    another boot is never this run's process (--resume after a power cut); {} if unread."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text("ascii").strip()
    except (OSError, UnicodeDecodeError):
        return {}
    return {"boot": boot} if boot else {}


def _run_of(folder: Path) -> str | None:
    for name in (RUN_FILE, REPORT_FILE):
        try:
            value = json_loads((folder / name).read_text("utf-8")).get("run")
        except (OSError, ValueError, AttributeError):
            continue
        if isinstance(value, str):
            return value
    return None


def unique_folder(parent: Path, stem: str) -> Path:
    """A folder name under ``parent`` no other run has: ``stem``, the process id and random
    digits (two runs started in the same second get two folders)."""
    for _ in range(100):
        candidate = parent / f"{stem}-{os.getpid()}-{os.urandom(2).hex()}"
        if not candidate.exists():
            return candidate
    raise RigError(f"no free folder name under {parent}")


class LiveReport:
    """The run folder's ``certification.json`` (and HTML), rewritten as the run goes.

    ``build(state)`` returns the report as it stands (``state``: ``running``, ``finished``
    or ``interrupted``); :meth:`update` stamps it with the run's id and state and writes it.
    """

    #: Seconds between two HTML renderings while running (at least; more when rendering
    #: takes long, as with a full run's pictures, ~5 s: it takes at most a twentieth of the
    #: run's time).
    HTML_EVERY_S = 5.0
    HTML_SHARE = 20
    #: Seconds between two rewrites of the JSON while running: each is the whole report
    #: built and written (on a full run, once per test phase cost a core a third of the run,
    #: taken from the workers on a 2-core machine). Any other state is written at once.
    JSON_EVERY_S = 1.0

    def __init__(self, out: Path, run_id: str, build: Callable[[str], dict[str, Any]], *,
                 html: bool) -> None:
        self.out = out
        self.run_id = run_id
        self.build = build
        self.html = html
        self._html_at = time.monotonic()  # the first HTML after a few seconds of work
        self._html_cost = 0.0
        self._json_at: float | None = None
        self.last: dict[str, Any] | None = None

    def update(self, state: str = "running", *, force: bool = False,
               compact: bool | None = None) -> dict[str, Any]:
        """Build and write the report; while running, at most every JSON_EVERY_S (the
        report last written is returned in between) unless ``force``: a test that did not
        pass is written at once (held back and lost to a kill, ``--resume`` would run it
        again: a second chance a failure must not get). ``compact``: on one line whatever the
        state (the last report on a full disk)."""
        now = time.monotonic()
        if (state == "running" and not force and self.last is not None
                and self._json_at is not None and now - self._json_at < self.JSON_EVERY_S):
            return self.last
        self._json_at = now
        report = self.build(state)
        report["run"] = self.run_id
        report["state"] = state
        report["interrupted"] = state == "interrupted"
        if state != "finished":
            report["passed"] = False  # a run that did not finish certifies nothing
        # Indented once the run is over (finished or interrupted); compact while it runs.
        write_json(self.out / REPORT_FILE, report,
                   compact=state == "running" if compact is None else compact)
        self.last = report
        if self.html and state == "running":
            wait = max(self.HTML_EVERY_S, self.HTML_SHARE * self._html_cost)
            if time.monotonic() - self._html_at >= wait:
                try:
                    self.write_html()
                except Exception as exc:  # noqa: BLE001 - the run's HTML, not the run
                    # Drawn again at the end, unguarded: a fault here is seen there (a
                    # full disk, said once in the run's own line: not here too).
                    self._html_at = time.monotonic()
                    if not isinstance(exc, OSError):
                        print(f"certification.html not updated while running: {exc!r}",
                              file=sys.stderr, flush=True)
        return report

    def write_html(self) -> float:
        """``certification.html`` from the last report; seconds it took."""
        from harness.report.html import write_html

        if self.last is None:
            return 0.0
        began = time.monotonic()
        write_html(self.out, self.last)
        self._html_at = time.monotonic()
        self._html_cost = self._html_at - began
        return self._html_cost
