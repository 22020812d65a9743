"""Load YAML files into validated models, with errors that name file, line and field.

Every user-written file (bench, profile, device behaviour, card) goes through
:func:`load_yaml_model`; a mistake becomes one :class:`~harness.errors.BadInput` such as
``fixtures/benches/lab.yaml:14: readers[2].usb.path: not a USB port path like '1-4'``.
"""

from __future__ import annotations

import copy
import datetime as dt
import errno
import hashlib
import json
import os
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import pydantic
import yaml

from harness.errors import BadInput, RigError
from harness.paths import LINK_LOOP, resolved

M = TypeVar("M", bound=pydantic.BaseModel)


def json_loads(text: str | bytes, **kwargs: Any) -> Any:
    """``json.loads``, a nesting too deep for the decoder (it recurses: a file of 100,000
    ``[`` exhausts the stack) being malformed JSON like any other, not a traceback."""
    try:
        return json.loads(text, **kwargs)
    except RecursionError:
        raise json.JSONDecodeError("nested too deep", text if isinstance(text, str) else "",
                                   0) from None


class Field(pydantic.BaseModel):
    """Base for file models: unknown keys are errors (a typo must not pass silently), and
    no number is infinite or not a number (``.inf`` seconds would wait forever)."""

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Problems(ValueError):
    """What a model's cross-checks found: each problem with its place in the data (a key
    path from the model), so the file's line can be named for each, and all are listed."""

    def __init__(self, found: list[tuple[tuple[Any, ...], str]]) -> None:
        self.found = found
        super().__init__("; ".join(f"{field_name(loc)}: {msg}" if loc else msg
                                   for loc, msg in found))


def check_all(found: list[tuple[tuple[Any, ...], str]]) -> None:
    """Raise :class:`Problems` when ``found`` holds any (for model validators)."""
    if found:
        raise Problems(found)


