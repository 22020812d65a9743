"""Reading a reader's lamps from a camera frame (ERR-07: the Atlas EXC-9000's MATSUMURA
logo lamp lights white once the reader has started).

Where the lamps are comes from the bench side (the bench file's camera entry, as a lab
measures it for its own camera), relative to the screen: the screen's calibration (its
corners in the frame) places them. Each lamp is compared with the housing around it:

- *lit*: the lamp's bright part stands out of its surround by a ratio (``level``) that a
  lit lamp reaches and an unlit one (a grey disc, a little lighter than the housing) does
  not. A ratio, not a difference: exposure and white balance scale lamp and housing alike,
  and glare, light added to both, only lowers it (so glare never makes a lamp lit).
- *colour*: the hue of the light the lamp adds to its surround, from the lamp and its halo
  where the camera did not clip (a clipped core is white whatever the LED's colour).

A lamp that cannot be judged (out of the frame, its surround clipped by glare or
exposure) is not read: ``why`` says so, and ``lit`` is False (never a lit guess).
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import cv2
import numpy as np

from harness.model.lamps import LampSpot, lamp_map
from harness.model.timeline import Timeline
from harness.vision.geometry import Calibration

#: ``level`` from which a lamp is lit. An unlit lamp's disc (about 1.3x its housing) stays
#: below ~0.5, a lit one's clipped core above ~1.3 even with auto exposure at +90 %.
LIT_LEVEL = 1.0
#: Saturation (of the added light) below which a lit lamp is white.
WHITE_BELOW = 0.3
#: A surround this bright (V, 0-255) leaves no headroom to see a lamp stand out.
_SURROUND_CLIPPED = 230
#: Hue bands (degrees, upper bounds) and their names; red wraps round.
_HUES = ((15, "red"), (48, "amber"), (70, "yellow"), (160, "green"), (200, "cyan"),
         (260, "blue"), (330, "purple"), (361, "red"))
# Zones in units of the lamp's shape: the lamp itself (inside its blurred edge), where
# its light is looked for (lamp and halo) and the housing around it.
_LAMP, _HALO, _SURROUND = 0.8, 1.6, (1.8, 2.8)


@attrs.frozen
class LampReading:
    name: str
    lit: bool
    #: The lamp's colour when lit (``white``, ``green``, ``red``, ``amber``, ...), else None.
    colour: str | None
    #: How much the lamp stands out of its surround: (lamp - surround) / (surround + 16).
    level: float
    #: Why the lamp could not be read (then ``lit`` is False); None when it was.
    why: str | None = None

    @property
    def read(self) -> bool:
        return self.why is None

    def as_json(self) -> dict[str, object]:
        out: dict[str, object] = {"lamp": self.name, "lit": self.lit, "colour": self.colour,
                                  "level": round(self.level, 3)}
        if self.why is not None:
            out["why"] = self.why
        return out


def colour_name(bgr: np.ndarray) -> str:
    """The name of a light's colour, from the (B, G, R) light it adds."""
    b, g, r = (float(c) for c in bgr)
    top, low = max(b, g, r), min(b, g, r)
    if top <= 0 or (top - low) / top < WHITE_BELOW:
        return "white"
    pixel = np.array([[[b, g, r]]], np.float32) / top
    hue = float(cv2.cvtColor(pixel, cv2.COLOR_BGR2HSV)[0, 0, 0])  # degrees for float input
    return next(name for bound, name in _HUES if hue < bound)


def _brightest(image: np.ndarray) -> np.ndarray:
    """The largest of each pixel's three channels (numpy's max over the last axis of three
    is ten times slower)."""
    return np.maximum(np.maximum(image[..., 0], image[..., 1]), image[..., 2])


def read_lamp(frame: np.ndarray, calibration: Calibration, spot: LampSpot) -> LampReading:
    """One lamp in one frame (BGR), placed by the screen's calibration."""
    fh, fw = frame.shape[:2]
    mapped = lamp_map(calibration.quad, spot, _SURROUND[1], 1, (fw, fh))
    if mapped is None:
        return LampReading(spot.name, False, None, 0.0, "out of the frame")
    (x0, y0, x1, y1), d = mapped
    roi = frame[y0:y1, x0:x1].astype(np.float32)
    value = _brightest(roi)
    lamp = d <= _LAMP
    if lamp.sum() < 4:  # a lamp a few pixels wide: all of it
        lamp = d <= 1.0
    surround = (d >= _SURROUND[0]) & (d <= _SURROUND[1])
    if lamp.sum() < 2 or surround.sum() < 8:
        return LampReading(spot.name, False, None, 0.0,
                           "too small or partly out of the frame to read")
    base = float(np.median(value[surround]))
    if base >= _SURROUND_CLIPPED:
        return LampReading(spot.name, False, None, 0.0,
                           f"its surround is clipped (V {base:.0f}): glare or overexposure")
    level = (float(np.percentile(value[lamp], 90)) - base) / (base + 16)
    if level < LIT_LEVEL:
        return LampReading(spot.name, False, None, level)
    housing = np.median(roi[surround], axis=0)
    added = np.clip(roi - housing, 0, None)
    strength = _brightest(added)
    halo = (d <= _HALO) & (strength >= 0.2 * float(strength[d <= _HALO].max()))
    unclipped = halo & (value < 250)
    light = added[unclipped if unclipped.sum() >= 3 else halo].sum(axis=0)
    return LampReading(spot.name, True, colour_name(light), level)


def read_lamps(frame: np.ndarray, calibration: Calibration, spots: Sequence[LampSpot]
               ) -> list[LampReading]:
    return [read_lamp(frame, calibration, spot) for spot in spots]


class LampWatcher:
    """A camera's lamps over time: each look reads them, and a lamp that changes (lit,
    colour, or whether it could be read) lands on the timeline as ``lamp.seen``."""

    def __init__(self, name: str, spots: Sequence[LampSpot],
                 timeline: Timeline | None = None) -> None:
        self.name = name
        self.spots = list(spots)
        self.timeline = timeline
        self.last: dict[str, LampReading] = {}

    def boxes(self, calibration: Calibration) -> list[tuple[int, int, int, int]]:
        """Where :meth:`observe` reads a frame of the calibration's size (x0, y0, x1, y1)."""
        size = tuple(int(v) for v in calibration.frame_size)
        mapped = (lamp_map(calibration.quad, spot, _SURROUND[1], 1, size) for spot in self.spots)
        return [m[0] for m in mapped if m is not None]

    def observe(self, frame: np.ndarray, calibration: Calibration, t: float
                ) -> list[LampReading]:
        readings = read_lamps(frame, calibration, self.spots)
        for reading in readings:
            before = self.last.get(reading.name)
            changed = before is None or (before.lit, before.colour, before.read) != (
                reading.lit, reading.colour, reading.read)
            if changed and self.timeline is not None:
                self.timeline.record(self.name, "lamp.seen", frame_t=t, **reading.as_json())
            self.last[reading.name] = reading
        return readings
