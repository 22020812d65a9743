"""What a network scenario replayed on a bench (NET-01), in bench seconds: the record's
account of the periods and of the cuts as the scenario plans them. The cuts as done are
the record's own actions (``network_cut`` / ``network_restore``)."""

from __future__ import annotations

import attrs


@attrs.frozen
class Span:
    """A period or a cut: its kind (``long_cut``, ``intermittent``), start and end."""

    kind: str
    start: float
    end: float


@attrs.frozen
class Replay:
    scenario: str
    region: str
    periods: tuple[Span, ...]
    #: The cuts as planned (a cut done late shows against these).
    cuts: tuple[Span, ...]
    #: The Japan time of bench second 0 for the scenario (ISO), for the report.
    origin: str = ""
