"""``manifest.sha256``: the SHA-256 of every file of a run folder, so a report handed over can
be checked (``onshi-rig report verify DIR``, or ``sha256sum -c manifest.sha256`` in it).

The file is in ``sha256sum``'s format (``<hex>  <path>``, paths relative to the run folder,
``/``-separated, sorted; a path with a backslash or a newline escaped as ``sha256sum`` does,
the line starting with ``\\``). It lists every file but itself. ``certify`` writes it last,
after the run's last report, also for an interrupted run.

The manifest proves that nothing changed since it was written, not who wrote it: whoever can
change a file can write a new manifest.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import stat
import sys
from pathlib import Path

import attrs

from harness.errors import BadInput, RigError
from harness.loading import MAX_REPORT_BYTES, bounded_bytes
from harness.report.live import atomic_write

MANIFEST_FILE = "manifest.sha256"
_LINE = re.compile(r"(\\?)([0-9a-f]{64}) [ *](.+)")
_CHUNK = 1 << 20


@attrs.frozen
class ManifestCheck:
    """A run folder against its manifest; paths relative to the folder."""

    checked: int
    changed: tuple[str, ...]
    missing: tuple[str, ...]
    extra: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not (self.changed or self.missing or self.extra)

    def lines(self) -> list[str]:
        return ([f"changed: {p}" for p in self.changed] + [f"missing: {p}" for p in self.missing]
                + [f"extra: {p}" for p in self.extra])


def file_sha256(path: Path) -> str:
    """The file's SHA-256; an OSError for anything not a regular file (a FIFO in a run
    folder blocked its reader for ever, a device never ended)."""
    digest = hashlib.sha256()
    with os.fdopen(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise OSError(errno.EINVAL, f"{path}: not a regular file")
        while block := f.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _is_manifest(rel: str) -> bool:
    # Itself, and the temporary file it is written through (atomic_write's name).
    return rel == MANIFEST_FILE or (rel.startswith(f".{MANIFEST_FILE}.") and "/" not in rel)


def folder_files(run_dir: Path) -> list[str]:
    """Every file under ``run_dir`` (not the manifest), relative, ``/``-separated, sorted.
    Folders linked to are not followed (their files are not the run's)."""
    out: list[str] = []
    for root, dirs, files in os.walk(run_dir):
        dirs.sort()
        base = Path(root).relative_to(run_dir)
        for name in files:
            rel = (base / name).as_posix()
            if not _is_manifest(rel):
                out.append(rel)
        # A link to a folder is one entry of this folder: listed as a file (its hash fails,
        # so the manifest cannot be written over a link that leaves the folder).
        out.extend((base / d).as_posix() for d in dirs if (Path(root) / d).is_symlink())
    return sorted(out)


def _escape(rel: str) -> tuple[str, str]:
    if "\\" not in rel and "\n" not in rel and "\r" not in rel:
        return "", rel
    return "\\", rel.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")


def _unescape(rel: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "r": "\r"}.get(m[1], m[1]), rel)


def manifest_text(run_dir: Path) -> str:
    lines = []
    for rel in folder_files(run_dir):
        flag, name = _escape(rel)
        lines.append(f"{flag}{file_sha256(run_dir / rel)}  {name}\n")
    return "".join(lines)


def write_manifest(run_dir: Path) -> Path:
    target = run_dir / MANIFEST_FILE
    atomic_write(target, manifest_text(run_dir).encode("utf-8"))
    return target


def seal_run_folder(run_dir: Path) -> Path | None:
    """``certify``'s last step: the manifest written, or a line on stderr saying why not (the
    run's verdicts stand either way)."""
    try:
        target = write_manifest(run_dir)
    except OSError as exc:
        print(f"{MANIFEST_FILE} not written: {exc}", file=sys.stderr, flush=True)
        return None
    print(f"manifest: {target}", flush=True)
    return target


