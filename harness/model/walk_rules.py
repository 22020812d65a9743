"""Random walks judged by the profile's own rules: the walk's plan, its rules, its coverage.

A walk (``harness/flows/walk.py`` drives one) is patients and staff acting on one face-auth
reader in random order, the reader looked at after each action: a list of
:class:`WalkStep` (the action, the screen it was done on, the screens seen after it, when).
A walk is not a flow: it wanders in and out of visits, so it is judged by the rules of the
profile's flow checks that hold *wherever* a visit goes, each while its flow is in force:

- ``upon`` (CON-01): the step's screen comes from the action done on the step before's
  screen. Each time the action is done there, the screen follows within ``within_s``; each
  time the screen follows that one, the action was done (while it could be: a card in the
  reader to take out). The action must be tried both soon after the screen came and after
  holding it longer than ``within_s``: a reader going back on a timer of its own, whatever
  the timer, fails one of the two (too early, or too late after the action).
- ``pin_count`` (AUTH-02): PIN by PIN, counted on the walk's one card across visits (the
  card keeps its count): wrong entries before ``locks_after`` in a row leave the reader
  asking, the ``locks_after``-th locks, a right one goes on and starts the count again;
  both halves must be tried.
- ``never``: a screen every flow in force forbids.
- ``responses``: what an action must not bring, on the screens after it until the walk's
  next action (a response's ``until``, SP-02's "until the right PIN", is the flows': a
  walk may go anywhere after a wrong code, so it judges less than the flow does).
- a step's ``buttons`` / ``no_buttons``: on every screen of its class seen while its flow is
  in force (on the first screen every flow of the walk's world is: no visit has chosen yet).
- a first-screen button guard (AUTH-03's staff button, SP-01's smartphone button:
  :mod:`harness.model.guard_rules`): on every first screen of every walk, whatever the
  visits before it, shown exactly when the walk's world set its precondition up (a walk
  restarts nothing and pairs nothing); shown and hidden each tried in their own worlds.
- the order of a flow's screens: where a flow takes, on a step's screen, an action that
  chooses it (:data:`CHOOSES`: the card on the first screen, the staff and smartphone
  buttons, iPhone or Android), or its only action there (the staff's confirmation, the
  phone's PIN, the phone held, the card placed; not an action it repeats, :data:`REPEATS`),
  the next step's screen follows within :data:`LEADS_S`.
- a person's screens wait for the person: on a step's screen where the flow's procedure
  needs a person's act (a face, a PIN, a consent, the staff's passcode and confirmation,
  a phone; not a screen it waits on, as the completion), no wait brings a screen of a
  class the flow shows only after it, nor, where the procedure repeats its act there (one
  consent screen after another), another screen of that class: what a person's act brings
  must not come by a timer. A flow in force forbids the classes it names after the screen
  and allows those it names up to it (and, where its act there is one a time-out stands
  for, a face that does not match, its next step: a face time-out may bring the PIN); it
  says nothing of classes it does not name; one that waits on the screen allows all. A
  class is forbidden if a flow in force forbids it and none allows it. Judged on every
  wait; tried by :data:`PERSON_WAIT`, watched every :data:`PERSON_LOOK_S` until the
  screen changes (a timer's screen, then where it leads), on each screen of the class a
  visit shows (the walks wait once on each, per flows in force).
- fail closed: every screen seen must be one the camera recognises, of a class the
  profile's flows name or one a visit passes through (:data:`PASSING`); anything else is a
  failure of every requirement in force there, with the screen as evidence.

Not judged on walks: texts (reading a screen costs 0.1-0.3 s; the flow suite reads them),
terminal dialogs, overlays and holds (``stays_s`` and the E901 timing rules), and flows that
start from a fault or a procedure (E901, upgrades, pairing, network): their checks are the
flow suite's. A rule that no walk tried is an error, not a pass.

Worlds. Each check names preconditions (``given``); those a walk can set up before it starts
(:data:`WORLD_GIVENS`) are merged into as few worlds as can hold together (a passcode issued
and one just issued cannot; :data:`EXCLUSIVE`). A rule is judged in every world whose
givens include its own; the walks of one certification run in each world in turn.

Flows in force. A visit starts on the first screen, where every flow of the world is in
force; an action that chooses flows (:data:`CHOOSES`) narrows them for the rest of the
visit (an action that would leave none narrows nothing); the visit ends when the first
screen shows again.

The (state, action) pairs the profile names: for each flow check a walk can take (a flow of
:data:`FLOW_ACTIONS` in a world), each screen class its steps name, with each action that
flow's procedure takes on that screen (:data:`FLOW_ACTIONS`: the drivers' procedure in the
walk's words) and each a person may do there out of turn (:data:`INTRUSIONS`). A pair is reached when a walk did the action on a screen of that class.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import attrs

from harness.model.guard_rules import expected_in_world
from harness.model.observed import Action, FlowRecord, SeenScreen
from harness.model.verdict import Evidence, Verdict
from harness.model.visit_rules import BACK, WAITING, visit_problems

if TYPE_CHECKING:
    from harness.model.profiles import FlowCheck, PinCount, Profile

#: The first screen: every visit starts and ends there.
HOME = "first"
#: Classes a visit passes through that no flow check needs to name (the check runs).
PASSING = frozenset({"checking"})
#: Bench seconds a choosing action has to bring the next step's screen (the drivers wait as
#: long for it: harness/flows/drivers.py).
LEADS_S = 10.0
#: A person's screen is tried by this wait (bench seconds), watched every PERSON_LOOK_S: the
#: notices give no time-out. On a real bench a timer longer than PERSON_WAIT_S is not seen;
#: an emulated bench's clock is virtual (a look at a still screen costs next to nothing),
#: so there the wait is PERSON_WAIT_EMULATED_S (hunt F13-F20: a consent, a PIN, a face or
#: the staff's check taken by a timer of 121 s passed the 120 s wait).
PERSON_WAIT_S, PERSON_WAIT_EMULATED_S, PERSON_LOOK_S = 120.0, 900.0, 5.0
PERSON_WAIT = "wait:person"
#: Acts a time-out may stand for: no face in front of the camera is a face not matched.
TIMED = frozenset({"face:no_match"})

#: What a person does on each screen of a flow a walk takes: the drivers' procedure
#: (harness/flows/drivers.py) in the walk's words. ``wait`` is any of the walk's waits.
FLOW_ACTIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "consent": {"first": ("card_in",), "face_auth": ("face:match",), "consent": ("consent",),
                "completion": ("wait", "card_out")},
    "face_auth": {"first": ("card_in",), "face_auth": ("face:match",), "consent": ("consent",),
                  "completion": ("wait", "card_out")},
    "pin_lock": {"first": ("card_in",), "face_auth": ("face:no_match",),
                 "pin_entry": ("pin:wrong", "pin:right"), "pin_locked": ("card_out",),
                 "consent": ("card_out",)},
    "staff_visual": {"first": ("wait", "press:staff"),
                     "staff_passcode": ("passcode:right", "passcode:wrong"),
                     "visual_confirm": ("staff_confirm",), "place_card": ("card_in",),
                     "consent": ("consent",), "completion": ("wait", "card_out")},
    "passcode_first_issue": {"first": ("wait",)},
    "first_screen": {"first": ("wait",)},
    "smartphone_iphone": {"first": ("press:smartphone",), "sp_choose": ("press:iphone",),
                          "sp_hold": ("hold_phone",), "consent": ("consent",),
                          "completion": ("wait",)},
    "smartphone_android": {"first": ("press:smartphone",), "sp_choose": ("press:android",),
                           "sp_pin": ("phone_pin:right", "phone_pin:wrong"),
                           "sp_hold": ("hold_phone",), "consent": ("consent",),
                           "completion": ("wait",)},
}
#: What a person may do out of turn on a flow's screen, tried once each by the walks (the
#: visit rules judge what follows; hunt E-5): a patient's card put in on the staff's
#: passcode and confirmation screens and on the phone's choice. Not the procedure: no rule
#: of the flow is drawn from them, and no leads-to rule judged while such a card lies on
#: the reader (:func:`intruded`). (A card on a phone's completion is the iPhone flow's;
#: each pair costs CI a few walk steps per maker.)
INTRUSIONS: dict[str, dict[str, tuple[str, ...]]] = {
    # (hunt F: a phone held where the reader did not ask for it, a card put in on the
    # phone's screens; each tried once per maker)
    "staff_visual": {"staff_passcode": ("card_in",), "visual_confirm": ("card_in",),
                     "place_card": ("hold_phone",)},
    "smartphone_iphone": {"first": ("hold_phone",), "sp_choose": ("card_in", "hold_phone"),
                          "sp_hold": ("card_in",)},
    "smartphone_android": {"sp_pin": ("card_in", "hold_phone")},
}
#: Where the phone's procedure holds the phone (お知らせ 《スマートフォンのマイナ保険証を使った受付の
#: 手順》 ③, after ① the button and the phone's kind, ② its authentication).
PHONE_HOLD = "sp_hold"
#: Screens that say a phone held was read: the consents, the check, its completion.
PHONE_READ = frozenset({"consent", "checking", "completion"})
#: Actions that choose the flows of a visit.
CHOOSES: dict[str, frozenset[str]] = {
    "card_in": frozenset({"consent", "face_auth", "pin_lock"}),
    "press:staff": frozenset({"staff_visual"}),
    "press:smartphone": frozenset({"smartphone_iphone", "smartphone_android"}),
    "press:iphone": frozenset({"smartphone_iphone"}),
    "press:android": frozenset({"smartphone_android"}),
}
#: Actions a procedure repeats while their screen shows (one consent screen after another):
#: what they bring next is not the flow's next step.
REPEATS = frozenset({"consent"})
#: Codes typed to be refused (AUTH-05, SP-02): they bring no next step of the flow. (A wrong
#: PIN on the card's path is the lock's count: the flow's procedure.)
REFUSED = frozenset({"passcode:wrong", "phone_pin:wrong"})
#: What an action needs the reader to hold (a card to take out).
NEEDS: dict[str, str] = {"card_out": "card"}
#: Preconditions a walk can set up before it starts (harness/flows/setup.py arranges them).
WORLD_GIVENS = frozenset({"passcode_issued", "passcode_first_issue", "no_passcode_issued",
                          "paired", "not_paired", "no_general_reader"})
#: Preconditions that cannot hold together.
EXCLUSIVE = frozenset(map(frozenset, [
    ("passcode_issued", "passcode_first_issue"), ("passcode_issued", "no_passcode_issued"),
    ("passcode_first_issue", "no_passcode_issued"), ("paired", "not_paired"),
    ("paired", "no_general_reader")]))

World = tuple[str, ...]
Pair = tuple[str, str]


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def pair_action(action: str) -> str:
    """The action as the pairs name it: every wait is ``wait``."""
    return "wait" if action.startswith("wait") else action


# -- what a walk saw ----------------------------------------------------------------------------
@attrs.frozen
class Look:
    """One look at the reader's screen."""

    t: float
    state: str
    #: Its screen class; None when the camera did not recognise it.
    shows: str | None
    buttons: tuple[str, ...] = ()
    #: Unknown screens: the class of the nearest reference.
    candidate: str | None = None
    #: It shows a 戻る (a walk's press of ``cancel`` elsewhere presses nothing).
    back: bool = False

    def label(self) -> str:
        if self.shows is None:
            return f"unknown (near {self.candidate})" if self.candidate else "unknown"
        extra = f"[{'+'.join(self.buttons)}]" if self.buttons else ""
        return f"{self.state}{extra}"

    def same(self, other: Look) -> bool:
        return (self.state, self.buttons) == (other.state, other.buttons)


