"""A lab's own folders, named in ``onshi-rig.toml`` in the working folder::

    profiles = "profiles"            # vendor profiles (default: the shipped ones)
    screens = "screens"              # reference screens, one subfolder per maker
    bench = "benches/lab.yaml"       # the bench file (default: the emulated bench)

Paths are relative to the file. An option (``--profiles``, ``--bench``, ``--screens``)
wins over the file, the file over the data shipped with the rig; nothing is ever written
into the installed package. The file is read by every ``onshi-rig`` command and by the
suites under pytest (run from that folder); its problems are all reported at once, each as
``onshi-rig.toml:LINE: key: problem``.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

import attrs

from harness.errors import BadInput
from harness.loading import MAX_BYTES, Stamp, bounded_bytes, file_kind, file_stamp
from harness.paths import path_problem, resolved

CONFIG_FILE = "onshi-rig.toml"

#: Each key, and whether it names a folder (else a file).
KEYS = {"profiles": True, "screens": True, "bench": False}


@attrs.frozen
class LabConfig:
    """The folders and files a lab's ``onshi-rig.toml`` names (None: the shipped ones)."""

    file: Path | None = None
    profiles: Path | None = None
    screens: Path | None = None
    bench: Path | None = None


def load_config(path: Path, shown: str | None = None) -> LabConfig:
    """``path`` read and checked; ``shown`` is the name its errors give it. Raises
    :class:`BadInput` listing every problem."""
    shown = shown or str(path)
    try:
        raw = bounded_bytes(path, MAX_BYTES)  # not /dev/zero whole, not a FIFO's wait
    except OSError as exc:
        raise BadInput(shown, None, "", f"cannot read it ({exc.strerror})") from None
    try:
        # A BOM (Windows' Notepad writes one) is no TOML error, as the YAML files take it.
        text = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise BadInput(shown, line, "", "not UTF-8 text") from None
    lines = text.splitlines()
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _syntax_error(shown, lines, str(exc)) from None
    except RecursionError:
        # tomllib recurses into arrays and inline tables: a few thousand deep is the stack.
        line, key = next(((n, m.group(1)) for n, text in enumerate(lines, 1)
                          if (m := _KEY.match(text))
                          and text[m.end():].lstrip().startswith(("[", "{"))),
                         (None, ""))
        raise BadInput(shown, line, key, "not valid TOML: nested too deep") from None
    problems: list[BadInput] = []
    found: dict[str, Path] = {}
    for key, value in data.items():
        line = _line_of(lines, key)
        if key not in KEYS:
            problems.append(BadInput(shown, line, key, "unknown key (known: "
                                     f"{', '.join(sorted(KEYS))})"))
            continue
        if not isinstance(value, str):
            problems.append(BadInput(shown, line, key, "give a path as a string, e.g. "
                                     f'{key} = "..." (got {type(value).__name__})'))
            continue
        if not value.strip():
            problems.append(BadInput(shown, line, key, "an empty path"))
            continue
        target, problem = _target(path.parent, value, folder=KEYS[key])
        if problem is not None:
            problems.append(BadInput(shown, line, key, problem))
        elif target is not None:
            found[key] = target
    if problems:
        raise BadInput.of(problems)
    return LabConfig(file=path.resolve(), **found)


def _target(base: Path, value: str, *, folder: bool) -> tuple[Path | None, str | None]:
    """The path ``value`` names (relative to ``base``), or what is wrong with it: a ``~user``
    this machine lacks, a name no file can have, a loop of links (each a problem of the
    key, listed with the others, never an exception from pathlib)."""
    try:
        named = Path(value).expanduser()
    except RuntimeError:  # Path.expanduser: "Could not determine home directory."
        return None, f"{value.split('/')[0]}: no such user (its home folder is not known)"
    try:
        target = resolved(base / named)
        return target, _problem(target, folder=folder)
    except BadInput as exc:  # the key names the path: not repeated (it may be 5000 a's)
        return None, exc.problem
    except OSError as exc:
        return None, path_problem(exc) or f"cannot look at it ({exc.strerror or exc})"


def _problem(target: Path, *, folder: bool) -> str | None:
    if not target.exists():
        return f"no such {'folder' if folder else 'file'}: {target}"
    if folder and not target.is_dir():
        return f"{target} is {file_kind(target)}, not a folder"
    if not folder and not target.is_file():
        return (f"{target} is a folder, not a file" if target.is_dir()
                else f"{target} is not a regular file ({file_kind(target)})")
    return None


def _line_of(lines: list[str], key: str) -> int | None:
    """The line that sets ``key`` at the top level (or opens it as a table)."""
    name = rf"""(?:{re.escape(key)}|"{re.escape(key)}"|'{re.escape(key)}')"""
    pattern = re.compile(rf"^\s*(?:{name}\s*[.=]|\[+\s*{name}\s*[.\]])")
    return next((i for i, line in enumerate(lines, 1) if pattern.match(line)), None)


_AT = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")
_KEY = re.compile(r"""^\s*["']?([A-Za-z0-9_-]+)["']?\s*=""")


def _syntax_error(shown: str, lines: list[str], message: str) -> BadInput:
    """tomllib's ``Invalid value (at line 3, column 12)`` as ``file:3: key: invalid value
    (column 12)``."""
    at = _AT.search(message)
    problem = _AT.sub("", message).replace(" (at end of document)", "")
    problem = problem[:1].lower() + problem[1:]
    if at is None:  # "at end of document": the last line
        return BadInput(shown, len(lines) or None, "", f"not valid TOML: {problem}")
    line = int(at.group(1))
    key = _KEY.match(lines[line - 1]) if 0 < line <= len(lines) else None
    return BadInput(shown, line, key.group(1) if key else "",
                    f"not valid TOML: {problem} (column {at.group(2)})")


_CACHE: dict[Stamp, LabConfig] = {}


def lab_config() -> LabConfig:
    """The working folder's ``onshi-rig.toml`` (an empty config when there is none), read
    again only when it changes. Raises :class:`BadInput` when it is bad."""
    path = Path.cwd() / CONFIG_FILE
    try:
        key = file_stamp(path)
    except FileNotFoundError:
        return LabConfig()
    except OSError:  # a folder of that name, a file it may not read: load_config says which
        return load_config(path, shown=os.path.relpath(path))
    if key not in _CACHE:
        config = load_config(path, shown=os.path.relpath(path))
        try:
            unchanged = file_stamp(path) == key
        except OSError:
            unchanged = False
        if not unchanged:  # changed while it was read: not kept
            return config
        _CACHE.clear()
        _CACHE[key] = config
    return _CACHE[key]


def screens_to_write(given: Path | None) -> Path:
    """The folder ``learn`` and ``references`` write reference screens into: ``given``
    (``--screens``/``--out``), else the lab's (onshi-rig.toml), else a checkout's own. An
    installed rig's shipped screens are never changed: then the user must name a folder."""
    from harness.errors import RigError
    from harness.paths import checkout, project_file

    folder = given or lab_config().screens
    if folder is not None:
        return folder
    if checkout() is None:
        raise RigError("name the folder to write the reference screens into: --screens/--out "
                       f'DIR, or screens = "DIR" in {CONFIG_FILE} (the installed rig\'s own '
                       "are not changed)")
    return project_file("fixtures/screens")
