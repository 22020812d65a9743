"""What a flow reads off one camera look: the state, its class, the texts and buttons.

The one place the flows meet the vision layer's answers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from harness.vision.watcher import Observation, ScreenWatcher


@attrs.frozen
class ScreenReading:
    state: str
    shows: str | None
    overlay: str | None = None
    texts: tuple[str, ...] = ()
    #: Buttons shown, by name (from the reference's name: ``first@staff+smartphone``).
    buttons: tuple[str, ...] = ()
    #: Unknown screens: the class of the nearest reference.
    candidate: str | None = None


def read_observation(watcher: ScreenWatcher, obs: Observation) -> ScreenReading:
    decision = obs.decision
    refs = watcher.classifier.references
    if decision.known and decision.reference is not None:
        ref = refs.get(decision.reference)
        _, _, suffix = ref.name.partition("@")
        buttons = tuple(b for b in suffix.split("+") if b)
        # A dialog's title is text on the screen as much as its body.
        texts = ((ref.title,) if ref.title else ()) + ref.texts
        return ScreenReading(decision.state, decision.shows, decision.overlay, texts, buttons)
    candidate = None
    if decision.runner_up is not None:
        near = [r for r in refs if r.state == decision.runner_up]
        candidate = near[0].shows if near else None
    return ScreenReading(decision.state, None, candidate=candidate)
