"""Random walks on one face-auth reader: patients and staff acting in random orders, the
reader looked at after every action, every walk judged by the profile's own rules
(:mod:`harness.model.walk_rules`: which rules, which worlds, which (state, action) pairs).

How a certification walks one reader: in each world of its plan in turn (the bench restored,
switched on by the maker's routine, the world's givens arranged one by one as the notices
say, nothing mended), hypothesis draws walks of a bounded number of steps. Each step's
action is drawn from those that make sense on the screen shown (a card goes in only when
out, a button that depends on a condition is pressed only when shown), weighted towards
what the walks have not done yet: actions the profile's flows take on that screen, (state,
action) pairs not yet reached, actions that would try a half of a rule no walk has tried
(the third wrong PIN, a completion screen held past the card-out bound, the staff button),
the procedure of one flow with an untried rule per visit, and away from what changed
nothing. The steered walks take the heaviest action each time, so coverage does not hang
on luck, and stop once their world has nothing left to reach (a steered walk stuck on a
screen starts again on a restored bench); the random walks (:class:`Budget`) are drawn by
hypothesis from the same weighted options.

A walk is never stopped by a broken rule: every walk runs whole and is judged afterwards,
so one fault does not hide the others. A requirement a walk broke is then shrunk: its
failing walk cut after the failing step and replayed without the actions that showed no
change, without halves, quarters... of its earlier visits, without single actions (in the
cheapest world that still shows the fault: the plain morning for rules with no givens),
keeping each cut that still breaks the requirement, at most :data:`MAX_REPLAYS` replays.
(Hypothesis's own shrinker would replay the whole walk, bench restore and power-on
included, hundreds of times: minutes per fault.) The walks are derandomised (the same walks
every run) unless a seed is given: ``--walk-seed N`` in the suites draws the walks of seed
N, and a failure's message says how to replay it.

The runner knows no maker: what it does comes from the plan (the profile) and what the
camera shows.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

import attrs
from hypothesis import HealthCheck, Phase, settings
from hypothesis import seed as seeded
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    get_state_machine_test,
    initialize,
    rule,
)

from harness.flows.drivers import BACK_LABEL, WRONG_PIN, other_digits
from harness.flows.runner import FlowRun
from harness.flows.setup import arrange_after_power
from harness.flows.strategy import BenchStrategy
from harness.hands import OWN_PIN, Hands, Patient, Phone, PinEntry
from harness.model.wait import wait_until
from harness.model.walk_rules import (
    FLOW_ACTIONS,
    HOME,
    INTRUSIONS,
    LEADS_S,
    NEEDS,
    PASSING,
    PERSON_LOOK_S,
    PERSON_WAIT,
    PERSON_WAIT_EMULATED_S,
    PERSON_WAIT_S,
    PHONE_HOLD,
    REPEATS,
    Judgement,
    LeadsRule,
    Look,
    PinRule,
    Rule,
    Shrunk,
    UponRule,
    Walk,
    WalkPlan,
    WalkStep,
    World,
    in_force,
    judge_walks,
    pair_action,
    untried_flows,
    wait_seconds,
    wanted,
)

if TYPE_CHECKING:
    from harness.bench import Bench
    from harness.model.profiles import Profile

#: The walk's waits (bench seconds): short, past a card-out bound, past a face time-out.
WAITS = ("wait:3", "wait:12", "wait:40")
#: Every action a walk can take, in the order the heaviest ties are broken.
ACTIONS = ("card_in", "face:match", "face:no_match", "consent", "pin:wrong", "pin:right",
           "press:staff", "passcode:wrong", "passcode:right", "staff_confirm",
           "press:smartphone", "press:android", "press:iphone", "phone_pin:wrong",
           "phone_pin:right", "hold_phone", "card_out", *WAITS, PERSON_WAIT, "press:cancel")
#: Bench seconds from an action to the first look; an action that changed nothing is looked
#: at again this long after it; at most this long is watched while the reader passes
#: through a passing screen (the check running).
FIRST_LOOK_S, SETTLE_S, STEP_BOUND_S = 0.5, 2.0, max(10.0, LEADS_S)
#: Weights of an action's reasons to be drawn.
W_FLOW, W_PAIR, W_WANTED, W_UNTRIED_FLOW, W_NEW, W_FUTILE = 2, 3, 6, 2, 1, 3
#: An action a person does first when another is not possible yet.
PREPARES = {"card_in": "card_out"}
#: A walk whose last this many actions changed nothing on the screen is stuck.
STUCK_STEPS = 6
#: Replays the shrinker may make of one failing requirement.
MAX_REPLAYS = 16
PATIENT_PIN, PHONE_PIN = "4321", "2468"


@attrs.frozen
class Budget:
    """How much walking one reader gets. In each world, a steered walk that stops once the
    world has nothing left to reach or try, and after ``base_steps`` plus ``per_item`` for
    each rule half and named pair still untried when it starts, at most ``max_steps`` (a
    fault that keeps a rule from being tried does not make every world's walk long); stuck,
    it starts again on a restored bench, at most ``restarts`` walks in all. In
    the world with the fewest givens (the cheapest to set up, where the visits every world
    shares are walked: cards, PINs, card-outs), first ``random_walks`` random walks of
    ``random_steps``."""

    max_steps: int = 120
    base_steps: int = 6
    per_item: int = 2
    restarts: int = 3
    random_walks: int = 1
    random_steps: int = 8

    def steps(self, plan: WalkPlan, world: World, before: Judgement) -> int:
        return min(self.max_steps,
                   self.base_steps + self.per_item * untried_in(plan, world, before))


def untried_in(plan: WalkPlan, world: World, before: Judgement) -> int:
    """Rule halves a walk in ``world`` could try, and named pairs it could reach, that no
    walk has yet (a requirement a walk broke needs no more tries: it fails)."""
    broken = set(before.failing())
    untried = [h for r, h in before.untried(plan) if r.applies(world)
               and r.requirement not in broken]
    return len(untried) + len([p for p in plan.named(world) if not before.reached[p]])


def progress(plan: WalkPlan, *judgements: Judgement) -> tuple[dict[Rule, Counter[str]],
                                                              Counter[tuple[str, str]]]:
    """What the walks judged tried and reached, together; every half of a rule of a
    requirement they broke counts as tried (it fails whatever more tries show)."""
    broken = {req for j in judgements for req in j.failing()}
    tried: dict[Rule, Counter[str]] = {}
    for r in plan.rules:
        tried[r] = sum((j.tried.get(r, Counter()) for j in judgements), Counter())
        if r.requirement in broken:
            tried[r].update({h: 1 for h in r.halves})
    return tried, sum((j.reached for j in judgements), Counter())


# -- one walk on the bench ----------------------------------------------------------------------
class WalkRunner:
    """One walk: the world set up, then each action done and watched."""

    def __init__(self, bench: Bench, hands: Hands, reader: str, profile: Profile,
                 plan: WalkPlan, world: World) -> None:
        self.bench, self.hands, self.reader = bench, hands, reader
        self.profile, self.plan, self.world = profile, plan, world
        self.run = FlowRun(bench, hands, reader, "walk")
        self.patient = Patient("patient-walk", PATIENT_PIN)
        self.phones = {"iphone": Phone("phone-walk-iphone", "iphone"),
                       "android": Phone("phone-walk-android", "android", pin=PHONE_PIN)}
        self.phone = "iphone"
        self.holding: set[str] = set()
        #: Wrong PINs typed in a row on the walk's card (for the PIN's prompt).
        self.wrong_in_a_row = 0
        self.steps: list[WalkStep] = []
        self.start: Look | None = None
        self.last: Look | None = None
        self.unmet: list[tuple[str, str]] = []
        #: Steering: the steps of the visit under way, the flow it is focused on, and how
        #: many visits each flow has had the focus of.
        self.visit: list[WalkStep] = []
        self.focus: str | None = None
        self.focused: Counter[str] = Counter()

    # -- setting up ---------------------------------------------------------------------------
    def set_up(self) -> None:
        """The bench restored, switched on by the maker's routine, the world's givens
        arranged one by one (so that what one of them did not bring is told apart)."""
        run = self.run
        BenchStrategy(self.bench, self.hands).flow_start(run, self.profile, (),
                                                         before_power=self.world)
        self._unmet_since("", 0, 0)
        if not self.unmet:
            for given in self.world:
                unmet, problems = len(run.record.unmet), len(run.record.problems)
                arrange_after_power(run, self.profile, (given,))
                self._unmet_since(given, unmet, problems)
        if not self.unmet or all(g for g, _ in self.unmet):
            self.start = self.last = self.look()

    def _unmet_since(self, given: str, unmet: int, problems: int) -> None:
        record = self.run.record
        self.unmet += [(given, text) for text in record.unmet[unmet:] + record.problems[problems:]]

    @property
    def ready(self) -> bool:
        """The reader was brought where a walk starts (its morning came)."""
        return self.last is not None

    def walk(self) -> Walk:
        return Walk(self.reader, self.world, self.start, tuple(self.steps), tuple(self.unmet))

    # -- watching -----------------------------------------------------------------------------
    def look(self) -> Look:
        reading = self.run.look()
        candidate = None
        if reading.candidate is not None:
            refs = self.run.eyes.classifier.references
            candidate = next((r.shows for r in refs if r.state == reading.candidate), None)
        # A consent screen under a loading circle asks nothing: the check runs (USEN-ALMEX's
        # and Fujitsu's way, notice 7福薬業発第367号 記 2. ※; the flows' answer_consents too):
        # judged as the check running, not as a consent waiting for a person (review G-5).
        shows = "checking" if reading.shows == "consent" and reading.overlay else reading.shows
        return Look(self.run.clock.now(), reading.state, shows, tuple(reading.buttons),
                    candidate, back=BACK_LABEL in reading.labels)

    def _expected(self, before: Look, action: str) -> list[tuple[str, float]]:
        """Screens the plan's rules expect of this action on this screen, and how soon."""
        forces = in_force(self.plan, self._with(WalkStep(action, 0.0, before, ())))[-2]
        out: list[tuple[str, float]] = []
        for r in self.plan.in_world(self.walk().effective()):
            if r.flow not in forces or not isinstance(r, UponRule | LeadsRule) \
                    or r.action != action:
                continue
            if (r.before if isinstance(r, UponRule) else r.on) == before.shows:
                out.append((r.to, r.within_s))
        return out

    def _with(self, step: WalkStep) -> Walk:
        return attrs.evolve(self.walk(), steps=(*self.steps, step))

    def _watch(self, action: str, before: Look, t: float) -> list[Look]:
        looks: list[Look] = []

        def look() -> Look:
            looks.append(self.look())
            return looks[-1]

        if action == PERSON_WAIT:
            return self._watch_person(before)
        if action.startswith("wait:"):
            # One look at the end: a timer that fired meanwhile shows as the change.
            self.hands.wait(wait_seconds(action))
            look()
            return looks
        expected = self._expected(before, action)
        clock = self.run.clock

        # An act a screen repeats (a consent answered) brings the next screen of its
        # class or what follows: watched until it comes (as the drivers do), so that a slow
        # reader's next screen is not taken for what the following action brought.
        settle = LEADS_S if action in REPEATS else SETTLE_S

        def done(seen: Look) -> bool:
            if seen.shows in PASSING:
                return False
            if any(all(x.shows != screen for x in looks) for screen, _ in expected):
                return False
            return not seen.same(before) or clock.now() - t >= settle - 1e-9

        self.hands.wait(FIRST_LOOK_S)
        # One stretch per bound, each ending with a look at its deadline: a screen expected
        # within 5 s is looked for at 5 s exactly.
        for k, deadline in enumerate(sorted({bound for _, bound in expected} | {STEP_BOUND_S})):
            left = t + deadline - clock.now()
            if left <= 0:
                continue
            if k:  # the stretch before ended with a look at this moment
                gap = min(1.5, left)
                self.hands.wait(gap)
                left -= gap
            if wait_until(clock, look, done, left, step_s=4.0, first_s=1.5,
                          sleep=self.hands.wait).ok:
                break
        return looks

    def _watch_person(self, before: Look) -> list[Look]:
        """A person's screen left alone: looked at every PERSON_LOOK_S until it changes
        (through the screens a check passes through: where a timer led) or the wait ends.
        The looks kept are the changes and the last."""
        # (An emulated bench's clock is virtual: a timer of any plausible length is seen.)
        wait_s = PERSON_WAIT_EMULATED_S if self.bench.emulated else PERSON_WAIT_S
        clock, end = self.run.clock, self.run.clock.now() + wait_s
        kept: list[Look] = []
        last = before
        while clock.now() < end - 1e-9:
            self.hands.wait(min(PERSON_LOOK_S, end - clock.now()))
            seen = self.look()
            if not seen.same(last):
                kept.append(seen)
                last = seen
            if not seen.same(before) and seen.shows not in PASSING:
                return kept
        return kept if kept and kept[-1] is seen else [*kept, seen]

    # -- acting -------------------------------------------------------------------------------
    def possible(self, action: str) -> bool:
        """What a person at the reader can do now (a card is in the reader or not)."""
        if action == "card_in":
            return "card" not in self.holding
        need = NEEDS.get(action)
        return need is None or need in self.holding

    def do(self, action: str) -> WalkStep:
        before = self.last
        if before is None:
            raise RuntimeError("a walk acts only once its morning came (set_up)")
        t = self.run.clock.now()
        self._act(action)
        looks = self._watch(action, before, t)
        step = WalkStep(action, t, before, tuple(looks), frozenset(self.holding))
        self.steps.append(step)
        self.visit.append(step)
        if any(look.shows == HOME for look in looks):  # the visit is over
            if self.focus is not None:
                self.focused[self.focus] += 1
            self.visit, self.focus = [], None
        if looks:
            self.last = looks[-1]
        return step

    def _pin_entry(self, right: bool) -> PinEntry:
        """What a PIN typed now is, for a person who types it: the walk's one card keeps
        its count of wrong PINs in a row across visits (a right one starts it again), and
        the plan's AUTH-02 rule says how many lock it."""
        self.wrong_in_a_row = 0 if right else self.wrong_in_a_row + 1
        if right:
            return OWN_PIN
        locks = next((r.locks_after for r in self.plan.rules if isinstance(r, PinRule)), None)
        return PinEntry(wrong=True, locks_after=locks,
                        in_a_row=self.wrong_in_a_row if locks is not None else None)

    def _act(self, action: str) -> None:
        hands, reader = self.hands, self.reader
        kind, _, arg = action.partition(":")
        match kind:
            case "card_in":
                hands.card_in(reader, self.patient)
                self.holding.add("card")
            case "card_out":
                hands.card_out(reader)
                self.holding.discard("card")
            case "face":
                hands.face(reader, matches=arg == "match")
            case "consent":
                hands.consent(reader)
            case "pin":
                hands.pin(reader, self.patient.pin if arg == "right" else WRONG_PIN,
                          entry=self._pin_entry(arg == "right"))
            case "press":
                if arg in self.phones:
                    self.phone = arg
                hands.press(reader, arg)
            case "passcode":
                code = self.run.passcode or ""
                hands.passcode(reader, code if arg == "right" else other_digits(code))
            case "staff_confirm":
                hands.staff_confirm(reader)
            case "phone_pin":
                phone = self.phones["android"]
                hands.phone_pin(reader, phone, phone.pin if arg == "right"
                                else other_digits(phone.pin))
            case "hold_phone":
                where = "general_reader" if "paired" in self.walk().effective() else "front"
                general = self.run.general_reader() if where == "general_reader" else None
                # Held where the reader did not ask for it (hunt F01-F07), the iPhone: it
                # needs no PIN typed on the reader, so a reader that reads phones out of
                # turn has nothing to refuse it for.
                asked = self.last is not None and self.last.shows == PHONE_HOLD
                phone = self.phones[self.phone if asked else "iphone"]
                # Held a moment over the reader, then taken away (a tap).
                hands.hold_phone(reader, phone, where=where, general=general)
                hands.hold_phone(reader, phone, where=where, general=general, held=False)
            case "wait":
                pass  # the wait is the watch
            case _:
                raise ValueError(f"not an action a walk takes: {action!r}")

    # -- steering -----------------------------------------------------------------------------
    def stuck(self) -> bool:
        """The last :data:`STUCK_STEPS` actions changed nothing on the screen."""
        last = self.steps[-STUCK_STEPS:]
        return len(last) == STUCK_STEPS and all(
            x.same(s.before) for s in last for x in s.after)

    def remaining(self, before: Judgement) -> int:
        """Rule halves and named pairs of this world no walk has tried or reached yet."""
        plan, world = self.plan, self.walk().effective()
        tried, reached = progress(plan, before, judge_walks(plan, [self.walk()]))
        halves = [(r, h) for r in plan.in_world(world) for h in r.halves if not tried[r][h]]
        return len(halves) + len([p for p in plan.named(world) if not reached[p]])

    def options(self, before: Judgement) -> list[str]:
        """The actions that make sense now, each repeated by its weight, heaviest first
        (``before``: what the walks of earlier worlds reached and tried)."""
        look = self.last
        assert look is not None
        walk = self.walk()
        plan, world = self.plan, walk.effective()
        flows = plan.flows_in(world) if look.shows == HOME else in_force(plan, walk)[-1]
        tried, reached = progress(plan, before, judge_walks(plan, [walk]))
        shows = look.shows or ""
        flow_actions = {a for f in flows for a in _expand(FLOW_ACTIONS.get(f, {}).get(shows, ()))}
        shown = {f"press:{b}" for b in look.buttons}
        intrusions = {a for f in flows for a in INTRUSIONS.get(f, {}).get(shows, ())}
        candidates = (flow_actions | intrusions | set(WAITS) | shown
                      | {"card_in", "card_out", "press:cancel"})
        candidates = {a for a in candidates if self.possible(a) and (
            not a.startswith("press:") or a.split(":", 1)[1] not in plan.conditional
            or a in shown)}
        wants = wanted(plan, walk, tried, flows, look.shows, frozenset(self.holding), WAITS,
                       before.waited)
        # The person's wait is no draw of its own: taken where a rule wants it.
        candidates |= wants & {PERSON_WAIT}
        # One flow with an untried rule at a time, chosen when a visit starts (the one the
        # fewest visits have had, then the profile's order) and kept while the visit follows
        # its procedure: its actions lead on (a visit that follows two half-way tries
        # neither), and a rule a fault keeps from being tried does not starve the others.
        order = untried_flows(plan, world, tried)
        followed = _followed(flows, self.visit) or sorted(flows)
        if self.focus not in order or self.focus not in followed:
            self.focus = min((f for f in order if f in followed),
                             key=lambda f: (self.focused[f], order.index(f)), default=None)
        focus = self.focus
        focused = _expand(FLOW_ACTIONS.get(focus or "", {}).get(shows, ()))
        # What the focus needs first that a person would do (the card still in the reader
        # from a visit that ended without it coming out).
        focused |= {PREPARES[a] for a in focused if a in PREPARES and not self.possible(a)}
        named = plan.named(world)
        # ... and what a pair not yet reached here needs first (a card left lying by an
        # out-of-turn card_in taken out, so that a card can go in here).
        unreached = {a for s, a in named if s == shows and not reached[(s, a)]}
        prepares = {PREPARES[a] for a in unreached if a in PREPARES and not self.possible(a)}
        # Waits count as one action (which wait is the draw's business) ...
        done = Counter((s.before.state, pair_action(s.action)) for s in self.steps)
        # ... and an action that changed nothing here, on the screen or in the reader's
        # slot, unless a rule wants it (a wrong PIN changes what the screen does not show),
        # loses weight each time (a wait, only that wait: a longer one may see a timer): a
        # walk stuck on a screen takes another way out.
        held = [frozenset(), *(s.holding for s in self.steps)]
        futile = Counter((s.before.state, s.action) for i, s in enumerate(self.steps)
                         if all(x.same(s.before) for x in s.after) and s.holding == held[i])

        def weight(a: str) -> int:
            w = (1 + W_FLOW * (a in flow_actions)
                 + W_PAIR * ((shows, pair_action(a)) in named
                             and not reached[(shows, pair_action(a))] or a in prepares)
                 + W_WANTED * (a in wants) + W_UNTRIED_FLOW * (a in focused)
                 + W_NEW * (not done[(look.state, pair_action(a))]))
            if a not in wants:
                w -= W_FUTILE * futile[(look.state, a)]
            return max(1, w)

        ranked = sorted(candidates, key=lambda a: (
            -weight(a), done[(look.state, pair_action(a))],
            ACTIONS.index(a) if a in ACTIONS else 99, a))
        if PERSON_WAIT in wants:
            # A person's screen is tried before anyone acts on it: on a genuine reader the
            # wait leaves it as it was, and the visit goes on.
            ranked.remove(PERSON_WAIT)
            ranked.insert(0, PERSON_WAIT)
        return [a for a in ranked for _ in range(weight(a))]


def _followed(flows: Iterable[str], visit: Sequence[WalkStep]) -> list[str]:
    """The flows whose procedure took every action of the visit so far (waits aside)."""
    return [f for f in sorted(flows) if all(
        pair_action(s.action) in FLOW_ACTIONS.get(f, {}).get(s.before.shows or "", ())
        for s in visit if not s.action.startswith("wait"))]


def _expand(actions: Sequence[str]) -> set[str]:
    return {w for a in actions for w in (WAITS if a == "wait" else (a,))}


# -- hypothesis: drawing walks ------------------------------------------------------------------
def steered_walks(make: Callable[[], WalkRunner], plan: WalkPlan, prior: Sequence[Walk], *,
                  steps: int, walks: int) -> list[Walk]:
    """Walks that take the heaviest action each time (no draw: coverage does not hang on
    luck) until nothing is left to reach or try in their world, ``steps`` steps in all. A
    walk stuck on a screen (:data:`STUCK_STEPS` actions that changed nothing) starts again
    on a restored bench, at most ``walks`` times."""
    out: list[Walk] = []
    left = steps
    while left > 0 and len(out) < walks:
        before = judge_walks(plan, [*prior, *out])
        runner = make()
        runner.set_up()
        while runner.ready and left > 0 and not runner.stuck() and runner.remaining(before):
            runner.do(runner.options(before)[0])
            left -= 1
        out.append(runner.walk())
        if not runner.ready or not runner.stuck():
            break  # done, out of steps, or a morning that will not come on a restart either
    return out


def _machine(make: Callable[[], WalkRunner], before: Judgement,
             on_walk: Callable[[Walk], None], steps: int) -> type[RuleBasedStateMachine]:
    examples = 0

    class WalkMachine(RuleBasedStateMachine):
        runner: WalkRunner | None = None
        #: Hypothesis's first example is its simplest (index 0 of every draw: the steered
        #: walk's choices): skipped, the steered walks are walked without it.
        first = False

        @initialize()
        def count(self) -> None:
            nonlocal examples
            self.first, examples = examples == 0, examples + 1

        @rule(data=st.data())
        def act(self, data: st.DataObject) -> None:
            if self.first:
                return
            if self.runner is None:
                # Set up at the first step, not before: an example that takes no step
                # costs nothing.
                self.runner = make()
                self.runner.set_up()
            runner = self.runner
            if not runner.ready or len(runner.steps) >= steps:
                return  # the morning did not come: the walk is judged on that alone
            action = data.draw(st.sampled_from(runner.options(before)), label="action")
            runner.do(action)

        def teardown(self) -> None:
            if self.runner is not None:
                on_walk(self.runner.walk())

    return WalkMachine


def draw_walks(make: Callable[[], WalkRunner], before: Judgement, *, walks: int, steps: int,
               seed: int | None = None) -> list[Walk]:
    """``walks`` random walks of ``steps`` steps, each action drawn by hypothesis from the
    weighted options (derandomised unless ``seed``)."""
    out: list[Walk] = []
    # At least the walk's steps: else hypothesis's second example (a novel choice at its
    # first draw: stop) is a walk of no step.
    test = get_state_machine_test(
        _machine(make, before, out.append, steps), _min_steps=1 + steps,
        settings=settings(max_examples=1 + walks, stateful_step_count=steps + 1,
                          deadline=None, derandomize=seed is None, database=None,
                          phases=(Phase.explicit, Phase.generate),
                          suppress_health_check=list(HealthCheck)))
    if seed is not None:
        test = seeded(seed)(test)
    test()
    return out


# -- a reader's walks, judged and shrunk -------------------------------------------------------
@attrs.frozen
class WalkReport:
    plan: WalkPlan
    walks: tuple[Walk, ...]
    judgement: Judgement
    shrunk: dict[str, Shrunk]
    seed: int | None
    #: Wall seconds the walks and the shrinking took.
    seconds: float

    def replay_hint(self, test_id: str = "", args: str = "") -> str:
        """How to walk the same walks again (``args``: the run's own options, --bench)."""
        where = (f" -k {test_id}" if test_id else "") + (f" {args}" if args else "")
        if self.seed is None:
            return (f"replay: the walks are derandomised (the same walks every run): rerun "
                    f"pytest suites/test_model_based.py{where}; --walk-seed N draws others")
        return f"replay: pytest suites/test_model_based.py{where} --walk-seed {self.seed}"


def walk_reader(bench: Bench, hands: Hands, reader: str, profile: Profile, *,
                seed: int | None = None, budget: Budget = Budget(), shrink: bool = True
                ) -> WalkReport:
    """The walks of one reader in every world of its plan, judged, each broken requirement
    shrunk to the fewest actions that still break it."""
    started = time.perf_counter()
    plan = WalkPlan.of(profile)
    walks: list[Walk] = []
    randomly = min(reversed(plan.worlds), key=len)
    for world in plan.worlds:
        before = judge_walks(plan, walks)

        def make(world: World = world) -> WalkRunner:
            return WalkRunner(bench, hands, reader, profile, plan, world)

        if world == randomly and budget.random_walks:
            # The random walks first: their start tries what a first look tries, and a
            # steered walk follows only if something is left to reach here.
            walks += draw_walks(make, before, walks=budget.random_walks,
                                steps=budget.random_steps, seed=seed)
            before = judge_walks(plan, walks)
            if not untried_in(plan, world, before):
                continue
        walks += steered_walks(make, plan, walks, steps=budget.steps(plan, world, before),
                               walks=budget.restarts)
    judgement = judge_walks(plan, walks)
    shrunk: dict[str, Shrunk] = {}
    if shrink:
        for req in judgement.failing():
            shrunk[req] = shrink_failure(bench, hands, reader, profile, plan, walks, judgement,
                                         req)
    return WalkReport(plan, tuple(walks), judgement, shrunk, seed,
                      time.perf_counter() - started)


def replay(bench: Bench, hands: Hands, reader: str, profile: Profile, plan: WalkPlan,
           world: World, actions: Sequence[str]) -> Walk:
    """The actions done again on a freshly set-up world (an action a person could not do
    at that point, a card already in, is left out)."""
    runner = WalkRunner(bench, hands, reader, profile, plan, world)
    runner.set_up()
    if runner.ready:
        for action in actions:
            if runner.possible(action):
                runner.do(action)
    return runner.walk()


def _broken(plan: WalkPlan, walk: Walk, req: str) -> list[str]:
    return [b.text for b in judge_walks(plan, [walk]).problems(req)]


def _visits(walk: Walk) -> list[list[int]]:
    """Step indices grouped by visit (a visit ends with a step that showed the first
    screen)."""
    groups: list[list[int]] = [[]]
    for i, step in enumerate(walk.steps):
        groups[-1].append(i)
        if any(look.shows == HOME for look in step.after):
            groups.append([])
    return [g for g in groups if g]


def shrink_failure(bench: Bench, hands: Hands, reader: str, profile: Profile, plan: WalkPlan,
                   walks: Sequence[Walk], judgement: Judgement, req: str) -> Shrunk:
    """The first walk that broke ``req``, cut after the step that broke it, then as few of
    its actions as still break it (bounded replays)."""
    first = next(b for b in judgement.problems(req))
    walk = walks[first.walk]
    if first.step is None:  # broken before any step (the world's set-up): nothing to cut
        return Shrunk(attrs.evolve(walk, steps=()), (first.text,))
    best = attrs.evolve(walk, steps=walk.steps[:first.step + 1])
    problems = _broken(plan, best, req) or [first.text]
    replays = 0

    def attempt(world: World, actions: list[str]) -> Walk | None:
        nonlocal replays
        if replays >= MAX_REPLAYS:
            return None
        replays += 1
        again = replay(bench, hands, reader, profile, plan, world, actions)
        return again if _broken(plan, again, req) else None

    # The cheapest world that still shows it: no givens, when the requirement's rules need
    # none (a plain morning costs a fraction of a paired one).
    if walk.world and all(not r.given for r in plan.rules if r.requirement == req):
        cheap = attempt((), [s.action for s in best.steps])
        if cheap is not None:
            best = _cut(plan, cheap, req)

    def without(drop: set[int]) -> bool:
        """Try the walk without these steps: True (and kept) if it still breaks ``req``."""
        nonlocal best
        keep = [s.action for i, s in enumerate(best.steps) if i not in drop]
        shorter = attempt(best.world, keep) if drop else None
        if shorter is not None:
            best = _cut(plan, shorter, req)
        return shorter is not None

    # Without the actions that showed no change and no flow takes there (an absent
    # button, a wait on the first screen); then the earlier visits left out by halves,
    # quarters, ... (delta debugging); then each single action (the failing last one kept).
    flows = plan.flows_in(best.effective())
    without({i for i, s in enumerate(best.steps[:-1])
             if all(look.same(s.before) for look in s.after)
             and (s.action.startswith("wait") or not any(
                 pair_action(s.action) in FLOW_ACTIONS[f].get(s.before.shows or "", ())
                 for f in flows))})
    n = 2
    while replays < MAX_REPLAYS:
        earlier = _visits(best)[:-1]
        if not earlier:
            break
        n = min(n, len(earlier))
        size = -(-len(earlier) // n)
        parts = [earlier[j:j + size] for j in range(0, len(earlier), size)]
        if any(without({i for group in part for i in group}) for part in parts):
            n = max(n - 1, 2)
        elif n >= len(earlier):
            break
        else:
            n = min(2 * n, len(earlier))
    i = len(best.steps) - 2
    while i >= 0 and replays < MAX_REPLAYS:
        without({i})
        i = min(i - 1, len(best.steps) - 2)
    return Shrunk(best, tuple(_broken(plan, best, req) or problems))


def _cut(plan: WalkPlan, walk: Walk, req: str) -> Walk:
    """The walk up to the first step that broke ``req``."""
    steps = [b.step for b in judge_walks(plan, [walk]).problems(req) if b.step is not None]
    return attrs.evolve(walk, steps=walk.steps[:min(steps) + 1]) if steps else walk
