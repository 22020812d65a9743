"""Bringing a bench to where a flow starts: a fresh morning and the flow's preconditions.

Every flow run starts from a restored bench (the terminal's image from before or after the
upgrade, the clock where the flow needs it), so that one flow's trouble never becomes the
next one's, switched on by the run's maker's own routine (:mod:`harness.flows.power_on`,
from its profile). Setting up follows the notices' procedures and then observes: what did
not come is recorded on the run (``FlowRecord.unmet``) and fails its checks; no power
button, no terminal restart the procedure does not contain. The bench file's ``power_on``
steps are the BOOT suite's business, not this routine's.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import TYPE_CHECKING

from harness.flows.pairing_evidence import CardWatch
from harness.flows.power_on import PowerRoutine, power_on
from harness.flows.renewal import restore_at
from harness.flows.runner import FlowRun
from harness.model.profiles import Profile, ProfileSet, ScheduleCheck, default_profiles_dir

if TYPE_CHECKING:
    from harness.bench import Bench
    from harness.hands import Hands

#: Bench seconds for a panel to light once the lab has lit it for the camera.
SETTLE_AFTER_LIGHTING_S = 120.0
#: Bench seconds for the reader to come back to its first screen after a restart.
RESTART_SETTLE_S = 60.0
#: UPD-07 (notice 7福薬業発第367号 記 2: 日々の診療等の開始前に自動で再起動): the notice gives no times. The
#: terminal is set to restart by itself at DAILY_RESTART, after the night's distribution
#: window (to 05:00) and before the day's practice, which opens at PRACTICE_OPENS (Japan).
DAILY_RESTART = dt.time(7, 0)
PRACTICE_OPENS = dt.time(9, 0)
#: Bench seconds for the smartphone button after pairing's restart: the management app's,
#: or the terminal's (its boot and the reader's link included).
PAIRING_SETTLE_S = {"management_app": 30.0, "terminal": 300.0}


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
    if "upgrade_data_missing" in given and schedule is not None:
        # UPD-08: the image whose upgrade lacks its data, once the manual download is open
        # (the notice's remedy) and outside any nightly window.
        run.hands.restore("upgrade_without_data", schedule.manual_from + dt.timedelta(hours=1))
    elif flow == "upgrade_manual" and schedule is not None:
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
    elif flow == "network_renewal" and (at := restore_at(bench, profile)) is not None:
        # NET-01: the terminal's clock set to just before the network scenario.
        run.hands.restore("after_upgrade", at)
    else:
        restore_morning(bench, run.hands)


def restore_morning(bench: Bench, hands: Hands) -> None:
    """The upgraded image, on the bench file's morning (a real bench keeps its clock)."""
    hands.restore("after_upgrade", bench.spec.clock.start if bench.emulated else None)


def morning(run: FlowRun, profile: Profile | None = None, *, keep_off: tuple[str, ...] = (),
            expect_first: bool = True) -> bool:
    """The bench switched on by the run's maker's routine (``profile``; without one, the
    profile of the reader's maker), then the reader observed: True if it shows its first
    screen. With ``expect_first``, not showing it is an unmet precondition of the run."""
    if profile is None:
        profile = maker_profile(run)
    return power_on(run, PowerRoutine.of(profile), keep_off=keep_off,
                    expect_first=expect_first)


def maker_profile(run: FlowRun) -> Profile | None:
    """The profile of the run's reader's maker (the project's profiles); None, and an unmet
    precondition, when there is none: its routine is unknown."""
    maker = run.bench.reader(run.reader).maker
    profiles = _project_profiles()
    if maker in profiles:
        return profiles[maker]
    run.record.unmet.append(f"no profile for {run.reader}'s maker {maker!r}: its power-on "
                            "routine is unknown (switched on by the neutral routine)")
    return None


@functools.cache
def _project_profiles() -> ProfileSet:
    return ProfileSet.load(default_profiles_dir())


def light_the_panel(run: FlowRun) -> bool:
    """Before the first run on a camera that has not yet seen its reader's screen (a run
    may never light it: ERR-07's unpowered reader, a reader that does not start): the lab
    shows the camera the lit panel once, so that it knows where the panel is and can tell a
    dark one. Everything is switched on; if the panel stays dark, the lab lights it as it
    can (the reader's power button, then a terminal restart). This is the camera's
    calibration, not a flow: nothing of it is recorded on the run, and the run then
    restores the bench afresh and switches it on by the maker's routine only. True if the
    camera knows the panel."""
    if run.eyes.keeper.calibration is not None:
        return True
    bench, hands = run.bench, run.hands
    restore_morning(bench, hands)
    for name in bench.spec.switchable():
        bench.switch(name, True)
    for light in (None, lambda: hands.press_power_button(run.reader), hands.reboot_terminal):
        if light is not None:
            light()
        hands.wait(SETTLE_AFTER_LIGHTING_S)
        run.eyes.look()  # any screen it recognises lit tells it where the panel is
        if run.eyes.keeper.calibration is not None:
            return True
    run.problem(f"{bench.camera_on(run.reader)} never saw {run.reader}'s screen lit: it "
                "cannot tell a dark panel from no panel")
    return False


