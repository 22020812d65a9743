"""Which test cases a bench and its profiles give: one generator for every suite.

A case is one check of one requirement of one profile on one reader of the bench: the
flows (each check of a requirement, the general readers' paired with a face-auth reader
that pairs one), boot orders, wiring, the schedule and the delivery list, and the walks
(one per face-auth reader, judging every requirement its plan holds). Each carries its
``requirement`` and ``maker`` marks, so the certification knows which test decides what.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import attrs
import pytest

from harness.model.bench_spec import BenchSpec
from harness.model.profiles import BootOrderCheck, FlowCheck, Profile, ProfileSet

GENERAL_PROFILE = "general_readers"
FACE_AUTH = "face_auth_reader"
GENERAL = "general_reader"


@attrs.frozen
class Case:
    """One check of one profile, on one reader of the bench."""

    reader: str
    #: The profile the check is in (a maker, or general_readers) ...
    profile: str
    requirement: str
    #: ... which of the requirement's checks ...
    check: int = 0
    #: ... the maker whose face-auth reader drives it (a general reader's flows need one),
    #: and the general reader it is about, if any.
    driver_maker: str = ""
    general: str | None = None
    #: Every requirement the case judges (a walk judges many; others their own).
    judges: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        also = f"-also{self.check}" if self.check else ""
        return f"{self.general or self.reader}-{self.requirement}{also}" if self.requirement \
            else self.reader

    def key(self) -> tuple[str, str, str]:
        """(reader, profile, requirement)."""
        return self.reader, self.profile, self.requirement

    def param(self, *more: object, suffix: str = "") -> object:
        """The case (and ``more`` values) as a pytest parameter, its id with ``suffix``."""
        return pytest.param(self, *more, id=f"{self.id}-{suffix}" if suffix else self.id,
                            marks=[pytest.mark.requirement(*(self.judges or (self.requirement,))),
                                   pytest.mark.maker(self.profile)])


def _profile(profiles: ProfileSet, key: str) -> Profile:
    return profiles.general() if key == GENERAL_PROFILE else profiles[key]


def _readers(spec: BenchSpec, profiles: ProfileSet, kind: str) -> list[tuple[str, str]]:
    """(reader, profile key) of the bench's readers of ``kind`` that have a profile."""
    out = []
    for reader in spec.readers:
        if reader.kind != kind:
            continue
        key = reader.maker if kind == FACE_AUTH else GENERAL_PROFILE
        if kind != FACE_AUTH or key in profiles:
            out.append((reader.name, key))
    return out


def _checks(profile: Profile, kind: type | tuple[type, ...]
            ) -> Iterable[tuple[str, int]]:
    for req in profile.requirements:
        for i, check in enumerate(req.checks):
            if isinstance(check, kind):
                yield req.id, i


def cases(spec: BenchSpec, profiles: ProfileSet, kind: type | tuple[type, ...], *,
          readers: str = FACE_AUTH, each_check: bool = False) -> list[Case]:
    """A case per reader of kind ``readers`` and requirement of its profile with a check of
    ``kind`` (``each_check``: per such check, the flows judging each on its own record)."""
    out: list[Case] = []
    for reader, key in _readers(spec, profiles, readers):
        seen: set[str] = set()
        for req, i in _checks(_profile(profiles, key), kind):
            if each_check or req not in seen:
                out.append(Case(reader, key, req, i if each_check else 0, key))
                seen.add(req)
    return out


#: A case with one more value for its test, and the suffix of its id.
CaseWith = tuple[Case, object, str]


def boot_starts(spec: BenchSpec, profiles: ProfileSet) -> list[CaseWith]:
    """Each boot-order case with each way the bench is started for it: by the bench file's
    routine (``bench``, the case's own id), then by the clock at the order's edges
    (``clock_starts``, the id with the start's name)."""
    out: list[CaseWith] = []
    for case in cases(spec, profiles, BootOrderCheck):
        requirement = _profile(profiles, case.profile).requirement(case.requirement)
        assert requirement is not None
        out.append((case, "bench", ""))
        out += [(case, start, start.replace("_", "-")) for c in requirement.checks
                if isinstance(c, BootOrderCheck) for start in c.clock_starts]
    return out


def flow_cases(spec: BenchSpec, profiles: ProfileSet) -> list[Case]:
    """Every flow check: the face-auth readers' own, and each general reader's, driven by
    the first face-auth reader whose maker pairs one (its profile has a pairing flow)."""
    out = cases(spec, profiles, FlowCheck, each_check=True)
    host = general_readers_host(spec, profiles)
    if host is not None:
        for general, key in _readers(spec, profiles, GENERAL):
            out += [Case(host[0], key, req, i, host[1], general)
                    for req, i in _checks(profiles.general(), FlowCheck)]
    return out


def general_readers_host(spec: BenchSpec, profiles: ProfileSet) -> tuple[str, str] | None:
    """The face-auth reader (bench name, maker) that drives the general readers' flows: the
    bench's first whose maker pairs one (its profile has a pairing flow); None if none."""
    return next(((r, k) for r, k in _readers(spec, profiles, FACE_AUTH) if any(
        isinstance(c, FlowCheck) and c.flow == "pairing"
        for req in profiles[k].requirements for c in req.checks)), None)


def walk_cases(spec: BenchSpec, profiles: ProfileSet,
               judged: Callable[[Profile], Iterable[str]]) -> list[Case]:
    """One walk per face-auth reader whose plan judges anything (``judged``: the
    requirements a profile's walk plan holds)."""
    out = []
    for reader, key in _readers(spec, profiles, FACE_AUTH):
        reqs = tuple(judged(profiles[key]))
        if reqs:
            out.append(Case(reader, key, "", driver_maker=key, judges=reqs))
    return out
