"""What a camera sees of an emulated reader's screen.

On an emulated bench the screen renderer gives the reader's screen as a clean BGR image.
The vision code (screen finding, state classification, motion detection) must not be tested
on such perfect pictures only, so :class:`CameraModel` turns a screen into a camera frame:
the screen sits in the reader's housing on a cluttered bench, seen in perspective from a
camera pose fixed per model (a bench camera) or from a wider range of angles (a hand-held
photo), with slowly drifting exposure and white balance, a glare blob on the glass, defocus,
sensor noise and a JPEG round trip.

Everything is deterministic: the pose and the scene come from the seed, time-varying effects
are smooth functions of the frame's time ``t``, and per-frame randomness (noise, flicker, JPEG
quality) comes from ``(seed, bumps, frame number, t)``, so a replayed run gives the same frames.

The parts live in modules of their own: the pose and its homographies
(:mod:`~harness.emulation.camera_pose`), the bench and the housing
(:mod:`~harness.emulation.camera_scene`), one pose's view with the screen composed into it
(:mod:`~harness.emulation.camera_view`), the sensor's effects
(:mod:`~harness.emulation.sensor_effects`) and the desk's
(:mod:`~harness.emulation.desk_effects`); this module puts them together.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np

from harness.emulation.camera_draws import TAG, stream, t_key
from harness.emulation.camera_pose import (
    BENCH,
    HAND_HELD,
    PinholeCamera,
    Pose,
    project,
    sample_pose,
)
from harness.emulation.camera_scene import Housing, bench_canvas, render_housing, render_scene
from harness.emulation.camera_view import (
    Rect,
    View,
    build_view,
    compose,
    fresh_view,
    read_out,
    with_boxes,
)
from harness.emulation.desk_effects import DeskCamera
from harness.emulation.lamps import LampState, draw_lamps, lamp_box
from harness.emulation.sensor_effects import (
    Sensor,
    apply_gains,
    around,
    jpeg_round_trip,
    noise_offset,
    scratch_frames,
)


def _check_range(low_min: float, high_max: float | None = None) -> Any:
    def check(_: Any, attribute: attrs.Attribute, value: tuple[float, float]) -> None:
        low, high = value
        if not low_min <= low <= high or (high_max is not None and high > high_max):
            limit = f" <= {high_max}" if high_max is not None else ""
            raise ValueError(
                f"CameraEffects.{attribute.name}: need {low_min} <= low <= high{limit}, got {value}"
            )

    return check


def _check_level(low: float, high: float) -> Any:
    def check(_: Any, attribute: attrs.Attribute, value: float) -> None:
        if not low <= value < high:
            raise ValueError(
                f"CameraEffects.{attribute.name}: need {low} <= value < {high}, got {value}"
            )

    return check


def _pair(kind: type) -> Any:
    def convert(value: Any) -> tuple[Any, Any]:
        low, high = value
        return kind(low), kind(high)

    return convert


def _optional_quality(value: Any) -> tuple[int, int] | None:
    return None if value is None else _pair(int)(value)


def _check_quality(_: Any, attribute: attrs.Attribute, value: tuple[int, int] | None) -> None:
    if value is not None and not 1 <= value[0] <= value[1] <= 100:
        raise ValueError(
            f"CameraEffects.{attribute.name}: need 1 <= low <= high <= 100 or None, got {value}"
        )


def _check_levels(_: Any, attribute: attrs.Attribute, value: tuple[int, int]) -> None:
    if not 0 <= value[0] < value[1] <= 255:
        raise ValueError(
            f"CameraEffects.{attribute.name}: need 0 <= black < white <= 255, got {value}"
        )


@attrs.frozen
class CameraEffects:
    """How imperfect the camera is. Ranges are sampled per camera (blur, read noise) or per
    frame (JPEG quality); drifts are peak relative changes. The defaults are a realistic
    bench webcam: something the vision code must cope with, not a torture test."""

    #: Optical defocus (Gaussian sigma, px in the output frame), one value per pose: a fixed
    #: focus that is never perfect; 1 px softens text edges like a cheap webcam's lens.
    blur_sigma: tuple[float, float] = attrs.field(
        default=(0.6, 1.3), converter=_pair(float), validator=_check_range(0.0, 20.0)
    )
    #: Read noise (DN, 0-255 scale), one value per camera; 1-2.5 DN is a webcam in office light.
    noise_sigma: tuple[float, float] = attrs.field(
        default=(1.0, 2.5), converter=_pair(float), validator=_check_range(0.0, 30.0)
    )
    #: Shot noise: sigma = shot_noise * sqrt(signal DN), added in quadrature to the read
    #: noise; 0.15 gives 2.4 DN on white, so bright screens are noisier than dark ones.
    shot_noise: float = attrs.field(default=0.15, converter=float, validator=_check_level(0, 2))
    #: Peak relative change of the exposure gain over time (0.15 = +-15 %): auto exposure
    #: reacting to people walking by and daylight, with periods of tens of seconds.
    exposure_drift: float = attrs.field(
        default=0.15, converter=float, validator=_check_level(0, 0.9)
    )
    #: Peak change of the blue and red gains (auto white balance hunting), relative to green.
    white_balance_drift: float = attrs.field(
        default=0.05, converter=float, validator=_check_level(0, 0.9)
    )
    #: Peak per-frame random gain change (mains flicker, auto exposure steps): motion
    #: detection must not fire on it.
    flicker: float = attrs.field(default=0.01, converter=float, validator=_check_level(0, 0.5))
    #: Peak brightness (DN) added by a soft glare blob (a ceiling lamp's reflection) on the
    #: reader's glass; it drifts slowly over the screen.
    glare: float = attrs.field(default=35.0, converter=float, validator=_check_level(0, 256))
    #: JPEG quality range of the round trip (MJPEG webcams); None: no JPEG.
    jpeg_quality: tuple[int, int] | None = attrs.field(
        default=(75, 92), converter=_optional_quality, validator=_check_quality
    )
    #: What the camera sees of a black and a white screen pixel: an LCD's black leaks
    #: backlight and auto exposure leaves headroom above white.
    screen_levels: tuple[int, int] = attrs.field(
        default=(18, 235), converter=_pair(int), validator=_check_levels
    )

    #: The pose's roll range is at least +-this (degrees; the bench's own is 5, a hand's 20).
    roll: float = attrs.field(default=0.0, converter=float, validator=_check_level(0, 45))
    #: Moiré: peak DN of low-contrast bands over the screen (the display's pixel grid against
    #: the sensor's), one period (5-28 px) and angle per camera; 0: none.
    moire: float = attrs.field(default=0.0, converter=float, validator=_check_level(0, 64))
    #: A small hot spot (a lamp's sharp reflection) on the glass: peak DN, clipping at its
    #: middle when the screen is bright; 0: none. Drifts over the screen like the glare.
    glare_spot: float = attrs.field(default=0.0, converter=float, validator=_check_level(0, 256))
    #: Linear motion blur: length range (px), one length and direction per frame.
    motion_blur: tuple[float, float] = attrs.field(
        default=(0.0, 0.0), converter=_pair(float), validator=_check_range(0.0, 30.0)
    )
    #: The camera's own exposure gain and tone curve (gamma), one value of each per camera.
    gain: tuple[float, float] = attrs.field(
        default=(1.0, 1.0), converter=_pair(float), validator=_check_range(0.1, 4.0)
    )
    gamma: tuple[float, float] = attrs.field(
        default=(1.0, 1.0), converter=_pair(float), validator=_check_range(0.2, 5.0)
    )
    #: Light falloff in the frame's corners (0.4: corners at 60 %); 0: none.
    vignetting: float = attrs.field(default=0.0, converter=float, validator=_check_level(0, 0.9))
    #: The part of frames where a finger holds the reader's edge: over the bezel, its tip at
    #: most a little into the screen.
    finger: float = attrs.field(default=0.0, converter=float, validator=_check_level(0, 1.01))

    @property
    def desk(self) -> bool:
        """Any of the desk conditions (harness/emulation/desk_effects.py) asked for."""
        return bool(self.moire or self.glare_spot or self.motion_blur[1] or self.vignetting
                    or self.finger or self.gain != (1.0, 1.0) or self.gamma != (1.0, 1.0))

    @classmethod
    def harsh(cls) -> CameraEffects:
        """A photo on an ordinary desk at the extremes the recogniser must hold on: roll to
        8 degrees, moiré of a few DN, a hot spot up to +110, motion blur to 7 px, defocus to
        sigma 2, JPEG down to 40, gain 0.65-1.25, gamma 0.8-1.25, vignetting, a finger at
        the edge in a third of the frames, the desk's clutter."""
        return cls(
            blur_sigma=(0.6, 2.0),
            jpeg_quality=(40, 92),
            roll=8.0,
            moire=6.0,
            glare_spot=110.0,
            motion_blur=(0.0, 7.0),
            gain=(0.65, 1.25),
            gamma=(0.8, 1.25),
            vignetting=0.35,
            finger=0.35,
        )

    @classmethod
    def none(cls) -> CameraEffects:
        """An ideal camera: only the scene and the perspective, for exact tests."""
        return cls(
            blur_sigma=(0, 0),
            noise_sigma=(0, 0),
            shot_noise=0,
            exposure_drift=0,
            white_balance_drift=0,
            flicker=0,
            glare=0,
            jpeg_quality=None,
            screen_levels=(0, 255),
        )


