"""One flow driven on a bench: the hands act, the cameras watch, a FlowRecord is kept.

The runner knows no maker: it reads the reader's screen and the terminal's monitor through
the bench's cameras (what a lab engineer would see), logs what the hands did and when, and
asks the receipt computer what it received. Judging the record is the flow rules' business
(:mod:`harness.model.flow_rules`).

The network is the bench's: when the bench's network monitor saw it down during a run the
flow had not cut it in, the runner raises ``BenchFault("network.dropped")`` at the end of the
run (:meth:`FlowRun.check_network`) or at its first wait that times out, so the check is
``not_run``, never failed against the reader.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from harness.errors import BenchFault
from harness.hands import Hands, Patient
from harness.model.observed import (
    Action,
    FlowRecord,
    ReadLine,
    SeenDialog,
    SeenLamp,
    SeenScreen,
    TextFinding,
)
from harness.model.profiles import ExpectedTexts
from harness.model.screens import check_action
from harness.model.wait import wait_until

if TYPE_CHECKING:
    from harness.bench import Bench
    from harness.vision.evidence import EvidenceStore
    from harness.vision.reading import ScreenReading
    from harness.vision.text_check import TextCheck
    from harness.vision.watcher import Observation, ScreenWatcher

#: Terminal states that are not dialogs.
NOT_DIALOGS = {"desktop", "off", "unknown"}
#: Bench seconds from an action to the first look, and at most between looks after.
FIRST_LOOK_S, STEP_S = 0.5, 4.0
#: A text a screen (or a dialog) was expected to show but did not is judged again on this
#: many later looks at it (a frame blurred by a passing hand is not the reader's fault; a
#: wrong text fails on every look).
REJUDGE = 2
#: What the hands do to the terminal's network: a flow doing one tests the reader without
#: it, so from then until the next restore the network's state is the flow's own.
NETWORK_ACTIONS = frozenset({"lan_cable", "line_auth", "outage", "network_stuck",
                             "router_restart", "network_cut"})


class NetworkNotingHands:
    """The run's hands, noting when the bench was last restored (every cable back in) and
    when the flow first touched the network after that."""

    def __init__(self, hands: Hands, clock: Any) -> None:
        self.inner = hands
        self.clock = clock
        self.restored_t: float | None = None
        self.cut_t: float | None = None

    def __getattr__(self, name: str) -> Any:
        action = getattr(self.inner, name)
        if name not in NETWORK_ACTIONS and name != "restore":
            return action

        def noted(*args: object, **kwargs: object) -> object:
            if name in NETWORK_ACTIONS and self.cut_t is None:
                self.cut_t = self.clock.now()
            result = action(*args, **kwargs)
            if name == "restore":
                self.restored_t, self.cut_t = self.clock.now(), None
            return result

        return noted


class FlowRun:
    def __init__(self, bench: Bench, hands: Hands, reader: str, flow: str,
                 given: tuple[str, ...] = (), *, watch_terminal: bool = False,
                 general: str | None = None, evidence: EvidenceStore | None = None,
                 expected: ExpectedTexts | None = None,
                 bounds: Mapping[str, tuple[float, ...]] | None = None) -> None:
        self.bench = bench
        self.clock = bench.clock
        self.hands: Hands = NetworkNotingHands(hands, self.clock)  # type: ignore[assignment]
        self.reader = reader
        #: Bench seconds when the run began (its network check's earliest moment).
        self.started = self.clock.now()
        self.eyes: ScreenWatcher = bench.watcher(reader, evidence=evidence)
        self.terminal_eyes: ScreenWatcher | None = None
        if watch_terminal:
            self.terminal_eyes = bench.watcher(bench.spec.terminal.name, evidence=evidence)
        self.record = FlowRecord(flow, reader, tuple(given))
        self.patient = Patient(f"patient-{flow}", "4321")
        self.last: ScreenReading | None = None
        self.last_blank = False
        #: The visual-confirmation passcode, once issued (never recorded).
        self.passcode: str | None = None
        self._general = general
        self._recording = True
        #: The texts the flow's checks judge, read off each screen when it comes.
        self.expected = expected or ExpectedTexts()
        self._rejudge = 0
        self._rejudge_dialog = 0
        #: Per action, the bounds (seconds) its checks give a screen it brings (CON-01:
        #: the first screen within 5 s of the card-out), and the moments a look is due:
        #: a screen is seen by its bound, or was not there by it. Between two of a wait's
        #: own looks (4 s apart) a screen that came in time was stamped late.
        self._bounds = dict(bounds or {})
        self._due: list[float] = []

    def general_reader(self) -> str | None:
        """The general reader this run pairs and holds phones over: the one asked for, or
        the bench's first."""
        if self._general is not None:
            return self._general
        return next((r.name for r in self.bench.spec.readers if r.kind == "general_reader"),
                    None)

    # -- watching ------------------------------------------------------------------------
    def look(self, *, terminal: bool = False) -> ScreenReading:
        """One look at the reader; at the terminal too when asked, or while a dialog is
        open (to see it close)."""
        # A decision point wants a frame of its own, not the last one vouched still: the
        # first screen of the record (its texts are read) and a text still to be judged
        # again.
        screens = self.record.screens
        fresh = self._recording and (not screens or bool(self._missing(screens[-1])))
        obs = self.eyes.look(fresh=fresh)
        reading = _reading(obs)
        self.last = reading
        #: A blank panel: dark, though unknown until the camera has found the screen once.
        self.last_blank = obs.decision.blank or reading.shows == "dark"
        if self._recording:
            self._note_screen(reading, obs)
            if self.terminal_eyes is not None and (terminal or self._dialog_open()):
                self._note_terminal(self.terminal_eyes.look())
        return reading

    def _dialog_open(self) -> bool:
        return bool(self.record.dialogs) and self.record.dialogs[-1].closed_t is None

    def _note_screen(self, reading: ScreenReading, obs: Observation) -> None:
        screens = self.record.screens
        t = obs.t
        lamps = _lamps(obs)
        if screens and (screens[-1].state, screens[-1].buttons, screens[-1].texts) == (
                reading.state, reading.buttons, reading.texts):
            seen = screens[-1].lamps
            screens[-1] = self._rejudged(attrs.evolve(
                screens[-1], until=t, lamps=seen + tuple(x for x in lamps if x not in seen)),
                obs)
            return
        candidate = None
        if reading.candidate is not None:  # the nearest state, as a screen class
            refs = self.eyes.classifier.references
            candidate = next((r.shows for r in refs if r.state == reading.candidate), None)
        shown, absent = self.expected.for_screen(reading.shows)
        lines: tuple[ReadLine, ...] = ()
        findings: tuple[TextFinding, ...] = ()
        if shown or absent:  # a decision point: the screen is read
            read, checks = self.eyes.read_texts(obs, shown, absent)
            lines, findings = _lines(read), tuple(map(_finding, checks))
            self._rejudge = REJUDGE
        screens.append(SeenScreen(t, t, reading.state, reading.shows, reading.texts,
                                  reading.buttons, reading.overlay, candidate, lines, findings,
                                  lamps, frame=obs.evidence.image if obs.evidence else None))

    def _rejudged(self, seen: SeenScreen, obs: Observation) -> SeenScreen:
        """Texts the screen should show but did not, judged again on a later look of it."""
        missing = self._missing(seen)
        if not missing:
            return seen
        self._rejudge -= 1
        return attrs.evolve(seen, findings=_found_again(seen.findings, self.eyes, obs, missing))

    def _missing(self, seen: SeenScreen) -> list[str]:
        """The texts ``seen`` should show and did not, while they may be judged again."""
        return _unfound(seen.findings, self._rejudge, self.expected.for_screen(seen.shows)[1])

    def _dialog_missing(self) -> list[str]:
        """The same for the dialog open on the terminal."""
        if not self._dialog_open():
            return []
        return _unfound(self.record.dialogs[-1].findings, self._rejudge_dialog)

    def _note_terminal(self, obs: Observation) -> None:
        reading = _reading(obs)
        t = obs.t
        dialogs = self.record.dialogs
        open_ = dialogs[-1] if dialogs and dialogs[-1].closed_t is None else None
        state = reading.state if reading.state not in NOT_DIALOGS else None
        if open_ is not None and open_.dialog != state:
            # Closed by the button pressed meanwhile, at that moment; else seen gone now.
            press = self._press_since(open_.t)
            dialogs[-1] = attrs.evolve(
                open_, closed_by=press.what.split(":", 1)[1] if press else None,
                closed_t=press.t if press else t)
            open_ = None
        if state is not None and open_ is None:
            lines: tuple[ReadLine, ...] = ()
            findings: tuple[TextFinding, ...] = ()
            wanted = self.expected.for_dialog(state)
            if wanted and self.terminal_eyes is not None:
                read, checks = self.terminal_eyes.read_texts(obs, wanted)
                lines, findings = _lines(read), tuple(map(_finding, checks))
                self._rejudge_dialog = REJUDGE
            dialogs.append(SeenDialog(t, state, reading.texts, read=lines, findings=findings,
                                      frame=obs.evidence.image if obs.evidence else None))
            self._rejudge_open_dialog()

    def _rejudge_open_dialog(self) -> None:
        """A dialog's text not found on the frame it first showed on is judged again on
        the camera's next frames, at once: the staff may answer the dialog before the
        flow looks again (a screen's texts wait for its later looks)."""
        eyes, dialogs = self.terminal_eyes, self.record.dialogs
        while eyes is not None and (missing := self._dialog_missing()):
            self._rejudge_dialog -= 1
            obs = eyes.look(fresh=True)
            if _reading(obs).state != dialogs[-1].dialog:
                return  # not seen as that dialog on this frame: nothing to judge it on
            dialogs[-1] = attrs.evolve(dialogs[-1], findings=_found_again(
                dialogs[-1].findings, eyes, obs, missing))

    def _press_since(self, t: float) -> Action | None:
        pressed = [a for a in self.record.actions if a.what.startswith("terminal:") and a.t >= t]
        return pressed[-1] if pressed else None

    def pause_recording(self) -> None:
        """What follows is setting up (a given), not the flow under test."""
        self._recording = False

    def start_recording(self) -> None:
        self.record.screens.clear()
        self.record.dialogs.clear()
        self.record.actions.clear()
        self._recording = True

    # -- acting ----------------------------------------------------------------------------
    def do(self, what: str, action: Callable[[], object]) -> None:
        """Do something with the hands and log it (``what`` as the flow rules name it: one
        of the profiles' vocabulary, so that a rule naming an action can be checked when
        its profile loads; a name outside it is the rig's own mistake)."""
        check_action(what)
        if not self._recording:
            action()
            return
        self.record.actions.append(Action(self.clock.now(), what))
        self._due += [self.clock.now() + bound for bound in self._bounds.get(what, ())]
        action()
        done = self.clock.now()
        if done > self.record.actions[-1].t:
            self.record.actions[-1] = attrs.evolve(self.record.actions[-1], until=done)

    def pause(self, seconds: float) -> None:
        """Let ``seconds`` of bench time pass, looking at each moment a look is due (an
        action's bound) on the way."""
        end = self.clock.now() + seconds
        while True:
            now = self.clock.now()
            self._due = [t for t in self._due if t > now]
            due = min((t for t in self._due if t < end), default=None)
            if due is None:
                break
            self._due.remove(due)
            self.hands.wait(due - now)
            self.look()
        self.hands.wait(max(0.0, end - self.clock.now()))

    def press_terminal(self, button: str) -> None:
        self.do(f"terminal:{button}", lambda: self.hands.terminal_press(button))
        self.pause(FIRST_LOOK_S)
        self.look(terminal=True)

    def wait(self, seconds: float) -> ScreenReading:
        self.pause(seconds)
        return self.look()

    def wait_until(self, wanted: Callable[[ScreenReading], bool], timeout_s: float,
                   what: str, step_s: float = STEP_S, *, terminal: bool = False) -> bool:
        """Look until ``wanted``: soon after an action, then less often (at most every
        ``step_s``); False (and a problem noted) on timeout."""
        waited = wait_until(self.clock, lambda: self.look(terminal=terminal), wanted,
                            timeout_s, step_s=step_s, first_s=FIRST_LOOK_S,
                            sleep=self.pause)
        if not waited.ok:
            self.check_network()  # a network the bench lost explains it: not the reader
            self.problem(f"waited {timeout_s:g} s for {what}; the reader showed "
                         f"{self.record.path() if self._recording else waited.last.state}")
        return waited.ok

    def wait_for(self, shows: str | set[str], timeout_s: float = 20.0,
                 step_s: float = STEP_S) -> bool:
        wanted = {shows} if isinstance(shows, str) else shows
        return self.wait_until(lambda r: r.shows in wanted, timeout_s,
                               " or ".join(sorted(wanted)), step_s)

    def wait_change(self, timeout_s: float = 20.0, step_s: float = STEP_S, *,
                    terminal: bool = False) -> bool:
        """Wait for the reader to leave the state it shows now (looking at the terminal
        too, when asked)."""
        before = self.last.state if self.last is not None else None
        return self.wait_until(lambda r: r.state != before, timeout_s,
                               f"a change from {before}", step_s, terminal=terminal)

    def wait_dialog(self, dialog: str, timeout_s: float = 30.0, step_s: float = STEP_S) -> bool:
        def shown(_: ScreenReading) -> bool:
            d = self.record.dialogs
            return bool(d) and d[-1].dialog == dialog and d[-1].closed_t is None

        return self.wait_until(shown, timeout_s, f"the terminal's {dialog} dialog", step_s,
                               terminal=True)

    def hold(self, seconds: float, step_s: float = 2.0,
             during: dict[float, tuple[str, Callable[[], object]]] | None = None) -> None:
        """Watch for ``seconds``, doing ``during[offset]`` at those offsets."""
        start = self.clock.now()
        pending = sorted((during or {}).items())
        self.look()
        while self.clock.now() - start < seconds - 1e-9:
            step = min(step_s, seconds - (self.clock.now() - start))
            if pending and self.clock.now() - start + step >= pending[0][0]:
                offset, (what, action) = pending.pop(0)
                self.pause(max(0.0, start + offset - self.clock.now()))
                self.look()
                self.do(what, action)
                # A look soon after the act: a screen that answers it for a moment (the
                # card-out seen by a screen that must not change) is not left between looks.
                self.wait(min(FIRST_LOOK_S, max(0.0, seconds - (self.clock.now() - start))))
                continue
            self.wait(step)
        self.look()

    def problem(self, text: str) -> None:
        self.record.problems.append(text)

    def check_network(self) -> None:
        """``BenchFault("network.dropped")`` if the bench's network monitor saw the network
        down during this run, from its last restore (or its start) until the flow first cut
        the network itself (or now): bounded by the run it happened in. A bench without a
        monitor cannot tell; the flow's own cuts are never a bench fault."""
        monitor = self.bench.network_monitor
        if monitor is None:
            return
        hands: NetworkNotingHands = self.hands  # type: ignore[assignment]
        since = hands.restored_t if hands.restored_t is not None else self.started
        until = hands.cut_t if hands.cut_t is not None else self.clock.now()
        for down, up in monitor.downs(since, until):
            # Strictly inside: a cut left by the run before ends at this run's restore.
            if down < until and (up is None or up > since):
                end = f"t={up:.1f} s" if up is not None else \
                    f"t={self.clock.now():.1f} s (still down)"
                raise BenchFault(
                    "network.dropped", "network",
                    f"down from t={down:.1f} s to {end}, during {self.record.flow} on "
                    f"{self.reader}, which had not cut it")

    def result(self) -> None:
        """Ask the receipt computer whether this run's patient's result arrived."""
        received = self.hands.received_results()
        self.record.result = "handed_over" if self.patient.label in received else "none"
        self.record.results = received.count(self.patient.label)
        # Hands that read the receipt computer themselves (the twins) say when each result
        # came; a person reads it at the end only (no such method): the times stay unknown.
        times = getattr(self.hands, "received_result_times", None)
        if times is not None:
            self.record.result_times = tuple(times(self.reader))


