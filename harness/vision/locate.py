"""Finding the screen in a camera's view, keeping the calibration, noticing a moved camera.

The screen is found once: candidate quadrilaterals from several binarisations of the frame
(a lit panel in a dark bezel, the bezel on the bench, anything square), each warped flat
and classified; the one that looks most like a known screen wins. When a screen shows
little contrast against its bezel, local features (ORB) matched against the references
give the transform instead. Where nothing is recognised at the best place (a finger over
the panel's edge bends its outline), places are mended (a corner or a side put where the
rest of the outline says) and aligned on their content. The result is a
:class:`~harness.vision.geometry.Calibration`.

Later, when scores drop, :class:`CalibrationKeeper` looks for the screen again: if it
moved, the camera was knocked; the keeper says so and carries on with the new transform.
A fixed camera's searches look at the outlines only (see :func:`locate`'s ``hidden``).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable

import attrs
import cv2
import numpy as np

from harness.errors import RigError
from harness.kept import Kept, pixels_key
from harness.protocols import PixelBox
from harness.vision.bezel import Ring
from harness.vision.classify import Classifier, Decision, unknown
from harness.vision.geometry import Calibration, order_corners, screen_box

#: Candidates are sought on a copy this wide (speed); corners are refined at full size.
SEARCH_WIDTH = 800
#: A screen found by its border but scoring below this is aligned on its content.
REGISTER_BELOW = 0.9
#: While the panel looks blank, the keeper looks for the screen every this many times
#: ``patience`` frames.
BLANK_RECHECK = 4
#: Pictures smaller than this (either side) hold no screen worth finding.
MIN_PICTURE = 64


class ScreenNotFound(RigError):
    pass


def screen_candidates(frame: np.ndarray, limit: int = 8) -> list[np.ndarray]:
    """Convex quadrilaterals that could be the screen, largest first (frame pixels)."""
    h, w = frame.shape[:2]
    scale = SEARCH_WIDTH / w if w > SEARCH_WIDTH else 1.0
    small = cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    grey = cv2.GaussianBlur(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY), (5, 5), 0)
    otsu, binary = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    binaries = [binary, cv2.dilate(cv2.Canny(grey, 30, 90), np.ones((3, 3), np.uint8)),
                cv2.dilate(cv2.Canny(grey, 8, 24), np.ones((3, 3), np.uint8))]
    # Otsu splits a lit panel from its bezel; a dark page (navy on black) needs lower cuts.
    for fraction in (0.5, 0.35, 0.25):
        binaries.append(cv2.threshold(grey, otsu * fraction, 255, cv2.THRESH_BINARY)[1])
    min_area = 0.03 * small.shape[0] * small.shape[1]
    quads: list[np.ndarray] = []
    for binary in binaries:
        contours, _ = cv2.findContours(binary, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
        for contour in contours:
            if cv2.contourArea(contour) < min_area:
                continue
            hull = cv2.convexHull(contour)
            approx = cv2.approxPolyDP(hull, 0.02 * cv2.arcLength(hull, True), True)
            if len(approx) != 4 or not cv2.isContourConvex(approx):
                continue
            quad = order_corners(approx.reshape(4, 2) / scale)
            if not any(np.max(np.linalg.norm(quad - q, axis=1)) < 0.01 * w for q in quads):
                quads.append(quad)
    quads.sort(key=lambda q: -cv2.contourArea(q))
    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY).astype(np.float32)
    out: list[np.ndarray] = []
    for quad in quads[:limit]:
        refined = _refine(grey, quad)
        # The lit page alone (a header band of another colour, a finger bridging the
        # bezel) is found as well as the screen: its sides are also looked for further
        # out, where the bezel begins.
        short = min(float(np.linalg.norm(quad[i] - quad[(i + 1) % 4])) for i in range(4))
        grown = _refine(grey, quad, (max(16.0, GROW_REACH * short), 16.0, 4.0))
        out += [q for q in (grown, refined)
                if not any(np.max(np.linalg.norm(q - k, axis=1)) < 3.0 for k in out)]
    return out


#: How far out (a fraction of the quad's shorter side) a found quad's sides are also sought.
GROW_REACH = 0.15


def _refine(grey: np.ndarray, quad: np.ndarray,
            reaches: tuple[float, ...] = (16.0, 4.0)) -> np.ndarray:
    """Corners to sub-pixel accuracy: each side is moved onto the strongest edge near it
    (the panel's border), a line is fitted through it, and the corners are where the
    lines cross. Contours and polygon fits are only good to several pixels."""
    for reach in reaches:
        lines = _edge_lines(grey, quad, reach)
        if any(line is None for line in lines):
            return quad.astype(np.float32)
        corners = [_cross(lines[i - 1], lines[i]) for i in range(4)]
        if any(c is None for c in corners):
            return quad.astype(np.float32)
        moved = np.asarray(corners, np.float32)
        if float(np.max(np.linalg.norm(moved - quad, axis=1))) > 3 * reach:
            return quad.astype(np.float32)
        quad = moved
    return quad.astype(np.float32)


#: Where along a side (fractions of it) its edge is sought, and the step across it (px).
EDGE_TS = np.linspace(0.08, 0.92, 48, dtype=np.float32)
EDGE_STEP = 0.5


def _edge_lines(grey: np.ndarray, quad: np.ndarray, reach: float
                ) -> list[tuple[np.ndarray, np.ndarray] | None]:
    """For each side of ``quad`` (i to i + 1), the strongest straight edge within ``reach``
    pixels of it, as (point, direction). The four sides' profiles are sampled, smoothed and
    differentiated together (row by row, so each side's are as if taken alone): one pass
    of each instead of four."""
    quad = quad.astype(np.float32)
    ts, ss = EDGE_TS, np.arange(-reach, reach + 0.01, EDGE_STEP, dtype=np.float32)
    sides = [(quad[i], quad[(i + 1) % 4] - quad[i]) for i in range(4)]
    lengths = [float(np.linalg.norm(side)) for _, side in sides]
    bases, pts, normals = [], [], []
    for (a, side), length in zip(sides, lengths, strict=True):
        d = side / max(length, 1e-6)
        n = np.array([-d[1], d[0]], np.float32)
        base = a[None, :] + ts[:, None] * side[None, :]
        bases.append(base)
        normals.append(n)
        pts.append(base[:, None, :] + ss[None, :, None] * n[None, None, :])
    grid = np.concatenate(pts)
    profiles = cv2.remap(grey, grid[..., 0], grid[..., 1], cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_REPLICATE)
    # No smoothing across rows (sigma 0.01 gives a one-tap kernel): rows stay independent.
    profiles = cv2.GaussianBlur(profiles, (0, 0), sigmaX=1.0, sigmaY=0.01)
    derivs = np.diff(profiles, axis=1)
    rows = len(ts)
    return [None if length < 20 else
            _edge_line_from(profiles[k * rows:(k + 1) * rows], derivs[k * rows:(k + 1) * rows],
                            bases[k], normals[k], ss)
            for k, length in enumerate(lengths)]


def _edge_line_from(profile: np.ndarray, deriv: np.ndarray, base: np.ndarray, n: np.ndarray,
                    ss: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """One side's edge line from its profiles (outside -> inside, rows along the side)."""
    idx, sign = _border_positions(profile, deriv)
    if sign == 0:
        return None
    signed = deriv * sign
    rows_all = np.arange(len(base))
    has = idx >= 0
    strength = np.where(has, signed[rows_all, np.maximum(idx, 0)], 0.0)
    # Rows whose edge has the other polarity saw something else (a glare, a cable).
    keep = has & (strength > 0) & (idx > 0) & (idx < deriv.shape[1] - 1)
    if keep.sum() < 8:
        return None
    i = idx[keep]
    rows = np.nonzero(keep)[0]
    left, mid, right = signed[rows, i - 1], signed[rows, i], signed[rows, i + 1]
    denom = left - 2 * mid + right
    offset = np.divide(0.5 * (left - right), denom, out=np.zeros_like(denom),
                       where=np.abs(denom) > 1e-6)
    s_edge = ss[0] + (i + 0.5 + np.clip(offset, -0.5, 0.5)) * EDGE_STEP
    points = base[rows] + s_edge[:, None] * n[None, :]
    vx, vy, x0, y0 = cv2.fitLine(points.astype(np.float32), cv2.DIST_HUBER, 0, 0.01, 0.01
                                 ).ravel()
    return np.array([x0, y0], np.float32), np.array([vx, vy], np.float32)


def _border_positions(profile: np.ndarray, deriv: np.ndarray) -> tuple[np.ndarray, float]:
    """Per profile (outside -> inside), where the panel's border is, and its polarity.

    A panel sits in a black bezel: the border is the first real step up going inwards from
    the darkest band. That holds for a lit page, a dark page (navy on black, whose border is
    weaker than the bezel's outer edge) and a page with a dark band along its edge (a
    taskbar: the step from bezel to taskbar, not the stronger one from taskbar to window).
    Without a bezel darker than the page, the strongest edge is taken.
    """
    rows, n = deriv.shape
    row = np.arange(rows)
    inside = profile[:, -6:].mean(axis=1)
    dark = profile[:, :-4].argmin(axis=1)
    beyond = np.arange(n)[None, :] > dark[:, None]  # the columns past each profile's darkest
    # Each profile's steps up past its darkest band: at least a fifth of the largest rise
    # there (and 1.5), and a local maximum; the first such is the border.
    rise_max = np.where(beyond | (np.arange(n)[None, :] == dark[:, None]), deriv, -np.inf
                        ).max(axis=1)
    floor = np.maximum(1.5, 0.2 * rise_max.astype(np.float64)).astype(deriv.dtype)
    mid = deriv[:, 1:-1]
    steps = ((mid >= floor[:, None]) & (mid >= deriv[:, :-2]) & (mid >= deriv[:, 2:])
             & beyond[:, 1:-1])
    bordered = (inside - profile[row, dark] >= 10.0) & steps.any(axis=1)
    # Without a bezel darker than the page (or no step up past it): the strongest edge.
    strongest = np.abs(deriv).argmax(axis=1)
    idx = np.where(bordered, 1 + steps.argmax(axis=1), strongest)
    votes = np.where(bordered, 1.0, np.sign(deriv[row, strongest]).astype(np.float64))
    return idx, _median_sign(votes)


def _median_sign(votes: np.ndarray) -> float:
    """``sign(median(votes))`` for votes of -1, 0 and 1, by counting (np.median sorts, and
    is asked four times per place tried)."""
    n = len(votes)
    if not n:
        return 0.0
    below, above = int((votes < 0).sum()), int((votes > 0).sum())

    def at(k: int) -> int:  # the k-th smallest vote
        return -1 if k < below else (1 if k >= n - above else 0)

    middle = at(n // 2) + (at(n // 2 - 1) if n % 2 == 0 else at(n // 2))
    return float(np.sign(middle))


def _cross(l1: tuple[np.ndarray, np.ndarray] | None,
           l2: tuple[np.ndarray, np.ndarray] | None) -> np.ndarray | None:
    if l1 is None or l2 is None:
        return None
    (p, r), (q, s) = l1, l2
    denom = r[0] * s[1] - r[1] * s[0]
    if abs(denom) < 1e-6:
        return None
    t = ((q[0] - p[0]) * s[1] - (q[1] - p[1]) * s[0]) / denom
    return p + t * r


@attrs.frozen(eq=False)
class Located:
    calibration: Calibration
    decision: Decision


def best_candidate(frame: np.ndarray, classifier: Classifier) -> Located | None:
    """The quadrilateral whose content looks most like one of the references."""
    return _best_of(frame, classifier, _quick_looks(frame, classifier))


def _quick_looks(frame: np.ndarray, classifier: Classifier) -> list[Located]:
    """Every candidate place with a quick look at it, the most promising first."""
    screen_size = classifier.references.size
    frame_size = (frame.shape[1], frame.shape[0])
    looks: list[Located] = []
    for quad in screen_candidates(frame):
        cal = Calibration(quad, frame_size, screen_size)
        looks.append(Located(cal, classifier.classify_frame(frame, cal, thorough=False)))
    looks.sort(key=lambda found: _promise(found.decision), reverse=True)
    return looks


def _best_of(frame: np.ndarray, classifier: Classifier, looks: list[Located],
             tries: int | None = None,
             keep: Callable[[Located], bool] | None = None) -> Located | None:
    """The best of the first ``tries`` places (ranked by a quick look; None:
    THOROUGH_TRIES) after a thorough look at each, of those ``keep`` accepts (None: all),
    until one is recognised."""
    best: Located | None = None
    # A quick look can rank a sheet of paper over a dark page with a spot on it: the next
    # few places get a thorough look too, while nothing is recognised.
    for found in looks[:THOROUGH_TRIES if tries is None else tries]:
        found = _thoroughly(frame, classifier, found)
        assert found is not None
        if keep is not None and not keep(found):
            continue
        if best is None or _better(found.decision, best.decision):
            best = found
        if best.decision.known and not best.decision.blank:
            break
    return best


#: Places (the best by a quick look) that get a thorough one while nothing is recognised.
THOROUGH_TRIES = 3
#: A quick look scoring below this against every reference found nothing like a screen
#: (a sheet of paper, the keyboard): a blank-looking place (a dark page whose text the
#: quick look could not make out) is more promising.
NOTHING_BELOW = 0.3


def _promise(d: Decision) -> tuple[int, float]:
    # A blank place, even one taken for a switched-off panel, says nothing of where the
    # screen is (any dark thing on the desk): after places with content.
    if d.blank:
        return 1, d.score
    if d.known:
        return 3, d.score
    return (2 if d.score >= NOTHING_BELOW else 0), d.score


def _thoroughly(frame: np.ndarray, classifier: Classifier, found: Located | None
                ) -> Located | None:
    if found is None or found.decision.known:
        return found
    return Located(found.calibration, classifier.classify_frame(frame, found.calibration))


def locate(frame: np.ndarray, classifier: Classifier, *, hidden: bool = True) -> Located:
    """Find the screen in ``frame`` and what it shows. Raises :class:`ScreenNotFound`.

    ``hidden``: where nothing is recognised at the places found, also look for a screen
    whose border is hidden or cut (places mended, then keypoints): a single photo must be
    read whatever crosses its border. A fixed camera's searches (:class:`CalibrationKeeper`)
    need not: whatever crosses the border then is gone by a later look, while a screen no
    reference knows, which no search recognises, comes back to every search (each then
    costing several times the outline's). ``onshi-rig calibrate`` and a photo search
    for a hidden border too."""
    if min(frame.shape[:2]) < MIN_PICTURE:
        raise ScreenNotFound(f"the picture is {frame.shape[1]}x{frame.shape[0]}: too small "
                             "to find a screen in")
    looks = _quick_looks(frame, classifier)
    best = _best_of(frame, classifier, looks)
    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    aligned = None if best is None else best.calibration  # the place aligned below
    # A crisp border gives corners to a fraction of a pixel; only a weak one (a dark page
    # in a dark bezel) needs aligning on the content, which on a sparse screen can slide.
    if best is not None and (not best.decision.known or best.decision.score < REGISTER_BELOW):
        best = _bordered(grey, _register(frame, best, classifier), best)
    if hidden and (best is None or not best.decision.known):
        elsewhere = _elsewhere(frame, grey, classifier, looks, aligned)
        if elsewhere is not None:
            best = elsewhere
    if hidden and (best is None or not best.decision.known):
        by_features = _locate_by_features(frame, classifier)
        # Features give the screen to several pixels (a homography from keypoints that a
        # hand's blur and JPEG move): aligned on the content as a weak border is.
        if by_features is not None and not by_features.decision.known:
            by_features = _register(frame, by_features, classifier)
        if by_features is not None and not _on_border(grey, by_features.calibration.quad):
            by_features = None
        if by_features is not None and (best is None or _better(by_features.decision,
                                                                best.decision)):
            best = by_features
    if best is None:
        raise ScreenNotFound("no screen found in the picture (no quadrilateral, no features "
                             "matching a reference)")
    if best.decision.blank and best.decision.known:
        # Any dark thing on the desk looks like a switched-off panel: without a calibration
        # a blank place is no screen found.
        return Located(best.calibration, attrs.evolve(unknown(
            "only a blank area found: without a calibration it could be any dark thing"),
            blank=True))
    return best


def _elsewhere(frame: np.ndarray, grey: np.ndarray, classifier: Classifier,
               looks: list[Located], aligned: Calibration | None) -> Located | None:
    """A screen recognised at a place other than the one that looked best, or None.

    Nothing was recognised where the border looked best: a sheet of paper can outscore a
    screen whose header a finger cut off, and a finger over a corner drags that corner of
    the panel's outline to its tip. The most promising places are tried mended (a corner or
    a side put where the rest say, see :func:`_mended`); failing that, the next places
    are aligned on their content. Only a place whose sides lie on a border is kept (an
    alignment or a corner moved onto a page's inner lines would name what it cuts out)."""

    def kept(found: Located) -> bool:
        # A blank place (any dark thing) is no screen found: the features may still be.
        return (found.decision.known and not found.decision.blank
                and _on_border(grey, found.calibration.quad))

    fine = grey.astype(np.float32)
    width, height = classifier.references.size
    mended: list[Located] = []
    for look in looks[:MENDED_PLACES]:
        for moved_quad in _mended(look.calibration.quad, width / height):
            moved_quad = _refine(fine, moved_quad, CORNER_REACHES)
            if not cv2.isContourConvex(moved_quad.reshape(-1, 1, 2)):
                continue
            cal = attrs.evolve(look.calibration, quad=moved_quad)
            try:
                mended.append(Located(cal, classifier.classify_frame(frame, cal,
                                                                     thorough=False)))
            except cv2.error:
                continue  # a degenerate quad
    mended.sort(key=lambda found: _promise(found.decision), reverse=True)
    best = _best_of(frame, classifier, mended, MENDED_TRIES, kept)
    if best is not None:
        return best
    # Then the places as found, aligned (slower), each once: a place found twice (the page,
    # and its sides sought further out, met on one border) is one place to an alignment
    # that comes in from tens of pixels.
    near = 0.01 * frame.shape[1]
    tried = [] if aligned is None else [aligned]
    for look in looks:
        if len(tried) - (aligned is not None) >= REGISTER_PLACES:
            break
        if any(look.calibration.shift(place) < near for place in tried):
            continue
        tried.append(look.calibration)
        moved = _register(frame, _thoroughly(frame, classifier, look), classifier)
        if kept(moved):
            return moved
    return None


#: Places (the best by a quick look) mended, and mended places (the best by a quick look)
#: that get a thorough one.
MENDED_PLACES = 4
MENDED_TRIES = 4
#: How far (frame px) the sides of a mended place are sought, in turn.
CORNER_REACHES = (32.0, 16.0, 4.0)


def _mended(quad: np.ndarray, aspect: float) -> list[np.ndarray]:
    """``quad`` (tl, tr, br, bl) with one corner, then one side, put where the rest say:
    a corner where the other three make a parallelogram (a finger's tip dragged it), a
    side where the opposite side and the screen's ``aspect`` (width / height) put it along
    the two sides beside it (a bezel's band below a dark page taken in, a header left
    out). The border refines each."""
    out = []
    for corner in range(4):
        moved = quad.copy()
        moved[corner] = quad[corner - 1] + quad[(corner + 1) % 4] - quad[(corner + 2) % 4]
        out.append(moved)
    for side in range(4):
        # The side from corner ``side`` to the next is moved; its opposite stays.
        a, b = (side + 3) % 4, (side + 2) % 4  # the opposite side's ends, beside side's ends
        length = float(np.linalg.norm(quad[b] - quad[a]))
        across = length / aspect if side % 2 == 0 else length * aspect
        moved = quad.copy()
        for end, kept in ((side, a), ((side + 1) % 4, b)):
            direction = quad[end] - quad[kept]
            moved[end] = quad[kept] + direction * (across / max(float(np.linalg.norm(direction)),
                                                                1e-6))
        out.append(moved)
    return out


#: A screen's side lies on the panel's border: the light steps by at least this much (grey
#: levels, median along the side) from just outside to just inside, the same way along at
#: least BORDER_AGREE of it. A quad that keypoints or an alignment put across the page (its
#: bottom above a button it then leaves out) has no such step there.
BORDER_STEP = 6.0
BORDER_AGREE = 0.7


def _on_border(grey: np.ndarray, quad: np.ndarray) -> bool:
    """Whether each side of ``quad`` runs along a step of the light (the panel's edge)."""
    centre = quad.mean(axis=0)
    ts = np.linspace(0.1, 0.9, 24, dtype=np.float32)
    depths = np.arange(3.0, 9.0, dtype=np.float32)
    for i in range(4):
        a, b = quad[i], quad[(i + 1) % 4]
        side = b - a
        length = float(np.linalg.norm(side))
        if length < 8:
            return False
        normal = np.array([-side[1], side[0]], np.float32) / length
        if float(np.dot(normal, (a + b) / 2 - centre)) < 0:
            normal = -normal  # outwards
        base = a[None, :] + ts[:, None] * side[None, :]
        out_pts = base[:, None, :] + depths[None, :, None] * normal
        in_pts = base[:, None, :] - depths[None, :, None] * normal
        sample = [cv2.remap(grey, p[..., 0].astype(np.float32), p[..., 1].astype(np.float32),
                            cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
                            ).astype(np.float32).mean(axis=1) for p in (out_pts, in_pts)]
        step = sample[1] - sample[0]
        sign = 1.0 if float(np.median(step)) >= 0 else -1.0
        if (float(np.median(sign * step)) < BORDER_STEP
                or float((sign * step > 0).mean()) < BORDER_AGREE):
            return False
    return True


def _bordered(grey: np.ndarray, moved: Located, was: Located) -> Located:
    """An aligned screen, if its sides still lie on the panel's border (or it hardly
    moved); else what the border gave."""
    if moved is was or moved.calibration.shift(was.calibration) <= 3.0:
        return moved
    return moved if _on_border(grey, moved.calibration.quad) else was


def agreed(found: list[Located]) -> Calibration:
    """One calibration from the screen found on several frames of a fixed camera: each
    corner where most of them put it (the median), so one frame's passing hand, hot spot
    or shake does not decide where the screen is for good."""
    if not found:
        raise ValueError("no screen found to agree on")
    quads = np.stack([f.calibration.quad for f in found])
    first = found[0].calibration
    return Calibration(np.median(quads, axis=0).astype(np.float32), first.frame_size,
                       first.screen_size, first.method)


def _register(frame: np.ndarray, found: Located, classifier: Classifier) -> Located:
    """Align the screen found onto the references it looks most like (ECC, full homography,
    coarse to fine, so that a quad a finger or a hot spot moved by tens of pixels still
    comes in): a panel with a weak border, or one found by features, is only known to
    within several pixels, and recognition needs better."""
    size = classifier.fine_size
    homography = found.calibration.homography(size)
    rectified = cv2.cvtColor(found.calibration.rectify(frame, size),
                             cv2.COLOR_BGR2GRAY)
    recognised = found.decision.reference is not None
    names = ([found.decision.reference] if recognised
             else classifier.closest(rectified, REGISTER_TRIES))
    levels = REGISTER_LEVELS_RECOGNISED if recognised else REGISTER_LEVELS
    best = found
    for name in names:
        warp = _ecc(classifier.references.get(name).image, rectified, size, levels)
        if warp is None:
            continue  # did not converge: keep what the border gave
        w, h = size
        corners = np.float32([[0, 0], [w, 0], [w, h], [0, h]]).reshape(-1, 1, 2)
        in_rectified = cv2.perspectiveTransform(corners, warp.astype(np.float64))
        quad = cv2.perspectiveTransform(in_rectified, np.linalg.inv(homography)).reshape(4, 2)
        cal = attrs.evolve(found.calibration, quad=quad.astype(np.float32))
        try:
            decision = classifier.classify_frame(frame, cal)
        except cv2.error:
            continue  # a degenerate quad
        if _better(decision, best.decision):
            best = Located(cal, decision)
        if best.decision.known:
            break
    return best


#: Further places (by their quick look) aligned on their content when the best was not
#: recognised, before the slower search by features.
REGISTER_PLACES = 4
#: References tried when aligning a screen nobody recognised (the closest by the global
#: pass), and the scales (of the fine size) the alignment goes through.
REGISTER_TRIES = 2
REGISTER_LEVELS = (0.25, 0.5, 1.0)
#: ... and for a screen already recognised, whose alignment only sharpens a score: the
#: full size (three quarters of the time, about 40 ms) never changed what such a screen was
#: named on the harsh desk benchmark's photos.
REGISTER_LEVELS_RECOGNISED = (0.25, 0.5)


def _ecc(reference: np.ndarray, rectified: np.ndarray, size: tuple[int, int],
         levels: tuple[float, ...] = REGISTER_LEVELS) -> np.ndarray | None:
    """The homography (reference at ``size`` -> rectified) maximising their correlation,
    found on a small copy first and refined on larger ones (``levels``: of the fine size)."""
    template = cv2.cvtColor(cv2.resize(reference, size, interpolation=cv2.INTER_AREA),
                            cv2.COLOR_BGR2GRAY)
    warp = np.eye(3, dtype=np.float32)
    for level in levels:
        scaled = (max(8, round(size[0] * level)), max(8, round(size[1] * level)))
        t = cv2.resize(template, scaled, interpolation=cv2.INTER_AREA).astype(np.float32)
        r = cv2.resize(rectified, scaled, interpolation=cv2.INTER_AREA).astype(np.float32)
        to_level = np.diag([level, level, 1.0]).astype(np.float32)
        at_level = (to_level @ warp @ np.linalg.inv(to_level)).astype(np.float32)
        criteria = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS,
                    40 if level < 1.0 else 15, 1e-4)
        try:
            _, at_level = cv2.findTransformECC(t, r, at_level, cv2.MOTION_HOMOGRAPHY,
                                               criteria, None, 3)
        except cv2.error:
            return None
        warp = (np.linalg.inv(to_level) @ at_level @ to_level).astype(np.float32)
    return warp


def _rank(d: Decision) -> int:
    # A recognised screen with content locates the panel; content nobody knows still beats
    # a blank area, which could be any dark thing in the picture.
    return 0 if d.blank else (2 if d.known else 1)


def _better(a: Decision, b: Decision) -> bool:
    if _rank(a) != _rank(b):
        return _rank(a) > _rank(b)
    return a.score > b.score


def _locate_by_features(frame: np.ndarray, classifier: Classifier) -> Located | None:
    try:
        return _match_features(frame, classifier)
    except cv2.error:
        return None  # a degenerate picture or homography: no feature match


#: Each classifier's references' ORB keypoints and descriptors, made once.
_FEATURES: weakref.WeakKeyDictionary[Classifier, dict[str, tuple[object, object]]] = (
    weakref.WeakKeyDictionary())


def _reference_features(classifier: Classifier, name: str) -> tuple[object, object]:
    known = _FEATURES.setdefault(classifier, {})
    if name not in known:
        image = classifier.references.get(name).image
        known[name] = cv2.ORB_create(3000).detectAndCompute(
            cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), None)
    return known[name]


def _match_features(frame: np.ndarray, classifier: Classifier) -> Located | None:
    orb = cv2.ORB_create(3000)
    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    kp_f, des_f = orb.detectAndCompute(grey, None)
    if des_f is None or len(kp_f) < 20:
        return None
    matcher = cv2.BFMatcher(cv2.NORM_HAMMING)
    best: Located | None = None
    width, height = classifier.references.size
    corners = np.float32([[0, 0], [width, 0], [width, height], [0, height]]).reshape(-1, 1, 2)
    for ref in classifier.references:
        kp_r, des_r = _reference_features(classifier, ref.name)
        if des_r is None or len(kp_r) < 20:
            continue
        pairs = matcher.knnMatch(des_r, des_f, k=2)
        good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < 0.75 * p[1].distance]
        if len(good) < 15:
            continue
        src = np.float32([kp_r[m.queryIdx].pt for m in good]).reshape(-1, 1, 2)
        dst = np.float32([kp_f[m.trainIdx].pt for m in good]).reshape(-1, 1, 2)
        homography, inliers = cv2.findHomography(src, dst, cv2.RANSAC, 4.0)
        if homography is None or int(inliers.sum()) < 12:
            continue
        quad = cv2.perspectiveTransform(corners, homography).reshape(4, 2)
        cal = Calibration(quad.astype(np.float32), (frame.shape[1], frame.shape[0]),
                          (width, height), "features")
        decision = classifier.classify_frame(frame, cal, thorough=False)
        if best is None or _better(decision, best.decision):
            best = Located(cal, decision)
    return _thoroughly(frame, classifier, best)


