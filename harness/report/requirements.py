"""What each requirement of a report says, from the profiles the run held the readers to:
its statement, the notices it comes from (as people find them) and how it is checked. Written
into ``certification.json`` so the report reads whole without the profiles beside it."""

from __future__ import annotations

from typing import Any

from harness.model.profiles import ProfileSet
from harness.report.catalogue import describe_check
from harness.report.notices import cite


def requirement_texts(profiles: ProfileSet, makers: dict[str, Any]) -> dict[str, Any]:
    """Maker -> requirement ID -> ``{statement, notices, checks}`` for the report's makers."""
    out: dict[str, Any] = {}
    for maker, rows in makers.items():
        profile = profiles.profiles.get(maker)
        texts: dict[str, Any] = {}
        for req_id in rows:
            req = profile.requirement(req_id) if profile is not None else None
            if req is None:  # a report merged from other profiles: said, not guessed
                texts[req_id] = {"statement": "(not in the profiles this report was written "
                                              "with)", "notices": [], "checks": []}
                continue
            texts[req_id] = {"statement": req.statement,
                             "notices": [c.text() for c in cite(req.source)],
                             "checks": [describe_check(c) for c in req.checks]}
        out[maker] = {"name": profile.maker_name if profile else maker, "requirements": texts}
    return out
