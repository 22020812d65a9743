"""Each maker's power-on routine, as the bench strategy follows it before a flow.

The routine is the maker's profile's ``boot_order`` check (the support vendor's お知らせ, ※接続する機器の起動する
順序): Panasonic (BOOT-01) the reader, the terminal 15 to 30 s after it, the receipt
computer; Atlas (BOOT-02) the terminal, the reader starting with it, the receipt computer
once the reader has started. For makers the notices give no order, one neutral routine:
reader and terminal switched on together, then the receipt computer (it starts last), so no
reader gets a head start the notices do not ask for.

The strategy follows the routine and then only observes. A reader that does not reach its
first screen is recorded as such (``FlowRecord.unmet``): nobody presses its power button or
restarts the terminal for it, as no notice tells a clinic to.
"""

from __future__ import annotations

import attrs

from harness.flows.runner import FlowRun
from harness.model.bench_spec import BenchSpec
from harness.model.bench_spec import PowerStep as BenchPowerStep
from harness.model.boot_rules import WITH_TERMINAL_S
from harness.model.profiles import BootDevice, BootGap, BootOrderCheck, Profile

#: Bench seconds after the last switch for the reader to reach its first screen (the
#: terminal's boot and the reader's link included).
SETTLE_S = 120.0
#: At most this long for a reader to be seen started when a step waits for it and the
#: notice gives no time.
START_BOUND_S = 120.0
#: How soon a step waiting for the reader to start looks again (then twice as long each time).
START_LOOK_S = 5.0
#: Screen classes of a reader that has not started (nothing, a dark panel, its start-up).
NOT_STARTED = {None, "dark", "starting"}
NEUTRAL = "the neutral routine (the notices give this maker no power-on order)"


@attrs.frozen
class PowerStep:
    """Devices switched on together, when the step before has been done this long (and,
    with ``once_reader_started``, once the reader was seen started; never after
    ``latest_s``, when the notice's window closes)."""

    devices: tuple[BootDevice, ...]
    after_s: float = 0.0
    latest_s: float | None = None
    once_reader_started: bool = False


@attrs.frozen
class PowerRoutine:
    steps: tuple[PowerStep, ...]
    #: Where it comes from, for messages (``BOOT-01``, or the neutral routine).
    source: str

    @classmethod
    def neutral(cls) -> PowerRoutine:
        return cls((PowerStep(("reader", "terminal")), PowerStep(("receipt_computer",))),
                   NEUTRAL)

    @classmethod
    def of(cls, profile: Profile | None) -> PowerRoutine:
        found = profile.boot_order() if profile is not None else None
        if found is None:
            return cls.neutral()
        req_id, check = found
        return cls(tuple(_steps(check)), f"{req_id} ({profile.key if profile else ''})")


def _groups(check: BootOrderCheck) -> list[tuple[BootDevice, ...]]:
    """The devices switched on together, in the check's order."""
    groups: list[tuple[BootDevice, ...]] = [(d,) for d in check.order]
    if "reader" not in check.order:
        # Not switched on by itself (BOOT-02: it starts with the terminal): its power is on
        # when the terminal is switched on, as a reader plugged in at the wall.
        at = next((k for k, g in enumerate(groups) if "terminal" in g), 0)
        groups[at] = ("reader", *groups[at])
    return groups


def _gap(check: BootOrderCheck, before: tuple[BootDevice, ...], after: tuple[BootDevice, ...]
         ) -> BootGap | None:
    """The check's window from switching ``before`` on to switching ``after`` on, if any."""
    return next((g for g in check.gaps if g.after in before and g.then in after), None)


def _steps(check: BootOrderCheck) -> list[PowerStep]:
    groups = _groups(check)
    steps: list[PowerStep] = []
    for k, group in enumerate(groups):
        gap = _gap(check, groups[k - 1], group) if k else None
        started = ("terminal" in group and check.terminal_after_reader_started) or (
            "receipt_computer" in group and check.receipt_computer_after_reader_started)
        # The notice's earliest moment; waiting for the reader's start stays inside its window.
        steps.append(PowerStep(group, (gap.min_s or 0.0) if gap else 0.0,
                               gap.max_s if gap else None, started))
    return steps


def power_on(run: FlowRun, routine: PowerRoutine, *, keep_off: tuple[str, ...] = (),
             expect_first: bool = True) -> bool:
    """Switch the bench on by ``routine`` (every face-auth reader at the reader's moment,
    but those in ``keep_off``), then look at the run's reader once the bench has settled.
    With ``expect_first``, a reader not on its first screen then is an unmet precondition
    of the run, with what it showed. True if it is on its first screen."""
    bench, hands = run.bench, run.hands
    switchable = bench.spec.switchable()
    names = role_names(bench.spec, keep_off)
    watched = run.reader not in keep_off
    for step in routine.steps:
        hands.wait(step.after_s)
        if step.once_reader_started and watched:
            bound = (step.latest_s - step.after_s if step.latest_s is not None
                     else START_BOUND_S)
            # Just switched on, it has not started yet; after a wait it may have.
            _until_started(run, bound, look_first=step.after_s > 0)
        for device in step.devices:
            for name in names[device]:
                if name in switchable:
                    bench.switch(name, True)
    reading = run.wait(SETTLE_S)
    if reading.shows == "first":
        return True
    if expect_first and watched:
        run.record.unmet.append(
            f"switched on by {routine.source}, the reader showed {reading.state} "
            f"{SETTLE_S:g} s later, not its first screen")
    return False