@attrs.frozen
class WalkStep:
    action: str
    #: When it was done (bench seconds).
    t: float
    #: The look the action was done on (the last one before it).
    before: Look
    #: The looks after it, until the next action.
    after: tuple[Look, ...]
    #: What the reader holds after the action (``card``).
    holding: frozenset[str] = frozenset()

    def describe(self) -> str:
        seen = " -> ".join(f"{look.label()}@{look.t - self.t:.1f}s" for look in self.after)
        return f"{self.action} on {self.before.label()}: {seen or 'nothing seen'}"


@attrs.frozen
class Walk:
    reader: str
    world: World
    #: The look the walk started on (None: the reader was never looked at).
    start: Look | None
    steps: tuple[WalkStep, ...] = ()
    #: Givens whose set-up did not bring what the procedure should have, with what was seen
    #: (``""``: the morning itself).
    unmet: tuple[tuple[str, str], ...] = ()

    def looks(self) -> Iterator[Look]:
        if self.start is not None:
            yield self.start
        for step in self.steps:
            yield from step.after

    def effective(self) -> World:
        """The world's givens that were set up."""
        failed = {g for g, _ in self.unmet}
        return tuple(g for g in self.world if g not in failed)

    def path(self) -> str:
        return "; ".join(s.describe() for s in self.steps) or "no step"


# -- the rules -----------------------------------------------------------------------------------
@attrs.frozen(kw_only=True)
class Rule:
    requirement: str
    flow: str
    given: World

    #: The parts of the rule a walk must try (each at least once).
    halves: ClassVar[tuple[str, ...]] = ("tried",)

    def applies(self, world: Iterable[str]) -> bool:
        return set(self.given) <= set(world)

    def describe(self) -> str:
        raise NotImplementedError

    def where(self) -> str:
        given = f" given {', '.join(self.given)}" if self.given else ""
        return f"{self.flow}{given}"


@attrs.frozen(kw_only=True)
class UponRule(Rule):
    before: str
    action: str
    to: str
    within_s: float
    #: The action done soon after the screen came, and after a hold longer than the bound.
    halves: ClassVar[tuple[str, ...]] = ("soon", "late")

    def describe(self) -> str:
        return (f"{self.where()}: {self.to} upon {self.action} on {self.before} (soon after "
                f"it came, and after a hold past {self.within_s:g} s), within "
                f"{self.within_s:g} s, never by itself")


@attrs.frozen(kw_only=True)
class LeadsRule(Rule):
    on: str
    action: str
    to: str
    within_s: float = LEADS_S

    def describe(self) -> str:
        return f"{self.where()}: {self.action} on {self.on} leads to {self.to}"


