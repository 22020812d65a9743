"""Mutation testing of the certification: single-fault benches made from the twins'
behaviour files, each certified on its maker, each with the requirements it must fail.

Mutants come from two sources:

- the catalogue (``benchmarks/mutants.yaml``): faults the README's deviation tables and the
  deviant benches document, plus new ones, each with its ``must_fail``; a row whose change
  leaves a screen matching no reference (``unrecognised``) must fail besides whatever saw
  that screen on the default bench (a certification of the maker there, run once: its
  flows' observed paths, its walks' screens with the requirements in force);
- generated from the twins' data (fixtures/devices/face_auth/*.yaml over common-flow.yaml,
  terminal/oqs-terminal.yaml), the oracle reading the profiles (the twins never do):
  ``text``: one character of a twin's text that a profile check names (``texts``,
  ``contains``, ``contains_any`` of a screen class; a dialog's ``texts``) swapped for another;
  must fail: every requirement whose check of that screen class no longer finds its text.
  ``timer``: an ``after.seconds`` on a state whose screen class a check names, made 1 s;
  must fail: the requirements naming that class.
  ``redirect``: a transition on a flow's way, sent to the first screen (to the state itself
  where it went to the first screen or left it); the way is the flow's own route
  (``FLOW_ROUTES``: the drive's events from the first screen) to each screen its check lists
  and, when the check judges what only a check request brings (a dialog of the check, a
  result handed over), to the request; must fail: every requirement whose drive passes
  through it before what its check judges, unless an event the world sends later (a
  network cut, the terminal's 901) still brings the judged screen from where the redirect
  left the reader.

Each mutant is a bench file ``base: emulated.yaml`` with the deviations under its reader (or
``terminal:``), written to a temporary folder, and certified with
``onshi-rig certify --bench FILE --vendor MAKER --jobs 1``. Per mutant: ``exact`` (fails
exactly its must_fail), ``others`` (those and more), ``missed`` (passes one it must fail),
``error`` (the certification did not finish).

    python benchmarks/mutants.py [--limit N] [--maker KEY]... [--only generated|catalogue]
                                 [--seed N] [--jobs 2] [--json FILE] [--list]
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import contextlib
import json
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pydantic
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.bench import check_bench_file  # noqa: E402
from harness.cases import general_readers_host  # noqa: E402
from harness.errors import BadInput, RigError  # noqa: E402
from harness.loading import Field, load_yaml_model, read_layered_yaml, read_yaml  # noqa: E402
from harness.model.profiles import FlowCheck, Profile, ProfileSet, default_profiles_dir  # noqa: E402
from harness.paths import project_file  # noqa: E402

CATALOGUE = Path(__file__).with_name("mutants.yaml")
TWINS = project_file("fixtures/devices/face_auth")
TERMINAL = project_file("fixtures/devices/terminal/oqs-terminal.yaml")
BASE_BENCH = project_file("fixtures/benches/emulated.yaml")
#: The state every redirect sends a reader to, and where every flow starts (README).
HOME = "first"
#: A patient's check-in from the first screen (drivers.check_in): the card, the face, each
#: consent screen answered.
_CHECK_IN = frozenset({"face_match", "consent_answer"})
#: ... then the check goes through and the card comes out (drivers.end_visit).
_VISIT = _CHECK_IN | {"check_ok", "card_out"}


@attrs.frozen
class Route:
    """How a flow's drive (harness/flows/drivers.py) goes from the first screen, in the
    twins' events: what the person does and what the bench's world (the terminal, the
    network) brings on the way. The oracle follows it, not the twin's shortest way: a
    redirect on the card's way does not touch a phone's flow, and a card-out the drive never
    makes (on a consent screen in the E901 flow) touches no check of it."""

    #: The events the drive may use on the first screen to leave it.
    leave: frozenset[str]
    #: The events the drive and its world bring after that (the first screen included,
    #: when a visit comes back to it).
    events: frozenset[str]
    #: Events the world sends the reader wherever it is, each with when: on the drive
    #: reaching a screen class (the network cut on the consent screen), or AFTER_REQUEST
    #: (the terminal's 901 once the staff OK the failed check's dialogs). A redirect before
    #: that point leaves the reader where the event may still bring the judged screen (a
    #: network error, a 901 shown from the first screen): then that screen does not need
    #: the redirected way.
    world: tuple[tuple[str, str], ...] = ()
    #: Screen classes the drive brings back by the notice's remedy whichever transition the
    #: reader lacks (ERR-02: its own retries or the network restored, and if neither helps,
    #: the reader restarted, which comes up on its first screen): no leg to them, so no one
    #: redirect keeps the drive from them.
    regained: frozenset[str] = frozenset()


_CARD = frozenset({"card_in"})
#: The twins' event for a right PIN typed on the PIN screen.
RIGHT_PIN = "pin_ok"
#: ``Route.world``: the event comes once the check was requested.
AFTER_REQUEST = "request"
_NETWORK_CUT = (("consent", "network_lost"),)
#: Every flow whose drive leaves the first screen. A flow not listed never does (it looks at
#: the first screen, pairs, downloads, or is watched from power-on with a fault in place):
#: a redirect on a reader's way from the first screen touches none of its checks.
FLOW_ROUTES: dict[str, Route] = {
    "consent": Route(_CARD, _VISIT),
    "face_auth": Route(_CARD, _VISIT),
    "pin_lock": Route(_CARD, frozenset({"face_no_match", "pin_wrong", "pin_ok", "card_out"})),
    "pin_visit": Route(_CARD, frozenset({"face_no_match", "pin_ok", "consent_answer",
                                         "check_ok", "card_out"})),
    "pin_lock_staff": Route(_CARD, frozenset({
        "face_no_match", "pin_wrong", "card_out", "staff_button", "passcode_wrong",
        "passcode_ok", "staff_confirms", "card_in", "consent_answer", "check_ok"})),
    "staff_visual": Route(frozenset({"staff_button"}), frozenset({
        "passcode_wrong", "passcode_ok", "staff_confirms", "card_in", "consent_answer",
        "check_ok", "card_out"})),
    "smartphone_iphone": Route(frozenset({"smartphone_button"}), frozenset({
        "choose_iphone", "phone_held_general", "phone_held_front", "consent_answer",
        "check_ok", "retry"})),
    "smartphone_android": Route(frozenset({"smartphone_button"}), frozenset({
        "choose_android", "phone_pin_ok", "phone_held_general", "phone_held_front",
        "consent_answer", "check_ok", "retry"})),
    # The check fails (the upgrade not applied): the reader's own way after it, then the
    # terminal's 901 once the staff OK its dialogs. The card comes out meanwhile, judged by
    # no check: not on the way.
    "e901": Route(_CARD, _CHECK_IN | {"check_failed", "error_901"},
                  world=((AFTER_REQUEST, "error_901"),)),
    # The same on the phone's way (an iPhone held where the maker's procedure says).
    "e901_phone": Route(frozenset({"smartphone_button"}), frozenset({
        "choose_iphone", "phone_held_general", "phone_held_front", "consent_answer",
        "check_failed", "error_901"}), world=((AFTER_REQUEST, "error_901"),)),
    # ... with an Android phone (its PIN typed on the reader).
    "e901_android": Route(frozenset({"smartphone_button"}), frozenset({
        "choose_android", "phone_pin_ok", "phone_held_general", "phone_held_front",
        "consent_answer", "check_failed", "error_901"}), world=((AFTER_REQUEST, "error_901"),)),
    # ... on the PIN's way (the face does not match) and on the staff's (visual confirmation).
    "e901_pin": Route(_CARD, frozenset({"face_no_match", "pin_ok", "consent_answer",
                                        "check_failed", "error_901"}),
                      world=((AFTER_REQUEST, "error_901"),)),
    "e901_staff": Route(frozenset({"staff_button"}), frozenset({
        "passcode_ok", "staff_confirms", "card_in", "consent_answer", "check_failed",
        "error_901"}), world=((AFTER_REQUEST, "error_901"),)),
    "upgrade_nightly": Route(_CARD, _CHECK_IN | {"check_failed"}),
    "upgrade_data_missing": Route(_CARD, _VISIT | {"check_failed"}),
    # Recorded after the failed check and the restart: a visit that goes through.
    "reboot_then_check": Route(_CARD, _VISIT),
    "upgrade_scheduled_restart": Route(_CARD, _VISIT),
    "line_auth_page": Route(_CARD, _VISIT),
    "network_error": Route(_CARD, _CHECK_IN | {"check_network_error"},
                           world=_NETWORK_CUT),
    "line_auth_cut": Route(_CARD, _CHECK_IN | {"check_network_error"},
                           world=_NETWORK_CUT),
    # ... on the PIN's, the staff's and the phone's ways.
    "network_error_pin": Route(_CARD, frozenset({"face_no_match", "pin_ok", "consent_answer",
                                                 "check_network_error"}), world=_NETWORK_CUT),
    "network_error_staff": Route(frozenset({"staff_button"}), frozenset({
        "passcode_ok", "staff_confirms", "card_in", "consent_answer", "check_network_error"}),
        world=_NETWORK_CUT),
    "network_error_phone": Route(frozenset({"smartphone_button"}), frozenset({
        "choose_iphone", "phone_held_general", "phone_held_front", "consent_answer",
        "check_network_error"}), world=_NETWORK_CUT),
    "network_error_android": Route(frozenset({"smartphone_button"}), frozenset({
        "choose_android", "phone_pin_ok", "phone_held_general", "phone_held_front",
        "consent_answer", "check_network_error"}), world=_NETWORK_CUT),
    "network_long_outage": Route(_CARD, _CHECK_IN),
    "network_intermittent": Route(_CARD, _VISIT),
    "network_recovery": Route(_CARD, _VISIT | {"check_network_error"}),
    "network_renewal": Route(_CARD, _VISIT | {"check_network_error"}),
    "software_outdated": Route(_CARD, _CHECK_IN),
    # Watched from power-on with the LAN out: the reader links and the terminal tells it the
    # network is down (the twin's network_lost on its first screen); then the cable back in,
    # the reader's own retries, and if the error stays, the connected devices restarted. No
    # card, no visit.
    "startup_network_error": Route(frozenset({"network_lost"}), frozenset(),
                                   regained=frozenset({HOME})),
}
#: The terminal's dialogs a check request opens (harness/emulation/terminal.py: a failed
#: check), with the ones they lead to (``then_dialog``, from the terminal's data): a check
#: that judges one judges the request, so the drive's way up to it.
CHECK_DIALOG_ROOTS = ("check_error_1", "network_error")
#: The effect of a transition that hands the check to the terminal (behaviour.py).
REQUEST = "request_check"

#: One-character substitutions a faulty firmware might make (a kana's dakuten, a digit, a
#: kanji for a like one, a look-alike kana, the colon's width, other brackets).
SWAPS: dict[str, str] = {
    **dict(zip("かきくけこさしすせそたちつてとはひふへほ", "がぎぐげござじずぜぞだぢづでどばびぶべぼ",
               strict=True)),
    **dict(zip("0123456789", "1234567890", strict=True)),
    **dict(zip("認証確資格障害発生員受付窓口連絡取出番号入力待", "忍正碓貸各陣宮癸主貝愛附窗日運給収山審呈人刀持",
               strict=True)),
    **dict(zip("ンソシツノメワウクタにをお", "ソンツシメノクワタクへおを", strict=True)),
    "：": ":", ":": "：", "【": "［", "】": "］",
}


class CatalogueRow(Field):
    id: str
    makers: list[str] = pydantic.Field(min_length=1)
    target: str = pydantic.Field(default="reader", pattern="^(reader|terminal)$")
    #: The bench's reader the changes go to (default: the maker's face-auth reader; a general
    #: reader's twin for the general readers' rules; ``host``: the face-auth reader that
    #: drives the general readers' flows on the default bench, harness.cases).
    reader: str | None = None
    #: Facts of the bench file the mutant changes besides (the lab's lists of general
    #: readers, USB-07/08), merged over the base bench.
    bench: dict[str, Any] = {}
    changes: list[dict[str, Any]] = pydantic.Field(default=[], validate_default=True)
    must_fail: list[str] = []
    every_flow: bool = False
    #: The twin's states whose screen the changes leave unrecognisable (matching no
    #: reference): every requirement whose drive sees one fails closed too. Which those are
    #: is read off a certification of the maker on the default bench (:class:`Baselines`).
    unrecognised: list[str] = []
    why: str

    @pydantic.field_validator("changes")
    @classmethod
    def _changes_something(cls, value: list[dict[str, Any]],
                           info: pydantic.ValidationInfo) -> list[dict[str, Any]]:
        if not value and not info.data.get("bench"):
            raise ValueError("give at least one change (or bench facts)")
        return value


class Catalogue(Field):
    mutants: list[CatalogueRow]
    unbreakable: dict[str, str] = {}
    #: Generated mutants that break no rule of the notices (a time no notice gives), by id
    #: or by an id's ending after the maker (``timer-completion``), with why: not certified.
    equivalent: dict[str, str] = {}

    def equivalent_why(self, mutant: Mutant) -> str | None:
        tail = mutant.id.removeprefix(f"{mutant.maker}-")
        return self.equivalent.get(mutant.id) or self.equivalent.get(tail)


@attrs.frozen
class Mutant:
    """One fault: the deviations of one reader (or the terminal), certified on ``maker``."""

    id: str
    maker: str
    source: str  # catalogue | generated
    kind: str  # catalogue: the row's id; generated: text, timer, redirect
    on: str  # reader | terminal
    changes: tuple[tuple[str, Any], ...]
    must_fail: frozenset[str]
    why: str
    #: Text mutants: the twin's text and the changed one (one character apart).
    text: tuple[str, str] | None = None
    #: The reader whose twin the changes go to (None: the maker's).
    reader: str | None = None
    #: Bench file keys the mutant sets besides (a catalogue row's ``bench``).
    facts: dict[str, Any] = attrs.field(factory=dict, eq=False)
    #: States whose screen no reference matches any more (a catalogue row's
    #: ``unrecognised``): ``must_fail`` grows by what the default bench's run saw of them.
    unrecognised: frozenset[str] = frozenset()

    def bench(self) -> dict[str, Any]:
        """The bench file's content (``base`` filled in by :func:`write_bench`)."""
        devs = [{"change": path, "to": to, "why": self.why} for path, to in self.changes]
        head = {"bench": f"mutant-{self.id}", **self.facts}
        if not devs:
            return head
        if self.on == "terminal":
            return {**head, "terminal": {"deviations": devs}}
        return {**head, "readers": [{"name": self.reader or self.maker, "deviations": devs}]}


