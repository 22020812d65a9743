"""Frames an emulated camera filmed, kept by scene for when a camera films it again.

A flow goes back and forth between a few screens (the first screen, the card's place, the
consent, the first screen again), looks at a screen it doubts (an unknown one, a text
judged again) frame after frame, and the next test opens the same bench again: in a Canon
run of the suites, 613 captures filmed 42 scenes. A camera that films a scene filmed
before (the same screen's pixels and lamps, before a camera that films alike:
``CameraModel.films``), while the rig reads only a region of the frame
(``ReadsOutRegion``), gives that region as one of the frames filmed of it: that frame's
sensor noise, JPEG round trip and gains; the rest of the frame from its own last capture.
Each scene keeps :data:`VARIANTS` frames, each a draw of its own of the noise, and a kept
frame is never the one the camera handed out just before: two frames in a row are never
the same bytes (on a real bench that is a frozen camera, harness/vision/camera_faults.py),
and the looks at a scene that stays in front of the lens (a text judged again,
harness/flows/runner.py REJUDGE, an unknown screen looked at each time) see VARIANTS
different frames before one comes again.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable

import attrs
import numpy as np

from harness.protocols import PixelBox

#: Frames kept per scene: more than a text is judged again (harness/flows/runner.py
#: REJUDGE, 2), so each judgement of it sees a new frame.
VARIANTS = 3
#: Bytes of frames kept in a process, the least recently filmed scenes dropped first (a
#: region the rig reads is about 1,000 x 650 pixels of a 1080p frame, 2 MB). A frame kept
#: is a capture, a classification and a decision point's OCR saved (their verdicts are
#: kept by the pixels): measured on the reader-fault deviations, 400 MB took 18 % off
#: their CPU against 160 MB, for ~215 MB more at the peak.
BUDGET = 400 * 2**20


class _Store:
    """The kept frames of every camera in this process, by scene."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.bytes = 0
        self.scenes: OrderedDict[Hashable, list[np.ndarray]] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: Hashable) -> list[np.ndarray]:
        with self.lock:
            variants = self.scenes.get(key)
            if variants is None:
                return []
            self.scenes.move_to_end(key)
            return list(variants)

    def add(self, key: Hashable, part: np.ndarray) -> np.ndarray:
        """``part`` kept, or the kept frame with its very bytes (a camera opened again
        films the same frames at the same moments: each scene's frames must differ)."""
        with self.lock:
            variants = self.scenes.setdefault(key, [])
            same = next((v for v in variants if np.array_equal(v, part)), None)
            if same is not None:
                self.scenes.move_to_end(key)
                return same
            variants.append(part)
            self.bytes += part.nbytes
            for old in variants[:-VARIANTS]:
                self.bytes -= old.nbytes
            del variants[:-VARIANTS]
            self.scenes.move_to_end(key)
            while self.bytes > self.budget and len(self.scenes) > 1:
                _, dropped = self.scenes.popitem(last=False)
                self.bytes -= sum(v.nbytes for v in dropped)
            return part


_STORE = _Store(BUDGET)


def scene_key(films: Hashable, screen: Hashable, lamps: Hashable, region: PixelBox
              ) -> Hashable:
    """A scene as a camera that ``films`` alike sees it: the screen's pixels
    (``harness.kept.pixels_key``), the lamps, and the region the rig reads."""
    return (films, screen, lamps, region)


@attrs.define
class SceneFrames:
    """One camera's use of the kept frames: what it handed out last, and its last whole
    frame, which a kept region is pasted into."""

    #: The kept frame handed out last (by identity; None after a frame not kept).
    _last: np.ndarray | None = attrs.field(default=None, init=False, repr=False)
    _base: np.ndarray | None = attrs.field(default=None, init=False, repr=False)
    #: The scene of the frame handed out last.
    _scene: Hashable | None = attrs.field(default=None, init=False, repr=False)

    def again(self, scene: Hashable, region: PixelBox) -> np.ndarray | None:
        """A new frame of ``scene`` read in ``region`` from the frames kept of it, never the
        one handed out last; None when it must be filmed: nothing kept, or the scene stays
        in front of the lens and has fewer than :data:`VARIANTS` frames yet."""
        variants = _STORE.get(scene)
        if not variants or self._base is None or (
                scene == self._scene and len(variants) < VARIANTS):
            return None
        at = next((k for k, v in enumerate(variants) if v is self._last), None)
        part = variants[-1] if at is None else variants[(at + 1) % len(variants)]
        if part is self._last:
            return None
        x0, y0, x1, y1 = _clipped(region, self._base.shape)
        frame = self._base.copy()
        frame[y0:y1, x0:x1] = part
        self._last, self._scene = part, scene
        return frame

    def filmed(self, scene: Hashable, region: PixelBox, image: np.ndarray) -> bool:
        """``image``, just filmed of ``scene`` with the rig reading ``region``: kept (a
        copy of the region: the frame itself is handed out). False when its bytes there
        are those of the frame handed out just before: a camera opened again films what
        the other filmed at the same moment, and a kept frame of the other was the last;
        then this one must not be handed out (film again: the next draw differs)."""
        x0, y0, x1, y1 = _clipped(region, image.shape)
        part = _STORE.add(scene, image[y0:y1, x0:x1].copy())
        if part is self._last:
            return False
        self._last, self._base, self._scene = part, image, scene
        return True

    def handed_out(self) -> None:
        """A frame not kept was handed out (one filmed for the whole frame)."""
        self._last = self._scene = None


def _clipped(region: PixelBox, shape: tuple[int, ...]) -> PixelBox:
    x0, y0, x1, y1 = region
    height, width = shape[:2]
    return (min(max(x0, 0), width), min(max(y0, 0), height),
            min(max(x1, 0), width), min(max(y1, 0), height))
