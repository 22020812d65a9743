"""Screen recognition on camera-model frames at 1920x1080: accuracy and time per frame.

For each maker (and the terminal's monitor) and each of its reference screens, the twin's
renderer draws the screen at several moments (the header clock and any loading circle
change), and several bench cameras (each its own pose, blur, noise, drift, glare and JPEG)
film it. Each camera is calibrated once, on its first frame, by finding the screen;
then every frame is rectified and classified, and the time of that (rectify + classify) is
what is reported, on one core.

    python benchmarks/screen_recognition.py [--cameras 2] [--moments 5] [--device KEY]...
"""

from __future__ import annotations

import os

# One core, as the issue asks: OpenCV below, and any BLAS numpy might call.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import cv2  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.emulation.camera_model import CameraModel  # noqa: E402
from harness.emulation.screen_renderer import ScreenRenderer  # noqa: E402
from harness.emulation.screen_views import reference_targets  # noqa: E402
from harness.model.clock import JST  # noqa: E402
from harness.vision.classify import Classifier  # noqa: E402
from harness.vision.locate import locate  # noqa: E402
from harness.vision.reference import ReferenceSet, screens_dir_for  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cameras", type=int, default=2, help="bench cameras per device")
    parser.add_argument("--moments", type=int, default=5, help="frames per state per camera")
    parser.add_argument("--device", action="append", default=[], help="only this maker")
    args = parser.parse_args()
    cv2.setNumThreads(1)

    start = dt.datetime(2026, 2, 2, 8, 30, tzinfo=JST)
    times: list[float] = []
    total = correct = 0
    wrong: list[str] = []
    right_scores: list[float] = []
    per_device: dict[str, tuple[int, int]] = {}
    for key, look, plans in reference_targets():
        if args.device and key not in args.device:
            continue
        refs = ReferenceSet.load(screens_dir_for(key))
        classifier = Classifier(refs)
        renderer = ScreenRenderer(look)
        renderer.prime(refs)
        n_dev = ok_dev = 0
        for cam_index in range(args.cameras):
            camera = CameraModel(seed=100 + cam_index)
            calibration = None
            for k in range(args.moments):
                for plan in plans:
                    t = 7.3 * k + 0.37 * len(plan.name)
                    wallclock = start + dt.timedelta(seconds=60 * k)
                    screen = renderer.render(plan.drawn, t, wallclock).image
                    frame = camera.capture(screen, t).image
                    if calibration is None:
                        if plan.drawn.shows == "dark":
                            continue  # a dark panel cannot be found: calibrate on the next
                        calibration = locate(frame, classifier).calibration
                    t0 = time.perf_counter()
                    decision = classifier.classify_frame(frame, calibration)
                    times.append((time.perf_counter() - t0) * 1000)
                    expected = plan.name.split("@", 1)[0]
                    n_dev += 1
                    if decision.state == expected:
                        ok_dev += 1
                        right_scores.append(decision.score)
                    else:
                        wrong.append(f"{key}/{plan.name} (camera {cam_index}, t={t:.1f}): "
                                     f"{decision.state} {decision.score:.3f} {decision.why}")
        per_device[key] = (ok_dev, n_dev)
        total += n_dev
        correct += ok_dev
        print(f"{key:14} {ok_dev}/{n_dev} correct", flush=True)
    times.sort()
    p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
    print(f"frames: {total}, correct: {correct} ({100.0 * correct / total:.2f} %)")
    print(f"recognition once calibrated (rectify + classify, one core): "
          f"median {statistics.median(times):.2f} ms, p95 {p95:.2f} ms, "
          f"max {times[-1]:.2f} ms")
    print(f"lowest score of a right answer: {min(right_scores):.3f} "
          f"(unknown below {Classifier(ReferenceSet.load(screens_dir_for('canon'))).accept})")
    for line in wrong:
        print("  wrong:", line)
    return 0 if correct == total else 1


if __name__ == "__main__":
    raise SystemExit(main())
