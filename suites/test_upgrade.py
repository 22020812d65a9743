"""UPD-01 (when the upgrade is distributed) and UPD-04 (what the delivery list says), on each
face-auth reader's bench. The times probed come from the maker's profile: the first nightly
window, an excluded night, the daytime between, the all-day period and the manual download's
opening."""

from __future__ import annotations

import datetime as dt

import pytest

from harness.bench import Bench
from harness.flows.runner import FlowRun
from harness.flows.setup import delivered_version, morning, wait_for_delivery
from harness.hands import Hands
from harness.model.profiles import DeliveryVersionCheck, Profile, ProfileSet, ScheduleCheck
from harness.pytest_plugin import requirement_cases


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "schedule_case" in metafunc.fixturenames:
        metafunc.parametrize("schedule_case", requirement_cases(metafunc.config, ScheduleCheck))
    if "delivery_case" in metafunc.fixturenames:
        metafunc.parametrize("delivery_case", requirement_cases(metafunc.config, DeliveryVersionCheck))


def _at(day: dt.date, hhmm: str, tz: dt.tzinfo | None) -> dt.datetime:
    hour, minute = (int(x) for x in hhmm.split(":"))
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz)


class Probe:
    """A bench restored to before the upgrade at ``at`` and switched on."""

    def __init__(self, bench: Bench, hands: Hands, reader: str, profile: Profile,
                 at: dt.datetime) -> None:
        self.run = FlowRun(bench, hands, reader, "schedule", watch_terminal=True)
        self.hands = hands
        self.bench = bench
        self.profile = profile
        want = delivered_version(profile)
        assert want is not None, f"{profile.key}: no delivery_version check"
        self.component, self.version = want
        hands.restore("before_upgrade", at)
        morning(self.run, profile)

    def delivered(self) -> bool:
        return self.hands.delivery_list().get(self.component) == self.version

    def delivered_by(self, until: dt.datetime) -> bool:
        """Let bench time pass (checking every 10 minutes) until ``until``."""
        clock = self.bench.clock
        while not self.delivered():
            if clock.wallclock() >= until:
                return False
            self.hands.wait(min(600.0, (until - clock.wallclock()).total_seconds()))
        return True

    def manual_download_dialog(self) -> str | None:
        self.run.do("download_now", self.hands.download_now)
        self.run.wait_until(lambda r: bool(self.run.record.dialogs), 10, "a dialog",
                            terminal=True)
        return self.run.record.dialogs[-1].dialog if self.run.record.dialogs else None


def test_distribution_schedule(schedule_case, bench: Bench, hands: Hands,  # noqa: ANN001
                               profiles: ProfileSet) -> None:
    reader, maker, req_id = schedule_case
    profile = profiles[maker]
    check = next(c for c in profile.requirement(req_id).checks if isinstance(c, ScheduleCheck))
    tz = check.manual_from.tzinfo
    night = check.nightly_from
    while night in check.nightly_except:
        night += dt.timedelta(days=1)
    morning_after = night + dt.timedelta(days=1)
    problems: list[str] = []

    def probe(at: dt.datetime) -> Probe:
        return Probe(bench, hands, reader, profile, at)

    # A night of the window: nothing before it opens, the upgrade before it closes.
    p = probe(_at(night, check.window.start, tz) - dt.timedelta(minutes=10))
    if p.delivered_by(_at(night, check.window.start, tz) - dt.timedelta(minutes=1)):
        problems.append(f"delivered before the window opened ({night} {check.window.start})")
    elif not p.delivered_by(_at(morning_after, check.window.end, tz)):
        problems.append(f"not delivered in the window of the night of {night}")
    # The daytime between two nights: no distribution.
    p = probe(_at(morning_after, check.window.end, tz) + dt.timedelta(minutes=30))
    if p.delivered_by(_at(morning_after, check.window.start, tz) - dt.timedelta(minutes=5)):
        problems.append(f"delivered in the daytime of {morning_after}, outside the window")
    # An excluded night: none all night.
    for skipped in check.nightly_except:
        p = probe(_at(skipped, check.window.start, tz) - dt.timedelta(minutes=10))
        if p.delivered_by(_at(skipped + dt.timedelta(days=1), check.window.end, tz)):
            problems.append(f"delivered on the night of {skipped}, which is excluded")
    # All day from all_day_from: in the morning too.
    p = probe(_at(check.all_day_from, "10:00", tz))
    if not p.delivered_by(_at(check.all_day_from, "13:00", tz)):
        problems.append(f"not delivered on the morning of {check.all_day_from} (all day)")
    # Manual download: refused before manual_from, accepted after.
    p = probe(check.manual_from - dt.timedelta(hours=1))
    early = p.manual_download_dialog()
    p.hands.wait(3600 + 600)
    late = p.manual_download_dialog()
    if early == "download_request_accepted":
        problems.append(f"a manual download was accepted before {check.manual_from}")
    if late != "download_request_accepted":
        problems.append(f"a manual download after {check.manual_from} showed {late or 'nothing'}"
                        ", not ダウンロード依頼の受付")
    assert not problems, f"{req_id}: " + "; ".join(problems)


def test_delivery_list_version(delivery_case, bench: Bench, hands: Hands,  # noqa: ANN001
                               profiles: ProfileSet) -> None:
    """UPD-04: the delivery list shows the version once downloaded, and after the reboot."""
    from harness.flows.setup import schedule_of, window_evening

    reader, maker, req_id = delivery_case
    profile = profiles[maker]
    check = next(c for c in profile.requirement(req_id).checks
                 if isinstance(c, DeliveryVersionCheck))
    schedule = schedule_of(profile)
    assert schedule is not None, f"{maker}: no distribution_schedule check"
    p = Probe(bench, hands, reader, profile, window_evening(schedule))
    before = hands.delivery_list().get(check.component)
    assert before != check.version, \
        f"{req_id}: {check.component} already shows {before} before any delivery"
    assert wait_for_delivery(p.run, profile), f"{req_id}: " + "; ".join(p.run.record.problems)
    hands.reboot_terminal()
    p.run.wait_for("first", 300, step_s=15)
    after = hands.delivery_list().get(check.component)
    assert after == check.version, \
        f"{req_id}: after the upgrade and the reboot {check.component} shows {after}"
