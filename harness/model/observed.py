"""What a flow, driven on a bench, was seen to do: the input of the flow rules.

A :class:`FlowRecord` is built by the flow runner from the cameras (reader and terminal
screens), the hands' log (what was done, when) and the receipt computer. It holds no device
and no secret: it can be written into a report as it is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import attrs

from harness.model.replay import Replay

if TYPE_CHECKING:
    from harness.model.profiles import ScreenStep

Result = Literal["handed_over", "none"]


@attrs.frozen
class ReadLine:
    """One line of text read off a screen by OCR, with the engine's confidence (0 to 1)."""

    text: str
    confidence: float


@attrs.frozen
class TextFinding:
    """One text a check expects, judged on the screen character for character."""

    expected: str
    found: bool
    #: ``glyphs``: each expected glyph compared with how the panel draws it; ``ocr``: what
    #: the OCR engine read, normalised (the detail says how); ``none``: nothing could judge it.
    method: str
    #: What was read where the text should be (or the nearest line), for the report.
    read: str = ""
    detail: str = ""
    #: Where it was found (the top-left corner, screen pixels), for the order of lines.
    x: float | None = None
    y: float | None = None

    def describe(self) -> str:
        """``expected 【901】, read 【011】 (glyphs: glyph 2 of 5 does not match)``."""
        how = f"{self.method}: {self.detail}" if self.detail else self.method
        if self.found and not self.read:  # glyphs verified in place: nothing else was read
            return f"expected {self.expected}, found ({how})"
        return f"expected {self.expected}, read {self.read or 'nothing'} ({how})"


@attrs.frozen
class SeenLamp:
    """A lamp beside a reader's screen as a look saw it (ERR-07), by the name the bench's
    camera gives it."""

    name: str
    #: ``unlit``, the colour it was lit in (``white``), or ``unread``.
    shows: str
    #: Why it could not be read (glare, out of the frame).
    why: str | None = None


@attrs.frozen
class SeenScreen:
    """One stretch of time a reader's screen showed one state (a camera's reading)."""

    #: First and last look that saw it (bench seconds).
    t: float
    until: float
    #: The reference state (``consent_2``), or ``unknown``.
    state: str
    #: Its screen class (``consent``); None when unknown.
    shows: str | None
    #: Texts confirmed on the screen.
    texts: tuple[str, ...] = ()
    #: Buttons shown, by name (staff, smartphone).
    buttons: tuple[str, ...] = ()
    overlay: str | None = None
    #: Unknown screens: the class of the nearest reference (texts hold what was read).
    candidate: str | None = None
    #: The lines OCR read on the screen when it came (read where a check wants texts).
    read: tuple[ReadLine, ...] = ()
    #: The texts the flow's checks expect of this screen, each judged on its first look.
    findings: tuple[TextFinding, ...] = ()
    #: Each state of the camera's lamps seen while the screen showed, in the order first
    #: seen (a lamp that changed meanwhile is there twice).
    lamps: tuple[SeenLamp, ...] = ()
    #: The camera frame the screen was decided on, as the evidence store keeps it (a path
    #: relative to the store), when frames are kept: the report shows it.
    frame: str | None = None

    def finding(self, text: str) -> TextFinding | None:
        return next((f for f in self.findings if f.expected == text), None)

    def is_step(self, step: ScreenStep) -> bool:
        """Whether this is the screen ``step`` wants: its class, or for an unknown screen
        (its layout moved, or no reference shows its texts) the nearest reference's class
        or one of the step's texts found on it (each rule then judges the texts whole)."""
        if self.shows is not None:
            return self.shows == step.screen
        wanted = [*step.texts, *step.contains, *step.contains_any]
        if not wanted:
            return False
        return self.candidate == step.screen or any(
            f is not None and f.found for f in map(self.finding, wanted))

    @property
    def taken_for(self) -> str:
        """Its class, or for an unknown screen the nearest reference's ('' if none): what
        the rules take a screen the camera half knows for (a 901 whose layout moved)."""
        return self.shows or self.candidate or ""

    @property
    def held_s(self) -> float:
        return self.until - self.t

    def label(self) -> str:
        if self.shows is None:
            near = f" (near {self.candidate})" if self.candidate else ""
            return f"unknown{near}"
        return self.state


@attrs.frozen
class SeenDialog:
    """A dialog seen on the terminal's monitor, and how it went."""

    t: float
    dialog: str
    texts: tuple[str, ...] = ()
    #: The button pressed on it, and when it went away.
    closed_by: str | None = None
    closed_t: float | None = None
    read: tuple[ReadLine, ...] = ()
    findings: tuple[TextFinding, ...] = ()
    #: The camera frame the dialog was seen on (evidence store path), when frames are kept.
    frame: str | None = None

    def finding(self, text: str) -> TextFinding | None:
        return next((f for f in self.findings if f.expected == text), None)


