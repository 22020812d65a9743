"""Probing a general reader with a My Number card or a smartphone on it.

What the eligibility terminal's software needs from a general reader: a card (or a phone
holding the card function) comes, its ATR, the JPKI applet, the token that says card or
phone, and the authentication certificate. Each step is timed; nothing personal is kept
(the certificate is described by its subject, issuer, validity and fingerprint, and the
rig's transports record APDUs redacted). The reader's PC/SC name is set against the name
the management app is expected to show (USB-05).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import attrs

from harness.errors import BenchFault, DeviceGone, DeviceTimeout, RigError
from harness.model.wiring import app_name_matches

if TYPE_CHECKING:
    from harness.devices.nfc import NfcFrontend
    from harness.protocols import PcscService

JPKI_AID = bytes.fromhex("D392F000260100000001")
TOKEN_FID, AUTH_CERT_FID = "0006", "000A"
#: What the token file starts with, as the public JPKI tools read it: a My Number card
#: (JPKIAPICCTOKEN2; the older 住基カード said JPKIAPICCTOKEN), Android, iPhone.
TOKENS = {"JPKIAPICCTOKEN": "card", "JPKIAPGPSETOKEN": "smartphone",
          "JPKIAPIOSTOKEN": "smartphone"}
OK = b"\x90\x00"

Transmit = Callable[[bytes], bytes]


@attrs.frozen
class ProbeStep:
    name: str
    seconds: float
    ok: bool
    #: The status word, or what went wrong.
    detail: str = ""


@attrs.frozen
class CertificateSummary:
    subject: str
    issuer: str
    not_after: str
    sha256: str


@attrs.frozen
class ProbeReport:
    reader: str
    steps: tuple[ProbeStep, ...]
    atr: str | None = None
    #: ``card`` or ``smartphone`` (from the token), None when not read.
    holder: str | None = None
    token: str | None = None
    certificate: CertificateSummary | None = None
    pcsc_name: str | None = None
    expected_name: str | None = None

    @property
    def name_matches(self) -> bool | None:
        """USB-05: the PC/SC name is the name the app shows, as the scan judges it
        (harness.model.wiring.app_name_matches); None: not known."""
        if self.pcsc_name is None or self.expected_name is None:
            return None
        return app_name_matches(self.pcsc_name, self.expected_name)

    @property
    def ok(self) -> bool:
        return bool(self.steps) and all(s.ok for s in self.steps) and self.certificate is not None

    def as_json(self) -> dict[str, object]:
        return {
            "reader": self.reader,
            "ok": self.ok,
            "atr": self.atr,
            "holder": self.holder,
            "token": self.token,
            "certificate": attrs.asdict(self.certificate) if self.certificate else None,
            "pcsc_name": self.pcsc_name,
            "expected_name": self.expected_name,
            "name_matches": self.name_matches,
            "steps": [
                {"name": s.name, "ms": round(s.seconds * 1000, 3), "ok": s.ok, "detail": s.detail}
                for s in self.steps
            ],
        }


class _Steps:
    def __init__(self) -> None:
        self.done: list[ProbeStep] = []

    def run(self, name: str, fn: Callable[[], bytes]) -> bytes | None:
        started = time.perf_counter()
        try:
            response = fn()
        except BenchFault:
            raise  # the bench failed, not the card: the probe judged nothing
        except (DeviceGone, DeviceTimeout, RigError) as exc:
            self.done.append(ProbeStep(name, time.perf_counter() - started, False, str(exc)))
            return None
        sw = response[-2:]
        self.done.append(ProbeStep(name, time.perf_counter() - started, sw == OK, sw.hex()))
        return response if sw == OK else None


def _read_ef(transmit: Transmit, fid: str) -> bytes:
    """A whole transparent EF: a DER object knows its own length; anything else is read
    until the card says the offset is beyond its end."""
    response = transmit(bytes.fromhex("00A4020C02" + fid))
    if response[-2:] != OK:
        return response
    head = transmit(bytes.fromhex("00B0000004"))
    if head[-2:] != OK:
        return head
    if head[0] == 0x30 and head[1] & 0x80 and 1 <= head[1] & 0x7F <= 2:
        n = head[1] & 0x7F
        total = 2 + n + int.from_bytes(head[2 : 2 + n], "big")
    else:
        total = None
    data = b""
    while total is None or len(data) < total:
        want = 0xE0 if total is None else min(0xE0, total - len(data))
        part = transmit(bytes([0x00, 0xB0, len(data) >> 8, len(data) & 0xFF, want]))
        if part[-2:] != OK:
            if total is None and part[-2:] in (b"\x6b\x00", b"\x62\x82"):
                break  # the end of a file of unknown length
            return part
        data += part[:-2]
        if total is None and len(part) - 2 < want:
            break
    return data + OK


def _summary(der: bytes) -> CertificateSummary:
    from cryptography import x509

    cert = x509.load_der_x509_certificate(der)
    return CertificateSummary(
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        not_after=cert.not_valid_after_utc.isoformat(),
        sha256=hashlib.sha256(der).hexdigest(),
    )


def probe_jpki(reader: str, transmit: Transmit, atr: bytes | None, *,
               waited_s: float | None = None, pcsc_name: str | None = None,
               expected_name: str | None = None, certificate: bool = True) -> ProbeReport:
    """Read what the terminal's software reads, through ``transmit``; without
    ``certificate``, only what says card or phone (the token: nobody's data)."""
    steps = _Steps()
    if waited_s is not None:
        steps.done.append(ProbeStep("wait for card", waited_s, True))
    report = {"atr": atr.hex(" ").upper() if atr else None}
    if steps.run("select JPKI applet", lambda: transmit(
            bytes([0x00, 0xA4, 0x04, 0x0C, len(JPKI_AID)]) + JPKI_AID)) is not None:
        token = steps.run("read token", lambda: _read_ef(transmit, TOKEN_FID))
        if token is not None:
            text = token[:-2].decode("ascii", "replace").strip()
            report["token"] = text
            report["holder"] = next((who for prefix, who in TOKENS.items()
                                     if text.startswith(prefix)), None)
        cert = steps.run("read authentication certificate",
                         lambda: _read_ef(transmit, AUTH_CERT_FID)) if certificate else None
        if cert is not None:
            try:
                report["certificate"] = _summary(cert[:-2])
            except ValueError as exc:
                steps.done.append(ProbeStep("parse certificate", 0.0, False, str(exc)))
    return ProbeReport(reader, tuple(steps.done), pcsc_name=pcsc_name,
                       expected_name=expected_name, **report)  # type: ignore[arg-type]


def probe_pcsc(pcsc: PcscService, pcsc_name: str, reader: str, timeout_s: float, *,
               expected_name: str | None = None, certificate: bool = True) -> ProbeReport:
    """Wait (bounded) for a card or phone on a PC/SC reader, then probe it."""
    started = time.perf_counter()
    try:
        pcsc.wait_for_card(pcsc_name, timeout=timeout_s)
    except DeviceTimeout as exc:
        step = ProbeStep("wait for card", time.perf_counter() - started, False, str(exc))
        return ProbeReport(reader, (step,), pcsc_name=pcsc_name, expected_name=expected_name)
    waited = time.perf_counter() - started
    conn = pcsc.connect(pcsc_name)
    try:
        return probe_jpki(reader, conn.transmit, conn.atr, waited_s=waited,
                          pcsc_name=pcsc_name, expected_name=expected_name,
                          certificate=certificate)
    finally:
        conn.close()


def probe_nfc(frontend: NfcFrontend, reader: str, timeout_s: float) -> ProbeReport:
    """Wait (bounded) for a card or phone on an NFC frontend (ISO-DEP), then probe it."""
    started = time.perf_counter()
    try:
        card = frontend.wait_for_card(timeout_s)
    except DeviceTimeout as exc:
        step = ProbeStep("wait for card", time.perf_counter() - started, False, str(exc))
        return ProbeReport(reader, (step,))
    return probe_jpki(reader, card.transmit, None, waited_s=time.perf_counter() - started)
