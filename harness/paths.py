"""Where the project's data folders are: in a checkout, or installed with the package."""

from __future__ import annotations

from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parent.parent


def project_file(relative: str) -> Path:
    """``vendor_profiles``, ``fixtures/benches/emulated.yaml``, ... of this installation."""
    for base in (_CHECKOUT, Path(__file__).resolve().parent / "data"):
        candidate = base / relative
        if candidate.exists():
            return candidate
    return _CHECKOUT / relative
