"""Bench faults: lines (see the package)."""

from __future__ import annotations

from typing import Any

#: Fault kind -> handler (harness.emulation.faults.Handler).
HANDLERS: dict[str, Any] = {}
