"""Everything observed lands on one Timeline (DESIGN.md principle 5).

Events carry the bench clock's time, a source (which device) and a kind
(``usb.attach``, ``pcsc.card_inserted``, ``apdu``, ``power.on`` ...). Rules read the
timeline; they never talk to devices.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
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

    def events(self, kind: str | None = None, source: str | None = None, *,
               start: int = 0, stop: int | None = None) -> list[Event]:
        """The events (of ``kind`` or its sub-kinds, from ``source``) among those recorded
        from the ``start``-th to before the ``stop``-th (a caller that keeps its place reads
        only what is new: a run's timeline grows to tens of thousands of events)."""
        with self._lock:
            snapshot = self._events[start:stop]
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

    def write_jsonl(self, path: Path) -> int:
        """The transcript: one JSON object per event (already redacted at its source)."""
        events = self.events()
        path.parent.mkdir(parents=True, exist_ok=True)
        # Whole or not at all: a run's live report may read it while it is written.
        tmp = path.with_name(f".{path.name}.tmp")
        try:
            with tmp.open("w", encoding="utf-8") as out:
                for e in events:
                    row = {"t": e.t, "source": e.source, "kind": e.kind, **e.data}
                    out.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
            tmp.replace(path)
        except BaseException:
            tmp.unlink(missing_ok=True)  # a full disk leaves no half file in the run folder
            raise
        return len(events)
