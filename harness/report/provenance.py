"""Where a certification came from: the rig (version, git commit), the profiles it held the
readers to, the machine. A report handed over must say what produced it."""

from __future__ import annotations

import hashlib
import platform
import socket
import subprocess
from pathlib import Path
from typing import Any

from harness.paths import checkout as _checkout
from harness.paths import package_dir, project_file


def rig_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("onshi-rig")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


def git_commit(checkout: Path | None = None) -> dict[str, Any]:
    """The checkout's commit and whether files differ from it (None when not a git checkout
    or git is absent, or the rig is installed from a wheel: no commit of its own)."""
    where = checkout or _checkout()
    if where is None:
        return {"commit": None, "modified": None}

    def git(*args: str) -> str | None:
        try:
            proc = subprocess.run(["git", "-C", str(where), *args], capture_output=True,
                                  text=True, timeout=20)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return proc.stdout.strip() if proc.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if commit is None:
        return {"commit": None, "modified": None}
    # Tracked files changed since the commit: the code that ran is not exactly the commit.
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "modified": bool(status) if status is not None else None}


def shown_path(path: Path, cwd: Path | None = None) -> str:
    """A file or folder as a report handed over shows it: relative to the working folder
    when inside it, else its name; never the certifying host's absolute path (which says
    nothing to the reader and tells about the machine)."""
    here = (cwd or Path.cwd()).resolve()
    try:
        return path.resolve().relative_to(here).as_posix()
    except (OSError, ValueError):
        return path.name


def tree_sha256(folder: Path, pattern: str = "*.yaml") -> str:
    """One SHA-256 over a folder's files: each file's name (relative) and content, in name
    order."""
    digest = hashlib.sha256()
    for path in sorted(folder.glob(pattern)):
        digest.update(path.relative_to(folder).as_posix().encode("utf-8") + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def screens_provenance(folders: dict[str, Path]) -> dict[str, dict[str, str]]:
    """Each maker's reference screens (its folder by key) as a report names them: where,
    and one SHA-256 over its files (the index and every picture)."""
    out = {}
    for key, folder in sorted(folders.items()):
        digest = hashlib.sha256()
        for path in sorted(p for p in folder.iterdir() if p.is_file()):
            digest.update(path.name.encode("utf-8") + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
        out[key] = {"dir": str(folder), "dir_shown": shown_path(folder),
                    "sha256": digest.hexdigest()}
    return out


def code_sha256() -> str:
    """The rig's code that runs a certification (the harness and the suites), one SHA-256:
    the same code whatever the checkout's state (``--resume`` needs the same)."""
    digest = hashlib.sha256()
    for folder in (package_dir(), project_file("suites")):
        digest.update(tree_sha256(folder, "**/*.py").encode("ascii"))
    return digest.hexdigest()


def provenance(profiles_dir: Path) -> dict[str, Any]:
    return {
        "version": rig_version(),
        **git_commit(),
        "code_sha256": code_sha256(),
        # dir: where --resume and the tests find them; dir_shown: what a reader sees.
        "profiles": {"dir": str(profiles_dir), "dir_shown": shown_path(profiles_dir),
                     "sha256": tree_sha256(profiles_dir),
                     "scenarios": scenario_sha256s(profiles_dir)},
        "host": socket.gethostname(),
        "python": platform.python_version(),
    }


def scenario_sha256s(profiles_dir: Path) -> dict[str, str]:
    """The network scenarios the profiles replay (NET-01), each file's SHA-256 by its name:
    they live outside the profiles folder, and a verdict holds only for the cuts it saw."""
    from harness.model.profiles import ProfileSet
    from harness.model.scenario import scenarios_dir

    names = {check.renewal.scenario
             for profile in ProfileSet.load(profiles_dir).profiles.values()
             for req in profile.requirements for check in req.checks
             if getattr(check, "renewal", None) is not None}
    return {name: hashlib.sha256((scenarios_dir() / f"{name}.yaml").read_bytes()).hexdigest()
            for name in sorted(names)}
