"""The BOOT runner: the bench switched on by its own routine (the bench file's ``power_on``)
through the relays, watched by the cameras and on USB; what happened when, for the boot
rules (:mod:`harness.model.boot_rules`).

A start is watched from dark: after the restore's cut every device on a relay is kept off
:data:`MIN_OFF_S`, and each watched screen is seen dark and the reader gone from USB before
anything is switched on. A real panel and camera keep showing the last picture for a while
(a stream arrives late, stamped when it arrives): without that, the first looks after the
switch-on see the bench from before the cut, and a reader that starts late passes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import attrs

from harness.bench import Bench
from harness.errors import BenchFault
from harness.flows.camera_aim import AimWatch, lookalikes, routine, staggered
from harness.flows.power_on import NOT_STARTED, SETTLE_S
from harness.flows.setup import restore_morning
from harness.hands import Hands
from harness.model.bench_spec import PowerStep
from harness.model.boot_rules import BootRecord
from harness.model.wait import wait_until

if TYPE_CHECKING:
    from harness.vision.watcher import Observation, ScreenWatcher

#: Bench seconds every device on a relay stays off after the restore's cut, at least: a
#: supply's capacitors, a panel's backlight, a camera's stream take a moment to show it.
MIN_OFF_S = 5.0
#: At most this long (bench seconds, after MIN_OFF_S) to see the watched screens dark and
#: the reader gone from USB; longer is the bench's fault, never a start judged anyway.
DARK_BOUND_S = 60.0
#: How often the screens are looked at meanwhile (bench seconds).
DARK_LOOK_S = 1.0


@attrs.define
class _Watched:
    """A screen watched through the start: its device's role and name, and its eyes."""

    role: str
    name: str
    eyes: ScreenWatcher
    last: Observation | None = None

    def dark(self) -> bool:
        self.last = self.eyes.look()
        reading = self.last.reading
        return reading is not None and reading.shows == "dark"

    def seen(self) -> str:
        return self.last.state if self.last is not None else "nothing"


def watch_start(bench: Bench, hands: Hands, reader: str,
                steps: Sequence[PowerStep] | None = None) -> BootRecord:
    """Restore the bench, see it dark, run its power-on routine (or ``steps``), and note
    what happens when. :class:`BenchFault` ``boot.not_off`` when the bench is not seen off
    after the restore's cut; ``camera.misaimed`` when the reader's camera is seen watching
    another reader (harness.flows.camera_aim: the reader is switched on after the
    look-alikes its step switches)."""
    cut_from = len(bench.timeline)
    restore_morning(bench, hands)
    device = next(r for r in bench.spec.readers if r.name == reader)
    screens = [_Watched("reader", reader, bench.watcher(reader))]
    terminal = bench.spec.terminal.name
    if any(c.watches == terminal for c in bench.spec.cameras):
        screens.append(_Watched("terminal", terminal, bench.watcher(terminal)))
    on_usb = _on_usb(bench, device.usb.path)
    _see_off(bench, hands, cut_from, screens, on_usb)
    since = len(bench.timeline)  # what the routine switches, not what came before
    # Its look-alikes switched on before it: its camera must not light with theirs.
    others = lookalikes(bench.spec, reader)
    steps = staggered(routine(bench.spec, steps), reader, others)
    aim = AimWatch(bench, reader, screens[0].eyes, others, since)
    roles = {reader: "reader", terminal: "terminal"}
    if bench.spec.receipt_computer is not None:
        roles[bench.spec.receipt_computer.name] = "receipt_computer"
    record = BootRecord()

    def tick() -> BootRecord:
        on = _switches(bench, since, roles)[0]
        if "reader" not in on:
            aim.before_own()
        _note_screens(record, screens, on)
        if "reader" in on and screens[0].last is not None:
            aim.after_own(screens[0].last)
        own = on.get("reader")
        if record.reader_on_usb is None and own is not None and on_usb():
            record.reader_on_usb = bench.clock.now()
        return record

    bench.power_on(tick=tick, tick_s=3.0, steps=steps)
    wait_until(bench.clock, tick, lambda r: r.reader_ready is not None, SETTLE_S,
               step_s=5.0)
    record.switched_on, record.switched_off = _switches(bench, since, roles)
    if record.reader_started is None:
        aim.never_own(device.maker, record.reader_on_usb is not None)
    return record


