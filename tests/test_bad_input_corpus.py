"""The bad-input corpus: every kind of file and argument a user gives the rig, broken one way
at a time, and what the rig must say: bad input (exit 2 on the command line), a message
naming the file the user wrote and the line where the fault is on a line, or the argument;
never a traceback, a hang or a silent acceptance.

Cases are made from the shipped files, one field mutated at a time, and run in-process; a
sample runs through the real command line.
"""

from __future__ import annotations

import argparse
import copy
import functools
import os
import re
import struct
import subprocess
import time
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import attrs
import pytest
import yaml
from cli_fork import run_python

from harness.arguments import finite_positive_seconds, image_file, positive_int, writable_folder
from harness.bench import check_bench_file
from harness.cli import build_parser
from harness.emulation.card import FileSystemCard
from harness.emulation.device_spec import load_device_spec
from harness.errors import BadInput
from harness.image_header import check_image_file
from harness.model.profiles import ProfileSet
from harness.paths import project_file
from harness.vision.reference import ReferenceSet, read_index

BENCH = project_file("fixtures/benches/emulated.yaml")
TWIN = project_file("fixtures/devices/face_auth/panasonic.yaml")
GENERAL_TWIN = project_file("fixtures/devices/general/sony-rc-s380.yaml")
HUB_TWIN = project_file("fixtures/devices/hub/usb2-hub.yaml")
PROFILE = project_file("vendor_profiles/panasonic.yaml")
CARD = project_file("fixtures/cards/mynumber-card.yaml")
SCREENS = project_file("fixtures/screens/canon")
#: A case must be decided within this (the issue's bound is 10 s; a loader is milliseconds).
SECONDS = 5.0


def _absolute(data: Any, folder: Path) -> Any:
    """The shipped file's relative file references made absolute, so a mutated copy written
    elsewhere still finds them."""
    if isinstance(data, dict):
        return {k: str((folder / v).resolve())
                if k in ("emulate", "base") and isinstance(v, str) else _absolute(v, folder)
                for k, v in data.items()}
    if isinstance(data, list):
        return [_absolute(v, folder) for v in data]
    return data


#: The cases are made when the module is imported, in every pytest-xdist worker: each
#: shipped file is parsed once, by libyaml, and texts are written by it too (the pure-Python
#: parser and emitter took 12 s of CPU a worker). The lines are still found with the
#: pure-Python composer (line_at), not the rig's.
_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_FAST_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_SHIPPED: dict[Path, dict[str, Any]] = {}


def shipped(path: Path) -> dict[str, Any]:
    if path not in _SHIPPED:
        _SHIPPED[path] = _absolute(yaml.load(path.read_text("utf-8"), Loader=_FAST_LOADER),
                                   path.parent)
    return copy.deepcopy(_SHIPPED[path])  # each case changes its own


def dump(data: Any) -> str:
    return yaml.dump(data, Dumper=_FAST_DUMPER, allow_unicode=True, sort_keys=False,
                     width=1000)


def line_at(text: str, path: tuple[Any, ...]) -> int:
    """The line of the key (or item) at ``path``, found with PyYAML's pure-Python composer
    (not the rig's loader)."""
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    line = node.start_mark.line + 1
    for part in path:
        if isinstance(node, yaml.MappingNode):
            key, node = next((k, v) for k, v in node.value if k.value == part)
            line = key.start_mark.line + 1
        else:
            node = node.value[part]
            line = node.start_mark.line + 1
    return line


@attrs.frozen
class Case:
    name: str
    #: The loader: what it is given (the case's folder) -> raises.
    load: Callable[[Path], object]
    #: Files to write into the case's folder.
    files: dict[str, str | bytes]
    #: The file the user wrote, as the message must name it.
    blame: str
    #: The line the message must name (0: the fault is on no line), or how to find it: found
    #: when a test asks, on the worker that runs it (the pure-Python composer is slow).
    where: int | Callable[[], int] = 0
    #: Text the message must hold (the field or the problem).
    says: str = ""

    @property
    def line(self) -> int:
        return self.where if isinstance(self.where, int) else self.where()


def on(name: str) -> Callable[[Path], Path]:
    return lambda folder: folder / name


def bench_loader(folder: Path) -> object:
    return check_bench_file(folder / "bench.yaml")


