"""Load YAML files into validated models, with errors that name file, line and field.

Every user-written file (bench, profile, device behaviour, card) goes through
:func:`load_yaml_model`; a mistake becomes one :class:`~harness.errors.BadInput` such as
``fixtures/benches/lab.yaml:14: readers[2].usb.path: not a USB port path like '1-4'``.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any, TypeVar

import pydantic
import yaml

from harness.errors import BadInput

M = TypeVar("M", bound=pydantic.BaseModel)


class Field(pydantic.BaseModel):
    """Base for file models: unknown keys are errors (a typo must not pass silently)."""

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)


def _lines(node: yaml.Node, path: tuple[Any, ...], out: dict[tuple[Any, ...], int]) -> None:
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            k = key.value
            out[path + (k,)] = key.start_mark.line + 1
            _lines(value, path + (k,), out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _lines(item, path + (i,), out)


def _field_name(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        if part == "[key]":
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


#: Parsed files by (path, mtime, size): twins are built many times per test run.
_parsed: dict[tuple[str, int, int], tuple[Any, dict[tuple[Any, ...], int]]] = {}


def read_yaml(path: Path) -> tuple[Any, dict[tuple[Any, ...], int]]:
    """Parse a YAML file; return its data and a map from key path to line number."""
    try:
        stat = path.stat()
    except OSError:
        return _parse_yaml(path)
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    if key not in _parsed:
        _parsed[key] = _parse_yaml(path)
    data, lines = _parsed[key]
    # Callers may change what they get (deviations): each gets its own copy.
    return copy.deepcopy(data), lines


#: libyaml's parser where PyYAML was built with it (its wheels are): a tenth of the time.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _parse_yaml(path: Path) -> tuple[Any, dict[tuple[Any, ...], int]]:
    shown = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadInput(shown, None, "", "no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(shown, None, "", f"cannot read: {exc}") from None
    try:
        node = yaml.compose(text, Loader=_LOADER)
        data = yaml.load(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise BadInput(shown, line, "", f"not valid YAML: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise BadInput(shown, None, "", f"not valid YAML: {exc}") from None
    lines: dict[tuple[Any, ...], int] = {}
    if node is not None:
        _lines(node, (), lines)
    return data, lines


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
            items[item["name"]] = deep_merge(items.get(item["name"], {}), item)
        return list(items.values())
    return copy.deepcopy(over)


def _named_items(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(i, dict) and "name" in i for i in value)


def read_layered_yaml(path: Path) -> tuple[Any, dict[tuple[Any, ...], int]]:
    """A YAML mapping with its ``base`` chain merged in (``base``: a file, relative to this
    one, that this file changes). Line numbers are this file's own."""
    data, lines = read_yaml(path)
    if not isinstance(data, dict) or "base" not in data:
        return data, lines
    base_ref = data.pop("base")
    base_path = (path.parent / str(base_ref)).resolve()
    if not base_path.exists():
        raise BadInput(str(path), line_of(lines, ("base",)), "base", f"no file {base_ref}")
    base, _ = read_layered_yaml(base_path)
    if base_path.parent != path.parent:
        _rebase(base, base_path.parent, path.parent)
    return deep_merge(base, data), lines


#: Keys whose string values are files relative to the file that holds them (a bench's
#: twins and camera calibrations).
FILE_KEYS = ("emulate", "calibration")


def _rebase(data: Any, base_dir: Path, into: Path) -> None:
    """A base file's relative file references, made relative to the file deriving from it:
    a bench outside the base's folder still finds the base's twins."""
    if isinstance(data, dict):
        for key, value in data.items():
            if key in FILE_KEYS and isinstance(value, str) and not Path(value).is_absolute():
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


def validate_data(
    model: type[M], data: Any, where: str, lines: dict[tuple[Any, ...], int] | None = None
) -> M:
    """Validate parsed data; the first problem becomes a BadInput naming ``where`` and line."""
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        err = exc.errors()[0]
        loc = _data_loc(data, err["loc"], missing=err["type"] == "missing")
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown field (a typo?)"
        elif err["type"] == "missing":
            msg = "required field is missing"
        more = len(exc.errors()) - 1
        if more:
            msg += f" (and {more} more problem{'s' if more > 1 else ''} in this file)"
        raise BadInput(where, line_of(lines or {}, loc), _field_name(loc), msg) from None