#: Frame seconds between two searches of a frame for a screen never found yet.
SEARCH_EVERY_S = 2.0
#: A calibrated camera's searches that found nothing better (a screen no reference knows,
#: where the screen was), while no ring tells whether the camera moved, wait twice as long
#: each time, from SEARCH_EVERY_S up to this (frame seconds): a search of the whole frame
#: costs a second or two of CPU, and a reader may show a screen the references do not know
#: for minutes (a boot logo, another maker's reader).
SEARCH_BACKOFF_MAX_S = 32.0
#: Recognised looks after which the ring is taken again (light drifts over a long run).
RING_REFRESH = 20
#: Decisions by the pixels where a calibrated screen is, and by what decided them (the
#: reference set, the classifier's parameters), in this process: a test run or a
#: certification opens the same benches again and again, and their emulated cameras give
#: the frames of scenes filmed before (harness/emulation/scene_frames.py). ~150 KB each
#: (the rectified screen a decision carries).
_DECIDED: Kept[Decision] = Kept(256)


def _shared(decision: Decision) -> Decision:
    """A decision kept for every look at the same pixels: its screen read-only."""
    if decision.screen is not None:
        decision.screen.flags.writeable = False
    return decision


@attrs.define
class CalibrationKeeper:
    """Holds a camera's calibration; looks for the screen again when scores drop."""

    classifier: Classifier
    calibration: Calibration | None = None
    #: Scores below this count as a drop.
    recheck_below: float = 0.8
    #: Consecutive dropped frames before looking again.
    patience: int = 3
    #: A screen found this far (frame pixels) from where it was means the camera moved.
    moved_px: float = 6.0
    _low: int = attrs.field(default=0, init=False)
    #: Shift of the last recalibration that found the camera moved (None: never moved).
    last_move_px: float | None = None
    #: Before the screen was ever found: where the last search put its best guess, what
    #: it saw there, and when (see :meth:`_search`).
    _guess: tuple[Calibration, Decision, float] | None = attrs.field(default=None, init=False)
    #: The ring around the screen on a frame where it was recognised (bezel.py).
    _ring: Ring | None = attrs.field(default=None, init=False)
    _ring_age: int = attrs.field(default=0, init=False)
    #: The last fruitless search of a calibrated camera: when, and how long the next waits.
    _fruitless: tuple[float, float] | None = attrs.field(default=None, init=False)

    def read_region(self) -> PixelBox | None:
        """Where the next :meth:`classify` reads its frame: the calibrated screen's bounding
        box (as :meth:`Classifier.classify_frame` cuts it), when that look can neither take
        nor compare the ring around the screen nor search the frame; None (anywhere)
        otherwise."""
        cal = self.calibration
        if (cal is None or self._ring is None or self._ring_age + 1 >= RING_REFRESH
                or self._low + 1 >= self.patience):
            return None
        return screen_box(cal.quad, *cal.frame_size)

    def classify(self, frame: np.ndarray, t: float | None = None) -> tuple[Decision, bool]:
        """Classify a frame (taken at ``t``, bench seconds, if known); the flag is True when
        this frame found the camera moved."""
        if self.calibration is None:
            return self._search(frame, t), False
        size = (frame.shape[1], frame.shape[0])
        if size != tuple(self.calibration.frame_size):
            # Another resolution: the old corners mean nothing; find the screen afresh.
            was = self.calibration.frame_size
            self.calibration = None
            decision, _ = self.classify(frame)
            why = f"frame size changed from {was[0]}x{was[1]} to {size[0]}x{size[1]}"
            return (decision if decision.known else attrs.evolve(decision, why=why)), False
        decision = self._classify_calibrated(frame, self.calibration)
        if decision.known and not decision.blank and decision.score >= self.recheck_below:
            self._low, self._fruitless = 0, None
            self._ring_age += 1
            if self._ring is None or self._ring_age >= RING_REFRESH:
                self._ring, self._ring_age = Ring.of(frame, self.calibration), 0
            return decision, False
        self._low += 1
        # A dark panel is a fine answer, but a knocked camera staring at something dark says
        # the same: look again now and then (less often than after an unknown screen).
        due = self.patience * (BLANK_RECHECK if decision.blank else 1)
        if self._low < due:
            return decision, False
        self._low = 0
        # The ring around the screen as it was when the screen was last recognised: the
        # camera has not moved, the screen shows something new: no search.
        if self._ring is not None:
            if self._ring.same_in(frame):
                return decision, False
            # The ring says the camera moved: searched now, whatever the searches before.
        elif t is not None and self._fruitless is not None:
            when, wait = self._fruitless
            if 0 <= t - when < wait:
                return decision, False
        try:
            located = locate(frame, self.classifier, hidden=False)
        except ScreenNotFound:
            self._search_was_fruitless(t)
            return decision, False
        found = located.decision
        if not found.known or found.blank or (decision.known and found.score <= decision.score
                                              and not decision.blank):
            self._search_was_fruitless(t)
            return decision, False
        shift = located.calibration.shift(self.calibration)
        self.calibration, self._ring, self._fruitless = located.calibration, None, None
        moved = shift > self.moved_px
        if moved:
            self.last_move_px = shift
        return found, moved

    def _classify_calibrated(self, frame: np.ndarray, calibration: Calibration) -> Decision:
        """The classifier's decision where ``calibration`` puts the screen. The same pixels
        there give the same decision: an emulated camera's frame of a scene it comes back
        to (harness/emulation/scene_frames.py) is classified once; a live sensor's noise
        never repeats."""
        quad = np.asarray(calibration.quad, np.float64)
        # The area classify_frame cuts out (read_region's), whatever it reads of it.
        x0, y0, x1, y1 = screen_box(quad, frame.shape[1], frame.shape[0])
        classifier = self.classifier
        key = (pixels_key(frame[y0:y1, x0:x1]), frame.shape, quad.tobytes(),
               classifier.references, classifier.params)
        return _DECIDED.get(key, lambda: _shared(classifier.classify_frame(frame, calibration)))

    def _search_was_fruitless(self, t: float | None) -> None:
        if t is None:
            return  # no time to wait by: every due look searches
        wait = (SEARCH_EVERY_S if self._fruitless is None
                else min(2 * self._fruitless[1], SEARCH_BACKOFF_MAX_S))
        self._fruitless = (t, wait)

    def _search(self, frame: np.ndarray, t: float | None) -> Decision:
        """Before the screen was ever found. Only a recognised screen with content fixes
        where the panel is; until one shows (a dark panel at start-up, a screen no reference
        matches) the frame is searched again, at most every :data:`SEARCH_EVERY_S` of frame
        time: in between, the last search's best place is looked at, and a screen recognised
        there, or a dark panel lit (or a lit one gone dark), is searched for at once."""
        if self._guess is not None and t is not None:
            place, seen, when = self._guess
            if 0 <= t - when < SEARCH_EVERY_S:
                now = self.classifier.classify_frame(frame, place, thorough=False)
                content = now.known and not now.blank  # a screen recognised there
                if not content and now.blank == seen.blank:
                    return unknown("screen not found yet (" + (
                        "the panel is blank" if now.blank
                        else seen.why or "nothing recognised") + ")")
        self._guess = None
        try:
            located = locate(frame, self.classifier, hidden=False)
        except ScreenNotFound as exc:
            return unknown(str(exc))
        found = located.decision
        if found.known and not found.blank:
            self.calibration = located.calibration
            return found
        if t is not None:
            self._guess = (located.calibration, found, t)
        return unknown("screen not found yet (" + (
            "the panel is blank" if found.blank else found.why or "nothing recognised") + ")")

__all__ = ["CalibrationKeeper", "Located", "ScreenNotFound", "agreed", "best_candidate",
           "locate", "screen_candidates"]
