"""What the twins' screens show, as contents to draw (:class:`Drawn`), and the reference
screens drawn from them.

The reference screens in ``fixtures/screens/`` are what a lab would capture with
``onshi-rig learn`` from a reader known to be good: here, each state of the undeviated
twin, drawn once. A bench whose twin deviates draws different pixels, and the vision layer
must notice.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import attrs
import cv2

from harness.emulation.behaviour import ReaderBehaviour, TerminalBehaviour
from harness.emulation.reader_twin import ScreenView
from harness.emulation.screen_look import ScreenLook, look_fingerprint
from harness.emulation.screen_renderer import Drawn, ScreenRenderer
from harness.emulation.terminal import TerminalTwin
from harness.errors import RigError
from harness.vision.reference import (
    INDEX,
    ReferenceEntry,
    ReferenceIndex,
    read_index,
    write_index,
    write_png,
)

#: The terminal's "no dialog" and "switched off" states.
DESKTOP, TERMINAL_OFF = "desktop", "off"


def reader_drawn(view: ScreenView) -> Drawn:
    return Drawn(view.state, view.shows, view.texts, tuple(b.label for b in view.buttons),
                 view.overlay)


def terminal_drawn(terminal: TerminalTwin) -> Drawn:
    if not terminal.powered:
        return Drawn(TERMINAL_OFF, "dark")
    if not terminal.dialogs:
        return Drawn(DESKTOP, DESKTOP)
    top = terminal.dialogs[-1]
    return Drawn(top.id, top.id, tuple(top.dialog.texts), tuple(top.dialog.buttons),
                 title=top.dialog.title)


@attrs.frozen
class ReferencePlan:
    name: str
    drawn: Drawn
    also: tuple[str, ...] = ()


def reader_plans(behaviour: ReaderBehaviour) -> list[ReferencePlan]:
    """One reference per distinct picture of the reader's states; a state whose buttons
    depend on conditions gets one per combination (``first@staff``)."""
    plans: list[ReferencePlan] = []
    seen: dict[tuple[object, ...], int] = {}
    for name, state in behaviour.states.items():
        drawn_state = behaviour.states[state.like] if state.like else state
        overlay = state.overlay or drawn_state.overlay
        fixed = [b for b in drawn_state.buttons if b.when is None]
        optional = [b for b in drawn_state.buttons if b.when is not None]
        for chosen in _subsets(optional):
            buttons = tuple(b.label for b in drawn_state.buttons if b in fixed or b in chosen)
            drawn = Drawn(name, drawn_state.shows, tuple(drawn_state.texts), buttons, overlay)
            key = (*drawn.content_key, overlay)
            ref_name = name + ("@" + "+".join(b.name for b in chosen) if chosen else "")
            if key in seen:
                i = seen[key]
                plans[i] = attrs.evolve(plans[i], also=(*plans[i].also, ref_name))
                continue
            seen[key] = len(plans)
            plans.append(ReferencePlan(ref_name, drawn))
    return plans


def terminal_plans(behaviour: TerminalBehaviour) -> list[ReferencePlan]:
    plans = [ReferencePlan(TERMINAL_OFF, Drawn(TERMINAL_OFF, "dark")),
             ReferencePlan(DESKTOP, Drawn(DESKTOP, DESKTOP))]
    for dialog_id, dialog in behaviour.dialogs.items():
        plans.append(ReferencePlan(dialog_id, Drawn(dialog_id, dialog_id, tuple(dialog.texts),
                                                    tuple(dialog.buttons), title=dialog.title)))
    return plans


def _subsets(items: list) -> Iterator[tuple]:  # noqa: ANN001
    for n in range(len(items) + 1):
        yield from itertools.combinations(items, n)


@attrs.frozen
class Written:
    """What ``write_references`` did: how many references the index holds, and the lab's
    learnt ones it kept in place of a drawing of the same name."""

    count: int
    kept: tuple[str, ...] = ()


def write_references(key: str, look: ScreenLook, plans: list[ReferencePlan], out: Path,
                     *, compression: int = 9) -> Written:
    """Draw each plan and write ``out/<name>.png`` plus ``out/screens.yaml``. A lab's own
    references (``learn``) in the folder stay, a drawn one's name too: its picture of the
    real reader is never overwritten by the twin's drawing. ``compression``: PNG's, 0 to 9
    (9, the smallest files, to be kept; a drawing only compared takes 1: the same pixels,
    and `references --check` took 6.2 s of CPU instead of 10.3)."""
    if look is None:
        raise RigError(f"{key}: its device file has no 'display' section")
    learnt: dict[str, ReferenceEntry] = {}
    if (out / INDEX).is_file():
        learnt = {n: e for n, e in read_index(out).references.items() if e.learnt}
    renderer = ScreenRenderer(look)
    out.mkdir(parents=True, exist_ok=True)
    entries: dict[str, ReferenceEntry] = {}
    for plan in plans:
        if plan.name in learnt:
            continue
        rendered = renderer.render(plan.drawn, t=0.0)
        file = f"{plan.name}.png"
        write_png(out / file, rendered.image, (cv2.IMWRITE_PNG_COMPRESSION, compression))
        state = plan.name.split("@", 1)[0]
        entries[plan.name] = ReferenceEntry(
            file=file,
            state=state,
            shows=plan.drawn.shows,
            overlay=plan.drawn.overlay,
            # A name learnt is its own entry, not another name of this drawing.
            also=[n for n in plan.also if n not in learnt],
            title=plan.drawn.title,
            texts=list(plan.drawn.texts),
            buttons=list(plan.drawn.buttons),
            regions=list(rendered.regions),
            lines=list(rendered.lines),
        )
    drawn = {n for p in plans for n in (p.name, *p.also)}
    entries.update(learnt)
    write_index(out, ReferenceIndex(maker=key, size=look.size, look=look_fingerprint(look),
                                    references=entries))
    return Written(len(entries), tuple(sorted(n for n in learnt if n in drawn)))


def reference_targets() -> list[tuple[str, ScreenLook | None, list[ReferencePlan]]]:
    """Every emulated device with a screen: each face-auth reader twin in the twins' folder
    (a maker is a file there, not a name in code) and the terminal."""
    from harness.emulation.behaviour import load_with_deviations
    from harness.emulation.world import default_terminal_file, maker_file
    from harness.loading import read_yaml

    targets = []
    for path in sorted(maker_file("x").parent.glob("*.yaml")):
        data, _ = read_yaml(path)
        # A file written only as the others' base (common-flow.yaml) is no device.
        if isinstance(data, dict) and "name" in data:
            targets.append(twin_target(path.stem, path))
    terminal = load_with_deviations(default_terminal_file(), TerminalBehaviour)
    targets.append(("terminal", terminal.display, terminal_plans(terminal)))
    return targets


def twin_target(key: str, path: Path) -> tuple[str, ScreenLook | None, list[ReferencePlan]]:
    """A face-auth reader twin's references to draw, as maker ``key``."""
    from harness.emulation.device_spec import load_device_spec
    from harness.errors import BadInput

    spec = load_device_spec(path)
    if spec.behaviour is None:
        raise BadInput(str(path), None, "behaviour", "required for a face-auth reader twin "
                       "(its screens come from its states)")
    return key, spec.display, reader_plans(spec.behaviour)
