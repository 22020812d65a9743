"""PDUs behind pdudaemon (the daemon LAVA and labgrid labs run): a :class:`PowerRelay` that
asks a running pdudaemon over its HTTP listener.

``GET {url}/power/control/on?hostname=PDU&port=N`` (``off`` likewise). pdudaemon 1.x
answers ``200`` once its driver has switched the port and ``500`` when the request or its
driver failed (after its retries); older daemons answer at once and act later. Neither can
say a port's state: where the bench has an instrument that reads the same contacts
(``readback``: the Numato board itself, say), the rig waits (bounded, on the bench's
Clock) until it reads the new state, else raises :class:`RelayUnconfirmed`; without one each
switch is recorded on the timeline as ``power.unconfirmed``, naming channel, port and state.

The rig talks to pdudaemon directly (no HTTP proxy from the environment).
"""

from __future__ import annotations

import math
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence

from harness.devices.instruments import RelayArgumentError
from harness.errors import BenchFault, RigError
from harness.model.clock import Clock
from harness.model.timeline import Timeline
from harness.model.wait import wait_until
from harness.protocols import PowerRelay

#: How often the read-back is looked at while a switch is unconfirmed (bench seconds).
READBACK_STEP_S = 0.25
_BODY_BYTES = 200


class PduRefused(BenchFault):
    """``relay.refused``: pdudaemon answered that it could not do the request."""

    def __init__(self, relay: str, request: str, status: int, body: str) -> None:
        super().__init__("relay.refused", relay,
                         f"pdudaemon answered {status} {body.strip()!r} to {request}")


class PduSilent(BenchFault):
    """``relay.silent``: pdudaemon could not be reached, or gave no answer in time."""

    def __init__(self, relay: str, request: str, why: str, seconds: float) -> None:
        super().__init__("relay.silent", relay, f"no answer to {request} within "
                         f"{seconds:g} s ({why})", bound_s=seconds)


class RelayUnconfirmed(BenchFault):
    """``relay.unconfirmed``: pdudaemon took the switch, the read-back never showed it."""

    def __init__(self, relay: str, switch: str, readback: str, seconds: float) -> None:
        self.switch = switch
        super().__init__("relay.unconfirmed", relay, f"{switch}: {readback} did not read it "
                         f"back within {seconds:g} s", bound_s=seconds)


class PdudaemonRelay:
    """Channels of one PDU in pdudaemon's configuration (``hostname``); channel c switches
    the PDU's port ``ports[c]``."""

    def __init__(self, url: str, hostname: str, ports: Sequence[int], *, clock: Clock,
                 name: str = "pdu", timeline: Timeline | None = None,
                 readback: PowerRelay | None = None, readback_name: str | None = None,
                 timeout_s: float = 30.0, step_s: float = READBACK_STEP_S) -> None:
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise RelayArgumentError(f"{name}: pdudaemon url must be http://host:port, "
                                     f"not {url!r}")
        if not ports:
            raise RelayArgumentError(f"{name}: a PDU needs at least one port")
        if not (timeout_s > 0 and math.isfinite(timeout_s)):
            raise RelayArgumentError(f"{name}: timeout must be positive, not {timeout_s}")
        self.url = url.rstrip("/")
        self.hostname = hostname
        self.ports = list(ports)
        self.channels = len(self.ports)
        self.clock = clock
        self.name = name
        self.timeline = timeline
        self.readback = readback
        self.readback_name = readback_name or ("its read-back" if readback else None)
        self.timeout_s = timeout_s
        self.step_s = step_s
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    @property
    def device(self) -> str:
        return f"{self.name} (pdudaemon {self.url}, PDU {self.hostname})"

    # -- PowerRelay -----------------------------------------------------------------------
    def on(self, channel: int) -> None:
        self._switch(channel, True)

    def off(self, channel: int) -> None:
        self._switch(channel, False)

    def is_on(self, channel: int) -> bool:
        self._port(channel)
        if self.readback is None:
            raise RigError(f"{self.device}: pdudaemon cannot read a port back and the bench "
                           "file names no readback instrument")
        return self.readback.is_on(channel)

    def close(self) -> None:
        """Nothing to release: each request is its own connection."""

    def __repr__(self) -> str:
        return f"PdudaemonRelay({self.device}, ports={self.ports})"

    # -- internals ------------------------------------------------------------------------
    def _port(self, channel: int) -> int:
        if isinstance(channel, bool) or not isinstance(channel, int):
            raise RelayArgumentError(f"{self.device}: a relay channel is an int, not {channel!r}")
        if not 0 <= channel < self.channels:
            raise RelayArgumentError(f"{self.device}: no relay channel {channel}; this PDU has "
                                     f"channels 0..{self.channels - 1}")
        return self.ports[channel]

    def _switch(self, channel: int, on: bool) -> None:
        port = self._port(channel)
        verb = "on" if on else "off"
        switch = f"channel {channel} (PDU port {port}) {verb}"
        started = time.monotonic()
        self._ask(verb, port)
        if self.readback is None:
            if self.timeline is not None:
                self.timeline.record(self.name, "power.unconfirmed", channel=channel, port=port,
                                     on=on, reason="pdudaemon cannot read a port back and "
                                     "no readback instrument is named")
            return
        # What is left of the bound after pdudaemon's answer (never less than one look).
        left = max(0.0, self.timeout_s - (time.monotonic() - started))
        readback = self.readback
        waited = wait_until(self.clock, lambda: readback.is_on(channel), lambda s: s == on,
                            left, step_s=self.step_s, first_s=self.step_s / 4)
        if not waited.ok:
            raise RelayUnconfirmed(self.name, switch, str(self.readback_name), self.timeout_s)

    def _ask(self, verb: str, port: int) -> None:
        query = urllib.parse.urlencode({"hostname": self.hostname, "port": port})
        request = f"{self.url}/power/control/{verb}?{query}"
        try:
            with self._opener.open(request, timeout=self.timeout_s) as reply:
                body = reply.read(_BODY_BYTES).decode("utf-8", "replace")
                status = reply.status
        except urllib.error.HTTPError as exc:
            body = exc.read(_BODY_BYTES).decode("utf-8", "replace") if exc.fp else ""
            raise PduRefused(self.name, request, exc.code, body) from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            why = getattr(exc, "reason", None) or exc
            raise PduSilent(self.name, request, str(why), self.timeout_s) from exc
        if status != 200:
            raise PduRefused(self.name, request, status, body)