@attrs.frozen(eq=False)
class Capture:
    """One camera frame and where the screen is in it."""

    #: BGR uint8, frame_size.
    image: np.ndarray
    #: float32 (4, 2): where the input screen's corners tl, tr, br, bl landed in the frame:
    #: the screen points (0,0), (W,0), (W,H), (0,H) in OpenCV's pixel-centre convention, so
    #: ``cv2.getPerspectiveTransform(quad, those four points)`` is exactly the inverse of the
    #: camera's homography. Ground truth for the vision code's tests.
    quad: np.ndarray


class CameraModel:
    """A camera looking at one emulated reader. Frames from one model line up (fixed pose)
    until :meth:`bump`; all of it is reproducible from ``seed``."""

    def __init__(
        self,
        seed: int = 0,
        frame_size: tuple[int, int] = (1920, 1080),
        *,
        hand_held: bool = False,
        effects: CameraEffects | None = None,
    ) -> None:
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"camera model: seed must be a non-negative int, got {seed!r}")
        try:
            fw, fh = (int(v) for v in frame_size)
        except (TypeError, ValueError):
            raise ValueError(
                f"camera model: frame_size must be (width, height), got {frame_size!r}"
            ) from None
        if fw <= 0 or fh <= 0:
            raise ValueError(f"camera model: frame_size must be positive, got {frame_size!r}")
        if fw < 32 or fh < 32:
            raise ValueError(f"camera model: frame_size must be at least 32x32, got {frame_size!r}")
        self.seed = int(seed)
        self.frame_size = (fw, fh)
        self.hand_held = hand_held
        self.effects = effects if effects is not None else CameraEffects()
        self._ranges = HAND_HELD if hand_held else BENCH
        self._bumps = 0
        self._frames = 0
        self._last_offset: tuple[int, int, int] | None = None
        self._poses: dict[tuple[int, tuple[int, int]], Pose] = {}
        self._views: dict[tuple[int, int], View] = {}
        self._housings: dict[tuple[int, int], Housing] = {}
        self._bench: np.ndarray | None = None
        self._bench_pad = round(0.1 * fw)

        self._sensor = Sensor(self.effects, self.seed)
        self._desk = (
            DeskCamera.of(self.effects, stream(self.seed, TAG["desk"]), self.frame_size)
            if self.effects.desk
            else None
        )

    # -- public -----------------------------------------------------------------------------

    def capture(
        self, screen: np.ndarray, t: float, lamps: Sequence[LampState] = (),
        read: Rect | None = None,
    ) -> Capture:
        """What the camera sees at bench time ``t`` (seconds) while the reader shows ``screen``
        and its housing's ``lamps`` are as given. ``read``: the region of the frame (x0, y0,
        x1, y1) the rig reads, as a camera's region of interest: the sensor's noise and the
        JPEG round trip go there only (the same pixels there as without it); None: wherever
        the rig may read."""
        screen = _check_screen(screen)
        t = float(t)
        if not math.isfinite(t):
            raise ValueError(f"camera model: t must be a finite number of seconds, got {t!r}")
        fw, fh = self.frame_size
        view = self._view(screen.shape[1], screen.shape[0])
        sensor = self._sensor
        rng = stream(self.seed, TAG["frame"], self._bumps, self._frames, t_key(t))
        self._frames += 1
        # this frame's random draws, in a fixed order: flicker, noise offset, JPEG quality
        gains = sensor.gains(t, rng)
        offset = noise_offset(rng, self._last_offset) if sensor.noisy else None
        if offset is not None:
            self._last_offset = offset
        quality = (
            int(rng.integers(*self.effects.jpeg_quality, endpoint=True))
            if self.effects.jpeg_quality is not None
            else None
        )

        # The light through the lens: the static scene was blurred once, and the screen
        # composed into it is kept while the screen stays (and redone only where it
        # changes). Per frame: the sensor's noise around the reader (its level from that
        # signal, kept with it, and scaled for this frame's gains); over the whole frame the
        # exposure and white
        # balance gains, the glare (DN added after the gains); the JPEG round trip around the
        # reader (see below). The lens
        # blur comes before the gains and the glare: per-pixel scalings and a smooth blob,
        # which commute with a blur but for rounding and clipping.
        compose(view, screen, sensor.levels, sensor.sigma_lut if sensor.noisy else None)
        noisy, scratch, gain_image = scratch_frames(fh, fw)
        src = view.frame.reshape(fh, fw * 3)
        desk = None
        if self._desk is not None:  # its own draws: the default effects' frames stay as they were
            desk = stream(self.seed, TAG["desk_frame"], self._bumps, self._frames, t_key(t))
            src = self._desk.lens(view.frame, view.quad, desk).reshape(fh, fw * 3)
        # Where the rig may read this frame: the screen, and the lamps lit or not; and of
        # that, where it said it reads this one (its region of interest).
        box = with_boxes(view.read_box, _lamp_boxes(view, lamps, self.frame_size),
                         self.frame_size)
        part = read_out(box, read)
        x0, y0, x1, y1 = part
        # The frame, a new array (it is handed out), is written once: piece by piece from
        # the light through the lens, times the gains.
        frame = np.empty((fh, fw, 3), np.uint8)
        pieces = [(src, rect) for rect in around(part, self.frame_size)]
        if x0 >= x1:
            pass  # the region lies outside what this camera gives noise and JPEG
        elif offset is not None:
            assert view.sigma is not None
            level = 1.0 if gains is None else sensor.noise_level(float(gains.mean()))
            # The noise goes where the rig reads (camera_view.read_box); the rest of the
            # bench keeps its light. Drawn for the whole box and cut to the part, so a
            # region of interest changes no pixel in it.
            band = np.s_[y0:y1, 3 * x0 : 3 * x1]
            sensor.add_noise(src[band], view.sigma[band], offset, level, noisy[band],
                             scratch[: y1 - y0, : 3 * (x1 - x0)],
                             tile=(box[3] - box[1], 3 * (box[2] - box[0])),
                             at=(y0 - box[1], 3 * (x0 - box[0])))
            pieces.append((noisy, part))
        else:
            pieces.append((src, part))
        apply_gains(pieces, gains, frame.reshape(fh, fw * 3), gain_image)
        if lamps:  # drawn after the gains (their light scales with them) and under the glare
            draw_lamps(frame, view.quad, lamps, gains=gains, blur=view.blur,
                       noise=sensor.read_noise, seed=int(rng.integers(2**32)))
        if desk is not None:
            assert self._desk is not None
            self._desk.sensor(frame, view.quad, t, desk)
        sensor.add_glare(frame, view.quad, view.glass, t)
        if quality is not None and x0 < x1:
            # JPEG codes each 16 px block on its own (the DC's prediction is lossless), so a
            # crop on block boundaries decodes to the very pixels the whole frame would,
            # but at the crop's edge (chroma upsampling): the band around what the rig
            # reads keeps that edge off it, at a fraction of the cost of the frame.
            frame[y0:y1, x0:x1] = jpeg_round_trip(frame[y0:y1, x0:x1], quality)
        assert frame.shape == (fh, fw, 3)
        return Capture(image=frame, quad=view.quad.copy())

    @property
    def films(self) -> tuple[object, ...]:
        """What decides the frames this camera films of a screen, but for each frame's own
        draws (noise, gains, JPEG): equal for a camera opened again, as :meth:`_view` builds
        the same view for it."""
        return (self.seed, self.frame_size, self.hand_held, self.effects, self._bumps)

    @property
    def bumps(self) -> int:
        """How often the camera was knocked: each time it sees the reader from a new pose."""
        return self._bumps

    def bump(self) -> None:
        """The camera was knocked: from now on it sees the reader from a new pose, a few
        degrees and a few per cent of the frame away from the old one."""
        self._bumps += 1
        self._views.clear()

    # -- pose -------------------------------------------------------------------------------

    def _pose(self, bumps: int, screen: tuple[int, int]) -> Pose:
        key = (bumps, screen)
        if key not in self._poses:
            previous = self._pose(bumps - 1, screen) if bumps else None
            housing = self._housing(screen)
            self._poses[key] = sample_pose(
                self._ranges, self.effects.roll, self.frame_size, screen,
                (housing.outline, housing.depth), previous,
                stream(self.seed, TAG["pose"], bumps),
            )  # fmt: skip
        return self._poses[key]

    # -- static scene -----------------------------------------------------------------------

    def _housing(self, screen: tuple[int, int]) -> Housing:
        if screen not in self._housings:
            self._housings[screen] = render_housing(stream(self.seed, TAG["housing"]), *screen)
        return self._housings[screen]

    def _bench_canvas(self) -> np.ndarray:
        if self._bench is None:
            fw, fh = self.frame_size
            pad = self._bench_pad
            self._bench = bench_canvas(self.seed, fh + 2 * pad, fw + 2 * pad)
        return self._bench

    def _view(self, w: int, h: int) -> View:
        key = (w, h)
        if key in self._views:
            return self._views[key]
        # The same camera (seed, frame, effects) opened again: its view as first built.
        shared = (*self.films, key)
        view = fresh_view(shared, lambda: self._build_view(w, h))
        self._views[key] = view
        return view

    def _build_view(self, w: int, h: int) -> View:
        key = (w, h)
        pose = self._pose(self._bumps, key)
        cam = PinholeCamera(pose, key, self.frame_size)
        homography = cam.plane()
        quad = project(homography, np.array([[0, 0], [w, 0], [w, h], [0, h]], float))
        scene = render_scene(self._bench_canvas(), self._bench_pad, self._housing(key), cam,
                             quad, self.frame_size)  # fmt: skip
        focus = stream(self.seed, TAG["focus"], self._bumps)
        blur = float(focus.uniform(*self.effects.blur_sigma))
        sigma_lut = self._sensor.sigma_lut if self._sensor.noisy else None
        return build_view(scene, homography, quad, key, blur, sigma_lut,
                          whole_reader=self.hand_held or self.effects.desk)


def _lamp_boxes(view: View, lamps: Sequence[LampState], frame: tuple[int, int]
                ) -> list[tuple[int, int, int, int]]:
    boxes = (lamp_box(view.quad, lamp, view.blur, frame) for lamp in lamps)
    return [box for box in boxes if box is not None]


def _check_screen(screen: Any) -> np.ndarray:
    if not isinstance(screen, np.ndarray):
        raise ValueError(f"camera model: screen must be a numpy array, got {type(screen).__name__}")
    if screen.ndim != 3 or screen.shape[2] != 3:
        raise ValueError(
            f"camera model: screen must be an HxWx3 BGR image, got shape {screen.shape}"
        )
    if screen.dtype != np.uint8:
        raise ValueError(f"camera model: screen must be uint8, got {screen.dtype}")
    if screen.shape[0] < 2 or screen.shape[1] < 2:
        raise ValueError(f"camera model: screen is too small ({screen.shape[1]}x{screen.shape[0]})")
    return np.ascontiguousarray(screen)
