"""The patient's phone held where the maker's procedure says, and what PC/SC saw (SP-03).

Seed 002 《 スマートフォンのマイナ保険証を使った受付の手順 》 ③: the phone goes over the general
reader set up beside the face-auth reader (the one paired with it), or, on Canon's reader,
over the reader's own front. Where is the profile's data (``phone_read_on``), never the
maker's name. Around each hold the rig looks at the PC/SC side of every general reader of
the bench: which saw a card arrive, and what its JPKI token says it is (phone or card;
nothing personal is read).

In a flow whose checks judge which reader read the phone, the phone is first held where it
must not be taken (the face-auth reader's front, another general reader than the paired
one; for Canon a general reader), each a few seconds, watched, then taken away; then where
the procedure says. The reader must take it from there only (harness.model.phone_rules).

On a real bench the general readers are the terminal's: the rig's PC/SC does not carry
their traffic, so they are recorded as not watched (and SP-03 fails closed, saying so).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from harness.devices.jpki_probe import probe_pcsc
from harness.errors import BenchFault, DeviceGone, RigError
from harness.flows.pairing_evidence import PHONE_COMES_S, pcsc_name
from harness.model.observed import PcscSighting, PhoneHold

if TYPE_CHECKING:
    from harness.bench import Bench
    from harness.flows.drivers import Plan
    from harness.flows.runner import FlowRun
    from harness.hands import Phone

#: Bench seconds a phone held where it must not be taken is left there and watched (a
#: reader that takes a phone does so at once: the patient holds it a moment, no longer).
DECOY_S = 4.0
#: Bench seconds for the reader to move on once the phone lies where it must be read.
TAKE_S = 10.0
FRONT = "front"
#: Bench seconds to move the phone from one place to the next.
MOVE_S = 1.0


def general_readers(bench: Bench) -> list[str]:
    return [r.name for r in bench.spec.readers if r.kind == "general_reader"]


class PcscWatch:
    """The PC/SC sides of the bench's general readers, from before a hold until :meth:`seen`."""

    def __init__(self, bench: Bench) -> None:
        self.bench = bench
        self.names: dict[str, str] = {}
        self.unwatched: list[tuple[str, str]] = []
        for general in general_readers(bench):
            name, why = pcsc_name(bench, general)
            if name is None:
                self.unwatched.append((general, why))
            else:
                self.names[general] = name
        self.before = {g for g, name in self.names.items() if self._present(g, name)}

    def _present(self, general: str, name: str) -> bool:
        assert self.bench.pcsc is not None  # pcsc_name gives a name only with one
        try:
            return self.bench.pcsc.card_present(name)
        except DeviceGone:
            return False  # not on PC/SC (unplugged): nothing there to read
        except BenchFault:
            raise
        except RigError as exc:
            self.names.pop(general, None)
            self.unwatched.append((general, f"its status could not be read: {exc}"))
            return False

    def seen(self, held_on: str, t: float) -> tuple[PcscSighting, ...]:
        """The cards on the watched readers now, each probed for its token; the reader the
        phone was held on is given PHONE_COMES_S for it to arrive."""
        assert self.bench.pcsc is not None or not self.names
        out = []
        for general, name in list(self.names.items()):
            if general != held_on and not self._present(general, name):
                continue
            try:
                report = probe_pcsc(self.bench.pcsc, name, general,  # type: ignore[arg-type]
                                    PHONE_COMES_S if general == held_on else 1.0,
                                    certificate=False)
            except DeviceGone:
                continue  # not on PC/SC: nothing arrived
            except BenchFault:
                raise
            except RigError as exc:
                out.append(PcscSighting(general, name, t, None, general in self.before,
                                        str(exc)))
                continue
            if report.steps and report.steps[0].name == "wait for card" \
                    and not report.steps[0].ok:
                continue  # no card came
            steps = "; ".join(f"{s.name} {'ok' if s.ok else 'failed'}"
                              f"{f' ({s.detail})' if s.detail and not s.ok else ''}"
                              for s in report.steps)
            out.append(PcscSighting(general, name, t, report.holder, general in self.before,
                                    steps))
        return tuple(out)


    def gone(self, held_on: str) -> None:
        """Let the PC/SC side of the reader the phone was taken off notice it (bounded: a
        vpcd card leaves when pcscd next polls). One that still shows a card is seen lying
        there by the next hold (and fails it: what was read is not known)."""
        name = self.names.get(held_on)
        if name is None or self.bench.pcsc is None:
            return
        try:
            self.bench.pcsc.wait_for_card(name, timeout=PHONE_COMES_S, present=False)
        except BenchFault:
            raise
        except RigError:
            pass


def hold_once(run: FlowRun, phone: Phone, where: str, *, decoy: bool) -> PhoneHold:
    """The phone held on ``where`` (``front`` or a general reader), the general readers'
    PC/SC looked at, the reader watched (a decoy: DECOY_S; else until it moves on, at most
    TAKE_S), the phone taken away. Recorded on the run."""
    side: Literal["general_reader", "front"] = "front" if where == FRONT else "general_reader"
    general = None if where == FRONT else where
    # Bringing the phone there takes a moment: the last look and the hold never share one
    # (the rule could not tell which came first).
    run.hands.wait(MOVE_S)
    watch = PcscWatch(run.bench)
    t = run.clock.now()
    run.do(f"hold_phone:{where}", lambda: run.hands.hold_phone(
        run.reader, phone, where=side, general=general))
    try:
        seen = watch.seen(where, t)
        run.hands.wait(MOVE_S / 2)  # the first look comes after the hold, never at it
        if decoy:
            run.hold(DECOY_S)
        else:
            run.wait_change(TAKE_S)
    finally:
        away = run.clock.now()
        run.do(f"phone_away:{where}", lambda: run.hands.hold_phone(
            run.reader, phone, where=side, general=general, held=False))
    watch.gone(where)
    hold = PhoneHold(t, where, away, seen, tuple(watch.names), tuple(watch.unwatched))
    run.record.phone_holds.append(hold)
    return hold


def decoys(run: FlowRun, right: str) -> list[str]:
    """Where the phone must not be taken: the face-auth reader's front (when the procedure
    says a general reader) and one general reader of the bench that is not the right one."""
    out = [] if right == FRONT else [FRONT]
    other = next((g for g in general_readers(run.bench) if g != right), None)
    if other is not None:
        out.append(other)
    return out


def hold_phone(run: FlowRun, plan: Plan, phone: Phone) -> None:
    """At the hold screen: the phone where the maker's procedure says (its profile's
    ``phone_read_on``); first, in a flow whose checks judge it, where it must not be taken."""
    where = plan.profile.phone_read_on()
    if where is None:
        run.problem(f"{plan.profile.key}: no check says where the phone is held "
                    "(phone_read_on): it is not guessed, and not held")
        return
    right = FRONT if where == "front" else run.general_reader()
    if right is None:
        run.problem("the bench has no general reader to hold the phone on")
        return
    if any(c.phone_read_on for c in plan.profile.flow_checks(plan.flow, plan.given)):
        for place in decoys(run, right):
            hold_once(run, phone, place, decoy=True)
            if run.last is not None and run.last.shows != "sp_hold":
                return  # it took the phone from there: the rule says so; nothing to hold
    hold_once(run, phone, right, decoy=False)