@attrs.frozen
class Action:
    t: float
    what: str
    #: When the hands had done it (None: at ``t``; an operator's or a robot's act takes
    #: time).
    until: float | None = None

    @property
    def done(self) -> float:
        return self.t if self.until is None else self.until


@attrs.frozen
class SeenApdu:
    """One command to a card on a reader's PC/SC side and its answer, as the transport
    recorded them: the command by its header and non-secret data (a PIN is redacted), the
    answer by its length and status word only (its data could be personal)."""

    t: float
    reader: str
    command: str
    response: str


@attrs.frozen
class PhoneRead:
    """The read test of a phone on a general reader through PC/SC (SP-07): which reader,
    whether the phone was read, and what it said it is (``smartphone`` or ``card``, from
    the JPKI token: never personal data)."""

    t: float
    reader: str
    ok: bool
    holder: str | None = None
    #: What went wrong, or the steps as the read test did them.
    detail: str = ""


@attrs.frozen
class PcscSighting:
    """A card on a general reader's PC/SC side while a phone was held (SP-03), as the rig
    read it: the bench's reader entry, its PC/SC name, and what the JPKI token says it is
    (``smartphone`` or ``card``; None: not read). Never personal data."""

    reader: str
    pcsc_name: str
    t: float
    holder: str | None = None
    #: The card was already there before the phone was held (it did not arrive with it).
    before: bool = False
    #: The probe's steps, or what went wrong.
    detail: str = ""


@attrs.frozen
class PhoneHold:
    """One hold of the patient's phone in a smartphone flow (SP-03): where the hands held
    it (``front``: the face-auth reader's own front; else a general reader by its bench
    entry), from when until it was taken away, and what the rig saw on the PC/SC side of
    each general reader of the bench meanwhile."""

    t: float
    where: str
    away_t: float | None = None
    #: Cards the rig found on the general readers' PC/SC sides during the hold.
    seen: tuple[PcscSighting, ...] = ()
    #: The general readers whose PC/SC side the rig watched.
    watched: tuple[str, ...] = ()
    #: General readers it could not watch, with why (a real bench: they are the terminal's).
    unwatched: tuple[tuple[str, str], ...] = ()


@attrs.define
class FlowRecord:
    flow: str
    reader: str
    given: tuple[str, ...] = ()
    screens: list[SeenScreen] = attrs.Factory(list)
    dialogs: list[SeenDialog] = attrs.Factory(list)
    actions: list[Action] = attrs.Factory(list)
    #: Whether the patient's result reached the receipt computer (None: not looked at).
    result: Result | None = None
    #: How many of the patient's results the receipt computer holds by the end, the run's
    #: attempts before recording started included (None: not looked at).
    results: int | None = None
    #: When each result from this reader reached the receipt computer during the run (bench
    #: seconds, in order), where the rig reads the receipt computer itself; None: it was
    #: read only at the end (a person at a real bench), so no result can be put to its visit.
    result_times: tuple[float, ...] | None = None
    #: How many digits the visual-confirmation passcode OQS issued for the flow had (never
    #: the passcode itself); None: none was issued.
    passcode_digits: int | None = None
    #: The management app the pairing was done in and the button that registered it, as
    #: they showed (None: no pairing in the flow, or no app showed).
    paired_in: tuple[str, str] | None = None
    #: The general reader the flow paired (SP-06, SP-07), and what the management app said
    #: at the end of the pairing: ``registered``, or ``refused: <its message>``.
    paired_general: str | None = None
    pairing_outcome: str | None = None
    #: The procedure's 置いた step (SP-04, USEN-ALMEX): True, the app took it; False, it
    #: was tried and the app had no 置いた to press (or did not take it); None: not tried.
    pairing_placed: bool | None = None
    #: The pairing's APDU transcript on that general reader's PC/SC side (SP-06), from the
    #: card placed on it until it was taken off; None: the rig could not watch it.
    card_apdus: list[SeenApdu] | None = None
    #: Why there is no transcript (the general reader has no PC/SC side the rig sees).
    card_apdus_unseen: str | None = None
    #: The read test of a staff phone on the general reader after the pairing (SP-07).
    phone_read: PhoneRead | None = None
    #: The patient's phone holds in a smartphone flow, in order (SP-03).
    phone_holds: list[PhoneHold] = attrs.Factory(list)
    #: The network scenario the flow replayed (NET-01): its periods and cuts, bench seconds.
    replay: Replay | None = None
    #: What went wrong while driving (a bounded wait that ran out, an impossible step).
    problems: list[str] = attrs.Factory(list)
    #: What the notice's procedure should have brought before the flow and did not (the
    #: maker's power-on routine, a given's set-up), with what was seen: nobody mends it, so
    #: each fails every check judged on this record.
    unmet: list[str] = attrs.Factory(list)

    def path(self) -> str:
        """The screens in order, for messages: ``first -> face_auth -> consent_1``."""
        return " -> ".join(s.label() for s in self.screens) or "nothing"

    def dialog_path(self) -> str:
        return " -> ".join(d.dialog for d in self.dialogs) or "no dialog"
