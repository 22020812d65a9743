"""Redaction of secrets (PINs) from APDUs before they reach the timeline or any log.

Every transport that records APDUs formats the command with :func:`redact_apdu`, so a PIN
typed by a test never lands in a report, however the APDU travelled.
"""

from __future__ import annotations

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