@attrs.frozen
class Outcome:
    mutant: Mutant
    verdict: str  # exact | others | missed | error
    failed: frozenset[str]
    seconds: float
    detail: str = ""


# --- the twins' data and the profiles -------------------------------------------------------


def twin_behaviour(maker: str) -> dict[str, Any]:
    data, _ = read_layered_yaml(TWINS / f"{maker}.yaml")
    return data["behaviour"]


def terminal_data() -> dict[str, Any]:
    data, _ = read_yaml(TERMINAL)
    return data


def flow_checks(profile: Profile) -> Iterator[tuple[str, FlowCheck]]:
    for req in profile.requirements:
        for check in (req.check, *req.also):
            if isinstance(check, FlowCheck):
                yield req.id, check


def state_classes(behaviour: dict[str, Any]) -> dict[str, str]:
    return {name: s.get("shows", name) for name, s in behaviour.get("states", {}).items()}


def targets(rule: Any) -> list[str]:
    """The states a transition rule can lead to (a name, ``{to, ...}`` or a list of them)."""
    if isinstance(rule, str):
        return [rule]
    if isinstance(rule, dict):
        return [rule["to"]] if rule.get("to") else []
    if isinstance(rule, list):
        return [t for item in rule for t in targets(item)]
    return []


# --- generated mutants ----------------------------------------------------------------------


