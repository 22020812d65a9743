"""Which reference state a screen shows, with a score and the margin to the runner-up.

Two passes, as stb-tester's matcher does it (match, then confirm):

1. *Global*: the rectified screen, grey, downscaled and high-passed (which takes out
   exposure, white balance, vignetting and soft glare), against every reference by
   normalised cross-correlation with each reference's masks. Cheap: a few matrix-vector
   products.
2. *Confirm*: for the best few states, every must-match region any of them declares (an
   error code, a button, the text block, a loading circle) is warped straight from the
   frame at the resolution the camera gives it (at most the references' own) and compared
   by correlation, or, where the reference is blank, by staying blank. A region that one candidate has and another lacks
   is checked on both, which is what tells near duplicates apart: the consent screen and the
   same screen under a loading circle, the first screen with and without a button.

A state's score is the lowest of its global score and its region scores; below
``accept`` the answer is ``unknown``, never the closest state.

What an unknown screen still shows of a reference (the 901 code of a 901 screen with a line
missing, the code moved by it) is looked for anywhere with :meth:`Classifier.find_region`
(see harness/vision/reading.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import attrs
import cv2
import numpy as np

from harness.kept import Kept
from harness.vision.geometry import Calibration, inside_fraction, screen_box
from harness.vision.reference import Reference, ReferenceSet, Region


@attrs.frozen
class Patches:
    """The frame's pixels in a region (box in reference pixels), BGR, at ``scale`` times the
    references' resolution: as fine as the camera sees the screen, no finer."""

    scale: float
    get: Callable[[tuple[int, int, int, int]], np.ndarray]
    #: Where a lamp's hot spot hides the screen, at the fine size (None: nowhere).
    glare: np.ndarray | None = None


def _quantise(scale: float) -> float:
    # Steps of 1/20, so the references' patches are made once per camera.
    return min(1.0, max(0.25, round(scale * 20) / 20))


def _scaled(box: tuple[int, int, int, int], scale: float) -> tuple[int, int, int, int]:
    x, y, w, h = box
    return (int(round(x * scale)), int(round(y * scale)),
            max(2, int(round(w * scale))), max(2, int(round(h * scale))))

UNKNOWN = "unknown"


def _unit(_inst: object, attr: attrs.Attribute, value: float) -> None:
    if not 0 < value <= 1:
        raise ValueError(f"ClassifierParams.{attr.name} must be within (0, 1], got {value!r}")


def _positive(_inst: object, attr: attrs.Attribute, value: float) -> None:
    if not value > 0:
        raise ValueError(f"ClassifierParams.{attr.name} must be > 0, got {value!r}")


@attrs.frozen
class ClassifierParams:
    """The classifier's tunables, in one place; the defaults are what the tests and the
    benchmarks were measured with."""

    #: Below this score the answer is unknown. True matches through a camera score 0.85 and
    #: more at 1080p; another text of the same length in the same place up to about 0.75.
    accept: float = attrs.field(default=0.8, validator=_unit)
    #: Blur (fine pixels) that evens out camera blur, resampling and JPEG before comparing.
    sigma: float = attrs.field(default=1.5, validator=_positive)
    #: The same for regions, compared at the references' full resolution.
    region_sigma: float = attrs.field(default=0.7, validator=_positive)
    #: Width of the rectified screen the regions are checked on; the global pass uses half.
    fine_width: int = attrs.field(default=512, validator=_positive)
    #: States the confirm pass always looks at, and at most.
    candidates: int = attrs.field(default=3, validator=_positive)
    max_confirm: int = attrs.field(default=6, validator=_positive)
    #: A frame whose high-passed contrast is below this (grey levels) shows a blank panel.
    flat_std: float = attrs.field(default=4.0, validator=_positive)
    #: ... and is taken for a blank reference whose mean colour is within this in every
    #: channel (exposure and backlight bleed lift a black panel to a dark grey, about 20; a
    #: harsh desk's gain and the room in the glass to about 40). Its hue guards a dark page.
    flat_level: float = attrs.field(default=40.0, validator=_positive)
    #: A region looked for anywhere (:meth:`Classifier.find_region`) is searched this far (a
    #: fraction of the screen's height) above and below where its reference has it.
    search_band: float = attrs.field(
        default=0.25, validator=[attrs.validators.ge(0.0), attrs.validators.le(1.0)])
    #: ... and checked piece by piece, each piece this wide (a fraction of the region's
    #: height: about a glyph), each free to move this many pixels.
    piece: float = attrs.field(default=0.5, validator=_positive)
    piece_slack: int = attrs.field(default=2, validator=attrs.validators.ge(0))
    #: Contrast (grey levels, per pixel) below which a window of the screen counts as blank
    #: there: a region is not found on an empty panel, however its noise happens to correlate.
    blank_sd: float = attrs.field(default=2.0, validator=_positive)
    #: Grey levels (RMS) of residual in a region that count as nothing: moiré and noise.
    residual_floor: float = attrs.field(default=3.0, validator=attrs.validators.ge(0.0))
    #: When nothing passes as the references are drawn, try them blurred as the frame is.
    blur_bank: bool = True


@attrs.frozen
class Decision:
    state: str
    score: float
    margin: float
    #: The reference that won (a state may have several), None when unknown.
    reference: str | None = None
    shows: str | None = None
    overlay: str | None = None
    #: The best other state; for an unknown answer, the state that came closest.
    runner_up: str | None = None
    #: Best score per state looked at closely (for evidence and debugging).
    scores: dict[str, float] = attrs.field(factory=dict)
    #: The other states, not looked at closely: their global scores, which bound what they
    #: would score (a rival a near miss's reading must rule out may be among them).
    at_most: dict[str, float] = attrs.field(factory=dict)
    #: Why the answer is unknown.
    why: str = ""
    #: The screen was blank (a dark panel): it says nothing of where the screen is.
    blank: bool = False
    #: The screen as the classifier saw it: rectified at :attr:`Classifier.fine_size`, grey
    #: uint8 (None when no screen was seen, e.g. it lies outside the frame). A look warps
    #: the frame once; motion and reading use this.
    screen: np.ndarray | None = attrs.field(default=None, eq=False, repr=False)

    @property
    def known(self) -> bool:
        return self.state != UNKNOWN

    def as_json(self) -> dict[str, object]:
        return {
            "state": self.state,
            "score": round(self.score, 4),
            "margin": round(self.margin, 4),
            "reference": self.reference,
            "shows": self.shows,
            "overlay": self.overlay,
            "runner_up": self.runner_up,
            **({"why": self.why} if self.why else {}),
        }


def unknown(why: str, score: float = 0.0, margin: float = 0.0,
            #: The best other state; for an unknown answer, the state that came closest.
    runner_up: str | None = None) -> Decision:
    return Decision(UNKNOWN, score, margin, runner_up=runner_up, why=why)


def _grey(image: np.ndarray) -> np.ndarray:
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    return image.astype(np.float32)