def restarted(run: FlowRun, why: str, settle_s: float = RESTART_SETTLE_S) -> bool:
    """After a restart the procedure asks for: the first screen ``settle_s`` later,
    observed, not helped; else an unmet precondition with what was shown."""
    reading = run.wait(settle_s)
    if reading.shows == "first":
        return True
    run.record.unmet.append(f"{why}: the reader showed {reading.state} {settle_s:g} s later, "
                            "not its first screen")
    return False


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
            case "update_target_distribution_app":
                hands.offer_update("distribution_app")
            case "no_passcode_issued":
                pass  # a restored bench has none: the passcode comes only from issue_passcode
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
            case "daily_restart_scheduled":
                hands.schedule_restart(DAILY_RESTART)
            case "passcode_issued":
                issue_passcode(run)
                # Seed 002: ※職員用ボタンを表示させるためには、顔認証付きカードリーダーの再起動を
                # する必要があります (the reader, not the terminal).
                hands.restart_reader(run.reader)
                restarted(run, "restarted after the passcode was issued")
            case "passcode_first_issue":
                issue_passcode(run)
            case "paired":
                general = run.general_reader()
                pair(run, profile, general)
                if general is not None and not restart_after_pairing(run, profile):
                    run.record.unmet.append(
                        f"paired as SP-04's procedure says (then restarted: "
                        f"{pairing_target(profile)}), the smartphone button did not show: "
                        f"the reader showed {run.last.state if run.last else 'nothing'}")
            case "network_stuck_pc":
                hands.network_stuck("pc_stuck")
            case "network_stuck_router":
                hands.network_stuck("router_stuck")
            case "long_outage":
                hands.outage("long", 2 * 3600)
            case "intermittent_outage":
                hands.outage("intermittent")


def issue_passcode(run: FlowRun) -> None:
    """目視確認用パスコード発行: the passcode kept on the run for the staff to type; the record
    keeps only how many digits it has (AUTH-03, AUTH-05: 4)."""
    run.passcode = run.hands.issue_passcode()
    run.record.passcode_digits = len(run.passcode)


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
    listed = run.hands.await_delivery(component, version, timeout_s)
    if listed.get(component) != version:
        run.problem(f"the upgrade ({component} {version}) was not delivered within "
                    f"{timeout_s / 3600:g} h of bench time; the delivery list showed "
                    f"{component} {listed.get(component) or 'absent'}")
        return False
    return True


def pairing_target(profile: Profile) -> str:
    return profile.pairing_restart() or "nothing (the profile names no restart)"


def pair_and_restart(run: FlowRun, profile: Profile, general: str | None) -> list[str]:
    """SP-04's procedure: :func:`pair`, then :func:`restart_after_pairing`."""
    shown = pair(run, profile, general)
    if general is not None:
        restart_after_pairing(run, profile)
    return shown


def pair(run: FlowRun, profile: Profile, general: str | None) -> list[str]:
    """Seed 002 接続設定概要 1-4: the general reader paired in the maker's app, with the 置いた
    step where the maker's procedure has it (USEN-ALMEX: the profile says, never the app:
    an app that wants it from another maker refuses the clinic's pairing). The general
    reader's names the app showed."""
    if general is None:
        run.problem("the bench has no general reader to pair")
        return []
    run.record.paired_in = run.hands.pairing_app(run.reader)
    run.record.paired_general = general
    # SP-06: the card's traffic on the general reader while the pairing runs.
    watch = CardWatch(run.bench, general)
    placed_first = profile.pairing_placed_first()
    shown = run.hands.pair(run.reader, general, run.patient, placed_first=placed_first)
    run.record.pairing_placed = run.hands.pairing_placed(run.reader) if placed_first else None
    run.record.card_apdus = watch.transcript()
    run.record.card_apdus_unseen = watch.unseen or None
    run.record.pairing_outcome = run.hands.pairing_outcome(run.reader)
    return shown


def restart_for_pairing(run: FlowRun, profile: Profile) -> str | None:
    """Seed 002 接続設定概要 5: the restart the maker's profile names, done; what it was
    (None, and an unmet precondition, when the profile names none: it is not guessed)."""
    hands = run.hands
    target = profile.pairing_restart()
    if target is None:
        run.record.unmet.append(f"{profile.key}: its pairing check names no restart "
                                "(restart: terminal | management_app)")
        return None
    if target == "management_app":
        run.do("restart:management_app", lambda: hands.restart_management_app(run.reader))
    else:
        run.do("restart:terminal", hands.reboot_terminal)
    return target


def restart_after_pairing(run: FlowRun, profile: Profile) -> bool:
    """Seed 002 接続設定概要 5: restart what the maker's profile says (the terminal; Panasonic
    and ALMEX: the management app) and nothing more, then watch (bounded) for the smartphone
    button. True if it showed; whether that passes is for the checks to judge."""
    target = restart_for_pairing(run, profile)
    if target is None:
        return False
    return run.wait_until(lambda r: r.shows == "first" and "smartphone" in r.buttons,
                          PAIRING_SETTLE_S[target],
                          f"the first screen with the smartphone button after the {target}"
                          " restart", step_s=15)