def _text_demands(check: FlowCheck, screen: str) -> list[list[str]]:
    """Per screen step of ``screen``: groups of which one must show (texts and contains:
    each alone; contains_any: the group)."""
    out: list[list[str]] = []
    # A network scenario's error screen (NET-01) is judged by its text on every try too.
    steps = [*check.screens, *([check.renewal.error] if check.renewal is not None else [])]
    for step in steps:
        if step.screen == screen:
            out += [[t] for t in (*step.texts, *step.contains)]
            if step.contains_any:
                out.append(list(step.contains_any))
    return out


def _met(demands: list[list[str]], shown: str) -> bool:
    return all(any(t in shown for t in group) for group in demands)


def text_mutants(maker: str, profile: Profile, behaviour: dict[str, Any],
                 rng: random.Random) -> list[Mutant]:
    classes = state_classes(behaviour)
    states = behaviour.get("states", {})
    out: list[Mutant] = []
    seen: set[tuple[str, str]] = set()
    for _, check in flow_checks(profile):
        for step in check.screens:
            for wanted in (*step.texts, *step.contains, *step.contains_any):
                for name, state in states.items():
                    # A state drawn ``like`` another shows that one's texts: mutate the source.
                    if classes[name] != step.screen or "texts" not in state:
                        continue
                    lines = list(state["texts"])
                    hits = [(i, line.find(wanted)) for i, line in enumerate(lines) if wanted in line]
                    if not hits or (name, wanted) in seen:
                        continue
                    seen.add((name, wanted))
                    i, at = hits[0]
                    spots = [at + k for k, ch in enumerate(wanted) if ch in SWAPS]
                    if not spots:
                        continue
                    pos = rng.choice(spots)
                    changed = lines[i][:pos] + SWAPS[lines[i][pos]] + lines[i][pos + 1:]
                    new_lines = [changed if j == i else t for j, t in enumerate(lines)]
                    shown = {classes[n] for n, s in states.items()
                             if n == name or s.get("like") == name}
                    must = {req for req, c in flow_checks(profile)
                            for cls in shown
                            if _met(d := _text_demands(c, cls), "\n".join(lines))
                            and not _met(d, "\n".join(new_lines))}
                    out.append(Mutant(
                        id=f"{maker}-text-{name}-{pos}", maker=maker, source="generated",
                        kind="text", on="reader",
                        changes=((f"behaviour.states.{name}.texts", new_lines),),
                        must_fail=frozenset(must), text=(lines[i], changed),
                        why=f"{name}: {lines[i]!r} -> {changed!r}"))
    return out


