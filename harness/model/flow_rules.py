"""Flow checks of the profiles, judged against what a flow was seen to do.

Pure functions (DESIGN.md principle 5): a :class:`~harness.model.profiles.FlowCheck` and a
:class:`~harness.model.observed.FlowRecord` in, the problems out (none: the check holds).
Each problem says what was expected and what was seen.

How a check reads:
- ``screens`` must be seen in this order (other screens may come between);
- ``dialogs`` likewise on the terminal, each closed with its ``press`` button;
- ``never``: no screen of these classes; ``result``: what reached the receipt computer.
A screen the camera did not recognise stands for a step's screen only where the step asks
for texts: when it is nearest that screen's references, or shows one of the step's texts.

Texts are judged on what was read off the screen, never on what its reference says: each
text a check expects was judged on the screen when it came (a
:class:`~harness.model.observed.TextFinding`: glyph by glyph where the panel's rendering is
known, else by OCR), and a text nothing judged counts as not shown, or, for a text that
must be absent, as a failure to judge (fail closed). Expected texts must stand in the
notice's order: top to bottom, left to right on one line.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import attrs

from harness.model.claims import done_claim, limit_ask
from harness.model.guard_rules import guard_problems
from harness.model.observed import Action, FlowRecord, SeenDialog, SeenScreen, TextFinding
from harness.model.pairing_rules import (
    check_card_reads,
    check_pairing_placed,
    check_pairing_refused,
    check_phone_read,
    transcript_lines,
)
from harness.model.path_rules import check_screens_as, first_visit, screens_of
from harness.model.path_rules import describe as describe_screens_as
from harness.model.phone_rules import check_phone_read_on, hold_lines
from harness.model.profiles import (
    DialogStep,
    FlowCheck,
    PinCount,
    PressCount,
    Requirement,
    Response,
    ScreenStep,
)
from harness.model.recovery_rules import check_escalation
from harness.model.renewal_rules import check_renewal
from harness.model.verdict import Evidence, Verdict
from harness.model.visit_rules import (
    BACK,
    backs_not_back,
    error_card_outs_astray,
    screen_changed,
    unidentified_visits,
)

#: Two texts whose tops are this close (screen pixels) stand on one line.
SAME_LINE_PX = 8.0
#: Two bench times this close are one moment (a look and the action logged right after it).
EPS_S = 1e-6
#: Seconds after a completion a slow terminal's result still counts as that visit's (until
#: the next visit's first step).
RESULT_LATE_S = 5.0


def judge_flow(requirement: Requirement, maker: str, check: FlowCheck, record: FlowRecord,
               subject: str | None = None, baseline: FlowRecord | None = None,
               guarded: Sequence[FlowRecord] = ()) -> Verdict:
    """The verdict of one flow check on the record of its flow (and, for ``screens_as``,
    the record of the flow it names: ``baseline``; for ``button_guard``, the records of
    every flow the profile drives: ``guarded``, else this one's)."""
    findings = text_lines(check, record)
    times = [t for s in record.screens for t in (s.t, s.until)] + [a.t for a in record.actions]
    frames = [s.frame for s in [*record.screens, *record.dialogs] if s.frame]
    evidence = Evidence(span=(min(times), max(times)) if times else None,
                        read=tuple(dict.fromkeys(findings)), frames=tuple(dict.fromkeys(frames)),
                        observed=(record.path(), record.dialog_path(),
                                  " ".join(f"{a.t:.1f}:{a.what}" for a in record.actions),
                                  *_pairing_observed(check, record),
                                  *results_observed(record),
                                  *_baseline_observed(check, baseline)),
                        windows=tuple(flow_windows(check, record)))
    problems = check_flow(check, record, baseline)
    seen = flow_seen(record)
    if check.button_guard is not None:
        records = guarded or [record]
        broken, judged = guard_problems(check.button_guard, records)
        problems += broken
        seen += (f"; the {check.button_guard.button} button judged on {judged} first "
                 f"screen(s) of {len(records)} flow run(s)")
    return Verdict.of(requirement.id, maker, subject or record.reader,
                      expected=f"{requirement.statement} [{describe_flow(check)}]",
                      seen=seen, problems=problems, evidence=evidence)


#: A driver's note of a bounded wait that ran out (FlowRun.wait_until's words).
_WAITED = re.compile(r"^waited (?P<s>\S+) s for (?P<what>.+); the reader showed (?P<path>.+)$")


def flow_seen(record: FlowRecord) -> str:
    """What a flow showed, said once: the reader's screens, the terminal's dialogs, what
    the receipt computer got, then what the rig itself met on the way, in plain words."""
    seen = f"flow {record.flow} on {record.reader}: {record.path()}"
    if record.dialogs:
        seen += f"; terminal: {record.dialog_path()}"
    if record.result is not None:
        seen += f"; receipt computer: {record.result}"
    path = record.path()
    return "".join([seen, *(f"; {plain_problem(p, path)}" for p in record.problems)])


def plain_problem(problem: str, path: str) -> str:
    """A driver's note as a report reads it: a wait that ran out is what the rig did, without
    the screens the line already gives (they are the same path, or its beginning)."""
    waited = _WAITED.match(problem)
    if waited is None:
        return f"the rig noted: {problem}"
    text = f"the rig waited {waited['s']} s for {waited['what']}: it did not come"
    showed = waited["path"]
    if path != showed and not path.startswith(f"{showed} -> "):
        text += f" (the reader showed {showed})"
    return text


def text_lines(check: FlowCheck, record: FlowRecord) -> list[str]:
    """The texts this check judged, each worded as what it is: ``must show X``, ``one of
    X / Y`` (the notice allows either), ``must not show X``, with what was read. A flow is
    read for every check driven on it (E901-05's texts are on UPD-03's 901 screen): only
    this check's own texts, on the screens its steps are, are its evidence."""
    steps = [*check.screens, *([check.renewal.error] if check.renewal is not None else [])]
    out: list[str] = []
    for step in steps:
        for seen in record.screens:
            if seen.is_step(step) or (seen.shows is None and seen.candidate == step.screen
                                   and bool(step.absent or step.no_done_claim
                                            or step.no_limit_ask)):
                out += _step_text_lines(step.texts + step.contains, step.contains_any,
                                        step.absent, seen)
    for dstep in check.dialogs:
        for dialog in record.dialogs:
            if dialog.dialog == dstep.dialog:
                out += _step_text_lines(dstep.texts, [], [], dialog)
    return list(dict.fromkeys(out))


def _how(f: TextFinding) -> str:
    """What was read and how it was judged, to follow the word: ``, read 【011】 (glyphs:
    ...)``, or `` (glyphs: ...)`` for glyphs verified in place (nothing else read)."""
    how = f"{f.method}: {f.detail}" if f.detail else f.method
    return f" ({how})" if f.found and not f.read else f", read {f.read or 'nothing'} ({how})"


def _step_text_lines(shown: list[str], any_of: list[str], absent: list[str],
                     seen: SeenScreen | SeenDialog) -> list[str]:
    """One screen's lines for a step's texts (a text nothing judged there: not listed)."""
    out = []
    for text in shown:
        f = seen.finding(text)
        if f is not None:
            out.append(f"must show {text}: {'shown' if f.found else 'NOT shown'}{_how(f)}")
    judged = [f for t in any_of if (f := seen.finding(t)) is not None]
    if judged:
        head = f"one of {' / '.join(any_of)} (either will do): "
        if not any(f.found for f in judged):
            head += "NONE shown: "
        out.append(head + "; ".join(
            f"{f.expected} {'shown' if f.found else 'not shown'}{_how(f)}" for f in judged))
    for text in absent:
        f = seen.finding(text)
        if f is None or f.method == "none":
            out.append(f"must not show {text}: not judged, the screen was not read")
        else:
            out.append(f"must not show {text}: {'SHOWN' if f.found else 'not shown'}{_how(f)}")
    return out


def _baseline_observed(check: FlowCheck, baseline: FlowRecord | None) -> tuple[str, ...]:
    """What ``screens_as`` compared this path with: the other flow's screens."""
    rule = check.screens_as
    if rule is None:
        return ()
    if baseline is None:
        return (f"{rule.flow}: not driven",)
    shown = first_visit(baseline, rule.screen).shown()
    return (f"{rule.flow}'s {rule.screen} screens: {shown} (of {baseline.path()})",)


def _pairing_observed(check: FlowCheck, record: FlowRecord) -> tuple[str, ...]:
    """What SP-06 and SP-07 were judged on: the pairing's transcript (redacted as recorded),
    the app's outcome, the phone read test."""
    out: list[str] = []
    if check.reads_no_personal_data:
        out += transcript_lines(record.card_apdus) or (
            f"no transcript ({record.card_apdus_unseen or 'none recorded'})",)
    if check.pairing_refused or check.placed_first is not None:
        out.append(f"pairing: {record.pairing_outcome or 'outcome not seen'}")
    if check.placed_first is not None:
        out.append("置いた: " + {True: "pressed, taken", False: "tried, none to press",
                               None: "not done"}[record.pairing_placed])
    if check.phone_read_test:
        read = record.phone_read
        out.append("phone read test: " + (
            f"{read.reader} at {read.t:.1f} s, {'read' if read.ok else 'not read'}, "
            f"{read.holder or '-'} ({read.detail})" if read else "none"))
    if check.phone_read_on is not None:
        out += hold_lines(record.phone_holds) or ("phone holds: none",)
    return tuple(out)


def flow_windows(check: FlowCheck, record: FlowRecord) -> list[tuple[float, float, str]]:
    """The windows the check's time rules looked at: a screen that must stay unchanged,
    from when it was first seen; a screen due after an action, from each time it was done."""
    out: list[tuple[float, float, str]] = []
    for step in check.screens:
        seen = next((x for x in record.screens if x.is_step(step)), None)
        if seen is not None and step.stays_s is not None:
            out.append((seen.t, seen.t + step.stays_s,
                        f"{step.screen} unchanged {step.stays_s:g} s"))
        if seen is not None and step.stays_until_press is not None:
            press = _press_to_stay_until(step, seen, record)
            if press is not None:
                out.append((seen.t, press.t, f"{step.screen} unchanged until "
                                             f"{_press_name(step.stays_until_press)}"))
        if step.upon is not None and step.within_s is not None:
            out += [(a.t, a.t + step.within_s,
                     f"{step.screen} within {step.within_s:g} s of {step.upon}")
                    for a in record.actions if a.what == step.upon]
    for dstep in check.dialogs:
        done = [a.done for a in record.actions if a.what == dstep.after_last]
        if dstep.within_s is not None and done:
            out.append((done[-1], done[-1] + dstep.within_s,
                        f"{dstep.dialog} within {dstep.within_s:g} s of the last "
                        f"{dstep.after_last}"))
    return out


def _response(rule: Response, record: FlowRecord) -> list[str]:
    """Every time ``rule.action`` was done, no screen of ``rule.never`` until the next
    action (or the next ``rule.until``, or a 戻る before it: the way the action was on is
    left, and the 戻る's own rule judges where it led; a patient's visit after it is not the
    staff's), and no unrecognised one (it could be one of them: fail closed)."""
    done = [i for i, a in enumerate(record.actions) if a.what == rule.action]
    if not done:
        return [f"{rule.action} was never tried in this flow, so what it brings is unknown"]
    problems: list[str] = []
    for i in done:
        t = record.actions[i].t
        ends = [a.t for a in record.actions[i + 1:]
                if rule.until is None or a.what in (rule.until, BACK)]
        until = ends[0] if ends else float("inf")
        # Stretches with a look after the action and first seen before the next action (a
        # stretch first seen at the very moment of the next action came from that one).
        after = [s for s in record.screens if s.until > t + EPS_S and s.t < until - EPS_S]
        if rule.by_itself:
            # Where the action led is another rule's (a 戻る one step back, the visit
            # rules'): what the reader goes on to from there with nobody acting is this one's.
            landed = next((k for k, s in enumerate(after) if s.t > t + EPS_S), len(after))
            after = after[landed + 1:]
            if not after:
                continue
        bad = [s for s in after if s.shows in rule.never or s.shows is None]
        if bad:
            problems.append(f"after {rule.action} at {t:.1f} s the reader showed "
                            f"{bad[0].label()} at {bad[0].t:.1f} s; it must not bring "
                            f"{', '.join(rule.never)}"
                            + (f" before {rule.until}" if rule.until else ""))
        elif not after:
            problems.append(f"nothing was seen after {rule.action} at {t:.1f} s")
    return problems


def describe_flow(check: FlowCheck) -> str:
    """The check in a line: ``card_visit: first -> face_auth -> ...; never consent``."""
    parts = [" -> ".join(step.screen for step in check.screens)] if check.screens else []
    if check.dialogs:
        parts.append("terminal: " + " -> ".join(map(_describe_dialog, check.dialogs)))
    if check.never:
        parts.append("never " + ", ".join(check.never))
    if check.never_dialogs:
        parts.append("no dialog " + ", ".join(check.never_dialogs))
    parts += [f"{r.action} never brings {', '.join(r.never)}"
              + (" by itself after where it led" if r.by_itself else "")
              + (f" before {r.until}" if r.until else "") for r in check.responses]
    if check.result is not None:
        parts.append(f"receipt computer gets {check.result}")
    if check.passcode_digits is not None:
        parts.append(f"a {check.passcode_digits}-digit passcode")
    if check.pairing_app is not None or check.pairing_button is not None:
        parts.append(f"paired in {check.pairing_app or 'its app'} with "
                     f"{check.pairing_button or 'its button'}")
    if check.not_paired_in:
        parts.append(f"not paired in {', '.join(check.not_paired_in)}")
    if check.reads_no_personal_data:
        parts.append("the card on the general reader: no personal data file selected or read")
    if check.pairing_refused:
        parts.append("the management app refuses the pairing")
    if check.placed_first is not None:
        parts.append("registered with the card into the face-auth reader and 置いた first"
                     if check.placed_first else
                     "registered with no 置いた step (not this maker's procedure)")
    if check.phone_read_test:
        parts.append("a staff phone read through PC/SC on the general reader paired")
    if check.phone_read_on == "general_reader":
        parts.append("the phone read on the paired general reader's PC/SC, as a phone, and "
                     "taken by the reader from there only")
    elif check.phone_read_on == "front":
        parts.append("the phone read on the face-auth reader's front, no general reader "
                     "seeing it, and taken from there only")
    if check.screens_as is not None:
        parts.append(describe_screens_as(check.screens_as))
    if check.button_guard is not None:
        guard = check.button_guard
        parts.append(f"every first screen of every flow driven shows the {guard.button} "
                     f"button exactly when the bench is {guard.shown_with.replace('_', ' ')}")
    if check.renewal is not None:
        parts.append(f"scenario {check.renewal.scenario}: no check in a cut, the long cut "
                     f"shows {check.renewal.error.screen}, a retry after a cut goes through, "
                     f"at most {' or '.join(check.renewal.remedies)}")
    given = f" given {', '.join(check.given)}" if check.given else ""
    return f"{check.flow}{given}: " + "; ".join(parts)


def _describe_dialog(step: DialogStep) -> str:
    when = (f" within {step.within_s:g} s of the last {step.after_last}"
            if step.within_s is not None else "")
    after = " (right after)" if step.right_after else ""
    quiet = f" (then no dialog until {step.quiet_until})" if step.quiet_until else ""
    return f"{step.dialog}{when}{after}{' (then no dialog)' if step.last else ''}{quiet}"


def check_flow(check: FlowCheck, record: FlowRecord,
               baseline: FlowRecord | None = None) -> list[str]:
    problems = [f"before the flow: {unmet}" for unmet in record.unmet]
    if any(step.screen != "first" for step in check.screens) or not check.screens:
        # Not on a check of the first screen alone (what it shows): the visits' own checks
        # on the same record say it.
        problems += hollow_completions(record)
        problems += results_per_visit(record)
        problems += unidentified_visits(record)
        problems += backs_not_back(record)
        problems += error_card_outs_astray(record)
    problems += _screens(check.screens, record)
    problems += _dialogs(check.dialogs, record)
    if check.pin_count is not None:
        problems += _pin_count(check.pin_count, record)
    for response in check.responses:
        problems += _response(response, record)
    if check.passcode_digits is not None:
        problems += _passcode_digits(check.passcode_digits, record)
    if check.pairing_app is not None or check.pairing_button is not None or check.not_paired_in:
        problems += _paired_in(check, record)
    if check.escalation is not None:
        problems += check_escalation(check.escalation, record)
    problems += [f"{a.what} at {a.t:.1f} s: the check must go through without it"
                 for a in record.actions if a.what in check.without]
    if check.renewal is not None:
        problems += check_renewal(check.renewal, record)
    if check.reads_no_personal_data:
        problems += check_card_reads(record)
    if check.pairing_refused:
        problems += check_pairing_refused(record)
    if check.placed_first is not None:
        problems += check_pairing_placed(check.placed_first, record)
    if check.phone_read_test:
        problems += check_phone_read(record)
    if check.phone_read_on is not None:
        problems += check_phone_read_on(check.phone_read_on, record)
    if check.screens_as is not None:
        problems += check_screens_as(check.screens_as, record, baseline)
    for dialog in record.dialogs:
        if dialog.dialog in check.never_dialogs:
            problems.append(f"the terminal must not show {dialog.dialog} in this flow; it did "
                            f"at {dialog.t:.1f} s ({record.dialog_path()})")
    for seen in record.screens:
        if seen.shows in check.never:
            problems.append(f"{seen.shows} must never show in this flow; it did at "
                            f"{seen.t:.1f} s ({record.path()})")
    if check.result is not None and record.result != check.result:
        got = {"handed_over": "the patient's result", "none": "nothing",
               None: "(not looked at)"}[record.result]
        want = "the patient's result" if check.result == "handed_over" else "nothing"
        problems.append(f"the receipt computer should get {want}; it got {got}")
    if check.results is not None and record.results != check.results:
        got = "(not looked at)" if record.results is None else f"{record.results}"
        problems.append(f"the receipt computer should hold {check.results} result(s) of the "
                        f"patient over the run's attempts (a failed check hands over none); "
                        f"it holds {got}")
    return problems


def _paired_in(check: FlowCheck, record: FlowRecord) -> list[str]:
    """The pairing was done in the app the maker's procedure names, with its button,
    character for character (a pairing that works from another app still breaks the
    procedure a clinic is given)."""
    if record.paired_in is None:
        return ["no management app showed for the pairing: where it was done could not be "
                "checked"]
    app, button = record.paired_in
    problems = []
    if check.pairing_app is not None and app != check.pairing_app:
        problems.append(f"the pairing was done in {app!r}; the procedure pairs in "
                        f"{check.pairing_app!r}")
    if check.pairing_button is not None and button != check.pairing_button:
        problems.append(f"the pairing was registered with {button!r}; the procedure's button "
                        f"is {check.pairing_button!r}")
    if app in check.not_paired_in:
        problems.append(f"the pairing was done in {app!r}, another maker's tool; this maker's "
                        "procedure pairs in the management app already on the terminal's screen")
    return problems


def _passcode_digits(want: int, record: FlowRecord) -> list[str]:
    """The passcode the staff were given has the notice's number of digits (a reader that
    takes another length would pass a flow whose OQS issues that length)."""
    if record.passcode_digits is None:
        return [f"no visual-confirmation passcode was issued in the flow: its {want} digits "
                "could not be checked"]
    if record.passcode_digits != want:
        return [f"the visual-confirmation passcode OQS issued has {record.passcode_digits} "
                f"digits, not {want}"]
    return []


def _screens(steps: list[ScreenStep], record: FlowRecord) -> list[str]:
    problems: list[str] = []
    start = 0
    for n, step in enumerate(steps):
        after = f" after {steps[n - 1].screen}" if n else ""
        matches = [k for k in range(start, len(record.screens)) if record.screens[k].is_step(step)]
        if not matches:
            problems.append(f"{step.screen} was not seen{after}; the reader showed "
                            f"{record.path()}")
            continue
        first_problem, first_overlaid = None, False
        for k in matches:
            problem = _screen_problem(step, record.screens[k], record)
            if problem is None:
                start = k + 1
                break
            # Report the screen nearest the step: one under the step's overlay if any was seen.
            overlaid = step.overlay is not None and record.screens[k].overlay == step.overlay
            if first_problem is None or (overlaid and not first_overlaid):
                first_problem, first_overlaid = problem, overlaid
        else:
            problems.append(first_problem or "")
            start = matches[0] + 1
        if step.every and step.with_dialog is not None:
            problems += [p for p in _each_dialog_problems(step, record) if p not in problems]
        elif step.every:
            problems += [p for k in _each_brought(matches, record)
                         if (p := _screen_problem(step, record.screens[k], record)) is not None
                         and p not in problems]
        if step.not_before is not None:
            problems += _not_before(step, record)
        if step.stays_until is not None:
            problems += _stays_until_action(step, matches, record)
        if step.upon is not None and n:
            problems += _upon(steps[n - 1], step, record)
        if step.after_presses is not None:
            problems += _after_presses(step, record)
        # "Must not show" holds for every screen of the class, not only the one matched; and
        # for an unrecognised screen nearest the class: its texts were read (CON-02: a
        # consent screen of its own asking for 限度額 is recognised as none), its buttons
        # are not known (fail closed).
        problems += [p for seen in record.screens
                     if (seen.is_step(step) and seen.shows is not None)
                     or (seen.shows is None and seen.candidate == step.screen
                         and (step.absent or step.no_buttons or step.no_done_claim
                              or step.no_limit_ask))
                     if (p := _absent_problem(step, seen)) is not None and p not in problems]
        if step.no_limit_ask:
            # A screen the camera took for no consent (hunt G32's was read near link_wait)
            # that names the limit asks for it all the same: judged on what was read.
            problems += [p for seen in record.screens
                         if seen.shows is None and seen.candidate != step.screen and seen.read
                         if (p := _limit_problem(step, seen)) is not None and p not in problems]
    return problems


def hollow_completions(record: FlowRecord) -> list[str]:
    """受付が完了しました tells the patient a check went through: on every flow, a completion
    screen comes only on a visit whose consents were answered, and never after an error
    of that visit (a visit starts at the first screen or a card put in). A reader that says
    done with no check behind it (a card pulled on a consent screen, a locked card taken
    out, a card out of the 901 or of a network error) fails whatever flow saw it."""
    problems: list[str] = []
    for k, seen in enumerate(record.screens):
        if seen.shows != "completion" or (k and record.screens[k - 1].shows == "completion"):
            continue
        starts = [s.t for s in record.screens[:k] if s.shows == "first"]
        starts += [a.t for a in record.actions if a.what == "card_in" and a.t <= seen.t]
        since = max(starts, default=None)
        # A record that starts inside a visit it did not see begin: its answers are not
        # known (not judged), but an error it saw before the completion is that visit's.
        errors = [s.label() for s in record.screens[:k]
                  if (since is None or s.t >= since) and (s.shows or "").startswith("error_")]
        if errors:
            problems.append(f"completion at {seen.t:.1f} s after {errors[-1]} on the same "
                            "visit" + (f" (since {since:.1f} s)" if since is not None else "")
                            + ": the check failed, yet the reader says it is done")
            continue
        if since is None:
            continue
        answered = any(a.what == "consent" and since <= a.t <= seen.t for a in record.actions)
        if not answered:
            problems.append(f"completion at {seen.t:.1f} s with no consent answered on its "
                            f"visit (since {since:.1f} s): no check went through, yet the "
                            "reader says it is done")
    return problems


@attrs.frozen
class _Completed:
    """A visit the reader said done: its results are due from its last consent answered
    (``since``) to a little after its completion (``until``)."""

    t: float
    since: float
    until: float
    #: The error screen that followed on the visit (Panasonic's E901: the completion stays
    #: until the 901 comes): whether the check went through is not told by the screens (the
    #: error's own checks judge them), so no result is due, and at most one may come.
    failed: str | None = None

    def window(self) -> str:
        return f"due between {self.since:.1f} s and {self.until:.1f} s"


def _visit_starts(record: FlowRecord, after: float, until: float) -> list[float]:
    """When a visit began in (``after``, ``until``]: the first screen, a card put in."""
    starts = [s.t for s in record.screens if s.shows == "first"]
    starts += [a.t for a in record.actions if a.what == "card_in"]
    return sorted(t for t in starts if after + EPS_S < t <= until + EPS_S)


def _next_step(record: FlowRecord, t: float) -> float:
    """When the next visit's first step was done after ``t``: any action but the last
    visit's leaving (the card or the phone taken away) and the staff's answers on the
    terminal (E901's OKs belong to the check that failed)."""
    return next((a.t for a in record.actions if a.t > t + EPS_S and a.what != "card_out"
                 and not a.what.startswith(("phone_away", "terminal:"))), float("inf"))


def _late_until(record: FlowRecord, t: float) -> float:
    """How late a completion at ``t`` may still get its result: a slow terminal may hand it
    over a little after the reader says done, not once the next visit has begun."""
    return min(t + RESULT_LATE_S, _next_step(record, t))


def _failed_after(record: FlowRecord, k: int) -> str | None:
    """The error screen that came after completion ``k`` before the next visit's first
    step (Panasonic's E901 completion stays until the 901; another reader's goes back to
    the first screen on the card-out first)."""
    end = _next_step(record, record.screens[k].t)
    # An unrecognised screen nearest an error is one for this (its texts are judged by the
    # error's own checks).
    errors = [s.label() for s in record.screens[k + 1:]
              if s.t < end - EPS_S and s.taken_for.startswith("error_")]
    return errors[0] if errors else None


def completed_visits(record: FlowRecord) -> list[_Completed]:
    """Each visit a completion screen closed, in order. A completion seen again with
    neither a consent answered nor a visit begun since the last is the same visit's. A visit
    with no consent answered (hollow_completions fails it) has its results due from its
    start."""
    out: list[_Completed] = []
    for k, seen in enumerate(record.screens):
        if seen.shows != "completion" or (k and record.screens[k - 1].shows == "completion"):
            continue
        before = out[-1].t if out else float("-inf")
        answers = [a.t for a in record.actions if a.what == "consent"
                   and before + EPS_S < a.t <= seen.t + EPS_S]
        begun = _visit_starts(record, before, seen.t)
        if out and not answers and not begun:
            continue  # the same visit said done again
        out.append(_Completed(seen.t, max(answers or begun or [before]),
                              _late_until(record, seen.t), _failed_after(record, k)))
    return out


def results_per_visit(record: FlowRecord) -> list[str]:
    """受付が完了しました means the visit's check went through (CON-01): each completed
    visit has exactly one result reaching the receipt computer, between its last consent
    answered and a little after its completion, and no result comes on a visit the reader
    did not say done (a failed check, a network error). A run total hides a visit with two
    and one with none; where the receipt computer was read only at the end (a person), the
    total is all there is: fewer results than completions still fails."""
    visits = completed_visits(record)
    if record.result_times is None:
        return _results_total(record, [v for v in visits if v.failed is None])
    times = record.result_times
    problems: list[str] = []
    used: set[int] = set()
    for v in visits:
        got = [i for i, r in enumerate(times) if v.since - EPS_S <= r <= v.until + EPS_S]
        used.update(got)
        problems += _visit_results(v, [times[i] for i in got])
    # Results before the record began are the set-up's (the run's total judges them).
    starts = [s.t for s in record.screens[:1]] + [a.t for a in record.actions[:1]]
    begun = min(starts, default=float("inf"))
    problems += [f"a result reached the receipt computer at {r:.1f} s, on no visit the reader "
                 f"said done (it showed {_showing(record, r)}): a check that failed or was not "
                 "finished hands over nothing"
                 for i, r in enumerate(times) if i not in used and r >= begun - EPS_S]
    return problems


def _visit_results(visit: _Completed, got: list[float]) -> list[str]:
    """One completed visit: exactly one result; at most one where an error followed."""
    at = ", ".join(f"{r:.1f}" for r in got)
    if visit.failed is not None and len(got) > 1:
        return [f"completion at {visit.t:.1f} s then {visit.failed}: {len(got)} results of "
                f"one visit reached the receipt computer (at {at} s, {visit.window()}); one "
                "check hands over one result at most"]
    if visit.failed is not None:
        return []
    if not got:
        return [f"completion at {visit.t:.1f} s with no result reaching the receipt computer "
                f"on its visit ({visit.window()}): the reader says done, yet no check went "
                "through"]
    if len(got) > 1:
        return [f"completion at {visit.t:.1f} s: {len(got)} results of one visit reached the "
                f"receipt computer (at {at} s, {visit.window()}): one check, one result"]
    return []


def _showing(record: FlowRecord, t: float) -> str:
    """The screen the reader showed at ``t`` (the last first seen by then)."""
    shown = [s for s in record.screens if s.t <= t + EPS_S]
    return shown[-1].label() if shown else "nothing yet"


def _results_total(record: FlowRecord, visits: list[_Completed]) -> list[str]:
    """Without the times only the total can be judged: at least one result per completed
    visit (set-up visits before the record may add more, so more is not a failure)."""
    # Not looked at at all: only a hand-made record (a flow's runner always looks); the
    # check's own ``result``/``results`` fail it where they matter, the evidence says so.
    if not visits or record.results is None:
        return []
    if record.results < len(visits):
        return [f"{len(visits)} completion(s) seen, yet the receipt computer holds "
                f"{record.results} result(s) of the patient: a completion had no check "
                "behind it"]
    return []


def results_observed(record: FlowRecord) -> tuple[str, ...]:
    """What the results were judged on, said in the evidence: when each came and which
    completions they were put to, or that only the total could be read."""
    visits = completed_visits(record)
    if record.result_times is None:
        if not visits and record.results is None:
            return ()
        done = [v for v in visits if v.failed is None]
        held = "not looked at" if record.results is None else f"{record.results} result(s)"
        return (f"receipt computer read at the end only ({held} for {len(done)} "
                "completion(s)): results not judged visit by visit, the total only",)
    if not visits and not record.result_times:
        return ()  # nothing done, nothing handed over: nothing to say
    came = ", ".join(f"{r:.1f}" for r in record.result_times) or "none"
    done = ", ".join(f"{v.t:.1f}" + (f" (then {v.failed})" if v.failed else "")
                     for v in visits) or "none"
    return (f"results reached the receipt computer at (s): {came}; completions at (s): "
            f"{done}",)


def _judged(seen: SeenScreen | SeenDialog, text: str) -> TextFinding:
    """What was found of ``text`` on the screen; a text nothing judged is not shown."""
    found = seen.finding(text)
    if found is None:
        return TextFinding(text, False, "none", detail="nothing read this text on the screen")
    return found


def _order_problem(texts: list[str], seen: SeenScreen | SeenDialog) -> str | None:
    """The texts (all found) must stand in the notice's order: each below the one before,
    or on its line and to its right (a dialog's buttons too: 「希望する/希望しない」)."""
    placed = [(t, f) for t in texts if (f := seen.finding(t)) is not None and f.y is not None]
    for (a, fa), (b, fb) in zip(placed, placed[1:], strict=False):
        assert fa.y is not None and fb.y is not None
        same_line = abs(fb.y - fa.y) <= SAME_LINE_PX
        if same_line and (fb.x or 0.0) < (fa.x or 0.0):
            return (f"{b} stands left of {a} on their line (at x {fb.x or 0.0:.0f} against "
                    f"{fa.x or 0.0:.0f}); the notice has {a} first")
        if fb.y < fa.y - SAME_LINE_PX:
            return (f"{b} stands before {a} (at y {fb.y:.0f} against {fa.y:.0f}); the notice "
                    f"has {a} first")
    return None


def _screen_problem(step: ScreenStep, seen: SeenScreen, record: FlowRecord,
                    dialog: SeenDialog | None = None) -> str | None:
    """What is wrong with ``seen`` as the step's screen (None: nothing); ``dialog``: the
    appearance of the step's ``with_dialog`` it is timed against (default: the first)."""
    what = f"{step.screen} (seen as {seen.label()} at {seen.t:.1f} s)"
    missing = [f for t in [*step.texts, *step.contains] if not (f := _judged(seen, t)).found]
    if missing:
        return f"{what} does not show the notice's text: " + "; ".join(
            f.describe() for f in missing)
    order = _order_problem(step.texts, seen)
    if order is not None:
        return f"{what}: {order}"
    if step.contains_any:
        judged = [_judged(seen, t) for t in step.contains_any]
        if not any(f.found for f in judged):
            return f"{what} shows none of {', '.join(step.contains_any)}: " + "; ".join(
                f.describe() for f in judged)
    absent = _absent_problem(step, seen)
    if absent is not None:
        return absent
    if step.overlay is not None and seen.overlay != step.overlay:
        return f"{what} has no {step.overlay} over it"
    lacking = [b for b in step.buttons if b not in seen.buttons]
    if lacking:
        return f"{what} lacks the {', '.join(lacking)} button (shows: " \
               f"{', '.join(seen.buttons) or 'none'})"
    if step.stays_s is not None and seen.held_s < step.stays_s:
        nxt = _next_after(seen, record)
        return (f"{what} stayed {seen.held_s:.1f} s, not {step.stays_s:g} s: then "
                f"{nxt}")
    for action in step.stays_through:
        if not any(a.what == action and seen.t <= a.t < seen.until for a in record.actions):
            done = [a for a in record.actions if a.what == action]
            when = f" ({action} at {done[0].t:.1f} s, then {_next_after(seen, record)})" \
                if done else f" ({action} was not done)"
            return f"{what} did not stay through {action}{when}"
    timing = _with_dialog_problem(step, seen, record, dialog) \
        or _stays_until_problem(step, seen, record) \
        or _over_last_problem(step, seen, record) \
        or _after_last_problem(step.after_last, seen.t, record)
    return None if timing is None else f"{what} {timing}"


def _absent_problem(step: ScreenStep, seen: SeenScreen) -> str | None:
    """What must not be on any screen of the step's class in the flow (texts, buttons: the
    first screen after a visit as much as the first one seen), and its lamps."""
    what = f"{step.screen} (seen as {seen.label()} at {seen.t:.1f} s)"
    if seen.shows is None and step.no_buttons:
        # Buttons are told by the reference a screen is recognised as: none here.
        return (f"{what}: could not tell whether the {', '.join(step.no_buttons)} button is "
                "shown (the screen was not recognised)")
    extra = [b for b in step.no_buttons if b in seen.buttons]
    if extra:
        return f"{what} shows the {', '.join(extra)} button, which it must not in this flow"
    absent = [_judged(seen, t) for t in step.absent]
    present = [f for f in absent if f.found]
    if present:
        return f"{what} shows {', '.join(f.expected for f in present)}, which it must not (" \
               + "; ".join(f"read {f.read or f.expected} by {f.method}" for f in present) + ")"
    unjudged = [f for f in absent if f.method == "none"]
    if unjudged:
        return f"{what}: could not tell whether {', '.join(f.expected for f in unjudged)} " \
               "is shown (the screen was not read)"
    if step.no_done_claim:
        if not seen.read:
            return f"{what}: could not tell whether it says the check is done (nothing was " \
                   "read off the screen)"
        claim = done_claim(line.text for line in seen.read)
        if claim is not None:
            return (f"{what} says the check is done ({claim!r}, read "
                    f"{' / '.join(line.text for line in seen.read)}), which it must not: the "
                    "patient's check did not go through")
    if step.no_limit_ask:
        problem = _limit_problem(step, seen)
        if problem is not None:
            return problem
    return _lamp_problem(step, seen, what)


def _limit_problem(step: ScreenStep, seen: SeenScreen) -> str | None:
    """CON-02 on the meaning: the screen names the high-cost limit in no words (an unread
    screen fails: fail closed)."""
    what = f"{step.screen} (seen as {seen.label()} at {seen.t:.1f} s)"
    if not seen.read:
        return f"{what}: could not tell whether it asks for the high-cost limit (nothing " \
               "was read off the screen)"
    named = limit_ask(line.text for line in seen.read)
    if named is None:
        return None
    return (f"{what} names the high-cost limit ({named!r}, read "
            f"{' / '.join(line.text for line in seen.read)}), which no screen of the "
            "consents may: its consent is left out")


def _lamp_problem(step: ScreenStep, seen: SeenScreen, what: str) -> str | None:
    """Every look at the screen saw each lamp of the step as the step says (a lamp not
    looked at, or not read, fails: fail closed)."""
    for name, want in step.lamps.items():
        looks = [lamp for lamp in seen.lamps if lamp.name == name]
        if not looks:
            return f"{what}: its {name} lamp was not looked at (the bench's camera has no " \
                   f"lamp named {name})"
        unread = next((lamp for lamp in looks if lamp.shows == "unread"), None)
        if unread is not None:
            return f"{what}: its {name} lamp could not be read ({unread.why})"
        wrong = [lamp.shows for lamp in looks if lamp.shows != want]
        if wrong:
            return f"{what}: its {name} lamp was {' and '.join(wrong)}, not {want}"
    return None


#: The terminal's last dialog of a failed check: its OK brings the reader's error screen
#: (seed 000 記 2 ②: 「OK」ボタンを押すと以下の画面に遷移する).
LAST_ERROR_DIALOG = "check_error_2"


def _each_brought(matches: list[int], record: FlowRecord) -> list[int]:
    """The screens an ``every`` step holds to its texts: for each failed check, the first
    match still up when its last error dialog was closed, or after (the screen the notice
    pictures). A later one of the same check (after the card is out: a 901 that no longer
    asks to take it out) is not that picture; its "must not show" words are judged on every
    screen all the same. No such dialog closed: every match (fail closed)."""
    closed = [d.closed_t for d in record.dialogs
              if d.dialog == LAST_ERROR_DIALOG and d.closed_t is not None]
    if not closed:
        return matches
    brought = {next((k for k in matches if record.screens[k].until >= t - EPS_S), None)
               for t in closed}
    return sorted(k for k in brought if k is not None)


def _next_after(seen: SeenScreen, record: FlowRecord) -> str:
    later = [s for s in record.screens if s.t > seen.t]
    return later[0].label() if later else "nothing more was seen"


def _not_before(step: ScreenStep, record: FlowRecord) -> list[str]:
    closed = next((d for d in record.dialogs if d.dialog == step.not_before), None)
    if closed is None or closed.closed_t is None:
        return []  # the dialog steps report a dialog that never came or never closed
    early = [s for s in record.screens if s.is_step(step) and s.t < closed.closed_t]
    if not early:
        return []
    return [f"{step.screen} showed at {early[0].t:.1f} s, before {step.not_before} was "
            f"closed at {closed.closed_t:.1f} s: it must come from closing it"]


def _presses(record: FlowRecord, button: str) -> list[Action]:
    return [a for a in record.actions if a.what == f"terminal:{button}"]


def _with_dialog_problem(step: ScreenStep, seen: SeenScreen, record: FlowRecord,
                         dialog: SeenDialog | None = None) -> str | None:
    """The screen is what the reader shows when the dialog appears (its first appearance,
    or ``dialog``): the first look of the reader from that moment on saw this stretch
    (E901-02's "at that moment")."""
    if step.with_dialog is None:
        return None
    if dialog is None:
        dialog = next((d for d in record.dialogs if d.dialog == step.with_dialog), None)
    if dialog is None:
        return f"cannot be timed against {step.with_dialog}: the terminal never showed it"
    then = _shown_at(record, dialog.t)
    if then is seen:
        return None
    shown = then.label() if then is not None else "nothing more"
    late = [a for a in record.actions if dialog.t <= a.t <= seen.t]
    why = f" (it came at {seen.t:.1f} s, after {', '.join(a.what for a in late)})" \
        if late else f" (it came at {seen.t:.1f} s)"
    return (f"did not show when {step.with_dialog} appeared at {dialog.t:.1f} s: the reader "
            f"showed {shown} then{why}")


def _shown_at(record: FlowRecord, t: float) -> SeenScreen | None:
    """The stretch of screen the reader's first look from ``t`` on saw."""
    return next((s for s in record.screens if s.until >= t - EPS_S), None)


def _each_dialog_problems(step: ScreenStep, record: FlowRecord) -> list[str]:
    """An ``every`` step timed by its dialog, held on each later appearance of the dialog
    (each failed check's first error dialog: the nightly flow's second failed check before
    the restart shows 「しばらくお待ちください」 as the first did, hunt G33): the screen up
    then is the step's and holds as it says. The first appearance is the step's own match;
    a later one counts as another check's when the patient did something at the reader
    since the one before (the terminal showing its dialog again by itself, with nothing but
    its OKs pressed, is the terminal's fault, judged by the dialog checks). An act made
    while a dialog was still up is no new check either: the terminal had not ended the last
    one (a terminal showing its first error again after the second OK: the next card finds
    it open, and what the reader shows then is not a failed check's)."""
    problems: list[str] = []
    shown = [d for d in record.dialogs if d.dialog == step.with_dialog]
    checks = shown[:1] + [d for before, d in zip(shown, shown[1:], strict=False)
                          if any(before.t < a.t <= d.t and not a.what.startswith("terminal:")
                                 and not _dialog_up(record, a.t) for a in record.actions)]
    for n, dialog in enumerate(checks[1:], start=2):
        then = _shown_at(record, dialog.t)
        if then is None or not then.is_step(step):
            problems.append(
                f"{step.screen} did not show when {step.with_dialog} appeared for failed "
                f"check {n} at {dialog.t:.1f} s: the reader showed "
                f"{then.label() if then is not None else 'nothing more'} then")
            continue
        problem = _screen_problem(step, then, record, dialog)
        if problem is not None:
            problems.append(f"failed check {n}: {problem}")
    return problems


def _dialog_up(record: FlowRecord, t: float) -> bool:
    """Whether a dialog the terminal showed before ``t`` was still up at ``t`` (one closed
    at ``t`` itself too: the look that saw it go came after the act)."""
    return any(d.t < t and (d.closed_t is None or d.closed_t >= t) for d in record.dialogs)


def _stays_until_problem(step: ScreenStep, seen: SeenScreen, record: FlowRecord) -> str | None:
    """Unchanged from when it shows until the ``count``-th press of the button after that,
    every look between seeing it (a stretch of one state ends with the last look that saw
    it)."""
    if step.stays_until_press is None:
        return None
    until = step.stays_until_press
    press = _press_to_stay_until(step, seen, record)
    if press is None:
        after = [a for a in _presses(record, until.button) if a.t >= seen.t - EPS_S]
        return (f"cannot be held until {_press_name(until)}: {until.button} was pressed "
                f"{len(after)} time(s) after it")
    if seen.until >= press.t - EPS_S:
        return None
    return (f"did not stay until {_press_name(until)} at {press.t:.1f} s: it stayed "
            f"{seen.held_s:.1f} s, then {_next_after(seen, record)} at "
            f"{_next_t(seen, record)}")


def _stays_until_action(step: ScreenStep, matches: list[int], record: FlowRecord
                        ) -> list[str]:
    """Each stretch of the step's screen stays until ``stays_until`` is next done after it
    showed; a stretch with no such action after it is not judged (the remedy was done
    before it, or never: the record's other checks say so)."""
    action = step.stays_until
    problems: list[str] = []
    for k in matches:
        seen = record.screens[k]
        nxt = next((a for a in record.actions if a.what == action and a.t >= seen.t - EPS_S),
                   None)
        # Another screen seen before the action: it gave way (the looks between its last
        # sight and the action saw nothing else).
        after = record.screens[k + 1] if k + 1 < len(record.screens) else None
        if nxt is not None and after is not None and after.t < nxt.t - EPS_S:
            problems.append(f"{seen.label()} at {seen.t:.1f} s did not stay until {action} at "
                            f"{nxt.t:.1f} s: it stayed {seen.held_s:.1f} s, then "
                            f"{_next_after(seen, record)} at {_next_t(seen, record)}")
    if not any(a.what == action for a in record.actions):
        problems.append(f"{step.screen} cannot be held until {action}: it was not done")
    return problems


def _press_to_stay_until(step: ScreenStep, seen: SeenScreen, record: FlowRecord
                         ) -> Action | None:
    """The press a screen must stay until: the ``count``-th of its button from when it
    showed (None: not pressed that often)."""
    assert step.stays_until_press is not None
    until = step.stays_until_press
    after = [a for a in _presses(record, until.button) if a.t >= seen.t - EPS_S]
    return after[until.count - 1] if len(after) >= until.count else None


def _press_name(press: PressCount) -> str:
    nth = {1: "first", 2: "second", 3: "third"}.get(press.count, f"{press.count}th")
    return f"the {nth} press of {press.button}"


def _next_t(seen: SeenScreen, record: FlowRecord) -> str:
    later = [s for s in record.screens if s.t > seen.t]
    return f"{later[0].t:.1f} s" if later else "-"


def _over_last_problem(step: ScreenStep, seen: SeenScreen, record: FlowRecord) -> str | None:
    """The screen under the overlay is the last one of its class shown before it: the same
    texts as that screen (the record's only account of what a screen looks like)."""
    if not step.over_last:
        return None
    before = [s for s in record.screens if s.t < seen.t and s.overlay is None
              and s.shows == step.screen]
    if not before:
        return f"is not over a {step.screen} screen: none was seen before it"
    last = before[-1]
    if not seen.texts or not last.texts:
        return (f"cannot be told to be over the last {step.screen} screen ({last.label()}): "
                "the texts of one of them were not confirmed")
    if seen.texts != last.texts:
        return (f"is not over the last {step.screen} screen ({last.label()}: "
                f"{' / '.join(last.texts)}); it shows {' / '.join(seen.texts)}")
    return None


#: The longest gap between two looks that still times a screen from the look before it
#: (the flows look every second after a press that must bring one).
LOOK_GAP_S = 2.0


def _after_presses(step: ScreenStep, record: FlowRecord) -> list[str]:
    """The screen's first appearance comes after the ``count``-th press, not earlier (and
    within ``within_s`` of it, where given)."""
    assert step.after_presses is not None
    button, count = step.after_presses.button, step.after_presses.count
    shown = [s for s in record.screens if s.is_step(step)]
    if not shown:
        return []  # the step reports a screen that never came
    first = shown[0]
    presses = [a for a in _presses(record, button) if a.t <= first.t + EPS_S]
    within = step.after_presses.within_s
    if len(presses) >= count and first.t > presses[count - 1].t + EPS_S:
        press = presses[count - 1].t
        # It came after the last look that did not show it: timed from there (one look's
        # gap is the camera's, not the reader's); a longer gap leaves it not known.
        before = max([press, *(s.until for s in record.screens
                               if s.until <= first.t + EPS_S and s is not first)])
        if within is None or first.t - press <= within + EPS_S:
            return []
        if before - press > within + EPS_S:
            return [f"{step.screen} first showed at {first.t:.1f} s, {before - press:.1f} s or "
                    f"more after press {count} of {button} at {press:.1f} s: the press brings "
                    f"it, within {within:g} s"]
        if first.t - before > LOOK_GAP_S + EPS_S:
            return [f"{step.screen} first showed at {first.t:.1f} s, {first.t - press:.1f} s "
                    f"after press {count} of {button} at {press:.1f} s, with no look between "
                    f"{before:.1f} s and then: whether it came within {within:g} s is not known"]
        return []
    before = [a for a in presses if a.t < first.t - EPS_S]
    return [f"{step.screen} first showed at {first.t:.1f} s, after {len(before)} press(es) of "
            f"{button} ({', '.join(f'{a.t:.1f} s' for a in before) or 'none'}): it must come "
            f"only after press {count}"]


def _dialogs(steps: list[DialogStep], record: FlowRecord) -> list[str]:
    problems: list[str] = []
    start = 0
    for n, step in enumerate(steps):
        after = f" after {steps[n - 1].dialog}" if n else ""
        k = next((k for k in range(start, len(record.dialogs))
                  if record.dialogs[k].dialog == step.dialog), None)
        if k is None:
            if not _untried(step, record):
                problems.append(f"the terminal did not show {step.dialog}{after}; it showed "
                                f"{record.dialog_path()}")
            continue
        between = record.dialogs[start:k] if n and step.right_after else []
        start = k + 1
        late = _after_last_problem(step.after_last, record.dialogs[k].t, record) or \
            _still_asking(step.after_last, record.dialogs[k].t, record) or \
            _within_problem(step, record.dialogs[k].t, record)
        if between:
            problems.append(f"{step.dialog} must follow {steps[n - 1].dialog} with no dialog "
                            f"between; the terminal showed {', '.join(d.dialog for d in between)}"
                            f" first ({record.dialog_path()})")
        problem = _dialog_problem(step, record.dialogs[k]) or (
            f"{step.dialog} {late}" if late else None) or (
            _last_problem(record.dialogs[k], record, {d.dialog for d in steps})
            if step.last else None) or (
            _quiet_problem(record.dialogs[k], record, step)
            if step.quiet_until else None)
        if problem is not None:
            problems.append(problem)
    return problems


#: The screen a reader may keep through a card-out until the terminal restarts (seed 000
#: 記 2: the error is for the staff, who restart the terminal).
KEPT_ERROR = "error_901"


def _untried(step: DialogStep, record: FlowRecord) -> bool:
    """Whether the check ``step`` waits on (a dialog after the last card put in) could not
    be made: that card was put in on the 901 the reader kept after the card-out and the
    reader took nothing of it (the screen unchanged by the next act). The procedure has no
    other way to a check before the restart (review F4); the driver notes it in what was
    seen. A reader stuck on any other screen, or one that took the card, is judged."""
    if step.after_last != "card_in":
        return False
    done = [i for i, a in enumerate(record.actions) if a.what == "card_in"]
    if not done:
        return False
    i = done[-1]
    on = next((s for s in reversed(record.screens) if s.t < record.actions[i].t - EPS_S), None)
    return (on is not None and on.taken_for == KEPT_ERROR
            and not screen_changed(record, i, on))


def _last_problem(seen: SeenDialog, record: FlowRecord, own: set[str]) -> str | None:
    """None of the check's ``own`` dialogs after ``seen`` was closed (the terminal's other
    dialogs, a reboot prompt, are not this sequence's). It must have been seen closed: what
    came after a dialog nobody saw go is not known (fail closed; a step that names the
    button to press fails on that first)."""
    if seen.closed_t is None:
        return (f"{seen.dialog} was not seen closed, so whether another dialog followed it "
                "is not known")
    later = [d for d in record.dialogs if d.t > seen.t and d.dialog in own]
    if later:
        return (f"after {seen.dialog} was closed at {seen.closed_t:.1f} s the terminal showed "
                f"{later[0].dialog} at {later[0].t:.1f} s; the procedure ends with it "
                f"({record.dialog_path()})")
    return None


def _still_asking(after_last: str | None, t: float, record: FlowRecord) -> str | None:
    """E901-01's moment (同意選択が終了したタイミング): by ``t`` every screen of the
    ``after_last`` action's class shown so far (a consent screen, no overlay over it) was
    answered, one answer a screen: a dialog while one still asks came before the selection
    ended. The problem is said of what was seen (the caller names it)."""
    if after_last is None:
        return None
    before = attrs.evolve(record, screens=[s for s in record.screens if s.t <= t + EPS_S],
                          actions=[a for a in record.actions if a.t <= t + EPS_S])
    shown = screens_of(before, after_last)
    if shown.actions >= len(shown.names):
        return None
    return (f"showed at {t:.1f} s while a {after_last} screen still asked: "
            f"{len(shown.names)} shown ({shown.shown()}), {shown.actions} answered")


def _quiet_problem(seen: SeenDialog, record: FlowRecord, step: DialogStep) -> str | None:
    """No dialog of the terminal's from the press that closes ``seen`` (its step's button;
    else its closing as seen) until the next ``quiet_until`` action (to the flow's end if
    none came). Fails closed on a dialog nobody saw go before that action."""
    until = step.quiet_until
    pressed = next((a.t for a in record.actions if step.press is not None
                    and a.what == f"terminal:{step.press}" and a.t >= seen.t), None)
    start = pressed if pressed is not None else seen.closed_t
    end = next((a.t for a in record.actions if a.what == until and start is not None
                and a.t >= start), float("inf"))
    if start is None or seen.closed_t is None or seen.closed_t > end + EPS_S:
        return (f"{seen.dialog} was not seen closed before {until}, so whether another dialog "
                "followed it is not known")
    between = [d for d in record.dialogs if d is not seen and d.t > seen.t
               and start - EPS_S <= d.t < end]
    if between:
        return (f"after {seen.dialog} was closed at {start:.1f} s the terminal showed "
                f"{between[0].dialog} at {between[0].t:.1f} s, before {until}; the procedure "
                f"goes on to {until} with no dialog between ({record.dialog_path()})")
    return None


def _after_last_problem(after_last: str | None, t: float, record: FlowRecord) -> str | None:
    """Seen at ``t`` after the flow's last ``after_last`` action (E901-01's dialog: the last
    consent answer; UPD-08's screens: the last reboot): what an earlier part of the flow
    showed is not the part the step judges. No such action done fails closed. The problem
    is said of what was seen (the caller names it)."""
    if after_last is None:
        return None
    done = [a for a in record.actions if a.what == after_last]
    if not done:
        return f"cannot be timed: no {after_last} was done in the flow"
    if t > done[-1].t + EPS_S:
        return None
    return (f"showed at {t:.1f} s, not after the last {after_last} at {done[-1].t:.1f} s "
            f"({len(done)} in all): it must come when they are over")


def _within_problem(step: DialogStep, t: float, record: FlowRecord) -> str | None:
    """First seen within ``step.within_s`` of the last ``step.after_last`` (that it came
    after it at all is :func:`_after_last_problem`'s)."""
    done = [a for a in record.actions if a.what == step.after_last]
    if step.within_s is None or not done:
        return None  # (no such action: _after_last_problem's)
    # From when the last one was done: a robot's or an operator's time to act is not the
    # terminal's (an operator who confirms late gives a late terminal that much slack).
    last = done[-1].done
    if t <= last + step.within_s + EPS_S:
        return None
    return (f"was first seen at {t:.1f} s, {t - last:.1f} s after the last {step.after_last} "
            f"at {last:.1f} s: it must come when they are over (within {step.within_s:g} s)")


def _dialog_problem(step: DialogStep, seen: SeenDialog) -> str | None:
    missing = [f for t in step.texts if not (f := _judged(seen, t)).found]
    # Said as the terminal's: the verdict's subject is the reader the flow ran on.
    if missing:
        return f"the terminal's dialog {step.dialog} does not show the notice's text: " + \
            "; ".join(f.describe() for f in missing)
    order = _order_problem(step.texts, seen)
    if order is not None:
        return f"the terminal's dialog {step.dialog}: {order}"
    if step.press is not None and seen.closed_by != step.press:
        how = f"closed by {seen.closed_by}" if seen.closed_by else "never closed"
        return f"the terminal's dialog {step.dialog} should be closed with {step.press}; it " \
               f"was {how}"
    return None


# -- CON-01: a screen caused by an action --------------------------------------------------
def _stretch_start(k: int, step: ScreenStep, record: FlowRecord) -> float:
    """When the stretch of ``step``'s screen that includes screen ``k`` began (a screen read
    two ways in a row is still one stretch)."""
    while k > 0 and record.screens[k - 1].is_step(step):
        k -= 1
    return record.screens[k].t


def _seen_before(k: int, t: float, record: FlowRecord) -> bool:
    """Whether screen ``k`` was first seen before an action at ``t``. A look at the very
    moment of the action is after it only when the screen before was seen at that moment
    too (the look before the action, then the one after); otherwise it may have been the
    look before, and a cause cannot be claimed for it (fail closed)."""
    seen = record.screens[k]
    if seen.t != t:
        return seen.t < t
    return not (k > 0 and record.screens[k - 1].until == t)


def _upon(before: ScreenStep, step: ScreenStep, record: FlowRecord) -> list[str]:
    """``step``'s screen comes from ``step.upon`` done on ``before``'s screen: each time it
    follows that screen, the action came between (not a timer, not before it), and each
    time the action is done there, the screen follows within ``step.within_s``."""
    assert step.upon is not None and step.within_s is not None
    action, bound = step.upon, step.within_s
    problems: list[str] = []
    screens = record.screens
    done = [a for a in record.actions if a.what == action]
    # Each time the screen follows ``before``'s: the action came while that one showed.
    for k in range(1, len(screens)):
        if not (screens[k].is_step(step) and screens[k - 1].is_step(before)):
            continue
        since = _stretch_start(k - 1, before, record)
        if not any(since <= a.t <= screens[k].t and not _seen_before(k, a.t, record)
                   for a in done):
            problems.append(
                f"{step.screen} came at {screens[k].t:.1f} s after {before.screen} (since "
                f"{since:.1f} s) with no {action} before it: it must come from {action}, not "
                "by itself")
    # Each time the action is done on ``before``'s screen: the screen follows, promptly.
    for a in done:
        on = [k for k in range(len(screens)) if _seen_before(k, a.t, record)]
        if not on or not screens[on[-1]].is_step(before):
            continue
        k = next((k for k in range(on[-1] + 1, len(screens)) if screens[k].is_step(step)), None)
        came = screens[k].t if k is not None else None
        if came is None:
            then = " -> ".join(s.label() for s in screens[on[-1] + 1:]) or "nothing was seen"
            problems.append(f"{step.screen} did not come after {action} at {a.t:.1f} s on "
                            f"{before.screen}; then: {then}")
        elif came - a.t > bound + 1e-6:  # the look at the bound itself (float time) is in time
            assert k is not None
            # It came between the last look at the screen before it and the first at it.
            still = screens[k - 1]
            was = (f" ({still.label()} still showed {still.until - a.t:.1f} s after)"
                   if still.until - a.t >= bound - 1e-6 else "")
            problems.append(f"{step.screen} came {came - a.t:.1f} s after {action} at "
                            f"{a.t:.1f} s on {before.screen}, not within {bound:g} s{was}")
    return problems


# -- AUTH-02: the screen after each PIN entry ----------------------------------------------
def _after(record: FlowRecord, i: int) -> list[SeenScreen]:
    """The screens seen after action ``i`` until the next action (a look at the moment of
    the next action saw the screen it acted on)."""
    t = record.actions[i].t
    nxt = record.actions[i + 1].t if i + 1 < len(record.actions) else float("inf")
    return [s for s in record.screens if s.until > t and s.t < nxt]


def _pin_count(rule: PinCount, record: FlowRecord) -> list[str]:
    problems: list[str] = []
    n = rule.locks_after
    in_a_row = in_all = 0
    tried_lock = tried_reset = False
    for i, action in enumerate(record.actions):
        if action.what not in ("pin:wrong", "pin:right"):
            continue
        seen = _after(record, i)
        path = " -> ".join(s.label() for s in seen) or "nothing"
        shows = [s.shows for s in seen]
        if action.what == "pin:right":
            what = f"the right PIN at {action.t:.1f} s (after {in_a_row} wrong in a row)"
            in_a_row = 0
            if not seen:
                problems.append(f"nothing was seen after {what}")
            elif rule.proceeds not in shows or {rule.asking, rule.locked} & set(shows):
                problems.append(f"after {what} the reader showed {path}: it must go on to "
                                f"{rule.proceeds}")
            continue
        in_a_row += 1
        in_all += 1
        what = f"wrong PIN {in_a_row} in a row at {action.t:.1f} s"
        if not seen:
            problems.append(f"nothing was seen after {what}")
        elif in_a_row < n:
            tried_reset = tried_reset or in_all >= n
            if any(s != rule.asking for s in shows):
                problems.append(f"after {what} the reader showed {path}: it must still ask for "
                                f"the PIN ({rule.asking}) until the {n}th in a row")
        elif in_a_row == n:
            tried_lock = True
            if rule.locked not in shows:
                problems.append(f"after {what} the reader showed {path}, not {rule.locked}")
            else:
                first = shows.index(rule.locked)
                if any(s != rule.asking for s in shows[:first]) or any(
                        s != rule.locked for s in shows[first:]):
                    problems.append(f"after {what} the reader showed {path}: {rule.locked} "
                                    "must come and stay")
    # The card keeps its lock (a card's PIN, not the visit's): after the lock the reader
    # never asks that card for its PIN again.
    locked_at = next((s.t for s in record.screens if s.shows == rule.locked), None)
    if locked_at is not None:
        again = [s for s in record.screens if s.t > locked_at and s.shows == rule.asking]
        if again:
            problems.append(f"after the lock at {locked_at:.1f} s the reader asked the locked "
                            f"card for its PIN again ({again[0].label()} at {again[0].t:.1f} s):"
                            f" it must say the card is locked ({rule.locked})")
        # ... and never lets it through: with its face not matched either, neither way of
        # the unattended mode (無人運転モード: the face or the PIN) identified the patient.
        faced = [i for i, a in enumerate(record.actions)
                 if a.what == "face" and a.t >= locked_at]
        for i in faced:
            seen = _after(record, i)
            path = " -> ".join(s.label() for s in seen) or "nothing"
            shows = {s.shows for s in seen}
            if rule.locked not in shows or shows & {rule.proceeds, "completion"}:
                problems.append(f"the locked card again at {record.actions[i].t:.1f} s, its "
                                f"face not matched: the reader showed {path}; it must say the "
                                f"card is locked ({rule.locked}) and go no further")
        if rule.tries_reset and not faced:
            problems.append(f"the locked card was not put in again after the lock at "
                            f"{locked_at:.1f} s: that it keeps its lock was not tried")
    # Fail closed: a record that did not try both halves proves neither.
    if not tried_lock:
        problems.append(f"no {n}th wrong PIN in a row was entered: the lock was not tried "
                        f"({record.path()})")
    if rule.tries_reset and not tried_reset:
        problems.append(f"no {n} wrong PINs in all were entered with a right one between: the "
                        f"reset was not tried ({record.path()})")
    return problems
