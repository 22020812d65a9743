"""Glyph text checks on camera-model frames: false failures on genuine screens, one-character
mutants caught, and the OCR's time per screen (one core).

For every device (the five makers' readers and the terminal) and every reference screen
that shows text, cameras film the twin's screen (bench and hand-held cameras with the
default effects; harsh ones where ``CameraEffects.harsh()`` exists), each frame is cut out at
the references' size with the camera's corners, and every text of the reference (texts,
dialog title, button labels) is checked glyph by glyph. A frame fails when one of its
texts fails: on genuine screens that is a false failure. Screens under a loading circle
(``overlay``) hide part of their text: counted apart, failing them is right.

A text that fails on a frame is, in the flows, looked for again on up to 2 later looks
(harness/flows/runner.py, REJUDGE; looks 0.25 s apart): the benchmark also counts the texts
still failing after those 2 looks (frames 0.25 s and 0.5 s later, a new motion blur, JPEG
and hot spot each; the camera's gain, gamma, defocus and moiré stay).

Mutants: each texted reference with one character of one text changed (a kana's dakuten, a
digit, a kanji for another, a bracket dropped, a colon's width swapped), filmed by a bench
camera and by a harsh one; the changed text must fail (not matching, or unread).

``--seed N`` (N > 0) films with other cameras, times and mutants than the default (N = 0):
figures on seeds nothing was tuned on.

    python benchmarks/text_check.py [--moments 3] [--mutants 2] [--seed N] [--device KEY]...
"""

from __future__ import annotations

import os

# One core: OpenCV, BLAS and Tesseract's OpenMP.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from pathlib import Path  # noqa: E402

import cv2  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.emulation import camera_model  # noqa: E402
from harness.emulation.camera_model import CameraModel  # noqa: E402
from harness.emulation.screen_renderer import Drawn, ScreenRenderer  # noqa: E402
from harness.emulation.screen_views import reference_targets  # noqa: E402
from harness.vision.geometry import Calibration  # noqa: E402
from harness.vision.ocr import read_lines  # noqa: E402
from harness.vision.reference import Reference, ReferenceSet, screens_dir_for  # noqa: E402
from harness.vision.text_check import checker_for, drawn_form  # noqa: E402

#: One-character changes a faulty reader might make, by kind.
SWAPS = {
    "dakuten": dict(zip("かきくけこさしすせそたちつてとはひふへほ", "がぎぐげござじずぜぞだぢづでどばびぶべぼ",
                        strict=True)),
    "digit": dict(zip("0123456789", "1234567890", strict=True)),
    "colon": {"：": ":", ":": "："},
    "kanji": dict(zip("認証確資格障害発生員受付窓口連絡取出番号入力", "忍正碓貸各陣宮癸主貝愛附窗日運給収山審呈人刀",
                      strict=True)),
    "kana": dict(zip("ンソシツノメワウクタ", "ソンツシメノクワタク", strict=True)),
    "bracket": {"【": "", "】": ""},
    # Near-identical glyphs of another script: the long vowel mark for the kanji one, katakana
    # for the kanji they look like.
    "lookalike": dict(zip("ーロカエニハトタヘ", "一口力工二八卜夕へ", strict=True)),
}


def texts_of(ref: Reference) -> list[str]:
    return [*(t for t in ref.texts), *([ref.title] if ref.title else []), *ref.buttons]


def drawn_of(ref: Reference, texts: tuple[str, ...] | None = None,
             title: str | None = None) -> Drawn:
    return Drawn(ref.state, ref.shows or ref.state, ref.texts if texts is None else texts,
                 ref.buttons, ref.overlay, title if title is not None else ref.title)