def _lines(node: yaml.Node, path: tuple[Any, ...], out: dict[tuple[Any, ...], int]) -> None:
    # A key's line, not its value's (a list or mapping value starts on the next line).
    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            k = key.value
            out[path + (k,)] = key.start_mark.line + 1
            _lines(value, path + (k,), out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _lines(item, path + (i,), out)


def field_name(loc: tuple[Any, ...], lines: Mapping[tuple[Any, ...], int] | None = None
               ) -> str:
    """A field's path as every message spells it: ``readers[1].usb.path``. In a file with a
    ``base`` (``lines`` its :class:`LayeredLines`) an item of a named list is named by its
    name, ``readers[canon].usb.path``: the files merge such items by name, so the merged
    list's index is neither the user's file's nor its base's."""
    names = getattr(lines, "names", {})
    text = ""
    for n, part in enumerate(loc):
        if isinstance(part, int) and not isinstance(part, bool) and loc[:n + 1] in names:
            text += f"[{names[loc[:n + 1]]}]"
        elif part == "[key]":
            text += " (a key)"
        elif isinstance(part, bool):  # YAML 1.1 reads bare on/off/yes/no as booleans
            text += ("." if text else "") + f"{str(part).lower()} (quote it)"
        elif isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text


def _data_loc(data: Any, loc: tuple[Any, ...], missing: bool) -> tuple[Any, ...]:
    """The part of pydantic's error location that names keys of the data.

    pydantic puts union tags, discriminator values and validator names into ``loc``. Walk
    the data and keep the longest chain of real keys and indexes (a tag may equal a field
    name, as ``flow`` does, so both readings are tried), plus a missing key at the end.
    """

    def child(node: Any, part: Any) -> tuple[bool, Any]:
        if isinstance(node, dict) and part in node:
            return True, node[part]
        if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            return True, node[part]
        return False, None

    def walk(node: Any, rest: tuple[Any, ...]) -> tuple[Any, ...]:
        if not rest:
            return ()
        part, tail = rest[0], rest[1:]
        skipped = walk(node, tail)
        found, sub = child(node, part)
        if found:
            taken = (part, *walk(sub, tail))
            return taken if len(taken) > len(skipped) else skipped
        if missing and not tail and isinstance(part, str):
            return (part,)
        return skipped

    return walk(data, tuple(loc))


Stamp = tuple[str, str]
#: The digest of a stamp (and of a report's ``bench.loads``), by its name.
STAMP_DIGEST = "blake2b-128"

#: Parsed files by their stamp (path and content): twins are built many times per test run.
_parsed: dict[Stamp, tuple[Any, dict[tuple[Any, ...], int]]] = {}


def file_stamp(path: Path) -> Stamp:
    """A file's content as a cache knows it: its resolved path and a digest of its bytes
    (OSError when it cannot be read). Not its modification time: a file written again
    within the clock's tick at the same size (a test's or a generator's deviations,
    where a file system keeps coarse times) would pass for the old one."""
    return _stamped(path)[0]


def _stamped(path: Path) -> tuple[Stamp, bytes]:
    """The stamp and the bytes it was made of: at most one byte more than a file the rig
    reads may hold (a file that grows, or a device that never ends, is not read whole)."""
    # Opened before resolved: a link loop is then an OSError, which callers handle (a
    # FIFO too: NotAFile, before an open that would wait for its writer).
    refuse_pipe(path)
    with path.open("rb") as handle:
        raw = handle.read(MAX_BYTES + 1)
    # STAMP_DIGEST names this digest in reports (bench.loads).
    return (str(path.resolve()), hashlib.blake2b(raw, digest_size=16).hexdigest()), raw


def read_yaml(path: Path) -> tuple[Any, dict[tuple[Any, ...], int]]:
    """Parse a YAML file; return its data and a map from key path to line number."""
    try:
        key, raw = _stamped(path)
    except OSError:
        return _parse_yaml(path)  # which says why the file cannot be read
    if key not in _parsed:
        _parsed[key] = _parse_yaml(path, raw)  # the very bytes of the stamp
    data, lines = _parsed[key]
    # Callers may change what they get (deviations): each gets its own copy.
    return copy_tree(data), lines


def copy_tree(value: Any) -> Any:
    """A copy of parsed YAML: its mappings and lists new, its scalars (str, numbers, dates:
    immutable) shared; anything else deep-copied. Under half ``copy.deepcopy``'s time (a
    test opening benches a hundred times spent seconds copying the files it had read), and
    an alias's two places become two copies (a change to one is not the other's)."""
    kind = type(value)
    if kind in _IMMUTABLE:
        return value
    if kind is dict:
        return {k: copy_tree(v) for k, v in value.items()}
    if kind is list:
        return [copy_tree(v) for v in value]
    return copy.deepcopy(value)


_IMMUTABLE = frozenset({str, int, float, bool, type(None), bytes, dt.date, dt.datetime})


#: libyaml's parser where PyYAML was built with it (its wheels are): a tenth of the time.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

#: Limits on what a user-written YAML file may be: the largest shipped file is well under a
#: tenth of each. Beyond them a file is refused before it can hang or exhaust the rig.
MAX_BYTES = 2_000_000
MAX_DEPTH = 64
#: Nodes the document would have with every alias expanded (a "billion laughs" file is a
#: few lines that expand to billions).
MAX_NODES = 200_000


#: The largest run file (certification.json, run.json, manifest.sha256) the report
#: commands read: a whole certification's report is a few MB.
MAX_REPORT_BYTES = 64_000_000


class TooLarge(OSError):
    """A file larger than the rig reads of its kind: a device such as /dev/zero never
    ends, and reading it whole would exhaust memory."""

    def __str__(self) -> str:
        return str(self.strerror)


class NotAFile(OSError):
    """A FIFO or a socket given for a file: opening it waits for a writer, for ever."""

    def __str__(self) -> str:
        return str(self.strerror)


def file_kind(target: Path) -> str:
    """What ``target`` is, in words (/dev/null was called "a folder": K2-6)."""
    try:
        mode = target.stat().st_mode
    except (OSError, ValueError):
        return "unreadable"
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISREG, "a file"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a file"


def refuse_pipe(path: Path) -> None:
    """:class:`NotAFile` for a FIFO or a socket at ``path`` (links followed); anything
    else (a missing file too: opening it says why) passes."""
    kind = file_kind(path)
    if kind in ("a FIFO", "a socket"):
        raise NotAFile(errno.EINVAL, f"not a regular file ({kind}): not a file the rig reads")


def bounded_bytes(path: Path, limit: int) -> bytes:
    """``path.read_bytes()``, but :class:`TooLarge` (an OSError, which callers already
    report) beyond ``limit`` bytes, read no further, and :class:`NotAFile` for a FIFO."""
    refuse_pipe(path)
    with path.open("rb") as handle:
        raw = handle.read(limit + 1)
    if len(raw) > limit:
        raise TooLarge(errno.EFBIG, f"larger than {limit // 1_000_000} MB: not a file the "
                       "rig reads (a device that never ends?)")
    return raw


def read_head(path: Path, limit: int, what: str = "a file") -> bytes:
    """At most ``limit`` bytes of ``path`` from its start; a BadInput naming the file when
    it cannot be read (``what`` it should be, for a folder given instead)."""
    shown = str(path)
    try:
        refuse_pipe(path)
        with path.open("rb") as handle:
            return handle.read(limit)
    except NotAFile as exc:
        raise BadInput(shown, None, "", str(exc)) from None
    except FileNotFoundError:
        raise BadInput(shown, None, "", "no such file") from None
    except IsADirectoryError:
        raise BadInput(shown, None, "", f"a folder, not {what}") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise BadInput(shown, None, "", LINK_LOOP) from None
        raise BadInput(shown, None, "", f"cannot read: {exc.strerror or exc}") from None


def _parse_yaml(path: Path, raw: bytes | None = None) -> tuple[Any, dict[tuple[Any, ...], int]]:
    """``path`` parsed (from ``raw``, its bytes when already read)."""
    return parse_text(_read_text(path, raw), str(path))


def parse_text(text: str, shown: str) -> tuple[Any, dict[tuple[Any, ...], int]]:
    """A YAML text parsed as a file ``shown`` holding it would be, with the same checks
    (duplicate keys, depth, aliases, dates): for a text the rig is about to write into a
    user's file, checked before it is written."""
    try:
        loader = _LOADER(text)
        try:
            node = loader.get_single_node()
            if node is not None:
                _check_node(node, shown)
                data = loader.construct_document(node)
            else:
                data = None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = " ".join(str(exc.problem or exc).split())
        if exc.context_mark is not None and "end of stream" in problem:
            # Where the unclosed thing opened, not the end of the file.
            mark = exc.context_mark
            problem = f"{exc.context}, {problem}"
        line = mark.line + 1 if mark else None
        raise BadInput(shown, line, "", f"not valid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise BadInput(shown, None, "", f"not valid YAML: {exc}") from None
    except RecursionError:  # the pure-Python parser on a deeply nested file
        raise BadInput(shown, None, "", f"nested deeper than {MAX_DEPTH} levels") from None
    lines: dict[tuple[Any, ...], int] = {}
    if node is not None:
        _lines(node, (), lines)
    return data, lines


def _read_text(path: Path, raw: bytes | None = None) -> str:
    shown = str(path)
    # One byte more than allowed: a file that grows (or a device that never ends) is
    # refused without reading it all.
    if raw is None:
        raw = read_head(path, MAX_BYTES + 1)
    if len(raw) > MAX_BYTES:
        raise BadInput(shown, None, "", f"larger than {MAX_BYTES // 1_000_000} MB: not a file "
                       "the rig reads (a bench, profile or behaviour file is a few kB)")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise BadInput(shown, line, "", "not UTF-8 text") from None


_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_INT = "tag:yaml.org,2002:int"
#: Keys whose values are hex digits as a tool prints them (lsusb's ``ID 0411:1234``): a
#: plain number there reads as decimal, or octal with a leading 0, and names another device.
_HEX_KEYS = ("vid", "pid")


def _bad_timestamp(node: yaml.ScalarNode) -> str:
    """What is wrong with a value YAML reads as a date (``2026-02-30``), or "": PyYAML's
    constructor raises a bare ValueError on a date the calendar lacks, with no line."""
    try:
        yaml.constructor.SafeConstructor().construct_yaml_timestamp(node)
    except (ValueError, OverflowError) as exc:
        return f"not a date the calendar has ({exc})"
    return ""


def _unquoted_hex(text: str) -> str:
    try:
        value = yaml.safe_load(text)
        read = f" (the number {value}, {value:04X} in hex)" if isinstance(value, int) \
            and value >= 0 else ""
    except (yaml.YAMLError, ValueError):
        read = ""
    kind = "an octal" if text.lstrip("+").startswith("0") and text != "0" else "a decimal"
    return (f"{text} unquoted is read as {kind} number{read}: write the ID as lsusb prints "
            f"it, in quotes: '{text}'")


def _check_node(root: yaml.Node, shown: str) -> None:
    """Refuse a composed document that is nested too deep, expands too far through its
    aliases, refers to itself, repeats a key of a mapping or holds a date the calendar
    lacks. Walked without recursion; a node reached twice is an alias (the composer shares
    the anchored node)."""
    problems: list[BadInput] = []
    columns: list[int] = []  # each problem's, for the file's order within a line
    # Depth and duplicate keys, each node once (an anchored node is checked where defined).
    seen: set[int] = set()
    aliased = False
    stack: list[tuple[yaml.Node, int, tuple[Any, ...]]] = [(root, 1, ())]
    while stack:
        node, depth, path = stack.pop()
        if id(node) in seen:
            aliased = True
            continue
        seen.add(id(node))
        if depth > MAX_DEPTH:
            raise BadInput(shown, node.start_mark.line + 1, "",
                           f"nested deeper than {MAX_DEPTH} levels")
        if isinstance(node, yaml.MappingNode):
            keys: dict[Any, int] = {}
            for key, value in node.value:
                k = key.value if isinstance(key, yaml.ScalarNode) else id(key)
                if k in keys:
                    columns.append(key.start_mark.column)
                    problems.append(BadInput(
                        shown, key.start_mark.line + 1, field_name(path + (k,)),
                        f"duplicate key (first on line {keys[k]})"))
                else:
                    keys[k] = key.start_mark.line + 1
                stack.append((value, depth + 1, path + (k,)))
            # A deviation that changes a USB ID writes it under ``to``.
            values = {k.value: v for k, v in node.value if isinstance(k, yaml.ScalarNode)}
            change, to = values.get("change"), values.get("to")
            if isinstance(change, yaml.ScalarNode) and str(change.value).endswith(
                    tuple(f".{h}" for h in _HEX_KEYS)) and isinstance(to, yaml.ScalarNode) \
                    and to.tag == _INT and not to.value.lower().startswith(("0x", "+0x")):
                columns.append(to.start_mark.column)
                problems.append(BadInput(shown, to.start_mark.line + 1,
                                         field_name((*path, "to")), _unquoted_hex(to.value)))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend([(item, depth + 1, (*path, i)) for i, item in enumerate(node.value)])
        elif node.tag == _INT and path and path[-1] in _HEX_KEYS \
                and not node.value.lower().startswith(("0x", "+0x", "-0x")):
            columns.append(node.start_mark.column)
            problems.append(BadInput(shown, node.start_mark.line + 1, field_name(path),
                                     _unquoted_hex(node.value)))
        elif node.tag == _TIMESTAMP:
            problem = _bad_timestamp(node)
            if problem:
                columns.append(node.start_mark.column)
                problems.append(BadInput(shown, node.start_mark.line + 1, field_name(path),
                                         problem))
    if len(seen) > MAX_NODES:
        raise BadInput(shown, None, "", f"more than {MAX_NODES} values")
    if problems:  # in the file's order (the walk takes a mapping's last value first)
        raise BadInput.of([p for _, p in sorted(zip(columns, problems, strict=True),
                                                key=lambda cp: ((cp[1].line or 0), cp[0]))])
    if not aliased:  # every node once: what was walked is what the data will be
        return
    # Expanded size: children's sizes first, each shared node counted where it is used.
    size: dict[int, int] = {}
    deep: dict[int, int] = {}
    busy: set[int] = set()
    work: list[tuple[yaml.Node, bool]] = [(root, False)]
    while work:
        node, done = work.pop()
        children = [c for pair in node.value for c in pair] if isinstance(
            node, yaml.MappingNode) else node.value if isinstance(node, yaml.SequenceNode) else []
        if done:
            busy.discard(id(node))
            size[id(node)] = 1 + sum(size[id(c)] for c in children)
            deep[id(node)] = 1 + max((deep[id(c)] for c in children), default=0)
            if size[id(node)] > MAX_NODES:
                raise BadInput(shown, node.start_mark.line + 1, "",
                               f"its aliases expand to more than {MAX_NODES} values")
            if deep[id(node)] > MAX_DEPTH:
                raise BadInput(shown, node.start_mark.line + 1, "",
                               f"its aliases nest it deeper than {MAX_DEPTH} levels")
            continue
        if id(node) in size:
            continue
        if id(node) in busy:
            raise BadInput(shown, node.start_mark.line + 1, "",
                           "an alias inside the value it refers to (endless)")
        busy.add(id(node))
        work.append((node, True))
        work.extend((c, False) for c in children if id(c) not in size)


def line_of(lines: dict[tuple[Any, ...], int], loc: tuple[Any, ...]) -> int | None:
    """The line of the deepest part of ``loc`` that the file has."""
    for n in range(len(loc), -1, -1):
        if loc[:n] in lines:
            return lines[loc[:n]]
    return None


def deep_merge(base: Any, over: Any) -> Any:
    """``over`` on top of ``base``. Mappings merge key by key (a ``null`` value removes the
    key); lists of named mappings merge item by item on ``name`` (new names are appended);
    anything else replaces."""
    if isinstance(base, dict) and isinstance(over, dict):
        merged = dict(base)
        for key, value in over.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = deep_merge(base[key], value) if key in base else value
        return merged
    if _named_items(base) and _named_items(over):
        items = {item["name"]: item for item in base}
        for item in over:
            items[item["name"]] = deep_merge(_untied(items.get(item["name"], {}), item), item)
        return list(items.values())
    return copy_tree(over)


#: A key whose new value makes the base's values of others stale: they were measured on
#: the old one (a camera's latency on its old source), so the deriving file gives them anew.
_TIED: dict[str, tuple[str, ...]] = {"source": ("latency_s",)}


def _untied(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``base`` without what ``over``'s changed keys make stale (:data:`_TIED`)."""
    stale = {tied for key, keys in _TIED.items()
             if key in over and over[key] != base.get(key) for tied in keys}
    return {k: v for k, v in base.items() if k not in stale}


def _unnamed_over_named(base: Any, over: Any, at: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """Where ``over`` has a list the base's named list is merged with (by name), the items
    of it without a name of text (a typo'd key, ``name: 2024`` unquoted)."""
    if isinstance(base, dict) and isinstance(over, dict):
        return [loc for key, value in over.items() if key in base
                for loc in _unnamed_over_named(base[key], value, (*at, key))]
    if isinstance(base, list) and base and _named_items(base) and isinstance(over, list):
        return [(*at, i, "name") if isinstance(item, dict) else (*at, i)
                for i, item in enumerate(over)
                if not (isinstance(item, dict) and isinstance(item.get("name"), str))]
    return []


def _named_items(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(i, dict) and isinstance(i.get("name"), str) for i in value)


#: ``base`` files one file may stand on (a longer chain is a mistake, or a cycle).
MAX_BASES = 16


def layered_stamp(path: Path) -> tuple[Stamp, ...] | None:
    """What a layered file's data is made of: each file of its ``base`` chain by path and
    content (a change to any is a new stamp); None when the chain cannot be followed (the
    loader says why)."""
    stamps: list[Stamp] = []
    while len(stamps) <= MAX_BASES:
        try:
            key, raw = _stamped(path)
            if key not in _parsed:
                _parsed[key] = _parse_yaml(path, raw)
        except (OSError, BadInput):
            return None
        if key in stamps:
            return None
        stamps.append(key)
        data = _parsed[key][0]
        if not isinstance(data, dict) or "base" not in data:
            return tuple(stamps)
        if not isinstance(data["base"], str):
            return None
        # As _read_layered follows it: from the folder of the path as given (a link's).
        try:
            path = resolved(path.parent / data["base"])
        except BadInput:
            return None
    return None


def read_layered_yaml(path: Path) -> tuple[Any, dict[tuple[Any, ...], int]]:
    """A YAML mapping with its ``base`` chain merged in (``base``: a file, relative to this
    one, that this file changes). Line numbers are this file's own; a fault in the chain
    (a missing base, a cycle) names this file, the one the user gave."""
    return _read_layered(path, path, [])


def _read_layered(path: Path, top: Path,
                  chain: list[Path]) -> tuple[Any, dict[tuple[Any, ...], int]]:
    data, lines = read_yaml(path)
    if not isinstance(data, dict) or "base" not in data:
        return data, lines

    def fault(problem: str) -> BadInput:
        # A fault of the chain is reported on the ``base`` line of the file the user gave.
        at = lines if path is top else read_yaml(top)[1]
        return BadInput(str(top), line_of(at, ("base",)), "base", problem)

    base_ref = data.pop("base")
    inside = "" if path is top else f" (in {path})"
    if not isinstance(base_ref, str) or not base_ref.strip():
        raise fault(f"a file name, not {type(base_ref).__name__} {base_ref!r}{inside}")
    try:
        base_path = resolved(path.parent / base_ref)
    except BadInput as exc:
        raise fault(f"{base_ref}: {exc.problem}{inside}") from None
    here = [*chain, path.resolve()]
    if base_path in here:
        names = " -> ".join(str(p) for p in [*here, base_path])
        raise fault(f"the base files make a cycle: {names}")
    if len(here) > MAX_BASES:
        raise fault(f"more than {MAX_BASES} base files in a chain")
    if not base_path.is_file():
        raise fault(f"no file {base_ref}{inside}")
    twice = _names_twice(data, ())
    if twice:  # merging on names would fold them into one silently
        raise BadInput.of([BadInput(str(path), line_of(lines, loc), field_name(loc),
                                    f"names used twice: {name}") for loc, name in twice])
    base, base_lines = _read_layered(base_path, top, here)
    if not isinstance(base, dict):  # merged, it would vanish: "a field is missing" misleads
        what = "empty" if base is None else f"{_kind(base)}, not a mapping of keys"
        raise fault(f"{base_ref} is {what}{inside}")
    unnamed = _unnamed_over_named(base, data, ())
    if unnamed:  # the list would replace the base's whole, every item's inherited keys lost
        raise BadInput.of([BadInput(str(path), line_of(lines, loc), field_name(loc),
                                    "an item of a list merged with its base's by name needs "
                                    "a name (a text)") for loc in unnamed])
    if base_path.parent != path.parent:
        _rebase(base, base_path.parent, path.parent)
    merged = deep_merge(base, data)
    out = LayeredLines(_lines_in_merged(lines, data, merged))
    out.names = _item_names(merged)
    # The nearest file that writes a key is where its mistake is; a shipped file is not
    # one the user can fix, so its keys are left to the file deriving from it.
    out.below.update(getattr(base_lines, "below", {}))
    if not shipped(base_path):
        out.below.update({loc: (str(base_path), line) for loc, line in base_lines.items()})
    return merged, out


def _kind(value: Any) -> str:
    return "text" if isinstance(value, str) else f"a {type(value).__name__}"


class LayeredLines(dict[tuple[Any, ...], int]):
    """A layered file's own line map, and in ``below`` the lines of the keys its base
    files write (file, line): a mistake that is a base's is named at the base's line."""

    def __init__(self, own: dict[tuple[Any, ...], int]) -> None:
        super().__init__(own)
        self.below: dict[tuple[Any, ...], tuple[str, int]] = {}
        #: The merged data's items of named lists, by where they stand: their names.
        self.names: dict[tuple[Any, ...], str] = {}


def _item_names(data: Any, at: tuple[Any, ...] = ()) -> dict[tuple[Any, ...], str]:
    names: dict[tuple[Any, ...], str] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            names |= _item_names(value, (*at, key))
    elif isinstance(data, list):
        named = _named_items(data)
        for i, item in enumerate(data):
            if named:
                names[(*at, i)] = item["name"]
            names |= _item_names(item, (*at, i))
    return names


def shipped(path: Path) -> bool:
    """Whether ``path`` is one of the rig's own data files (not one a user can fix)."""
    from harness.paths import data_root

    try:
        return path.is_relative_to(resolved(data_root()))
    except RigError:  # installed without its data: nothing is shipped
        return False


def place_of(where: str, lines: dict[tuple[Any, ...], int],
             loc: tuple[Any, ...]) -> tuple[str, int | None]:
    """The file and line of ``loc``: ``where``'s own, unless a base file the user wrote
    holds more of ``loc`` (the mistake is on its line)."""
    below = getattr(lines, "below", {})
    for n in range(len(loc), 0, -1):
        if loc[:n] in lines:
            return where, lines[loc[:n]]
        if loc[:n] in below:
            return below[loc[:n]]
    return where, line_of(lines, ())


def _names_twice(data: Any, at: tuple[Any, ...]) -> list[tuple[tuple[Any, ...], str]]:
    """Items of named lists that repeat a name of the same list, where they are."""
    found: list[tuple[tuple[Any, ...], str]] = []
    if isinstance(data, dict):
        for key, value in data.items():
            found += _names_twice(value, (*at, key))
    elif _named_items(data):
        seen: set[str] = set()
        for i, item in enumerate(data):
            if item["name"] in seen:
                found.append(((*at, i, "name"), item["name"]))
            seen.add(item["name"])
    return found


def _lines_in_merged(lines: dict[tuple[Any, ...], int], own: Any,
                     merged: Any) -> dict[tuple[Any, ...], int]:
    """This file's line map, its items of named lists renumbered as they stand in the
    merged data (this file's ``readers[0]`` may be its base's ``readers[4]``)."""

    def moved(path: tuple[Any, ...]) -> tuple[Any, ...]:
        mine, theirs, out = own, merged, []
        for part in path:
            if isinstance(part, int) and _named_items(mine) and isinstance(theirs, list) \
                    and 0 <= part < len(mine):
                name = mine[part]["name"]
                at = next((k for k, item in enumerate(theirs)
                           if isinstance(item, dict) and item.get("name") == name), None)
                if at is None:
                    return path
                mine, theirs = mine[part], theirs[at]
                out.append(at)
            elif isinstance(mine, dict) and isinstance(theirs, dict) and part in mine:
                mine, theirs = mine[part], theirs.get(part)
                out.append(part)
            else:
                return (*out, *path[len(out):])
        return tuple(out)

    return {moved(path): line for path, line in lines.items()}


#: Keys whose string values are files relative to the file that holds them (a bench's
#: twins, camera calibrations and operator script).
FILE_KEYS = ("emulate", "calibration", "script")


def file_reference(key: str, value: Any) -> bool:
    """A bench file's value that names a file: a FILE_KEYS value, or a camera ``source``
    that is a recorded video (not ``emulated``, a device index, a /dev path or a URL)."""
    if not isinstance(value, str):
        return False
    if key == "source":
        text = value.strip()
        return not (text == "emulated" or text.isdigit() or "://" in text
                    or text.startswith("/dev/"))
    return key in FILE_KEYS


def loaded_files(path: Path, implied: Sequence[Path] = ()) -> dict[str, str]:
    """A digest of each file layered file ``path`` is made of and names: its ``base`` chain,
    and every file its values name (FILE_KEYS, recorded videos), each with its own chain,
    and the ``implied`` files (a default the file's reader uses); by path relative to
    ``path``'s folder. Two equal maps: the same files, as they were (``certify --resume``
    refuses a bench whose base or twin changed since the run)."""
    folder = path.parent
    out: dict[str, str] = {}

    def add(file: Path) -> None:
        stamps = layered_stamp(file)
        if stamps is None:  # not YAML (a video), or a chain the loader refuses
            try:
                stamps = (file_stamp(file),)
            except OSError:
                stamps = ((str(file), "unreadable"),)
        for where, digest in stamps:
            out.setdefault(os.path.relpath(where, folder), digest)

    add(path)
    for file in implied:
        add(file)
    try:
        data, _ = read_layered_yaml(path)
    except BadInput:
        return out
    for ref in sorted(set(_references(data))):
        add(folder / ref)
    return out


def _references(data: Any) -> list[str]:
    """The file names of a bench's values (``_rebase`` made them relative to the file)."""
    if isinstance(data, dict):
        return [ref for key, value in data.items() for ref in (
            [value] if file_reference(key, value) else _references(value))]
    if isinstance(data, list):
        return [ref for item in data for ref in _references(item)]
    return []


def _rebase(data: Any, base_dir: Path, into: Path) -> None:
    """A base file's relative file references, made relative to the file deriving from it:
    a bench outside the base's folder still finds the base's twins."""
    if isinstance(data, dict):
        for key, value in data.items():
            if file_reference(key, value) and not Path(value).is_absolute():
                data[key] = os.path.relpath(base_dir / value, into)
            else:
                _rebase(value, base_dir, into)
    elif isinstance(data, list):
        for item in data:
            _rebase(item, base_dir, into)


def load_yaml_model(path: Path, model: type[M], layered: bool = False) -> M:
    data, lines = read_layered_yaml(path) if layered else read_yaml(path)
    if data is None:
        raise BadInput(str(path), None, "", "the file is empty")
    return validate_data(model, data, str(path), lines)


#: Problems listed per file at most (the rest are counted).
MAX_LISTED = 30


def validate_data(
    model: type[M], data: Any, where: str, lines: dict[tuple[Any, ...], int] | None = None
) -> M:
    """Validate parsed data; every problem becomes a line of one BadInput naming ``where``,
    the line and the field."""
    if data is None:
        raise BadInput(where, None, "", "the file is empty")
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        found = _problems(exc, data, where, lines or {})
        shown = {p.line_text() for p in found}
        found += [p for p in _hidden_checks(model, data, exc, where, lines or {})
                  if p.line_text() not in shown]
        if len(found) > MAX_LISTED:
            more = len(found) - MAX_LISTED
            found = [*found[:MAX_LISTED], BadInput(where, None, "", f"and {more} more problems")]
        raise BadInput.of(found) from None


#: Field errors that can stand aside to run the cross-checks they kept from running: a key
#: that is no field (left out: it meant nothing), a number past a bound (taken at the
#: bound, the nearest value the file could mean: a default standing in would have the
#: cross-checks judge a value the file never gave). Any other error adds nothing.
_BOUNDS = {"greater_than": "gt", "greater_than_equal": "ge", "less_than": "lt",
           "less_than_equal": "le"}


def _at_bound(kind: str, bound: Any, value: float) -> float | None:
    """The value nearest ``value`` within the bound (an int stays an int)."""
    if not isinstance(bound, int | float):
        return None
    step = 1 if isinstance(value, int) and isinstance(bound, int) else 1e-9
    return {"gt": bound + step, "ge": bound, "lt": bound - step, "le": bound}[_BOUNDS[kind]]


def _cross_check(err: Any) -> bool:
    return isinstance((err.get("ctx") or {}).get("error"), Problems)


def _hidden_checks(model: type[M], data: Any, exc: pydantic.ValidationError, where: str,
                   lines: dict[tuple[Any, ...], int]) -> list[BadInput]:
    """The cross-checks pydantic skips for a model one of whose fields failed (so that a
    file's problems are listed at once, not one fix at a time): validated again with those
    keys left out. Only where every failed field has a default to stand in for it: a key
    left out that comes back missing, or any other error, adds nothing."""
    failed = [err for err in exc.errors() if not _cross_check(err)]
    if not failed:
        return []
    trimmed = copy.deepcopy(data)
    for err in failed:
        loc = _data_loc(data, err["loc"], missing=False)
        parent = trimmed
        for part in loc[:-1]:
            parent = parent[part]
        if not loc or not isinstance(parent, dict) or loc[-1] not in parent:
            return []
        if err["type"] == "extra_forbidden":
            del parent[loc[-1]]
        elif err["type"] in _BOUNDS and isinstance(parent[loc[-1]], int | float) \
                and not isinstance(parent[loc[-1]], bool):
            parent[loc[-1]] = _at_bound(err["type"], (err.get("ctx") or {}).get(
                _BOUNDS[err["type"]]), parent[loc[-1]])
            if parent[loc[-1]] is None:
                return []
        else:
            return []
    try:
        model.model_validate(trimmed)
    except pydantic.ValidationError as again:
        if all(_cross_check(err) for err in again.errors()):
            return _problems(again, trimmed, where, lines)
    return []


def _problems(exc: pydantic.ValidationError, data: Any, where: str,
              lines: dict[tuple[Any, ...], int]) -> list[BadInput]:
    found: list[BadInput] = []
    places: set[tuple[Any, ...]] = set()
    errors = exc.errors()
    data_locs = [_data_loc(data, e["loc"], missing=e["type"] == "missing") for e in errors]
    for err, loc in zip(errors, data_locs, strict=True):
        if err["type"].endswith("_type") and any(
                len(other) > len(loc) and other[:len(loc)] == loc for other in data_locs):
            # A union's other branch ("a valid string" for an inline mapping): the problems
            # inside the value are the ones to fix.
            continue
        tag = str((err.get("ctx") or {}).get("discriminator", "")).strip("'")
        if err["type"] in ("union_tag_invalid", "union_tag_not_found") and tag:
            loc = _data_loc(data, (*loc, tag), missing=True)  # the tag's own line
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, Problems):
            for sub, msg in cause.found:
                full = _data_loc(data, (*err["loc"], *sub), missing=False)
                # The cross-check's own path where the data lacks it (a merged base's item);
                # the data's where it has the field (``loc`` may hold a union's tag that is
                # also a key, as ``flow`` is).
                held = bool(sub) and full[-len(sub):] == tuple(sub)
                field = field_name(full if held or len(full) >= len(loc) + len(sub) else
                                    (*loc, *sub), lines)
                found.append(BadInput(*place_of(where, lines, full), field, msg))
            continue
        if loc in places:  # a union's other branches, failing at the same place
            continue
        places.add(loc)
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown field (a typo?)"
        elif err["type"] == "missing" and err["loc"] and isinstance(err["loc"][-1], int):
            # A tuple's position (a point's y, a quadrilateral's fourth corner), not a key.
            msg = f"too few values: item [{err['loc'][-1]}] is missing"
        elif err["type"] == "missing":
            msg = "required field is missing"
        elif err["type"] == "finite_number":
            msg = "a finite number, not infinity or nan"
        found.append(BadInput(*place_of(where, lines, loc), field_name(loc, lines), msg))
    return found
