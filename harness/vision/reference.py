"""Reference screens: what each state of a maker's reader looks like.

One folder per maker (``fixtures/screens/<maker>/``): a PNG per reference and one index,
``screens.yaml``, saying for each reference its state, its screen class, its overlay, the
texts drawn on it and its regions (openQA needles are the model: a picture plus areas that
must match and areas to ignore). Several references may share a state (variants: the
first screen with and without the staff button); recognition answers with the state.

Region kinds:
- ``match``: must match for the reference to be accepted (an error code, a button);
- ``mask``: ignored (a clock, anything that legitimately changes);
- ``spinner``: where a loading circle turns: must be present, but its angle is ignored.

A region may name the text it holds (``text``): an error code (``code``), a button's label
(``button:<label>``).

A reference may also say how its texts are laid out (``lines``): per line of the screen, the
characters drawn on it, the line's box, each character's left edge (and the last one's right
edge) and which text it belongs to (``texts.<i>``, ``title``, ``button:<label>``) from which
character on: a text wrapped over several lines has one entry per line. The twins'
references carry it for every text; a learnt one for the lines the lab confirmed. It is what
glyph-by-glyph text checks cut their templates with (harness/vision/text_check.py).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Literal

import attrs
import cv2
import numpy as np
import pydantic
import yaml

from harness.errors import BadInput, RigError
from harness.image_header import check_image_file
from harness.kept import Kept
from harness.loading import (
    Field,
    check_all,
    field_name,
    line_of,
    load_yaml_model,
    read_yaml,
)
from harness.model.screens import Overlay, Shown, shown_problem, variant_problem
from harness.paths import project_file
from harness.report.live import write_files

INDEX = "screens.yaml"
RegionKind = Literal["match", "mask", "spinner"]


class Region(Field):
    #: Named (an empty name was written to screens.yaml: nothing could refer to it).
    name: str = pydantic.Field(min_length=1)
    kind: RegionKind
    #: x, y, width, height in reference pixels.
    box: tuple[int, int, int, int]
    #: The text the region holds, where it is one: an error code's 【...】 fragment as
    #: drawn, a button's label (what a reading of the screen reports when it is seen).
    text: str | None = None

    @pydantic.field_validator("box")
    @classmethod
    def _positive(cls, box: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
        if box[2] <= 0 or box[3] <= 0 or box[0] < 0 or box[1] < 0:
            raise ValueError("needs x >= 0, y >= 0 and a positive width and height")
        return box


class TextLine(Field):
    """One line of text as the panel draws it."""

    #: The characters drawn on the line (a text's emoji variation selectors left out: the
    #: panel draws the text glyph).
    text: str
    #: x, y, width, height in reference pixels: from the first character's left edge to the
    #: last one's right edge, from the font's ascender to its descender.
    box: tuple[int, int, int, int]
    #: The x of each character's left edge, then the last one's right edge (reference
    #: pixels, one more than the characters).
    edges: list[float]
    #: The text it is part of: ``texts.<i>`` (the i-th of ``texts``), ``title`` or
    #: ``button:<label>``.
    source: str
    #: Where the line starts in that text (characters, variation selectors left out).
    start: int = pydantic.Field(default=0, ge=0)

    @pydantic.field_validator("box")
    @classmethod
    def _a_box(cls, box: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
        return Region._positive(box)

    @pydantic.model_validator(mode="after")
    def _edges(self) -> TextLine:
        if len(self.edges) != len(self.text) + 1:
            raise ValueError(f"{self.text!r}: needs {len(self.text) + 1} edges (one per "
                             f"character and the last one's right edge), has {len(self.edges)}")
        if any(b < a for a, b in zip(self.edges, self.edges[1:], strict=False)):
            raise ValueError(f"{self.text!r}: edges must not decrease")
        return self


class ReferenceEntry(Field):
    """One reference as the index describes it."""

    file: str
    state: str
    #: The screen class (harness.model.screens.SCREENS) for readers; the dialog (or
    #: ``desktop``) for the terminal. A lab's own screen of no class leaves it out: it is
    #: then never taken for a class a profile names (a name outside these would be, by no
    #: rule, and a ``never`` would pass on it).
    shows: Shown | None = None
    overlay: Overlay | None = None
    #: Other twin states drawn exactly like this one (a frozen completion screen).
    also: list[str] = []
    #: A dialog's title bar.
    title: str | None = None
    texts: list[str] = []
    buttons: list[str] = []
    regions: list[Region] = []
    #: How the texts are laid out, line by line (see :class:`TextLine`).
    lines: list[TextLine] = []
    #: Captured with ``onshi-rig learn`` (kept when the twins' references are redrawn).
    learnt: bool = False

    @pydantic.model_validator(mode="after")
    def _lines_of_its_texts(self) -> ReferenceEntry:
        """Each line is part of a text the entry has: a line of no text was checked
        against nothing (hunt: ``texts.7`` of a screen with two texts was taken)."""
        have = {f"texts.{i}" for i in range(len(self.texts))}
        have |= {"title"} if self.title is not None else set()
        have |= {f"button:{b}" for b in self.buttons}
        check_all([(("lines", i, "source"),
                    f"{line.source!r} is no text of this reference (it has: "
                    f"{', '.join(sorted(have)) or 'none'})")
                   for i, line in enumerate(self.lines) if line.source not in have])
        return self


class ReferenceIndex(Field):
    maker: str
    #: Width and height every reference of this folder has.
    size: tuple[int, int]
    #: Drawn by the twins: a fingerprint of the look they were drawn in (an emulated
    #: camera reuses the pictures only for a panel that still looks the same).
    look: str | None = None
    references: dict[str, ReferenceEntry]

    @pydantic.model_validator(mode="after")
    def _one_class_per_state(self) -> ReferenceIndex:
        """A state's references agree on the screen class they show (those that say one):
        a variant of ``first`` that says ``consent`` made a certification take the first
        screen for consent and fail the maker against its reader (hunt J-13)."""
        by_state: dict[str, dict[str, list[str]]] = {}
        for name, entry in self.references.items():
            if entry.shows is not None:
                by_state.setdefault(entry.state, {}).setdefault(entry.shows, []).append(name)
        # One of them saying none is as wrong: the state taken for no class when it matches
        # best (a retaken first screen failed every certification of its maker: hunt K-3).
        found = [(("references", name, "shows"),
                  f"none, but state {entry.state!r} shows "
                  f"{' or '.join(repr(c) for c in by_state[entry.state])} in its other "
                  "references: say the same")
                 for name, entry in self.references.items()
                 if entry.shows is None and entry.state in by_state]
        for state, classes in by_state.items():
            usual = max(classes, key=lambda c: len(classes[c]))  # ties: the first written
            found += [(("references", name, "shows"),
                       f"{shows!r}, but state {state!r} shows {usual!r} in "
                       f"{', '.join(classes[usual])}")
                      for shows, names in classes.items() if shows != usual for name in names]
        check_all(found)
        return self

    @pydantic.model_validator(mode="after")
    def _one_state_per_picture(self) -> ReferenceIndex:
        """Two states' references naming one picture could never be told apart: the
        screen was unknown on every frame ("they score alike"). A state drawn exactly as
        another is that reference's ``also``."""
        first: dict[str, tuple[str, str]] = {}
        found = []
        for name, entry in self.references.items():
            picture = entry.file.replace("\\", "/").removeprefix("./")
            seen = first.setdefault(picture, (name, entry.state))
            if seen[1] != entry.state:
                found.append((("references", name, "file"),
                              f"{entry.file!r} is also {seen[0]}'s picture (state "
                              f"{seen[1]!r}): two states of one picture could never be told "
                              f"apart; give {seen[0]} `also: [{entry.state}]` instead"))
        check_all(found)
        return self


