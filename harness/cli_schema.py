"""``onshi-rig schema bench|profile|behaviour|card``: JSON Schemas of the files people write.

Generated from the same pydantic models that load the files, so an editor's hints and the
rig agree. A file may stand on another (``base``: only what it changes, every key then
optional and ``null`` taking a key of its base away): the schema says so. ``--part`` gives
the schema of a file written only as another's base (``common-flow.yaml``).

The committed copies in ``schemas/`` are named by each shipped file's first line,
``# yaml-language-server: $schema=<relative path>``; tests/test_schemas.py keeps them
in step with the models.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

import attrs

EXIT_OK = 0

#: The JSON Schema dialect pydantic writes.
DIALECT = "https://json-schema.org/draft/2020-12/schema"


@attrs.frozen
class Kind:
    """A kind of file: its models (the file is one of them) and whether it may name a base."""

    title: str
    models: Callable[[], list[type]]
    layered: bool


def _bench() -> list[type]:
    from harness.model.bench_spec import BenchSpec

    return [BenchSpec]


def _profile() -> list[type]:
    from harness.model.profiles import Profile

    return [Profile]


def _behaviour() -> list[type]:
    from harness.emulation.behaviour import TerminalBehaviour
    from harness.emulation.device_spec import DeviceSpec

    return [DeviceSpec, TerminalBehaviour]


def _card() -> list[type]:
    from harness.emulation.card import CardSpec

    return [CardSpec]


KINDS: dict[str, Kind] = {
    "bench": Kind("onshi-rig bench file (fixtures/benches/)", _bench, layered=True),
    # Profiles are read as they are (harness.model.profiles): no base.
    "profile": Kind("onshi-rig vendor profile (vendor_profiles/)", _profile, layered=False),
    "behaviour": Kind("onshi-rig twin behaviour file (fixtures/devices/): a device or the "
                      "terminal", _behaviour, layered=True),
    "card": Kind("onshi-rig emulated card (fixtures/cards/)", _card, layered=True),
}

BASE_DOC = ("a file, relative to this one, that this file changes: keys merge, a null "
            "value takes the base's key away, items of named lists merge by name")


def schema(kind: str, part: bool = False) -> dict[str, Any]:
    """The JSON Schema of a ``kind`` file; ``part``: of a file written only as a base."""
    import pydantic

    spec = KINDS[kind]
    models = spec.models()
    defs: dict[str, Any] = {}
    full: list[dict[str, Any]] = []
    for model in models:
        one = pydantic.TypeAdapter(model).json_schema(
            ref_template="#/$defs/{model}", mode="validation")
        defs.update(one.pop("$defs", {}))
        defs[model.__name__] = one
        full.append({"$ref": f"#/$defs/{model.__name__}"})
    out: dict[str, Any] = {"$schema": DIALECT, "title": spec.title}
    if not spec.layered:
        out.update(full[0] if len(full) == 1 else {"anyOf": full})
        out["$defs"] = defs
        return out
    partial = {f"Part{name}": _partial(body) for name, body in defs.items()}
    for name in [m.__name__ for m in models]:
        props = partial[f"Part{name}"].setdefault("properties", {})
        props["base"] = {"type": "string", "minLength": 1, "description": BASE_DOC}
    parts = [{"$ref": f"#/$defs/Part{m.__name__}"} for m in models]
    if part:
        out["description"] = "a file other files name as their base: every key optional"
        out.update(_either(parts))
    else:
        # A file naming a base holds only what it changes; one without is whole.
        out.update({"if": {"type": "object", "required": ["base"]}, "then": _either(parts),
                    "else": _either(full)})
    out["$defs"] = partial if part else {**defs, **partial}
    return out


def _either(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return rows[0] if len(rows) == 1 else {"anyOf": rows}


def _partial(body: Any) -> Any:
    """``body`` with nothing required, a null allowed for each key (it removes the base's),
    its references to the partial definitions and a union's branches no longer exclusive
    (with nothing required, a part may fit several)."""
    if isinstance(body, list):
        return [_partial(x) for x in body]
    if not isinstance(body, dict):
        return body
    out: dict[str, Any] = {}
    for key, value in body.items():
        if key == "required":
            continue
        if key == "$ref" and isinstance(value, str) and value.startswith("#/$defs/"):
            out[key] = "#/$defs/Part" + value.removeprefix("#/$defs/")
        elif key == "properties" and isinstance(value, dict):
            out[key] = {k: {"anyOf": [_partial(v), {"type": "null"}]} for k, v in value.items()}
        elif key == "additionalProperties" and isinstance(value, dict):
            out[key] = {"anyOf": [_partial(value), {"type": "null"}]}
        elif key == "oneOf":
            out["anyOf"] = _partial(value)
        elif key == "discriminator":
            continue
        else:
            out[key] = _partial(value)
    return out


def schema_text(kind: str, part: bool = False) -> str:
    """The schema as the committed file holds it."""
    return json.dumps(schema(kind, part), ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def schema_files() -> dict[str, tuple[str, bool]]:
    """The committed schema files (under ``schemas/``): file name -> (kind, part)."""
    files = {f"{kind}.json": (kind, False) for kind in KINDS}
    files.update({f"{kind}-part.json": (kind, True) for kind, k in KINDS.items() if k.layered})
    return files


def cmd_schema(args: argparse.Namespace) -> int:
    if args.part and not KINDS[args.kind].layered:
        from harness.errors import RigError

        raise RigError(f"--part: a {args.kind} file names no base")
    sys.stdout.write(schema_text(args.kind, args.part))
    sys.stdout.flush()
    return EXIT_OK


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "schema", help="print the JSON Schema of a bench, profile, behaviour or card file")
    p.add_argument("kind", choices=sorted(KINDS), help="which kind of file")
    p.add_argument("--part", action="store_true",
                   help="the schema of a file written only as other files' base (every key "
                        "optional), such as fixtures/devices/face_auth/common-flow.yaml")
    p.set_defaults(func=cmd_schema)


# Kept for the test's error message and the docs: the folder holding the committed files.
SCHEMAS_DIR = "schemas"

__all__ = ["KINDS", "SCHEMAS_DIR", "add_parsers", "schema", "schema_files", "schema_text"]
