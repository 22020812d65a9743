"""``onshi-rig classify | learn | references``: the rig's eyes on the command line."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import attrs
import cv2
import numpy as np

from harness.arguments import folder_to_write, positive_int
from harness.config import screens_to_write
from harness.errors import BadInput, RigError
from harness.image_header import check_image_file
from harness.report.live import atomic_write, write_files

if TYPE_CHECKING:
    from harness.vision.classify import Classifier
    from harness.vision.geometry import Calibration
    from harness.vision.reference import ReferenceEntry, ReferenceIndex, ReferenceSet, Region

EXIT_OK, EXIT_UNKNOWN, EXIT_BAD_INPUT = 0, 1, 2
#: Frames ``calibrate`` finds the screen on and takes each corner's median of.
AGREE = 3
#: Frames ``learn`` averages at most (they are held in memory).
MAX_LEARN_FRAMES = 100


def _screens_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--screens", metavar="DIR", type=Path, default=None,
                        help="folder of reference screens, one subfolder per maker "
                             "(default: onshi-rig.toml's screens, else the shipped ones)")


def cmd_classify(args: argparse.Namespace) -> int:
    from harness.vision.by_text import recognised_by_text
    from harness.vision.classify import Classifier, unknown
    from harness.vision.geometry import Calibration
    from harness.vision.locate import ScreenNotFound, locate
    from harness.vision.reference import ReferenceSet, screens_dir_for

    if args.save_calibration is not None:
        _check_save_target(args.save_calibration, args.images, args.calibration)
    classifier = Classifier(ReferenceSet.load(screens_dir_for(args.vendor, args.screens)))
    calibration = Calibration.load(args.calibration) if args.calibration else None
    if calibration is not None and tuple(calibration.screen_size) != classifier.references.size:
        size = classifier.references.size
        raise RigError(f"{args.calibration}: made for {calibration.screen_size[0]}x"
                       f"{calibration.screen_size[1]} screens; {args.vendor}'s references are "
                       f"{size[0]}x{size[1]}")
    results: list[dict[str, object]] = []
    bad = unknown_seen = False
    for path in args.images:
        image, problem = _read_image(path)
        if image is None:
            bad = True
            results.append({"image": str(path), **NO_ANSWER, "error": problem})
            continue
        if calibration is not None:
            if (image.shape[1], image.shape[0]) != tuple(calibration.frame_size):
                bad = True
                results.append({"image": str(path), **NO_ANSWER, "error": (
                    f"{image.shape[1]}x{image.shape[0]}, but the calibration is for "
                    f"{calibration.frame_size[0]}x{calibration.frame_size[1]} frames")})
                continue
            decision = classifier.classify_frame(image, calibration)
            seen_at = calibration
        else:
            seen_at = None
            try:
                located = locate(image, classifier)
                decision = located.decision
                seen_at = located.calibration
                # Only a recognised screen with content fixes where the panel is.
                if args.save_calibration and decision.known and not decision.blank:
                    _save_calibration(located.calibration, args.save_calibration)
                    args.save_calibration = None  # the first good picture's
            except ScreenNotFound as exc:
                decision = unknown(str(exc))
        # A near miss told by its texts, as a bench camera's look tells it.
        decision = recognised_by_text(decision, image, seen_at, classifier.references)
        unknown_seen |= not decision.known
        row = {"image": str(path), **decision.as_json()}
        if args.read:
            row["read"] = _read(image, seen_at, classifier.references.size)
        results.append(row)
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=2))
    else:
        for row in results:
            if "error" in row:
                print(f"{row['image']}: error: {row['error']}")
            else:
                extra = f" ({row['why']})" if row.get("why") else ""
                print(f"{row['image']}: {row['state']}  score {row['score']:.3f}  "
                      f"margin {row['margin']:.3f}{extra}")
                for line in row.get("read", []):
                    print(f"  read: {line['text']}  ({line['confidence']:.2f})")
    if bad:
        return EXIT_BAD_INPUT
    return EXIT_UNKNOWN if unknown_seen else EXIT_OK


def _read(image: np.ndarray, calibration: Calibration | None,
          size: tuple[int, int]) -> list[dict[str, object]]:
    """The OCR's lines on the screen, rectified at the references' size (none when the
    screen was not found)."""
    from harness.vision.ocr import read_lines

    if calibration is None:
        return []
    screen = calibration.rectify(image, size)
    return [line.as_json() for line in read_lines(screen, reference_size=size)]


#: What an image that could not be classified reports in --json.
NO_ANSWER = {"state": None, "score": None, "margin": None}


def _read_image(path: Path) -> tuple[np.ndarray | None, str]:
    if not path.exists():
        return None, "no such file"
    if path.is_dir():
        return None, "a folder, not an image"
    try:
        check_image_file(path)  # its declared size, before anything is decoded
    except BadInput as exc:
        return None, exc.problem
    try:
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    except cv2.error as exc:
        return None, f"cannot read the image ({str(exc).strip().splitlines()[-1]})"
    if image is None:
        return None, "cannot read the image (not a picture OpenCV can decode)"
    return image, ""


def _check_save_target(target: Path, images: list[Path], given: Path | None) -> None:
    """``--save-calibration``'s file, before any picture is looked at: never one of the
    pictures, nor a file that is not a calibration (it overwrote a camera's frame), and not
    with ``--calibration`` (then the screen is not looked for: nothing would be saved)."""
    from harness.paths import resolved
    from harness.report.manifest import outside_sealed_runs
    from harness.vision.geometry import Calibration

    outside_sealed_runs("--save-calibration", resolved(target))  # its seal would break
    option = f"--save-calibration {target}"
    if given is not None:
        raise RigError(f"{option}: with --calibration the screen is not looked for, so "
                       "there is nothing to save; give one of them")
    if any(_same_file(target, image) for image in images):
        raise RigError(f"{option}: one of the pictures to classify; give another file")
    if target.is_dir():
        raise RigError(f"{option}: a folder, not a file")
    if target.exists():
        try:
            Calibration.load(target)
        except BadInput:
            raise RigError(f"{option}: an existing file that is not a calibration; give a "
                           "new file (or remove it first)") from None


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.samefile(b)
    except OSError:  # one of them missing: the names then
        return a.absolute() == b.absolute()


def _save_calibration(calibration: Calibration, path: Path) -> None:
    try:
        calibration.save(path)
    except OSError as exc:
        raise RigError(f"--save-calibration {path}: cannot write it ({exc.strerror})") from None


def _parse_region(text: str) -> Region | str:
    """``NAME:KIND:X,Y,W,H`` -> a region, or what is wrong with it (whether it lies inside
    the screen is the reference's check, :func:`harness.vision.reference.entry_problems`)."""
    import pydantic

    from harness.vision.reference import Region

    usage = "expected NAME:KIND:X,Y,W,H (KIND: match, mask or spinner)"
    try:
        name, kind, box = text.split(":")
        x, y, w, h = (int(v) for v in box.split(","))
        return Region(name=name, kind=kind, box=(x, y, w, h))
    except pydantic.ValidationError as exc:  # its message, not its text's help URL
        return "; ".join(f"{'.'.join(str(x) for x in e['loc'])}: "
                         f"{e['msg'].removeprefix('Value error, ')}" for e in exc.errors())
    except ValueError as exc:
        detail = "" if "expected" in str(exc) or "unpack" in str(exc) else \
            f" ({str(exc).splitlines()[-1].strip()})"
        return usage + detail


def _screen_class(value: str) -> str:
    """``learn --shows``: a name the profiles and the runner know (harness.model.screens)."""
    from harness.model.screens import SHOWN

    if value not in SHOWN:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a screen class, terminal dialog or desktop "
            f"({', '.join(SHOWN)}); leave --shows out for a screen of no class")
    return value


def cmd_learn(args: argparse.Namespace) -> int:
    from harness.devices.camera import redact_url
    from harness.learn_states import check_state
    from harness.vision.classify import Classifier
    from harness.vision.geometry import MAX_SIDE, Calibration
    from harness.vision.locate import best_candidate
    from harness.vision.reference import (
        INDEX,
        ReferenceEntry,
        ReferenceIndex,
        check_name,
        index_bytes,
        png_bytes,
        read_index,
    )

    root = screens_to_write(args.screens)
    folder_to_write("--screens", root)  # before the camera: a file there, or /proc/x
    check_name(args.vendor, "--vendor")
    directory = root / args.vendor
    known = (directory / INDEX).is_file()
    if not known:
        _refuse_other_case(root, args.vendor)
    # At most a calibration's screen: the frames are rectified to it (40000 40000 would
    # allocate gigabytes per frame), before the camera is opened.
    top = MAX_SIDE["screen_size"]
    if not all(64 <= side <= top for side in args.size):
        raise RigError(f"--size {args.size[0]} {args.size[1]}: at least 64 64, at most "
                       f"{top} {top}")
    if known:
        index = read_index(directory)
    else:
        index = ReferenceIndex(maker=args.vendor, size=tuple(args.size), references={})
    size = index.size
    name = check_name(args.name or args.state, "--name")
    shows = args.shows if args.shows is not None else _kept_shows(index, name, args.state)
    # Everything the user typed is checked, all at once, before the camera is touched or a
    # file written: a reference the loader would refuse makes the whole folder unusable.
    parsed = [(text, _parse_region(text)) for text in args.region]
    typed = [(text, r) for text, r in parsed if not isinstance(r, str)]
    # A retake of the same screen keeps what the entry's checks go by (its match regions,
    # e.g. the 901 code's, and its confirmed texts) unless others are given: dropped, every
    # later run judged the state on less, unsaid (K2-16). Same screen size, same places.
    old = index.references.get(name) if args.replace else None
    retaken = old if old is not None and old.state == args.state else None
    if retaken is not None and _refused(name, retaken, index):
        # An entry the loader refuses (written by hand): retaken afresh, as before.
        print(f"warning: {name}: the entry it retakes is refused by the loader "
              f"({_refused(name, retaken, index)}); its regions and texts are not kept",
              file=sys.stderr)
        retaken = None
    if retaken is not None:
        entry = retaken.model_copy(update={
            "file": f"{name}.png", "shows": shows, "learnt": True,
            "regions": [r for _, r in typed] or list(retaken.regions)})
    else:
        entry = ReferenceEntry(file=f"{name}.png", state=args.state, shows=shows,
                               regions=[r for _, r in typed], learnt=True)
    # A state no twin, reference or screen name of the maker's has is a typo until the lab
    # says it is a screen of its own (--force): written, recognition answers it for ever.
    unknown_state = check_state(args.vendor, args.state, index, _bench_of(args))
    _refuse_entry(args, index, entry, parsed, None if args.force or unknown_state is None
                  else f"{unknown_state}; pass --force to learn a screen of its own under it")
    if unknown_state is not None:
        print(f"warning: --state: {unknown_state}; learnt as a state of its own (--force)",
              file=sys.stderr)
    if not 1 <= args.frames <= MAX_LEARN_FRAMES:
        raise RigError(f"--frames {args.frames}: between 1 and {MAX_LEARN_FRAMES}")
    calibration = Calibration.load(args.calibration) if args.calibration else None
    if (args.source is None) == (args.camera is None):
        raise RigError("give either --source (a camera, stream or video) or --camera NAME "
                       "(a camera of the bench file)")
    if args.camera is not None:
        _camera_of_maker(args)
    others = _other_references(directory, index, name)
    classifier = Classifier(others) if others is not None else None
    frames = _capture(args)
    first = frames[0]
    if calibration is None:
        located = best_candidate(first, classifier) if classifier is not None else None
        # A blank area says nothing of where the screen is (a dark box on the desk).
        if located is not None and not located.decision.blank:
            # The quadrilateral that looks most like this maker's other screens.
            calibration = attrs.evolve(located.calibration, screen_size=size)
        else:
            calibration = _largest_screen_like(first, size)
            if calibration is None:
                raise RigError(f"{redact_url(str(args.source or args.camera))}: no screen found "
                               "in the camera's "
                               "view; give --calibration (from `onshi-rig classify "
                               "--save-calibration`)")
    if calibration.frame_size != (first.shape[1], first.shape[0]):
        raise RigError(f"{args.calibration}: made for {calibration.frame_size[0]}x"
                       f"{calibration.frame_size[1]} frames; the camera gives "
                       f"{first.shape[1]}x{first.shape[0]}")
    # Averaging several frames takes out the sensor noise.
    stack = np.stack([calibration.rectify(f, size).astype(np.float32) for f in frames])
    image = np.clip(stack.mean(axis=0) + 0.5, 0, 255).astype(np.uint8)
    if classifier is not None:
        _check_likeness(args, name, image, classifier)
    texts, lines = _learnt_texts(image, args, name, size, shows, retaken)
    entry = entry.model_copy(update={"texts": texts, "lines": lines})
    _refuse_entry(args, index, entry, parsed)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RigError(f"cannot make {directory}: {exc.strerror}; nothing changed") from None
    refs = dict(index.references)
    refs[name] = entry
    # The picture and the index naming it, each whole and both or neither (a full disk
    # left a cut PNG the index named: the maker's folder refused by every command).
    write_files({directory / entry.file: png_bytes(image),
                 directory / INDEX: index_bytes(ReferenceIndex(maker=index.maker, size=size,
                                                               references=refs))})
    kept = " as its references say (--shows to say another)" if args.shows is None else ""
    shown = f", shows {shows}{kept}" if shows is not None else ""
    print(f"learnt {name!r} (state {args.state}{shown}) from {len(frames)} frame(s): "
          f"{directory / entry.file}")
    if retaken is not None:
        said = [f"{len(retaken.regions)} region(s)"] if retaken.regions and not typed else []
        said += [f"texts {retaken.texts}"] if retaken.texts and not args.text else []
        if said:
            print(f"kept {' and '.join(said)} of the entry it retakes (--region/--text to "
                  "give others)")
    return EXIT_OK


def _bench_of(args: argparse.Namespace) -> Path | None:
    """The bench file ``learn`` looks at (its twins' states): ``--bench``, or the default
    one for ``--camera``; none for ``--source``."""
    from harness.bench import default_bench_path

    if args.bench is not None:
        return args.bench
    return default_bench_path() if args.camera is not None else None


def _refused(name: str, entry: ReferenceEntry, index: ReferenceIndex) -> str | None:
    """What the loader says against ``entry`` as it is (None: nothing)."""
    from harness.vision.reference import entry_problems

    found = [why for loc, why in entry_problems(name, entry, index.maker, index.size)
             if loc != ()]
    return found[0] if found else None


def _refuse_other_case(root: Path, vendor: str) -> None:
    """A maker key that differs from a folder's only by case would start a second folder no
    command reads (``certify --vendor`` keys are exact): refused, naming the folder."""
    from harness.vision.reference import INDEX

    if not root.is_dir():
        return
    same = sorted(p.name for p in root.iterdir()
                  if p.name.lower() == vendor.lower() and (p / INDEX).is_file())
    if same:
        raise RigError(f"--vendor {vendor}: no maker folder {vendor!r} in {root}; did you mean "
                       f"{same[0]!r}? (maker keys are exact)")


def _camera_of_maker(args: argparse.Namespace) -> None:
    """``--camera`` must watch the screen of ``--vendor``'s reader (or the terminal's for
    ``terminal``): another maker's screen learnt into this maker's folder makes it take
    that screen for its own. ``--force`` learns it anyway, saying so."""
    from harness.bench import default_bench_path, load_bench_spec

    path = args.bench or default_bench_path()
    spec = load_bench_spec(path)
    camera = next((c for c in spec.cameras if c.name == args.camera), None)
    if camera is None:
        return  # the bench says which cameras it has when it is opened (_capture)
    reader = next((r for r in spec.readers if r.name == camera.watches), None)
    maker = "terminal" if camera.watches == spec.terminal.name else \
        reader.maker if reader is not None and reader.kind == "face_auth_reader" else None
    if maker == args.vendor:
        return
    what = f"the terminal {camera.watches}" if maker == "terminal" else \
        f"reader {camera.watches}" + (f" ({maker}'s)" if maker else "")
    said = f"--camera {args.camera}: it watches {what}, not {args.vendor}'s ({path.name})"
    if not args.force:
        raise RigError(f"{said}: give the camera of {args.vendor}'s reader, or --force to "
                       f"learn it into {args.vendor} anyway")
    print(f"warning: {said}; learnt anyway (--force)", file=sys.stderr)


def _kept_shows(index: ReferenceIndex, name: str, state: str) -> str | None:
    """``learn`` without ``--shows``: the class the reference retaken said (of the same
    state), else the one its state's other references say. A retake that dropped it made
    every certification of the maker take its first screen for no class (hunt K-3)."""
    old = index.references.get(name)
    if old is not None and old.state == state and old.shows is not None:
        return old.shows
    said = {entry.shows for other, entry in index.references.items()
            if other != name and entry.state == state and entry.shows is not None}
    return said.pop() if len(said) == 1 else None


def _refuse_entry(args: argparse.Namespace, index: ReferenceIndex, entry: ReferenceEntry,
                  parsed: list[tuple[str, Region | str]], state_problem: str | None = None
                  ) -> None:
    """Bad input, every problem at once, when ``learn`` would write an entry the loader
    refuses (or one it must not: a name taken, an empty confirmed text, a state the maker
    does not know: ``state_problem``). ``parsed``: each ``--region`` given, and its region
    or what is wrong with it."""
    from harness.model.screens import variant_problem
    from harness.vision.reference import INDEX, entry_problems

    name = entry.file.removesuffix(".png")
    found: list[BadInput] = []
    folder = screens_to_write(args.screens) / args.vendor
    if name in index.references and not args.replace:
        found.append(BadInput(str(folder / INDEX), None, "",
                              f"{name!r} exists; pass --replace to retake it"))
    if state_problem is not None:
        found.append(BadInput("--state", None, "", state_problem))
    if (why := variant_problem(name)) is not None:
        found.append(BadInput("--name", None, "", why))
    found += [BadInput("--region", None, "", f"{text!r}: {why}") for text, why in parsed
              if isinstance(why, str)]
    found += [BadInput("--text", None, "", f"{text!r}: an empty text confirms nothing")
              for text in args.text if not text.strip()]
    typed = [text for text, region in parsed if not isinstance(region, str)]
    for loc, why in entry_problems(name, entry, index.maker, index.size):
        if loc == ():
            continue  # the name's: said above
        if loc[0] == "regions" and len(loc) > 2:
            found.append(BadInput("--region", None, "", f"{typed[int(str(loc[1]))]!r}: {why}"))
        elif loc[0] == "regions":
            found.append(BadInput("--region", None, "", why))
        elif loc[0] == "shows":
            found.append(BadInput("--shows", None, "", why))
        else:  # the text layout the OCR placed: the rig's, said as the entry's
            found.append(BadInput(f"{name}.{'.'.join(str(x) for x in loc)}", None, "", why))
    if found:
        raise BadInput.of(found)


def _other_references(directory: Path, index: ReferenceIndex, name: str
                      ) -> ReferenceSet | None:
    """The folder's references but ``name`` (``--replace`` retakes it, even one the loader
    would refuse); None when there are none."""
    from harness.vision.reference import ReferenceSet

    if not set(index.references) - {name}:
        return None
    return ReferenceSet.load(directory, without=frozenset({name}))


def _capture(args: argparse.Namespace) -> list[np.ndarray]:
    """``--frames`` frames of the camera (the bench file's) or the source."""
    from harness.devices.camera import open_source
    from harness.model.clock import RealClock

    if args.camera is not None:
        from harness.bench import Bench

        with Bench.load(args.bench) as bench:
            source = bench.camera(args.camera)
            frames = []
            for _ in range(args.frames):
                frames.append(source.read().image)
                bench.clock.sleep(0.2)
        return frames
    source = open_source(args.source, "learn", RealClock())
    try:
        return [source.read().image for _ in range(args.frames)]
    finally:
        source.close()


def _check_likeness(args: argparse.Namespace, name: str, image: np.ndarray,
                    classifier: Classifier) -> None:
    """The picture, as the rig's classifier sees it against the maker's other references:
    recognised as another state, it is refused (a first screen learnt as a 901 makes every
    first screen a 901), unless ``--force``; like none of its state's references, a warning."""
    decision = classifier.classify(image)
    if decision.known and decision.state != args.state:
        said = (f"{name}: the picture looks like reference {decision.reference!r} (state "
                f"{decision.state}, score {decision.score:.3f}, margin {decision.margin:.3f}), "
                f"not state {args.state!r}")
        if not args.force:
            raise RigError(f"{said}: bring the reader to {args.state} first, or pass --force "
                           "to learn it anyway")
        print(f"warning: {said}; learnt anyway (--force)", file=sys.stderr)
        return
    same = [r.name for r in classifier.references if r.state == args.state]
    if same and not decision.known:
        closest = decision.runner_up or "none"
        print(f"warning: {name}: the picture looks like none of state {args.state}'s "
              f"references ({', '.join(same)}); closest: {closest}, score "
              f"{decision.score:.3f}", file=sys.stderr)


def _learnt_texts(image: np.ndarray, args: argparse.Namespace, name: str,
                  size: tuple[int, int], shows: str | None,
                  kept: ReferenceEntry | None = None
                  ) -> tuple[list[str], list]:
    """The new reference's texts and their layout (harness/vision/learn_text.py); a warning
    on stderr for each text of the profile's not read on it, or read without a layout.
    ``kept``: the entry a ``--replace`` retakes; its texts are the confirmed ones when no
    ``--text`` is given (kept with their layout if the text cannot be read now)."""
    import sys

    from harness.errors import MissingSystemPart
    from harness.vision.learn_text import learn_texts, profile_fragments, profile_texts

    shows = shows or args.state
    expected = profile_texts(args.vendor, shows)
    confirmed = args.text or (list(kept.texts) if kept is not None else [])
    try:
        learnt = learn_texts(image, confirmed, expected, size,
                             profile_fragments(args.vendor, shows))
    except MissingSystemPart as exc:
        if args.text:
            raise
        if kept is not None and kept.texts:
            print(f"warning: {name}: its text was not read ({exc.what}); the retaken "
                  "entry's texts and layout kept", file=sys.stderr)
            return list(kept.texts), list(kept.lines)
        print(f"warning: {name}: its text was not read ({exc.what}); no layout stored",
              file=sys.stderr)
        return [], []
    for note in learnt.notes:
        print(f"warning: {name}: {note}", file=sys.stderr)
    return list(learnt.texts), list(learnt.lines)


def _largest_screen_like(frame: np.ndarray, size: tuple[int, int]) -> Calibration | None:
    """Without references to compare with: the largest quadrilateral of the screen's
    proportions that is not the whole picture."""
    from harness.vision.geometry import Calibration
    from harness.vision.locate import screen_candidates

    want = size[0] / size[1]
    area = frame.shape[0] * frame.shape[1]
    fitting = [q for q in screen_candidates(frame)
               if abs(np.log(_aspect(q) / want)) < 0.25 and cv2.contourArea(q) < 0.9 * area]
    if not fitting:
        return None
    return Calibration(fitting[0], (frame.shape[1], frame.shape[0]), size)


def _aspect(quad: np.ndarray) -> float:
    top = np.linalg.norm(quad[1] - quad[0]) + np.linalg.norm(quad[2] - quad[3])
    side = np.linalg.norm(quad[3] - quad[0]) + np.linalg.norm(quad[2] - quad[1])
    return float(top / max(side, 1e-6))


def cmd_references(args: argparse.Namespace) -> int:
    import tempfile

    from harness.emulation.screen_views import reference_targets, write_references
    from harness.vision.reference import default_screens_dir

    # --check only reads (the folder in use); writing never goes into an installed rig.
    root = args.out or (default_screens_dir() if args.check else screens_to_write(None))
    if root.exists() and not root.is_dir():
        raise RigError(f"--out {root}: not a folder")
    if args.check and not root.is_dir():  # a typo, not screens that differ (exit 1)
        raise RigError(f"--out {root}: no such folder")
    if not args.check:  # made before the screens are drawn (a file in its way, /proc/x)
        folder_to_write("--out", root)
    if args.twin is not None:
        # A lab's own twin (a sixth maker, say): its references under the key it is given.
        from harness.emulation.screen_views import twin_target

        if len(args.device) != 1:
            raise RigError("--twin FILE: give the maker it is with one --vendor KEY")
        targets = [twin_target(args.device[0], args.twin)]
    else:
        targets = reference_targets()
    unknown_keys = sorted(set(args.device) - {t[0] for t in targets})
    if unknown_keys:
        raise RigError(f"--vendor {', '.join(unknown_keys)}: no such device with a screen; "
                       f"known: {', '.join(t[0] for t in targets)}")
    targets = [t for t in targets if not args.device or t[0] in args.device]
    if not args.check:
        for key, look, plans in targets:
            written = write_references(key, look, plans, root / key)
            print(f"{key}: {written.count} reference screens in {root / key}")
            for name in written.kept:
                print(f"{key}: {name}: learnt, kept (not redrawn)")
        return EXIT_OK
    differ: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for key, look, plans in targets:
            # Only the pixels are compared: PNG's quickest compression.
            write_references(key, look, plans, Path(tmp) / key, compression=1)
            differ += _compare_dirs(Path(tmp) / key, root / key, key)
    for line in differ:
        print(line)
    if differ:
        print("the committed reference screens are not what the twins draw; "
              "`onshi-rig references` redraws them")
        return EXIT_UNKNOWN
    print("the committed reference screens are what the twins draw")
    return EXIT_OK


def _compare_dirs(fresh: Path, committed: Path, key: str) -> list[str]:
    """What differs between freshly drawn references and the committed ones; a lab's own
    (learnt) references are not the twins' business."""
    from harness.vision.reference import INDEX, read_index

    if not (committed / INDEX).is_file():
        return [f"{key}: no {INDEX}"]
    new, old = read_index(fresh), read_index(committed)
    learnt = {name for name, e in old.references.items() if e.learnt}
    differ = []
    for name, entry in new.references.items():
        other = old.references.get(name)
        if other is None:
            differ.append(f"{key}/{name}: missing")
            continue
        if other != entry:
            differ.append(f"{key}/{name}: its {INDEX} entry differs")
        a = cv2.imread(str(fresh / entry.file))
        b = cv2.imread(str(committed / other.file))
        if b is None or a.shape != b.shape or int(np.abs(a.astype(int) - b).max()) > 0:
            differ.append(f"{key}/{entry.file}: differs")
    if (new.size, new.look) != (old.size, old.look):
        differ.append(f"{key}: size or look differs from {INDEX}")
    for name in sorted(set(old.references) - set(new.references) - learnt):
        differ.append(f"{key}/{name}: not drawn by the twin")
    listed = {e.file for e in old.references.values()}
    for path in sorted(committed.glob("*.png")):
        if path.name not in listed:
            differ.append(f"{key}/{path.name}: not drawn by the twin")
    return differ


def cmd_calibrate(args: argparse.Namespace) -> int:
    """Find the screen on a bench camera and keep where it is in the bench file."""
    from harness.bench import Bench, default_bench_path
    from harness.calibration_edit import calibration_target
    from harness.vision.classify import Classifier
    from harness.vision.locate import ScreenNotFound, agreed, locate
    from harness.vision.reference import ReferenceSet, screens_dir_for

    bench_path = args.bench or default_bench_path()
    if not 1 <= args.frames <= MAX_LEARN_FRAMES:
        raise RigError(f"--frames {args.frames}: between 1 and {MAX_LEARN_FRAMES}")
    with Bench.load(bench_path) as bench:
        spec = next((c for c in bench.spec.cameras if c.name == args.camera), None)
        if spec is None:
            known = ", ".join(c.name for c in bench.spec.cameras) or "none"
            raise RigError(f"{bench_path}: no camera {args.camera!r} (cameras: {known})")
        maker = ("terminal" if spec.watches == bench.spec.terminal.name
                 else bench.reader(spec.watches).maker)
        target = calibration_target(bench_path, args.camera, spec.calibration)
        classifier = Classifier(ReferenceSet.load(screens_dir_for(maker, args.screens)))
        source = bench.camera(args.camera)
        found, last = [], "no frame"
        # A dark panel or a passing hand shows nothing to find the screen by: a few tries;
        # the corners are where up to AGREE frames that showed a known screen put them.
        for _ in range(args.frames):
            try:
                located = locate(source.read().image, classifier)
            except ScreenNotFound as exc:
                last = str(exc)
            else:
                if located.decision.known and not located.decision.blank:
                    found.append(located)
                    if len(found) == AGREE:
                        break
                else:
                    last = located.decision.why or "the screen shows nothing known"
            bench.clock.sleep(0.5)
    if not found:
        print(f"{args.camera}: screen not found in {args.frames} frame(s) ({last}); "
              "the bench file is unchanged", file=sys.stderr)
        return EXIT_UNKNOWN
    sidecar, edit = target
    _write_calibration(bench_path, sidecar, edit, agreed(found))
    print(f"{args.camera}: screen found on {len(found)} frame(s) ({found[0].decision.state}, "
          f"score {found[0].decision.score:.2f}); calibration in {sidecar}")
    return EXIT_OK


def _write_calibration(bench_path: Path, sidecar: Path, edit: str | None,
                       calibration: Calibration) -> None:
    """The sidecar and the bench file's edit written, and loaded back; if they do not load,
    both are put back as they were (the user's file is never left broken)."""
    from harness.bench import Bench

    text = bench_path.read_bytes()
    old = sidecar.read_bytes() if sidecar.is_file() else None
    # The file behind a link is replaced, whole (temp, fsync, rename), never the link.
    target = bench_path.resolve()
    try:
        calibration.save(sidecar)
        if edit is not None:
            atomic_write(target, edit.encode("utf-8"))
        Bench.load(bench_path)  # what was written loads back
    except (RigError, OSError) as exc:
        kept = _put_back(target, text)
        if old is None:
            with contextlib.suppress(OSError):
                sidecar.unlink(missing_ok=True)
        else:
            _put_back(sidecar, old)
        if isinstance(exc, RigError):
            raise
        raise RigError(f"cannot write {sidecar if edit is None else bench_path}: "
                       f"{exc.strerror or exc}; " + ("the bench file is unchanged" if kept else
                                                    "the bench file could not be put back")
                       ) from None


def _put_back(path: Path, data: bytes) -> bool:
    """``path`` holding ``data`` again (written only if it changed); whether it does."""
    try:
        if path.read_bytes() != data:
            atomic_write(path, data)
        return True
    except OSError:
        return False


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("classify", help="say which screen state each picture shows")
    p.add_argument("--vendor", required=True, metavar="KEY",
                   help="a maker key (its folder of reference screens, e.g. canon) or terminal")
    p.add_argument("--calibration", metavar="FILE", type=Path, default=None,
                   help="a saved calibration (the screen's corners in the camera's frames); "
                        "without it the screen is found in each picture")
    p.add_argument("--save-calibration", metavar="FILE", type=Path, default=None,
                   help="save where the screen was found in the first recognised picture")
    p.add_argument("--json", action="store_true", help="a JSON array, one object per image")
    p.add_argument("--read", action="store_true",
                   help="also read the screen's text (OCR): its lines and their confidences")
    _screens_arg(p)
    p.add_argument("images", nargs="+", type=Path, metavar="IMAGE")
    p.set_defaults(func=cmd_classify)

    p = sub.add_parser("learn", help="capture a new reference screen from a live camera")
    p.add_argument("--vendor", required=True, metavar="KEY", help="maker folder to add it to")
    p.add_argument("--state", required=True, help="the state the screen shows now")
    p.add_argument("--name", default=None,
                   help="reference name (default: the state; e.g. first@staff for a variant)")
    p.add_argument("--shows", default=None, type=_screen_class,
                   help="its screen class (a class the profiles' flows name: first, "
                        "consent_1 ...), a terminal dialog or desktop")
    p.add_argument("--source", default=None,
                   help="camera index, device path, stream URL or a recorded video file")
    p.add_argument("--camera", default=None, metavar="NAME",
                   help="instead of --source: a camera of the bench file (--bench)")
    p.add_argument("--bench", metavar="FILE", type=Path, default=None,
                   help="bench file for --camera (default: onshi-rig.toml's bench, else the "
                        "emulated bench); its twins' states count as known states")
    p.add_argument("--calibration", metavar="FILE", type=Path, default=None,
                   help="a saved calibration (from `classify --save-calibration`); without "
                        "it the screen is found in the frames")
    p.add_argument("--frames", type=positive_int, default=8, help="frames to average (default 8)")
    p.add_argument("--region", action="append", default=[], metavar="NAME:KIND:X,Y,W,H",
                   help="a region in reference pixels; KIND match, mask or spinner")
    p.add_argument("--size", type=positive_int, nargs=2, default=(1024, 600), metavar=("W", "H"),
                   help="screen size for a new maker folder (default 1024 600)")
    p.add_argument("--replace", action="store_true",
                   help="retake an existing reference (also one the folder's loader refuses)")
    p.add_argument("--force", action="store_true",
                   help="learn the picture even when it looks like another state's reference, "
                        "--camera watches another maker's reader, or --state is a new state "
                        "(none of the maker's references, twin or screen names)")
    p.add_argument("--text", action="append", default=[], metavar="TEXT",
                   help="a text the screen shows, as confirmed by the lab (repeatable): its "
                        "glyphs' layout is learnt for character-by-character checks")
    _screens_arg(p)
    p.set_defaults(func=cmd_learn)

    p = sub.add_parser(
        "calibrate", help="find the screen on a bench camera; keep where it is beside the "
                          "bench file")
    p.add_argument("--camera", required=True, metavar="NAME", help="a camera of the bench file")
    p.add_argument("--bench", metavar="FILE", type=Path, default=None,
                   help="bench file (default: onshi-rig.toml's bench, else the emulated bench)")
    p.add_argument("--frames", type=positive_int, default=10,
                   help="frames to try while the screen shows nothing known (default 10)")
    _screens_arg(p)
    p.set_defaults(func=cmd_calibrate)

    p = sub.add_parser("references",
                       help="draw the reference screens from the twins (needs fonts-noto-cjk)")
    # --screens as learn, classify and calibrate name the same folder.
    p.add_argument("--out", "--screens", dest="out", type=Path, default=None, metavar="DIR",
                   help="folder of reference screens to write, one subfolder per maker "
                        "(default: onshi-rig.toml's screens, else a checkout's own; --check: "
                        "the screens in use)")
    p.add_argument("--vendor", dest="device", action="append", default=[], metavar="KEY",
                   help="only this maker (or terminal); repeatable")
    # The option's older name, for scripts that use it.
    p.add_argument("--device", dest="device", action="append", help=argparse.SUPPRESS)
    p.add_argument("--twin", type=Path, default=None, metavar="FILE",
                   help="draw the --vendor maker's references from this face-auth reader "
                        "behaviour file (a lab's own twin) instead of the shipped twins")
    p.add_argument("--check", action="store_true",
                   help="check the committed screens are what the twins draw; exit 1 if not")
    p.set_defaults(func=cmd_references)


__all__ = ["add_parsers"]
