"""A small JSON Schema (2020-12) checker for the tests: the keywords the rig's schemas use.

No validator package is among the rig's dependencies; this one is enough to tell whether a
shipped file fits its committed schema, and is strict where it does not know a keyword
(an unknown keyword is an error, so a schema the checker cannot read never passes).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

#: Keywords that do not constrain (notes for people and editors).
NOTES = {"title", "description", "default", "examples", "$schema", "$defs", "format",
         "discriminator"}
TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    # YAML reads an unquoted 2026-01-19 as a date; JSON and editors see a string.
    "string": lambda v: isinstance(v, (str, dt.date, dt.time)),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def problems(root: dict[str, Any], value: Any) -> list[str]:
    """Why ``value`` does not fit ``root`` (empty: it fits), each as ``path: problem``."""
    out: list[str] = []
    _check(root, root, value, "", out)
    return out


def _check(root: dict[str, Any], node: Any, value: Any, at: str, out: list[str]) -> None:
    if node is True or node == {}:
        return
    if node is False:
        out.append(f"{at or '/'}: nothing is allowed here")
        return
    for key, rule in node.items():
        if key in NOTES or key in ("then", "else"):
            continue
        if key == "$ref":
            _check(root, _resolve(root, rule), value, at, out)
        elif key == "type":
            kinds = rule if isinstance(rule, list) else [rule]
            if not any(TYPES[k](value) for k in kinds):
                out.append(f"{at or '/'}: not {' or '.join(kinds)}: {value!r}")
        elif key == "enum":
            if not any(_same(value, x) for x in rule):
                out.append(f"{at or '/'}: {value!r} not one of {rule}")
        elif key == "const":
            if not _same(value, rule):
                out.append(f"{at or '/'}: {value!r} is not {rule!r}")
        elif key in ("anyOf", "oneOf"):
            fits = sum(1 for branch in rule if not problems_at(root, branch, value, at))
            if fits == 0 or (key == "oneOf" and fits > 1):
                out.append(f"{at or '/'}: fits {fits} of the {key} branches")
        elif key == "allOf":
            for branch in rule:
                _check(root, branch, value, at, out)
        elif key == "if":
            taken = "then" if not problems_at(root, rule, value, at) else "else"
            if taken in node:
                _check(root, node[taken], value, at, out)
        elif key == "properties":
            if isinstance(value, dict):
                for name, sub in rule.items():
                    if name in value:
                        _check(root, sub, value[name], f"{at}/{name}", out)
        elif key == "additionalProperties":
            if isinstance(value, dict):
                known = node.get("properties", {})
                for name, item in value.items():
                    if name not in known:
                        if rule is False:
                            out.append(f"{at}/{name}: not allowed")
                        else:
                            _check(root, rule, item, f"{at}/{name}", out)
        elif key == "propertyNames":
            if isinstance(value, dict):
                for name in value:
                    _check(root, rule, name, f"{at}/{name} (the key)", out)
        elif key == "required":
            if isinstance(value, dict):
                out += [f"{at}/{name}: required" for name in rule if name not in value]
        elif key == "prefixItems":
            if isinstance(value, list):
                for i, (sub, item) in enumerate(zip(rule, value, strict=False)):
                    _check(root, sub, item, f"{at}/{i}", out)
        elif key == "items":
            if isinstance(value, list):
                skip = len(node.get("prefixItems", []))
                for i, item in enumerate(value[skip:], start=skip):
                    _check(root, rule, item, f"{at}/{i}", out)
        elif key in ("minItems", "maxItems", "minLength", "maxLength"):
            sized = isinstance(value, list) if "Items" in key else isinstance(value, str)
            if sized and not (len(value) >= rule if key.startswith("min") else len(value) <= rule):
                out.append(f"{at or '/'}: {key} {rule}, has {len(value)}")
        elif key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            if TYPES["number"](value) and not _bound(key, rule, value):
                out.append(f"{at or '/'}: {value} breaks {key} {rule}")
        elif key == "pattern":
            if isinstance(value, str) and not re.search(rule, value):
                out.append(f"{at or '/'}: {value!r} does not match {rule}")
        else:
            out.append(f"{at or '/'}: the checker does not know the keyword {key!r}")


def problems_at(root: dict[str, Any], node: Any, value: Any, at: str) -> list[str]:
    out: list[str] = []
    _check(root, node, value, at, out)
    return out


def _bound(key: str, rule: float, value: float) -> bool:
    return {"minimum": value >= rule, "maximum": value <= rule,
            "exclusiveMinimum": value > rule, "exclusiveMaximum": value < rule}[key]


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (dt.date, dt.time)):
        a = a.isoformat()
    return bool(a == b)


def _resolve(root: dict[str, Any], ref: str) -> Any:
    if not ref.startswith("#/"):
        raise ValueError(f"only local references: {ref}")
    node: Any = root
    for part in ref[2:].split("/"):
        node = node[part]
    return node
