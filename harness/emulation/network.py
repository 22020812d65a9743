"""The terminal's network to the eligibility system: LAN, line authentication, outages.

Up only when the LAN cable is seated, line authentication (回線認証) is connected and no
outage is under way (ERR-08, ERR-09). Intermittent outages alternate down and up on the
bench clock. Every change of ``up`` lands on the timeline as ``network.down`` / ``network.up``
with the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from harness.emulation.behaviour import NetworkBehaviour
from harness.model.clock import Timer, VirtualClock
from harness.model.timeline import Timeline

Outage = Literal["long", "intermittent"]


class NetworkTwin:
    def __init__(
        self,
        behaviour: NetworkBehaviour,
        clock: VirtualClock,
        timeline: Timeline,
        name: str = "network",
    ) -> None:
        self.behaviour = behaviour
        self.clock = clock
        self.timeline = timeline
        self.name = name
        self.lan_seated = True
        self.line_auth = True
        self.outage: Outage | None = None
        #: Inside an intermittent outage: whether this moment is a down phase.
        self._flapping_down = False
        self._timers: list[Timer] = []
        self._was_up = True
        #: Called with the new ``up`` value after every change.
        self.listeners: list[Callable[[bool], None]] = []

    @property
    def up(self) -> bool:
        return self.lan_seated and self.line_auth and not self._outage_down

    @property
    def _outage_down(self) -> bool:
        return self.outage == "long" or (self.outage == "intermittent" and self._flapping_down)

    def why_down(self) -> str | None:
        if not self.lan_seated:
            return "LAN cable not seated"
        if not self.line_auth:
            return "line authentication disconnected"
        if self._outage_down:
            return f"{self.outage} outage"
        return None

    # -- what staff and the world do -------------------------------------------------------
    def set_lan(self, seated: bool) -> None:
        with self.clock.lock:
            self.lan_seated = seated
            self._changed()

    def cut_line_auth(self) -> None:
        with self.clock.lock:
            self.line_auth = False
            self._changed()

    def line_auth_page(self) -> tuple[str, ...]:
        """What https://www.lineauth.mnw shows: connected, or the buttons to reconnect."""
        if self.line_auth:
            return (self.behaviour.line_auth_connected_text,)
        return tuple(self.behaviour.line_auth_buttons)

    def press_line_auth(self, button: str) -> bool:
        """Press a button on the line-authentication page; the first one reconnects."""
        with self.clock.lock:
            if self.line_auth or button not in self.behaviour.line_auth_buttons:
                return False
            self.timeline.record(self.name, "network.line_auth_press", button=button)
            if button == self.behaviour.line_auth_buttons[0]:
                self.line_auth = True
                self._changed()
            return True

    def start_outage(self, kind: Outage, seconds: float | None = None) -> None:
        """Begin an outage; it ends after ``seconds`` (or when :meth:`end_outage` is called)."""
        with self.clock.lock:
            self._cancel_timers()
            self.outage = kind
            self._flapping_down = kind == "intermittent"
            self.timeline.record(self.name, "network.outage_start", outage=kind)
            self._changed()
            if kind == "intermittent":
                self._schedule_flap()
            if seconds is not None:
                self._timers.append(self.clock.call_later(seconds, self.end_outage))

    def end_outage(self) -> None:
        with self.clock.lock:
            if self.outage is None:
                return
            self._cancel_timers()
            self.timeline.record(self.name, "network.outage_end", outage=self.outage)
            self.outage = None
            self._flapping_down = False
            self._changed()

    def _schedule_flap(self) -> None:
        b = self.behaviour
        phase = b.intermittent_down_seconds if self._flapping_down else b.intermittent_up_seconds
        self._timers.append(self.clock.call_later(phase, self._flap))

    def _flap(self) -> None:
        if self.outage != "intermittent":
            return
        self._flapping_down = not self._flapping_down
        self._changed()
        self._schedule_flap()

    def _cancel_timers(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()

    def _changed(self) -> None:
        up = self.up
        if up == self._was_up:
            return
        self._was_up = up
        if up:
            self.timeline.record(self.name, "network.up")
        else:
            self.timeline.record(self.name, "network.down", why=self.why_down())
        for listener in list(self.listeners):
            listener(up)
