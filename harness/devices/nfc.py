"""The NFC family: general-purpose NFC readers (Sony RC-S300, Circle CIR315, ...) driven
with nfcpy, reading the My Number card function of a card or a smartphone.

The same code drives a real USB frontend (``usb:054c:06c3``, ``usb:001:004``) and nfcpy's
``udp`` transport (``udp:127.0.0.1:PORT``) with an emulated card behind it
(``harness.emulation.nfc_udp``).
"""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Sequence
from typing import Self

import nfc
import nfc.clf
import nfc.tag
import nfc.tag.tt4

from harness.errors import DeviceGone, DeviceTimeout, RigError
from harness.model.redact import redact_apdu, redact_driver_logs, redact_response
from harness.model.timeline import Timeline

_BRTY = re.compile(r"^(106|212|424|848)[ABF]$")

# What nfcpy raises when the link to the card breaks: Type4TagCommandError (a
# TagCommandError) after its ISO-DEP retries, and raw clf errors (TimeoutError,
# BrokenLinkError, ...) on paths it does not retry, e.g. the answer after an S(WTX).
_CARD_GONE = (nfc.tag.TagCommandError, nfc.clf.CommunicationError)


def _header(apdu: bytes) -> str:
    return f"APDU {bytes(apdu[:4]).hex(' ').upper()}"


class NfcCard:
    """An activated ISO-DEP (Type 4) card or phone on an :class:`NfcFrontend`."""

    def __init__(self, tag: nfc.tag.tt4.Type4Tag, reader: str, timeline: Timeline | None) -> None:
        self.tag = tag  # the nfcpy Type4Tag, for checks below the APDU level
        self.reader = reader
        self.timeline = timeline
        self.technology: str = tag.target.brty  # "106A" or "106B"
        self.identifier: bytes = tag.identifier  # UID (Type A) or PUPI (Type B)
        self._lost: str | None = None  # why this ISO-DEP session can no longer be used

    @property
    def device(self) -> str:
        return f"card on {self.reader}"

    def transmit(self, apdu: bytes) -> bytes:
        """Send a command APDU; return the full response including SW1 SW2.

        DeviceGone when the card left the field; after that, poll again with
        :meth:`NfcFrontend.wait_for_card` (ISO-DEP needs a fresh activation).
        """
        apdu = bytes(apdu)
        if len(apdu) < 4:
            raise RigError(f"{self.device}: an APDU needs at least 4 bytes, got {apdu.hex()}")
        if self._lost is not None:
            raise DeviceGone(self.device, _header(apdu), self._lost)
        try:
            response = bytes(self.tag.transceive(apdu))
        except OSError as exc:  # the frontend itself went away (USB unplugged)
            self._lost = f"the frontend stopped responding: {exc}"
            self._record("nfc.card_lost", during=_header(apdu), cause=self._lost)
            raise DeviceGone(self.reader, _header(apdu), self._lost) from None
        except _CARD_GONE as exc:
            self._lost = f"card left the field ({type(exc).__name__}: {exc})"
            self._record("nfc.card_lost", during=_header(apdu), cause=self._lost)
            raise DeviceGone(self.device, _header(apdu), self._lost) from None
        self._record("apdu", command=redact_apdu(apdu), response=redact_response(response))
        return response

    def is_present(self) -> bool:
        """ISO-DEP presence check (an R(NAK) the card must answer)."""
        if self._lost is not None:
            return False
        try:
            return bool(self.tag.is_present)
        except OSError:
            return False

    def end(self, why: str) -> None:
        """Mark this session unusable (the frontend polled again or closed)."""
        if self._lost is None:
            self._lost = why

    def _record(self, kind: str, **data: object) -> None:
        if self.timeline is not None:
            self.timeline.record(self.reader, kind, reader=self.reader, **data)