def _high_pass(grey: np.ndarray) -> np.ndarray:
    """Keeps strokes, edges and bands, drops light gradients (glare, vignetting): the
    image minus its local mean over about 1/13 of the width, taken on a small copy (fast)."""
    h, w = grey.shape
    small = cv2.resize(grey, (max(4, w // 8), max(4, h // 8)), interpolation=cv2.INTER_AREA)
    small = cv2.blur(small, (5, 5))
    return cv2.subtract(grey, cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR))


@attrs.frozen(eq=False)
class _Prepared:
    ref: Reference
    fine: np.ndarray  # high-passed grey at fine size
    flat: bool
    #: Grey at fine size, smoothed as :func:`spot_mask` compares (float32), and where the
    #: reference's masks lie (True: ignore).
    smooth: np.ndarray
    masked: np.ndarray
    #: The reference's mean colour (BGR): a blank one is told by it, on every dark look.
    colour: np.ndarray


#: What a classifier derives from its reference set and parameters alone (the prepared
#: references, the global pass's matrices, the references' patches kept as they are asked
#: for), shared by the classifiers of this process: the sets are shared too
#: (ReferenceSet.load), and deriving it took ~0.3 s a camera each time a bench was opened (a
#: test run opens the same cameras hundreds of times). Read-only once made, but for the
#: patch caches, which only ever gain entries. At most a bench's makers and its terminal
#: (each set's derivations are tens of MB).
_DERIVED: Kept[dict[str, object]] = Kept(8)
_DERIVED_ATTRS = ("_prepared", "_masks", "_mask_n", "_which", "_r", "_r_raw", "_ref_sd",
                  "_masks_of", "_radial", "_ref_stats", "_templates", "_blur_areas", "_brights")


class Classifier:
    """Recognises the reference states of one :class:`ReferenceSet`."""

    def __init__(self, references: ReferenceSet,
                 params: ClassifierParams | None = None) -> None:
        self.references = references
        self.params = params if params is not None else ClassifierParams()
        self.accept = self.params.accept
        width, height = references.size
        fine_width = self.params.fine_width
        self.fine_size = (fine_width, max(8, round(fine_width * height / width)))
        self.coarse_size = (self.fine_size[0] // 2, self.fine_size[1] // 2)
        for name, value in _DERIVED.get((references, self.params), self._derive).items():
            setattr(self, name, value)
        # The frame's side (the camera's calibration): each classifier its own.
        self._maps: dict[tuple[object, ...], tuple[np.ndarray, np.ndarray] | None] = {}
        self._map_bytes = 0

    # -- preparation -----------------------------------------------------------------------
    def _derive(self) -> dict[str, object]:
        """What :data:`_DERIVED` shares, made (read-only where it can be)."""
        self._prepared = [self._prepare(ref) for ref in self.references]
        self._build_matrices()
        self._radial: dict[tuple[object, ...], tuple[np.ndarray, object]] = {}
        self._ref_stats: dict[tuple[object, ...], tuple[np.ndarray, float, float]] = {}
        self._templates: dict[tuple[object, ...], _Template] = {}
        self._blur_areas: dict[tuple[object, ...], tuple[np.ndarray, int, int]] = {}
        self._brights: dict[tuple[object, ...], np.ndarray] = {}
        for array in (self._masks, self._mask_n, self._which, self._r, self._r_raw,
                      *(a for p in self._prepared for a in (p.fine, p.smooth, p.masked,
                                                            p.colour))):
            array.flags.writeable = False  # shared: nobody may write into it
        return {name: getattr(self, name) for name in _DERIVED_ATTRS}

    def _prepare(self, ref: Reference) -> _Prepared:
        image = cv2.resize(ref.image, self.fine_size, interpolation=cv2.INTER_AREA)
        fine = self.preprocess(image)
        # The mean colour from OpenCV's channel sums (exact integers, so the very numbers
        # numpy's mean gives, 50 times faster: numpy reduced a (N, 3) view in 15 ms).
        h, w = ref.image.shape[:2]
        colour = np.array(cv2.sumElems(ref.image)[:3]) / (h * w)
        return _Prepared(ref, fine, bool(fine.std() < self.params.flat_std),
                         _spot_smooth(_grey(image)), ref.masked(self.fine_size), colour)

    def preprocess(self, fine: np.ndarray) -> np.ndarray:
        """Rectified screen at fine size (BGR or grey) -> high-passed grey (float32)."""
        grey = cv2.cvtColor(fine, cv2.COLOR_BGR2GRAY) if fine.ndim == 3 else fine
        # Blurred while still 8-bit (faster), then high-passed in float.
        return _high_pass(cv2.GaussianBlur(grey, (0, 0), self.params.sigma).astype(np.float32))

    def _coarse(self, fine: np.ndarray) -> np.ndarray:
        return cv2.resize(fine, self.coarse_size, interpolation=cv2.INTER_AREA)

    def _build_matrices(self) -> None:
        masks: list[np.ndarray] = []
        which, centred, raw = [], [], []
        for prep in self._prepared:
            w = (~prep.ref.masked(self.coarse_size)).astype(np.float32).ravel()
            # References of one maker share few masks (the header clock): sums over the frame
            # are taken once per distinct mask.
            same = [k for k, known in enumerate(masks) if np.array_equal(known, w)]
            if not same:
                masks.append(w)
            which.append(same[0] if same else len(masks) - 1)
            r = self._coarse(prep.fine).ravel()
            raw.append(r)
            rc = w * (r - (w * r).sum() / w.sum())
            centred.append(rc / (float(np.sqrt((rc * rc).sum())) or 1.0))
        self._masks = np.stack(masks)
        self._mask_n = self._masks.sum(axis=1)
        self._which = np.array(which)
        self._r = np.stack(centred)
        self._r_raw = np.stack(raw)
        self._ref_sd = [float(p.fine.std()) or 1.0 for p in self._prepared]
        self._masks_of = [p.ref.regions_of("mask") for p in self._prepared]

    # -- classification -------------------------------------------------------------------
    def classify(self, screen: np.ndarray) -> Decision:
        """Classify a rectified screen (BGR, any size; regions are compared at the size
        given, up to the references' own)."""
        width, height = self.references.size
        fine_bgr = screen
        if screen.shape[1::-1] != self.fine_size:
            fine_bgr = cv2.resize(screen, self.fine_size, interpolation=cv2.INTER_AREA)
        scale = _quantise(screen.shape[1] / width)
        size = (round(width * scale), round(height * scale))
        if screen.shape[1::-1] != size:
            screen = cv2.resize(screen, size, interpolation=cv2.INTER_AREA)

        def patch(box: tuple[int, int, int, int]) -> np.ndarray:
            x, y, w, h = _scaled(box, scale)
            return screen[y : y + h, x : x + w]

        fine_grey = _grey(fine_bgr).astype(np.uint8)
        decision = self._classify(fine_grey, Patches(scale, patch, glare_mask(fine_grey)),
                                  lambda: np.median(fine_bgr.reshape(-1, 3), axis=0))
        return attrs.evolve(decision, screen=fine_grey)

    def classify_frame(self, frame: np.ndarray, calibration: Calibration, *,
                       thorough: bool = True) -> Decision:
        """Classify a camera frame: the screen rectified at the fine size for the global
        pass, and each region warped straight from the frame for the confirm pass, at the
        resolution the camera gives it (up to the references' own). ``thorough=False``
        skips matching the camera's blur (a quick look, to rank places the screen may be)."""
        # Everything below works on the grey screen area of the frame: converting only that
        # area, once, costs less than warping three channels everywhere.
        quad = calibration.quad
        height, width = frame.shape[:2]
        x0, y0, x1, y1 = screen_box(quad, width, height)
        inside = inside_fraction(quad, width, height)
        if inside < 0.95 or x1 - x0 < 8 or y1 - y0 < 8:
            return unknown(f"only {100 * inside:.0f} % of the calibrated screen lies in this "
                           "frame")
        grey = cv2.cvtColor(frame[y0:y1, x0:x1], cv2.COLOR_BGR2GRAY)
        from_area = np.array([[1, 0, x0], [0, 1, y0], [0, 0, 1]], np.float64)
        # A bench camera's calibration stays: the warps' pixel maps are made once for it.
        where = (quad.tobytes(), x0, y0, width, height)
        fine_grey = self._warp(grey, (*where, "fine"),
                               lambda: calibration.homography(self.fine_size) @ from_area,
                               self.fine_size)
        seen = (np.linalg.norm(quad[1] - quad[0]) + np.linalg.norm(quad[2] - quad[3])) / 2
        scale = _quantise(seen / self.references.size[0])

        # A calibration seen again (the fine warp has its maps): one map of the whole screen
        # at the regions' scale, which every region's patch is a slice of.
        screen = self._screen_maps(where, scale, lambda: np.diag([scale, scale, 1.0])
                                   @ calibration.homography(self.references.size) @ from_area)

        def patch(box: tuple[int, int, int, int]) -> np.ndarray:
            x, y, w, h = _scaled(box, scale)
            if screen is not None and y + h <= screen[1].shape[0] and x + w <= screen[1].shape[1]:
                return cv2.remap(grey, screen[0][y : y + h, x : x + w],
                                 screen[1][y : y + h, x : x + w], cv2.INTER_LINEAR,
                                 borderMode=cv2.BORDER_REPLICATE)
            to_patch = np.array([[scale, 0, -x], [0, scale, -y], [0, 0, 1]], np.float64)
            return self._warp(grey, (*where, box, scale), lambda: to_patch @ calibration.homography(
                self.references.size) @ from_area, (w, h))

        def colour() -> np.ndarray:
            # The median: a lamp's spot on a dark panel lifts the mean.
            small = calibration.rectify(frame, (64, 38))
            return np.median(small.reshape(-1, 3), axis=0)

        decision = self._classify(fine_grey, Patches(scale, patch, glare_mask(fine_grey)),
                                  colour, thorough)
        return attrs.evolve(decision, screen=fine_grey)

    def _screen_maps(self, where: tuple[object, ...], scale: float,
                     matrix: Callable[[], np.ndarray]) -> tuple[np.ndarray, np.ndarray] | None:
        """The pixel maps of the whole screen at ``scale`` for a calibration already seen
        (None for a quad seen once: most a search tries)."""
        key = (*where, "screen", scale)
        if key not in self._maps:
            if self._maps.get((*where, "fine")) is None:
                return None
            width, height = self.references.size
            # A pixel more than any region's rounded box can reach.
            return self._keep_maps(key, _pixel_maps(matrix(), (round(width * scale) + 1,
                                                               round(height * scale) + 1)))
        return self._maps[key]

    def _keep_maps(self, key: tuple[object, ...], maps: tuple[np.ndarray, np.ndarray] | None
                   ) -> tuple[np.ndarray, np.ndarray] | None:
        """Keeps ``maps`` for ``key`` (None: seen once), within a few cameras' worth."""
        size = 0 if maps is None else maps[0].nbytes + maps[1].nbytes
        if len(self._maps) >= WARP_MAPS or self._map_bytes + size > WARP_MAP_BYTES:
            self._maps.clear()  # another camera, or a calibration found anew
            self._map_bytes = 0
        self._maps[key] = maps
        self._map_bytes += size
        return maps

    def _warp(self, grey: np.ndarray, key: tuple[object, ...],
              matrix: Callable[[], np.ndarray], size: tuple[int, int]) -> np.ndarray:
        """``grey`` warped by ``matrix()`` to ``size``, through pixel maps kept per ``key``
        (a remap with ready maps costs a third of a perspective warp)."""
        maps = self._maps.get(key)
        if maps is None and key not in self._maps:
            # The first time: a plain warp (most quads a search tries are seen once).
            self._keep_maps(key, None)
            return cv2.warpPerspective(grey, matrix(), size, flags=cv2.INTER_LINEAR,
                                       borderMode=cv2.BORDER_REPLICATE)
        if maps is None:
            maps = self._keep_maps(key, _pixel_maps(matrix(), size))
        return cv2.remap(grey, maps[0], maps[1], cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_REPLICATE)

    def _classify(self, fine_image: np.ndarray, patch: Patches,
                  colour: Callable[[], np.ndarray], thorough: bool = True) -> Decision:
        """``fine_image``: the screen at the fine size, BGR or grey; ``colour``: its mean
        colour (BGR), asked only for a blank screen."""
        fine = self.preprocess(fine_image)
        frame_sd = float(cv2.meanStdDev(fine)[1][0, 0])  # in double, in one pass
        decision = self._classify_content(fine, frame_sd, patch, thorough, fine_image)
        # A blank panel, unless faint content was recognised (a sparse dark page).
        if not decision.known and self._looks_blank(fine_image, frame_sd):
            return self._classify_flat(colour())
        return decision

    def _looks_blank(self, fine_image: np.ndarray, frame_sd: float) -> bool:
        """A screen with next to no contrast; on a desk, a dark panel also shows a lamp's
        spot and moiré bands: the contrast is then taken without the spot, a little
        smoothed (the bands are fine, a panel's text is not)."""
        flat_std = self.params.flat_std
        if frame_sd < flat_std:
            return True
        flats = [p for p in self._prepared if p.flat]
        if frame_sd >= BLANK_SPOTTED * flat_std or not flats:
            return False
        grey = _grey(fine_image).astype(np.uint8)
        spot = spot_mask(grey, flats[0].smooth, flats[0].masked)
        if spot is None:
            return False
        fine = self.preprocess(cv2.GaussianBlur(grey, (0, 0), 1.0))
        return float(fine[~spot].std()) < flat_std

    def _classify_content(self, fine: np.ndarray, frame_sd: float, patch: Patches,
                          thorough: bool = True, fine_image: np.ndarray | None = None
                          ) -> Decision:
        if frame_sd <= 1e-3:
            return unknown("the screen is uniform")
        f = self._coarse(fine).ravel()
        ncc = self._global_ncc(f)
        ranked = self._ranked(ncc)
        if not ranked:
            return unknown("no reference with content")
        decision = self._confirm_blurred(ranked, ncc, frame_sd, patch, thorough)
        if (decision.known or not thorough or frame_sd < self.params.flat_std
                or fine_image is None):
            return decision
        # A lamp's hot spot where it does not clip (over a button) or with text in it: found
        # against the best reference, then hidden for every reference alike (what it hides
        # is no evidence either way, and near duplicates differing there are not told apart).
        prep = self._prepared[ranked[0]]
        spot = spot_mask(_grey(fine_image), prep.smooth, prep.masked)
        if spot is None:
            return decision
        glare = spot if patch.glare is None else spot | patch.glare
        # The global pass again without the spot: on a sparse page it outweighs the text.
        seen = cv2.resize((~glare).astype(np.float32), self.coarse_size,
                          interpolation=cv2.INTER_AREA).ravel() > 0.99
        weights = self._masks[self._which] * seen
        n = np.maximum(weights.sum(axis=1), 1.0)
        r_c = weights * (self._r_raw - ((weights * self._r_raw).sum(axis=1) / n)[:, None])
        f_c = weights * (f - ((weights * f).sum(axis=1) / n)[:, None])
        ncc = (r_c * f_c).sum(axis=1) / np.sqrt(np.maximum(
            (r_c * r_c).sum(axis=1) * (f_c * f_c).sum(axis=1), 1e-12))
        again = self._confirm_blurred(self._ranked(ncc), ncc, frame_sd,
                                      attrs.evolve(patch, glare=glare), thorough)
        return again if again.known or again.score > decision.score else decision

    def _confirm_blurred(self, ranked: list[int], ncc: np.ndarray, frame_sd: float,
                         patch: Patches, thorough: bool) -> Decision:
        decision = self._confirm(ranked, ncc, frame_sd, patch, None)
        # A blank panel (answered by its colour) has no blur to match.
        if (decision.known or not self.params.blur_bank or not thorough
                or frame_sd < self.params.flat_std):
            return decision
        # A camera blurred more than the references ever are (defocus, a shaking hand):
        # blur the references as this frame is blurred and look again. The blur is chosen
        # once per frame, on the state that scores best globally, from a few candidates;
        # then every state is judged through that one blur, by the same rule (the same
        # threshold, a positive margin): a blurred button is still not a blank area, so near
        # duplicates stay apart.
        top = ranked[0]
        frame_stats: dict[tuple[object, ...], tuple[np.ndarray, float, float]] = {}
        regions = self._confirm_regions(top)
        kernel = max(range(len(_BLUR_BANK)), key=lambda k: self._regions_score(
            patch, frame_sd, top, regions, float(ncc[top]), frame_stats, k))
        blurred = self._confirm(ranked, ncc, frame_sd, patch, kernel)
        return blurred if blurred.known or blurred.score > decision.score else decision

    def closest(self, screen: np.ndarray, count: int = 1) -> list[str]:
        """The references (names) with content that a rectified screen (BGR or grey, any
        size) looks most like by the global pass alone, best first."""
        if screen.shape[1::-1] != self.fine_size:
            screen = cv2.resize(screen, self.fine_size, interpolation=cv2.INTER_AREA)
        ncc = self._global_ncc(self._coarse(self.preprocess(screen)).ravel())
        order = [i for i in np.argsort(-ncc) if not self._prepared[i].flat]
        return [self._prepared[i].ref.name for i in order[:count]]

    def _global_ncc(self, f: np.ndarray) -> np.ndarray:
        """Every reference's correlation with the coarse screen ``f`` (raveled), each over
        its own unmasked pixels."""
        # Sums of products by numpy's own loops (einsum): no temporary the size of every
        # reference, and no BLAS, which would spread over every core.
        s1 = np.einsum("ij,j->i", self._masks, f)
        s2 = np.einsum("ij,j->i", self._masks, f * f)
        var = np.maximum(s2 - s1 * s1 / self._mask_n, 1e-6)[self._which]
        return np.einsum("ij,j->i", self._r, f) / np.sqrt(var)

    def _ranked(self, ncc: np.ndarray) -> list[int]:
        """The best reference of each state with content, best first."""
        best: dict[str, int] = {}
        for i, prep in enumerate(self._prepared):
            if prep.flat:
                continue
            state = prep.ref.state
            if state not in best or ncc[i] > ncc[best[state]]:
                best[state] = i
        return sorted(best.values(), key=lambda i: -ncc[i])

    def _confirm_regions(self, i: int) -> list[Region]:
        return [r for r in self._prepared[i].ref.regions if r.kind in ("match", "spinner")]

    def _confirm(self, ranked: list[int], ncc: np.ndarray, frame_sd: float, patch: Patches,
                 kernel: int | None) -> Decision:
        # Confirm the best few; then any other whose global score (an upper bound of its
        # final score) could still beat the runner-up, up to a limit: past it the margin
        # is a lower bound (it takes the next global score as the runner-up's).
        candidates, max_confirm = self.params.candidates, self.params.max_confirm
        regions = [r for i in ranked[:candidates] for r in self._confirm_regions(i)]
        scored: list[tuple[float, int]] = []
        frame_stats: dict[tuple[object, ...], tuple[np.ndarray, float, float]] = {}
        for k, i in enumerate(ranked):
            if k >= candidates:
                best_score, second_score = sorted(scored)[-1][0], sorted(scored)[-2][0]
                if ncc[i] <= second_score or (k >= max_confirm and ncc[i] <= best_score):
                    break
            if k >= candidates:
                regions += self._confirm_regions(i)
            region_score = self._regions_score(patch, frame_sd, i, regions, float(ncc[i]),
                                               frame_stats, kernel)
            scored.append((min(float(ncc[i]), region_score), i))
        unconfirmed = [float(ncc[i]) for i in ranked[len(scored):]]
        rest = max(unconfirmed, default=-1.0)
        scored.sort(key=lambda x: -x[0])
        top_score, top = scored[0]
        second = max(scored[1][0] if len(scored) > 1 else -1.0, rest)
        runner_up = self._prepared[scored[1][1]].ref.state if len(scored) > 1 else None
        scores = {self._prepared[i].ref.state: round(s, 4) for s, i in scored}
        if top_score < self.accept:
            at_most = {self._prepared[i].ref.state: round(float(ncc[i]), 4)
                       for i in ranked[len(scored):]}
            return Decision(
                UNKNOWN, top_score, top_score - second, runner_up=self._prepared[top].ref.state,
                scores=scores, at_most=at_most,
                why=f"no reference scores {self.accept:g} or more "
                    f"(best {self._prepared[top].ref.name}: {top_score:.2f})",
            )
        ref = self._prepared[top].ref
        if top_score - second <= 0:
            return Decision(UNKNOWN, top_score, 0.0, runner_up=ref.state, scores=scores,
                            why=f"{ref.name} and another state score alike ({top_score:.2f})")
        # Where a hot spot hides the screen, nothing is seen: if that is where the winner and
        # a rival differ (the button of first@staff, a loading circle), nothing seen tells
        # them apart. Rivals: every reference whose global score (an upper bound of its
        # final one) comes near the winner's, of any state, its own included.
        rival = self._hidden_rival(top, top_score, ncc, frame_sd, patch, frame_stats, kernel)
        if rival is not None:
            return Decision(UNKNOWN, top_score, top_score - second, runner_up=ref.state,
                            scores=scores,
                            why=f"a glare hides where {ref.name} and {rival} differ")
        return Decision(ref.state, top_score, top_score - second, ref.name, ref.shows,
                        ref.overlay, runner_up, scores)

    def _hidden_rival(self, top: int, top_score: float, ncc: np.ndarray, frame_sd: float,
                      patch: Patches,
                      frame_stats: dict[tuple[object, ...], tuple[np.ndarray, float, float]],
                      kernel: int | None) -> str | None:
        """A reference that scores about as well as the winner on what is seen and differs
        from it where a hot spot hides the screen."""
        if patch.glare is None:
            return None
        ref = self._prepared[top].ref
        for j, prep in enumerate(self._prepared):
            if j == top or prep.flat or ncc[j] < top_score - RIVAL_GAP:
                continue
            regions = (*self._confirm_regions(top), *self._confirm_regions(j))
            if not self._hides_difference(ref, prep.ref, regions, patch):
                continue
            seen = self._regions_score(patch, frame_sd, j, regions, float(ncc[j]), frame_stats,
                                       kernel)
            if min(float(ncc[j]), seen) >= top_score - RIVAL_GAP:
                return prep.ref.name
        return None

    def _hides_difference(self, ref: Reference, other: Reference, regions: Sequence[Region],
                          patch: Patches) -> bool:
        for region in regions:
            hidden = self._hidden(patch, region)
            if hidden is None or not self._differ(ref, other, region.box):
                continue
            # Only what was not white in both: a white area clipped lost nothing.
            bright = self._bright(ref, region.box, patch.scale) & self._bright(
                other, region.box, patch.scale)
            if bright.size == hidden.size and (hidden & ~bright).mean() > 0.05:
                return True
        return False

    def _bright(self, ref: Reference, box: tuple[int, int, int, int], scale: float
                ) -> np.ndarray:
        key = (ref.name, box, scale)
        if key not in self._brights:  # a glare over a region is asked about on every look
            x, y, w, h = box
            grey = _grey(ref.image[y : y + h, x : x + w])
            if scale != 1.0:
                grey = cv2.resize(grey, _scaled(box, scale)[2:], interpolation=cv2.INTER_AREA)
            self._brights[key] = grey.ravel() >= 200
        return self._brights[key]

    def _differ(self, a: Reference, b: Reference, box: tuple[int, int, int, int]) -> bool:
        x, y, w, h = box
        return not np.array_equal(a.image[y : y + h, x : x + w], b.image[y : y + h, x : x + w])

    def _classify_flat(self, colour: np.ndarray) -> Decision:
        """A blank panel: the blank reference of about the same colour (a switched-off
        screen is a neutral dark grey through a camera; a dark navy page with little on it
        is not switched off, nor is a blank white one)."""
        flats = [(float(np.abs(colour - p.colour).max()), p) for p in self._prepared if p.flat]
        # ... and of its hue: a dim camera brings a lit navy page within flat_level of a black
        # panel, but a switched-off panel stays grey (blue less red about 20 against 0).
        flats = [(d, p) for d, p in flats if d <= self.params.flat_level
                 and _hue_distance(colour, p.colour) <= FLAT_HUE]
        if not flats:
            level = ", ".join(f"{c:.0f}" for c in colour)
            return attrs.evolve(unknown(f"a blank screen (colour {level}) unlike any blank "
                                        "reference"), blank=True)
        distance, best = min(flats, key=lambda x: x[0])
        ref = best.ref
        score = 1.0 - 0.1 * distance / self.params.flat_level
        return Decision(ref.state, score, score, ref.name, ref.shows, ref.overlay, None,
                        {ref.state: round(score, 4)}, blank=True)

    # -- a region anywhere on the screen ------------------------------------------------------
    def find_region(self, screen: np.ndarray, reference: str, region: str | Region) -> float:
        """How well a reference's region (by name, ``code`` for its error code, or one of
        its regions) shows anywhere on a rectified screen (BGR or grey, fastest at
        :attr:`fine_size`), not only where the reference has it: the best correlation over
        a band of the screen around the reference's place, confirmed piece by piece (about
        a glyph each) where it was found. Compare with :attr:`accept`.

        Made for text (an error code): the whole region's correlation alone takes 【901】
        for 【906】 (the brackets and two digits of five agree); the weakest piece tells
        them apart. Buttons of one shape with other labels come closer (up to about 0.77
        through the camera): a button is the confirm pass's business."""
        ref = self.references.get(reference)
        box = (region if isinstance(region, Region) else ref.region(region)).box
        width = ref.image.shape[1]
        if screen.shape[1] > width:  # no finer than the reference itself
            screen = cv2.resize(screen, ref.image.shape[1::-1], interpolation=cv2.INTER_AREA)
        size = screen.shape[1::-1]
        template = self._template(ref, box, size)
        th, tw = template.values.shape
        if tw > size[0] or th > size[1]:
            return 0.0
        scale = size[0] / width
        band = int(self.params.search_band * size[1])
        top = max(0, int(box[1] * scale) - band)
        bottom = min(size[1], int((box[1] + box[3]) * scale) + band)
        if bottom - top < th:  # a screen too small for a band: all of it
            top, bottom = 0, size[1]
        area = self._search_values(screen[top:bottom])
        _, best, _, (x, y) = cv2.minMaxLoc(correlation_map(area, template.whole,
                                                            self.params.blank_sd))
        return min(float(best), _pieces_score(area, template, x, y, self.params))

    def _search_values(self, image: np.ndarray) -> np.ndarray:
        """The confirm pass's view of pixels (grey, lightly blurred), less the light's
        gradients (the confirm pass takes out a plane per region; a piece of a button, its
        border and a flat face, would otherwise correlate with the glare across it)."""
        grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
        # Blurred while still 8-bit (faster), as preprocess() does.
        return _high_pass(cv2.GaussianBlur(grey, (0, 0), self.params.region_sigma).astype(np.float32))

    def _template(self, ref: Reference, box: tuple[int, int, int, int],
                  size: tuple[int, int]) -> _Template:
        key = (ref.name, box, size)
        if key not in self._templates:
            # Cut from the whole reference at the screen's size, so that it is sampled as the
            # screen is (a patch resized on its own comes out up to a pixel apart).
            image = ref.image
            if image.shape[1::-1] != size:
                image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
            x, y, w, h = _scaled(box, size[0] / ref.image.shape[1])
            values = self._search_values(image)[y : y + h, x : x + w]
            self._templates[key] = _Template.of(values, self.params.piece)
        return self._templates[key]

    # -- the confirm pass --------------------------------------------------------------------
    def _regions_score(self, patch: Patches, frame_sd: float, i: int,
                       regions: Sequence[Region], ncc: float,
                       frame_stats: dict[tuple[object, ...], tuple[np.ndarray, float, float]],
                       kernel: int | None = None) -> float:
        prep = self._prepared[i]
        ref_sd = self._ref_sd[i]
        masks = self._masks_of[i]
        # The gain that maps the reference's contrast onto the frame's, from the whole screen.
        gain = ncc * frame_sd / ref_sd
        if gain <= 0:
            return 0.0
        worst = 1.0
        for region in regions:
            if any(_overlaps(region, m) for m in masks):
                continue
            key = (region.kind, region.box)
            if key not in frame_stats:
                frame_stats[key] = self._frame_region(patch, region)
            f, f_mean, f_var, keep = frame_stats[key]
            if f.size < 4:
                continue  # too small, or under a hot spot: says nothing either way
            ref_key = (i, *key, patch.scale, kernel)
            if ref_key not in self._ref_stats:
                x, y, w, h = region.box
                if kernel is None:
                    # Grey first (a linear map): one channel to resize.
                    ref_patch = _grey(prep.ref.image[y : y + h, x : x + w])
                    if patch.scale != 1.0:
                        ref_patch = cv2.resize(ref_patch, _scaled(region.box, patch.scale)[2:],
                                               interpolation=cv2.INTER_AREA)
                else:
                    ref_patch = self._blurred_patch(prep.ref, region.box, patch.scale, kernel)
                self._ref_stats[ref_key] = _stats(self._region_values(ref_patch, region))
            r, r_mean, r_var = self._ref_stats[ref_key]
            if keep is not None:
                if r.size != keep.size:
                    continue
                r, r_mean, r_var = _stats(r[keep])
            if r.size != f.size:
                continue
            cov = float(np.dot(f, r)) / f.size - f_mean * r_mean
            r_sd = math.sqrt(max(r_var, 0.0))
            # Mean square of (f - gain * r) once both are centred, relative to what the
            # region holds (or, for a blank region, to the screen), on the scale of a
            # correlation: a blank area must stay blank, faint content must match.
            residual = max(f_var + gain * gain * r_var - 2.0 * gain * cov, 0.0)
            # A desk's moiré and sensor noise leave a few grey levels in any area: that much
            # is no content (a button's edge or a line of text is tens of levels).
            residual = max(0.0, residual - self.params.residual_floor ** 2)
            scale = gain * max(r_sd, 0.5 * ref_sd)
            score = 1.0 - 0.5 * residual / (scale * scale)
            if r_sd >= 0.25 * ref_sd:
                # Words, a button: correlation within the region also holds when the camera
                # loses contrast at this scale; different words of one length do not pass.
                score = max(score, cov / max(r_sd * math.sqrt(max(f_var, 1e-6)), 1e-6))
            worst = min(worst, max(-1.0, score))
        return worst

    def _frame_region(self, patch: Patches, region: Region
                      ) -> tuple[np.ndarray, float, float, np.ndarray | None]:
        """A region's frame values and their mean and variance, less what a hot spot hides
        (``keep``: the pixels left, None for all). A region mostly under one gives nothing
        (size 0): it is then neither evidence for a state nor against it."""
        pixels = patch.get(region.box)
        hidden = self._hidden(patch, region)
        if hidden is None:
            return (*_stats(self._region_values(pixels, region)), None)
        if (region.kind == "spinner" or hidden.mean() > 0.5
                or hidden.size != pixels.shape[0] * pixels.shape[1]):
            return (*_stats(np.zeros(0, np.float32)), np.zeros(0, bool))
        keep = ~hidden
        # The light's plane from what is seen: the spot's own slope is no plane of the page.
        values = self._region_values(pixels, region, keep)
        return (*_stats(values[keep]), keep)

    def _hidden(self, patch: Patches, region: Region) -> np.ndarray | None:
        """The region's pixels (patch resolution, raveled) under a hot spot, or None."""
        if patch.glare is None:
            return None
        fw, fh = self.fine_size
        s = fw / self.references.size[0]
        x, y, w, h = region.box
        x0, y0 = int(x * s), int(y * s)
        x1, y1 = max(x0 + 1, int(np.ceil((x + w) * s))), max(y0 + 1, int(np.ceil((y + h) * s)))
        part = patch.glare[y0:min(fh, y1), x0:min(fw, x1)]
        if not part.any():
            return None
        size = _scaled(region.box, patch.scale)[2:]
        return cv2.resize(part.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST
                          ).ravel() > 0

    def _blurred_patch(self, ref: Reference, box: tuple[int, int, int, int], scale: float,
                       kernel: int) -> np.ndarray:
        """A reference's region as a camera with blur ``kernel`` (patch pixels, about the
        frame's) would show it: blurred with the margin around it, then trimmed, so that what
        lies just outside the region bleeds in as it does in the frame."""
        area, ox, oy = self._blur_area(ref, box, scale)
        area = cv2.filter2D(area, -1, _BLUR_BANK[kernel], borderType=cv2.BORDER_REPLICATE)
        _, _, w, h = _scaled(box, scale)
        return _crop(area, ox, oy, w, h)

    def _blur_area(self, ref: Reference, box: tuple[int, int, int, int], scale: float
                   ) -> tuple[np.ndarray, int, int]:
        """The grey (float) reference around a region, at the patch's scale, with a margin
        for the widest blur of the bank, and where the region starts in it: made once for
        every blur the region is matched through (the kernel is chosen from 15)."""
        key = (ref.name, box, scale)
        if key not in self._blur_areas:
            pad = _BLUR_PAD
            bx, by, bw, bh = box
            img_h, img_w = ref.image.shape[:2]
            m = int(np.ceil(pad / scale))
            x0, y0 = max(0, bx - m), max(0, by - m)
            x1, y1 = min(img_w, bx + bw + m), min(img_h, by + bh + m)
            # Grey first (a linear map, as the blur is): one channel to resize and blur.
            area = _grey(ref.image[y0:y1, x0:x1])
            if scale != 1.0:
                area = cv2.resize(area, (max(2, round((x1 - x0) * scale)),
                                         max(2, round((y1 - y0) * scale))),
                                  interpolation=cv2.INTER_AREA)
            x, y, _, _ = _scaled(box, scale)
            self._blur_areas[key] = (area, x - int(round(x0 * scale)),
                                     y - int(round(y0 * scale)))
        return self._blur_areas[key]

    def _region_values(self, bgr: np.ndarray, region: Region,
                       keep: np.ndarray | None = None) -> np.ndarray:
        """A region at full resolution, grey and lightly blurred (camera blur and JPEG
        differ from the drawn reference by about a pixel); ``keep``: the pixels (raveled)
        the light's plane is fitted on (None: all)."""
        grey = cv2.GaussianBlur(_grey(bgr), (0, 0), self.params.region_sigma)
        if region.kind != "spinner":
            # Less its best plane: a glare's gradient across a blank area is not content.
            grey -= self._plane(grey) if keep is None else _plane_on(grey, keep)
        if region.kind == "spinner":
            return self._radial_profile(grey)
        return grey.ravel()

    def _plane(self, patch: np.ndarray) -> np.ndarray:
        """The least-squares plane through a patch: its pseudo-inverse is kept per size
        (numpy's own loops: BLAS would spread these small products over every core)."""
        h, w = patch.shape
        key = ("plane", w, h)
        if key not in self._radial:
            basis = _plane_basis(h, w)
            solve = _pseudo_inverse(basis.reshape(3, -1).astype(np.float64)).astype(np.float32)
            self._radial[key] = (basis, solve.reshape(3, h, w))
        basis, solve = self._radial[key]
        c, cx, cy = np.einsum("kij,ij->k", solve, patch)
        # The plane from its row of x and column of y: one pass over the patch, not three.
        return (c + cx * basis[1, :1, :]) + cy * basis[2, :, :1]

    def _radial_profile(self, patch: np.ndarray) -> np.ndarray:
        """Mean of each ring around the patch's centre: the same at any angle of a turning
        circle."""
        h, w = patch.shape
        key = (w, h)
        if key not in self._radial:
            yy, xx = np.mgrid[0:h, 0:w]
            radius = np.hypot(xx - (w - 1) / 2, yy - (h - 1) / 2)
            bins = np.minimum((radius / (min(w, h) / 2) * 16).astype(np.int32), 16)
            self._radial[key] = (bins.ravel(), 17)
        bins, n = self._radial[key]
        sums = np.bincount(bins, weights=patch.ravel(), minlength=n)
        counts = np.maximum(np.bincount(bins, minlength=n), 1)
        return (sums / counts)[:16].astype(np.float32)


#: A rival scoring this close to the winner on what is seen, and differing from it only
#: where a hot spot hides the screen, is not told apart (near duplicates that differ in the
#: hidden part score alike on the rest; a true winner beats its near duplicates by more).
RIVAL_GAP = 0.02


#: Warp maps kept (per calibration and region: a few cameras' worth), and their bytes (a
#: calibration's map of the whole screen takes up to 6 MB).
WARP_MAPS = 1024
WARP_MAP_BYTES = 128 << 20

#: A screen whose contrast is below this many times ClassifierParams.flat_std may still be a
#: dark panel under a lamp's spot (which alone lifts the contrast to about 5).
BLANK_SPOTTED = 2.0


#: Grey levels by which a blank screen's channel differences (blue less green, green less
#: red) may differ from its blank reference's: white balance drift on a dark panel.
FLAT_HUE = 8.0


def _hue_distance(a: np.ndarray, b: np.ndarray) -> float:
    da, db = np.diff(np.asarray(a, float)), np.diff(np.asarray(b, float))
    return float(np.abs(da - db).max())


def glare_mask(fine_grey: np.ndarray) -> np.ndarray | None:
    """Where a lamp's hot spot hides a rectified screen (grey uint8): small, round saturated
    patches, grown over their halo. A screen whose white clipped everywhere (a high gain),
    or a clipped white button, is no hot spot: that clipping follows the content."""
    h, w = fine_grey.shape
    saturated = (fine_grey >= 245).astype(np.uint8)
    if not saturated.any():
        return None
    # Labelled within the clipped pixels' bounding box (a spot's, most often: labelling the
    # whole screen costs several times more), at ``(bx, by)`` in the screen.
    bx, by, sw, sh = cv2.boundingRect(saturated)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(
        saturated[by : by + sh, bx : bx + sw], connectivity=8)
    area, bw, bh = (stats[1:, c] for c in (cv2.CC_STAT_AREA, cv2.CC_STAT_WIDTH,
                                           cv2.CC_STAT_HEIGHT))
    # A lamp's image is an ellipse (round, seen at an angle) without holes; a white button
    # (a rectangle, its label a hole) or a clipped page is not.
    fill = area / (bw * bh)
    candidates = 1 + np.flatnonzero((area >= 12) & (area <= 0.03 * h * w)
                                    & (np.maximum(bw, bh) <= 3 * np.minimum(bw, bh))
                                    & (fill >= 0.5) & (fill <= 0.9))
    mask = np.zeros((h, w), np.uint8)
    for k in candidates:
        area = stats[k, cv2.CC_STAT_AREA]
        x, y, bw, bh = stats[k, :4]
        points = cv2.findNonZero((labels[y : y + bh, x : x + bw] == k).astype(np.uint8))
        if area < 0.93 * cv2.contourArea(cv2.convexHull(points)):
            continue
        grow = int(3 + 1.0 * np.sqrt(area / np.pi))  # over its halo
        x, y = x + bx, y + by
        x0, y0 = max(0, x - grow), max(0, y - grow)
        x1, y1 = min(w, x + bw + grow), min(h, y + bh + grow)
        blob = np.zeros((y1 - y0, x1 - x0), np.uint8)
        blob[y - y0 : y - y0 + bh, x - x0 : x - x0 + bw] = \
            labels[y - by : y - by + bh, x - bx : x - bx + bw] == k
        disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1))
        grown = cv2.dilate(blob, disk)
        # A spot fades into its surroundings; a clipped white button ends at its border.
        ring = cv2.dilate(blob, np.ones((5, 5), np.uint8)) & ~blob.astype(bool)
        if fine_grey[y0:y1, x0:x1][ring > 0].mean() < 215:
            continue
        mask[y0:y1, x0:x1] |= grown
    return mask > 0 if mask.any() else None


#: Smoothing (fine pixels) before a frame is compared with a reference for hot spots: text
#: strokes, camera blur and a pixel of misregistration average out, a lamp's spot does not.
SPOT_SIGMA = 3.0
#: A hot spot adds at least this much light (grey levels) at its peak over what the best
#: reference explains...
SPOT_PEAK = 22.0
#: ... and is round: the part above SPOT_CORE of its peak fills an ellipse (a disc seen at
#: an angle), not a rectangle (a button missing from the frame leaves a rectangle of light).
SPOT_CORE = 0.4
SPOT_FILL = (0.6, 0.94)
SPOT_ASPECT = 2.2
#: Largest share of the screen one spot's core may cover, and how far past the core the
#: halo is masked (times the core's radii).
SPOT_AREA = 0.05
SPOT_GROW = 1.9
#: Around a spot, the excess may fall below the reference by this share of the peak in
#: at most a few pixels (light only adds), and the reference may explain at most this
#: share of its variance (R^2): a spot's shape owes nothing to the page's.
SPOT_DARK = 0.25
SPOT_EXPLAINED = 0.5
#: Smoothed by this much more (fine pixels), a spot keeps this share of its peak or more
#: (the smallest spot, sigma 1.5 % of the width, keeps about 0.85).
SPOT_BROAD_SIGMA = 5.2
SPOT_BROAD = 0.72


def _spot_smooth(grey: np.ndarray) -> np.ndarray:
    return cv2.GaussianBlur(grey.astype(np.float32), (0, 0), SPOT_SIGMA)


def spot_mask(fine_grey: np.ndarray, reference: np.ndarray, ignore: np.ndarray,
              spots: int = 2) -> np.ndarray | None:
    """Where a lamp's hot spot lies on a rectified screen (grey, fine size), found as light
    the reference (smoothed by :func:`_spot_smooth`) does not explain: the frame fitted as
    gain x reference + a plane (exposure, vignetting, soft glare), the rest smoothed; a
    round bump of SPOT_PEAK or more is a spot, masked with its halo. Unlike
    :func:`glare_mask` it finds spots that do not clip (over a blue button) and spots
    with text in them. ``ignore``: the reference's masks (a clock)."""
    frame = _spot_smooth(fine_grey)
    h, w = frame.shape
    yy, xx = np.mgrid[0:h:2, 0:w:2].astype(np.float32)
    f, r, keep = frame[::2, ::2], reference[::2, ::2], ~ignore[::2, ::2]
    basis = np.stack([r, np.ones_like(r), xx / w, yy / h], axis=-1)
    use = keep
    coeffs = None
    for _ in range(3):  # the spot itself is left out of the fit once it shows
        if use.sum() < 100:
            return None
        coeffs, *_ = np.linalg.lstsq(basis[use].astype(np.float64), f[use].astype(np.float64),
                                     rcond=None)
        residual = f - basis @ coeffs.astype(np.float32)
        spread = float(np.median(np.abs(residual[keep]))) + 1.0
        use = keep & (np.abs(residual) < max(6.0, 4.0 * spread))
    assert coeffs is not None
    gy, gx = np.mgrid[0:h, 0:w].astype(np.float32)
    fitted = (coeffs[0] * reference + coeffs[1] + coeffs[2] * gx / w + coeffs[3] * gy / h)
    excess = frame - fitted.astype(np.float32)
    excess[ignore] = 0.0
    broad = cv2.GaussianBlur(excess, (0, 0), SPOT_BROAD_SIGMA)
    mask = np.zeros((h, w), np.uint8)
    for _ in range(spots):
        _, peak, _, (px, py) = cv2.minMaxLoc(np.where(mask > 0, 0.0, excess))
        if peak < SPOT_PEAK:
            break
        core = (excess >= SPOT_CORE * peak).astype(np.uint8)
        _, labels, stats, _ = cv2.connectedComponentsWithStats(core, connectivity=8)
        k = labels[py, px]
        x, y, bw, bh, area = stats[k]
        blob = (labels == k).astype(np.uint8)
        points = cv2.findNonZero(blob)
        if (area < 12 or area > SPOT_AREA * h * w or max(bw, bh) > SPOT_ASPECT * min(bw, bh)
                or not SPOT_FILL[0] <= area / (bw * bh) <= SPOT_FILL[1]
                or area < 0.9 * cv2.contourArea(cv2.convexHull(points)) or len(points) < 5):
            break
        # Broad: a lamp's spot keeps most of its peak when smoothed further; a cluster of
        # strokes one text has and another lacks does not.
        if float(broad[labels == k].max()) < SPOT_BROAD * peak:
            break
        (cx, cy), (ew, eh), angle = cv2.fitEllipse(points)
        spot = np.zeros((h, w), np.uint8)
        cv2.ellipse(spot, ((cx, cy), (SPOT_GROW * ew + 4, SPOT_GROW * eh + 4), angle), 1, -1)
        if not _light_only(excess, reference, (spot > 0) & (fine_grey < 250), peak):
            break
        mask |= spot
    return mask > 0 if mask.any() else None


def _light_only(excess: np.ndarray, reference: np.ndarray, where: np.ndarray,
                peak: float) -> bool:
    """Whether the excess over the reference ``where`` (unclipped pixels about a spot) is
    light added by a lamp rather than content the reference has and the frame lacks (a
    wider button, another label): light only adds, and its shape owes nothing to the
    reference's, while a content difference follows the reference's edges."""
    e, r = excess[where], reference[where]
    if e.size < 20:
        return True  # all clipped: a lamp's image, nothing of the page shows through
    if float((e < -SPOT_DARK * peak).mean()) > 0.03:
        return False
    r_sd, e_sd = float(r.std()), float(e.std())
    if r_sd < 1.0 or e_sd < 1e-3:
        return True  # a flat reference there: nothing to follow
    corr = float(((e - e.mean()) * (r - r.mean())).mean()) / (r_sd * e_sd)
    return corr * corr < SPOT_EXPLAINED


def _motion_kernel(length: float, degrees: float, sigma: float) -> np.ndarray:
    """A line ``length`` px long at ``degrees``, softened by a Gaussian of ``sigma``."""
    size = 2 * int(np.ceil(length / 2 + 3 * sigma)) + 1
    kernel = np.zeros((size, size), np.float32)
    c = size // 2
    a = np.radians(degrees)
    for s in np.linspace(-length / 2, length / 2, max(2, int(4 * length))):
        kernel[int(round(c + s * np.sin(a))), int(round(c + s * np.cos(a)))] += 1.0
    if sigma > 0:
        kernel = cv2.GaussianBlur(kernel, (size, size), sigma)
    return kernel / kernel.sum()


#: The blurs a frame is matched against when the references as drawn do not pass: defocus,
#: and a shake along one of four directions (patch pixels, about the frame's).
_BLUR_BANK = tuple(
    [_motion_kernel(0, 0, s) for s in (1.0, 1.8, 2.6)]
    + [_motion_kernel(length, a, 0.8) for length in (4.0, 7.0, 10.0) for a in (0, 45, 90, 135)]
)
#: The margin a region is blurred with: the widest kernel's reach, and a pixel.
_BLUR_PAD = max(k.shape[0] for k in _BLUR_BANK) // 2 + 1


@attrs.frozen(eq=False)
class Centred:
    """Template pixels less their mean, and their norm."""

    values: np.ndarray
    norm: float

    @classmethod
    def of(cls, values: np.ndarray) -> Centred:
        centred = (values - values.mean()).astype(np.float32)
        return cls(centred, float(np.sqrt((centred * centred).sum())) or 1.0)


@attrs.frozen(eq=False)
class _Template:
    """A region's pixels as :meth:`Classifier.find_region` looks for them."""

    whole: Centred
    #: The pixels as they are, and the pieces with content (blank ones say nothing): the
    #: columns each covers, the sum and the spread (sum of squares less the mean's) of its
    #: pixels.
    values: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    sums: np.ndarray
    spreads: np.ndarray

    @classmethod
    def of(cls, values: np.ndarray, piece_height: float) -> _Template:
        h, w = values.shape
        piece = min(w, max(4, round(h * piece_height)))
        step = max(2, piece // 2)  # overlapping, so no glyph falls between two pieces
        starts = list(range(0, w - piece + 1, step))
        if starts[-1] + piece < w:
            starts.append(w - piece)  # up to the right edge
        sd = float(values.std()) or 1.0  # a blank region has no piece to check
        starts = [x for x in starts if float(values[:, x : x + piece].std()) >= 0.25 * sd]
        pieces = [values[:, x : x + piece].astype(np.float64) for x in starts]
        return cls(
            Centred.of(values), values.astype(np.float32), np.array(starts, np.intp),
            np.array(starts, np.intp) + piece, np.array([p.sum() for p in pieces]),
            np.array([((p - p.mean()) ** 2).sum() for p in pieces]),
        )


def correlation_map(image: np.ndarray, template: Centred, blank_sd: float) -> np.ndarray:
    """Normalised correlation of the template at each place in ``image``, a window with
    next to no contrast counting as blank (OpenCV's TM_CCOEFF_NORMED gives 1 or 0 there
    as rounding has it, which on a clean drawn screen is everywhere)."""
    h, w = template.values.shape
    num = cv2.matchTemplate(image, template.values, cv2.TM_CCORR)
    sums, squares = cv2.integral2(image, sdepth=cv2.CV_64F, sqdepth=cv2.CV_64F)

    def windows(table: np.ndarray) -> np.ndarray:
        return table[h:, w:] - table[:-h, w:] - table[h:, :-w] + table[:-h, :-w]

    n = h * w
    s = windows(sums)
    spread = np.maximum(windows(squares) - s * s / n, n * blank_sd * blank_sd)
    return num / (template.norm * np.sqrt(spread)).astype(np.float32)


def _pieces_score(area: np.ndarray, template: _Template, x: int, y: int,
                  params: ClassifierParams) -> float:
    """The weakest piece of the template around where it was found at (x, y), each piece
    free to move by a pixel or two (a rectification is not exact over a long line). All
    pieces at once: per shift, column sums of the products, then sums over each piece's
    columns."""
    if not len(template.starts):
        return 1.0
    th, tw = template.values.shape
    slack = params.piece_slack
    crop = _crop(area, x - slack, y - slack, tw + 2 * slack, th + 2 * slack)
    shifted = np.lib.stride_tricks.sliding_window_view(crop, (th, tw)).reshape(-1, th, tw)
    columns = [np.concatenate([np.zeros((len(shifted), 1)), np.cumsum(c, axis=1)], axis=1)
               for c in ((shifted * template.values).sum(axis=1, dtype=np.float64),
                         shifted.sum(axis=1, dtype=np.float64),
                         (shifted * shifted).sum(axis=1, dtype=np.float64))]
    cross, sums, squares = (c[:, template.ends] - c[:, template.starts] for c in columns)
    n = th * (template.ends - template.starts)
    spread = np.maximum(squares - sums * sums / n, n * params.blank_sd * params.blank_sd)
    ncc = (cross - template.sums * sums / n) / np.sqrt(template.spreads * spread)
    return float(ncc.max(axis=0).min())


def _pixel_maps(matrix: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """The remap tables (fixed point) of a perspective warp by ``matrix`` to ``size``."""
    w, h = size
    # Each output pixel's source, by broadcasting a row of x and a column of y.
    xs, ys = np.arange(w, dtype=np.float64), np.arange(h, dtype=np.float64)[:, None]
    (a, b, c), (d, e, f), (g, k, m) = np.linalg.inv(matrix)
    z = g * xs + k * ys + m
    map_x = ((a * xs + b * ys + c) / z).astype(np.float32)
    map_y = ((d * xs + e * ys + f) / z).astype(np.float32)
    return cv2.convertMaps(map_x, map_y, cv2.CV_16SC2)


def _crop(image: np.ndarray, x: int, y: int, w: int, h: int) -> np.ndarray:
    """``image[y:y+h, x:x+w]``, its edge pixels repeated where that lies outside."""
    ih, iw = image.shape
    x0, y0, x1, y1 = max(0, x), max(0, y), min(iw, x + w), min(ih, y + h)
    crop = image[y0:y1, x0:x1]
    if crop.shape != (h, w):
        crop = cv2.copyMakeBorder(crop, y0 - y, y + h - y1, x0 - x, x + w - x1,
                                  cv2.BORDER_REPLICATE)
    return crop


def _plane_basis(h: int, w: int) -> np.ndarray:
    """The plane's three columns on an ``h`` x ``w`` grid (3, h, w): 1, x / w, y / h."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    return np.stack([np.ones((h, w), np.float32), xx / w, yy / h])


def _pseudo_inverse(columns: np.ndarray) -> np.ndarray:
    """The pseudo-inverse (3, n) of the plane's columns (3, n, double) at n pixels: by the
    normal equations where the three are independent (LAPACK's SVD of n rows costs ten
    times more and agrees to rounding), else by the SVD (a row, a column or a point of
    pixels: the best line, as lstsq gives it)."""
    gram = columns @ columns.T
    if np.linalg.matrix_rank(gram) < 3:
        return np.linalg.pinv(columns.T)
    return np.linalg.inv(gram) @ columns


def _plane_on(patch: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """The least-squares plane through the ``keep`` pixels (raveled mask) of a patch."""
    h, w = patch.shape
    # The normal equations from the kept pixels' moments: the grid is separable, so each
    # sum is a row or column sum of the mask (or the masked patch) against x or y; nothing
    # is gathered and no basis the patch's size is made (8 ms to 0.7 ms at 600 x 150). Solved
    # by the pseudo-inverse of the 3 x 3 (A+ = (A'A)+ A'): where the kept pixels lie on a
    # line (a row, a column, a point) the best line, as lstsq gives it, with no rank test
    # for rounding to fool.
    mask = keep.reshape(h, w).astype(np.float32)
    xs, ys = np.arange(w) / w, np.arange(h) / h
    cols, rows = mask.sum(axis=0, dtype=np.float64), mask.sum(axis=1, dtype=np.float64)
    sx, sy, sxy = cols @ xs, rows @ ys, ys @ np.einsum("ij,j->i", mask, xs)
    gram = np.array([[cols.sum(), sx, sy], [sx, cols @ (xs * xs), sxy],
                     [sy, sxy, rows @ (ys * ys)]])
    values = mask * patch
    col_sums = values.sum(axis=0, dtype=np.float64)
    rhs = [col_sums.sum(), col_sums @ xs, values.sum(axis=1, dtype=np.float64) @ ys]
    c, cx, cy = (np.float32(v) for v in np.linalg.pinv(gram, rcond=1e-10, hermitian=True) @ rhs)
    return (c + cx * xs.astype(np.float32))[None, :] + (cy * ys.astype(np.float32))[:, None]


def _stats(values: np.ndarray) -> tuple[np.ndarray, float, float]:
    if values.size == 0:
        return values, 0.0, 0.0
    mean = float(values.mean())
    return values, mean, float(np.dot(values, values)) / values.size - mean * mean


def _overlaps(a: Region, b: Region) -> bool:
    ax, ay, aw, ah = a.box
    bx, by, bw, bh = b.box
    return ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah
