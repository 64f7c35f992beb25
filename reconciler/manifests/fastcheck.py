"""The manifest schema compiled to plain Python: a yes/no verdict, fast.

jsonschema spends most of a large load on bookkeeping that only matters for
error reports; schema.py uses this check to confirm valid documents and runs
jsonschema only to explain the invalid ones. Only the keywords the manifest
schema uses are compiled: any other makes `compile_check` give up (None).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import Any


@cache
def pattern_regex(pattern: str) -> re.Pattern[str]:
    """A schema pattern as JSON Schema (ECMA-262) means it: a final `$` is the end of the
    text. Python's `$` also matches before a final newline, which let "dfxm\\n" pass as
    a platform key."""
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    return re.compile(pattern)


Check = Callable[[Any], bool]

# Keywords that only annotate: they never make a document invalid.
_ANNOTATIONS = frozenset(
    {"$schema", "$id", "$defs", "title", "description", "format", "patternErrorMessage"}
)
_JSON_TYPES: dict[str, Callable[[Any], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "integer": lambda v: (
        not isinstance(v, bool)
        and (isinstance(v, int) or (isinstance(v, float) and v.is_integer()))
    ),
}


def _same(a: Any, b: Any) -> bool:
    """JSON equality: true is not 1."""
    return isinstance(a, bool) == isinstance(b, bool) and bool(a == b)


def compile_check(root: dict[str, Any]) -> Check | None:
    """`root` as one yes/no function, or None when it uses a keyword not compiled here."""
    try:
        return _compile(root, root)
    except _Unsupported:
        return None


class _Unsupported(Exception):
    pass


def _compile(node: dict[str, Any], root: dict[str, Any]) -> Check:
    checks: list[Check] = []
    for keyword, value in node.items():
        if keyword in _ANNOTATIONS or keyword.startswith("x-") or keyword in ("then", "else"):
            continue
        if keyword == "if":
            checks.append(_conditional(node, root))
        elif keyword in ("properties", "additionalProperties"):
            if keyword == "properties" or "properties" not in node:
                checks.append(_object_check(node, root))
        else:
            checks.append(_keyword(keyword, value, root))
    if len(checks) == 1:
        return checks[0]
    return _every(checks)


def _every(checks: list[Check]) -> Check:
    # A loop, not `all()` over a generator: this runs for every node of every
    # manifest, and a generator per node was about a third of the check's time.
    def check(value: Any) -> bool:
        for one in checks:  # noqa: SIM110
            if not one(value):
                return False
        return True

    return check


def _keyword(keyword: str, value: Any, root: dict[str, Any]) -> Check:
    if keyword == "type":
        kinds = [_JSON_TYPES[k] for k in ([value] if isinstance(value, str) else value)]
        return kinds[0] if len(kinds) == 1 else (lambda v: any(k(v) for k in kinds))
    if keyword in ("minLength", "maxLength", "minProperties", "maxProperties"):
        sized_type = str if keyword.endswith("Length") else dict
        if keyword.startswith("min"):
            return lambda v: not isinstance(v, sized_type) or len(v) >= value
        return lambda v: not isinstance(v, sized_type) or len(v) <= value
    if keyword in ("minItems", "maxItems"):
        if keyword == "minItems":
            return lambda v: not isinstance(v, list) or len(v) >= value
        return lambda v: not isinstance(v, list) or len(v) <= value
    if keyword == "required":
        keys = frozenset(value)
        return lambda v: not isinstance(v, dict) or keys <= v.keys()
    if keyword == "$ref":
        if not str(value).startswith("#/$defs/"):
            raise _Unsupported(value)
        return _compile(root["$defs"][value[len("#/$defs/") :]], root)
    if keyword == "const":
        return lambda v: _same(v, value)
    if keyword == "enum":
        return lambda v: any(_same(v, c) for c in value)
    if keyword == "pattern":
        regex = pattern_regex(value)
        return lambda v: not isinstance(v, str) or bool(regex.search(v))
    inner = _compile(value, root) if isinstance(value, dict) else None
    if inner is None:
        raise _Unsupported(keyword)
    if keyword == "propertyNames":
        return lambda v: not isinstance(v, dict) or all(map(inner, v))
    if keyword == "items":
        return lambda v: not isinstance(v, list) or all(map(inner, v))
    if keyword == "not":
        return lambda v: not inner(v)
    raise _Unsupported(keyword)


def _conditional(node: dict[str, Any], root: dict[str, Any]) -> Check:
    condition = _compile(node["if"], root)
    then = _compile(node.get("then", {}), root)
    otherwise = _compile(node.get("else", {}), root)
    return lambda v: then(v) if condition(v) else otherwise(v)


def _object_check(node: dict[str, Any], root: dict[str, Any]) -> Check:
    props = {k: _compile(v, root) for k, v in node.get("properties", {}).items()}
    extra_schema = node.get("additionalProperties", True)
    extra = extra_schema if isinstance(extra_schema, bool) else _compile(extra_schema, root)

    def check(value: Any) -> bool:
        if not isinstance(value, dict):
            return True
        for key, item in value.items():
            known = props.get(key)
            if known is not None:
                if not known(item):
                    return False
            elif extra is False or (extra is not True and not extra(item)):
                return False
        return True

    return check
