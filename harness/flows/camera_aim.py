"""Which reader a camera watches, told from what it sees (bench fault ``camera.misaimed``).

The bench file says which camera watches which reader; nothing in a frame says so. Two
readers of one maker look alike: a camera on the other one (two USB cameras' /dev/video
numbers swapped at a reboot, two entries written the wrong way round) sees a screen the
references recognise, and the reader named would be judged on the other's start, a slow
firmware passed on a good reader's screen. So where a start is watched:

- **Look-alikes switched on apart.** The reader under test is switched on
  :data:`STAGGER_S` after the other readers of its maker that its power-on step switches
  (readers of one maker in one step are not in an order of the maker's: the steps'
  order, and the time to the next step, stay as the routine says). Its camera must stay
  dark until its own reader's switch-on: lit before it, after a look-alike's, it watches
  that one. Caught when the other reader's panel lights within :data:`STAGGER_S` of its
  switch-on (a reader that waits dark for a button or the terminal is not caught so).
- **Another maker's screen.** A reader seen on USB whose camera never showed one of its
  maker's screens, only screens its references do not know: the frame is put to the other
  makers' (and the terminal's) references. A match is a camera on another device; none is
  still no start of this maker's seen, and the rig cannot judge what it cannot see.

Either way the requirement is not run, never a pass or a fail against the maker."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from harness.errors import BenchFault, RigError
from harness.model.bench_spec import BenchSpec, PowerStep

if TYPE_CHECKING:
    from harness.bench import Bench
    from harness.vision.watcher import Observation, ScreenWatcher

#: Bench seconds between the switch-on of the reader under test and its look-alikes': a
#: panel lights within a second or two of its power (a boot logo), a camera's frame and a
#: look take a second or two more.
STAGGER_S = 5.0


def lookalikes(spec: BenchSpec, reader: str) -> frozenset[str]:
    """The other face-auth readers of ``reader``'s maker on relays: screens a camera
    aimed at the wrong one would take for ``reader``'s."""
    own = next(r for r in spec.readers if r.name == reader)
    switchable = spec.switchable()
    return frozenset(r.name for r in spec.readers
                     if r.name != reader and r.maker == own.maker
                     and r.kind == own.kind and r.name in switchable)


def routine(spec: BenchSpec, steps: Sequence[PowerStep] | None) -> list[PowerStep]:
    """The power-on steps as :meth:`harness.bench.Bench.power_on` runs them."""
    if steps is not None:
        return list(steps)
    if spec.power_on is not None:
        return list(spec.power_on)
    links = spec.switchable()
    return [PowerStep(switch_on=sorted(links, key=lambda n: (links[n].relay, links[n].channel)))]


def staggered(steps: Sequence[PowerStep], reader: str,
              others: frozenset[str]) -> list[PowerStep]:
    """``steps`` with ``reader`` switched on :data:`STAGGER_S` after the look-alikes its
    step switches too (the step's other devices keep their order; the step's wait then
    runs from ``reader``'s switch-on, so the next step comes as long after it as before)."""
    out: list[PowerStep] = []
    for step in steps:
        names = list(step.switch_on)
        if reader not in names or not others.intersection(names):
            out.append(step)
            continue
        last = max(i for i, name in enumerate(names) if name in others)
        cut = max(last + 1, names.index(reader))
        before = [n for n in names[:cut] if n != reader]
        after = [reader, *(n for n in names[cut:] if n != reader)]
        out.append(PowerStep(switch_on=before, wait_s=STAGGER_S))
        out.append(PowerStep(switch_on=after, switch_off=step.switch_off, wait_s=step.wait_s))
    return out


def _lit(obs: Observation) -> bool:
    """A screen recognised as showing something (not dark, not unknown)."""
    reading = obs.reading
    return reading is not None and reading.shows not in (None, "dark")


@attrs.define
class AimWatch:
    """The reader's camera through a start: dark until its own reader's switch-on, and
    what it showed after."""

    bench: Bench
    reader: str
    eyes: ScreenWatcher
    others: frozenset[str]
    #: Timeline index from which the routine's switching counts.
    since: int
    #: After the switch-on: a look showed one of the maker's screens (not dark).
    own_seen: bool = False
    #: After the switch-on: looks that showed a lit screen the references do not know.
    unknown_seen: int = 0

    def before_own(self) -> None:
        """Before the reader's switch-on, after a look-alike's: its camera must be dark."""
        if not self.others:
            return
        first: tuple[float, str] | None = None
        for event in self.bench.timeline.events()[self.since:]:
            if event.kind == "power.switched" and event.data.get("on"):
                if event.source == self.reader:
                    return
                if event.source in self.others and first is None:
                    first = (event.t, event.source)
        if first is None:
            return
        seen = self.eyes.look()
        if seen.t > first[0] and _lit(seen):
            assert seen.reading is not None
            raise BenchFault(
                "camera.misaimed", self.bench.camera_on(self.reader),
                f"watching {self.reader}, it showed {seen.reading.shows} at {seen.t:.1f} s: "
                f"{first[1]} (the same maker's) was switched on at {first[0]:.1f} s and "
                f"{self.reader} not yet (switched on {STAGGER_S:g} s later); the camera "
                f"watches {first[1]} or another reader, not {self.reader} (cameras[].source, "
                "cameras[].watches)")

    def after_own(self, seen: Observation) -> None:
        if _lit(seen) and seen.decision.known:
            self.own_seen = True
        elif not seen.decision.known and not seen.decision.blank:
            self.unknown_seen += 1

    def never_own(self, maker: str, on_usb: bool) -> None:
        """The start was never seen: a reader on USB whose camera showed only screens its
        maker's references do not know is judged on nothing of its own."""
        last = self.eyes.last
        if self.own_seen or not on_usb or not self.unknown_seen or last is None \
                or last.decision.known or last.decision.blank:
            return
        other = _other_screen(self.eyes, last, maker)
        where = (f"it shows {other[0]}'s screen {other[1]!r}: it watches another device"
                 if other is not None else
                 f"none is another maker's either: it watches another device, or "
                 f"{maker}'s screens are not among the references")
        raise BenchFault(
            "camera.misaimed", self.bench.camera_on(self.reader),
            f"watching {self.reader}, on USB, it never showed one of {maker}'s screens "
            f"({self.unknown_seen} looks of a lit screen {maker}'s references do not know); "
            f"{where}")


def _other_screen(eyes: ScreenWatcher, obs: Observation, maker: str,
                  screens: Path | None = None) -> tuple[str, str] | None:
    """The other maker (or the terminal) whose references know ``obs``'s frame, and the
    state: (maker, state); None when none does."""
    from harness.vision.classify import Classifier
    from harness.vision.reference import INDEX, ReferenceSet, default_screens_dir

    calibration = eyes.keeper.calibration
    if calibration is None:
        return None
    root = screens or default_screens_dir()
    for folder in sorted(p for p in root.iterdir()
                         if (p / INDEX).is_file() and p.name != maker):
        try:
            references = ReferenceSet.load(folder)
        except RigError:
            continue  # not a maker's folder
        decision = Classifier(references).classify_frame(obs.frame.image, calibration)
        if decision.known and not decision.blank and decision.score >= eyes.keeper.recheck_below:
            return folder.name, decision.state
    return None
