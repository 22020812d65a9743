"""Redaction of secrets (PINs) from APDUs before they reach the timeline or any log.

Every transport that records APDUs formats the command with :func:`redact_apdu`, so a PIN
typed by a test never lands in a report, however the APDU travelled.
"""

from __future__ import annotations

import logging
import re

# ISO/IEC 7816-4 commands whose data field carries reference data (PINs, PUKs):
# VERIFY (20/21), CHANGE REFERENCE DATA (24/25), DISABLE / ENABLE VERIFICATION
# REQUIREMENT (26/28), RESET RETRY COUNTER (2C/2D). The odd INS variants wrap the same
# secrets in BER-TLV, so they are redacted too.
SECRET_INS = frozenset({0x20, 0x21, 0x24, 0x25, 0x26, 0x28, 0x2C, 0x2D})


def _placeholder(n: int) -> str:
    return f"<redacted {n} byte{'s' if n != 1 else ''}>"


def _split_body(body: bytes) -> tuple[bytes, int, bytes] | None:
    """(length field, data length, Le field) of an APDU body carrying data, or None.

    Handles short (Lc = 1 byte) and extended (00 + 2 bytes) length fields.
    """
    if len(body) >= 2 and body[0] != 0:
        lc = body[0]
        if len(body) in (1 + lc, 2 + lc):
            return body[:1], lc, body[1 + lc :]
    if len(body) >= 4 and body[0] == 0:
        lc = int.from_bytes(body[1:3], "big")
        if lc and len(body) in (3 + lc, 5 + lc):
            return body[:3], lc, body[3 + lc :]
    return None


def redact_apdu(apdu: bytes) -> str:
    """The command APDU as uppercase hex, with any PIN-bearing data field replaced.

    ``00 20 00 80 04 31 32 33 34`` becomes ``"0020008004<redacted 4 bytes>"``. A
    malformed PIN-bearing command has everything after its header redacted: when in
    doubt, hide it.
    """
    apdu = bytes(apdu)
    if len(apdu) < 4 or apdu[1] not in SECRET_INS or len(apdu) == 4:
        return apdu.hex().upper()
    header, body = apdu[:4], apdu[4:]
    if len(body) == 1:  # case 2 (only Le, e.g. VERIFY asking the retry counter): no secret
        return apdu.hex().upper()
    split = _split_body(body)
    if split is None:
        return header.hex().upper() + _placeholder(len(body))
    length_field, lc, le_field = split
    return (
        header.hex().upper()
        + length_field.hex().upper()
        + _placeholder(lc)
        + le_field.hex().upper()
    )


def redact_response(rapdu: bytes) -> str:
    """A response APDU as its length and status word only.

    Response data can be card personal data (name, address, certificates of a real
    person); what a report needs of it is how much came back and the status.
    """
    rapdu = bytes(rapdu)
    if len(rapdu) < 2:
        return f"<malformed {len(rapdu)} bytes>"
    sw = rapdu[-2:].hex().upper()
    return sw if len(rapdu) == 2 else f"<{len(rapdu) - 2} bytes> {sw}"


# Drivers log frames as one unbroken run of hex digits.
_HEX_RUN = re.compile(r"(?<![0-9A-Za-z])((?:[0-9A-Fa-f]{2}){6,})(?![0-9A-Za-z])")


def redact_hex_text(text: str) -> str:
    """Runs of hex in log text (frames and APDUs as drivers log them) with any PIN-bearing
    command hidden: a secret INS at the start or behind an ISO-DEP prologue (PCB, CID, NAD)
    hides everything after its header. Other runs stay as they are."""

    def hide(match: re.Match[str]) -> str:
        run = match.group(1)
        raw = bytes.fromhex(run)
        for start in range(0, min(4, len(raw) - 4)):
            cla, ins = raw[start], raw[start + 1]
            if ins in SECRET_INS and cla & 0x0C == 0 and cla != 0xFF:
                return run[: 2 * (start + 4)] + _placeholder(len(raw) - start - 4)
        return run

    return _HEX_RUN.sub(hide, text)


class RedactingFilter(logging.Filter):
    """Rewrites records of a driver's logger (nfcpy logs every frame it sends at DEBUG) so
    that a PIN sent to a card never reaches a log file."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_hex_text(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


def redact_driver_logs(prefix: str = "nfc") -> None:
    """Put a :class:`RedactingFilter` on every logger under ``prefix`` (once each)."""
    names = [n for n in logging.root.manager.loggerDict if n == prefix or n.startswith(prefix + ".")]
    for name in names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(RedactingFilter())
