"""Bringing a bench to where a flow starts: a fresh morning and the flow's preconditions.

Every flow run starts from a restored bench (the terminal's image from before or after the
upgrade, the clock where the flow needs it), switched on the way that works for any maker,
so that one flow's trouble never becomes the next one's. Boot order itself is the BOOT
suite's business: this routine does not follow the bench file's ``power_on`` steps.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from harness.flows.runner import FlowRun
from harness.model.profiles import Profile, ScheduleCheck

if TYPE_CHECKING:
    from harness.bench import Bench
    from harness.hands import Hands

#: Bench seconds the readers get to start before the terminal is switched on.
READER_LEAD_S = 45.0


def schedule_of(profile: Profile) -> ScheduleCheck | None:
    for req in profile.requirements:
        for check in req.checks:
            if isinstance(check, ScheduleCheck):
                return check
    return None


def window_evening(schedule: ScheduleCheck) -> dt.datetime:
    """Ten minutes before the first nightly window opens (Japan time)."""
    tz = schedule.manual_from.tzinfo
    hour, minute = (int(x) for x in schedule.window.start.split(":"))
    night = schedule.nightly_from
    while night in schedule.nightly_except:
        night += dt.timedelta(days=1)
    opens = dt.datetime(night.year, night.month, night.day, hour, minute, tzinfo=tz)
    return opens - dt.timedelta(minutes=10)


def restore_for(run: FlowRun, profile: Profile, flow: str, given: tuple[str, ...]) -> None:
    """The image and clock the flow and its givens need; otherwise the upgraded image on
    the bench file's morning."""
    bench = run.bench
    schedule = schedule_of(profile)
    if flow == "upgrade_manual" and schedule is not None:
        # A manual download after it opens, outside any nightly window (so the tool, not
        # the nightly delivery, fetches the upgrade).
        run.hands.restore("before_upgrade", schedule.manual_from + dt.timedelta(hours=1))
    elif {"upgrade_pending_reboot", "in_distribution_window"} & set(given):
        if schedule is None:
            run.problem(f"{profile.key}: no distribution_schedule check to find a window in")
            run.hands.restore("before_upgrade")
            return
        run.hands.restore("before_upgrade", window_evening(schedule))
    elif "before_manual_download" in given and schedule is not None:
        run.hands.restore("before_upgrade", schedule.manual_from - dt.timedelta(hours=1))
    else:
        restore_morning(bench, run.hands)


def restore_morning(bench: Bench, hands: Hands) -> None:
    """The upgraded image, on the bench file's morning (a real bench keeps its clock)."""
    hands.restore("after_upgrade", bench.spec.clock.start if bench.emulated else None)


def morning(run: FlowRun, *, keep_off: tuple[str, ...] = (), helped: bool = True) -> bool:
    """Readers on, the terminal once they have started, the receipt computer last; then
    the run's reader is expected on its first screen. A reader that stays dark is given
    its power button; one left waiting for the terminal gets a terminal restart."""
    bench, hands = run.bench, run.hands
    switchable = bench.spec.switchable()
    terminal = bench.spec.terminal.name
    readers = [r.name for r in bench.spec.readers
               if r.kind == "face_auth_reader" and r.name in switchable]
    for name in readers:
        if name not in keep_off:
            bench.switch(name, True)
    hands.wait(READER_LEAD_S)
    if terminal in switchable:
        bench.switch(terminal, True)
    if run.reader in keep_off or not helped:
        run.wait(120)
    else:
        reader_up(run)
    rc = bench.spec.receipt_computer
    if rc is not None and rc.name in switchable:
        bench.switch(rc.name, True)
    return run.last is not None and run.last.shows == "first"


def reader_up(run: FlowRun, settle_s: float = 120.0) -> None:
    """After switching on or restarting: the first screen, with the help a person gives a
    reader left dark (its power button) or waiting for the terminal (a terminal restart)."""
    if run.wait(settle_s).shows == "first":
        return
    # Dark, or nothing the camera can place (a panel never lit has not shown where the
    # screen is): what a person would try first is the reader's own power button.
    if run.last_blank or (run.last is not None and run.last.shows is None):
        run.hands.press_power_button(run.reader)
        if run.wait_for("first", 120, step_s=15):
            return
    if run.last is not None and run.last.shows in ("link_wait", "starting"):
        run.hands.reboot_terminal()
        run.wait_for("first", 240, step_s=15)


def arrange_before_power(run: FlowRun, given: tuple[str, ...]) -> None:
    hands = run.hands
    for name in given:
        match name:
            case "reader_software_outdated":
                hands.old_reader_software(run.reader)
            case "distribution_disabled":
                hands.distribution_disabled(True)
            case "wrong_account":
                hands.account(right=False)
            case "usb_cable_out":
                hands.usb_cable(run.reader, plugged=False)
            case "network_down_at_start":
                hands.lan_cable(seated=False)
            case "no_general_reader":
                for general in run.bench.spec.readers:
                    if general.kind == "general_reader":
                        hands.usb_cable(general.name, plugged=False)


def arrange_after_power(run: FlowRun, profile: Profile, given: tuple[str, ...]) -> None:
    hands = run.hands
    for name in given:
        match name:
            case "upgrade_pending_reboot":
                wait_for_delivery(run, profile)
            case "passcode_issued":
                run.passcode = hands.issue_passcode()
                hands.restart_reader(run.reader)
                reader_up(run, 60)
            case "passcode_first_issue":
                run.passcode = hands.issue_passcode()
            case "paired":
                pair_and_restart(run, run.general_reader())
            case "long_outage":
                hands.outage("long", 2 * 3600)
            case "intermittent_outage":
                hands.outage("intermittent")


def delivered_version(profile: Profile) -> tuple[str, str] | None:
    from harness.model.profiles import DeliveryVersionCheck

    for req in profile.requirements:
        for check in req.checks:
            if isinstance(check, DeliveryVersionCheck):
                return check.component, check.version
    return None


def wait_for_delivery(run: FlowRun, profile: Profile, timeout_s: float = 12 * 3600) -> bool:
    """Let the night pass until the delivery list shows the upgrade (UPD-04)."""
    want = delivered_version(profile)
    if want is None:
        run.problem(f"{profile.key}: no delivery_version check: cannot tell when it arrived")
        return False
    component, version = want
    waited = 0.0
    while run.hands.delivery_list().get(component) != version:
        if waited >= timeout_s:
            run.problem(f"the upgrade ({component} {version}) was not delivered within "
                        f"{timeout_s / 3600:g} h of bench time")
            return False
        run.hands.wait(600)
        waited += 600
    return True


def pair_and_restart(run: FlowRun, general: str | None) -> list[str]:
    """SP-04 as a person does it: pair in the maker's app, restart the app, and if the
    smartphone button still does not show, restart the terminal."""
    if general is None:
        run.problem("the bench has no general reader to pair")
        return []
    hands = run.hands
    shown = hands.pair(run.reader, general, run.patient)
    hands.restart_management_app(run.reader)
    if "smartphone" in run.wait(2).buttons:
        return shown
    hands.reboot_terminal()
    run.wait_until(lambda r: r.shows == "first" and "smartphone" in r.buttons, 300,
                   "the first screen with the smartphone button", step_s=15)
    return shown
