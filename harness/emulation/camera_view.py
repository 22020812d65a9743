"""One pose's view of a screen: everything static for a pose and a screen size, built
once (where the screen lands, its resampling maps, the scene through the lens), and the
frame composed for the last screen shown, kept while the screen stays and redone only
where it changes."""

from __future__ import annotations

import math
from collections.abc import Callable

import attrs
import cv2
import numpy as np

from harness.emulation.camera_pose import SHRINK_SCALE, project, screen_scale, translation
from harness.emulation.camera_scene import Scene
from harness.kept import Kept

Rect = tuple[int, int, int, int]  # x0, y0, x1, y1 (exclusive)


@attrs.define(eq=False)
class View:
    """Everything static for one pose and screen size, built once, and the frame composed
    for the last screen shown: kept while the screen stays, updated where it changes."""

    quad: np.ndarray
    #: the frame's patch: the screen's bounding box grown by twice the blur kernel's radius
    #: (composed, then blurred: its outer ring only feeds the blur) ...
    patch: Rect
    #: ... and its part grown by one radius, which is exact after blurring the patch
    keep: Rect
    #: in the patch: the screen's bounding box, where the screen is resampled ...
    screen_box: Rect
    #: ... with fixed-point cv2.remap maps (CV_16SC2, CV_16UC1) from screen_box to screen,
    #: and where the screen is drawn (255; elsewhere the scene stays): where the bilinear
    #: neighbourhood's top left pixel is on the screen. That and BORDER_REPLICATE is what
    #: BORDER_TRANSPARENT does, but a bit faster.
    maps: tuple[np.ndarray, np.ndarray]
    inside: np.ndarray
    to_box: np.ndarray  # homography screen -> screen_box (where a screen change lands)
    #: Gaussian sigma (screen px) of the anti-aliasing filter for a shrunk screen; 0: none
    prefilter: float
    blur: float
    glass: np.ndarray  # uint8 0..255, where glare can appear
    #: the last screen (a copy; None before the first frame), through the screen levels and
    #: the anti-aliasing filter, composed into the scene (bench + housing, screen area dark)
    #: in the patch, and blurred into the frame: the frame through the lens before gains,
    #: glare and noise ...
    screen: np.ndarray | None
    filtered: np.ndarray
    patch_raw: np.ndarray
    frame: np.ndarray
    warped: np.ndarray  # scratch space for resampling, screen_box's size
    #: ... and its read + shot noise sigma per sample (interleaved BGR, uint8 fixed point),
    #: or None for a noiseless camera
    sigma: np.ndarray | None
    #: Where the rig reads the frame closely, and where it gets the sensor's noise and the
    #: JPEG round trip (see :func:`read_box`): the screen and a band around it (a hand-held
    #: camera's: the whole reader), on the codec's 16 px blocks; the lamps' are added per
    #: frame.
    read_box: Rect = (0, 0, 0, 0)


#: The band around what the rig reads (the screen, a lamp) that gets the sensor's noise and
#: the JPEG round trip too, in pixels, at least ...
READ_BAND = 48
#: ... and around the screen, this share of its extent on each axis: as far out as the rig's
#: vision looks at full resolution (the bezel ring that tells whether the camera moved, 0.12
#: of the screen's size; the refining of a found screen's sides, 0.15 of its shorter side).
READ_SHARE = 0.15