class NfcFrontend:
    """One NFC reader, opened through nfcpy by ``path``."""

    def __init__(self, path: str, name: str, timeline: Timeline | None = None) -> None:
        self.path = path
        self.name = name
        self.timeline = timeline
        self._clf: nfc.ContactlessFrontend | None = None
        self._card: NfcCard | None = None

    def open(self) -> None:
        if self._clf is not None:
            return
        try:
            self._clf = nfc.ContactlessFrontend(self.path)
        except (OSError, ValueError, ImportError) as exc:  # ENODEV, EACCES, EBUSY, bad path
            raise RigError(f"{self.name}: no NFC frontend at {self.path}: {exc}"
                           f"{_named_port_hint(self.path)}") from None
        finally:
            # nfcpy logs every frame at DEBUG, a VERIFY's PIN included: hide those. Its
            # driver modules (and their loggers) come with the frontend, hence after.
            redact_driver_logs("nfc")

    def wait_for_card(self, timeout: float, targets: Sequence[str] = ("106A", "106B")) -> NfcCard:
        """Poll until an ISO-DEP card is activated; DeviceTimeout after ``timeout``.

        Polls at least once. nfcpy checks the deadline between polling rounds, and its
        udp driver waits 1 s for each technology nobody answers, so with udp the timeout
        can overshoot by about 1 s per entry in ``targets``.
        """
        clf = self._require_open()
        bad = [t for t in targets if not _BRTY.match(t)]
        if bad or not targets:
            raise RigError(f"{self.name}: bad NFC targets {list(targets)} (like '106A', '212F')")
        if self._card is not None:
            self._card.end("the frontend polled for a new card")
            self._card = None
        deadline = time.monotonic() + timeout
        polled = False

        def terminate() -> bool:
            nonlocal polled
            done, polled = polled and time.monotonic() > deadline, True
            return done

        try:
            tag = clf.connect(
                rdwr={
                    "targets": list(targets),
                    "on-connect": lambda tag: False,  # return the tag, we run the session
                    "iterations": 1,  # give terminate() a say after every round
                    "interval": 0.05,
                    "beep-on-connect": False,
                },
                terminate=terminate,
            )
        except OSError as exc:
            raise DeviceGone(self.name, "polling for a card", str(exc)) from None
        if tag is None:
            raise DeviceTimeout(self.name, "card in the field", timeout)
        if tag is False:  # nfcpy swallowed an IOError or UnsupportedTargetError and gave up
            raise RigError(
                f"{self.name}: nfcpy stopped polling {self.path}: the frontend failed or does "
                f"not support {list(targets)} (see the nfc.clf log)"
            )
        if not isinstance(tag, nfc.tag.tt4.Type4Tag):
            raise RigError(
                f"{self.name}: found a {tag.type} ({tag}), not an ISO-DEP card: the My Number "
                "function needs a Type 4 (ISO/IEC 14443-4) card or phone"
            )
        card = NfcCard(tag, self.name, self.timeline)
        if self.timeline is not None:
            self.timeline.record(
                self.name,
                "nfc.card_found",
                reader=self.name,
                technology=card.technology,
                identifier=card.identifier.hex().upper(),
            )
        self._card = card
        return card

    def close(self) -> None:
        if self._card is not None:
            self._card.end("the frontend was closed")
            self._card = None
        if self._clf is not None:
            self._clf.close()  # the udp driver sends RFOFF here: the card powers down
            self._clf = None

    def __enter__(self) -> Self:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _require_open(self) -> nfc.ContactlessFrontend:
        if self._clf is None:
            raise RigError(f"{self.name}: NFC frontend {self.path} is not open (call open())")
        return self._clf


def _named_port_hint(path: str) -> str:
    """Why nfcpy's udp transport fails on a port /etc/services names (it reads the port
    back as the service's name): said, since its own error is an int() of that name."""
    kind, _, rest = path.partition(":")
    port = rest.rpartition(":")[2]
    if kind != "udp" or not port.isdigit():
        return ""
    name = udp_service_name(int(port))
    return (f" (port {port} is {name!r} in /etc/services, which nfcpy's udp transport "
            "cannot take: choose another port)") if name else ""


def udp_service_name(port: int) -> str | None:
    """The name nfcpy's udp transport reads ``port`` back as (getnameinfo without
    NI_NUMERICSERV: /etc/services' name for it), if it is not the number."""
    name = socket.getnameinfo(("127.0.0.1", port), socket.NI_NUMERICHOST)[1]
    return None if name.isdigit() else name