@attrs.frozen(kw_only=True)
class PersonRule(Rule):
    """A screen where the flow waits for a person: a wait there never brings ``later``
    (the classes the flow shows only after it), nor another screen of its class where the
    flow repeats its action there."""

    screen: str
    #: Classes the flow names after the screen (it forbids them) ...
    later: tuple[str, ...]
    #: ... and those a wait there may bring (named up to it; its next step after an act a
    #: time-out stands for).
    allowed: tuple[str, ...] = ()
    repeats: bool = False

    def describe(self) -> str:
        never = [*self.later, *([f"another {self.screen} screen"] if self.repeats else [])]
        return (f"{self.where()}: {self.screen} waits for a person: no wait brings "
                f"{', or '.join(never)} (tried by {PERSON_WAIT_S:g} s, "
                f"{PERSON_WAIT_EMULATED_S:g} s on an emulated bench, watched on each "
                f"{self.screen} screen)")


@attrs.frozen(kw_only=True)
class PresenceRule(Rule):
    screen: str
    buttons: tuple[str, ...] = ()
    no_buttons: tuple[str, ...] = ()

    def describe(self) -> str:
        parts = [f"the {b} button" for b in self.buttons]
        parts += [f"no {b} button" for b in self.no_buttons]
        return f"{self.where()}: every {self.screen} screen shows {' and '.join(parts)}"


@attrs.frozen(kw_only=True)
class GuardRule(Rule):
    """A first-screen button tied to the bench's state (``shown_with``), not to a flow:
    judged on every first screen of every walk, in every world."""

    button: str
    shown_with: str
    #: The half: the worlds that set ``shown_with`` up (the button shown), or those that do
    #: not (not shown); each judged, and tried, only in its own worlds.
    shown: bool

    def applies(self, world: Iterable[str]) -> bool:
        return (self.shown_with in set(world)) == self.shown

    def describe(self) -> str:
        why = self.shown_with.replace("_", " ")
        return (f"every first screen of every walk {'shows' if self.shown else 'hides'} the "
                f"{self.button} button with the bench {'' if self.shown else 'not '}{why}")


@attrs.frozen(kw_only=True)
class NeverRule(Rule):
    screens: tuple[str, ...]

    def describe(self) -> str:
        return f"{self.where()}: never {', '.join(self.screens)}"


@attrs.frozen(kw_only=True)
class ResponseRule(Rule):
    action: str
    never: tuple[str, ...]

    def describe(self) -> str:
        return f"{self.where()}: {self.action} never brings {', '.join(self.never)}"


@attrs.frozen(kw_only=True)
class PinRule(Rule):
    locks_after: int
    asking: str
    locked: str
    proceeds: str
    halves: ClassVar[tuple[str, ...]] = ("lock", "reset")

    def describe(self) -> str:
        n = self.locks_after
        return (f"{self.where()}: {self.asking} after wrong PINs 1..{n - 1} in a row, "
                f"{self.locked} after the {ordinal(n)}, {self.proceeds} after a right one (the "
                "count starts again)")


def _rules_of(req: str, check: FlowCheck) -> Iterator[Rule]:
    flow, given = check.flow, tuple(check.given)
    steps = check.screens
    for k, step in enumerate(steps):
        if step.upon is not None and step.within_s is not None and k:
            yield UponRule(requirement=req, flow=flow, given=given, before=steps[k - 1].screen,
                           action=step.upon, to=step.screen, within_s=step.within_s)
        if step.buttons or step.no_buttons:
            yield PresenceRule(requirement=req, flow=flow, given=given, screen=step.screen,
                               buttons=tuple(step.buttons), no_buttons=tuple(step.no_buttons))
        if k + 1 < len(steps) and steps[k + 1].upon is None:
            for action in _leading(flow, step.screen):
                yield LeadsRule(requirement=req, flow=flow, given=given, on=step.screen,
                                action=action, to=steps[k + 1].screen)
    for k in range(len(steps)):
        rule = _person_rule(req, check, k)
        if rule is not None:
            yield rule
    if check.button_guard is not None:
        guard = check.button_guard
        for shown in (True, False):
            yield GuardRule(requirement=req, flow=flow, given=(), button=guard.button,
                            shown_with=guard.shown_with, shown=shown)
    if check.never:
        yield NeverRule(requirement=req, flow=flow, given=given, screens=tuple(check.never))
    # Responses came with AUTH-05's wrong passcode; older profiles have none. One whose act
    # no walk takes in the flow (AUTH-05's 戻る) is the flow suite's alone: never an error
    # of the walks for not trying what they cannot.
    walked = {a for table in (FLOW_ACTIONS, INTRUSIONS)
              for acts in table.get(flow, {}).values() for a in acts}
    for response in getattr(check, "responses", ()):
        if response.action in walked:
            yield ResponseRule(requirement=req, flow=flow, given=given,
                               action=response.action, never=tuple(response.never))
    if check.pin_count is not None:
        count: PinCount = check.pin_count
        yield PinRule(requirement=req, flow=flow, given=given, locks_after=count.locks_after,
                      asking=count.asking, locked=count.locked, proceeds=count.proceeds)


def _person_rule(req: str, check: FlowCheck, k: int) -> PersonRule | None:
    """The rule of step ``k``'s screen if the flow's procedure waits there for a person."""
    flow, screen = check.flow, check.screens[k].screen
    actions = FLOW_ACTIONS[flow].get(screen, ())
    if screen == HOME or screen in PASSING or not actions or "wait" in actions:
        return None
    shown = {s.screen for s in check.screens[:k + 1]}
    allowed = shown | {HOME}
    if set(actions) <= TIMED and k + 1 < len(check.screens):
        allowed.add(check.screens[k + 1].screen)
    later = tuple(dict.fromkeys(s.screen for s in check.screens[k + 1:]
                                if s.screen not in allowed))
    repeats = any(a in REPEATS for a in actions)
    if not later and not repeats:
        return None
    return PersonRule(requirement=req, flow=flow, given=tuple(check.given), screen=screen,
                      later=later, allowed=tuple(sorted(allowed)), repeats=repeats)


def _leading(flow: str, screen: str) -> list[str]:
    """The actions of the flow's procedure on ``screen`` that bring its next screen: one
    that chooses the flow, or its only action there (not one it repeats while the screen
    shows, nor a wait, nor a code typed to be refused: then the right code is the one that
    brings the next step, AUTH-05's passcode as SP-02's PIN)."""
    actions = FLOW_ACTIONS[flow].get(screen, ())
    chosen = [a for a in actions if flow in CHOOSES.get(a, ())]
    if chosen:
        return chosen
    moves = [a for a in actions if a != "wait" and a not in REFUSED]
    return moves if len(moves) == 1 and moves[0] not in REPEATS else []


def walkable(check: FlowCheck) -> bool:
    return check.flow in FLOW_ACTIONS and set(check.given) <= WORLD_GIVENS


def merge_worlds(givens: Iterable[World], weight: Counter[World] | None = None
                 ) -> tuple[World, ...]:
    """As few worlds as hold every given tuple, none holding two exclusive givens: the tuples
    most checks name first, each into the first world it fits."""
    order = sorted(set(givens), key=lambda g: (-(weight or Counter())[g], g))
    worlds: list[set[str]] = []
    for given in order:
        if not given:
            continue
        home = next((w for w in worlds if not any(
            frozenset((a, b)) in EXCLUSIVE for a in given for b in w)), None)
        if home is None:
            worlds.append(set(given))
        else:
            home.update(given)
    return tuple(tuple(sorted(w)) for w in worlds) or ((),)