def twin_loader(folder: Path) -> object:
    return load_device_spec(folder / "twin.yaml")


def profile_loader(folder: Path) -> object:
    return ProfileSet.load(folder / "profiles")


def card_loader(folder: Path) -> object:
    return FileSystemCard.load(folder / "card.yaml")


def index_loader(folder: Path) -> object:
    return read_index(folder / "screens")


KINDS: dict[str, tuple[Path, str, Callable[[Path], object]]] = {
    "bench": (BENCH, "bench.yaml", bench_loader),
    "twin": (TWIN, "twin.yaml", twin_loader),
    "profile": (PROFILE, "profiles/panasonic.yaml", profile_loader),
    "card": (CARD, "card.yaml", card_loader),
    "screens": (SCREENS / "screens.yaml", "screens/screens.yaml", index_loader),
}


def mutated(kind: str, name: str, path: tuple[Any, ...], value: Any, says: str = "",
            *, delete: bool = False, source: Path | None = None,
            at: tuple[Any, ...] | None = None) -> Case:
    """The kind's shipped file with the value at ``path`` replaced (or deleted); the fault
    is on the line of ``path`` (or of ``at``)."""
    origin, target, loader = KINDS[kind]
    data = shipped(source or origin)
    node = data
    for part in path[:-1]:
        node = node[part]
    if delete:
        del node[path[-1]]
    else:
        node[path[-1]] = copy.deepcopy(value)
    text = dump(data)
    line = functools.partial(line_at, text, at or (path[:-1] if delete else path))
    return Case(f"{kind}:{name}", loader, {target: text}, target, line, says)


def raw(kind: str, name: str, text: str | bytes, line: int, says: str) -> Case:
    _, target, loader = KINDS[kind]
    return Case(f"{kind}:{name}", loader, {target: text}, target, line, says)


def text_of(kind: str) -> str:
    return dump(shipped(KINDS[kind][0]))


LAUGHS = "".join(
    f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10) if i else 'lol'}]\n" for i in range(9))


def yaml_level(kind: str) -> list[Case]:
    """What any YAML file can get wrong, on this kind's shipped file."""
    good = text_of(kind)
    n = good.count("\n")
    first_key = good.split(":", 1)[0]
    return [
        raw(kind, "empty", "", 0, "empty"),
        raw(kind, "comment only", "# nothing\n", 0, "empty"),
        raw(kind, "a tab indents", good + "extra:\n\tx: 1\n", n + 2, "not valid YAML"),
        raw(kind, "unclosed quote", good + 'extra: "open\n', n + 1, "not valid YAML"),
        raw(kind, "duplicate key", good + f"{first_key}: again\n", n + 1, "duplicate key"),
        raw(kind, "billion laughs", LAUGHS + good, 6, "aliases expand"),
        raw(kind, "alias inside itself", good + "extra: &me [1, *me]\n", n + 1, "alias"),
        raw(kind, "nested 100 deep", good + "extra: " + "[" * 100 + "]" * 100 + "\n", n + 1,
            "nested deeper"),
        raw(kind, "nested 5000 deep", good + "extra: " + "[" * 5000 + "]" * 5000 + "\n",
            n + 1, "nest"),
        raw(kind, "3 MB", good + "# " + "x" * 3_000_000 + "\n", 0, "larger than"),
        raw(kind, "not UTF-8", good.encode() + b"extra: \xff\xfe\n", n + 1, "UTF-8"),
        raw(kind, "a list, not a mapping", "- 1\n- 2\n", 1, "valid"),
        raw(kind, "a bare word", "hello\n", 1, "valid"),
        raw(kind, "unknown key", good + "extra_key: 1\n", n + 1, "unknown field"),
    ]


