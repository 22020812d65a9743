"""The terminal's network to the eligibility system: LAN, line authentication, outages.

Up only when the LAN cable is seated, line authentication (回線認証) is connected, no
outage is under way (ERR-08, ERR-09), the line is not cut by a network scenario (NET-01:
the bench's switch port or relay) and the lab's uplink is up. Intermittent outages
alternate down and up on the bench clock. Every change of ``up`` lands on the timeline as
``network.down`` / ``network.up`` with the reason.

The twins are rebuilt at every restore of the bench; what belongs to the lab outlives them
and is attached to each new network: the :class:`Uplink` (what the ``network.dropped``
bench fault takes down) and the :class:`EmulatedNetworkMonitor`, the bench's instrument
that sees when the terminal's network was down (harness.protocols.NetworkMonitor).
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
        #: The lab's line behind the terminal's LAN (see :class:`Uplink`).
        self.uplink = True
        self.outage: Outage | None = None
        #: A network fault (ERR-11): a kind in ``pc_clears`` or ``router_clears``.
        self.stuck: str | None = None
        #: False while the router restarts.
        self.router_on = True
        #: The router's mains (a relay channel on a bench that names one): on from the start,
        #: as the lab's router is when the bench opens.
        self.router_mains = True
        #: The router's return after a restart or its mains coming back.
        self._router_timer: Timer | None = None
        #: The line cut at the bench's switch port or relay (a network scenario, NET-01).
        self.cut = False
        #: When the network last went down, how often it has, and whether the end of that
        #: down span was weighed for the connection it leaves (``stuck_after_*``).
        self._down_since: float | None = None
        self._downs = 0
        self._span_weighed = True
        #: Inside an intermittent outage: whether this moment is a down phase.
        self._flapping_down = False
        self._timers: list[Timer] = []
        self._was_up = True
        #: Called with the new ``up`` value after every change.
        self.listeners: list[Callable[[bool], None]] = []

    @property
    def up(self) -> bool:
        return (self.lan_seated and self.line_auth and self.uplink and not self._outage_down
                and self.stuck is None and self.router_on and not self.cut)

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
        if self.cut:
            return "the line cut (network scenario)"
        if not self.uplink:
            return "the lab's uplink dropped"
        if not self.router_on:
            return "the router is restarting"
        if self.stuck is not None:
            return f"network fault {self.stuck}"
        return None

    # -- what staff and the world do -------------------------------------------------------
    def set_lan(self, seated: bool) -> None:
        with self.clock.lock:
            self.lan_seated = seated
            self._changed()

    def set_uplink(self, up: bool) -> None:
        with self.clock.lock:
            self.uplink = up
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
        """Press a button on the line-authentication page; ``line_auth_reconnects``
        reconnects."""
        with self.clock.lock:
            if self.line_auth or button not in self.behaviour.line_auth_buttons:
                return False
            self.timeline.record(self.name, "network.line_auth_press", button=button)
            if button == self.behaviour.line_auth_reconnects:
                self.line_auth = True
                self._changed()
            return True

    def set_cut(self, cut: bool) -> None:
        """The line cut or restored at the bench's switch port or relay (NET-01)."""
        with self.clock.lock:
            self.cut = cut
            self.timeline.record(self.name, "network.cut" if cut else "network.uncut")
            self._changed()

    def set_stuck(self, kind: str) -> None:
        """A network fault of ``kind`` (ERR-11): only what clears that kind ends it (a kind
        neither list names, nothing)."""
        with self.clock.lock:
            self.stuck = kind
            self.timeline.record(self.name, "network.stuck", fault=kind)
            self._changed()

    def pc_started(self) -> None:
        """The terminal (the PC) started: a restart or power-cycle clears the PC's faults."""
        with self.clock.lock:
            if self.stuck in self.behaviour.pc_clears:
                self.timeline.record(self.name, "network.unstuck", fault=self.stuck, by="pc")
                self.stuck = None
                self._changed()

    def restart_router(self) -> None:
        """The router powered off and on: down while it restarts; then the faults only a
        router restart clears are gone. A router whose mains are off does not restart."""
        with self.clock.lock:
            if not self.router_mains:
                return
            self.timeline.record(self.name, "network.router_restart")
            self._router_down()
            self._router_starts()

    def set_router_power(self, on: bool) -> None:
        """The router's mains switched (its relay channel): off, it is down; on, it starts
        and is back ``router_restart_seconds`` later, the faults only a router restart clears
        gone, however short the cut was."""
        with self.clock.lock:
            if on == self.router_mains:
                return
            self.router_mains = on
            self.timeline.record(self.name, "network.router_power", on=on)
            if on:
                self._router_starts()
            else:
                self._router_down()

    def _router_down(self) -> None:
        if self._router_timer is not None:
            self._router_timer.cancel()
            self._router_timer = None
        self.router_on = False
        self._changed()

    def _router_starts(self) -> None:
        # Its own timer: an outage's start or end does not cancel the router's return.
        self._router_timer = self.clock.call_later(self.behaviour.router_restart_seconds,
                                                   self._router_back)

    def _router_back(self) -> None:
        with self.clock.lock:
            self._router_timer = None
            if not self.router_mains:
                return
            self.router_on = True
            if self.stuck in self.behaviour.router_clears:
                self.timeline.record(self.name, "network.unstuck", fault=self.stuck,
                                     by="router")
                self.stuck = None
            self._changed()

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
        if up and self._leaves_stuck():
            return  # still down: _leaves_stuck set the fault it leaves
        self._was_up = up
        if up:
            self._down_since = None
        else:
            self._down_since, self._span_weighed = self.clock.now(), False
            self._downs += 1
        if up:
            self.timeline.record(self.name, "network.up")
        else:
            self.timeline.record(self.name, "network.down", why=self.why_down())
        for listener in list(self.listeners):
            listener(up)


    def _leaves_stuck(self) -> bool:
        """Whether the down span now ending leaves the connection stuck, a fault only a
        start of the PC clears (deviations ``stuck_after_down_s`` / ``stuck_after_downs``:
        the notice has the line simply come back). Weighed once per span."""
        b = self.behaviour
        if self._span_weighed or self._down_since is None:
            return False
        self._span_weighed = True
        long_ = b.stuck_after_down_s is not None and \
            self.clock.now() - self._down_since >= b.stuck_after_down_s
        often = b.stuck_after_downs is not None and self._downs >= b.stuck_after_downs
        if not (long_ or often) or not b.pc_clears:
            return False
        self.stuck = b.pc_clears[0]
        self.timeline.record(self.name, "network.stuck", fault=self.stuck,
                             after="a long down span" if long_ else f"{self._downs} downs")
        return True