def mutants(ref: Reference, rng: random.Random, n: int) -> list[tuple[str, str, Drawn, str]]:
    """Up to ``n`` one-character mutants of the reference's texts and title: (kind, the
    text expected, the screen drawn, the changed text)."""
    out = []
    sources = [("text", i, t) for i, t in enumerate(ref.texts)]
    if ref.title:
        sources.append(("title", 0, ref.title))
    options = []
    for where, i, text in sources:
        drawn = drawn_form(text)
        for k, char in enumerate(drawn):
            for kind, swaps in SWAPS.items():
                if char in swaps:
                    options.append((kind, where, i, text, drawn[:k] + swaps[char] + drawn[k + 1:]))
    rng.shuffle(options)
    kinds_seen: Counter[str] = Counter()
    for kind, where, i, text, changed in options:
        if len(out) >= n or kinds_seen[kind] >= 1:
            continue
        kinds_seen[kind] += 1
        if where == "title":
            out.append((kind, text, drawn_of(ref, title=changed), changed))
        else:
            texts = tuple(changed if j == i else t for j, t in enumerate(ref.texts))
            out.append((kind, text, drawn_of(ref, texts), changed))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--moments", type=int, default=3, help="frames per screen per camera")
    parser.add_argument("--mutants", type=int, default=2, help="mutants per texted screen")
    parser.add_argument("--device", action="append", default=[], help="only this device")
    parser.add_argument("--seed", type=int, default=0,
                        help="0: the default cameras and mutants; N > 0: others")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    harsh = getattr(camera_model.CameraEffects, "harsh", None)
    base = 1000 * args.seed
    cameras = [("bench", base + 1, False, None), ("bench", base + 2, False, None),
               ("bench", base + 3, False, None), ("hand-held", base + 5, True, None),
               ("hand-held", base + 6, True, None)]
    if harsh is not None:
        cameras += [("harsh", base + 21, False, harsh()), ("harsh", base + 22, True, harsh())]
    mutant_cameras = [("bench", base + 4, False, None)]
    if harsh is not None:
        mutant_cameras.append(("harsh", base + 23, True, harsh()))
    frames: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    checks: Counter[str] = Counter()
    failed_checks: Counter[str] = Counter()
    failures: list[str] = []
    #: Texts failed on a frame and on the flows' 2 later looks too.
    relook_failed: Counter[str] = Counter()
    relook_failures: list[str] = []
    by_type: Counter[tuple[str, str]] = Counter()
    caught: Counter[str] = Counter()
    tried: Counter[str] = Counter()
    missed: list[str] = []
    ocr_times: list[float] = []
    check_times: list[float] = []
    # One mutant draw per camera kind (the bench's as it always was).
    rngs = {"bench": random.Random(12 + args.seed), "harsh": random.Random(1012 + args.seed)}
    for key, look, _plans in reference_targets():
        if args.device and key not in args.device:
            continue
        refs = ReferenceSet.load(screens_dir_for(key))
        renderer = ScreenRenderer(look)
        renderer.prime(refs)
        checker = checker_for(refs)
        texted = [r for r in refs if texts_of(r) and r.lines]
        for kind, seed, hand_held, effects in cameras:
            cam = CameraModel(seed, hand_held=hand_held, effects=effects)
            for m in range(args.moments):
                for ref in texted:
                    t = 1.0 + 3.7 * m + 0.1 * (seed - base) + 0.37 * args.seed
                    capture = cam.capture(renderer.render(drawn_of(ref), t).image, t)
                    cal = Calibration(capture.quad, capture.image.shape[1::-1], refs.size)
                    screen = cal.rectify(capture.image, refs.size)
                    # Under a loading circle part of the text is hidden: failing it is right.
                    kind_seen = kind if ref.overlay is None else f"{kind}, overlay"
                    frames[kind_seen] += 1
                    bad = []
                    start = time.perf_counter()
                    missing = []
                    for text in texts_of(ref):
                        result = checker.check(text, screen, prefer=ref.name, read=False)
                        checks[kind_seen] += 1
                        if not result.ok:
                            failed_checks[kind_seen] += 1
                            small = any(line.box[3] < checker.params.small_line
                                        for line in ref.lines if drawn_form(text) in line.text)
                            by_type[(kind_seen, "small" if small else "large")] += 1
                            bad.append(result.message())
                            missing.append(text)
                    check_times.append(time.perf_counter() - start)
                    # The flows look again, twice, for what was not found.
                    for later in (0.25, 0.5):
                        if not missing or ref.overlay is not None:
                            break
                        again = cam.capture(renderer.render(drawn_of(ref), t + later).image,
                                            t + later)
                        cal = Calibration(again.quad, again.image.shape[1::-1], refs.size)
                        screen_again = cal.rectify(again.image, refs.size)
                        missing = [text for text in missing if not checker.check(
                            text, screen_again, prefer=ref.name, read=False).ok]
                    if missing and ref.overlay is None:
                        relook_failed[kind_seen] += 1
                        relook_failures.append(f"{kind_seen} camera {seed} t={t:.1f} "
                                               f"{key}/{ref.name}: {missing}")
                    if bad:
                        failed[kind_seen] += 1
                        failures.append(f"{kind_seen} camera {seed} t={t:.1f} {key}/{ref.name}: "
                                        f"{bad[0]}")
                    if m == 0 and kind != "harsh" and len(ocr_times) < 400:
                        start = time.perf_counter()
                        read_lines(screen, reference_size=refs.size)
                        ocr_times.append(time.perf_counter() - start)
        for camera_kind, seed, hand_held, effects in mutant_cameras:
            cam = CameraModel(seed, hand_held=hand_held, effects=effects)
            for ref in texted:
                for kind, expected, drawn, changed in mutants(ref, rngs[camera_kind],
                                                               args.mutants):
                    capture = cam.capture(renderer.render(drawn, 2.0).image, 2.0)
                    cal = Calibration(capture.quad, capture.image.shape[1::-1], refs.size)
                    screen = cal.rectify(capture.image, refs.size)
                    result = checker.check(expected, screen, prefer=ref.name, read=False)
                    tried[(camera_kind, kind)] += 1
                    if result.ok:
                        missed.append(f"{camera_kind} camera: {kind} {key}/{ref.name}: "
                                      f"{expected!r} -> {changed!r} passed ({result.detail})")
                    else:
                        caught[(camera_kind, kind)] += 1
        print(f"{key}: done", file=sys.stderr)
    print("genuine screens (a frame fails when any of its texts fails):")
    for kind in frames:
        print(f"  {kind:10s} {failed[kind]:4d} / {frames[kind]:5d} frames failed "
              f"({failed_checks[kind]} of {checks[kind]} text checks)")
    total = sum(frames[k] for k in frames if k in ("bench", "hand-held"))
    bad_total = sum(failed[k] for k in frames if k in ("bench", "hand-held"))
    print(f"  default cameras, no overlay: {bad_total} / {total} frames = "
          f"{bad_total / max(total, 1):.4%}")
    print("  after the flows' 2 later looks (a text failing on all three):")
    for kind in frames:
        if "overlay" not in kind:
            print(f"  {kind:10s} {relook_failed[kind]:4d} / {frames[kind]:5d} frames")
    for line in relook_failures[:8]:
        print("   ", line)
    for line in [f for f in failures if f.startswith(("bench camera", "hand-held camera"))][:15]:
        print("   ", line)
    print("  failed text checks by type size (small: line box under "
          f"{checker.params.small_line} px, judged at {checker.params.small_accept:g}):")
    for (kind, size), n in sorted(by_type.items()):
        print(f"    {kind:20s} {size}: {n}")
    print("  harsh, first failures:")
    for line in [f for f in failures if f.startswith("harsh camera")][:8]:
        print("   ", line)
    print("one-character mutants caught (bench: default effects; harsh: CameraEffects.harsh()):")
    for camera_kind, kind in tried:
        print(f"  {camera_kind:6s} {kind:8s} {caught[(camera_kind, kind)]:4d} / "
              f"{tried[(camera_kind, kind)]:4d}")
    print(f"  all           {sum(caught.values()):4d} / {sum(tried.values()):4d}")
    for line in missed[:20]:
        print("   ", line)
    if ocr_times:
        print(f"OCR of a whole screen (one core): median {1000 * statistics.median(ocr_times):.0f} ms, "
              f"p90 {1000 * sorted(ocr_times)[int(0.9 * len(ocr_times))]:.0f} ms "
              f"over {len(ocr_times)} screens")
    print(f"glyph checks of a screen's texts: median {1000 * statistics.median(check_times):.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
