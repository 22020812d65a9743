"""Shared helpers of the vision tests: the committed reference screens, the twins' renderers
and the emulated camera, with everything expensive built once per session.

Frames are 1920x1080, the resolution the recogniser is specified for (a bench webcam's
1080p mode).
"""

from __future__ import annotations

import copy
import datetime as dt
import functools

import numpy as np

from harness.emulation.camera_model import CameraModel, Capture
from harness.emulation.screen_renderer import Drawn, ScreenRenderer
from harness.emulation.world import MAKERS
from harness.vision.classify import Classifier, Decision
from harness.vision.geometry import Calibration
from harness.vision.reference import Reference, ReferenceSet, screens_dir_for

FRAME = (1920, 1080)
TERMINAL = "terminal"
#: Every device with reference screens: the five makers' readers and the terminal.
DEVICES = (*MAKERS, TERMINAL)
#: The tests' cameras (seeds): few, so that their templates are shared (see camera()).
BENCH_SEEDS = (1, 2, 3, 4)
HAND_HELD_SEEDS = (5, 6)
READER_PANEL = (1024, 600)
#: What the readers' header clocks show in the tests' frames (the references show --:--).
WALLCLOCK = dt.datetime(2024, 6, 3, 10, 47)


@functools.cache
def references(device: str) -> ReferenceSet:
    return ReferenceSet.load(screens_dir_for(device))


@functools.cache
def classifier(device: str) -> Classifier:
    return Classifier(references(device))


def classifier_of(device: str, keep) -> Classifier:  # noqa: ANN001 - a predicate on Reference
    """A classifier of only the device's references ``keep`` accepts (cheap: ~2 ms)."""
    refs = references(device)
    return Classifier(ReferenceSet(refs.maker, refs.size,
                                   tuple(r for r in refs if keep(r)), refs.directory))


@functools.cache
def renderer(device: str) -> ScreenRenderer:
    """The device's twin renderer, primed with its references, as the emulated bench has it."""
    if device == TERMINAL:
        from harness.emulation.behaviour import TerminalBehaviour, load_with_deviations
        from harness.emulation.world import default_terminal_file

        look = load_with_deviations(default_terminal_file(), TerminalBehaviour).display
    else:
        from harness.emulation.device_spec import load_device_spec
        from harness.emulation.world import maker_file

        look = load_device_spec(maker_file(device)).display
    drawer = ScreenRenderer(look)
    drawer.prime(references(device))
    return drawer


def drawn_of(ref: Reference) -> Drawn:
    """The content a twin reports when it shows what ``ref`` shows."""
    return Drawn(ref.state, ref.shows or ref.state, ref.texts, ref.buttons, ref.overlay,
                 ref.title)


def screen(device: str, content: Reference | Drawn, t: float = 0.0,
           wallclock: dt.datetime | None = WALLCLOCK) -> np.ndarray:
    """The panel's pixels at time ``t``: the clock shows ``wallclock``, a loading circle
    has turned to its angle at ``t``."""
    drawn = drawn_of(content) if isinstance(content, Reference) else content
    return renderer(device).render(drawn, t, wallclock).image


def camera(seed: int, *, hand_held: bool = False, frame: tuple[int, int] = FRAME,
           panel: tuple[int, int] = READER_PANEL) -> CameraModel:
    """A camera that has taken no picture for the test yet: a copy of a template that has
    seen a ``panel``-sized screen once (a new camera model costs ~130 ms for its bench,
    housing and view of the screen, a copy ~4 ms). Copies start in the same state, so a
    test's frames do not depend on which tests ran before it."""
    return copy.deepcopy(_camera_template(seed, hand_held, frame, panel))


def device_camera(device: str, seed: int, *, hand_held: bool = False) -> CameraModel:
    """A camera (as :func:`camera`) set up for the device's panel."""
    return camera(seed, hand_held=hand_held, panel=references(device).size)


@functools.cache
def _camera_template(seed: int, hand_held: bool, frame: tuple[int, int],
                     panel: tuple[int, int]) -> CameraModel:
    cam = CameraModel(seed, frame, hand_held=hand_held)
    cam.capture(np.full((panel[1], panel[0], 3), 128, np.uint8), 0.0)
    return cam


def rectified(capture: Capture, clf: Classifier) -> np.ndarray:
    """The screen cut out of the frame with the ground-truth corners."""
    frame = (capture.image.shape[1], capture.image.shape[0])
    return Calibration(capture.quad, frame, clf.references.size).rectify(capture.image,
                                                                         clf.fine_size)


def shoot(clf: Classifier, cam: CameraModel, panel: np.ndarray, t: float) -> Decision:
    """A frame of ``panel`` at ``t``, rectified with the ground truth and classified. A new
    camera costs ~100 ms (its bench and pose), a frame of a known one ~25 ms: tests keep
    their cameras."""
    return clf.classify(rectified(cam.capture(panel, t), clf))


def corner_error(a: np.ndarray, b: np.ndarray) -> float:
    """Largest distance between corresponding corners, in pixels."""
    return float(np.max(np.linalg.norm(np.asarray(a, float) - np.asarray(b, float), axis=1)))


def describe(d: Decision) -> str:
    return (f"{d.state} (reference {d.reference}, score {d.score:.3f}, margin {d.margin:.3f}, "
            f"runner-up {d.runner_up}, scores {d.scores}{', ' + d.why if d.why else ''})")
