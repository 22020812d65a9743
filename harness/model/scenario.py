"""A network scenario: the cuts a notice announces, replayable on a bench (NET-01).

A scenario file (``fixtures/scenarios/<name>.yaml``) gives, per region, the notice's periods
as it prints them: a long cut (the network is down the whole period) or a period of
intermittent cuts of a few minutes. The notice gives no pattern for the intermittent cuts,
so the file gives one, seeded: each cut lasts ``cut_s`` (a few minutes), the cuts ``gap_s``
apart, the first within ``first_within_s`` of the period's start, the last ending before the
period ends. The same file and seed always give the same cuts (:meth:`Scenario.cuts`).

Pure: no device and no clock. The driver (harness.flows.renewal) replays the cuts on the
bench's network, and the rule (harness.model.renewal_rules) judges what the reader did.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any, Literal

import attrs
import pydantic

from harness.errors import BadInput
from harness.loading import Field, check_all, line_of, load_yaml_model, read_yaml
from harness.model.bench_spec import START_YEARS

Region = Literal["西日本", "東日本"]
PeriodKind = Literal["long_cut", "intermittent"]
#: "数分間" (a few minutes): a cut of the intermittent pattern lasts between these.
FEW_MINUTES_S = (60.0, 600.0)
#: A span of the pattern (a gap, a cut, the first cut's delay) lasts at most a day: beyond
#: it the seconds overflow a date, and no notice's pattern is that sparse.
MAX_SPAN_S = 86_400.0
#: A period lasts at most a week (a notice's periods last hours): its cuts are listed when
#: the file loads, a few thousand at most with cuts of a minute one second apart.
MAX_PERIOD = dt.timedelta(days=7)


class Period(Field):
    """One period of the notice, Japan time as printed (with its zone)."""

    kind: PeriodKind
    start: dt.datetime
    end: dt.datetime

    @pydantic.field_validator("start", "end")
    @classmethod
    def _aware(cls, value: dt.datetime) -> dt.datetime:
        if value.tzinfo is None:
            raise ValueError("give a time zone, e.g. 2024-12-31T03:00:00+09:00")
        # As a bench clock's start: a cut drawn past year 9999 would overflow.
        if not START_YEARS[0] <= value.year <= START_YEARS[1]:
            raise ValueError(f"a year from {START_YEARS[0]} to {START_YEARS[1]}, not "
                             f"{value.year}")
        return value

    @pydantic.model_validator(mode="after")
    def _ordered(self) -> Period:
        if self.end <= self.start:
            raise ValueError(f"end {self.end.isoformat()} is not after start "
                             f"{self.start.isoformat()}")
        if self.end - self.start > MAX_PERIOD:
            days = (self.end - self.start).total_seconds() / 86_400
            check_all([(("end",), f"{days:.3g} days after the start: a period lasts at most "
                        f"{MAX_PERIOD.days} days")])
        return self


class Span(Field):
    """A range of seconds, both ends included: drawn in whole seconds, so at least 1 s (a
    gap of 0.001 s would round to cuts back to back), and at most a day (MAX_SPAN_S)."""

    min: float = pydantic.Field(ge=1, le=MAX_SPAN_S)
    max: float = pydantic.Field(ge=1, le=MAX_SPAN_S)

    @pydantic.model_validator(mode="after")
    def _ordered(self) -> Span:
        if self.max < self.min:
            raise ValueError(f"max {self.max:g} is below min {self.min:g}")
        return self


class Intermittent(Field):
    """The concrete pattern of an intermittent period's cuts (the notice gives none)."""

    #: The pattern's seed: the same seed, the same cuts.
    seed: int
    #: How long each cut lasts: a few minutes (数分間), between 60 and 600 s.
    cut_s: Span
    #: From the end of one cut to the start of the next.
    gap_s: Span
    #: The first cut starts at most this long after the period starts (at most a day).
    first_within_s: float = pydantic.Field(default=600, ge=0, le=MAX_SPAN_S)

    @pydantic.model_validator(mode="after")
    def _few_minutes(self) -> Intermittent:
        low, high = FEW_MINUTES_S
        found: list[tuple[tuple[Any, ...], str]] = []
        for key in ("min", "max"):
            value = getattr(self.cut_s, key)
            if not low <= value <= high:
                found.append((("cut_s", key), f"{value:g} s is not a few minutes (数分間): "
                              f"give {low:g} to {high:g} s"))
        check_all(found)
        return self


