"""Where the project's data folders are. The rig runs from a checkout (README): profiles,
benches and fixtures live beside the package, not inside it."""

from __future__ import annotations

from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parent.parent


def project_file(relative: str) -> Path:
    """``vendor_profiles``, ``fixtures/benches/emulated.yaml``, ... of this checkout."""
    return _CHECKOUT / relative
