"""A bench's labgrid place, acquired and released through labgrid's own client
(``labgrid.remote.client.ClientSession``, what ``labgrid-client`` runs on), so the lab's
coordinator shows who holds which bench: ``labgrid-client who``.

Each call is a short session of its own, as each ``labgrid-client`` command is: the place
stays acquired on the coordinator between them (and after a client dies: labgrid keeps a
place acquired until someone releases it).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import io
import logging
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import attrs

from harness.errors import MissingSystemPart, RigError

if TYPE_CHECKING:
    from harness.model.bench_spec import LabgridPlace

#: labgrid's own default coordinator.
DEFAULT_COORDINATOR = "127.0.0.1:20408"


def coordinator_of(spec: LabgridPlace) -> str:
    """The bench file's coordinator, else ``LG_COORDINATOR``, else labgrid's default."""
    return coordinator_address(spec.coordinator)


def coordinator_address(given: str | None) -> str:
    return given or os.environ.get("LG_COORDINATOR") or DEFAULT_COORDINATOR


@attrs.frozen
class PlaceResource:
    """One of a place's resources as the exporter offers it: its name in the place (a
    match's rename applied), labgrid's class and parameters."""

    name: str
    cls: str
    params: dict[str, Any]
    #: ``exporter/group/class/name``, as labgrid-client shows it.
    path: str


@attrs.frozen
class PlaceState:
    name: str
    #: ``host/user`` of the holder, None when the place is free.
    acquired: str | None
    #: The place's last change (its acquisition, for an acquired place), seconds since 1970.
    changed: float

    def since(self) -> str:
        return dt.datetime.fromtimestamp(self.changed).astimezone().isoformat(
            timespec="seconds")

    def held_text(self) -> str:
        return f"place {self.name} is held by {self.acquired} since {self.since()}"


class Coordinator:
    """One session with a labgrid coordinator (a context manager)."""

    def __init__(self, address: str) -> None:
        self.address = address
        self._loop: asyncio.AbstractEventLoop | None = None
        self._session: Any = None

    def __enter__(self) -> Coordinator:
        try:
            from labgrid.remote.client import Error, start_session
        except ImportError:
            raise MissingSystemPart(
                "the bench file names a labgrid place, but labgrid is not installed",
                "pip install labgrid (the rig's dev extra has it)") from None
        self._loop = asyncio.new_event_loop()
        # labgrid's channel binds to the thread's current loop when it is made.
        asyncio.set_event_loop(self._loop)
        try:
            with _quiet():
                self._session = start_session(
                    self.address, loop=self._loop,
                    extra={"args": argparse.Namespace(place=None, allow_unmatched=False,
                                                      kick=False)})
        except Error as exc:
            self._close_loop()
            raise MissingSystemPart(
                f"labgrid coordinator {self.address} does not answer ({_text(exc)})",
                "start labgrid-coordinator there, or correct the bench file's "
                "labgrid.coordinator") from None
        except BaseException:
            self._close_loop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._loop is not None
        try:
            with _quiet(), contextlib.suppress(Exception):
                self._loop.run_until_complete(self._session.stop())
                self._loop.run_until_complete(self._session.close())
        finally:
            self._close_loop()

    def _close_loop(self) -> None:
        if self._loop is not None:
            self._loop.close()
            asyncio.set_event_loop(None)
            self._loop = None

    @property
    def me(self) -> str:
        """Who this rig is to the coordinator: ``host/user`` (``LG_HOSTNAME``,
        ``LG_USERNAME`` as labgrid-client takes them)."""
        return f"{self._session.gethostname()}/{self._session.getuser()}"

    def state(self, name: str) -> PlaceState:
        """The place's state, by its exact name."""
        places = self._session.places
        if name not in places:
            known = ", ".join(sorted(places)) or "none"
            raise RigError(f"labgrid coordinator {self.address} has no place {name!r} "
                           f"(places: {known}; make it with labgrid-client -x "
                           f"{self.address} -p {name} create)")
        place = places[name]
        return PlaceState(name, place.acquired or None, float(place.changed))

    def resources(self, name: str) -> list[PlaceResource]:
        """The place's resources: those it acquired, else those its matches take now (as
        ``labgrid-client show`` lists them); an orphaned one (its exporter gone) is left out."""
        self.state(name)  # an unknown place: said with the places there are
        place = self._session.places[name]
        found: list[PlaceResource] = []
        for exporter, groups in sorted(self._session.resources.items()):
            for group_name, group in sorted(groups.items()):
                for resource_name, resource in sorted(group.items()):
                    key = (exporter, group_name, resource.cls, resource_name)
                    if place.acquired:
                        if list(key) not in [list(k) for k in place.acquired_resources]:
                            continue
                    elif not resource.avail:
                        continue
                    match = place.getmatch(key)
                    if match is None:
                        continue
                    params = {k: v for k, v in resource.params.items() if k != "extra"}
                    found.append(PlaceResource(match.rename or resource_name, resource.cls,
                                               params, "/".join(key)))
        return found

    def acquire(self, name: str) -> PlaceState | None:
        """Acquire the place: None when this rig has it now, else its holder's state (a
        place another took first, between looking and asking, included)."""
        state = self.state(name)
        if state.acquired is not None:
            return state
        problem = self._run("acquire", name)
        state = self.state(name)
        if state.acquired == self.me and problem is None:
            return None
        if state.acquired is not None and state.acquired != self.me:
            return state
        raise RigError(f"labgrid would not acquire place {name}: {problem}")

    def release(self, name: str) -> str | None:
        """Release the place if this rig (``host/user``) has it; the problem if not."""
        state = self.state(name)
        if state.acquired != self.me:
            return (f"place {name} is no longer this rig's (acquired: "
                    f"{state.acquired or 'by nobody'}): someone released it during the run")
        return self._run("release", name)

    def _run(self, command: str, name: str) -> str | None:
        """labgrid-client's ``command`` on the place; labgrid's error text, if any."""
        from labgrid.remote.client import Error

        assert self._loop is not None
        self._session.args.place = name
        try:
            # What labgrid-client prints ("acquired place X") is not the rig's output.
            with _quiet(), contextlib.redirect_stdout(io.StringIO()):
                self._loop.run_until_complete(getattr(self._session, command)())
        except Error as exc:
            return _text(exc)
        return None


def _text(exc: BaseException) -> str:
    return str(exc).removeprefix("Error: ")


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """labgrid's client logs its connection errors on the root logger: the rig says them
    once, in its own message."""
    before = logging.root.manager.disable
    logging.disable(logging.ERROR)
    try:
        yield
    finally:
        logging.disable(before)
