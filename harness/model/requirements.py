"""Requirement IDs (shared/domain.md) and the verdicts rules return."""

from __future__ import annotations

import re

import attrs

#: The families of requirement IDs in the domain digest.
FAMILIES = ("UPD", "E901", "USB", "BOOT", "ERR", "NET", "AUTH", "SP", "CON")
#: Two ASCII digits (``\d`` takes any script's: UPD-0٢ is no requirement).
ID_PATTERN = re.compile(rf"^({'|'.join(FAMILIES)})-[0-9]{{2}}$")


def check_requirement_id(value: str) -> str:
    if not ID_PATTERN.match(value):
        raise ValueError(
            f"{value!r} is not a requirement ID like USB-01 (families: {', '.join(FAMILIES)})"
        )
    return value


@attrs.frozen
class Violation:
    requirement: str
    detail: str

    def as_dict(self) -> dict[str, str]:
        return {"requirement": self.requirement, "detail": self.detail}


@attrs.frozen
class Unchecked:
    """A requirement that applies but could not be checked here, and why."""

    requirement: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"requirement": self.requirement, "reason": self.reason}
