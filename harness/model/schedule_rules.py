"""UPD-01 (when the upgrade is distributed) and UPD-04 (what the delivery list shows): where to
look, and the verdicts on what was seen.

Pure functions. :func:`schedule_probes` turns a :class:`ScheduleCheck` into probes at every
edge of the schedule, both sides of each: the bench restored to before the upgrade at a
probe's ``start``, switched on, and the delivery list looked at *at* each checkpoint (so an
edge is judged at the edge, not sampled near it):

- every night: nothing a second before the window opens, and the upgrade within
  :data:`FINISH` of its opening; the first and the last night: a terminal switched on
  :data:`LEAD` before the window closes still gets it (within :data:`FINISH` of the close);
- the morning a night closes: nothing until the next night opens (while nights remain);
- each excluded night, and the night before the first: nothing all night;
- the daytime before all-day delivery starts: nothing; its first morning: the upgrade;
- the manual download a second before ``manual_from`` (not accepted: a dialog that says
  so, never ダウンロード依頼の受付 or the ready dialog; no dialog is not known) and a second
  after (accepted: ダウンロード依頼の受付); a press that reached the other side of the edge
  (a person's takes a while) is not judged: an error, not a verdict.

The delivery list shows the upgrade once it is downloaded and installed, not when the
download started, and the notices give the window, not how soon inside it a terminal is
served nor how long the download takes. So a terminal is switched on :data:`EARLY` before a
window opens (a download started too early has finished by the edge), and :data:`FINISH` is
the rig's allowance inside an open window: an edge moved by less than the download time (or
than ``FINISH`` minus it) is not seen.
"""

from __future__ import annotations

import datetime as dt

import attrs

from harness.model.profiles import DeliveryVersionCheck, Requirement, ScheduleCheck
from harness.model.verdict import Evidence, Verdict

#: The dialog of an accepted manual download request (ダウンロード依頼の受付).
ACCEPTED = "download_request_accepted"
#: Dialogs that say a request was taken: that one, and the ready dialog it leads to (a tool
#: that answers a request before 13:00 with 確認しました took it as much).
TAKEN = (ACCEPTED, "update_ready")
#: How far either side of an edge the probes look: the edge, to the second.
EDGE = dt.timedelta(seconds=1)
#: A probe starts this long before its first checkpoint (the bench's start-up fits in it).
LEAD = dt.timedelta(minutes=10)
#: Inside an open window the upgrade must have arrived this long after the probe's edge.
FINISH = dt.timedelta(hours=1)
#: The terminal is on this long before a window opens, so that a distribution that starts
#: early has finished (and shows on the list) by the edge.
EARLY = dt.timedelta(hours=2)
#: The manual download is asked this long before and after ``manual_from``: its edge, to
#: the second (13時から: a terminal that takes it at 12:59:30, or not until 13:00:50, fails).
MANUAL_EDGE = EDGE


@attrs.frozen
class Checkpoint:
    at: dt.datetime
    #: Whether the rule wants the upgrade delivered by ``at``.
    delivered: bool
    why: str


@attrs.frozen
class DeliveryProbe:
    #: The bench is restored to before the upgrade and switched on at this time.
    start: dt.datetime
    checkpoints: tuple[Checkpoint, ...]


@attrs.frozen
class ManualProbe:
    at: dt.datetime
    accepted: bool
    why: str


@attrs.frozen
class DeliverySeen:
    """What one delivery probe saw: whether the list showed the upgrade at each checkpoint
    (None: the probe ended before it, e.g. the bench could not be switched on)."""

    probe: DeliveryProbe
    at_checkpoints: tuple[bool | None, ...]
    #: The first look that saw it delivered.
    first_seen: dt.datetime | None = None
    problem: str | None = None


@attrs.frozen
class ManualSeen:
    probe: ManualProbe
    #: When the button was pressed, and the dialog the tool showed (None: none came).
    pressed: dt.datetime | None
    dialog: str | None
    problem: str | None = None
    #: When the hands had pressed it (a person's press takes a while; None: at ``pressed``).
    pressed_until: dt.datetime | None = None


def _at(day: dt.date, hhmm: str, tz: dt.tzinfo | None) -> dt.datetime:
    hour, minute = (int(x) for x in hhmm.split(":"))
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz)


def nights(check: ScheduleCheck) -> list[dt.date]:
    """The nights of the nightly period, the excluded ones left out."""
    days = (check.nightly_to - check.nightly_from).days + 1
    return [d for d in (check.nightly_from + dt.timedelta(days=i) for i in range(days))
            if d not in check.nightly_except]


def _opens(check: ScheduleCheck, night: dt.date) -> dt.datetime:
    return _at(night, check.window.start, check.manual_from.tzinfo)