@attrs.frozen(eq=False)
class Reference:
    name: str
    state: str
    shows: str | None
    overlay: str | None
    title: str | None
    texts: tuple[str, ...]
    buttons: tuple[str, ...]
    regions: tuple[Region, ...]
    #: BGR uint8, the index's size.
    image: np.ndarray
    path: Path
    #: How its texts are drawn, line by line (none where unknown).
    lines: tuple[TextLine, ...] = ()

    def regions_of(self, kind: RegionKind) -> list[Region]:
        return [r for r in self.regions if r.kind == kind]

    def region(self, name: str) -> Region:
        for region in self.regions:
            if region.name == name:
                return region
        raise KeyError(f"{self.name} has no region {name!r}")

    def masked(self, size: tuple[int, int]) -> np.ndarray:
        """Where this reference's masks lie on a picture of the screen at ``size``
        (True: ignore), rounded outwards."""
        scale = size[0] / self.image.shape[1]
        out = np.zeros((size[1], size[0]), bool)
        for region in self.regions_of("mask"):
            x, y, w, h = (int(round(v * scale)) for v in region.box)
            out[y : y + h + 1, x : x + w + 1] = True
        return out


@attrs.frozen(eq=False)
class ReferenceSet:
    maker: str
    size: tuple[int, int]
    references: tuple[Reference, ...]
    directory: Path
    look: str | None = None

    def __iter__(self) -> Iterator[Reference]:
        return iter(self.references)

    def __len__(self) -> int:
        return len(self.references)

    def states(self) -> list[str]:
        return sorted({r.state for r in self.references})

    def get(self, name: str) -> Reference:
        for ref in self.references:
            if ref.name == name:
                return ref
        raise KeyError(name)

    @classmethod
    def load(cls, directory: Path, without: frozenset[str] = frozenset()) -> ReferenceSet:
        """The reference screens in ``directory``, read and checked once per process while
        its files stay as they are (a test run opens the same cameras' references many
        times; the images are read-only, shared by every classifier of them). ``without``:
        references left out, unread (``learn --replace`` retakes one, broken or not)."""
        try:
            key = (directory.resolve(), tuple(sorted(
                (e.name, e.stat().st_mtime_ns, e.stat().st_size) for e in os.scandir(directory)
                if e.is_file())), without)
        except OSError:
            return cls._load(directory, without)  # the loader names what is wrong
        def load() -> ReferenceSet:
            loaded = cls._load(directory, without)
            for ref in loaded.references:
                ref.image.flags.writeable = False
            return loaded

        return _LOADED.get(key, load)

    @classmethod
    def _load(cls, directory: Path, without: frozenset[str] = frozenset()) -> ReferenceSet:
        index_path = directory / INDEX
        if not index_path.is_file():
            raise RigError(f"{directory}: no reference screens here (no {INDEX})")
        index = load_yaml_model(index_path, ReferenceIndex)
        lines = read_yaml(index_path)[1]
        problems: list[BadInput] = []

        def problem(loc: tuple[object, ...], message: str) -> None:
            problems.append(BadInput(str(index_path), line_of(lines, ("references", *loc)),
                                     field_name(("references", *loc)), message))

        refs = []
        width, height = index.size
        for name, entry in index.references.items():
            if name in without:
                continue
            for loc, message in entry_problems(name, entry, index.maker, index.size):
                problem((name, *loc), message)
            path = directory / entry.file
            image = _read_reference(path, entry.file, (width, height),
                                    lambda message, n=name: problem((n, "file"), message))
            if image is None:
                continue
            refs.append(
                Reference(
                    name, entry.state, entry.shows, entry.overlay, entry.title, tuple(entry.texts),
                    tuple(entry.buttons), tuple(entry.regions), image, path,
                    tuple(entry.lines),
                )
            )
        if problems:  # every reference's, not the first one's
            raise BadInput.of(problems)
        if not refs:
            raise RigError(f"{index_path}: lists no references")
        return cls(index.maker, index.size, tuple(refs), directory, index.look)