class Uplink:
    """The lab's line between the terminal's LAN and the eligibility system: up, or dropped
    (the ``network.dropped`` bench fault), whichever network twin the bench has now."""

    def __init__(self) -> None:
        self.up = True
        self._network: NetworkTwin | None = None

    def attach(self, network: NetworkTwin) -> None:
        """The bench's network twin now (a restore builds a new one)."""
        self._network = network
        network.set_uplink(self.up)

    def drop(self) -> None:
        self._set(False)

    def restore(self) -> None:
        self._set(True)

    def _set(self, up: bool) -> None:
        self.up = up
        if self._network is not None:
            self._network.set_uplink(up)


class EmulatedNetworkMonitor:
    """The bench's network monitor (a ping from the terminal's LAN to the eligibility
    system, as a lab runs one): when the terminal's network was down, in bench seconds.
    Whatever took it down (a cable, an outage, the uplink) is not its business."""

    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock
        self._network: NetworkTwin | None = None
        #: (down, up) spans; the last one's up is None while the network is down.
        self._spans: list[tuple[float, float | None]] = []

    def attach(self, network: NetworkTwin) -> None:
        """Watch the bench's network twin now (a restore builds a new one)."""
        self._network = network

        def changed(up: bool) -> None:
            if self._network is network:  # a twin a restore replaced says nothing now
                self._seen(up)

        network.listeners.append(changed)
        self._seen(network.up)

    def _seen(self, up: bool) -> None:
        now = self.clock.now()
        down = bool(self._spans) and self._spans[-1][1] is None
        if not up and not down:
            self._spans.append((now, None))
        elif up and down:
            self._spans[-1] = (self._spans[-1][0], now)

    def downs(self, since: float, until: float) -> list[tuple[float, float | None]]:
        """The spans the network was down that overlap ``since``..``until`` (an open one
        ends None)."""
        return [(start, end) for start, end in self._spans
                if start <= until and (end is None or end >= since)]