@attrs.frozen
class WalkPlan:
    """What the walks on one maker's reader judge, where, and which pairs they should reach."""

    maker: str
    worlds: tuple[World, ...]
    rules: tuple[Rule, ...]
    #: The walkable checks' flows and givens, and the pairs each names.
    checks: tuple[tuple[str, World, frozenset[Pair]], ...]
    #: Screen classes a walk may see.
    allowed: frozenset[str]
    #: Buttons shown only under a condition (named by a step's buttons / no_buttons).
    conditional: frozenset[str]
    statements: dict[str, str] = attrs.field(eq=False)
    #: What :meth:`in_world`, :meth:`forbidden` and :meth:`unbidden` found, by their
    #: arguments: a walk's steering judges the walk so far at every step, asking of the
    #: same few worlds and flows hundreds of thousands of times.
    _kept: dict[tuple[object, ...], Any] = attrs.field(factory=dict, init=False, eq=False,
                                                       repr=False)

    @classmethod
    def of(cls, profile: Profile) -> WalkPlan:
        from harness.model.profiles import FlowCheck

        every = [(r.id, c) for r in profile.requirements for c in r.checks
                 if isinstance(c, FlowCheck)]
        walks = [(req, c) for req, c in every if walkable(c)]
        weight = Counter(tuple(c.given) for _, c in walks)
        worlds = merge_worlds(weight, weight)
        rules = tuple(dict.fromkeys(r for req, c in walks for r in _rules_of(req, c)))
        checks = tuple((c.flow, tuple(c.given), frozenset(
            (step.screen, action) for step in c.screens
            for action in (*FLOW_ACTIONS[c.flow].get(step.screen, ()),
                           *INTRUSIONS.get(c.flow, {}).get(step.screen, ()))))
            for _, c in walks)
        allowed = frozenset(s.screen for _, c in every for s in c.screens) | PASSING
        conditional = frozenset(b for _, c in walks for s in c.screens
                                for b in [*s.buttons, *s.no_buttons])
        statements = {r.id: r.statement for r in profile.requirements}
        return cls(profile.key, worlds, rules, checks, allowed, conditional, statements)

    @property
    def requirements(self) -> tuple[str, ...]:
        """The requirements the walks judge, in the profile's order."""
        return tuple(dict.fromkeys(r.requirement for r in self.rules))

    def named(self, world: Iterable[str] | None = None) -> frozenset[Pair]:
        """The pairs the profile names (those a walk in ``world`` can reach)."""
        have = None if world is None else set(world)
        return frozenset(p for _, given, pairs in self.checks
                         if have is None or set(given) <= have for p in pairs)

    def flows_in(self, world: Iterable[str]) -> frozenset[str]:
        have = set(world)
        return frozenset(flow for flow, given, _ in self.checks if set(given) <= have)

    def in_world(self, world: Iterable[str]) -> list[Rule]:
        have = frozenset(world)
        key = ("in_world", have)
        if key not in self._kept:
            self._kept[key] = tuple(r for r in self.rules if r.applies(have))
        return list(self._kept[key])

    def forbidden(self, world: Iterable[str], flows: frozenset[str]) -> frozenset[str]:
        """Screens every flow in force forbids (a flow without a never rule forbids none)."""
        have = frozenset(world)  # once: ``world`` may be an iterator
        key = ("forbidden", have, frozenset(flows))
        if key not in self._kept:
            never: dict[str, set[str]] = {f: set() for f in flows}
            for rule in self.in_world(have):
                if isinstance(rule, NeverRule) and rule.flow in never:
                    never[rule.flow].update(rule.screens)
            sets = list(never.values())
            self._kept[key] = frozenset(set.intersection(*sets)) if sets else frozenset()
        return self._kept[key]

    def unbidden(self, world: Iterable[str], flows: frozenset[str], screen: str
                 ) -> tuple[frozenset[str], bool]:
        """What a wait on ``screen`` must not bring where ``flows`` are in force: the
        classes a flow in force forbids and none allows, and whether another screen of its
        class is forbidden too (a flow whose procedure waits on the screen allows all)."""
        have = frozenset(world)  # once: ``world`` may be an iterator
        key = ("unbidden", have, frozenset(flows), screen)
        if key not in self._kept:
            self._kept[key] = self._unbidden(have, flows, screen)
        return self._kept[key]

    def _unbidden(self, world: Iterable[str], flows: frozenset[str], screen: str
                  ) -> tuple[frozenset[str], bool]:
        if any("wait" in FLOW_ACTIONS.get(f, {}).get(screen, ()) for f in flows):
            return frozenset(), False
        forbids: set[str] = set()
        allows: set[str] = set()
        repeats = False
        for rule in self.in_world(world):
            if isinstance(rule, PersonRule) and rule.flow in flows and rule.screen == screen:
                forbids.update(rule.later)
                allows.update(rule.allowed)
                repeats |= rule.repeats
        return frozenset(forbids - allows), repeats


# -- flows in force -------------------------------------------------------------------------------
def in_force(plan: WalkPlan, walk: Walk) -> list[frozenset[str]]:
    """The flows in force for each step's looks (after its action chose), and one more entry:
    those in force for the next action."""
    everything = plan.flows_in(walk.effective())
    current = everything
    out: list[frozenset[str]] = []
    for step in walk.steps:
        chosen = CHOOSES.get(step.action)
        if chosen is not None and current & chosen:
            current = current & chosen
        out.append(current)
        if any(look.shows == HOME for look in step.after):
            current = everything
    out.append(current)
    return out


def _look_flows(plan: WalkPlan, walk: Walk, look: Look, flows: frozenset[str]
                ) -> frozenset[str]:
    return plan.flows_in(walk.effective()) if look.shows == HOME else flows


# -- judging ----------------------------------------------------------------------------------------
@attrs.frozen
class Broken:
    """One way a rule was broken on a walk."""

    requirement: str
    rule: str
    #: Which walk (its index in the list judged) and step (None: before any step).
    walk: int
    step: int | None
    text: str


@attrs.define
class Judgement:
    #: Rule -> half -> how many times a walk tried it.
    tried: dict[Rule, Counter[str]] = attrs.Factory(dict)
    broken: list[Broken] = attrs.Factory(list)
    #: (screen class, action) -> how many times a walk did it.
    reached: Counter[Pair] = attrs.Factory(Counter)
    #: Screen (the reference a look named) -> the requirements in force where a walk saw
    #: it: those the same screen, unrecognised, would fail.
    screens: dict[str, set[str]] = attrs.Factory(dict)
    #: (flows in force, screen) of each person's wait a walk made (the steering's).
    waited: set[tuple[frozenset[str], str]] = attrs.Factory(set)
    walks: int = 0
    steps: int = 0

    def untried(self, plan: WalkPlan) -> list[tuple[Rule, str]]:
        return [(rule, half) for rule in plan.rules for half in rule.halves
                if not self.tried.get(rule, Counter())[half]]

    def problems(self, requirement: str) -> list[Broken]:
        return [b for b in self.broken if b.requirement == requirement]

    def failing(self) -> list[str]:
        return list(dict.fromkeys(b.requirement for b in self.broken))


