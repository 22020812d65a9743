"""What allure shows of a suite test: its place in the requirements, its steps, its evidence.

Labels (set when the test starts, from its ``requirement`` and ``maker`` marks and the
profiles): epic = the maker's name as its profile prints it, feature = the requirement's
group (its ID family, as the catalogue titles it), story = the requirement ID (allure's
Behaviors tree: maker > group > ID), the IDs as tags, a severity, the statement as the
description, a link per notice the requirement comes from (named by its citation; its URL
when the notice catalogue gives one, else empty: the notices are printed letters) and the
title ``ID: statement (reader)``.

Severity: a profile's requirement carries none, so it goes by family (:data:`SEVERITY`):
``critical`` where a broken rule stops the counter or lets a check go wrong unseen (E901: a
check after an unrebooted upgrade, UPD: the upgrade itself, BOOT: a reader not recognised
after power-on, ERR: the troubleshooting a counter relies on), ``normal`` for the rest.

Steps (when the test hands its verdicts to ``judge``): per span of bench time the verdicts
judged, a step per hands action (the verdict's own record of them, ``t:action``) and per
observation the rig made in that span (cameras' screen decisions and texts read, lamps, USB,
PC/SC, power, network, the operator's answers: :data:`OBSERVED`), each titled with its bench
time. The twins' own events (what an emulated device did inside) are not observations and
are left out. Then a step per verdict, passed, failed (an assertion) or broken (the rule
could not be judged), with its evidence attached: the deciding frames, the frame each camera
kept before them, the frames behind an ``unchanged`` window, and for a verdict that did not
pass the rectified screens and the flow's timeline picture (drawn only then: about 0.2 s
each). Per test: the bench's USB tree as a scan saw it when the verdict was given, and the
redacted APDU transcript of the span when there is one. Everything here comes from the
timeline and the evidence store, already redacted at their source (no PIN, no passcode).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import attrs

from harness.model.profiles import ProfileSet
from harness.model.timeline import Event
from harness.model.verdict import Verdict
from harness.report.catalogue import FAMILY_TITLES, describe_check
from harness.report.notices import cite

#: allure severity by requirement family (see the module doc); the rest ``normal``.
SEVERITY = {"E901": "critical", "UPD": "critical", "BOOT": "critical", "ERR": "critical"}
DEFAULT_SEVERITY = "normal"
#: Characters of a statement kept in a test's title.
TITLE_STATEMENT = 80
#: Steps drawn from the timeline per span (a long walk's span holds thousands of events:
#: the first ones, then a step saying how many more timeline.jsonl holds).
MAX_STEPS = 200
#: A window a check held a screen unchanged in (harness.model.flow_rules.flow_windows).
UNCHANGED = "unchanged"
#: A hands action in a verdict's observed record: ``2660.0:card_in``.
ACTION = re.compile(r"^(\d+(?:\.\d+)?):(\S+)$")


def _family(req_id: str) -> str:
    return req_id.split("-", 1)[0]


def severity_of(req_ids: Iterable[str]) -> str:
    """The highest severity of the test's requirements."""
    order = ["blocker", "critical", "normal", "minor", "trivial"]
    found = [SEVERITY.get(_family(r), DEFAULT_SEVERITY) for r in req_ids]
    return min(found, key=order.index) if found else DEFAULT_SEVERITY


def _short(text: str, limit: int = TITLE_STATEMENT) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0] if " " in text[:limit] else text[:limit]
    return cut.rstrip(",;:") + " …"


@attrs.frozen
class TestLabels:
    """What allure files a test under, and how it names it."""

    __test__ = False  # not a test class

    epics: tuple[str, ...]
    features: tuple[str, ...]
    stories: tuple[str, ...]
    severity: str
    title: str
    description: str
    #: (url, name): the notices the requirements come from.
    links: tuple[tuple[str, str], ...]