def entry_problems(name: str, entry: ReferenceEntry, maker: str, size: tuple[int, int]
                   ) -> list[tuple[tuple[object, ...], str]]:
    """What is wrong with reference ``name`` of ``maker``'s folder of ``size`` screens, but
    its picture: (where in the entry, problem), every one. The loader refuses a folder with
    any; ``learn`` refuses to write an entry with any (the folder would be refused after)."""
    found: list[tuple[tuple[object, ...], str]] = []
    if (why := variant_problem(name)) is not None:
        found.append(((), why))
    if entry.shows is not None and (why := shown_problem(maker, entry.shows)):
        found.append((("shows",), why))
    width, height = size
    for k, line in enumerate(entry.lines):
        x, y, w, h = line.box
        if x < 0 or y < 0 or x + w > width or y + h > height:
            found.append((("lines", k, "box"),
                          f"{line.text!r} lies outside the {width}x{height} screen"))
    masked = 0
    for k, region in enumerate(entry.regions):
        x, y, w, h = region.box
        if x + w > width or y + h > height:
            found.append((("regions", k, "box"),
                          f"{region.name} lies outside the {width}x{height} screen"))
        masked += w * h if region.kind == "mask" else 0
    if masked >= 0.9 * width * height:
        found.append((("regions",), "masks cover the whole screen: nothing left to recognise"))
    return found