def bench_cases() -> list[Case]:
    b = "bench"
    r = ("readers",)
    cases = [
        mutated(b, "kind", ("kind",), "virtual", "kind"),
        mutated(b, "no bench name", ("bench",), None, "bench", delete=True),
        mutated(b, "reader kind", (*r, 0, "kind"), "toaster", "readers[0].kind"),
        mutated(b, "reader maker a list", (*r, 0, "maker"), ["a"], "readers[0].maker"),
        mutated(b, "vid not hex", (*r, 0, "usb", "vid"), "XYZW", "readers[0].usb.vid"),
        mutated(b, "vid too long", (*r, 0, "usb", "vid"), "123456", "readers[0].usb.vid"),
        mutated(b, "usb path", (*r, 0, "usb", "path"), "two-one", "readers[0].usb.path"),
        mutated(b, "usb path off the terminal", (*r, 0, "usb", "path"), "7-1",
                "not a port of the terminal"),
        mutated(b, "usb path needs a hub", (*r, 0, "usb", "path"), "2-1.3", "needs a hub"),
        mutated(b, "two readers in one port", (*r, 1, "usb", "path"), "2-1",
                "two devices plugged into 2-1"),
        mutated(b, "channel 99", (*r, 0, "power", "channel"), 99, "channel"),
        mutated(b, "channel -1", (*r, 0, "power", "channel"), -1, "channel"),
        mutated(b, "channel 1.5", (*r, 0, "power", "channel"), 1.5, "channel"),
        mutated(b, "channel used twice", (*r, 1, "power", "channel"), 1,
                "already switches"),
        mutated(b, "relay unknown", (*r, 0, "power", "relay"), "nope", "no instrument"),
        mutated(b, "reader named twice", (*r, 1, "name"), "panasonic", "names used twice"),
        mutated(b, "reader named as the terminal", (*r, 1, "name"), "terminal",
                "names used twice"),
        mutated(b, "hub named as a reader", ("hubs", 0, "name"), "canon", "names used twice"),
        mutated(b, "camera named twice", ("cameras", 1, "name"), "cam-panasonic",
                "names used twice"),
        mutated(b, "camera watches nobody", ("cameras", 0, "watches"), "nobody",
                "no such reader"),
        mutated(b, "reader's camera unknown", (*r, 0, "camera"), "cam-nope", "no camera named"),
        mutated(b, "reader's camera watches another", (*r, 0, "camera"), "cam-canon",
                "its camera 'cam-canon' watches 'canon'"),
        mutated(b, "camera width 0", ("cameras", 0, "width"), 0, "width"),
        mutated(b, "camera fps nan", ("cameras", 0, "fps"), float("nan"), "finite"),
        mutated(b, "camera fps inf", ("cameras", 0, "fps"), float("inf"), "finite"),
        mutated(b, "wait_s inf", ("power_on", 0, "wait_s"), float("inf"), "finite"),
        mutated(b, "wait_s nan", ("power_on", 0, "wait_s"), float("nan"), "finite"),
        mutated(b, "wait_s negative", ("power_on", 0, "wait_s"), -5, "wait_s"),
        mutated(b, "power_on names no device", ("power_on", 0, "switch_on", 0), "kettle",
                "has no relay channel"),
        mutated(b, "clock without zone", ("clock", "start"), "2026-02-02T08:30:00", "zone"),
        mutated(b, "clock not a time", ("clock", "start"), "monday", "start"),
        mutated(b, "usb port version", ("terminal", "usb_ports", 0, "usb"), "4.0", "usb"),
        mutated(b, "upgrade", ("terminal", "upgrade"), "maybe", "upgrade"),
        mutated(b, "vpcd port low", ("pcsc", "vpcd_base_port"), 80, "vpcd_base_port"),
        mutated(b, "vpcd reader unknown", ("pcsc", "vpcd_reader"), "ghost", "no reader named"),
        mutated(b, "pcsc service", ("pcsc", "service"), "bluetooth", "service"),
        mutated(b, "instrument channels 0", ("instruments", 0, "channels"), 0, "channels"),
        mutated(b, "instrument on a real port", ("instruments", 0, "port"), "/dev/ttyACM0",
                "port must be 'emulated'"),
        mutated(b, "no twin", (*r, 0, "emulate"), None, "needs 'emulate'", delete=True),
        mutated(b, "twin file missing", (*r, 0, "emulate"), "nowhere.yaml", "no behaviour file"),
        mutated(b, "deviation into nothing", (*r, 0, "deviations"),
                [{"change": "behaviour.nothing.here", "to": 1}], "deviations",
                at=(*r, 0, "deviations", 0, "change")),
        mutated(b, "readers a mapping", ("readers",), {"a": 1}, "readers"),
        mutated(b, "calibration not a file", ("cameras", 0, "calibration"), "none.json",
                "calibration"),
    ]
    return cases


