"""Where a camera model stands: its pose (sampled per camera, nudged by a knock), the
pinhole camera it makes and the homographies of the reader's planes into the frame."""

from __future__ import annotations

import math

import attrs
import cv2
import numpy as np

#: A screen shrunk below this scale is low-pass filtered first: plain bilinear sampling
#: aliases thin lines when the image gets smaller, which a real lens and sensor never do.
SHRINK_SCALE = 0.8


@attrs.frozen
class Pose:
    """Where the camera is, as the things a person would vary."""

    frac: float  # screen's bounding-box width / frame width
    yaw: float  # degrees
    pitch: float
    roll: float
    cx: float  # where the screen's centre lands, as a fraction of the frame's width/height
    cy: float
    hfov: float  # horizontal field of view, degrees


@attrs.frozen
class PoseRanges:
    frac: tuple[float, float]
    tilt: float  # max |yaw|, |pitch|
    roll: float
    centre: float  # max offset of the screen's centre from the frame's centre (fraction)
    hfov: tuple[float, float]
    housing_in_frame: bool  # a bench camera is set up to see the whole reader


BENCH = PoseRanges((0.35, 0.60), 15.0, 5.0, 0.10, (55.0, 75.0), True)
HAND_HELD = PoseRanges((0.25, 0.70), 35.0, 20.0, 0.16, (60.0, 75.0), False)


def rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    y, p, r = np.radians([yaw, pitch, roll])
    ry = np.array([[math.cos(y), 0, math.sin(y)], [0, 1, 0], [-math.sin(y), 0, math.cos(y)]])
    rx = np.array([[1, 0, 0], [0, math.cos(p), -math.sin(p)], [0, math.sin(p), math.cos(p)]])
    rz = np.array([[math.cos(r), -math.sin(r), 0], [math.sin(r), math.cos(r), 0], [0, 0, 1]])
    return rz @ rx @ ry


def project(h: np.ndarray, points: np.ndarray) -> np.ndarray:
    p = np.c_[points, np.ones(len(points))] @ h.T
    return p[:, :2] / p[:, 2:3]


def translation(dx: float, dy: float) -> np.ndarray:
    return np.array([[1.0, 0, dx], [0, 1, dy], [0, 0, 1]])


class PinholeCamera:
    """Pinhole camera looking at the reader: homographies of planes parallel to its face."""

    def __init__(self, pose: Pose, screen: tuple[int, int], frame: tuple[int, int]) -> None:
        (w, h), (fw, fh) = screen, frame
        f = (fw / 2) / math.tan(math.radians(pose.hfov) / 2)
        self.k = np.array([[f, 0, (fw - 1) / 2], [0, f, (fh - 1) / 2], [0, 0, 1]])
        self.r = rotation(pose.yaw, pose.pitch, pose.roll)
        # Object coordinates: screen pixels, origin at the screen's centre, z away from the
        # camera (the reader's back is at +z). Start on the optical axis, then solve for the
        # distance giving the wanted width and the shift putting the centre where wanted.
        self.centre = translation(-w / 2, -h / 2)
        corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], float)
        target = np.array([pose.cx * fw, pose.cy * fh])
        self.t = np.array([0.0, 0.0, f * w / (pose.frac * fw)])
        for _ in range(6):
            width = np.ptp(project(self.plane(), corners)[:, 0])
            self.t[2] *= width / (pose.frac * fw)
            self.t[:2] = (target - self.k[:2, 2]) * self.t[2] / f

    def plane(self, z: float = 0.0) -> np.ndarray:
        """Homography from screen coordinates on the plane at depth z to the frame."""
        m = np.c_[self.r[:, 0], self.r[:, 1], self.r[:, 2] * z + self.t]
        return self.k @ m @ self.centre


def screen_quad(pose: Pose, screen: tuple[int, int], frame: tuple[int, int]) -> np.ndarray:
    """Where the screen's corners tl, tr, br, bl land in the frame."""
    w, h = screen
    cam = PinholeCamera(pose, screen, frame)
    return project(cam.plane(), np.array([[0, 0], [w, 0], [w, h], [0, h]], float))


def inside(points: np.ndarray, frame: tuple[int, int], margin: float) -> bool:
    fw, fh = frame
    x, y = points[:, 0], points[:, 1]
    return bool(
        (x >= margin).all()
        and (x <= fw - 1 - margin).all()
        and (y >= margin).all()
        and (y <= fh - 1 - margin).all()
    )


