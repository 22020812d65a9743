"""``onshi-rig calibrate``'s edit of the user's bench file: the camera's ``calibration:``
key set to the JSON file it writes, the rest of the file (comments, layout) kept.

The edit is made on the text at the places the YAML parser gives (a flow mapping's closing
brace, a null value, a block mapping's first key), then checked: the new text must parse
as the rig parses bench files and mean the old data with only that key set. An edit that
does not is never written: the user is told which line to add.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import yaml

from harness.errors import BadInput, RigError
from harness.loading import line_of, parse_text, read_yaml

#: A file name YAML reads back as itself unquoted.
_PLAIN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*")


def calibration_target(bench_path: Path, camera: str, given: object
                       ) -> tuple[Path, str | None]:
    """Where ``calibrate`` writes a camera's calibration, and the bench file's new text
    (None: unchanged). A file the camera's ``calibration:`` already names is rewritten;
    otherwise a JSON file next to the bench file, named for it and the camera, and the
    camera's entry in the bench file gets ``calibration:`` naming it. Worked out before
    the camera is looked at: a file that cannot be edited safely is refused up front."""
    if isinstance(given, str):
        return bench_path.parent / given, None
    data, lines = read_yaml(bench_path)
    items = data.get("cameras") if isinstance(data, dict) else None
    own = [k for k, c in enumerate(items or []) if isinstance(c, dict) and c.get("name") == camera]
    # (A calibration written inline in a base file is overridden by this file's entry,
    # added below: the base is never edited.)
    if own and items[own[0]].get("calibration") is not None:
        raise BadInput(str(bench_path), line_of(lines, ("cameras", own[0], "calibration")),
                       f"cameras[{own[0]}].calibration",
                       "written inline; remove it (or name a JSON file there) to calibrate "
                       "again")
    name = f"{bench_path.stem}.{camera}.calibration.json"
    if not own and items is not None:
        raise RigError(f"{bench_path}: camera {camera!r} comes from the base file; add "
                       f"'- {{name: {camera}, calibration: {name}}}' to this file's cameras")
    text = bench_path.read_bytes().decode("utf-8")  # as it is: \r\n line ends kept
    index = own[0] if own else None
    edit = _edited(text, index, camera, name)
    if edit is None or not _means(edit, _expected(data, index, camera, name), bench_path):
        at = ("cameras", index) if index is not None else ()
        raise BadInput(str(bench_path), line_of(lines, at), _field_of(index),
                       f"calibrate cannot add 'calibration: {name}' to this file safely: "
                       "add it yourself, then calibrate again (the file is unchanged)")
    return bench_path.parent / name, edit


def _field_of(index: int | None) -> str:
    return f"cameras[{index}]" if index is not None else "cameras"


def _scalar(value: str) -> str:
    """``value`` as YAML reads it back: plain when it can be, else double-quoted."""
    plain = _PLAIN.fullmatch(value) and yaml.safe_load(value) == value
    return value if plain else json.dumps(value, ensure_ascii=False)


def _expected(data: dict[str, Any], index: int | None, camera: str,
              name: str) -> dict[str, Any]:
    """The bench file's data as it should read after the edit."""
    want = copy.deepcopy(data)
    if index is None:
        want["cameras"] = [{"name": camera, "calibration": name}]
    else:
        want["cameras"][index]["calibration"] = name
    return want


def _means(edit: str, want: dict[str, Any], bench_path: Path) -> bool:
    """``edit`` parses as the rig parses a bench file (a duplicate key is refused) and
    holds ``want``."""
    try:
        data, _ = parse_text(edit, str(bench_path))
    except BadInput:
        return False
    return data == want


def _edited(text: str, index: int | None, camera: str, name: str) -> str | None:
    """``text`` with camera ``index``'s ``calibration:`` set to ``name`` (a new
    ``cameras`` list when the file has none); None when its entry is of a form not edited."""
    value = _scalar(name)
    if index is None:
        end = "" if text.endswith("\n") or not text else "\n"
        return text + end + f"cameras:\n  - {{name: {_scalar(camera)}, calibration: {value}}}\n"
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        cameras = next(v for k, v in root.value if k.value == "cameras")
        entry = cameras.value[index]
    except (yaml.YAMLError, AttributeError, StopIteration, IndexError, TypeError):
        return None
    if not isinstance(entry, yaml.MappingNode) or not entry.value:
        return None
    for key, node in entry.value:
        if key.value == "calibration":  # null: the base's calibration taken away
            return _null_replaced(text, key, node, value)
    return _flow_added(text, entry, value) if entry.flow_style else \
        _block_added(text, entry, value)


def _null_replaced(text: str, key: yaml.Node, node: yaml.Node, value: str) -> str:
    """``calibration: ~`` (``null``, ``Null``, nothing) with ``value`` in its place."""
    if node.start_mark.index == node.end_mark.index:  # nothing written after the colon
        colon = text.find(":", key.end_mark.index)
        return text[:colon + 1] + f" {value}" + text[colon + 1:]
    return text[:node.start_mark.index] + value + text[node.end_mark.index:]


def _flow_added(text: str, entry: yaml.MappingNode, value: str) -> str:
    """``{name: cam, ...}`` with ``calibration`` before its closing brace (a comment
    after the brace stays after it)."""
    close = entry.end_mark.index - 1
    before = text[:close].rstrip()
    sep = " " if before.endswith(",") else ", "
    return f"{before}{sep}calibration: {value}{text[close:]}"


def _block_added(text: str, entry: yaml.MappingNode, value: str) -> str:
    """A block mapping's new ``calibration:`` line, below its first key's line, at that
    key's indent."""
    first_key, first_value = entry.value[0]
    end = text.find("\n", first_value.end_mark.index)
    if end < 0:
        return f"{text}\n{' ' * first_key.start_mark.column}calibration: {value}\n"
    newline = "\r\n" if text[end - 1:end] == "\r" else "\n"
    line = f"{' ' * first_key.start_mark.column}calibration: {value}{newline}"
    return text[:end + 1] + line + text[end + 1:]
