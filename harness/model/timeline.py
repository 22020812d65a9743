"""Everything observed lands on one Timeline (DESIGN.md principle 5).

Events carry the bench clock's time, a source (which device) and a kind
(``usb.attach``, ``pcsc.card_inserted``, ``apdu``, ``power.on`` ...). Rules read the
timeline; they never talk to devices.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import attrs

from harness.model.clock import Clock, RealClock


@attrs.frozen
class Event:
    t: float
    source: str
    kind: str
    data: dict[str, Any] = attrs.field(factory=dict)


class Timeline:
    """Append-only, thread-safe list of events."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock: Clock = clock or RealClock()
        self._events: list[Event] = []
        self._lock = threading.Lock()

    def record(self, source: str, kind: str, **data: Any) -> Event:
        event = Event(self.clock.now(), source, kind, data)
        with self._lock:
            self._events.append(event)
        return event

    def events(self, kind: str | None = None, source: str | None = None) -> list[Event]:
        with self._lock:
            snapshot = list(self._events)
        return [
            e
            for e in snapshot
            if (kind is None or e.kind == kind or e.kind.startswith(kind + "."))
            and (source is None or e.source == source)
        ]

    def __iter__(self) -> Iterator[Event]:
        return iter(self.events())

    def __len__(self) -> int:
        with self._lock:
            return len(self._events)