def dialog_text_mutants(maker: str, profile: Profile, terminal: dict[str, Any],
                        rng: random.Random) -> list[Mutant]:
    dialogs = terminal.get("dialogs", {})
    out: list[Mutant] = []
    seen: set[tuple[str, str]] = set()
    for _, check in flow_checks(profile):
        for step in check.dialogs:
            dialog = dialogs.get(step.dialog, {})
            for wanted in step.texts:
                fields = [("title", dialog.get("title", ""), None)]
                fields += [("texts", t, i) for i, t in enumerate(dialog.get("texts", []))]
                for field, line, index in fields:
                    if wanted not in line or (step.dialog, wanted) in seen:
                        continue
                    seen.add((step.dialog, wanted))
                    at = line.find(wanted)
                    spots = [at + k for k, ch in enumerate(wanted) if ch in SWAPS]
                    if not spots:
                        continue
                    pos = rng.choice(spots)
                    changed = line[:pos] + SWAPS[line[pos]] + line[pos + 1:]
                    if index is None:
                        to: Any = changed
                    else:
                        to = [changed if j == index else t
                              for j, t in enumerate(dialog["texts"])]
                    must = {req for req, c in flow_checks(profile) for s in c.dialogs
                            if s.dialog == step.dialog
                            and any(t in line and t not in changed for t in s.texts)}
                    out.append(Mutant(
                        id=f"{maker}-text-terminal-{step.dialog}-{pos}", maker=maker,
                        source="generated", kind="text", on="terminal",
                        changes=((f"dialogs.{step.dialog}.{field}", to),),
                        must_fail=frozenset(must), text=(line, changed),
                        why=f"terminal {step.dialog}: {line!r} -> {changed!r}"))
    return out


def timer_mutants(maker: str, profile: Profile, behaviour: dict[str, Any]) -> list[Mutant]:
    classes = state_classes(behaviour)
    out: list[Mutant] = []
    for name, state in behaviour.get("states", {}).items():
        after = state.get("after")
        if not isinstance(after, dict) or not after.get("seconds") or after["seconds"] <= 1:
            continue
        must = {req for req, c in flow_checks(profile)
                if any(s.screen == classes[name] for s in c.screens)}
        if not must:
            continue  # a screen no check names: nothing to say about its timer
        out.append(Mutant(
            id=f"{maker}-timer-{name}", maker=maker, source="generated", kind="timer",
            on="reader", changes=((f"behaviour.states.{name}.after.seconds", 1),),
            must_fail=frozenset(must),
            why=f"{name}: {after.get('event')} after 1 s, not {after['seconds']} s"))
    return out


Edge = tuple[str, str, str]  # state, event, target


def _edges(behaviour: dict[str, Any]) -> list[Edge]:
    """The transitions, except into states drawn ``like`` another (a frozen look-alike an
    error leads to: no flow's way between two listed screens)."""
    looks = {n for n, s in behaviour.get("states", {}).items() if s.get("like")}
    out = []
    for state, rules in sorted(behaviour.get("transitions", {}).items()):
        if state == "*" or not isinstance(rules, dict):
            continue
        for event, rule in sorted(rules.items()):
            out += [(state, event, t) for t in targets(rule) if t not in looks]
    return out


def _requests(behaviour: dict[str, Any]) -> frozenset[tuple[str, str]]:
    """The (state, event) transitions that hand the check to the terminal."""
    out = set()
    for state, rules in behaviour.get("transitions", {}).items():
        if state == "*" or not isinstance(rules, dict):
            continue
        for event, rule in rules.items():
            items = rule if isinstance(rule, list) else [rule]
            if any(isinstance(i, dict) and REQUEST in (i.get("do") or []) for i in items):
                out.add((state, event))
    return frozenset(out)


def check_dialogs(terminal: dict[str, Any]) -> frozenset[str]:
    """The dialogs a check request opens, and those they lead to."""
    dialogs = terminal.get("dialogs", {})
    out: set[str] = set()
    todo = list(CHECK_DIALOG_ROOTS)
    while todo:
        d = todo.pop()
        if d in out or d not in dialogs:
            continue
        out.add(d)
        if dialogs[d].get("then_dialog"):
            todo.append(dialogs[d]["then_dialog"])
    return frozenset(out)


def _path(edges: list[Edge], classes: dict[str, str], start: str, goal: str | None,
          listed: set[str], events: frozenset[str] | None = None,
          first: frozenset[str] | None = None,
          requests: frozenset[tuple[str, str]] = frozenset(),
          at: str | None = None) -> list[Edge]:
    """A shortest twin path from a state showing ``start`` (``at``: that state, where the
    way before ended) to one showing ``goal`` (None: to
    the check's request, an edge of ``requests``), through states whose class the check does
    not list (or ``start`` again), by ``events`` only (``first``: the events allowed out of
    the start). Once the check is requested the visit goes on and may pass a state again (a
    reader back on its first screen until the terminal's 901 reaches it)."""
    frontier: list[tuple[tuple[str, bool], list[Edge]]] = [
        ((s, False), []) for s, c in sorted(classes.items())
        if (s == at if at is not None else c == start)]
    visited = {node for node, _ in frontier}
    while frontier:
        nxt = []
        for (state, asked), path in frontier:
            allowed = first if first is not None and not path else events
            for edge in (e for e in edges
                         if e[0] == state and (allowed is None or e[1] in allowed)):
                target = edge[2]
                now = asked or (edge[0], edge[1]) in requests
                if goal is None and now:
                    return [*path, edge]
                if (target, now) in visited or target not in classes:
                    continue
                if classes[target] == goal:
                    return [*path, edge]
                if classes[target] in listed and classes[target] != start:
                    continue
                visited.add((target, now))
                nxt.append(((target, now), [*path, edge]))
        frontier = nxt
    return []