def describe_test(profiles: ProfileSet, makers: Sequence[str], req_ids: Sequence[str],
                  subject: str | None, name: str) -> TestLabels:
    """A test's labels from its makers (profile keys), its requirement IDs and the reader
    it is about; ``name`` (the test's own) titles a test of no requirement."""
    epics = tuple(dict.fromkeys(
        profiles.profiles[m].maker_name if m in profiles.profiles else m for m in makers))
    features = tuple(dict.fromkeys(
        f"{_family(r)}: {FAMILY_TITLES.get(_family(r), _family(r))}" for r in req_ids))
    statements: dict[str, str] = {}
    parts: list[str] = []
    links: dict[tuple[str, str], None] = {}
    for req_id in req_ids:
        req = next((p.requirement(req_id) for m in makers if (p := profiles.profiles.get(m))
                    and p.requirement(req_id) is not None), None)
        if req is None:  # said, not guessed: the test names a requirement no profile has
            statements[req_id] = f"(not in the profile of {', '.join(makers) or 'any maker'})"
            parts.append(f"**{req_id}**: {statements[req_id]}")
            continue
        statements[req_id] = req.statement
        citations = cite(req.source)
        parts.append(f"**{req_id}**: {req.statement}\n\n"
                     + "".join(f"- Notice: {c.text()}\n" for c in citations)
                     + "".join(f"- Check: {describe_check(c)}\n" for c in req.checks))
        for c in citations:
            url = c.notice.url if c.notice is not None and c.notice.url else ""
            links[(url, f"{req_id}: {c.text()}")] = None
    on = f" ({subject})" if subject else ""
    if len(req_ids) == 1:
        title = f"{req_ids[0]}: {_short(statements[req_ids[0]])}{on}"
    elif req_ids:
        shown = ", ".join(req_ids[:3]) + (f" +{len(req_ids) - 3}" if len(req_ids) > 3 else "")
        title = f"{shown}: {name}"
    else:
        title = name
    return TestLabels(epics, features, tuple(req_ids), severity_of(req_ids), title,
                      "\n\n".join(parts), tuple(links))


# -- steps ------------------------------------------------------------------------------------

def _screen_seen(e: Event) -> str:
    state = e.data.get("state") or "unknown"
    near = f", nearest {e.data['runner_up']}" if state == "unknown" and e.data.get("runner_up") \
        else ""
    score = f" (score {e.data['score']:.2f}{near})" if isinstance(e.data.get("score"), float) \
        else ""
    return f"{e.source} saw {state}{score}"


def _screen_read(e: Event) -> str:
    checks = e.data.get("checks") or []
    found = sum(1 for c in checks if c.get("ok"))
    judged = f": {found} of {len(checks)} expected texts found" if checks else ""
    return f"{e.source} read {e.data.get('state') or 'the screen'}{judged}"


def _text_checks(e: Event) -> tuple[str, ...]:
    out = []
    for c in e.data.get("checks") or []:
        how = c.get("method", "")
        if c.get("ok"):
            out.append(f"found {c.get('expected')} ({how})")
        else:
            out.append(f"NOT found {c.get('expected')}: read {c.get('read') or 'nothing'} ({how})")
    return tuple(out)


#: The rig's own observations by timeline kind, titled for a step (the twins' inner events,
#: ``screen``, ``reader.*``, ``terminal.*``, ``dialog.*``, are not observations).
OBSERVED: dict[str, Any] = {
    "screen.seen": _screen_seen,
    "screen.read": _screen_read,
    "lamp.seen": lambda e: f"{e.source} saw lamp {e.data.get('name')}: {e.data.get('shows')}",
    "camera.frozen": lambda e: f"{e.source} froze: {e.data.get('detail')}",
    "camera.stopped": lambda e: f"{e.source} stopped: {e.data.get('why')}",
    "camera.resumed": lambda e: f"{e.source} resumed",
    "camera.moved": lambda e: f"{e.source} moved",
    "usb.attach": lambda e: (f"USB: {e.source} attached at {e.data.get('path')} "
                             f"({e.data.get('vid_pid')}, {e.data.get('speed_mbps')} Mbit/s)"),
    "usb.detach": lambda e: f"USB: {e.source} detached",
    "power.switched": lambda e: f"relay: {e.source} switched {'on' if e.data.get('on') else 'off'}",
    "power.on": lambda e: f"power: {e.source} on",
    "power.off": lambda e: f"power: {e.source} off",
    "network.up": lambda e: "network up",
    "network.down": lambda e: f"network down ({e.data.get('why')})",
    "operator.asked": lambda e: f"operator asked: {e.data.get('what')}",
    "operator.answered": lambda e: f"operator answered {e.data.get('answer')!r}: {e.data.get('what')}",
    "operator.refused": lambda e: (f"operator refused ({e.data.get('answer')!r}): "
                                   f"{e.data.get('what')}"),
    "operator.unclear": lambda e: (f"operator answered {e.data.get('answer')!r} (neither done "
                                   f"nor no: asked again): {e.data.get('what')}"),
    "operator.timeout": lambda e: f"operator silent: {e.data.get('what')}",
    "operator.failed": lambda e: f"operator failed: {e.data.get('what')} ({e.data.get('reason')})",
    "apdu": lambda e: f"APDU on {e.data.get('reader', e.source)}: {e.data.get('command')} -> "
                      f"{e.data.get('response')}",
    "bench.restored": lambda e: f"bench restored (upgrade {e.data.get('upgrade')})",
}
#: Kinds observed by family prefix (``pcsc.card_inserted``, ``nfc.card_found``).
OBSERVED_FAMILIES = {
    "pcsc": lambda e: f"PC/SC: {e.kind.split('.', 1)[1].replace('_', ' ')} {e.data.get('reader', '')}",
    "nfc": lambda e: f"NFC: {e.kind.split('.', 1)[1].replace('_', ' ')} on {e.source}",
}


