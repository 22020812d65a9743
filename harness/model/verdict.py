"""A verdict: one requirement of one maker, judged on one subject of the bench.

Every check kind (flows, boot order, wiring, the distribution schedule, the delivery list,
hot-plug) has a pure rule in ``harness/model`` that turns what a runner observed into a
:class:`Verdict`. Suites hand verdicts to the ``judge`` fixture; the certification report and
allure read them, never a test's assertion message. A verdict holds no device and no secret,
so it can be written into any report as it is.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

import attrs

#: ``error``: the rule could not be judged (the bench did not do what the rule needs to be
#: tried); it counts as a failure, with its reason.
Status = Literal["passed", "failed", "error"]


@attrs.frozen
class Evidence:
    """What decided a verdict, by reference: the report fetches the pictures itself."""

    #: The span of bench time the rule looked at (bench seconds on the timeline).
    span: tuple[float, float] | None = None
    #: Texts the rule judged on a screen, each as what it is: ``must show 【901】: NOT shown,
    #: read 【011】 (glyphs: ...)``, ``one of A / B (either will do): ...``, ``must not show
    #: 完了しました: not shown, read ...``.
    read: tuple[str, ...] = ()
    #: Frames kept behind the screen decisions (evidence store paths, when kept).
    frames: tuple[str, ...] = ()
    #: What was observed, as the rule saw it: ``first -> face_auth -> consent_1``.
    observed: tuple[str, ...] = ()
    #: The windows the rule checked (start, end, what must happen in it), bench seconds:
    #: BOOT-01's 15 to 30 s, a screen that must stay unchanged, a screen due after an action.
    windows: tuple[tuple[float, float, str], ...] = ()
    #: What was seen as a table, its first row the header (UPD-01: a row per night's edge):
    #: a report shows it instead of the run-on ``seen`` line.
    table: tuple[tuple[str, ...], ...] = ()

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.span is not None:
            out["span"] = [round(self.span[0], 3), round(self.span[1], 3)]
        for name in ("read", "frames", "observed"):
            if getattr(self, name):
                out[name] = list(getattr(self, name))
        if self.windows:
            out["windows"] = [[round(a, 3), round(b, 3), what] for a, b, what in self.windows]
        if self.table:
            out["table"] = [list(row) for row in self.table]
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Evidence:
        span = data.get("span")
        return cls(span=(float(span[0]), float(span[1])) if span else None,
                   read=tuple(data.get("read", ())), frames=tuple(data.get("frames", ())),
                   observed=tuple(data.get("observed", ())),
                   windows=tuple((float(a), float(b), str(w))
                                 for a, b, w in data.get("windows", ())),
                   table=tuple(tuple(str(c) for c in row) for row in data.get("table", ())))


@attrs.frozen
class Verdict:
    requirement: str
    #: The maker's profile the requirement is in (or ``general_readers``).
    maker: str
    #: What was judged: a reader's name, or the bench for bench-wide rules.
    subject: str
    status: Status
    #: The rule, in words a technician understands.
    expected: str
    #: What the bench did, in the same words.
    seen: str
    #: Each way the rule was broken (empty when it passed).
    problems: tuple[str, ...] = ()
    evidence: Evidence = Evidence()

    @classmethod
    def of(cls, requirement: str, maker: str, subject: str, *, expected: str, seen: str,
           problems: Iterable[str] = (), evidence: Evidence = Evidence(),
           errors: Iterable[str] = ()) -> Verdict:
        """Passed when nothing broke the rule; an error when the rule could not be tried."""
        problems, errors = tuple(problems), tuple(errors)
        status: Status = "error" if errors else "failed" if problems else "passed"
        return cls(requirement, maker, subject, status, expected, seen,
                   errors + problems, evidence)

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def explain(self) -> str:
        """One paragraph: the requirement, what broke it, what was seen."""
        head = f"{self.requirement} ({self.maker}) on {self.subject}"
        if self.passed:
            return f"{head}: passed; {self.seen}"
        word = "could not be judged" if self.status == "error" else "failed"
        return f"{head} {word}: " + "; ".join(self.problems) + f" [seen: {self.seen}]"

    def as_json(self) -> dict[str, Any]:
        return {"requirement": self.requirement, "maker": self.maker,
                "subject": self.subject, "status": self.status,
                "expected": self.expected, "seen": self.seen,
                "problems": list(self.problems), "evidence": self.evidence.as_json()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Verdict:
        return cls(data["requirement"], data["maker"], data["subject"], data["status"],
                   data["expected"], data["seen"], tuple(data.get("problems", ())),
                   Evidence.from_json(data.get("evidence", {})))