def _redirect(behaviour: dict[str, Any], state: str, event: str) -> tuple[str, list[str]]:
    """Where the redirect of (state, event) sends the reader (the first screen, or the state
    itself where it went there or left it), and where it went."""
    goes = targets(behaviour["transitions"][state][event])
    return (state if state == HOME or HOME in goes else HOME), goes


def _judges_request(check: FlowCheck, dialogs: frozenset[str]) -> bool:
    """The check judges what only a check request brings: a dialog of the check, a result
    handed over."""
    return (any(d.dialog in dialogs for d in check.dialogs) or check.result == "handed_over"
            or bool(check.results))


def _spared(legs: list[tuple[list[Edge], str | None]], route: Route, edges: list[Edge],
            classes: dict[str, str], behaviour: dict[str, Any],
            requests: frozenset[tuple[str, str]]) -> set[tuple[int, str, str]]:
    """(leg, state, event) of the legs, in the drive's order, whose redirect leaves the
    reader where an event the world sends later still brings that leg's judged screen: not
    needed for it. The event itself redirected is no way round."""
    out: set[tuple[int, str, str]] = set()
    for when, event in route.world:
        before = when != AFTER_REQUEST  # the window: before the drive reaches ``when``
        open_ = before
        for k, (leg, goal) in enumerate(legs):
            if goal is None:
                continue  # the request itself: no event of the world makes one
            for state, ev, target in leg:
                if not before and (state, ev) in requests:
                    open_ = True
                    continue
                if open_ and ev != event:
                    to, _ = _redirect(behaviour, state, ev)
                    if any(e[0] == to and e[1] == event and classes.get(e[2]) == goal
                           for e in edges):
                        out.add((k, state, ev))
                if before and classes.get(target) == when:
                    open_ = False
    return out


def redirect_mutants(maker: str, profile: Profile, behaviour: dict[str, Any],
                     dialogs: frozenset[str] | None = None) -> list[Mutant]:
    """Per transition on a flow's way, the requirements whose check judges something its
    drive reaches only through it: the flow's own route (FLOW_ROUTES) from the first screen
    to each screen the check lists (and the screen an escalation or a renewal judges a
    check done on), and, when the check judges a request (a dialog of the check, a result
    handed over) or lists a screen the oracle's graph does not reach, the way from the
    first screen to the request."""
    dialogs = check_dialogs(terminal_data()) if dialogs is None else dialogs
    classes = state_classes(behaviour)
    edges = _edges(behaviour)
    requests = _requests(behaviour)
    through: dict[tuple[str, str], set[str]] = collections.defaultdict(set)
    for req, check in flow_checks(profile):
        judged = [s.screen for s in check.screens]
        judged += [r.succeeded for r in (check.escalation, check.renewal) if r is not None]
        route = FLOW_ROUTES.get(check.flow)
        legs: list[tuple[list[Edge], str | None]] = []
        missing = False
        # Every flow starts on the first screen: its way to the first judged screen counts
        # (a flow that never leaves the first screen has none).
        if route is not None and judged and judged[0] != HOME:
            leg = _path(edges, classes, HOME, judged[0], set(judged), route.events,
                        first=route.leave, requests=requests)
            legs.append((leg, judged[0]))
            missing |= not leg
        events = None if route is None else route.leave | route.events
        # On its route, a drive goes on from the state the way before ended in (the first
        # consent screen, not any screen of that class).
        at = legs[0][0][-1][2] if route is not None and legs and legs[0][0] else None
        for a, b in zip(judged, judged[1:], strict=False):
            if a == b:
                continue
            if route is not None and b in route.regained:
                legs.append(([], b))
                at = None  # the drive goes on from whichever state of that class it came to
                continue
            leg = _path(edges, classes, a, b, set(judged), events,
                        requests=requests if route is not None else frozenset(), at=at)
            legs.append((leg, b))
            missing |= route is not None and not leg
            at = leg[-1][2] if route is not None and leg else None
        # What comes only after the check's request (its dialogs, the result, a screen past
        # a look-alike the graph leaves out): the way from the first screen to the request.
        if route is not None and (_judges_request(check, dialogs) or missing):
            legs.append((_path(edges, classes, HOME, None, set(), route.events,
                               first=route.leave, requests=requests), None))
        spared = (_spared(legs, route, edges, classes, behaviour, requests)
                  if route is not None else set())
        for k, (leg, _) in enumerate(legs):
            for state, event, _ in leg:
                if (k, state, event) not in spared:
                    through[(state, event)].add(req)
        # A PIN count that tries the reset: the right PIN after wrong ones must go on.
        if check.pin_count is not None and check.pin_count.tries_reset:
            for state, event, _ in edges:
                if classes.get(state) == check.pin_count.asking and event == RIGHT_PIN:
                    through[(state, event)].add(req)
        # ``screens_as``: the other flow's way to its screens of the class is judged too (a
        # card path kept from its consents leaves the staff's nothing to be compared with).
        base = check.screens_as
        base_route = FLOW_ROUTES.get(base.flow) if base is not None else None
        if base is not None and base_route is not None:
            for state, event, _ in _path(edges, classes, HOME, base.screen, {base.screen},
                                         base_route.events, first=base_route.leave,
                                         requests=requests):
                through[(state, event)].add(req)
    out = []
    for (state, event), reqs in sorted(through.items()):
        to, goes = _redirect(behaviour, state, event)
        stays = to == state
        out.append(Mutant(
            id=f"{maker}-redirect-{state}-{event}", maker=maker, source="generated",
            kind="redirect", on="reader",
            changes=((f"behaviour.transitions.{state}.{event}", to),),
            must_fail=frozenset(reqs),
            why=f"{state} on {event}: {'stays' if stays else 'goes to ' + HOME}, "
                f"not {'/'.join(goes)}"))
    return out