@attrs.frozen
class Step:
    t: float
    title: str
    #: Sub-steps (the texts a screen was judged on).
    children: tuple[str, ...] = ()


def _observation(e: Event) -> Step | None:
    describe = OBSERVED.get(e.kind) or OBSERVED_FAMILIES.get(e.kind.split(".", 1)[0])
    if describe is None:
        return None
    children = _text_checks(e) if e.kind == "screen.read" else ()
    return Step(e.t, f"{e.t:.1f} s  {describe(e)}", children)


def hands_actions(verdict: Verdict) -> list[tuple[float, str]]:
    """The hands' actions the verdict's rule saw (``t:action`` in its observed record)."""
    return [(float(m.group(1)), m.group(2)) for line in verdict.evidence.observed
            for token in line.split() if (m := ACTION.match(token))]


def flow_steps(events: Iterable[Event], verdicts: Sequence[Verdict],
               span: tuple[float, float]) -> list[Step]:
    """The steps of one span: hands actions and observations, in bench-time order (an action
    before what was seen at the same moment), at most :data:`MAX_STEPS`."""
    t0, t1 = span
    steps = [Step(t, f"{t:.1f} s  hands: {what.replace(':', ' ', 1)}")
             for t, what in dict.fromkeys(a for v in verdicts for a in hands_actions(v))
             if t0 - 1e-6 <= t <= t1 + 1e-6]
    hands = len(steps)
    steps += [s for e in events if t0 - 1e-6 <= e.t <= t1 + 1e-6
              if (s := _observation(e)) is not None]
    order = sorted(range(len(steps)), key=lambda i: (steps[i].t, i >= hands, i))
    ordered = [steps[i] for i in order]
    if len(ordered) > MAX_STEPS:
        more = len(ordered) - MAX_STEPS
        ordered = ordered[:MAX_STEPS] + [Step(ordered[MAX_STEPS].t, f"... {more} more "
                                              "observations in the run's timeline.jsonl")]
    return ordered


# -- frames -----------------------------------------------------------------------------------

@attrs.frozen
class KeptFrame:
    """A frame of the evidence store a verdict rests on (paths relative to the store)."""

    path: str
    source: str
    t: float
    label: str
    #: deciding / before (the camera's frame before the first deciding one) / unchanged
    #: (behind a window a screen had to stay unchanged in).
    roles: tuple[str, ...]

    @property
    def rectified(self) -> str:
        # The store keeps the rectified screen beside the frame (harness.vision.evidence).
        return re.sub(r"\.jpg$", ".rectified.png", self.path)

    def caption(self) -> str:
        return f"{', '.join(self.roles)}: {self.source} at {self.t:.1f} s: {self.label}"


