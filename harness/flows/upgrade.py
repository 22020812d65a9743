"""The UPD runners: the bench restored to before the upgrade at the moments the schedule
rules ask for (:func:`harness.model.schedule_rules.schedule_probes`), switched on by the
maker's routine, and the management tool's delivery list and manual download observed."""

from __future__ import annotations

import datetime as dt

from harness.bench import Bench
from harness.flows.runner import FlowRun
from harness.flows.setup import delivered_version, schedule_of, wait_for_delivery, window_evening
from harness.flows.strategy import BenchStrategy
from harness.hands import Hands
from harness.model.profiles import DeliveryVersionCheck, Profile
from harness.model.schedule_rules import DeliveryProbe, DeliverySeen, ManualProbe, ManualSeen
from harness.model.wait import wait_until

#: The delivery list is looked at this often between checkpoints (bench seconds).
LOOK_S = 600.0
#: A manual download's probe starts this long before the button is pressed.
MANUAL_LEAD = dt.timedelta(minutes=15)
#: Bench seconds for the tool's dialog after the button.
DIALOG_S = 10.0


def _switched_on(bench: Bench, hands: Hands, reader: str, profile: Profile,
                 at: dt.datetime) -> tuple[FlowRun, str | None]:
    """Restored to before the upgrade at ``at`` and switched on; a problem if it did not
    come up (nobody mends it: the probe then fails with what was seen)."""
    run = FlowRun(bench, hands, reader, "schedule", watch_terminal=True)
    return run, BenchStrategy(bench, hands).before_upgrade(run, profile, at)


def _too_late(now: dt.datetime, due: dt.datetime) -> str:
    """Why a probe could not look at ``due``: the bench's clock was past it once switched
    on (a real bench's date is the one its restore set the terminal's clock to)."""
    return (f"switched on only at {now:%Y-%m-%d %H:%M:%S}, after the probe's "
            f"{due:%Y-%m-%d %H:%M:%S} on the bench's clock")


def _listed(hands: Hands, component: str) -> str | None:
    return hands.delivery_list().get(component)


def probe_delivery(bench: Bench, hands: Hands, reader: str, profile: Profile,
                   probe: DeliveryProbe) -> DeliverySeen:
    want = delivered_version(profile)
    if want is None:
        return DeliverySeen(probe, (None,) * len(probe.checkpoints),
                            problem=f"{profile.key}: no delivery_version check to look for")
    component, version = want
    run, problem = _switched_on(bench, hands, reader, profile, probe.start)
    if problem is not None:
        return DeliverySeen(probe, (None,) * len(probe.checkpoints), problem=problem)
    clock = bench.clock
    got: list[bool | None] = []
    first_seen: dt.datetime | None = None
    for cp in probe.checkpoints:
        left = (cp.at - clock.wallclock()).total_seconds()
        if first_seen is not None:
            got.append(True)  # the list never takes a delivery back
            continue
        if left < 0:
            problem = _too_late(clock.wallclock(), cp.at)
            got.append(None)
            continue
        waited = wait_until(clock, lambda: _listed(hands, component),
                            lambda v: v == version, left, step_s=LOOK_S, sleep=hands.wait)
        if waited.ok:
            first_seen = clock.wallclock()
        got.append(waited.ok)
    return DeliverySeen(probe, tuple(got), first_seen, problem)


def probe_manual(bench: Bench, hands: Hands, reader: str, profile: Profile,
                 probe: ManualProbe) -> ManualSeen:
    run, problem = _switched_on(bench, hands, reader, profile, probe.at - MANUAL_LEAD)
    left = (probe.at - bench.clock.wallclock()).total_seconds()
    if problem is None and left < 0:
        problem = _too_late(bench.clock.wallclock(), probe.at)
    if problem is not None:
        return ManualSeen(probe, None, None, problem)
    hands.wait(left)
    pressed = bench.clock.wallclock()
    seen = len(run.record.dialogs)
    run.do("download_now", hands.download_now)
    done = bench.clock.wallclock()  # a person's press ends when they say so
    run.wait_until(lambda r: len(run.record.dialogs) > seen, DIALOG_S, "a dialog",
                   terminal=True)
    dialog = run.record.dialogs[-1].dialog if len(run.record.dialogs) > seen else None
    return ManualSeen(probe, pressed, dialog, pressed_until=done)


def probe_delivery_list(bench: Bench, hands: Hands, reader: str, profile: Profile,
                        check: DeliveryVersionCheck
                        ) -> tuple[str | None, str | None, str | None, str | None]:
    """UPD-04: the list before any delivery, once the night delivered (or the night ran
    out), and after the terminal's reboot; or why the bench could not be brought there."""
    schedule = schedule_of(profile)
    if schedule is None:
        return None, None, None, f"{profile.key}: no distribution_schedule check"
    run, problem = _switched_on(bench, hands, reader, profile, window_evening(schedule))
    if problem is not None:
        return None, None, None, problem
    before = _listed(hands, check.component)
    wait_for_delivery(run, profile)
    delivered = _listed(hands, check.component)
    run.do("reboot_terminal", hands.reboot_terminal)
    run.wait_for("first", 300, step_s=15)
    return before, delivered, _listed(hands, check.component), None
