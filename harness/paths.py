"""Where the rig's data is: the vendor profiles, the fixtures (benches, the twins' behaviour,
reference screens, cards) and the suites.

One source, two layouts. In a checkout the folders sit at the top level, beside the
package (``vendor_profiles/``, ``fixtures/``, ``suites/``). The wheel ships the same folders
inside the package ``onshi_rig_data`` (pyproject.toml maps ``onshi_rig_data.fixtures`` to
``fixtures/``, ...), found through :mod:`importlib.resources`. Either way a relative path
names the same file, ``project_file("fixtures/benches/emulated.yaml")``, and the files keep
their places relative to each other (a bench's ``base: emulated.yaml`` and its
``emulate: ../devices/...``).
"""

from __future__ import annotations

import errno
import functools
import importlib.resources
from pathlib import Path

from harness.errors import BadInput, RigError

#: The package the wheel ships the data in (the checkout's ``onshi_rig_data/`` holds only
#: its ``__init__.py``: there the folders stay at the top level).
DATA_PACKAGE = "onshi_rig_data"

_PACKAGE = Path(__file__).resolve().parent
_SOURCE = _PACKAGE.parent


@functools.cache
def checkout() -> Path | None:
    """The source checkout this harness runs from, or None when it is installed (a wheel):
    only a checkout has the project file and the data folders beside the package."""
    marks = (_SOURCE / "pyproject.toml", _SOURCE / "vendor_profiles", _SOURCE / "suites")
    return _SOURCE if all(p.exists() for p in marks) else None


@functools.cache
def data_root() -> Path:
    """The folder that holds ``vendor_profiles/``, ``fixtures/`` and ``suites/``."""
    source = checkout()
    if source is not None:
        return source
    try:
        root = importlib.resources.files(DATA_PACKAGE)
    except ModuleNotFoundError:
        raise RigError(f"this onshi-rig is installed without its data ({DATA_PACKAGE}): "
                       "reinstall it from the wheel") from None
    # Bench files name each other by relative path: the data must be real files (a zip
    # import would give no paths).
    if not isinstance(root, Path):
        raise RigError(f"{DATA_PACKAGE} is not installed as files ({root}): install the "
                       "wheel into a folder, not as a zip")
    return root


#: What a file that is a loop of symbolic links is, however it was found out.
LINK_LOOP = "a loop of symbolic links (a link that leads back to itself)"
#: ... a name longer than the file system allows (ENAMETOOLONG).
NAME_TOO_LONG = "file name too long"
#: ... a name holding a NUL character (Python's ValueError "embedded null byte").
NUL_IN_NAME = "a NUL character in the name (no file has one)"
#: ... a name whose bytes are not UTF-8 (OpenCV crashes on such a name: a segfault).
NOT_UTF8_NAME = "a name that is not UTF-8 text: rename it"


def path_problem(exc: BaseException) -> str | None:
    """What ``exc``, raised while a path the user gave was looked at, says is wrong with
    the path itself; None when it says something else (not the name's fault: let it go)."""
    if isinstance(exc, OSError):
        return {errno.ENAMETOOLONG: NAME_TOO_LONG, errno.ELOOP: LINK_LOOP}.get(exc.errno or 0)
    if isinstance(exc, RuntimeError) and str(exc).startswith("Symlink loop"):
        return LINK_LOOP  # Python 3.11's Path.resolve
    if isinstance(exc, ValueError) and "null byte" in str(exc):
        return NUL_IN_NAME
    return None


def resolved(path: Path) -> Path:
    """``path`` made absolute, its links followed; a link that leads back to itself, a name
    too long or holding a NUL is bad input naming it (Python 3.11's ``resolve`` raises a
    bare RuntimeError on the loop)."""
    try:
        return path.resolve()
    except RuntimeError:
        raise BadInput(str(path), None, "", LINK_LOOP) from None
    except (OSError, ValueError) as exc:
        problem = path_problem(exc)
        if problem is None:
            raise
        raise BadInput(str(path), None, "", problem) from None


def project_file(relative: str) -> Path:
    """``vendor_profiles``, ``fixtures/benches/emulated.yaml``, ``suites``, ... of this
    checkout or of the installed wheel."""
    return data_root() / relative


def package_dir() -> Path:
    """The ``harness`` package's own folder (its code, wherever it is installed)."""
    return _PACKAGE


def reports_dir() -> Path:
    """Where certifications go by default: a checkout's ``reports/``; installed, the
    working folder's ``reports/`` (never inside site-packages)."""
    source = checkout()
    return source / "reports" if source is not None else Path.cwd() / "reports"