def _on_usb(bench: Bench, path: str | None) -> Callable[[], bool]:
    """Whether the reader is on USB now (never, for a reader whose port is not known)."""
    return lambda: path is not None and any(d.topology.path == path
                                           for d in bench.usb.devices())


def _switches(bench: Bench, since: int, roles: dict[str, str]
              ) -> tuple[dict[str, float], dict[str, list[float]]]:
    """Role -> when the routine first switched that device on (the timeline since
    ``since``); role -> when it switched it off again after that (the start the order is
    then judged on is not the one the bench made)."""
    on: dict[str, float] = {}
    off: dict[str, list[float]] = {}
    for event in bench.timeline.events()[since:]:
        role = roles.get(event.source)
        if event.kind != "power.switched" or not role:
            continue
        if event.data.get("on"):
            on.setdefault(role, event.t)
        elif role in on:
            off.setdefault(role, []).append(event.t)
    return on, off


def _note_screens(record: BootRecord, screens: list[_Watched], on: dict[str, float]) -> None:
    """The screens' moments, each from a frame taken once its own device was switched on
    (the moment the frame carries): a picture from before is not this start's."""
    for screen in screens:
        own = on.get(screen.role)
        if own is None:
            continue  # not switched on yet: whatever it shows is not this start's
        seen = screen.last = screen.eyes.look()
        if seen.t < own:
            continue
        shows = seen.reading.shows if seen.reading is not None else None
        if screen.role == "terminal":
            if record.terminal_lit is None and seen.state not in ("off", "unknown"):
                record.terminal_lit = seen.t
            continue
        if record.reader_lit is None and shows != "dark" and (
                "terminal" not in on or seen.t < on["terminal"]):
            record.reader_lit = (seen.t, seen.state)
        if record.reader_started is None and shows not in NOT_STARTED:
            record.reader_started = seen.t
        if record.reader_ready is None and shows == "first":
            record.reader_ready = seen.t


def _see_off(bench: Bench, hands: Hands, cut_from: int, screens: list[_Watched],
             on_usb: Callable[[], bool]) -> None:
    """The devices on relays kept off MIN_OFF_S from the restore's last cut, then looked at
    (bounded) until each of their watched screens is dark and the reader is off USB."""
    switchable = bench.spec.switchable()
    cuts = [e.t for e in bench.timeline.events()[cut_from:]
            if e.kind == "power.switched" and not e.data.get("on") and e.source in switchable]
    cut = max(cuts, default=bench.clock.now())
    hands.wait(max(0.0, cut + MIN_OFF_S - bench.clock.now()))
    # Only a device the cut switched off can be asked to be dark.
    watched = [s for s in screens if s.name in switchable]
    reader_cut = any(s.role == "reader" for s in watched)

    def off() -> list[str]:
        lit = [f"{s.name}'s screen ({s.eyes.name} showed {s.seen()})"
               for s in watched if not s.dark()]
        if reader_cut and on_usb():
            lit.append(f"{screens[0].name} on USB")
        return lit

    waited = wait_until(bench.clock, off, lambda lit: not lit, DARK_BOUND_S,
                        step_s=DARK_LOOK_S, sleep=hands.wait)
    if not waited.ok:
        raise BenchFault(
            "boot.not_off", ", ".join(s.name for s in watched) or "bench",
            f"switched off at {cut:.2f} s and kept off {MIN_OFF_S:g} s, then not seen off "
            f"within {DARK_BOUND_S:g} s: {'; '.join(waited.last)}; a start watched from "
            "there would be judged on pictures from before the cut (a relay that did not "
            "cut, a camera that lags or froze)", bound_s=DARK_BOUND_S)
