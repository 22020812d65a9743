"""The names a report's lines use for screens and dialogs (``consent_1``, ``sp_hold``,
``check_error_2``, ``handed_over``), in words a maker's manager or an integrator reads
without the rig's code: what each is (the shared vocabulary of harness/model/screens.py)
and the screen's own words as the rig confirmed them on it in this run. The lines keep the names (they
are what the timeline, the pictures and the JSON say); the glossary beside them says what
they are."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import attrs

from harness.loading import json_loads
from harness.model.screens import DIALOGS, SHOWN

#: What the receipt computer got (a flow's ``result``); "none" is left out: it reads as is.
RESULTS = {"handed_over": "the receipt computer got the patient's eligibility result"}
#: At most this many lines of a screen's words: enough to know it again.
MAX_LINES = 3
_NAME = re.compile(r"\b[a-z][a-z0-9_]*[a-z0-9]\b")


@attrs.frozen
class Entry:
    name: str
    #: What it is, from the shared vocabulary (a maker's state by the class it shows).
    meaning: str
    #: The screen's words the rig confirmed in this run ("" when it checked none).
    words: str


@attrs.frozen
class Screens:
    """What a run's cameras said of the screens they saw: each state's class, and the texts
    confirmed on it."""

    shows: dict[str, str] = attrs.field(factory=dict)
    read: dict[str, list[str]] = attrs.field(factory=dict)


def screens_seen(timeline: Path, cameras: set[str]) -> Screens:
    """From the run's ``timeline.jsonl``: the states ``cameras`` decided (``screen.seen``)
    and the texts confirmed on them (``screen.read``'s checks that held)."""
    out = Screens()
    if not timeline.is_file():
        return out
    with timeline.open(encoding="utf-8") as f:
        for line in f:
            if '"screen.seen"' not in line and '"screen.read"' not in line:
                continue  # most of a timeline: not parsed
            event = json_loads(line)
            if event.get("source") not in cameras or not isinstance(event.get("state"), str):
                continue
            state = event["state"]
            if event.get("kind") == "screen.seen" and isinstance(event.get("shows"), str):
                out.shows.setdefault(state, event["shows"])
            elif event.get("kind") == "screen.read":
                # The texts the rig confirmed on it, not the OCR's raw lines (a misread
                # line is not the screen's words).
                texts = out.read.setdefault(state, [])
                texts += [t for t in (str(c.get("expected", "")) for c in event.get("checks", ())
                                      if isinstance(c, dict) and c.get("ok") is True
                                      and c.get("wanted") is not False)
                          if t and t not in texts]
    return out


def glossary(texts: Iterable[str], screens: Screens) -> tuple[Entry, ...]:
    """The screen, dialog and result names in ``texts``, each with what it is and its words,
    in the order they first appear."""
    names = dict.fromkeys(n for text in texts for n in _NAME.findall(text))
    common = _on_several(screens.read)
    out = []
    for name in names:
        meaning = _meaning(name, screens.shows)
        if meaning is None:
            continue
        lines = [t for t in screens.read.get(name, ()) if t not in common][:MAX_LINES]
        out.append(Entry(name, meaning, " / ".join(lines)))
    return tuple(out)


def _meaning(name: str, shows: dict[str, str]) -> str | None:
    if name in RESULTS:
        return RESULTS[name]
    if name in DIALOGS:
        return f"a dialog on the terminal: {DIALOGS[name]}"
    shown = shows.get(name, name if name in SHOWN else None)
    if shown is None or shown not in SHOWN:
        return None
    meaning = SHOWN[shown]
    return meaning if shown == name else f"{meaning} (this reader's screen of the kind " \
                                          f"{shown})"


def _on_several(read: dict[str, list[str]]) -> set[str]:
    """Lines read on more than one screen (a header, the application's name): not what
    tells a screen apart."""
    seen: dict[str, int] = {}
    for texts in read.values():
        for t in set(texts):
            seen[t] = seen.get(t, 0) + 1
    return {t for t, n in seen.items() if n > 1}