def generated(makers: Iterable[str], profiles: ProfileSet, seed: int) -> list[Mutant]:
    terminal = terminal_data()
    dialogs = check_dialogs(terminal)
    out: list[Mutant] = []
    for maker in makers:
        if not (TWINS / f"{maker}.yaml").exists():
            continue  # the general readers: no twin of the maker's to generate from
        rng = random.Random(f"{seed}-{maker}")
        profile = profiles.profiles[maker]
        behaviour = twin_behaviour(maker)
        out += text_mutants(maker, profile, behaviour, rng)
        out += dialog_text_mutants(maker, profile, terminal, rng)
        out += timer_mutants(maker, profile, behaviour)
        out += redirect_mutants(maker, profile, behaviour, dialogs)
    # Two checked texts can pick the same character: one mutant.
    unique = {m.id: m for m in out if m.must_fail}
    return list(unique.values())


# --- the catalogue ----------------------------------------------------------------------------


def load_catalogue(path: Path = CATALOGUE) -> Catalogue:
    return load_yaml_model(path, Catalogue)


def catalogued(catalogue: Catalogue, makers: Iterable[str], profiles: ProfileSet) -> list[Mutant]:
    wanted = set(makers)
    out = []
    host: list[str] = []  # the default bench's, found once if a row asks for it
    for row in catalogue.mutants:
        for maker in row.makers:
            if maker not in profiles.profiles:
                raise BadInput(str(CATALOGUE), None, f"{row.id}.makers", f"no profile {maker!r}")
            if maker not in wanted:
                continue
            must = set(row.must_fail)
            if row.every_flow:
                must |= {req for req, _ in flow_checks(profiles.profiles[maker])}
            changes = []
            for change in row.changes:
                if set(change) != {"change", "to"}:
                    raise BadInput(str(CATALOGUE), None, f"{row.id}.changes",
                                   "each change is {change: PATH, to: VALUE}")
                changes.append((str(change["change"]), change["to"]))
            _check_unrecognised(row, maker)
            if row.reader == HOST and not host:
                host.append(_host(profiles))
            out.append(Mutant(id=f"{maker}-{row.id}", maker=maker, source="catalogue",
                              kind=row.id, on=row.target, changes=tuple(changes),
                              must_fail=frozenset(must), why=row.why,
                              reader=host[0] if row.reader == HOST else row.reader,
                              facts=dict(row.bench), unrecognised=frozenset(row.unrecognised)))
    return out


#: A catalogue row's ``reader`` that names the general readers' host (see :func:`_host`).
HOST = "host"


def _host(profiles: ProfileSet) -> str:
    """The default bench's face-auth reader that drives the general readers' flows."""
    host = general_readers_host(check_bench_file(BASE_BENCH), profiles)
    if host is None:
        raise BadInput(str(CATALOGUE), None, "reader",
                       f"{HOST}: the default bench has no face-auth reader that pairs")
    return host[0]


def _check_unrecognised(row: CatalogueRow, maker: str) -> None:
    """An ``unrecognised`` name that is no state of the maker's twin would add nothing to
    ``must_fail``, and the mutant would pass for caught with less: bad input."""
    if not row.unrecognised:
        return
    twin = TWINS / f"{maker}.yaml"
    states = set(state_classes(twin_behaviour(maker))) if twin.exists() else set()
    unknown = sorted(set(row.unrecognised) - states)
    if unknown:
        raise BadInput(str(CATALOGUE), None, f"{row.id}.unrecognised",
                       f"no state {', '.join(unknown)} in {maker}'s twin")


def face_auth_makers(profiles: ProfileSet) -> list[str]:
    return sorted(k for k in profiles.face_auth_makers() if (TWINS / f"{k}.yaml").exists())


def all_mutants(profiles: ProfileSet, makers: Iterable[str], only: str | None,
                seed: int, catalogue: Catalogue | None = None) -> list[Mutant]:
    makers = list(makers)
    out: list[Mutant] = []
    if only in (None, "catalogue"):
        out += catalogued(catalogue or load_catalogue(), makers, profiles)
    if only in (None, "generated"):
        catalogue = catalogue or load_catalogue()
        out += [m for m in generated(makers, profiles, seed)
                if catalogue.equivalent_why(m) is None]
    return out


def equivalents(profiles: ProfileSet, makers: Iterable[str], seed: int,
                catalogue: Catalogue) -> list[tuple[Mutant, str]]:
    """The generated mutants the catalogue calls equivalent, with why."""
    return [(m, why) for m in generated(list(makers), profiles, seed)
            if (why := catalogue.equivalent_why(m)) is not None]


def sample(mutants: list[Mutant], limit: int | None, seed: int) -> list[Mutant]:
    """Shuffled by the seed, then taken round-robin over (maker, first requirement) so that
    a small limit still spreads over makers and requirements."""
    rng = random.Random(seed)
    pool = list(mutants)
    rng.shuffle(pool)
    groups: dict[tuple[str, str], list[Mutant]] = collections.defaultdict(list)
    for m in pool:
        groups[(m.maker, min(m.must_fail))].append(m)
    keys = list(groups)
    rng.shuffle(keys)
    ordered: list[Mutant] = []
    while any(groups.values()):
        for key in keys:
            if groups[key]:
                ordered.append(groups[key].pop(0))
    return ordered[:limit] if limit else ordered


# --- certifying -------------------------------------------------------------------------------


