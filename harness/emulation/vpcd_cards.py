"""`onshi-rig emulate`'s PC/SC side: a card in each vpcd reader, each seen where the rig
says it is.

A vpcd port can take a card that pcscd never shows under the name the rig bound to it (the
slot already held by another vicc, the port some other program's): each card is put in
alone, the reader's name must be empty before and show that card's ATR after, within
``SHOWN_S``; otherwise an error names the port and the reader, and no later card goes in.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs

from harness.emulation.card import ApduCard
from harness.emulation.pcscd import STOCK_FRIENDLY_NAME, client_socket, pcscd_running
from harness.errors import DeviceTimeout, MissingSystemPart, RigError

#: pcscd polls a vpcd slot for its card every 0.4 s: a card not shown by then is elsewhere.
SHOWN_S = 3.0


@attrs.frozen
class Attached:
    reader: str
    pcsc_name: str
    port: int


def need_pcscd(bench_path: str) -> None:
    """pcscd answers on the socket this process's PC/SC calls go to, or the fix for it."""
    if not pcscd_running(client_socket()):
        raise MissingSystemPart(
            f"pcscd is not running on {client_socket()}, so PC/SC clients could not see the "
            "emulated readers",
            "start the system's pcscd (Debian's stock reader.conf serves the bench's first "
            f"two readers as {STOCK_FRIENDLY_NAME!r}): apt-get install pcscd vsmartcard-vpcd "
            "&& systemctl start pcscd; or every reader: onshi-rig pcscd-config --bench "
            f"{bench_path} --dir /etc/reader.conf.d && systemctl restart pcscd  (as root)",
        )


def insert_shown(bench: object, card_for: Callable[[str], ApduCard]) -> list[Attached]:
    """Put ``card_for(reader)`` in each vpcd reader of the open ``bench``, in port order,
    proving each shows in pcscd under the bound name."""
    emu, pcsc = bench.emulation, bench.pcsc  # type: ignore[attr-defined]
    binding = emu.vpcd
    if binding is None or pcsc is None:
        raise RigError("the bench serves no vpcd readers (open it with pcsc_service='vpcd')")
    attached: list[Attached] = []
    for reader, slot in sorted(binding.slots.items(), key=lambda item: item[1].port):
        name = binding.names[reader]
        where = f"{reader} on vpcd port {slot.port}"
        if pcsc.card_present(name):
            raise RigError(f"{name!r} already holds a card before the rig put {reader}'s in: "
                           f"another virtual card is on its slot (port {slot.port})")
        card = card_for(reader)
        emu.insert_card(reader, card)
        try:
            pcsc.wait_for_card(name, timeout=SHOWN_S)
        except DeviceTimeout:
            emu.remove_card(reader)
            raise RigError(
                f"the card put in {where} did not show in {name!r} within {SHOWN_S:g} s: "
                "that port is not the slot of this name (another vicc on the slot first, or "
                "another program on the port)") from None
        conn = pcsc.connect(name)
        try:
            atr = conn.atr
        finally:
            conn.close()
        if atr != card.atr:
            raise RigError(f"{name!r} shows a card with ATR {atr.hex(' ').upper()}, not the "
                           f"one put in {where} ({card.atr.hex(' ').upper()})")
        attached.append(Attached(reader, name, slot.port))
    return attached
