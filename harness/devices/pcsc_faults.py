"""How the rig names the PC/SC bench faults, the same on every tier (pyscard over pcscd,
the in-process service): a reader that left PC/SC in the middle of an exchange, and a
pcscd restarted under the rig's context.

Both are noticed by the call that meets them, never by waiting: the bound of
``reader.gone`` is the failed exchange plus :data:`EXCHANGE_CHECK_S`, that of
``pcscd.restarted`` the one PC/SC call that met the stale context. The next call opens a
new context by itself (bounded by :data:`PCSCD_BACK_S` while pcscd comes back): that is the
rig's own plumbing reconnecting, not the reader being mended.
"""

from __future__ import annotations

from harness.errors import BenchFault

#: Wall seconds the rig looks, after an exchange failed, at whether the reader is still
#: listed (pcscd drops a reader that left USB on its hot-plug event, and notices a card
#: taken out on its next poll, every 0.4 s): the bound of ``reader.gone`` beyond the failed
#: call itself. The in-process tier knows at once (0 s).
EXCHANGE_CHECK_S = 2.0
#: Wall seconds the rig waits for pcscd to come back when opening a new context after a
#: restart (pcscd 1.9 starts in well under a second).
PCSCD_BACK_S = 5.0

#: ISO/IEC 7816-4 instructions by INS byte: how a fault names the command without data.
_INSTRUCTIONS = {
    0x0E: "ERASE BINARY", 0x20: "VERIFY", 0x21: "VERIFY", 0x22: "MANAGE SECURITY ENVIRONMENT",
    0x24: "CHANGE REFERENCE DATA", 0x2A: "PERFORM SECURITY OPERATION",
    0x2C: "RESET RETRY COUNTER", 0x44: "ACTIVATE FILE", 0x70: "MANAGE CHANNEL",
    0x82: "EXTERNAL AUTHENTICATE", 0x84: "GET CHALLENGE", 0x88: "INTERNAL AUTHENTICATE",
    0xA4: "SELECT", 0xB0: "READ BINARY", 0xB1: "READ BINARY", 0xB2: "READ RECORD",
    0xC0: "GET RESPONSE", 0xCA: "GET DATA", 0xCB: "GET DATA", 0xD6: "UPDATE BINARY",
    0xDA: "PUT DATA", 0xDC: "UPDATE RECORD", 0xE2: "APPEND RECORD",
}


def command_name(apdu: bytes) -> str:
    """The command as a fault names it: the instruction and CLA INS P1 P2, never its data
    (a VERIFY's PIN, a card's answer)."""
    header = apdu[:4].hex(" ").upper()
    if len(apdu) < 4:
        return f"a malformed command ({header or 'empty'})"
    name = _INSTRUCTIONS.get(apdu[1])
    return f"{name} ({header})" if name else f"command {header}"


def reader_gone(reader: str, apdu: bytes, seen: str,
                bound_s: float = EXCHANGE_CHECK_S) -> BenchFault:
    """``reader`` left PC/SC while ``apdu`` was out; ``seen`` is what PC/SC answered."""
    return BenchFault("reader.gone", reader,
                      f"left PC/SC during {command_name(apdu)}: {seen}", bound_s=bound_s)


def pcscd_restarted(during: str, seen: str) -> BenchFault:
    """The rig's context or card handle went stale under ``during``: pcscd restarted."""
    return BenchFault("pcscd.restarted", "pcscd",
                      f"the rig's PC/SC context went stale during {during}: {seen}; "
                      "the next PC/SC call opens a new one", bound_s=0.0)