def judge_walks(plan: WalkPlan, walks: Sequence[Walk]) -> Judgement:
    """Every rule of the plan on every walk: what was tried, what broke, the pairs reached."""
    out = Judgement(tried={rule: Counter() for rule in plan.rules})
    for n, walk in enumerate(walks):
        _judge_walk(plan, walk, n, out)
    return out


def judge_walk(plan: WalkPlan, walk: Walk) -> Judgement:
    return judge_walks(plan, [walk])


def _judge_walk(plan: WalkPlan, walk: Walk, n: int, out: Judgement) -> None:
    out.walks += 1
    out.steps += len(walk.steps)
    world = walk.effective()
    rules = plan.in_world(world)
    for given, text in walk.unmet:
        hit = [r for r in plan.rules if r.applies(walk.world)
               and (not given or given in r.given)]
        for rule in _one_per_requirement(hit):
            out.broken.append(Broken(rule.requirement, rule.describe(), n, None,
                                     f"before the walk ({', '.join(walk.world) or 'no given'}):"
                                     f" {text}"))
    forces = in_force(plan, walk)
    for step in walk.steps:
        out.reached[(step.before.shows or "unknown", pair_action(step.action))] += 1
    out.waited |= person_waits(plan, walk)
    _screens(plan, walk, n, forces, out)
    _hollow(plan, walk, n, forces, out)
    _visits(plan, walk, n, forces, out)
    _phone_reads(plan, walk, n, forces, out)
    for rule in rules:
        tried = out.tried.setdefault(rule, Counter())
        problems = list(_judge_rule(plan, rule, walk, forces, tried))
        for step, text in problems:
            out.broken.append(Broken(rule.requirement, rule.describe(), n, step, text))


def _one_per_requirement(rules: Iterable[Rule]) -> list[Rule]:
    return list({r.requirement: r for r in rules}.values())


def _hit(plan: WalkPlan, world: World, flows: Collection[str] | None) -> list[Rule]:
    """The rules in force of ``flows`` (None: every flow), or every rule in force where
    none is: a problem always fails something."""
    rules = plan.in_world(world)
    return [r for r in rules if flows is None or r.flow in flows] or rules


def _break(out: Judgement, hit: Iterable[Rule], name: str, n: int, i: int | None,
           text: str) -> None:
    """One broken entry per requirement of ``hit``, under the walk rule ``name``."""
    for rule in _one_per_requirement(hit):
        out.broken.append(Broken(rule.requirement, name, n, i, text))


def _screens(plan: WalkPlan, walk: Walk, n: int, forces: list[frozenset[str]],
             out: Judgement) -> None:
    """Fail closed: an unrecognised screen, or one of a class no flow names, fails every
    requirement in force where it showed. Every screen's are noted (the walk coverage)."""
    world = walk.effective()
    looks: list[tuple[int | None, Look, frozenset[str]]] = []
    if walk.start is not None:
        looks.append((None, walk.start, plan.flows_in(world)))
    for i, step in enumerate(walk.steps):
        looks += [(i, look, forces[i]) for look in step.after]
    for i, look, flows in looks:
        current = _look_flows(plan, walk, look, flows)
        hit = _hit(plan, world, current)
        out.screens.setdefault(look.state, set()).update(r.requirement for r in hit)
        if look.shows is not None and look.shows in plan.allowed:
            continue
        where = f"step {i + 1} ({walk.steps[i].action} on {walk.steps[i].before.label()})" \
            if i is not None else "the walk's start"
        if look.shows is None:
            text = f"an unrecognised screen ({look.label()}) at {look.t:.1f} s, after {where}"
        else:
            text = (f"{look.shows} ({look.state}) is no screen of {plan.maker}'s flows: seen at "
                    f"{look.t:.1f} s, after {where}")
        _break(out, hit, "every screen is one the profile knows", n, i, text)


def _hollow(plan: WalkPlan, walk: Walk, n: int, forces: list[frozenset[str]],
            out: Judgement) -> None:
    """受付が完了しました only with a check behind it (the flows' ``hollow_completions``,
    wherever a walk goes): a completion that comes on a visit (from the first screen) must
    follow a consent answered on that visit, no error of that visit, and no card-out since
    the card went in before the check began (a card pulled on the PIN or the last consent
    screen; not one pulled while the check runs). It fails every
    requirement in force where it showed. A walk that starts inside a visit judges from its
    first first screen."""
    world = walk.effective()
    known = walk.start is not None and walk.start.shows == HOME
    consented = pulled = False
    error: str | None = None
    last = walk.start
    for i, step in enumerate(walk.steps):
        if step.action == "consent" and step.before.shows == "consent":
            consented = True
        elif step.action == "card_in":
            pulled = False
        elif step.action == "card_out" and step.before.shows not in ("checking", "completion"):
            # (out while the check runs: the check was made, its completion may come)
            pulled = True
        for look in step.after:
            came = look.shows == "completion" and (last is None or last.shows != "completion")
            if came and known and (error or not consented or pulled):
                why = (f"after {error} on the same visit" if error else
                       "with no consent answered on its visit" if not consented else
                       "with the card taken out before the check could end")
                _break(out, _hit(plan, world, _look_flows(plan, walk, look, forces[i])),
                       "a completion only after a check", n, i,
                       f"completion at {look.t:.1f} s {why} (step {i + 1}, {step.action} on "
                       f"{step.before.label()}): no check went through, yet the reader says "
                       "it is done")
            if look.shows == HOME:
                known, consented, pulled, error = True, False, False, None
            elif (look.shows or "").startswith("error_"):
                error = look.label()
            last = look


#: How far after its look a walk's act is set in its record (far above the rules' 1e-6 s).
ACTS_AFTER_S = 1e-4


def as_record(walk: Walk) -> FlowRecord:
    """The walk as a flow's record: each stretch of equal looks one screen, each act on
    the reader an action in the flows' words (a wait is none)."""
    screens: list[SeenScreen] = []
    for look in walk.looks():
        last = screens[-1] if screens else None
        if last is not None and (last.state, last.buttons) == (look.state, look.buttons):
            screens[-1] = attrs.evolve(last, until=look.t)
        else:
            screens.append(SeenScreen(look.t, look.t, look.state, look.shows,
                                      buttons=look.buttons, candidate=look.candidate))
    # (A wait is no act on the reader; cancel pressed where no 戻る shows presses nothing.
    # A walk looks, then acts: a look at the action's very moment came before it, which a
    # flow's record cannot say, so the act is set a hair after it.)
    actions = [Action(step.t + ACTS_AFTER_S,
                      "hold_phone:walk" if step.action == "hold_phone" else step.action)
               for step in walk.steps if not step.action.startswith("wait")
               and (step.action != BACK or step.before.back)]
    return FlowRecord("walk", walk.reader, walk.world, screens=screens, actions=actions)


def _visits(plan: WalkPlan, walk: Walk, n: int, forces: list[frozenset[str]],
            out: Judgement) -> None:
    """The flows' visit rules wherever a walk goes (harness.model.visit_rules): every visit
    that reaches a consent identified on it, 戻る back, a card out of an error back to the
    first screen. Each problem fails every requirement in force at the step it came on, and
    those of the flows its act chooses (a card put in out of turn on the phone's screens
    that the reader takes on: the card's own identification, AUTH-01; hunt F02)."""
    world = walk.effective()
    for t, text in visit_problems(as_record(walk)):
        # The step whose act came before it: a look at the moment of the next act came
        # before that act (the record sets acts ACTS_AFTER_S after their looks).
        i = max((k for k, step in enumerate(walk.steps) if step.t + 1e-6 < t), default=None)
        flows = forces[i] | CHOOSES.get(walk.steps[i].action, frozenset()) \
            if i is not None else frozenset()
        _break(out, _hit(plan, world, None if i is None else flows),
               "every visit as the flows' visits", n, i,
               f"{text} (step {i + 1 if i is not None else 0})")


