"""Boot-order checks (BOOT-01, BOOT-02) judged against what a bench's start was seen to do.

Pure functions: a :class:`~harness.model.profiles.BootOrderCheck` and a :class:`BootRecord`
(when each device was switched on, when the reader was seen to have started, when it came
up on USB and on its first screen, when the terminal's monitor lit) in, the problems out.
"""

from __future__ import annotations

import attrs

from harness.model.profiles import BootOrderCheck, Requirement
from harness.model.verdict import Evidence, Verdict

#: A reader that starts with the terminal must have started within this of the terminal.
WITH_TERMINAL_S = 180.0
#: How far off a window's edge a moment may be and still be at it (floating point).
EDGE_EPS_S = 1e-6


def _window(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f"{low:g} to {high:g} s"
    return f"{low:g} s or more" if low is not None else f"at most {high:g} s"


@attrs.define
class BootRecord:
    #: Device role (reader, terminal, receipt_computer) -> bench seconds it was switched on;
    #: a role missing was never switched (not on a relay, or not part of the routine).
    switched_on: dict[str, float] = attrs.Factory(dict)
    #: The reader's start-up finished (its camera left the dark and start-up screens).
    reader_started: float | None = None
    #: The reader's first screen (linked to the terminal's application).
    reader_ready: float | None = None
    reader_on_usb: float | None = None
    terminal_lit: float | None = None
    #: The reader's own power button was pressed.
    power_button: bool = False
    #: Role -> when the routine switched that device off again after switching it on.
    switched_off: dict[str, list[float]] = attrs.Factory(dict)
    #: The reader's screen first seen lit (not dark) before the terminal was switched on:
    #: (bench seconds, what it showed).
    reader_lit: tuple[float, str] | None = None

    def summary(self) -> str:
        parts = [f"{role} on at {t:.0f} s" for role, t in
                 sorted(self.switched_on.items(), key=lambda x: x[1])]
        parts += [f"{role} off again at {t:.0f} s" for role, ts in self.switched_off.items()
                  for t in ts]
        for what, t in (("reader started", self.reader_started),
                        ("reader on USB", self.reader_on_usb),
                        ("terminal lit", self.terminal_lit),
                        ("reader ready", self.reader_ready)):
            parts.append(f"{what} at {t:.0f} s" if t is not None else f"{what}: never")
        return ", ".join(parts)


def judge_boot(requirement: Requirement, maker: str, reader: str, record: BootRecord) -> Verdict:
    """The verdict of a requirement's boot-order checks on one start of the bench."""
    problems = [p for check in requirement.checks if isinstance(check, BootOrderCheck)
                for p in check_boot(check, record)]
    times = [*record.switched_on.values(), *(t for t in (
        record.reader_started, record.reader_on_usb, record.terminal_lit, record.reader_ready)
        if t is not None)]
    windows = tuple(w for check in requirement.checks if isinstance(check, BootOrderCheck)
                    for w in boot_windows(check, record))
    return Verdict.of(requirement.id, maker, reader, expected=requirement.statement,
                      seen=record.summary(), problems=problems,
                      evidence=Evidence(span=(min(times), max(times)) if times else None,
                                        observed=(record.summary(),), windows=windows))


def boot_windows(check: BootOrderCheck, record: BootRecord
                 ) -> list[tuple[float, float, str]]:
    """When each device with a time window had to be switched on (BOOT-01's terminal 15
    to 30 s after the reader), from when the device before it was."""
    on = record.switched_on
    out = []
    for gap in check.gaps:
        if gap.after in on and (gap.min_s is not None or gap.max_s is not None):
            low = on[gap.after] + (gap.min_s or 0.0)
            high = on[gap.after] + (gap.max_s if gap.max_s is not None else gap.min_s or 0.0)
            bounds = _window(gap.min_s if gap.min_s is not None or gap.max_s is None else 0.0,
                             gap.max_s)
            out.append((low, high, f"{gap.then} on: {bounds} after {gap.after}"))
    return out


def before_switch_on(record: BootRecord) -> list[str]:
    """A moment of the start seen before its own device was switched on (the reader's
    start, USB, first screen before the reader's; the terminal's monitor before the
    terminal's): seen on a picture or a bus from before this start, so it says nothing of
    this start. A role the routine did not switch is held against the start's first
    switch-on."""
    on = record.switched_on
    first = min(on.values(), default=None)
    problems = []
    for what, t, role in (("reader started", record.reader_started, "reader"),
                          ("reader on USB", record.reader_on_usb, "reader"),
                          ("reader ready", record.reader_ready, "reader"),
                          ("terminal lit", record.terminal_lit, "terminal")):
        own = on.get(role, first)
        if t is not None and own is not None and t < own - EDGE_EPS_S:
            problems.append(f"{what} at {t:.2f} s, before the {role} was switched on "
                            f"({own:.2f} s): seen from before this start, not of it")
    return problems


def check_boot(check: BootOrderCheck, record: BootRecord) -> list[str]:
    problems: list[str] = before_switch_on(record)
    on = record.switched_on
    ready = record.reader_ready
    for role, times in record.switched_off.items():
        cut = [t for t in times if ready is None or t <= ready]
        if cut and role in check.order:
            problems.append(f"the {role} was switched off again at {cut[0]:.0f} s (switched "
                            f"on at {on[role]:.0f} s) before the reader was ready: the start "
                            "the order is judged on is not the one the bench made")
    missing = [d for d in check.order if d not in on]
    if missing:
        problems.append(f"never switched on: {', '.join(missing)}")
    switched = [d for d in check.order if d in on]
    for first, then in zip(switched, switched[1:], strict=False):
        if not on[first] < on[then]:
            problems.append(f"{then} was switched on at {on[then]:.0f} s, not after {first} "
                            f"({on[first]:.0f} s)")
    for gap in check.gaps:
        if gap.after in on and gap.then in on:
            took = on[gap.then] - on[gap.after]
            low = gap.min_s if gap.min_s is not None else float("-inf")
            high = gap.max_s if gap.max_s is not None else float("inf")
            # A clock's sums may land a rounding's width off an edge met to the second.
            if not low - EDGE_EPS_S <= took <= high + EDGE_EPS_S:
                problems.append(f"{gap.then} {took:.2f} s after {gap.after}; the window is "
                                f"{_window(gap.min_s, gap.max_s)}")
    started = record.reader_started
    if check.terminal_after_reader_started and "terminal" in on and (
            started is None or started > on["terminal"]):
        when = f"it started at {started:.0f} s" if started is not None else "it never started"
        problems.append(f"the terminal was switched on at {on['terminal']:.0f} s, before the "
                        f"reader had started ({when})")
    if check.reader_starts_with_terminal:
        t0 = on.get("terminal")
        if record.reader_lit is not None:
            # 連動して自動起動: dark on its own mains until the terminal starts it.
            lit, showed = record.reader_lit
            problems.append(f"the reader showed {showed} at {lit:.0f} s, before the terminal "
                            f"was switched on" + (f" ({t0:.0f} s)" if t0 is not None else "")
                            + ": it starts on its own mains, not with the terminal")
        if started is None or record.power_button:
            problems.append("the reader did not start with the terminal"
                            + (" (its power button was needed)" if record.power_button else ""))
        elif t0 is not None and not t0 <= started <= t0 + WITH_TERMINAL_S:
            problems.append(f"the reader started at {started:.0f} s, not with the terminal "
                            f"(switched on at {t0:.0f} s)")
    if check.receipt_computer_after_reader_started and "receipt_computer" in on and (
            started is None or started > on["receipt_computer"]):
        when = f"at {started:.0f} s" if started is not None else "never"
        problems.append(f"the receipt computer was switched on at "
                        f"{on['receipt_computer']:.0f} s, before the reader had started ({when})")
    if record.reader_ready is None:
        problems.append("the reader never reached its first screen after this start")
    return problems
