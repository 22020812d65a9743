"""Camera model: time per capture of a 1024x600 screen at 1920x1080, on one core.

A bench camera (default effects) films a screen with text, edges and flat areas; the first
capture (which builds the pose's static scene) is not counted. Three cases: the same
screen in every frame (a reader showing one state: the camera model reuses the screen
composed into the frame), a clock that ticks in every frame (only the digits' part of the
screen is composed again) and a different screen in every frame (all of it is warped,
filtered and blurred into the frame each time). The screens are drawn before timing.

    python benchmarks/camera_model.py [--frames 300] [--seeds 3] [--hand-held]
"""

from __future__ import annotations

import os

# One core: OpenCV below, and any BLAS numpy might call.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.emulation.camera_model import CameraModel  # noqa: E402


def screen(w: int = 1024, h: int = 600, clock: int = 0, page: int = 0) -> np.ndarray:
    """A light reader screen: a header bar, a panel, text lines, a button, a coloured disc."""
    s = np.full((h, w, 3), 235 - 40 * (page % 2), np.uint8)
    cv2.rectangle(s, (0, 0), (w, 60), (120, 60, 20), -1)
    text = f"12:{clock % 60:02d}  Online"
    cv2.putText(s, text, (20, 42), cv2.FONT_HERSHEY_SIMPLEX, 1.1, (255,) * 3, 2)
    cv2.rectangle(s, (60, 100), (w - 60, 420), (250, 250, 250), -1)
    cv2.rectangle(s, (60, 100), (w - 60, 420), (60, 60, 60), 2)
    for i in range(6):
        cv2.putText(
            s, f"Line {i}: please place the card {page}", (90, 150 + 45 * i),
            cv2.FONT_HERSHEY_SIMPLEX, 1.0, (30, 30, 30), 2, cv2.LINE_AA,
        )  # fmt: skip
    cv2.rectangle(s, (w // 2 - 150, 460), (w // 2 + 150, 560), (40, 150, 40), -1)
    cv2.putText(s, "OK", (w // 2 - 30, 525), cv2.FONT_HERSHEY_SIMPLEX, 1.6, (255,) * 3, 3)
    cv2.circle(s, (w - 120, 510), 50, (0, 140, 230), -1, cv2.LINE_AA)
    return s


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=300, help="captures per camera")
    parser.add_argument("--seeds", type=int, default=3, help="cameras (seeds 0..n-1)")
    parser.add_argument("--hand-held", action="store_true")
    args = parser.parse_args()
    cv2.setNumThreads(1)

    cases = {
        "same screen": [screen()],
        "clock ticks": [screen(clock=k) for k in range(60)],
        "new screen": [screen(page=k) for k in range(2)],
    }
    for case, screens in cases.items():
        times: list[float] = []
        for seed in range(args.seeds):
            camera = CameraModel(seed, (1920, 1080), hand_held=args.hand_held)
            camera.capture(screens[0], 0.0)  # builds the pose's static scene: not counted
            for k in range(args.frames):
                image = screens[(k + 1) % len(screens)]
                t0 = time.perf_counter()
                camera.capture(image, 0.2 * (k + 1))
                times.append((time.perf_counter() - t0) * 1000)
        times.sort()
        print(
            f"{case:12s} {len(times)} captures of a 1024x600 screen at 1920x1080, one core: "
            f"median {statistics.median(times):.2f} ms, "
            f"p10 {times[len(times) // 10]:.2f} ms, p90 {times[len(times) * 9 // 10]:.2f} ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