#: Reference sets read in this process, by folder and its files' (name, mtime, size).
_LOADED: Kept[ReferenceSet] = Kept(16)


def default_screens_dir() -> Path:
    """The lab's reference screens (onshi-rig.toml), else the shipped ones."""
    from harness.config import lab_config

    return lab_config().screens or project_file("fixtures/screens")


#: Maker keys and reference names become file names: nothing that could leave the folder.
SAFE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_@+.-]*$")


def check_name(value: str, what: str) -> str:
    if not SAFE_NAME.match(value) or ".." in value:
        raise RigError(f"{what} {value!r}: use letters, digits and _ @ + . - only")
    return value


def screens_dir_for(maker: str, root: Path | None = None) -> Path:
    root = root or default_screens_dir()
    if not root.is_dir():
        raise RigError(f"{root}: no such folder of reference screens")
    check_name(maker, "maker")
    directory = root / maker
    if not (directory / INDEX).is_file():
        known = sorted(p.name for p in root.iterdir() if (p / INDEX).is_file())
        raise RigError(f"no reference screens for {maker!r} in {root}; known: "
                       f"{', '.join(known) or 'none'}")
    return directory


class _IndexDumper(yaml.SafeDumper):
    """Sizes and boxes (lists of numbers) on one line each."""


def _represent_list(dumper: yaml.SafeDumper, data: list | tuple) -> yaml.Node:
    flow = all(isinstance(x, (int, float)) for x in data) or all(isinstance(x, str) for x in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


_IndexDumper.add_representer(list, _represent_list)
_IndexDumper.add_representer(tuple, _represent_list)


def index_bytes(index: ReferenceIndex) -> bytes:
    """``screens.yaml``'s text: regions as flow lists so the file stays readable."""
    data = index.model_dump(mode="json", exclude_defaults=True)
    data["size"] = index.size
    text = yaml.dump(data, Dumper=_IndexDumper, allow_unicode=True, sort_keys=False, width=100)
    return ("# Reference screens: written by `onshi-rig references` / `onshi-rig learn`.\n"
            + text).encode("utf-8")


def write_index(directory: Path, index: ReferenceIndex) -> None:
    """Write ``screens.yaml`` whole, or leave it as it was (a RigError: a full disk)."""
    write_files({directory / INDEX: index_bytes(index)})


def png_bytes(image: np.ndarray, params: tuple[int, ...] = ()) -> bytes:
    """``image`` as PNG, encoded in memory and decoded back: a picture written from it is
    whole (libpng does not report a short write to a full disk)."""
    ok, buf = cv2.imencode(".png", image, list(params))
    if not ok or cv2.imdecode(buf, cv2.IMREAD_UNCHANGED) is None:
        raise RigError("the picture could not be encoded as PNG")
    return buf.tobytes()


def write_png(path: Path, image: np.ndarray, params: tuple[int, ...] = ()) -> None:
    """``path`` replaced by ``image`` as PNG whole, or left as it was (a RigError)."""
    write_files({path: png_bytes(image, params)})


def _read_reference(path: Path, file: str, size: tuple[int, int],
                    problem: Callable[[str], None]) -> np.ndarray | None:
    """A reference's picture (BGR) of the index's ``size``; None, with its ``problem`` said,
    when it is not one."""
    try:
        check_image_file(path)  # its declared size, before anything is decoded
    except BadInput as exc:
        problem(f"{file}: {exc.problem}")
        return None
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        problem(f"cannot read {file}")
        return None
    if image.shape[1::-1] != size:
        problem(f"{file} is {image.shape[1]}x{image.shape[0]}, the index says "
                f"{size[0]}x{size[1]}")
        return None
    return image


def read_index(directory: Path) -> ReferenceIndex:
    return load_yaml_model(directory / INDEX, ReferenceIndex)