def role_names(spec: BenchSpec, keep_off: tuple[str, ...] = ()) -> dict[BootDevice, list[str]]:
    """The bench's devices of each role a routine switches: every face-auth reader on a
    relay (but those in ``keep_off``) at the reader's moment, the terminal, the receipt
    computer."""
    switchable = spec.switchable()
    return {
        "reader": [r.name for r in spec.readers
                   if r.kind == "face_auth_reader" and r.name in switchable
                   and r.name not in keep_off],
        "terminal": [spec.terminal.name],
        "receipt_computer": ([spec.receipt_computer.name]
                             if spec.receipt_computer is not None else []),
    }


#: Between devices the notice orders without a window: this far apart (strictly after).
APART_S = 5.0
#: On a real bench, an edge is aimed this much wall time inside (see clock_steps).
EDGE_MARGIN_WALL_S = 0.25
#: ``reader_first``: the reader's mains on this long before the terminal (as long as BOOT-02
#: gives a reader to start with the terminal: one that starts on its own within it is seen
#: to), and the terminal given as long to start it.
READER_FIRST_S = WITH_TERMINAL_S


def clock_steps(spec: BenchSpec, check: BootOrderCheck, start: str, *, emulated: bool = True,
                watched: str | None = None) -> list[BenchPowerStep]:
    """The notice's order switched by the clock for one of the check's ``clock_starts``,
    without waiting to see the reader started: a clinic follows the notice by the clock.

    - ``earliest``/``latest``: each device of a window switched on at that edge (a reader
      that needs longer than the window's start to start, or stops waiting for the terminal
      before its end, is not the notice's reader). An emulated bench switches at the edge
      to the second; a real one (not ``emulated``) aims ``EDGE_MARGIN_WALL_S`` of wall time
      inside each edge (times its clock's scale): a look and a relay move a device's moment
      by some milliseconds either way.
    - ``reader_first``: a reader that starts with the terminal has its mains on
      ``READER_FIRST_S`` before the terminal (plugged in at the wall overnight): it must stay
      dark until the terminal is switched on (連動して自動起動).

    The ``watched`` reader is switched first of its step: a step's wait runs from when it
    began switching, so a reader switched after others would meet an edge early by their
    relays' time."""
    if start not in check.clock_starts:
        raise ValueError(f"start must be one of {check.clock_starts}, got {start!r}")
    names, switchable = role_names(spec), spec.switchable()
    if watched in names["reader"]:
        names["reader"] = [watched] + [n for n in names["reader"] if n != watched]
    groups = _groups(check)
    steps: list[BenchPowerStep] = []
    if start == "reader_first":
        steps.append(BenchPowerStep(switch_on=[n for n in names["reader"] if n in switchable],
                                    wait_s=READER_FIRST_S))
        groups = [g for g in (tuple(d for d in group if d != "reader") for group in groups) if g]
    for k, group in enumerate(groups):
        wait = 0.0
        if k + 1 < len(groups):
            gap = _gap(check, group, groups[k + 1])
            high = gap.max_s if gap is not None else None
            # Strictly after the step before: a window's start of 0 s (or none) is APART_S,
            # or half the window where that is shorter.
            low = (gap.min_s if gap is not None and gap.min_s else
                   APART_S if high is None else min(APART_S, high / 2))
            high = low if high is None else high
            margin = 0.0 if emulated else min(EDGE_MARGIN_WALL_S * spec.clock.scale,
                                              (high - low) / 2)
            wait = high - margin if start == "latest" else low + margin
            if start == "reader_first" and "terminal" in group:
                wait = max(wait, WITH_TERMINAL_S)  # as long as the reader may take to start
        steps.append(BenchPowerStep(switch_on=[n for d in group for n in names[d]
                                               if n in switchable], wait_s=wait))
    return steps


def _until_started(run: FlowRun, bound_s: float, *, look_first: bool) -> bool:
    """Look until the reader shows it has started, less often as time goes (a dark panel is
    slow to look at), for at most ``bound_s``."""
    if look_first and run.look().shows not in NOT_STARTED:
        return True
    waited, step = 0.0, START_LOOK_S
    while waited < bound_s - 1e-9:
        run.hands.wait(min(step, bound_s - waited))
        waited += min(step, bound_s - waited)
        step *= 2
        if run.look().shows not in NOT_STARTED:
            return True
    return False
