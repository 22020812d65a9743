"""The scene a camera model looks at, besides the screen: the bench (a cluttered desk,
drawn once per seed) and the reader's housing (its front face, sides and shadow), seen
through one pose's homographies."""

from __future__ import annotations

import math
from typing import Any

import attrs
import cv2
import numpy as np

from harness.emulation.camera_draws import TAG, stream
from harness.emulation.camera_pose import PinholeCamera, project, translation, warp
from harness.kept import Kept


@attrs.frozen(eq=False)
class Housing:
    """The reader's front face, drawn in screen-pixel units (object plane, z = 0)."""

    image: np.ndarray  # BGR
    alpha: np.ndarray  # uint8, 255 inside the rounded outline
    origin: tuple[int, int]  # where screen pixel (0, 0) is in ``image``
    outline: np.ndarray  # (N, 2) rounded outline in screen coordinates
    depth: float  # body thickness, screen px
    side_colour: tuple[float, float, float]


def rotated_rect(img: np.ndarray, centre: Any, size: Any, angle: float, colour: Any) -> None:
    box = cv2.boxPoints((tuple(map(float, centre)), tuple(map(float, size)), float(angle)))
    cv2.fillConvexPoly(img, np.rint(box * 16).astype(np.int32), colour, cv2.LINE_AA, 4)


#: Bench canvases drawn in this process, by (seed, rows, cols): the same seed draws the same
#: desk, and drawing one takes ~0.5 s (a test run opens the same cameras many times).
_CANVASES: Kept[np.ndarray] = Kept(12)


def bench_canvas(seed: int, rows: int, cols: int) -> np.ndarray:
    """The desk seen by the camera of ``seed`` (read-only: shared by every model of it)."""

    def draw() -> np.ndarray:
        canvas = render_bench(stream(seed, TAG["bench"]), rows, cols)
        canvas.flags.writeable = False
        return canvas

    return _CANVASES.get((seed, rows, cols), draw)