def write_bench(mutant: Mutant, folder: Path) -> Path:
    """The mutant's bench file in ``folder``/benches. A bench's ``emulate`` paths are relative
    to the bench file (``../devices/...``): the fixtures' folders are linked beside it."""
    fixtures = BASE_BENCH.parent.parent
    for sibling in fixtures.iterdir():
        link = folder / sibling.name
        if sibling.is_dir() and sibling.name != "benches" and not link.exists():
            # A certification beside this one may have linked it first.
            with contextlib.suppress(FileExistsError):
                link.symlink_to(sibling, target_is_directory=True)
    (folder / "benches").mkdir(exist_ok=True)
    path = folder / "benches" / f"{mutant.id}.yaml"
    # base resolves against the bench file's folder; an absolute path reaches the repo's.
    data = {"base": str(BASE_BENCH), **mutant.bench(),
            "description": f"mutant {mutant.id}: {mutant.why}"}
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def judge(mutant: Mutant, failed: frozenset[str]) -> str:
    if not mutant.must_fail <= failed:
        return "missed"
    return "exact" if failed == mutant.must_fail else "others"


def _certification(maker: str, bench: Path | None, out: Path, timeout_s: float
                   ) -> tuple[dict[str, Any], Path] | str:
    """``onshi-rig certify`` of ``maker`` on ``bench`` (None: the default bench) into
    ``out``: its report and folder, or why there is none."""
    cmd = [sys.executable, "-m", "harness.cli", "certify", "--vendor", maker, "--jobs", "1",
           "--no-evidence", "--out", str(out)]
    if bench is not None:
        cmd += ["--bench", str(bench)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s,
                              cwd=project_file("."))
    except subprocess.TimeoutExpired:
        return f"no verdict in {timeout_s:.0f} s"
    try:
        report = json.loads((out / "certification.json").read_text("utf-8"))
        report["makers"][maker]
    except (OSError, ValueError, KeyError):
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        return f"exit {proc.returncode}: {tail[0]}"
    if proc.returncode not in (0, 1):
        return f"exit {proc.returncode}"
    return report, out


_SCREEN_NAME = re.compile(r"[\w@]+")


def seen_by(report: dict[str, Any], walks: dict[str, Any], maker: str,
            states: frozenset[str]) -> frozenset[str]:
    """The requirements of ``maker`` whose deciding tests saw one of ``states`` in a run:
    a verdict whose observed screens (a flow's path, ``first -> consent_1 -> ...``) name
    it, or the walks, where it showed while the requirement's flow was in force (the walk
    coverage's ``screens``). Those an unrecognised screen there fails closed."""
    def named(name: str) -> bool:
        # A reference of a state is the state or a variant of it (first@staff).
        return name.split("@")[0] in states

    out = set()
    for req, row in report["makers"][maker].items():
        for verdict in row.get("verdicts", []):
            observed = verdict.get("evidence", {}).get("observed", [])
            if any(named(n) for text in observed if "->" in text
                   for n in _SCREEN_NAME.findall(text)):
                out.add(req)
    for reader in walks.get("readers", {}).values():
        if reader.get("maker") == maker:
            for state, reqs in reader.get("screens", {}).items():
                if named(state):
                    out |= set(reqs)
    return frozenset(out)


@attrs.define
class Baselines:
    """Certifications of the default bench, one per maker, each run once when a mutant
    first needs it (``unrecognised``): which requirements saw which screens."""

    folder: Path
    _runs: dict[str, tuple[dict[str, Any], dict[str, Any]] | str] = attrs.Factory(dict)
    _lock: threading.Lock = attrs.Factory(threading.Lock)
    _makers: dict[str, threading.Lock] = attrs.Factory(dict)

    def seen(self, maker: str, states: frozenset[str]) -> frozenset[str] | str:
        """``seen_by`` on the maker's default run, or why that run gave no answer."""
        with self._lock:
            lock = self._makers.setdefault(maker, threading.Lock())
        with lock:
            if maker not in self._runs:
                done = _certification(maker, None, self.folder / f"baseline-{maker}", 900)
                if isinstance(done, str):
                    self._runs[maker] = done
                else:
                    report, out = done
                    coverage = next(out.glob("**/walk-coverage.json"), None)
                    walks = json.loads(coverage.read_text("utf-8")) if coverage else {}
                    self._runs[maker] = (report, walks)
            run = self._runs[maker]
        if isinstance(run, str):
            return run
        if not run[0].get("passed"):
            return "the default bench did not pass"
        return seen_by(*run, maker, states)


def certify(mutant: Mutant, folder: Path, baselines: Baselines | None = None,
            timeout_s: float = 900) -> Outcome:
    started = time.monotonic()
    if mutant.unrecognised:
        seen = (baselines or Baselines(folder)).seen(mutant.maker, mutant.unrecognised)
        if isinstance(seen, str):
            return Outcome(mutant, "error", frozenset(), time.monotonic() - started,
                           f"default bench's run: {seen}")
        mutant = attrs.evolve(mutant, must_fail=mutant.must_fail | seen)
    bench = write_bench(mutant, folder)
    started = time.monotonic()
    done = _certification(mutant.maker, bench, folder / f"{mutant.id}-report", timeout_s)
    seconds = time.monotonic() - started
    if isinstance(done, str):
        return Outcome(mutant, "error", frozenset(), seconds, done)
    rows = done[0]["makers"][mutant.maker]
    # Fail closed: a requirement not run is not passed.
    failed = frozenset(req for req, row in rows.items() if row["status"] != "passed")
    return Outcome(mutant, judge(mutant, failed), failed, seconds)


def run(mutants: list[Mutant], jobs: int, folder: Path) -> Iterator[Outcome]:
    # Threads only wait on the certify processes: ``jobs`` processes run at a time.
    baselines = Baselines(folder)
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(certify, m, folder, baselines) for m in mutants]
        for future in concurrent.futures.as_completed(futures):
            yield future.result()


# --- the report -------------------------------------------------------------------------------


