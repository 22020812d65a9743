"""Checks of command-line values, as argparse ``type=`` functions.

A value out of range is refused while the arguments are parsed, before any work starts:
argparse prints ``argument --jobs: ...`` with the usage and exits 2.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
from pathlib import Path

from harness.errors import BadInput, RigError
from harness.image_header import check_image_file
from harness.paths import NOT_UTF8_NAME, path_problem


def positive_int(text: str) -> int:
    """A whole number of at least 1 (``--jobs``, ``--frames``)."""
    try:
        value = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value}: give 1 or more")
    return value


#: The longest wait a command may be told: a day (a longer one is a typo for a shorter one).
MAX_SECONDS = 86_400.0


def finite_positive_seconds(text: str) -> float:
    """Seconds, more than 0 and at most a day (``--timeout``): not nan, not infinite."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r}: give a finite number of seconds")
    if not 0 < value <= MAX_SECONDS:
        raise argparse.ArgumentTypeError(f"{value:g} s: give more than 0 and at most "
                                         f"{MAX_SECONDS:g} s")
    return value


def writable_folder(text: str) -> Path:
    """A folder to write into (``--out``, ``--dir``): an existing writable folder, or a new
    one whose nearest existing parent is a writable folder. A file is refused."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty folder name")
    path = Path(text)
    if path.exists():
        if not path.is_dir():
            raise argparse.ArgumentTypeError(f"{text}: a file, not a folder")
        if not os.access(path, os.W_OK | os.X_OK):
            raise argparse.ArgumentTypeError(f"{text}: the folder is not writable")
        return path
    parent = path.absolute().parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise argparse.ArgumentTypeError(f"{text}: {parent} is a file, not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise argparse.ArgumentTypeError(f"{text}: cannot create it ({parent} is not "
                                         "writable)")
    return path


def folder_to_write(option: str, path: Path) -> None:
    """``option``'s folder can be written: it is one, or it can be made. A file in the way,
    or a folder that cannot be made (under a file, in /proc), is one line of bad input
    before any work (not an OSError once the work is done: learn's frames were taken). A
    folder in a run folder (or one), links followed, is refused: its seal would break.
    The folders made to prove it are taken away again: a command that then stops on bad
    input leaves nothing behind; the writing makes them."""
    from harness.paths import resolved
    from harness.report.manifest import outside_sealed_runs

    outside_sealed_runs(option, resolved(path), "folder", itself=True)
    made = [p for p in (path, *path.parents) if not p.exists()]
    try:
        writable_folder(str(path))
        path.mkdir(parents=True, exist_ok=True)
    except argparse.ArgumentTypeError as exc:
        raise RigError(f"{option} {exc}") from None
    except OSError as exc:
        raise RigError(f"{option} {path}: cannot make the folder: {exc.strerror}") from None
    for folder in made:  # deepest first; one something else put there meanwhile stays
        with contextlib.suppress(OSError):
            folder.rmdir()


def existing_file(text: str) -> Path:
    """A file to read (``--bench``, ``--card``, ``--calibration``): it exists and is a
    file, not a folder."""
    path = Path(text)
    if not path.exists():
        raise argparse.ArgumentTypeError(f"{text}: no such file")
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"{text}: not a file")
    return path


def image_file(text: str) -> Path:
    """An image to read (``classify IMAGE``): its header's size sane before decoding."""
    path = Path(text)
    try:
        check_image_file(path)
    except BadInput as exc:
        raise argparse.ArgumentTypeError(f"{text}: {exc.problem}") from None
    return path


#: Options given as text that may name a file (the other paths are typed ``Path``):
#: ``learn --source`` (else a camera index or URL), ``probe --card`` (else card or phone).
PATH_TEXTS = ("source", "card")


def check_path_names(args: argparse.Namespace) -> None:
    """Every path of the command line can name a file: one too long for the file system,
    holding a NUL, not UTF-8 or a loop of symbolic links is bad input naming it, all, before
    the command runs (each was an OSError or RuntimeError from deep inside the command,
    with a traceback). Only the names are looked at: a missing file is the command's."""
    problems = [BadInput(_shown(path), None, "", problem) for path in _paths(args)
                if (problem := _name_problem(path))]
    if problems:
        raise BadInput.of(problems)


def _paths(args: argparse.Namespace) -> list[Path]:
    from harness.loading import file_reference

    found: list[Path] = []
    for key, value in vars(args).items():
        values = value if isinstance(value, list) else [value]
        found += [v for v in values if isinstance(v, Path)]
        # A camera's URL (a long token in its query) or index is no file's name.
        if key in PATH_TEXTS and isinstance(value, str) and file_reference("source", value):
            found.append(Path(value))
    return list(dict.fromkeys(found))  # a path given twice is named once


def _shown(path: Path) -> str:
    """``path`` as a message can print it: bytes that are no UTF-8 as ``\\xff``."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def _name_problem(path: Path) -> str | None:
    if not str(path).isascii():
        try:  # bytes that are no UTF-8 come as surrogates: OpenCV segfaults on them
            str(path).encode("utf-8")
        except UnicodeEncodeError:
            return NOT_UTF8_NAME
    try:
        os.stat(path)  # ENAMETOOLONG, ELOOP (also of a parent: loop/sub), a NUL
        path.resolve()  # Python 3.11: a loop is a RuntimeError
    except (OSError, RuntimeError, ValueError) as exc:
        return path_problem(exc)  # missing, not allowed: left to the command
    return None