def render_bench(rng: np.random.Generator, rows: int, cols: int) -> np.ndarray:
    """The bench surface and its clutter: uneven light, grain, papers (nearly as bright as a
    white screen), a keyboard (a grid of small quads), cables, notes, a mug."""
    palettes = [(150, 150, 146), (64, 98, 140), (90, 90, 95), (172, 176, 178), (96, 128, 158)]
    base = np.array(palettes[rng.integers(len(palettes))], np.float32) * rng.uniform(0.9, 1.1, 3)
    light = cv2.resize(
        rng.uniform(0.72, 1.08, (3, 5)).astype(np.float32), (cols, rows), cv2.INTER_CUBIC
    )
    grain = rng.standard_normal((max(2, rows // 6), max(2, cols // 48)), dtype=np.float32)
    fine = rng.standard_normal((max(2, rows // 2), max(2, cols // 2)), dtype=np.float32)
    texture = cv2.resize(grain, (cols, rows)) * 5 + cv2.resize(fine, (cols, rows)) * 3
    # Channel by channel: broadcast over a last axis of 3, numpy's inner loop runs 3 long
    # and the canvas took a second and a half to draw (the same numbers, in float64).
    img = cv2.merge([np.clip(b * light + texture, 0, 255).astype(np.uint8) for b in base])

    scale = cols / 1000  # object sizes follow the canvas
    # a keyboard: dark body, a grid of lighter keys (many small quads)
    kw, kh = rng.uniform(300, 420) * scale, rng.uniform(100, 140) * scale
    kx, ky = rng.uniform(0.2, 0.8) * cols, rng.choice([0.12, 0.9]) * rows
    angle = rng.uniform(-8, 8)
    rotated_rect(img, (kx, ky), (kw, kh), angle, (38, 38, 40))
    rot = cv2.getRotationMatrix2D((0, 0), -angle, 1)[:, :2]
    for i in range(12):
        for j in range(4):
            off = rot @ np.array([(i - 5.5) * kw / 13, (j - 1.5) * kh / 5])
            rotated_rect(img, (kx + off[0], ky + off[1]), (kw / 16, kh / 7), angle, (70, 70, 74))
    # paper sheets, smaller than the screen and a little dimmer than a white one: brightness
    # alone must not find the screen; at least one sheet lies well left or right of the reader
    for n in range(rng.integers(2, 4)):
        side = rng.choice([0.08, 0.92]) if n == 0 else rng.uniform(0.05, 0.95)
        pw = rng.uniform(90, 150) * scale
        centre = (side * cols, rng.uniform(0.2, 0.8) * rows)
        angle = rng.uniform(-40, 40)
        paper = tuple(rng.uniform(175, 205) + rng.uniform(-6, 6, 3))
        rotated_rect(img, centre, (pw, pw * 1.41), angle, paper)
        rot = cv2.getRotationMatrix2D((0, 0), -angle, 1)[:, :2]
        for line in range(rng.integers(4, 9)):  # printed text lines
            off = rot @ np.array([0, (line - 4) * pw * 0.12])
            length = pw * rng.uniform(0.4, 0.75)
            rotated_rect(img, np.add(centre, off), (length, pw * 0.03), angle, (110, 110, 110))
    # sticky notes, a card, a pen, a mug seen from above, cables
    for _ in range(rng.integers(2, 5)):
        colour = [(90, 225, 240), (180, 140, 250), (120, 240, 140)][rng.integers(3)]
        size = rng.uniform(40, 60) * scale
        centre = (rng.uniform(0, cols), rng.uniform(0, rows))
        rotated_rect(img, centre, (size, size), rng.uniform(-30, 30), colour)
    for (w, h), colour in (((86, 54), (215, 205, 225)), ((140, 9), (160, 60, 30))):  # card, pen
        centre = (rng.uniform(0, cols), rng.uniform(0, rows))
        rotated_rect(img, centre, (w * scale, h * scale), rng.uniform(-90, 90), colour)
    mug = (int(rng.uniform(0, cols)), int(rng.uniform(0, rows)))
    cv2.circle(img, mug, int(45 * scale), (235, 235, 235), -1, cv2.LINE_AA)
    cv2.circle(img, mug, int(36 * scale), (40, 60, 90), -1, cv2.LINE_AA)
    for _ in range(rng.integers(1, 3)):  # cables: smooth random curves
        heading = np.cumsum(rng.normal(0, 0.25, 40)) + rng.uniform(0, 2 * math.pi)
        steps = np.c_[np.cos(heading), np.sin(heading)] * 25 * scale
        points = np.cumsum(steps, axis=0) + (rng.uniform(0, cols), rng.uniform(0, rows))
        colour = (20, 20, 22) if rng.random() < 0.6 else (225, 225, 225)
        cv2.polylines(
            img,
            [np.rint(points * 16).astype(np.int32)],
            False,
            colour,
            max(2, int(6 * scale)),
            cv2.LINE_AA,
            4,
        )
    return img


def rounded_outline(x0: float, y0: float, x1: float, y1: float, radius: float) -> np.ndarray:
    corners = [
        (x1 - radius, y0 + radius, -90),
        (x1 - radius, y1 - radius, 0),
        (x0 + radius, y1 - radius, 90),
        (x0 + radius, y0 + radius, 180),
    ]
    points = []
    for cx, cy, start in corners:
        for a in np.radians(np.linspace(start, start + 90, 7)):
            points.append((cx + radius * math.cos(a), cy + radius * math.sin(a)))
    return np.array(points)


def render_housing(rng: np.random.Generator, w: int, h: int) -> Housing:
    """The reader's front: a dark body well larger than the screen, a thin glossy bezel, the
    face camera above the screen, a logo plate, an LED and a card-placement mark below."""
    u = max(w, h)
    side, top, bottom = round(0.055 * u), round(0.11 * u), round(0.2 * u)
    hw, hh = w + 2 * side, h + top + bottom
    grey = rng.uniform(28, 58)
    body = np.array([grey, grey, grey]) * rng.uniform(0.95, 1.05, 3)
    shade = np.linspace(10, -8, hh)[:, None]  # lit from above
    column = np.clip(body[None, :] + shade + 0.5, 0, 255).astype(np.uint8)
    img = cv2.resize(column[:, None, :], (hw, hh), interpolation=cv2.INTER_NEAREST)
    outline = rounded_outline(0, 0, hw - 1, hh - 1, 0.035 * u)
    alpha = np.zeros((hh, hw), np.uint8)
    pts16 = np.rint(outline * 16).astype(np.int32)
    cv2.fillPoly(alpha, [pts16], 255, cv2.LINE_AA, 4)
    # a lighter chamfer along the edge: the housing's outline is a crisp (rounded) quad too
    edge = tuple(float(c) + 35 for c in body)
    cv2.polylines(img, [pts16], True, edge, max(2, round(0.004 * u)), cv2.LINE_AA, 4)
    bezel = max(2, round(0.012 * u))
    cv2.rectangle(
        img, (side - bezel, top - bezel), (side + w + bezel, top + h + bezel), (14, 14, 16), -1
    )
    cv2.rectangle(img, (side, top), (side + w - 1, top + h - 1), (6, 6, 6), -1)
    lens = (hw // 2, top // 2)
    cv2.circle(img, lens, round(0.02 * u), (60, 60, 62), -1, cv2.LINE_AA)
    cv2.circle(img, lens, round(0.014 * u), (8, 8, 10), -1, cv2.LINE_AA)
    cv2.circle(
        img,
        (lens[0] - round(0.004 * u), lens[1] - round(0.004 * u)),
        max(1, round(0.003 * u)),
        (200, 200, 210),
        -1,
        cv2.LINE_AA,
    )
    row = top + h + round(bottom * 0.45)
    plate_w, plate_h = round(0.16 * u), round(0.045 * u)
    plate = rng.uniform(150, 190)
    cv2.rectangle(
        img,
        (hw // 2 - plate_w // 2, row - plate_h // 2),
        (hw // 2 + plate_w // 2, row + plate_h // 2),
        (plate, plate, plate),
        -1,
    )
    font_scale = plate_h / 30
    text_size = cv2.getTextSize("ONSHI", cv2.FONT_HERSHEY_SIMPLEX, font_scale, 2)[0]
    cv2.putText(
        img,
        "ONSHI",
        (hw // 2 - text_size[0] // 2, row + text_size[1] // 2),
        cv2.FONT_HERSHEY_SIMPLEX,
        font_scale,
        (40, 40, 40),
        2,
        cv2.LINE_AA,
    )
    cv2.circle(
        img,
        (hw - side - round(0.03 * u), row),
        max(2, round(0.007 * u)),
        (70, 230, 90),
        -1,
        cv2.LINE_AA,
    )
    mark = (side + round(0.03 * u), row - plate_h // 2)
    cv2.rectangle(
        img,
        mark,
        (mark[0] + round(0.12 * u), mark[1] + round(0.075 * u)),
        tuple(float(c) + 45 for c in body),
        max(1, round(0.003 * u)),
        cv2.LINE_AA,
    )
    return Housing(
        image=img,
        alpha=alpha,
        origin=(side, top),
        outline=outline - (side, top),
        depth=0.05 * u,
        side_colour=tuple(float(c) * 0.6 for c in body),
    )


@attrs.frozen(eq=False)
class Scene:
    """The bench and the reader as one pose sees them, the screen's area left dark."""

    image: np.ndarray  # BGR uint8, the frame's size
    #: float32 0..1: where the housing's face is (the glass, where glare can appear)
    alpha: np.ndarray
    hull: np.ndarray  # (N, 2) the convex hull of the reader's face and back in the frame


def render_scene(
    bench: np.ndarray,
    pad: int,
    housing: Housing,
    cam: PinholeCamera,
    quad: np.ndarray,
    frame: tuple[int, int],
) -> Scene:
    """The ``bench`` canvas (the frame grown by ``pad`` on every side) with the reader
    whose screen lands at ``quad`` on it, seen through ``cam``: the reader's shadow, its
    sides and its ``housing``'s front face."""
    fw, fh = frame
    homography = cam.plane()
    # The bench moves with the camera: a knock that moves the reader right in the frame
    # moves the bench behind it right too (a rotation shifts near and far alike).
    centre = quad.mean(axis=0)
    cx = int(np.clip(round(pad - (centre[0] - (fw - 1) / 2)), 0, 2 * pad))
    cy = int(np.clip(round(pad - (centre[1] - (fh - 1) / 2)), 0, 2 * pad))
    scene = bench[cy : cy + fh, cx : cx + fw].astype(np.float32)

    front = project(homography, housing.outline)
    back = project(cam.plane(housing.depth), housing.outline)
    hull = cv2.convexHull(np.r_[front, back].astype(np.float32)).reshape(-1, 2)
    # soft shadow of the reader on the bench, drawn small and blurred (cheap, once)
    small = 4
    shadow = np.zeros((fh // small + 1, fw // small + 1), np.float32)
    offset = np.array([0.012 * fw, 0.03 * fh])
    cv2.fillPoly(
        shadow, [np.rint((hull + offset) / small * 16).astype(np.int32)], 1.0, cv2.LINE_AA, 4
    )
    shadow = cv2.GaussianBlur(shadow, (0, 0), 0.015 * fw / small)
    shadow = cv2.resize(shadow, (fw, fh), interpolation=cv2.INTER_LINEAR)
    scene *= (1 - 0.45 * shadow)[..., None]
    # the body's sides, visible when the reader is seen at an angle
    cv2.fillPoly(
        scene, [np.rint(hull * 16).astype(np.int32)], housing.side_colour, cv2.LINE_AA, 4
    )
    to_frame = homography @ translation(-housing.origin[0], -housing.origin[1])
    face = warp(housing.image, to_frame, (fw, fh)).astype(np.float32)
    alpha = warp(housing.alpha, to_frame, (fw, fh)).astype(np.float32) / 255
    # scene * (1 - alpha) + face * alpha, rounded: in place (the same float32 operations,
    # without a frame-sized temporary for each).
    scene *= (1 - alpha)[..., None]
    face *= alpha[..., None]
    scene += face
    scene += 0.5
    np.clip(scene, 0, 255, out=scene)
    return Scene(image=scene.astype(np.uint8), alpha=alpha, hull=hull)
