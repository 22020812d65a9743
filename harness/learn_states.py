"""The states ``learn --state`` may name for a maker: what recognition will answer, so a
name nothing else knows (``frist``) is a typo until the lab says it is a screen of its own.

Known for a maker: the states its reference folder already names (and their ``also``), the
screen classes (a reader's) or dialogs (the terminal's) of the shared vocabulary, which are
every name a profile can give, and the states of its twin: the shipped one of that key, and
the bench file's for a reader of that maker (a lab's own maker). A reference learnt under
another name is recognised as a state no flow and no profile step knows, never the screen
it shows; written unsaid, it stays in the folder for every later run.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from harness.errors import RigError

if TYPE_CHECKING:
    from harness.vision.reference import ReferenceIndex


@attrs.frozen
class KnownStates:
    """The names ``learn --state`` takes for one maker, by where they come from."""

    maker: str
    #: The maker's reference folder's states, and its twins' (shipped or the bench's).
    own: tuple[str, ...]
    #: The shared vocabulary a reference of this folder may show (screen classes, or the
    #: terminal's dialogs, desktop and dark).
    vocabulary: tuple[str, ...]

    def __contains__(self, state: object) -> bool:
        return state in self.own or state in self.vocabulary

    def problem(self, state: str) -> str:
        """Why ``state`` is refused: the states known, the nearest first when one is close."""
        near = difflib.get_close_matches(state, [*self.own, *self.vocabulary], n=1)
        hint = f"did you mean {near[0]!r}? " if near else ""
        names = [v for v in self.vocabulary if v not in self.own]
        own = f"its references' and twin's {', '.join(self.own)}; " if self.own else ""
        return (f"{state!r} is no state of {self.maker}'s ({hint}known: {own}"
                f"{'the other ' if self.own else 'the '}screen names {', '.join(names)})")


def vocabulary_of(maker: str) -> tuple[str, ...]:
    """What a reference of ``maker``'s folder may show (harness.model.screens)."""
    from harness.model.screens import shown_by

    return tuple(shown_by(maker))


def known_states(maker: str, index: ReferenceIndex,
                 twins: Iterable[Callable[[], Iterable[str]]] = ()) -> KnownStates:
    """The states known for ``maker``: its folder's (``index``) and each twin's (each a
    callable, read only when asked: a twin file is loaded only for a name not known yet)."""
    own = dict.fromkeys(s for e in index.references.values() for s in (e.state, *e.also))
    for twin in twins:
        own.update(dict.fromkeys(twin()))
    return KnownStates(maker, tuple(sorted(own)), vocabulary_of(maker))


def check_state(maker: str, state: str, index: ReferenceIndex,
                bench: Path | None) -> str | None:
    """Why ``learn --state`` may not name ``state`` for ``maker`` (None: it may). The twins
    are read only when the folder and the vocabulary do not know it."""
    cheap = known_states(maker, index)
    if state in cheap:
        return None
    known = known_states(maker, index, [lambda: shipped_twin_states(maker),
                                        lambda: bench_twin_states(maker, bench)])
    return None if state in known else known.problem(state)


def shipped_twin_states(maker: str) -> tuple[str, ...]:
    """The states of the shipped twin of key ``maker`` (none: no such twin)."""
    from harness.emulation.behaviour import TerminalBehaviour, load_with_deviations
    from harness.emulation.device_spec import load_device_spec
    from harness.emulation.screen_views import DESKTOP, TERMINAL_OFF
    from harness.emulation.world import default_terminal_file, maker_file
    from harness.model.screens import TERMINAL

    if maker == TERMINAL:
        terminal = load_with_deviations(default_terminal_file(), TerminalBehaviour)
        return (TERMINAL_OFF, DESKTOP, *terminal.dialogs)
    path = maker_file(maker)
    if not path.is_file():
        return ()
    spec = load_device_spec(path)
    return tuple(spec.behaviour.states) if spec.behaviour is not None else ()


def bench_twin_states(maker: str, bench: Path | None) -> tuple[str, ...]:
    """The states of the twins the bench file (``--bench``) gives a reader of ``maker``
    (a lab's own maker's twin); none without a bench file or on a real bench."""
    from harness.bench import load_bench_spec
    from harness.emulation.device_spec import load_device_spec
    from harness.paths import resolved

    if bench is None:
        return ()
    spec = load_bench_spec(bench)
    states: list[str] = []
    for reader in spec.readers:
        if reader.maker != maker or reader.emulate is None:
            continue
        try:
            # As the bench resolves it (harness.emulation.bench.load_twins).
            twin = load_device_spec(resolved(bench.parent / reader.emulate))
        except (RigError, OSError):
            continue  # the bench's own problem, named when a command opens it: fewer known
        states += list(twin.behaviour.states) if twin.behaviour is not None else []
    return tuple(states)