def _phone_reads(plan: WalkPlan, walk: Walk, n: int, forces: list[frozenset[str]],
                 out: Judgement) -> None:
    """A phone is read only where the reader asks for it (:data:`PHONE_HOLD`): one held on
    any other screen (the first screen, the phone's choice, Android's PIN screen, the
    staff's card step) that brings the consents, the check or a completion was read with
    the notice's steps skipped (SP-01 ① the button and the phone's kind, SP-02 ② its
    authentication). It fails every requirement in force there and the phone flows' own,
    whatever the visit's identification (hunt F01-F07, F22)."""
    world = walk.effective()
    phones = CHOOSES["press:smartphone"]
    for i, step in enumerate(walk.steps):
        if step.action != "hold_phone" or step.before.shows in {PHONE_HOLD, *PHONE_READ}:
            continue
        read = next((look for look in step.after if look.shows in PHONE_READ), None)
        if read is None:
            continue
        _break(out, _hit(plan, world, forces[i] | phones),
               "a phone read only where the reader asks for it", n, i,
               f"a phone held on {step.before.label()} at {step.t:.1f} s brought "
               f"{read.label()} at {read.t:.1f} s (step {i + 1}): read with the smartphone "
               "button, the phone's kind or its authentication skipped")


def _judge_rule(plan: WalkPlan, rule: Rule, walk: Walk, forces: list[frozenset[str]],
                tried: Counter[str]) -> Iterator[tuple[int | None, str]]:
    match rule:
        case UponRule():
            yield from _upon(rule, walk, forces, tried)
        case LeadsRule():
            yield from _leads(rule, walk, forces, tried)
        case PresenceRule():
            yield from _presence(plan, rule, walk, forces, tried)
        case NeverRule():
            yield from _never(plan, rule, walk, forces, tried)
        case ResponseRule():
            yield from _response(rule, walk, forces, tried)
        case PinRule():
            yield from _pin(rule, walk, forces, tried)
        case PersonRule():
            yield from _person(plan, rule, walk, forces, tried)
        case GuardRule():
            yield from _guard(rule, walk, tried)


def _came(step: WalkStep, screen: str) -> Look | None:
    return next((look for look in step.after if look.shows == screen), None)


def _then(step: WalkStep) -> str:
    return " -> ".join(f"{look.label()} at {look.t:.1f} s" for look in step.after) or \
        "nothing was seen"


def intruded(walk: Walk, forces: list[frozenset[str]]) -> list[bool]:
    """For each step, whether a card put in out of turn (:data:`INTRUSIONS`) that the
    reader let lie (every look after it the screen it was put in on) still lies on the
    reader when the step is done: a state the procedure never reaches, so no leads-to rule
    of the flow is judged there (review F3: the staff's confirm with the card already
    placed may go straight to the consents, ④ done); the visit rules still judge the visit.
    The card taken out ends it."""
    out: list[bool] = []
    lying = False
    for i, step in enumerate(walk.steps):
        out.append(lying)
        if step.action == "card_out" or "card" not in step.holding:
            lying = False
        elif step.action == "card_in" and step.after and all(
                look.same(step.before) for look in step.after) and any(
                "card_in" in INTRUSIONS.get(f, {}).get(step.before.shows or "", ())
                for f in forces[i]):
            lying = True
    return out


def _leads(rule: LeadsRule, walk: Walk, forces: list[frozenset[str]], tried: Counter[str]
           ) -> Iterator[tuple[int, str]]:
    lying = intruded(walk, forces)
    for i, step in enumerate(walk.steps):
        if step.action != rule.action or step.before.shows != rule.on \
                or rule.flow not in forces[i] or lying[i]:
            continue
        tried["tried"] += 1
        came = _came(step, rule.to)
        if came is None:
            yield i, (f"{rule.action} on {rule.on} at {step.t:.1f} s did not lead to {rule.to}: "
                      f"{_then(step)}")
        elif came.t - step.t > rule.within_s:
            yield i, (f"{rule.to} came {came.t - step.t:.1f} s after {rule.action} on {rule.on}"
                      f" at {step.t:.1f} s, not within {rule.within_s:g} s")


def stretch_since(looks: Sequence[Look], screen: str | None) -> float | None:
    """When the run of looks at ``screen`` that ends with the last look began (None: the
    last look is not at it)."""
    since = None
    for look in reversed(looks):
        if look.shows != screen:
            break
        since = look.t
    return since


def _upon(rule: UponRule, walk: Walk, forces: list[frozenset[str]], tried: Counter[str]
          ) -> Iterator[tuple[int, str]]:
    need = NEEDS.get(rule.action)
    looks: list[Look] = [walk.start] if walk.start is not None else []
    for i, step in enumerate(walk.steps):
        since = stretch_since(looks, rule.before)
        looks += step.after
        if rule.flow not in forces[i]:
            continue
        if step.action == rule.action and step.before.shows == rule.before:
            # Done soon after the screen came, or after holding it longer than the bound:
            # a timer of the reader's own passes at most one of the two.
            hold = step.t - (since if since is not None else step.before.t)
            tried["soon" if hold <= rule.within_s else "late"] += 1
            came = _came(step, rule.to)
            if came is None:
                yield i, (f"{rule.to} did not come after {rule.action} at {step.t:.1f} s on "
                          f"{rule.before} (held {hold:.1f} s); then: {_then(step)}")
            elif came.t - step.t > rule.within_s:
                yield i, (f"{rule.to} came {came.t - step.t:.1f} s after {rule.action} at "
                          f"{step.t:.1f} s on {rule.before} (held {hold:.1f} s), not within "
                          f"{rule.within_s:g} s")
            continue
        if need is not None and need not in step.holding:
            continue  # the action could not have been done: nothing to take out
        for a, b in itertools.pairwise([step.before, *step.after]):
            if a.shows == rule.before and b.shows == rule.to:
                yield i, (f"{rule.to} came at {b.t:.1f} s after {rule.before} (seen at "
                          f"{a.t:.1f} s) with no {rule.action} ({step.action} was done at "
                          f"{step.t:.1f} s): it must come from {rule.action}, not by itself")


def _presence(plan: WalkPlan, rule: PresenceRule, walk: Walk, forces: list[frozenset[str]],
              tried: Counter[str]) -> Iterator[tuple[int | None, str]]:
    looks: list[tuple[int | None, Look, frozenset[str]]] = []
    if walk.start is not None:
        looks.append((None, walk.start, plan.flows_in(walk.effective())))
    for i, step in enumerate(walk.steps):
        looks += [(i, look, forces[i]) for look in step.after]
    for i, look, flows in looks:
        if look.shows != rule.screen or rule.flow not in _look_flows(plan, walk, look, flows):
            continue
        tried["tried"] += 1
        lacking = [b for b in rule.buttons if b not in look.buttons]
        extra = [b for b in rule.no_buttons if b in look.buttons]
        if lacking:
            yield i, (f"{look.label()} at {look.t:.1f} s lacks the {', '.join(lacking)} "
                      f"button (shows: {', '.join(look.buttons) or 'none'})")
        if extra:
            yield i, (f"{look.label()} at {look.t:.1f} s shows the {', '.join(extra)} "
                      "button, which it must not")