def read_box(points: np.ndarray, frame: tuple[int, int], band: tuple[int, int] = (
        READ_BAND, READ_BAND)) -> Rect:
    """The bounding box of ``points`` grown by ``band`` (x, y), on 16 px blocks, in the
    frame.

    A bench camera is read where the rig looks closely: the screen (classified, read,
    judged glyph by glyph) and the ring of bezel and bench around it, and the lamps; the
    rest of the bench only through the screen search's downscale and blur, which leave no
    trace of a few DN of noise or of JPEG's blocks at a webcam's quality. So the noise and
    the JPEG round trip (most of a frame's cost) go there only; a hand-held photo is
    searched whole, and gets them over the whole reader."""
    fw, fh = frame
    x0, y0 = (max(0, (math.floor(v) - b) // 16 * 16)
              for v, b in zip(points.min(axis=0), band, strict=True))
    x1, y1 = (min(n, -(-(math.ceil(v) + b) // 16) * 16)
              for v, n, b in zip(points.max(axis=0), (fw, fh), band, strict=True))
    return x0, y0, x1, y1


#: Around a region the rig says it reads (a camera's region of interest), the sensor's noise
#: and the JPEG round trip reach this far (px) before the codec's 16 px blocks: a crop's
#: decode differs from the whole frame's at its edge only (chroma upsampling, a pixel).
READ_OUT_MARGIN = 8


def read_out(box: Rect, region: Rect | None) -> Rect:
    """The part of ``box`` (a frame's :func:`read_box`, on the codec's blocks) that gets the
    sensor's noise and the JPEG round trip when the rig reads only ``region`` of the frame
    (None: all of ``box``): ``region`` grown by :data:`READ_OUT_MARGIN`, on the same blocks,
    within ``box``; empty (x0 == x1) when they do not meet."""
    if region is None:
        return box
    x0, y0, x1, y1 = region
    m = READ_OUT_MARGIN
    part = (max(box[0], (x0 - m) // 16 * 16), max(box[1], (y0 - m) // 16 * 16),
            min(box[2], -(-(x1 + m) // 16) * 16), min(box[3], -(-(y1 + m) // 16) * 16))
    if part[0] >= part[2] or part[1] >= part[3]:
        return box[0], box[1], box[0], box[1]
    return part


def screen_band(quad: np.ndarray, blur: float) -> tuple[int, int]:
    """The band around a screen at ``quad`` that the rig reads closely (:data:`READ_SHARE`),
    and the lens blur's reach beyond it."""
    extent = quad.max(axis=0) - quad.min(axis=0)
    reach = kernel_radius(blur)
    return tuple(max(READ_BAND, math.ceil(READ_SHARE * float(e))) + reach  # type: ignore[return-value]
                 for e in extent)


def with_boxes(box: Rect, boxes: list[Rect], frame: tuple[int, int]) -> Rect:
    """``box`` grown to hold each of ``boxes`` and its band (a lamp's), on 16 px blocks."""
    if not boxes:
        return box
    corners = np.array([(x, y) for b in boxes for x, y in ((b[0], b[1]), (b[2], b[3]))], float)
    x0, y0, x1, y1 = read_box(corners, frame)
    return min(box[0], x0), min(box[1], y0), max(box[2], x1), max(box[3], y1)


def kernel_radius(sigma: float) -> int:
    """At least the radius of cv2.GaussianBlur's kernel on uint8 (3 sigma), 0 if no blur."""
    return math.ceil(3 * sigma) + 1 if sigma > 0 else 0


def grow(rect: Rect, by: int, bounds: Rect) -> Rect:
    x0, y0, x1, y1 = rect
    bx0, by0, bx1, by1 = bounds
    return max(bx0, x0 - by), max(by0, y0 - by), min(bx1, x1 + by), min(by1, y1 + by)


def shift(rect: Rect, dx: int, dy: int) -> Rect:
    return rect[0] + dx, rect[1] + dy, rect[2] + dx, rect[3] + dy


def sub(image: np.ndarray, rect: Rect) -> np.ndarray:
    return image[rect[1] : rect[3], rect[0] : rect[2]]


def changed_rects(old: np.ndarray, new: np.ndarray) -> list[Rect]:
    """Rectangles covering the pixels where two screens differ: one per band of changed
    rows (a clock in the header and a spinner in the middle are two small rectangles)."""
    rows, cols = old.shape[:2]
    diff = cv2.absdiff(old, new).reshape(rows, cols * 3)
    changed = np.flatnonzero(cv2.reduce(diff, 1, cv2.REDUCE_MAX).ravel())
    if changed.size == 0:
        return []
    bands = np.split(changed, np.flatnonzero(np.diff(changed) > 16) + 1)
    if len(bands) > 8:  # scattered: one rectangle around everything
        bands = [changed]
    rects = []
    for band in bands:
        y0, y1 = int(band[0]), int(band[-1]) + 1
        x, _, width, _ = cv2.boundingRect(diff[y0:y1])
        rects.append((x // 3, y0, (x + width + 2) // 3, y1))
    return rects


#: Views as first built, in this process, by camera (seed, frame size, hand-held, effects),
#: bumps and screen size: building one takes ~0.15 s (the scene, the maps), and a test run
#: opens the same benches' cameras hundreds of times. Each camera model gets a copy of the
#: parts a frame is composed into (:func:`fresh_view`); the rest is shared, read-only. At
#: most a bench's cameras (a view holds a few frame-sized planes: tens of MB).
_BUILT: Kept[View] = Kept(8)


def fresh_view(key: tuple[object, ...], build: Callable[[], View]) -> View:
    """The view ``build`` makes for ``key`` (every input it depends on), as first built:
    built once per process, then copied."""

    def first() -> View:
        built = build()
        for array in (built.quad, *built.maps, built.inside, built.to_box, built.glass):
            array.flags.writeable = False
        return built

    built = _BUILT.get(key, first)
    return attrs.evolve(
        built, screen=None, filtered=built.filtered.copy(), patch_raw=built.patch_raw.copy(),
        frame=built.frame.copy(), warped=np.empty_like(built.warped),
        sigma=None if built.sigma is None else built.sigma.copy())


def build_view(
    scene: Scene,
    homography: np.ndarray,
    quad: np.ndarray,
    screen: tuple[int, int],
    blur: float,
    sigma_lut: np.ndarray | None,
    *,
    whole_reader: bool = False,
) -> View:
    """The view of a ``screen`` (width, height) that ``homography`` puts at ``quad`` in
    ``scene``, through a lens of Gaussian ``blur``; ``sigma_lut`` gives the sensor's noise
    sigma (fixed point) from the signal, None for a noiseless camera; ``whole_reader``: the
    frame is read over the whole reader (a hand-held photo), not its screen (see
    :func:`read_box`)."""
    w, h = screen
    fh, fw = scene.image.shape[:2]
    hull, alpha, image = scene.hull, scene.alpha, scene.image
    # GaussianBlur's kernel on uint8 reaches 3 sigma (4 on float); keep a safe margin
    reach = math.ceil(4 * blur) + 2 if blur > 0 else 0

    def box(margin: int) -> tuple[int, int, int, int]:
        x0, y0 = (max(0, math.floor(v) - 2 - margin) for v in quad.min(axis=0))
        x1, y1 = (
            min(n, math.ceil(v) + 3 + margin)
            for v, n in zip(quad.max(axis=0), (fw, fh), strict=True)
        )
        return x0, y0, x1, y1

    patch, keep = box(2 * reach), box(reach)
    # The screen is resampled straight from its own pixels into its bounding box with
    # maps computed once (cv2.remap; warpPerspective would recompute them per frame).
    # A shrunk screen is low-pass filtered first, as much as shrinking it with INTER_AREA
    # and warping the result bilinearly blurs (box of 1/s plus triangle of 1/s: variance
    # 0.25 / s^2 screen px^2, of which bilinear sampling itself gives 1/6).
    x0, y0, x1, y1 = patch
    (qx0, qy0), (qx1, qy1) = quad.min(axis=0), quad.max(axis=0)
    bx0, by0 = max(x0, math.floor(qx0) - 1), max(y0, math.floor(qy0) - 1)
    bx1, by1 = min(x1, math.ceil(qx1) + 2), min(y1, math.ceil(qy1) + 2)
    inverse = np.linalg.inv(translation(-bx0, -by0) @ homography)
    ys, xs = np.mgrid[0 : by1 - by0, 0 : bx1 - bx0].astype(np.float64)
    p = inverse @ np.stack([xs.ravel(), ys.ravel(), np.ones(xs.size)])
    map_x = (p[0] / p[2]).reshape(xs.shape).astype(np.float32)
    map_y = (p[1] / p[2]).reshape(xs.shape).astype(np.float32)
    maps = cv2.convertMaps(map_x, map_y, cv2.CV_16SC2)
    sx, sy = maps[0][..., 0], maps[0][..., 1]  # the neighbourhood's top left pixel
    inside = (sx >= 0) & (sx < w) & (sy >= 0) & (sy < h)
    scale = screen_scale((h, w), homography)
    prefilter = math.sqrt(max(0.0, 0.25 / scale**2 - 1 / 6)) if scale <= SHRINK_SCALE else 0
    frame = cv2.GaussianBlur(image, (0, 0), blur) if blur > 0 else image.copy()
    sigma = cv2.LUT(frame.reshape(fh, fw * 3), sigma_lut) if sigma_lut is not None else None
    return View(
        quad=quad.astype(np.float32),
        patch=patch,
        keep=keep,
        screen_box=(bx0 - x0, by0 - y0, bx1 - x0, by1 - y0),
        maps=maps,
        inside=inside.astype(np.uint8) * 255,
        to_box=translation(-bx0, -by0) @ homography,
        prefilter=prefilter,
        blur=blur,
        glass=np.clip(alpha * 255 + 0.5, 0, 255).astype(np.uint8),
        screen=None,
        filtered=np.zeros((h, w, 3), np.uint8),
        patch_raw=image[y0:y1, x0:x1].copy(),
        frame=frame,
        warped=np.empty((by1 - by0, bx1 - bx0, 3), np.uint8),
        sigma=sigma,
        read_box=(read_box(np.r_[hull, quad], (fw, fh)) if whole_reader
                  else read_box(quad, (fw, fh), screen_band(quad, blur))),
    )


def compose(
    view: View,
    screen: np.ndarray,
    levels: tuple[float, float] | None,
    sigma_lut: np.ndarray | None,
) -> None:
    """Put ``screen`` into the view's frame and noise sigma map: nothing to do if it is
    the screen already there, and only the parts that changed (a clock's digits, a
    spinner) are redone otherwise. Every step (levels, anti-aliasing, resampling, blur,
    sigma) is local, so a part redone with its kernels' reach gives the same pixels as
    redoing everything."""
    rows, cols = screen.shape[:2]
    whole = (0, 0, cols, rows)
    if view.screen is None:
        changes = [whole]
    elif cv2.norm(screen, view.screen, cv2.NORM_INF) == 0:
        return
    else:
        changes = changed_rects(view.screen, screen)
        if sum((r[2] - r[0]) * (r[3] - r[1]) for r in changes) > 0.5 * rows * cols:
            changes = [whole]
    if view.screen is None:
        view.screen = screen.copy()
    else:
        np.copyto(view.screen, screen)

    # 1. screen levels and anti-aliasing filter, into view.filtered
    reach = kernel_radius(view.prefilter)
    filtered = [grow(r, reach, whole) for r in changes]
    for rect in filtered:
        source = grow(rect, reach, whole)
        image = sub(screen, source)
        if levels is not None:
            image = cv2.convertScaleAbs(image, alpha=levels[0], beta=levels[1])
        if view.prefilter > 0:
            image = cv2.GaussianBlur(image, (0, 0), view.prefilter)
        inner = shift(rect, -source[0], -source[1])
        sub(view.filtered, rect)[...] = sub(image, inner)
    # 2. resampled into the patch where a changed pixel is in the bilinear neighbourhood
    bx0, by0, bx1, by1 = view.screen_box
    box_bounds = (0, 0, bx1 - bx0, by1 - by0)
    redone = []
    for x0, y0, x1, y1 in filtered:
        corners = np.array([[x0 - 1, y0 - 1], [x1, y0 - 1], [x1, y1], [x0 - 1, y1]], float)
        landed = project(view.to_box, corners)
        (lx0, ly0), (lx1, ly1) = landed.min(axis=0), landed.max(axis=0)
        rect = (
            math.floor(lx0) - 2,
            math.floor(ly0) - 2,
            math.ceil(lx1) + 3,
            math.ceil(ly1) + 3,
        )
        rect = grow(rect, 0, box_bounds)
        if rect[0] >= rect[2] or rect[1] >= rect[3]:
            continue
        warped = view.warped[: rect[3] - rect[1], : rect[2] - rect[0]]
        cv2.remap(
            view.filtered,
            sub(view.maps[0], rect),
            sub(view.maps[1], rect),
            cv2.INTER_LINEAR,
            dst=warped,
            borderMode=cv2.BORDER_REPLICATE,
        )
        in_patch = shift(rect, bx0, by0)
        cv2.copyTo(warped, sub(view.inside, rect), sub(view.patch_raw, in_patch))
        redone.append(in_patch)
    # 3. through the lens, into the frame's keep area, and 4. the noise sigma there
    px0, py0, px1, py1 = view.patch
    patch_bounds = (0, 0, px1 - px0, py1 - py0)
    keep = shift(view.keep, -px0, -py0)
    reach = kernel_radius(view.blur)
    fh, fw = view.frame.shape[:2]
    for rect in redone:
        out = grow(rect, reach, patch_bounds)
        source = grow(out, reach, patch_bounds)
        image = sub(view.patch_raw, source)
        if view.blur > 0:
            image = cv2.GaussianBlur(image, (0, 0), view.blur)
        out = grow(out, 0, keep)
        if out[0] >= out[2] or out[1] >= out[3]:
            continue
        in_frame = shift(out, px0, py0)
        sub(view.frame, in_frame)[...] = sub(image, shift(out, -source[0], -source[1]))
        if view.sigma is not None:
            x0, y0, x1, y1 = in_frame
            cv2.LUT(
                view.frame.reshape(fh, fw * 3)[y0:y1, 3 * x0 : 3 * x1],
                sigma_lut,
                dst=view.sigma[y0:y1, 3 * x0 : 3 * x1],
            )