def base_cases() -> list[Case]:
    own = "base: bench.yaml\nbench: loop\n"
    return [
        Case("base:itself", bench_loader, {"bench.yaml": own}, "bench.yaml", 1, "cycle"),
        Case("base:a cycle of two", bench_loader,
             {"bench.yaml": "bench: x\nbase: other.yaml\n", "other.yaml": "base: bench.yaml\n"},
             "bench.yaml", 2, "cycle"),
        Case("base:a list", bench_loader, {"bench.yaml": "base: [emulated.yaml]\nbench: x\n"},
             "bench.yaml", 1, "a file name"),
        Case("base:a number", bench_loader, {"bench.yaml": "bench: x\nbase: 7\n"},
             "bench.yaml", 2, "a file name"),
        Case("base:missing", bench_loader, {"bench.yaml": "bench: x\nbase: gone.yaml\n"},
             "bench.yaml", 2, "no file gone.yaml"),
        Case("base:its base missing", bench_loader,
             {"bench.yaml": "bench: x\nbase: mid.yaml\n", "mid.yaml": "base: gone.yaml\n"},
             "bench.yaml", 2, "no file gone.yaml"),
        Case("base:a folder", bench_loader, {"bench.yaml": "bench: x\nbase: .\n"},
             "bench.yaml", 2, "no file"),
        Case("base:fault in the deriving file", bench_loader,
             {"bench.yaml": f"base: {BENCH}\nbench: x\nreaders:\n  - name: canon\n"
                            "    power: {relay: mains, channel: 1}\n"},
             "bench.yaml", 5, "already switches"),
        Case("base:a name twice in the deriving file", bench_loader,
             {"bench.yaml": f"base: {BENCH}\nbench: x\nreaders:\n  - name: canon\n"
                            "  - name: canon\n"}, "bench.yaml", 5, "names used twice"),
        Case("base:wait_s .inf in the deriving file", bench_loader,
             {"bench.yaml": f"base: {BENCH}\nbench: x\npower_on:\n  - wait_s: .inf\n"},
             "bench.yaml", 4, "finite"),
    ]


def twin_cases() -> list[Case]:
    t = "twin"
    return [
        mutated(t, "vid", ("usb", "vid"), "GGGG", "usb.vid"),
        mutated(t, "speed inf", ("usb", "max_speed_mbps"), float("inf"), "finite"),
        mutated(t, "device class 300", ("usb", "device_class"), 300, "device_class"),
        mutated(t, "interface class -1", ("usb", "interface_class"), -1, "interface_class"),
        mutated(t, "no usb", ("usb",), None, "usb", delete=True),
        mutated(t, "start seconds misspelt", ("behaviour", "start", "secnds"), 12, "secnds"),
        mutated(t, "base a list", ("base",), ["a.yaml"], "a file name"),
        mutated(t, "base missing", ("base",), "gone.yaml", "no file"),
        mutated(t, "general: no reader name", ("pcsc", "reader_name"), None,
                "reader_name", delete=True, source=GENERAL_TWIN),
        mutated(t, "general: targets a string", ("nfc", "targets"), 5, "targets",
                source=GENERAL_TWIN),
        mutated(t, "hub: name a list", ("name",), [1], "name", source=HUB_TWIN),
    ]


def profile_cases() -> list[Case]:
    p = "profile"
    req = ("requirements",)
    boot = 3  # panasonic's BOOT-01, after USB-01, USB-02 and USB-07
    return [
        mutated(p, "key differs", ("key",), "other", "key"),
        mutated(p, "kind", ("kind",), "toaster", "kind"),
        mutated(p, "requirement id", (*req, 0, "id"), "USB-1", "requirements[0].id"),
        mutated(p, "requirement id twice", (*req, 1, "id"), "USB-01", "listed twice"),
        mutated(p, "check kind", (*req, 0, "check", "kind"), "telepathy", "check"),
        mutated(p, "hubs between -1", (*req, 1, "check", "max_hubs_between"), -1.5,
                "max_hubs_between"),
        mutated(p, "boot order device", (*req, boot, "check", "order", 0), "toaster", "order"),
        mutated(p, "gap inf", (*req, boot, "check", "gaps", 0, "max_s"), float("inf"), "finite"),
        mutated(p, "gap nan", (*req, boot, "check", "gaps", 0, "min_s"), float("nan"), "finite"),
        mutated(p, "no statement", (*req, 0, "statement"), None, "statement", delete=True),
        mutated(p, "requirements a string", req, "all of them", "requirements"),
        mutated(p, "usb ids a number", ("usb_ids",), 5, "usb_ids"),
    ]