def _closes(check: ScheduleCheck, night: dt.date) -> dt.datetime:
    end = _at(night, check.window.end, check.manual_from.tzinfo)
    return end + dt.timedelta(days=1) if end <= _opens(check, night) else end


def schedule_probes(check: ScheduleCheck) -> tuple[list[DeliveryProbe], list[ManualProbe]]:
    tz = check.manual_from.tzinfo
    probes: list[DeliveryProbe] = []
    held = nights(check)
    edges = dict.fromkeys([held[0], held[-1]]) if held else {}
    for night in held:
        opens, closes = _opens(check, night), _closes(check, night)
        window = f"the window of the night of {night} ({check.window.start} to " \
                 f"{check.window.end})"
        # Every night opens (a night left out in the middle is as wrong as the first).
        probes.append(DeliveryProbe(opens - EARLY, (
            Checkpoint(opens - EDGE, False, f"{window} is not open yet"),
            Checkpoint(opens + FINISH, True, f"{window} is open")),))
        if night not in edges:
            continue
        after = closes.date()
        if after < check.all_day_from:  # (else all-day delivery hides the close)
            lead = f"{LEAD.total_seconds() / 60:g} min"
            probes.append(DeliveryProbe(closes - LEAD, (
                Checkpoint(closes + FINISH, True, f"{window} is still open {lead} before "
                                                  f"it closes"),)))
            next_opens = _at(after, check.window.start, tz)
            probes.append(DeliveryProbe(closes, (
                Checkpoint(next_opens - EDGE, False,
                           f"the window closes at {check.window.end} on {after}; nothing "
                           f"is distributed in that day's daytime"),)))
    for skipped in check.nightly_except:
        probes.append(_dark_night(check, skipped, f"the night of {skipped} is excluded"))
    # The nights just outside the period: the notice's 「1月19日(月)から配信を開始」 is the
    # first night's 'not before' (the night after the last is all-day delivery, if it
    # follows at once).
    if held:
        before = check.nightly_from - dt.timedelta(days=1)
        probes.append(_dark_night(check, before, f"distribution starts on the night of "
                                                 f"{check.nightly_from}, not {before}"))
        after = check.nightly_to + dt.timedelta(days=1)
        # Only a night that closes before all-day delivery starts (its midnight).
        if _closes(check, after).date() < check.all_day_from:
            probes.append(_dark_night(check, after, f"the last night is {check.nightly_to}"))
    # The daytime before all-day delivery starts: nothing; its first morning: delivered.
    eve = check.all_day_from - dt.timedelta(days=1)
    day_start = _at(eve, check.window.end, tz)
    probes.append(DeliveryProbe(day_start, (
        Checkpoint(_at(eve, check.window.start, tz) - EDGE, False,
                   f"all-day distribution starts on {check.all_day_from}, not {eve}"),)))
    first_day = _at(check.all_day_from, check.window.end, tz)
    probes.append(DeliveryProbe(first_day, (
        Checkpoint(_at(check.all_day_from, "12:00", tz), True,
                   f"distributed all day from {check.all_day_from}"),)))
    manual = [ManualProbe(check.manual_from - MANUAL_EDGE, False,
                          f"manual download opens at {check.manual_from:%Y-%m-%d %H:%M:%S}"),
              ManualProbe(check.manual_from + MANUAL_EDGE, True,
                          f"manual download is open from {check.manual_from:%Y-%m-%d %H:%M:%S}")]
    return probes, manual


def _dark_night(check: ScheduleCheck, night: dt.date, why: str) -> DeliveryProbe:
    """A night nothing is distributed: on before it opens, nothing by its close."""
    return DeliveryProbe(_opens(check, night) - EARLY,
                         (Checkpoint(_closes(check, night), False, why),))


def _stamp(t: dt.datetime) -> str:
    return t.strftime("%m-%d %H:%M:%S")