def verdict_frames(verdict: Verdict, events: Sequence[Event],
                   cameras_on_subject: Iterable[str]) -> list[KeptFrame]:
    """The frames behind a verdict, in time order: its deciding frames, the frame each of
    their cameras kept before the first, and for each ``unchanged`` window the subject's
    frames from the one showing when it began to the first after it ended."""
    kept = [e for e in events if e.kind == "screen.seen" and e.data.get("evidence")]
    by_path = {str(e.data["evidence"]): e for e in kept}
    roles: dict[str, list[str]] = {}

    def add(path: str, role: str) -> None:
        if path in by_path and role not in roles.setdefault(path, []):
            roles[path].append(role)

    deciding = [p for p in verdict.evidence.frames if p in by_path]
    for path in deciding:
        add(path, "deciding")
    for source in dict.fromkeys(by_path[p].source for p in deciding):
        first = min(by_path[p].t for p in deciding if by_path[p].source == source)
        before = [e for e in kept if e.source == source and e.t < first - 1e-6]
        if before:
            add(str(before[-1].data["evidence"]), "before")
    cameras = set(cameras_on_subject)
    for a, b, what in verdict.evidence.windows:
        if UNCHANGED not in what:
            continue
        seen = [e for e in kept if e.source in cameras]
        showing = [e for e in seen if e.t <= a + 1e-6][-1:]
        during = [e for e in seen if a + 1e-6 < e.t <= b + 1e-6]
        after = [e for e in seen if e.t > b + 1e-6][:1]
        for e in [*showing, *during, *after]:
            add(str(e.data["evidence"]), UNCHANGED)
    frames = [KeptFrame(p, by_path[p].source, by_path[p].t, str(by_path[p].data.get("state")),
                        tuple(r)) for p, r in roles.items()]
    return sorted(frames, key=lambda f: (f.t, f.source))


# -- texts ------------------------------------------------------------------------------------

def usb_tree_text(devices: dict[str, Any], hubs: dict[str, str] | None = None,
                  when: float | None = None) -> str:
    """The bench's USB devices (``describe_devices``) as a tree by bus and port path, with
    the bench file's hubs (port path -> name) where they sit."""
    head = f"USB tree of bench {devices.get('bench', '?')} ({devices.get('kind', '?')})"
    if when is not None:
        head += f", scanned at bench time {when:.1f} s"
    if devices.get("error"):
        return f"{head}\n{devices['error']}\n"
    nodes: list[tuple[str, str]] = [(path, f"{name} (hub)") for path, name in (hubs or {}).items()]
    for d in devices.get("devices", []):
        ids = f"{d.get('vid') or '????'}:{d.get('pid') or '????'}"
        facts = [d.get("kind") or "", ids]
        if d.get("speed_mbps"):
            facts.append(f"{d['speed_mbps']:g} Mbit/s")
        if d.get("serial"):
            facts.append(f"serial {d['serial']}")
        if d.get("pcsc_name"):
            facts.append(f"PC/SC {d['pcsc_name']!r}")
        if d.get("firmware"):
            facts.append(f"firmware {d['firmware']}")
        facts.append("twin" if d.get("twin") else "real")
        if not d.get("present", True):
            facts.append("NOT PRESENT")
        nodes.append((d.get("usb_path") or "",
                      f"{d.get('name') or '(not in the bench file)'}: {', '.join(facts)}"))

    def key(node: tuple[str, str]) -> tuple[Any, ...]:
        bus, _, ports = node[0].partition("-")
        return (not node[0], bus, tuple(int(p) if p.isdigit() else 0 for p in ports.split(".")),
                node[1])

    lines, bus = [head], None
    for path, text in sorted(nodes, key=key):
        if not path:
            lines.append(f"(no USB path) {text}")
            continue
        if path.partition("-")[0] != bus:
            bus = path.partition("-")[0]
            lines.append(f"bus {bus}")
        lines.append(f"{'   ' * (path.count('.') + 1)}└─ {path}  {text}")
    return "\n".join(lines) + "\n"


def apdu_transcript(events: Iterable[Event]) -> str:
    """The APDUs exchanged, as the timeline holds them (redacted where they were sent)."""
    lines = [f"{e.t:10.3f} s  {e.data.get('reader', e.source)}\n"
             f"    > {e.data.get('command')}\n    < {e.data.get('response')}"
             for e in events if e.kind == "apdu"]
    return "\n".join(lines) + "\n" if lines else ""


def frame_file(store: Path | None, path: str) -> Path | None:
    """The kept frame's file, if the store has it."""
    if store is None:
        return None
    target = store / path
    return target if target.is_file() else None