def _reading(obs: Observation) -> ScreenReading:
    if obs.reading is None:  # every look reads; a watcher without it is a bug
        raise AssertionError("a look without a reading")
    return obs.reading


def _lamps(obs: Observation) -> tuple[SeenLamp, ...]:
    """The lamps the camera read beside the screen on this look."""
    return tuple(SeenLamp(lamp.name, "unread", lamp.why) if lamp.why is not None
                 else SeenLamp(lamp.name, (lamp.colour or "lit") if lamp.lit else "unlit")
                 for lamp in obs.lamps)


def _lines(reading: ScreenReading) -> tuple[ReadLine, ...]:
    return tuple(ReadLine(line.text, round(line.confidence, 3)) for line in reading.lines)


def _finding(check: TextCheck) -> TextFinding:
    """A vision text check as the flow rules read it: ``found`` is whether the text is on
    the screen, whichever way the check was asked."""
    x, y = (float(check.where[0]), float(check.where[1])) if check.where else (None, None)
    return TextFinding(check.expected, check.ok == check.wanted, check.method, check.read,
                       check.detail, x, y)


def _unfound(findings: tuple[TextFinding, ...], left: int,
             absent: Sequence[str] = ()) -> list[str]:
    """The texts a screen or dialog should show and did not, while ``left`` looks may judge
    them again (a text it must not show is no such text)."""
    if left <= 0:
        return []
    return [f.expected for f in findings
            if f.method != "none" and not f.found and f.expected not in absent]


def _found_again(findings: tuple[TextFinding, ...], eyes: ScreenWatcher, obs: Observation,
                 missing: list[str]) -> tuple[TextFinding, ...]:
    """``findings`` with those of ``missing`` judged again on ``obs``: a text found now
    replaces its finding; one still not found keeps the first."""
    _, checks = eyes.read_texts(obs, missing)
    now = {c.expected: _finding(c) for c in checks if c.ok}
    return tuple(now.get(f.expected, f) for f in findings)