def judge_schedule(requirement: Requirement, maker: str, reader: str,
                   deliveries: list[DeliverySeen], manuals: list[ManualSeen]) -> Verdict:
    problems: list[str] = []
    errors: list[str] = []
    observed: list[str] = []
    rows: list[tuple[str, ...]] = [SCHEDULE_COLUMNS]
    for seen in deliveries:
        if seen.problem is not None:
            errors.append(f"the probe from {_stamp(seen.probe.start)}: {seen.problem}")
        first = _stamp(seen.first_seen) if seen.first_seen else "never"
        observed.append(f"restored at {_stamp(seen.probe.start)}: delivered first seen {first}")
        for cp, got in zip(seen.probe.checkpoints, seen.at_checkpoints, strict=True):
            rows.append(_delivery_row(seen, cp, got, first))
            if got is None:
                errors.append(f"not looked at {_stamp(cp.at)} ({cp.why})")
            elif got and not cp.delivered:
                problems.append(f"delivered by {_stamp(cp.at)} (first seen {first}); {cp.why}")
            elif cp.delivered and not got:
                problems.append(f"not delivered by {_stamp(cp.at)}; {cp.why}")
    for seen in manuals:
        if seen.problem is not None or seen.pressed is None:
            errors.append(f"manual download at {_stamp(seen.probe.at)}: "
                          f"{seen.problem or 'not asked'}")
            rows.append(_manual_row(seen, f"not judged: {seen.problem or 'not asked'}"))
            continue
        observed.append(f"manual download at {_stamp(seen.pressed)}: {seen.dialog or 'no dialog'}")
        done = seen.pressed_until or seen.pressed
        before = not seen.probe.accepted
        edge = seen.probe.at + (MANUAL_EDGE if before else -MANUAL_EDGE)
        if (done >= edge) if before else (seen.pressed < edge):
            # A press that reached the other side of the edge (a person's takes a while)
            # judges nothing of this side.
            errors.append(f"manual download asked at {_stamp(seen.probe.at)} was pressed "
                          f"{_stamp(seen.pressed)} to {_stamp(done)}, across "
                          f"{_stamp(edge)}: not judged")
            rows.append(_manual_row(seen, f"not judged: pressed until {_stamp(done)}, "
                                          f"across {_stamp(edge)}"))
            continue
        if before and seen.dialog is None:
            errors.append(f"manual download at {_stamp(seen.pressed)}: no dialog came, so "
                          "whether the request was refused is not known")
            rows.append(_manual_row(seen, "not judged: no dialog came"))
            continue
        accepted = seen.dialog == ACCEPTED if seen.probe.accepted else seen.dialog in TAKEN
        rows.append(_manual_row(seen, OK if accepted == seen.probe.accepted else FAILED))
        if accepted != seen.probe.accepted:
            got = "accepted" if accepted else f"not accepted ({seen.dialog or 'no dialog'})"
            problems.append(f"a manual download at {_stamp(seen.pressed)} was {got}; "
                            f"{seen.probe.why}")
    if not deliveries and not manuals:
        errors.append("nothing was probed")
    return Verdict.of(requirement.id, maker, reader, expected=requirement.statement,
                      seen="; ".join(observed) or "nothing was probed",
                      problems=problems, errors=errors,
                      evidence=Evidence(observed=tuple(observed),
                                        table=tuple(rows) if len(rows) > 1 else ()))


#: The schedule's evidence as the report's table shows it: a row per look the rule judged
#: (a night's edge, a manual download), instead of one line of them all.
SCHEDULE_COLUMNS = ("Bench restored to", "Looked at", "The schedule", "Should be", "Seen",
                    "Upgrade first seen", "Verdict")
OK, FAILED = "as required", "FAILED"


def _delivery_row(seen: DeliverySeen, cp: Checkpoint, got: bool | None,
                  first: str) -> tuple[str, ...]:
    def shown(delivered: bool) -> str:
        return "delivered" if delivered else "not delivered"

    verdict = f"not judged: {seen.problem or 'not looked at'}" if got is None else \
        OK if got == cp.delivered else FAILED
    return (_stamp(seen.probe.start), _stamp(cp.at), cp.why, shown(cp.delivered),
            "not looked at" if got is None else shown(got), first, verdict)


def _manual_row(seen: ManualSeen, verdict: str) -> tuple[str, ...]:
    pressed = _stamp(seen.pressed) if seen.pressed else f"{_stamp(seen.probe.at)} (asked)"
    should = "accepted" if seen.probe.accepted else "not accepted"
    return ("manual download", pressed, seen.probe.why, should,
            seen.dialog or "no dialog", "", verdict)


def judge_delivery(requirement: Requirement, maker: str, reader: str,
                   check: DeliveryVersionCheck, before: str | None, delivered: str | None,
                   after_reboot: str | None, problem: str | None = None) -> Verdict:
    """UPD-04: not the version before any delivery; the version once delivered, and after
    the terminal's reboot (None: the list had no row for the component). ``problem``: the
    bench could not be brought to the delivery (an error, never a pass)."""
    def shown(v: str | None) -> str:
        return v or "no row"

    seen = (f"{check.component}: before delivery {shown(before)}, once delivered "
            f"{shown(delivered)}, after the reboot {shown(after_reboot)}")
    errors = [f"{check.component} already shows {before} before any delivery: the list "
              f"cannot show the delivery"] if before == check.version else []
    if problem is not None:
        errors.append(problem)
    problems = [f"{check.component} shows {shown(v)} {when}, not {check.version}"
                for v, when in ((delivered, "once delivered"), (after_reboot, "after the reboot"))
                if v != check.version]
    return Verdict.of(requirement.id, maker, reader, expected=requirement.statement,
                      seen=seen, problems=problems, errors=errors,
                      evidence=Evidence(observed=(seen,)))
