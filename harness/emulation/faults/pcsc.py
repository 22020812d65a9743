"""Bench faults: PC/SC. ``reader.gone``: the reader leaves USB and PC/SC once its next
command is out, before the answer (the bench's ``unplug`` at that moment); clearing plugs it
back with the card it held. ``pcscd.restarted``: the PC/SC service stops and starts again;
every context and card handle the rig held goes stale (readers and cards stay).

Neither tells the rig: its PC/SC driver notices and names them (harness.devices.pcsc_faults).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from harness.errors import RigError

if TYPE_CHECKING:
    from harness.bench import Bench
    from harness.emulation.bench import EmulatedBench


def _emulation(bench: Bench) -> EmulatedBench:
    emu = bench.emulation
    if emu is None or bench.pcsc is None:
        raise RigError(f"bench {bench.name!r}: not open, no PC/SC to break")
    return emu


def reader_gone(bench: Bench, target: str) -> Callable[[], None]:
    emu = _emulation(bench)
    if target not in emu.pcsc_names:
        known = ", ".join(emu.pcsc_names) or "none"
        raise RigError(f"reader.gone: {target!r} is no PC/SC reader of bench "
                       f"{bench.name!r} (PC/SC readers: {known})")
    pcsc = emu.pcsc_inprocess
    if pcsc is None:
        # pcscd 1.9 keeps a reader.conf (vpcd) reader listed for its whole life: the vpcd
        # tier can take the card out, not the reader. Naming that a reader gone would be a
        # lie the rig could only learn from the twin.
        raise RigError("reader.gone: the vpcd tier cannot take a reader out of pcscd "
                       "(pcscd keeps its reader.conf readers); inject it on the in-process "
                       "tier (--pcsc inprocess)")
    name = emu.pcsc_names[target]
    held: list[object] = []

    def leave() -> None:
        held.append(pcsc.card_in(name))
        emu.unplug(target)

    pcsc.during_next_exchange(name, leave)

    def undo() -> None:
        pcsc.during_next_exchange(name, None)
        if held:
            emu.plug(target)
            card = held[0]
            if card is not None:  # the card sat in the reader all along
                pcsc.insert(name, card)  # type: ignore[arg-type]

    return undo


def pcscd_restarted(bench: Bench, target: str) -> Callable[[], None]:
    emu = _emulation(bench)
    pcsc = emu.pcsc_inprocess
    if pcsc is not None:
        pcsc.restart_service()
        return lambda: None  # a restart is over once it happened
    from harness.emulation.pcscd import restart_own_pcscd

    restart_own_pcscd()
    # The cards sat in their readers: each vpcd link connects to the new pcscd's vpcd.
    for link in emu.vpcd_links.values():
        if link.inserted:
            link.remove()
            link.insert()
    return lambda: None


#: Fault kind -> handler (harness.emulation.faults.Handler).
HANDLERS: dict[str, Callable[[Bench, str], Callable[[], None]]] = {
    "reader.gone": reader_gone,
    "pcscd.restarted": pcscd_restarted,
}