def read_manifest(run_dir: Path) -> dict[str, str]:
    """The manifest's entries, path -> SHA-256; :class:`RigError` when there is none,
    :class:`BadInput` (``file:line``) for a line that is not ``sha256sum``'s."""
    path = run_dir / MANIFEST_FILE
    if not run_dir.is_dir():
        raise RigError(f"{run_dir}: no such run folder")
    try:
        text = bounded_bytes(path, MAX_REPORT_BYTES).decode("utf-8")
    except FileNotFoundError:
        raise RigError(f"{path}: no manifest in this folder (certify writes it at the end of "
                       "a run)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RigError(f"{path}: cannot be read: {exc}") from None
    entries: dict[str, str] = {}
    for number, line in enumerate(text.split("\n"), 1):
        if not line:
            continue
        match = _LINE.fullmatch(line)
        if match is None:
            raise BadInput(str(path), number, "", "not a sha256sum line (<sha256>  <path>)")
        flag, digest, rel = match.groups()
        rel = _unescape(rel) if flag else rel
        parts = rel.split("/")
        if rel.startswith("/") or ".." in parts or "" in parts or "." in parts:
            raise BadInput(str(path), number, "", f"{rel!r} is not a path inside the folder")
        if rel in entries:
            raise BadInput(str(path), number, "", f"{rel!r} is listed twice")
        entries[rel] = digest
    return entries


def check_manifest(run_dir: Path) -> ManifestCheck:
    """Every file of ``run_dir`` against its manifest."""
    entries = read_manifest(run_dir)
    present = folder_files(run_dir)
    on_disk = set(present)
    changed = []
    for rel in present:
        if rel in entries:
            try:
                same = file_sha256(run_dir / rel) == entries[rel]
            except OSError:
                same = False  # unreadable: not the file that was sealed
            if not same:
                changed.append(rel)
    return ManifestCheck(
        checked=len(entries), changed=tuple(changed),
        missing=tuple(sorted(r for r in entries if r not in on_disk)),
        extra=tuple(r for r in present if r not in entries))


def sealed_folder_of(path: Path, *, itself: bool = False) -> Path | None:
    """The run folder ``path`` is in (one with a manifest, or a run's ``run.json``: a run
    going on, stopped or killed before it sealed), or None: a file written there, new or
    over one, breaks the seal, or is sealed with that run as its own. ``itself``: ``path``
    is a folder to write into, a run folder too."""
    from harness.report.live import RUN_FILE

    start = path.absolute()
    for folder in [start] * itself + list(start.parents):
        if (folder / MANIFEST_FILE).is_file() or (folder / RUN_FILE).is_file():
            return folder
    return None


def outside_sealed_runs(option: str, path: Path, what: str = "file", *,
                        itself: bool = False) -> None:
    """A :class:`RigError` when ``path``, a ``what`` to write (a file, a folder), is inside
    a run folder: the run would no longer verify, or would seal it as its own (``--html``,
    ``--out``)."""
    folder = sealed_folder_of(path, itself=itself)
    if folder is not None:
        held = MANIFEST_FILE if (folder / MANIFEST_FILE).is_file() else "run.json"
        raise RigError(f"{option} {path}: inside the run folder {folder} (it has {held}); "
                       f"writing there would change that run: give a {what} outside it")


def not_inside_another_run(option: str, run_dir: Path, instead: str) -> None:
    """A :class:`RigError` when the run folder ``run_dir``, which a command would write
    into, lies inside another run folder (a merged folder's ``run-N`` copies): writing there
    changes the outer folder, whose seal then breaks. ``instead``: what to do."""
    from harness.paths import resolved

    outer = sealed_folder_of(resolved(run_dir).parent, itself=True)
    if outer is not None:
        held = MANIFEST_FILE if (outer / MANIFEST_FILE).is_file() else "run.json"
        raise RigError(f"{option} {run_dir}: inside the run folder {outer} (it has {held}): "
                       f"a copy in it (a merged folder's run); writing into it would change "
                       f"{outer} and break its seal: {instead}")


def require_sealed(run_dir: Path, why: str) -> None:
    """A :class:`RigError` unless ``run_dir`` has a manifest and every file matches it: a
    report read for ``why`` is the one that was sealed, or it is not read."""
    if not (run_dir / MANIFEST_FILE).is_file():
        raise RigError(f"{run_dir}: no {MANIFEST_FILE}: its files cannot be checked "
                       f"before {why}")
    check = check_manifest(run_dir)
    if not check.ok:
        shown = ", ".join([*check.changed, *check.missing, *check.extra][:3])
        raise RigError(f"{run_dir}: its files do not match {MANIFEST_FILE} "
                       f"({len(check.changed)} changed, {len(check.missing)} missing, "
                       f"{len(check.extra)} extra: {shown}; onshi-rig report verify "
                       f"{run_dir}): not used for {why}")