@attrs.frozen
class Cut:
    """One cut of the bench's network, Japan time."""

    kind: PeriodKind
    start: dt.datetime
    end: dt.datetime


class Scenario(Field):
    scenario: str = pydantic.Field(min_length=1)
    #: The notice it replays, as people find it (issuer, number, date, title, section).
    notice: str = pydantic.Field(min_length=1)
    #: Per region, the notice's periods in time order.
    regions: dict[Region, list[Period]] = pydantic.Field(min_length=1)
    intermittent: Intermittent

    @pydantic.model_validator(mode="after")
    def _periods(self) -> Scenario:
        found: list[tuple[tuple[Any, ...], str]] = []
        for region, periods in self.regions.items():
            if not periods:
                found.append((("regions", region), "no period: give at least one"))
            for i, (a, b) in enumerate(zip(periods, periods[1:], strict=False)):
                if b.start < a.end:
                    found.append((("regions", region, i + 1, "start"),
                                  f"starts before period {i} ends ({a.end.isoformat()}): "
                                  "periods in time order, not overlapping"))
            for i, period in enumerate(periods):
                if period.kind == "intermittent" and not self._cuts(region, i, period):
                    found.append((("regions", region, i, "end"),
                                  "no cut of the intermittent pattern fits in the period"))
        check_all(found)
        return self

    def periods(self, region: Region) -> list[Period]:
        return list(self.regions.get(region, []))

    def cuts(self, region: Region) -> list[Cut]:
        """Every cut of ``region``, in time order: a long cut's whole period, and each
        intermittent period's seeded pattern."""
        out: list[Cut] = []
        for i, period in enumerate(self.periods(region)):
            if period.kind == "long_cut":
                out.append(Cut("long_cut", period.start, period.end))
            else:
                out += self._cuts(region, i, period)
        return out

    def _cuts(self, region: str, index: int, period: Period) -> list[Cut]:
        pattern = self.intermittent
        # A string seed is hashed the same way on every run and machine.
        rng = random.Random(f"{pattern.seed}:{region}:{index}")

        def draw(span: Span) -> dt.timedelta:
            return dt.timedelta(seconds=round(rng.uniform(span.min, span.max)))

        out: list[Cut] = []
        start = period.start + dt.timedelta(
            seconds=round(rng.uniform(0, pattern.first_within_s)))
        while True:
            end = start + draw(pattern.cut_s)
            if end > period.end:
                return out
            out.append(Cut("intermittent", start, end))
            start = end + draw(pattern.gap_s)


def scenarios_dir() -> Path:
    from harness.paths import project_file

    return project_file("fixtures/scenarios")


def load_scenario(name: str, folder: Path | None = None) -> Scenario:
    """The scenario ``name`` (``fixtures/scenarios/<name>.yaml``); a file whose
    ``scenario`` is not its name is refused (a copy renamed without its key)."""
    path = (folder or scenarios_dir()) / f"{name}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in path.parent.glob("*.yaml"))
        raise BadInput(str(path), None, "", f"no scenario {name!r} (scenarios: "
                       f"{', '.join(known) or 'none'})")
    scenario = load_yaml_model(path, Scenario)
    if scenario.scenario != name:
        line = line_of(read_yaml(path)[1], ("scenario",))
        raise BadInput(str(path), line, "scenario", f"is {scenario.scenario!r}, the file is "
                       f"{name}")
    return scenario
