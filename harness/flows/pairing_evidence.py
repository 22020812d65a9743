"""What the rig sees of a pairing on the general reader's PC/SC side.

- SP-06: the APDU transcript of the card placed on the general reader while the pairing
  ran, as the PC/SC tier recorded it on the timeline (redacted at its source: commands by
  header and non-secret data, answers by length and status word).
- SP-07: the read test of a staff phone held on the general reader, read by the rig through
  PC/SC: it comes, the JPKI AP answers, its token says a phone. Nothing personal is read
  (no certificate) and nothing of the phone is kept but what it says it is.

On a real bench the general reader is the terminal's: the rig's PC/SC does not carry the
terminal's traffic, so the transcript is unseen (and SP-06 fails closed, saying so) unless
the reader is the rig's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.devices.jpki_probe import probe_pcsc
from harness.errors import BenchFault, RigError
from harness.hands import Phone
from harness.model.observed import PhoneRead, SeenApdu

if TYPE_CHECKING:
    from harness.bench import Bench
    from harness.flows.runner import FlowRun

#: The staff member's phone (the support vendor's お知らせ 接続設定概要 5: 職員などのスマートフォン).
STAFF_PHONE = Phone("staff-phone", "android")
#: Bench seconds the rig waits for the held phone to come on the general reader's PC/SC.
PHONE_COMES_S = 10.0


def pcsc_name(bench: Bench, general: str) -> tuple[str | None, str]:
    """The rig's PC/SC name of ``general``, or None and why there is none."""
    emulation = bench.emulation
    if emulation is None:
        return None, ("on a real bench the general reader is the terminal's: the rig's PC/SC "
                      "does not carry its traffic")
    name = emulation.pcsc_names.get(general)
    if name is None or bench.pcsc is None:
        return None, f"{general} has no PC/SC side the rig sees on this bench"
    return name, ""


class CardWatch:
    """The PC/SC APDUs to ``general`` from now until :meth:`transcript`."""

    def __init__(self, bench: Bench, general: str) -> None:
        self.bench = bench
        self.general = general
        self.name, self.unseen = pcsc_name(bench, general)
        self.since = len(bench.timeline)

    def transcript(self) -> list[SeenApdu] | None:
        if self.name is None:
            return None
        out = []
        for e in self.bench.timeline.events()[self.since:]:
            # In-process tier: source pcsc, the reader in the data; vpcd: the reader's name.
            if e.kind == "apdu" and self.name in (e.data.get("reader"), e.source):
                out.append(SeenApdu(e.t, self.general, str(e.data.get("command", "")),
                                    str(e.data.get("response", ""))))
        return out


def phone_read_test(run: FlowRun, general: str) -> PhoneRead:
    """The staff phone held on ``general``, read through PC/SC, then taken away."""
    name, why = pcsc_name(run.bench, general)
    t = run.clock.now()
    run.do(f"staff_phone:{general}",
           lambda: run.hands.staff_phone(general, STAFF_PHONE, held=True))
    try:
        if name is None or run.bench.pcsc is None:
            read = PhoneRead(t, general, False, detail=why)
        else:
            try:
                report = probe_pcsc(run.bench.pcsc, name, general, PHONE_COMES_S,
                                    certificate=False)
            except BenchFault:
                raise
            except RigError as exc:
                read = PhoneRead(t, general, False, detail=str(exc))
            else:
                steps = "; ".join(f"{s.name} {'ok' if s.ok else 'failed'}"
                                  f"{f' ({s.detail})' if s.detail and not s.ok else ''}"
                                  for s in report.steps)
                ok = bool(report.steps) and all(s.ok for s in report.steps)
                read = PhoneRead(t, general, ok, report.holder, steps)
    finally:
        run.do("staff_phone_away",
               lambda: run.hands.staff_phone(general, STAFF_PHONE, held=False))
    run.record.phone_read = read
    return read