def sample_pose(
    ranges: PoseRanges,
    min_roll: float,
    frame: tuple[int, int],
    screen: tuple[int, int],
    housing: tuple[np.ndarray, float],
    previous: Pose | None,
    rng: np.random.Generator,
) -> Pose:
    """Rejection sampling: the screen (and on a bench the whole reader: ``housing``'s
    outline in screen coordinates and its depth) must be in the frame; after a bump (a
    ``previous`` pose) the screen must have moved noticeably. Constraints relax if a
    screen's shape makes them impossible."""
    r = ranges
    roll = max(r.roll, min_roll)
    fw, fh = frame
    outline, depth = housing
    old = screen_quad(previous, screen, frame) if previous else None
    for attempt in range(600):
        shrink = 0.9 ** (attempt // 100)  # smaller screens when nothing fits
        if previous is None:
            pose = Pose(
                frac=rng.uniform(*r.frac) * shrink,
                yaw=rng.uniform(-r.tilt, r.tilt),
                pitch=rng.uniform(-r.tilt, r.tilt),
                roll=rng.uniform(-roll, roll),
                cx=0.5 + rng.uniform(-r.centre, r.centre),
                cy=0.5 + rng.uniform(-r.centre, r.centre) * fw / fh,
                hfov=rng.uniform(*r.hfov),
            )
        else:  # a knock: the same kind of view, moved by a few degrees

            def nudge(value: float, low: float, high: float, limit: float) -> float:
                step = rng.uniform(low, high) * rng.choice([-1, 1])
                return float(np.clip(value + step, -limit, limit))

            pose = attrs.evolve(
                previous,
                frac=float(np.clip(previous.frac * rng.uniform(0.9, 1.1), *r.frac)) * shrink,
                yaw=nudge(previous.yaw, 1, 4, r.tilt),
                pitch=nudge(previous.pitch, 1, 4, r.tilt),
                roll=nudge(previous.roll, 0.5, 2, r.roll),
                cx=0.5 + nudge(previous.cx - 0.5, 0.02, 0.06, r.centre),
                cy=0.5 + nudge(previous.cy - 0.5, 0.02, 0.06, r.centre * fw / fh),
            )
        quad = screen_quad(pose, screen, frame)
        if not inside(quad, frame, 0.02 * min(fw, fh)):
            continue
        if r.housing_in_frame and attempt < 300:
            cam = PinholeCamera(pose, screen, frame)
            body = np.r_[
                project(cam.plane(), outline),
                project(cam.plane(depth), outline),
            ]
            if not inside(body, frame, 0):
                continue
        if old is not None and np.linalg.norm(quad - old, axis=1).mean() < 0.03 * fw:
            continue
        return pose
    raise ValueError(
        f"camera model: cannot place a {screen[0]}x{screen[1]} screen in a {fw}x{fh} frame"
    )


# -- resampling through a homography ------------------------------------------------------


def warp(src: np.ndarray, h: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """warpPerspective that shrinks with INTER_AREA first: plain linear warping aliases
    thin lines when the image gets smaller, which a real lens and sensor never do."""
    src, h = _shrink_for(src, h)
    return cv2.warpPerspective(src, h, size, flags=cv2.INTER_LINEAR)


def screen_scale(shape: tuple[int, ...], h: np.ndarray) -> float:
    """How much ``h`` magnifies an image of ``shape`` on average (sqrt of the area ratio)."""
    rows, cols = shape[:2]
    corners = np.array([[0, 0], [cols, 0], [cols, rows], [0, rows]], float)
    area = cv2.contourArea(project(h, corners).astype(np.float32))
    return math.sqrt(area / (rows * cols))


def _shrink_size(shape: tuple[int, ...], h: np.ndarray) -> tuple[int, int] | None:
    rows, cols = shape[:2]
    scale = screen_scale(shape, h)
    if scale > SHRINK_SCALE:
        return None
    return max(2, round(cols * scale)), max(2, round(rows * scale))


def _shrunk_homography(shape: tuple[int, ...], size: tuple[int, int], h: np.ndarray) -> np.ndarray:
    # resize maps pixel centres x -> (x + 0.5) * s - 0.5
    sx, sy = size[0] / shape[1], size[1] / shape[0]
    s = np.array([[sx, 0, 0.5 * sx - 0.5], [0, sy, 0.5 * sy - 0.5], [0, 0, 1]])
    return h @ np.linalg.inv(s)


def _shrink_for(src: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    size = _shrink_size(src.shape, h)
    if size is None:
        return src, h
    return cv2.resize(src, size, interpolation=cv2.INTER_AREA), _shrunk_homography(
        src.shape, size, h
    )
