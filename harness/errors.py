"""Errors the rig reports to its users.

Every error a user can cause (a broken bench or profile file, a missing system part, a
device that vanished) is a :class:`RigError`: the CLI and the pytest plugin print its
message, never a traceback.
"""

from __future__ import annotations


class RigError(Exception):
    """An error with a message meant for the user, naming what went wrong and where."""


class BadInput(RigError):
    """A file the user wrote (bench, profile, device behaviour) is not valid.

    ``where`` is ``file:line`` (line may be unknown), ``field`` the dotted path of the field.
    A file with several problems carries them all in ``problems`` (the first is also
    ``path``, ``line``, ``field``, ``problem``); the message is one line per problem.
    """

    def __init__(self, path: str, line: int | None, field: str, problem: str) -> None:
        self.path = path
        self.line = line
        self.field = field
        self.problem = problem
        self.problems: tuple[BadInput, ...] = (self,)
        super().__init__(self.line_text())

    def line_text(self) -> str:
        """This problem as ``file:line: field: problem``."""
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.field}: {self.problem}" if self.field else \
            f"{where}: {self.problem}"

    @classmethod
    def of(cls, problems: list[BadInput]) -> BadInput:
        """One error listing ``problems`` (at least one), one per line."""
        first = problems[0]
        error = cls(first.path, first.line, first.field, first.problem)
        error.problems = tuple(p for q in problems for p in q.problems)
        error.args = ("\n".join(p.line_text() for p in error.problems),)
        return error


class MissingSystemPart(RigError):
    """A system component the run needs (pcscd, the vpcd driver, ...) is not available.

    ``hint`` tells the user how to get it.
    """

    def __init__(self, what: str, hint: str) -> None:
        self.what = what
        self.hint = hint
        super().__init__(f"{what}\n  how to fix: {hint}")


class DeviceGone(RigError):
    """A device disappeared (unplugged, powered off, card taken away) during an operation."""

    def __init__(self, device: str, during: str, cause: str = "") -> None:
        self.device = device
        self.during = during
        msg = f"{device}: gone during {during}"
        super().__init__(f"{msg} ({cause})" if cause else msg)


class DeviceTimeout(RigError):
    """A bounded wait on a device ran out; ``last`` is what was observed last (the
    evidence), when the wait looked at something."""

    def __init__(self, device: str, waited_for: str, seconds: float,
                 last: object = None) -> None:
        self.device = device
        self.waited_for = waited_for
        self.seconds = seconds
        self.last = last
        super().__init__(f"{device}: no {waited_for} within {seconds:g} s")


class BenchFault(RigError):
    """The bench, not the reader under test, failed while a requirement was being checked:
    a device gone in the middle of an exchange, a service restarted, a camera frozen or
    stopped, a relay's line garbled or silent, the network dropped, an operator who never
    answered. The requirement could not be judged: ``not_run`` with this reason, never
    ``failed`` against the maker (harness/report/certification.py).

    ``fault`` names the kind (``camera.frozen``, ``pcscd.restarted``, ... : FAULT_KINDS in
    harness/emulation/faults), ``device`` the part of the bench, ``detail`` what was seen;
    ``bound_s`` is the bound within which the rig noticed it, when one applies."""

    def __init__(self, fault: str, device: str, detail: str,
                 bound_s: float | None = None) -> None:
        self.fault = fault
        self.device = device
        self.detail = detail
        self.bound_s = bound_s
        super().__init__(f"bench fault ({fault}): {device}: {detail}")


class ProtocolViolation(RigError):
    """A device answered something its protocol does not allow (garbage on a serial line, ...)."""

    def __init__(self, device: str, sent: str, got: str) -> None:
        self.device = device
        self.sent = sent
        self.got = got
        super().__init__(f"{device}: unexpected reply {got!r} to {sent!r}")
