"""Flow checks of the profiles, judged against what a flow was seen to do.

Pure functions (DESIGN.md principle 5): a :class:`~harness.model.profiles.FlowCheck` and a
:class:`~harness.model.observed.FlowRecord` in, the problems out (none: the check holds).
Each problem says what was expected and what was seen.

How a check reads:
- ``screens`` must be seen in this order (other screens may come between);
- ``dialogs`` likewise on the terminal, each closed with its ``press`` button;
- ``never``: no screen of these classes; ``result``: what reached the receipt computer.
A screen the camera did not recognise stands for the class of its nearest reference only
where the step asks for texts, and then only the texts read on it count (a 901 screen
missing a line still shows its 【901】 code, but not the missing line).
"""

from __future__ import annotations

from harness.model.observed import FlowRecord, SeenDialog, SeenScreen
from harness.model.profiles import DialogStep, FlowCheck, ScreenStep


def check_flow(check: FlowCheck, record: FlowRecord) -> list[str]:
    problems = _screens(check.screens, record)
    problems += _dialogs(check.dialogs, record)
    for seen in record.screens:
        if seen.shows in check.never:
            problems.append(f"{seen.shows} must never show in this flow; it did at "
                            f"{seen.t:.1f} s ({record.path()})")
    if check.result is not None and record.result != check.result:
        got = {"handed_over": "the patient's result", "none": "nothing",
               None: "(not looked at)"}[record.result]
        want = "the patient's result" if check.result == "handed_over" else "nothing"
        problems.append(f"the receipt computer should get {want}; it got {got}")
    return problems


def _is(seen: SeenScreen, step: ScreenStep) -> bool:
    if seen.shows is not None:
        return seen.shows == step.screen
    wants_text = bool(step.texts or step.contains or step.contains_any)
    return wants_text and seen.candidate == step.screen


def _screens(steps: list[ScreenStep], record: FlowRecord) -> list[str]:
    problems: list[str] = []
    start = 0
    for n, step in enumerate(steps):
        after = f" after {steps[n - 1].screen}" if n else ""
        matches = [k for k in range(start, len(record.screens)) if _is(record.screens[k], step)]
        if not matches:
            problems.append(f"{step.screen} was not seen{after}; the reader showed "
                            f"{record.path()}")
            continue
        first_problem = None
        for k in matches:
            problem = _screen_problem(step, record.screens[k], record)
            if problem is None:
                start = k + 1
                break
            first_problem = first_problem or problem
        else:
            problems.append(first_problem or "")
            start = matches[0] + 1
        if step.not_before is not None:
            problems += _not_before(step, record)
    return problems


def _has(texts: tuple[str, ...], fragment: str) -> bool:
    return any(fragment in text for text in texts)


def _screen_problem(step: ScreenStep, seen: SeenScreen, record: FlowRecord) -> str | None:
    what = f"{step.screen} (seen as {seen.label()} at {seen.t:.1f} s)"
    read = "; ".join(seen.texts) or "no text"
    missing = [t for t in [*step.texts, *step.contains] if not _has(seen.texts, t)]
    if missing:
        return f"{what} does not show {', '.join(missing)}; read: {read}"
    if step.contains_any and not any(_has(seen.texts, t) for t in step.contains_any):
        return f"{what} shows none of {', '.join(step.contains_any)}; read: {read}"
    present = [t for t in step.absent if _has(seen.texts, t)]
    if present:
        return f"{what} shows {', '.join(present)}, which it must not"
    if step.overlay is not None and seen.overlay != step.overlay:
        return f"{what} has no {step.overlay} over it"
    lacking = [b for b in step.buttons if b not in seen.buttons]
    if lacking:
        return f"{what} lacks the {', '.join(lacking)} button (shows: " \
               f"{', '.join(seen.buttons) or 'none'})"
    extra = [b for b in step.no_buttons if b in seen.buttons]
    if extra:
        return f"{what} shows the {', '.join(extra)} button, which it must not yet"
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
    return None


def _next_after(seen: SeenScreen, record: FlowRecord) -> str:
    later = [s for s in record.screens if s.t > seen.t]
    return later[0].label() if later else "nothing more was seen"


def _not_before(step: ScreenStep, record: FlowRecord) -> list[str]:
    closed = next((d for d in record.dialogs if d.dialog == step.not_before), None)
    if closed is None or closed.closed_t is None:
        return []  # the dialog steps report a dialog that never came or never closed
    early = [s for s in record.screens if _is(s, step) and s.t < closed.closed_t]
    if not early:
        return []
    return [f"{step.screen} showed at {early[0].t:.1f} s, before {step.not_before} was "
            f"closed at {closed.closed_t:.1f} s: it must come from closing it"]


def _dialogs(steps: list[DialogStep], record: FlowRecord) -> list[str]:
    problems: list[str] = []
    start = 0
    for n, step in enumerate(steps):
        after = f" after {steps[n - 1].dialog}" if n else ""
        k = next((k for k in range(start, len(record.dialogs))
                  if record.dialogs[k].dialog == step.dialog), None)
        if k is None:
            problems.append(f"the terminal did not show {step.dialog}{after}; it showed "
                            f"{record.dialog_path()}")
            continue
        start = k + 1
        problem = _dialog_problem(step, record.dialogs[k])
        if problem is not None:
            problems.append(problem)
    return problems


def _dialog_problem(step: DialogStep, seen: SeenDialog) -> str | None:
    missing = [t for t in step.texts if not _has(seen.texts, t)]
    if missing:
        return f"{step.dialog} does not show {', '.join(missing)}"
    if step.press is not None and seen.closed_by != step.press:
        how = f"closed by {seen.closed_by}" if seen.closed_by else "never closed"
        return f"{step.dialog} should be closed with {step.press}; it was {how}"
    return None