def uncovered(profiles: ProfileSet, makers: Iterable[str], mutants: list[Mutant],
              catalogue: Catalogue) -> dict[str, dict[str, str]]:
    """Per maker, the requirements no mutant must fail, with the catalogue's reason."""
    out = {}
    for maker in makers:
        broken = set().union(*(m.must_fail for m in mutants if m.maker == maker))
        left = [r.id for r in profiles.profiles[maker].requirements if r.id not in broken]
        out[maker] = {r: catalogue.unbreakable.get(r, "no mutant yet (no reason recorded)")
                      for r in left}
    return out


def print_report(outcomes: list[Outcome]) -> None:
    print(f"\n{'mutant':58} {'verdict':7} {'s':>5}  must fail -> failed")
    for o in sorted(outcomes, key=lambda o: (o.mutant.maker, o.mutant.id)):
        extra = sorted(o.failed - o.mutant.must_fail)
        missing = sorted(o.mutant.must_fail - o.failed)
        note = (f"missing {','.join(missing)}" if missing else "") + \
               (f" extra {','.join(extra)}" if extra else "") + (f" {o.detail}" if o.detail else "")
        print(f"{o.mutant.id[:58]:58} {o.verdict:7} {o.seconds:5.0f}  "
              f"{','.join(sorted(o.mutant.must_fail))}{'  ' + note.strip() if note.strip() else ''}")
    counts = collections.Counter(o.verdict for o in outcomes)
    print(f"\n{len(outcomes)} mutants: caught exactly {counts['exact']}, caught with others "
          f"{counts['others']}, missed {counts['missed']}, error {counts['error']}")
    for o in outcomes:
        if o.verdict == "missed":
            print(f"  MISSED {o.mutant.id}: {o.mutant.why}; passed "
                  f"{', '.join(sorted(o.mutant.must_fail - o.failed))}")


def as_json(o: Outcome) -> dict[str, Any]:
    m = o.mutant
    return {"id": m.id, "maker": m.maker, "source": m.source, "kind": m.kind, "on": m.on,
            "changes": [{"change": c, "to": t} for c, t in m.changes], "why": m.why,
            "must_fail": sorted(m.must_fail), "failed": sorted(o.failed),
            "verdict": o.verdict, "seconds": round(o.seconds, 1), "detail": o.detail}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="certify at most N mutants")
    parser.add_argument("--maker", action="append", default=[], help="only this maker (repeatable)")
    parser.add_argument("--only", choices=("generated", "catalogue"), default=None)
    parser.add_argument("--seed", type=int, default=0, help="text swaps and the sample's order")
    parser.add_argument("--jobs", type=int, default=2, help="certifications at a time")
    parser.add_argument("--json", type=Path, default=None, help="results file (default: a "
                        "mutants.json in the temporary folder)")
    parser.add_argument("--list", action="store_true", help="list the mutants, certify none")
    parser.add_argument("--kind", action="append", default=[],
                        help="only mutants of this catalogue row or generated kind (repeatable)")
    args = parser.parse_args(argv)
    try:
        profiles = ProfileSet.load(default_profiles_dir())
        catalogue = load_catalogue()
        # The general readers' rules (USB-08) have catalogue rows too.
        makers = [*face_auth_makers(profiles), profiles.general().key]
        unknown = sorted(set(args.maker) - set(makers))
        if unknown:
            raise RigError(f"--maker {', '.join(unknown)}: no such maker "
                           f"(makers: {', '.join(makers)})")
        makers = args.maker or makers
        everything = all_mutants(profiles, makers, args.only, args.seed, catalogue)
        whole = everything  # what covers the requirements, whatever is certified now
        if args.kind:
            # A kind whose every mutant is equivalent (the timers) is known, and lists them.
            known = {m.kind for m in everything} | {
                m.kind for m, _ in equivalents(profiles, makers, args.seed, catalogue)}
            unknown = sorted(set(args.kind) - known)
            if unknown:
                raise RigError(f"--kind {', '.join(unknown)}: no such row or kind")
            everything = [m for m in everything if m.kind in args.kind]
    except RigError as exc:
        print(f"mutants: {exc}", file=sys.stderr)
        return 2
    chosen = sample(everything, args.limit, args.seed)
    kinds = collections.Counter(f"{m.source}/{m.kind if m.source == 'generated' else 'row'}"
                                for m in everything)
    print(f"{len(everything)} mutants ({', '.join(f'{k} {n}' for k, n in sorted(kinds.items()))}); "
          f"certifying {0 if args.list else len(chosen)}")
    for m, why in equivalents(profiles, makers, args.seed, catalogue):
        print(f"  equivalent, not certified: {m.id}: {why}")
    left = uncovered(profiles, makers, whole, catalogue)
    for maker, reqs in left.items():
        for req, why in reqs.items():
            print(f"  no mutant breaks {maker} {req}: {why}")
    if args.list:
        for m in chosen:
            # An unrecognised screen's share is known once the default bench has run.
            also = (f" + what saw {', '.join(sorted(m.unrecognised))} on the default bench"
                    if m.unrecognised else "")
            print(f"{m.id:58} {','.join(sorted(m.must_fail)) + also:30} {m.why}")
        return 0
    with tempfile.TemporaryDirectory(prefix="onshi-mutants-") as tmp:
        outcomes: list[Outcome] = []
        target = args.json or Path(tmp) / "mutants.json"
        for o in run(chosen, args.jobs, Path(tmp)):
            print(f"  {o.verdict:7} {o.mutant.id} ({o.seconds:.0f} s)", flush=True)
            outcomes.append(o)
            # Written after each mutant: a run stopped early keeps what it certified.
            counts = collections.Counter(x.verdict for x in outcomes)
            result = {"seed": args.seed, "limit": args.limit, "only": args.only,
                      "makers": makers, "total": len(everything), "planned": len(chosen),
                      "counts": dict(counts), "uncovered": left,
                      "mutants": [as_json(x) for x in outcomes]}
            target.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", "utf-8")
        print_report(outcomes)
        counts = collections.Counter(o.verdict for o in outcomes)
        print(f"results: {target}" + ("" if args.json else " (removed with the folder: "
                                       "pass --json FILE to keep it)"))
    return 0 if counts["exact"] == len(outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