def card_cases() -> list[Case]:
    c = "card"
    a0, a1 = ("applets", 0), ("applets", 1)
    return [
        mutated(c, "atr not hex", ("atr",), "3B ZZ", "atr"),
        mutated(c, "atr one byte", ("atr",), "3B", "atr"),
        mutated(c, "atr empty", ("atr",), "", "atr"),
        mutated(c, "aid not hex", (*a0, "aid"), "D3 92 GG", "aid"),
        mutated(c, "aid 17 bytes", (*a0, "aid"), "00" * 17, "aid"),
        mutated(c, "aid twice", (*a1, "aid"), "D3 92 F0 00 26 01 00 00 00 01", "already used"),
        mutated(c, "fid odd hex", (*a0, "files", 0, "fid"), "006", "fid"),
        mutated(c, "fid 3 bytes", (*a0, "files", 0, "fid"), "000600", "fid"),
        mutated(c, "fid twice", (*a0, "files", 1, "fid"), "0006", "used twice"),
        mutated(c, "file fid as a PIN's", (*a0, "files", 0, "fid"), "0018", "used twice"),
        mutated(c, "content_hex bad", (*a0, "files", 0), {"fid": "0006",
                                                          "content_hex": "6F 6E 7"},
                "content_hex", at=(*a0, "files", 0, "content_hex")),
        mutated(c, "content_text not ASCII", (*a0, "files", 0, "content_text"), "トークン",
                "ASCII"),
        mutated(c, "content twice", (*a0, "files", 0, "content_hex"), "00", "give one of"),
        mutated(c, "pad_to negative", (*a0, "files", 0, "pad_to"), -1, "pad_to"),
        # READ BINARY's 15-bit offset reads no further: a probe failed with 6A86.
        mutated(c, "content_hex past READ BINARY's reach", (*a0, "files", 0),
                {"fid": "0006", "content_hex": "41" * 32768}, "32768 bytes; 0 to 32767",
                at=(*a0, "files", 0, "content_hex")),
        mutated(c, "content_text past READ BINARY's reach", (*a0, "files", 0),
                {"fid": "0006", "content_text": "A" * 32768}, "at most 32767",
                at=(*a0, "files", 0, "content_text")),
        mutated(c, "certificate kind", (*a0, "files", 1, "certificate"), "passport",
                "certificate"),
        mutated(c, "read_after names no PIN", (*a0, "files", 3, "read_after"), "nobody_pin",
                "no PIN named"),
        mutated(c, "read_after another applet's PIN", (*a0, "files", 3, "read_after"),
                "info_pin", "no PIN named"),
        mutated(c, "PIN not ASCII", (*a0, "pins", 0, "value"), "１２３４", "ASCII"),
        mutated(c, "PIN empty", (*a0, "pins", 0, "value"), "", "PIN"),
        mutated(c, "PIN a number", (*a0, "pins", 0, "value"), 1234, "value"),
        mutated(c, "PIN tries 0", (*a0, "pins", 0, "tries"), 0, "tries"),
        mutated(c, "PIN tries 99", (*a0, "pins", 0, "tries"), 99, "tries"),
        mutated(c, "PIN named twice", (*a0, "pins", 1, "name"), "auth_pin", "listed twice"),
        mutated(c, "no applets", ("applets",), None, "applets", delete=True),
    ]


def screens_cases() -> list[Case]:
    s = "screens"
    first = next(iter(shipped(SCREENS / "screens.yaml")["references"]))
    ref = ("references", first)
    return [
        mutated(s, "size one number", ("size",), [1024], "size"),
        mutated(s, "size words", ("size",), ["wide", "tall"], "size", at=("size", 0)),
        mutated(s, "no maker", ("maker",), None, "maker", delete=True),
        mutated(s, "references a list", ("references",), [1, 2], "references"),
        mutated(s, "entry without file", (*ref, "file"), None, "file", delete=True),
        mutated(s, "entry unknown key", (*ref, "colour"), "red", "unknown field"),
        # Two states of one picture: never told apart (the screen unknown on every frame).
        mutated(s, "two states one picture", ("references", "starting", "file"), "off.png",
                "could never be told apart"),
        # A line of no text the entry has, a line's box of no size: checked against nothing.
        mutated(s, "line of no text", ("references", "starting", "lines", 0, "source"),
                "texts.7", "is no text of this reference",
                at=("references", "starting", "lines", 0, "source")),
        mutated(s, "line box negative width", ("references", "starting", "lines", 0, "box"),
                [10, 10, -5, 20], "positive width"),
    ]