def _guard(rule: GuardRule, walk: Walk, tried: Counter[str]
           ) -> Iterator[tuple[int | None, str]]:
    """Every first screen of the walk shows the button exactly when its world set the
    button's precondition up (hunt G5-G7: dropped or added after a visit of any way)."""
    want = expected_in_world(rule.shown_with, walk.effective(), [g for g, _ in walk.unmet])
    if want is None or want != rule.shown:
        return
    looks: list[tuple[int | None, Look]] = [(None, walk.start)] if walk.start else []
    looks += [(i, look) for i, step in enumerate(walk.steps) for look in step.after]
    why = rule.shown_with.replace("_", " ")
    for i, look in looks:
        if look.shows != HOME:
            continue
        tried["tried"] += 1
        if (rule.button in look.buttons) != want:
            state = why if want else f"not {why}"
            yield i, (f"{look.label()} at {look.t:.1f} s {'lacks' if want else 'shows'} the "
                      f"{rule.button} button, with the bench {state} "
                      f"({', '.join(walk.world) or 'no given'})")


def _never(plan: WalkPlan, rule: NeverRule, walk: Walk, forces: list[frozenset[str]],
           tried: Counter[str]) -> Iterator[tuple[int, str]]:
    world = walk.effective()
    for i, step in enumerate(walk.steps):
        flows = forces[i]
        if rule.flow not in flows:
            continue
        forbidden = plan.forbidden(world, flows) & set(rule.screens)
        if not forbidden:
            continue
        tried["tried"] += 1
        for look in step.after:
            if look.shows in forbidden:
                yield i, (f"{look.shows} showed at {look.t:.1f} s after {step.action} on "
                          f"{step.before.label()}, in a visit of {' or '.join(sorted(flows))}"
                          f" where it must never show")


def _person(plan: WalkPlan, rule: PersonRule, walk: Walk, forces: list[frozenset[str]],
            tried: Counter[str]) -> Iterator[tuple[int, str]]:
    world = walk.effective()
    for i, step in enumerate(walk.steps):
        if not step.action.startswith("wait") or step.before.shows != rule.screen \
                or rule.flow not in forces[i]:
            continue
        later, repeats = plan.unbidden(world, forces[i], rule.screen)
        # Tried by the person's wait; where the act repeats, on the first screen of the
        # class in the visit (none answered yet): the steering waits on the others too.
        first = not rule.repeats or not answered_in_visit(
            attrs.evolve(walk, steps=walk.steps[:i]), rule.screen)
        if step.action == PERSON_WAIT and first:
            tried["tried"] += 1
        for look in step.after:
            other = repeats and look.shows == rule.screen and look.state != step.before.state
            if look.shows in later & set(rule.later) or (other and rule.repeats):
                yield i, (f"{look.label()} came at {look.t:.1f} s while nobody acted on "
                          f"{step.before.label()} ({step.action} from {step.t:.1f} s): what a "
                          "person's act brings must not come by itself")
                break


def _response(rule: ResponseRule, walk: Walk, forces: list[frozenset[str]],
              tried: Counter[str]) -> Iterator[tuple[int, str]]:
    for i, step in enumerate(walk.steps):
        if step.action != rule.action or rule.flow not in forces[i]:
            continue
        tried["tried"] += 1
        bad = [look for look in step.after if look.shows in rule.never]
        if bad:
            yield i, (f"{rule.action} on {step.before.label()} at {step.t:.1f} s brought "
                      f"{bad[0].label()}: it must never bring {', '.join(rule.never)}")


@attrs.frozen
class PinState:
    """Where the count stands on the walk's card."""

    in_a_row: int = 0
    in_all: int = 0


def pin_entries(rule: PinRule, walk: Walk, forces: list[frozenset[str]]
                ) -> Iterator[tuple[int, WalkStep, PinState]]:
    """Each PIN typed while the reader asked for one (in a visit of the rule's flow), with
    the count *after* it."""
    state = PinState()
    for i, step in enumerate(walk.steps):
        if step.action not in ("pin:wrong", "pin:right") or step.before.shows != rule.asking \
                or rule.flow not in forces[i]:
            continue
        if step.action == "pin:right" and state.in_a_row < rule.locks_after:
            state = PinState(0, state.in_all)
        elif step.action == "pin:wrong":
            state = PinState(state.in_a_row + 1, state.in_all + 1)
        yield i, step, state


def _pin(rule: PinRule, walk: Walk, forces: list[frozenset[str]], tried: Counter[str]
         ) -> Iterator[tuple[int, str]]:
    n = rule.locks_after
    locked_before = False
    for i, step, state in pin_entries(rule, walk, forces):
        shows = [look.shows for look in step.after]
        path = _then(step)
        if not step.after:
            yield i, f"nothing was seen after {step.action} at {step.t:.1f} s"
        elif locked_before:
            # The card is locked: no entry may let the patient through.
            if rule.proceeds in shows:
                yield i, (f"{step.action} at {step.t:.1f} s, after the PIN locked, went on to "
                          f"{rule.proceeds}: {path}")
        elif step.action == "pin:right":
            answer = [s for s in shows if s not in WAITING]
            if not answer:
                # Only a moment's wait screen before the walk's next act (review G-1): the
                # answer was not seen, so not judged here (the PIN flows judge it).
                continue
            if rule.proceeds not in answer or {rule.asking, rule.locked} & set(answer):
                yield i, (f"the right PIN at {step.t:.1f} s (after wrong ones) showed {path}: "
                          f"it must go on to {rule.proceeds}")
        elif state.in_a_row < n:
            if state.in_all >= n:
                tried["reset"] += 1
            if any(s != rule.asking for s in shows):
                yield i, (f"after wrong PIN {state.in_a_row} in a row ({state.in_all} in all) "
                          f"at {step.t:.1f} s the reader showed {path}: it must still ask "
                          f"({rule.asking}) until the {ordinal(n)} in a row")
        else:
            tried["lock"] += 1
            locked_before = True
            first = shows.index(rule.locked) if rule.locked in shows else None
            if first is None:
                yield i, (f"after wrong PIN {n} in a row at {step.t:.1f} s the reader showed "
                          f"{path}, not {rule.locked}")
            elif any(s != rule.asking for s in shows[:first]) or any(
                    s != rule.locked for s in shows[first:]):
                yield i, (f"after wrong PIN {n} in a row at {step.t:.1f} s the reader showed "
                          f"{path}: {rule.locked} must come and stay")


