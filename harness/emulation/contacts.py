"""An emulated relay board's contacts, whatever its wire (a Numato board's serial commands,
a USB HID board's feature reports): their states, welded contacts, the power events on the
timeline and the callbacks that switch the twins."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping

from harness.model.timeline import Timeline

OnChange = Callable[[int, bool], None]


class RelayContacts:
    """Channels numbered from 0 (as the bench file's ``power.channel``)."""

    def _init_contacts(self, channels: int, name: str, names: Mapping[int, str] | None,
                       timeline: Timeline | None) -> None:
        self.channels = channels
        self.name = name
        #: channel -> device name, the ``source`` of the power events.
        self.names: dict[int, str] = dict(names or {})
        self.timeline = timeline
        #: Called as ``callback(channel, on)`` after each real change.
        self.on_change: list[OnChange] = []
        #: Exceptions raised by callbacks: kept here so a bad callback cannot kill the board.
        self.callback_errors: list[Exception] = []
        #: Channels whose contacts are welded: on/off commands leave them as they are.
        self.stuck_channels: set[int] = set()
        self._states = [False] * channels
        self._lock = threading.Lock()

    def named_states(self) -> dict[str, bool]:
        """Device name -> whether its channel is closed, for the named channels."""
        with self._lock:
            return {name: self._states[c] for c, name in self.names.items()}

    def state(self, channel: int) -> bool:
        """Whether the relay on ``channel`` is closed (its device powered)."""
        if not 0 <= channel < self.channels:
            raise ValueError(f"no channel {channel} on a {self.channels}-channel board")
        with self._lock:
            return self._states[channel]

    @property
    def mask(self) -> int:
        """All channel states as a bitmask (bit n = channel n on)."""
        with self._lock:
            return sum(1 << c for c, on in enumerate(self._states) if on)

    def _switch(self, wanted: Mapping[int, bool]) -> None:
        changed: list[tuple[int, bool]] = []
        with self._lock:
            for channel in sorted(wanted):
                on = wanted[channel]
                if channel in self.stuck_channels or self._states[channel] == on:
                    continue
                self._states[channel] = on
                changed.append((channel, on))
        # Outside the lock: callbacks may well ask the board for its state.
        for channel, on in changed:
            self._notify(channel, on)

    def _notify(self, channel: int, on: bool) -> None:
        # Timeline first: a callback powering a device records its own events (usb.attach),
        # which must come after the power.on that caused them.
        if self.timeline is not None:
            source = self.names.get(channel, f"{self.name}.ch{channel}")
            self.timeline.record(source, "power.on" if on else "power.off", channel=channel)
        for callback in list(self.on_change):
            try:
                callback(channel, on)
            except Exception as exc:  # noqa: BLE001 - the board must keep serving regardless
                self.callback_errors.append(exc)