def png(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + ihdr
            + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr)))


def jpeg(width: int, height: int) -> bytes:
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + sof + b"\xff\xd9"


def image_loader(folder: Path) -> object:
    return check_image_file(folder / "frame.png")


def references_loader(folder: Path) -> object:
    return ReferenceSet.load(folder / "screens")


def image_cases() -> list[Case]:
    shot = (SCREENS / "first.png").read_bytes()
    index = dump({"maker": "canon", "size": [1024, 600],
                  "references": {"first": {"file": "first.png", "state": "first"}}})
    cases = [Case(f"image:{name}", image_loader, {"frame.png": data}, "frame.png", 0, says)
             for name, data, says in [
                 ("0 bytes", b"", "empty"),
                 ("PNG 20000x20000", png(20000, 20000), "20000x20000"),
                 ("PNG 0 wide", png(0, 600), "no picture"),
                 ("PNG cut in its header", png(10, 10)[:15], "IHDR"),
                 ("JPEG 20000x20000", jpeg(20000, 20000), "20000x20000"),
                 ("JPEG 65535 square", jpeg(65535, 65535), "refused before decoding"),
                 ("JPEG without a frame header", b"\xff\xd8\xff\xd9", "frame header"),
                 ("JPEG garbage after SOI", b"\xff\xd8garbage", "broken JPEG"),
             ]]
    cases += [
        Case("image:reference PNG cut short", references_loader,
             {"screens/screens.yaml": index, "screens/first.png": shot[: len(shot) // 3]},
             "screens/screens.yaml", 0, "cannot read first.png"),
        Case("image:reference of 0 bytes", references_loader,
             {"screens/screens.yaml": index, "screens/first.png": b""},
             "screens/screens.yaml", 0, "first.png: an empty file, not an image"),
        Case("image:reference declaring 20000x20000", references_loader,
             {"screens/screens.yaml": index, "screens/first.png": png(20000, 20000)},
             "screens/screens.yaml", 0, "first.png: declares 20000x20000"),
    ]
    return cases


def every_case() -> list[Case]:
    cases = [c for kind in KINDS for c in yaml_level(kind)]
    cases += bench_cases() + base_cases() + twin_cases() + profile_cases() + card_cases()
    cases += screens_cases() + image_cases()
    return cases


CASES = every_case()


def write(folder: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")


def test_the_corpus_is_large_and_every_case_is_a_different_input() -> None:
    args = len(ARGUMENT_CASES)
    assert len(CASES) + args >= 150, len(CASES) + args
    names = [c.name for c in CASES]
    assert len(set(names)) == len(names)
    kinds = {n.split(":")[0] for n in names}
    assert kinds >= {"bench", "base", "twin", "profile", "card", "screens", "image"}


def test_every_shipped_file_passes_its_loader(tmp_path: Path) -> None:
    """The mutations' originals are valid: each case's fault is the one mutation."""
    for kind, (origin, target, loader) in KINDS.items():
        write(tmp_path / kind, {target: dump(shipped(origin))})
        loader(tmp_path / kind)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_bad_input_is_refused_naming_file_line_and_field(case: Case, tmp_path: Path) -> None:
    write(tmp_path, case.files)
    began = time.monotonic()
    with pytest.raises(BadInput) as caught:
        case.load(tmp_path)
    assert time.monotonic() - began < SECONDS
    message = str(caught.value)
    blamed = str(tmp_path / case.blame)
    first = message.splitlines()[0]
    # The user's file first, with the line where the fault is (or none, said plainly).
    if case.line:
        assert any(line.startswith(f"{blamed}:{case.line}: ")
                   for line in message.splitlines()), message
    else:
        assert first.startswith(f"{blamed}: ") or first.startswith(f"{blamed}:"), message
    assert case.says in message, message
    assert "Traceback" not in message and "\n\n" not in message


def test_every_problem_of_a_file_is_listed_one_per_line(tmp_path: Path) -> None:
    data = shipped(BENCH)
    data["readers"][0]["usb"]["vid"] = "XYZW"
    data["readers"][1]["kind"] = "toaster"
    data["cameras"][0]["width"] = -3
    text = dump(data)
    write(tmp_path, {"bench.yaml": text})
    with pytest.raises(BadInput) as caught:
        bench_loader(tmp_path)
    lines = str(caught.value).splitlines()
    where = str(tmp_path / "bench.yaml")
    expected = [f"{where}:{line_at(text, p)}: {field}" for p, field in [
        (("readers", 0, "usb", "vid"), "readers[0].usb.vid"),
        (("readers", 1, "kind"), "readers[1].kind"),
        (("cameras", 0, "width"), "cameras[0].width")]]
    assert len(lines) == 3 and len(caught.value.problems) == 3, lines
    for want in expected:
        assert any(line.startswith(want + ": ") for line in lines), (want, lines)


def test_cross_checks_are_all_listed(tmp_path: Path) -> None:
    data = shipped(BENCH)
    data["readers"][1]["power"]["channel"] = 1
    data["readers"][2]["name"] = "panasonic"
    data["cameras"][0]["watches"] = "nobody"
    write(tmp_path, {"bench.yaml": dump(data)})
    with pytest.raises(BadInput) as caught:
        bench_loader(tmp_path)
    text = str(caught.value)
    assert "already switches" in text and "names used twice" in text and "nobody" in text
    assert all(re.match(rf"{re.escape(str(tmp_path))}/bench.yaml:\d+: ", line)
               for line in text.splitlines()), text


def test_a_bench_elsewhere_bases_itself_on_the_shipped_bench(tmp_path: Path) -> None:
    """Relative paths in a base file (its twins, ``../devices/...``) resolve against the
    base, not the deriving file: absolute and relative ``base`` alike."""
    import os

    elsewhere = tmp_path / "lab" / "benches"
    elsewhere.mkdir(parents=True)
    relative = os.path.relpath(BENCH, elsewhere)
    for name, ref in [("absolute.yaml", str(BENCH)), ("relative.yaml", relative)]:
        path = elsewhere / name
        path.write_text(f"base: {ref}\nbench: {name}\n", encoding="utf-8")
        spec = check_bench_file(path)
        assert spec.bench == name and len(spec.readers) == len(check_bench_file(BENCH).readers)


# --- arguments -----------------------------------------------------------------------------

def argument_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="onshi-rig", exit_on_error=True)
    parser.add_argument("--jobs", type=positive_int)
    parser.add_argument("--frames", type=positive_int)
    parser.add_argument("--timeout", type=finite_positive_seconds)
    parser.add_argument("--out", type=writable_folder)
    parser.add_argument("--image", type=image_file)
    return parser


ARGUMENT_CASES = [
    *[("--jobs", v) for v in ("0", "-1", "-100", "1.5", "two", "", " ", "1e2", "0b1")],
    *[("--frames", v) for v in ("0", "-3", "ten", "2.0")],
    *[("--timeout", v) for v in ("-5", "0", "nan", "inf", "-inf", "1e12", "soon", "", "NaN",
                                 "+inf")],
    ("--out", "FILE"), ("--out", "FILE/below"), ("--out", ""),
    ("--image", "HUGE"), ("--image", "EMPTY"), ("--image", "MISSING"),
]


@pytest.mark.parametrize(("option", "value"), ARGUMENT_CASES,
                         ids=[f"{o}={v}" for o, v in ARGUMENT_CASES])
def test_bad_arguments_exit_2_naming_the_argument(option: str, value: str, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    plain = tmp_path / "plain.txt"
    plain.write_text("x", encoding="utf-8")
    huge = tmp_path / "huge.png"
    huge.write_bytes(png(20000, 20000))
    (tmp_path / "empty.png").write_bytes(b"")
    value = {"FILE": str(plain), "FILE/below": str(plain / "below"), "HUGE": str(huge),
             "EMPTY": str(tmp_path / "empty.png"),
             "MISSING": str(tmp_path / "none.png")}.get(value, value)
    # The options the command line has take the real parser (the subcommand that has them);
    # the rest, their validators.
    command = {"--jobs": ["certify"], "--timeout": ["probe"], "--frames": ["learn"]}
    parser = build_parser() if option in command else argument_parser()
    with pytest.raises(SystemExit) as caught:
        parser.parse_args([*command.get(option, []), f"{option}={value}"])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {option}:" in err and "Traceback" not in err


# --- the real command line, a sample --------------------------------------------------------

def cli_cases(folder: Path) -> list[tuple[list[str], str, int]]:
    """(arguments, the file the message must name, its line or 0)."""
    out: list[tuple[list[str], str, int]] = []
    benches = [c for c in CASES if c.load is bench_loader]
    chosen = [c for c in benches if c.name in {
        "bench:duplicate key", "bench:billion laughs", "bench:3 MB", "bench:wait_s inf",
        "bench:channel used twice", "bench:camera named twice", "base:itself",
        "base:a list", "bench:nested 5000 deep", "bench:not UTF-8"}]
    for i, case in enumerate(chosen):
        where = folder / f"b{i}"
        write(where, case.files)
        out.append((["pcscd-config", "--bench", str(where / "bench.yaml")],
                    str(where / case.blame), case.line))
    profiles = [c for c in CASES if c.load is profile_loader and c.name in {
        "profile:requirement id twice", "profile:gap inf", "profile:duplicate key"}]
    for i, case in enumerate(profiles):
        where = folder / f"p{i}"
        write(where, case.files)
        out.append((["catalogue", "--profiles", str(where / "profiles")],
                    str(where / case.blame), case.line))
    screens = next(c for c in CASES if c.name == "screens:size words")
    write(folder / "s" / "canon", {"screens.yaml": screens.files[screens.blame]})
    image = folder / "frame.png"
    image.write_bytes((SCREENS / "first.png").read_bytes())
    out.append((["classify", "--vendor", "canon", "--screens", str(folder / "s"), str(image)],
                str(folder / "s" / "canon" / "screens.yaml"), screens.line))
    return out


def test_the_command_line_exits_2_with_one_line_per_problem(tmp_path: Path) -> None:
    cases = cli_cases(tmp_path)
    assert len(cases) >= 14

    def run(i: int, argv: list[str]) -> subprocess.CompletedProcess[str]:
        return run_python(["-c", GROWTH_THEN_CLI, *argv], cwd=tmp_path, timeout=60,
                          env={**os.environ, "GROWTH": str(tmp_path / f"{i}.kb")})

    # A few at a time: each is a command's start and a load, not worth a core each.
    with ThreadPoolExecutor(4) as pool:
        done = list(pool.map(run, range(len(cases)), [argv for argv, _, _ in cases]))
    for i, (proc, (argv, blamed, line)) in enumerate(zip(done, cases, strict=True)):
        out, err = proc.stdout, proc.stderr
        assert proc.returncode == 2, (argv, out, err)
        assert "Traceback" not in err, err
        shown = err.removeprefix(f"onshi-rig {argv[0]}: ")
        where = f"{blamed}:{line}: " if line else f"{blamed}:"
        assert any(row.startswith(where) for row in shown.splitlines()), (argv, err)
        # How far its resident size grew (kB on Linux) beyond what it had when it started:
        # a 3 MB file, a billion laughs or a 5000-deep nest is refused without ballooning.
        assert int((tmp_path / f"{i}.kb").read_text()) < 200_000, argv


#: The command line, in a child that notes in $GROWTH how far its resident size grew (kB)
#: beyond what it started with: the kernel's VmHWM of its own memory less its VmRSS at the
#: start (a process forked from the tests' warm zygote starts with the zygote's pages, whose
#: size is its VmHWM then; getrusage's ru_maxrss survives exec, so it would count a parent's
#: memory too).
GROWTH_THEN_CLI = """
import atexit, os, re, runpy, sys
def kb(field):
    with open("/proc/self/status", encoding="ascii") as status:
        return int(re.search(field + r":\\s+(\\d+) kB", status.read()).group(1))
start = kb("VmRSS")
def note():
    with open(os.environ["GROWTH"], "w") as out:
        out.write(str(kb("VmHWM") - start))
atexit.register(note)
sys.argv = ["onshi-rig", *sys.argv[1:]]
sys.modules.pop("harness.cli", None)  # run as a new interpreter's -m runs it
runpy.run_module("harness.cli", run_name="__main__")
"""