# -- steering: what a walk would want to try next -------------------------------------------------
def wanted(plan: WalkPlan, walk: Walk, tried: dict[Rule, Counter[str]],
           forces: frozenset[str], shows: str | None, holding: frozenset[str],
           waits: Sequence[str], waited: Collection[tuple[frozenset[str], str]] = ()
           ) -> set[str]:
    """Actions on a screen of class ``shows`` that would try a half of a rule not yet tried
    (``tried``: what the walks so far tried)."""
    out: set[str] = set()
    if unwaited(plan, walk, forces, shows, waited):
        out.add(PERSON_WAIT)
    for rule in plan.in_world(walk.effective()):
        if rule.flow not in forces:
            continue
        untried = {h for h in rule.halves if not tried.get(rule, Counter())[h]}
        if not untried:
            continue
        match rule:
            case LeadsRule() if shows == rule.on:
                out.add(rule.action)
            case ResponseRule() if rule.action in FLOW_ACTIONS[rule.flow].get(shows or "", ()):
                out.add(rule.action)
            case UponRule() if shows == rule.before:
                need = NEEDS.get(rule.action)
                if need is not None and need not in holding:
                    continue
                looks = list(walk.looks())
                since = stretch_since(looks, shows)
                hold = looks[-1].t - since if looks and since is not None else 0.0
                if "soon" in untried and hold <= rule.within_s or \
                        "late" in untried and hold > rule.within_s:
                    out.add(rule.action)
                elif "late" in untried:
                    out.update(w for w in waits if wait_seconds(w) > rule.within_s)
            case PersonRule() if shows == rule.screen and (
                    not rule.repeats or not answered_in_visit(walk, rule.screen)):
                out.add(PERSON_WAIT)
            case PinRule() if shows == rule.asking:
                counts = [s for _, _, s in pin_entries(rule, walk, in_force(plan, walk))]
                state = counts[-1] if counts else PinState()
                if state.in_a_row >= rule.locks_after:
                    continue
                if "reset" in untried:
                    out.add("pin:right" if state.in_a_row == rule.locks_after - 1
                            else "pin:wrong")
                else:
                    out.add("pin:wrong")
    return out


def unwaited(plan: WalkPlan, walk: Walk, forces: frozenset[str], shows: str | None,
             waited: Collection[tuple[frozenset[str], str]]) -> bool:
    """The screen shown is a person's (of a rule in force) that no walk has waited on yet
    with these flows in force (``waited``: the earlier walks'; this walk's are added): each
    screen of the class (the first consent, the second ...) may have its own timer, and the
    staff's or a phone's visit its own."""
    looks = list(walk.looks())
    if not looks or not any(isinstance(r, PersonRule) and r.flow in forces and r.screen == shows
                            for r in plan.in_world(walk.effective())):
        return False
    return (forces, looks[-1].state) not in {*waited, *person_waits(plan, walk)}


def answered_in_visit(walk: Walk, screen: str) -> bool:
    """The visit under way (since the first screen last showed) repeated its act on a
    ``screen`` already (a consent answered)."""
    for step in reversed(walk.steps):
        if step.action in REPEATS and step.before.shows == screen:
            return True
        if step.before.shows == HOME:
            return False
    return False


def person_waits(plan: WalkPlan, walk: Walk) -> set[tuple[frozenset[str], str]]:
    """(flows in force, screen) of each person's wait the walk made."""
    forces = in_force(plan, walk)
    return {(forces[i], s.before.state) for i, s in enumerate(walk.steps)
            if s.action == PERSON_WAIT}


def untried_flows(plan: WalkPlan, world: World, tried: dict[Rule, Counter[str]]
                  ) -> tuple[str, ...]:
    """Flows with a rule a walk has not tried yet, in the order of their rules in the
    profile."""
    return tuple(dict.fromkeys(r.flow for r in plan.in_world(world)
                               if any(not tried.get(r, Counter())[h] for h in r.halves)))


def wait_seconds(action: str) -> float:
    """``wait:12`` -> 12.0."""
    return float(action.split(":", 1)[1])


# -- verdicts ----------------------------------------------------------------------------------------
@attrs.frozen
class Shrunk:
    """A failing walk as the shrinker left it: the fewest actions that still break the
    requirement, and what they broke."""

    walk: Walk
    problems: tuple[str, ...]


def walk_verdicts(plan: WalkPlan, judgement: Judgement, reader: str,
                  requirements: Sequence[str], *, shrunk: dict[str, Shrunk] | None = None,
                  replay: str = "") -> list[Verdict]:
    """One verdict per requirement: failed with the shrunk walk when a walk broke one of its
    rules; an error when a rule of it was never tried (or the profile gives the walks none);
    passed otherwise, with how often each rule was tried."""
    shrunk = shrunk or {}
    out: list[Verdict] = []
    for req in requirements:
        rules = [r for r in plan.rules if r.requirement == req]
        statement = plan.statements.get(req, req)
        expected = f"{statement} [walks: " + "; ".join(r.describe() for r in rules) + "]"
        tries = "; ".join(
            f"{r.describe()}: " + ", ".join(f"{h} {judgement.tried.get(r, Counter())[h]}x"
                                            for h in r.halves) for r in rules)
        seen = (f"{judgement.walks} walks in {len(plan.worlds)} world(s) "
                f"({' | '.join(', '.join(w) or 'no given' for w in plan.worlds)}), "
                f"{judgement.steps} steps; tried: {tries or 'nothing'}")
        broken = judgement.problems(req)
        errors: list[str] = []
        problems: list[str] = []
        observed: tuple[str, ...] = ()
        span: tuple[float, float] | None = None
        if not rules:
            errors.append(f"the profile gives the walks no rule of {req} to judge")
        elif broken:
            small = shrunk.get(req)
            if small is not None:
                world = ", ".join(small.walk.world) or "no given"
                steps = [f"{k + 1}. {s.describe()}" for k, s in enumerate(small.walk.steps)]
                where = (f"shrunk walk in world ({world}), {len(steps)} action(s): "
                         + " | ".join(steps)) if steps else \
                    f"on the walk's first look in world ({world}), before any action"
                problems += [f"{p} - {where}" for p in small.problems]
                observed = tuple(steps) or tuple(
                    look.label() for look in [small.walk.start] if look is not None)
                times = [t for s in small.walk.steps for t in (s.t, *(x.t for x in s.after))]
                if times:
                    span = (min(times), max(times))
            else:
                problems += [f"walk {b.walk + 1}"
                             + (f", step {b.step + 1}" if b.step is not None else "")
                             + f": {b.text}" for b in broken[:3]]
            if replay:
                problems.append(replay)
        else:
            errors += [f"no walk tried {'it' if h == 'tried' else 'its ' + h + ' half'}: "
                       f"{r.describe()}" for r, h in judgement.untried(plan)
                       if r.requirement == req]
        out.append(Verdict.of(req, plan.maker, reader, expected=expected, seen=seen,
                              problems=problems, errors=errors,
                              evidence=Evidence(span=span, observed=observed)))
    return out


def coverage(plan: WalkPlan, judgement: Judgement) -> dict[str, object]:
    """The pairs the profile names, and which the walks reached (JSON-ready)."""
    named = sorted(plan.named())
    reached = [p for p in named if judgement.reached[p]]
    return {
        "maker": plan.maker,
        "worlds": [list(w) for w in plan.worlds],
        "named": len(named),
        "reached": len(reached),
        "missing": [list(p) for p in named if not judgement.reached[p]],
        "pairs": {f"{s} {a}": judgement.reached[(s, a)] for s, a in named},
        "other_pairs": {f"{s} {a}": c for (s, a), c in sorted(judgement.reached.items())
                        if (s, a) not in plan.named()},
        "screens": {state: sorted(reqs) for state, reqs in sorted(judgement.screens.items())},
        "walks": judgement.walks,
        "steps": judgement.steps,
    }
