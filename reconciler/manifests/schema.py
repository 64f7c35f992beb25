"""The manifest JSON Schema and its errors, translated for people who did not write it.

The schema file is the single source of truth for the format: this module only
adds wording. Per-keyword wording can live in the schema itself, under
`patternErrorMessage` (which editors using yaml-language-server show too) or
the custom `x-errorMessage` object (keyword -> message); `x-explain` names a
function here that words a pattern failure for the value at hand.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Iterator
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError

from reconciler.manifests import names

SCHEMA_RESOURCE = "manifest.schema.json"

_TYPE_NAMES = {
    "object": "a mapping (key: value)",
    "array": "a list",
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "nothing",
}


# x-explain values: (the value, the schema's own message) -> the message, or None to keep it.
_EXPLAIN: dict[str, Callable[[str, str], str | None]] = {"company-name": names.problem}


@cache
def schema() -> dict[str, Any]:
    text = resources.files("reconciler.schemas").joinpath(SCHEMA_RESOURCE).read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@cache
def pattern_regex(pattern: str) -> re.Pattern[str]:
    """A schema pattern as JSON Schema (ECMA-262) means it: a final `$` is the end of the
    text. Python's `$` also matches before a final newline, which let "dfxm\\n" pass as
    a platform key."""
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    return re.compile(pattern)


def _pattern(validator: Any, pattern: str, instance: Any, node: Any) -> Iterator[ValidationError]:
    if isinstance(instance, str) and not pattern_regex(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


_Validator = validators.extend(Draft202012Validator, {"pattern": _pattern})


@cache
def validator() -> Any:
    # Compiled once: building a validator costs more than validating a document.
    # No format checker: the formats that matter are spelled out as patterns.
    return _Validator(schema())


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


@cache
def fast_check() -> Check | None:
    """A plain-Python yes/no check compiled from the schema, or None if it uses other keywords.

    jsonschema spends most of a large load on bookkeeping that only matters for
    error reports, so valid documents (nearly all of them) are confirmed by this
    check and jsonschema runs only to explain the invalid ones. The schema stays
    the single source of truth; tests hold the two checks to the same verdicts.
    """
    root = schema()
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
    return lambda v: all(c(v) for c in checks)


def _keyword(keyword: str, value: Any, root: dict[str, Any]) -> Check:
    if keyword == "type":
        kinds = [_JSON_TYPES[k] for k in ([value] if isinstance(value, str) else value)]
        return kinds[0] if len(kinds) == 1 else (lambda v: any(k(v) for k in kinds))
    if keyword in ("minLength", "maxLength", "minProperties", "maxProperties"):
        sized_type = str if keyword.endswith("Length") else dict
        if keyword.startswith("min"):
            return lambda v: not isinstance(v, sized_type) or len(v) >= value
        return lambda v: not isinstance(v, sized_type) or len(v) <= value
    if keyword == "required":
        return lambda v: not isinstance(v, dict) or all(k in v for k in value)
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
        return lambda v: not isinstance(v, dict) or all(inner(k) for k in v)
    if keyword == "items":
        return lambda v: not isinstance(v, list) or all(inner(x) for x in v)
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


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    return "a mapping"


def _field(path: tuple[str | int, ...]) -> str:
    """How a reviewer would name the node at `path`."""
    for step in reversed(path):
        if isinstance(step, str):
            return f"'{step}'"
    return "the document"


def _container(path: tuple[str | int, ...]) -> str:
    if not path:
        return "the file"
    if len(path) >= 2 and isinstance(path[-1], int):
        singular = {"merchants": "merchant", "connections": "connection"}
        return f"this {singular.get(str(path[-2]), 'entry')}"
    return _field(path)


class SchemaProblem:
    """One schema violation: the path of the node to point at and the words to say."""

    __slots__ = ("at_key", "message", "path")

    def __init__(self, path: tuple[str | int, ...], message: str, *, at_key: bool = False) -> None:
        self.path = path
        self.message = message
        self.at_key = at_key


def problems(document: Any) -> Iterator[SchemaProblem]:
    """Every violation of the schema in `document`; nothing when it is valid."""
    quick = fast_check()
    if quick is not None and quick(document):
        return
    for error in validator().iter_errors(document):
        yield from _translate(error)


def _custom(error: ValidationError) -> str | None:
    messages = error.schema.get("x-errorMessage", {}) if isinstance(error.schema, dict) else {}
    message = messages.get(error.validator)
    if message is None and error.validator == "pattern":
        message = error.schema.get("patternErrorMessage")
    if message is None:
        return None
    # Only keys are ever spelled out: values may be secrets.
    instance = error.instance if "propertyNames" in error.relative_schema_path else ""
    return str(message).replace("{instance}", str(instance))


def _suggest(key: str, allowed: list[str]) -> str | None:
    """The allowed key the user most likely meant: a near spelling, or a shortening."""
    lowered = {a.lower(): a for a in allowed}
    close = difflib.get_close_matches(key.lower(), list(lowered), n=1, cutoff=0.6)
    if close:
        return lowered[close[0]]
    prefixed = [a for low, a in lowered.items() if len(key) >= 3 and low.startswith(key.lower())]
    return prefixed[0] if len(prefixed) == 1 else None


def _translate(error: ValidationError) -> Iterator[SchemaProblem]:
    path = tuple(error.absolute_path)
    keyword = error.validator
    if keyword == "pattern" and error.instance == "" and "minLength" in error.schema:
        return  # "cannot be empty" says it better
    in_property_names = "propertyNames" in error.relative_schema_path
    if in_property_names:
        # jsonschema reports a bad key at its mapping; point at the key itself.
        key_path = (*path, str(error.instance))
        yield SchemaProblem(
            key_path, _custom(error) or f"key '{error.instance}' is not allowed", at_key=True
        )
        return
    if keyword == "additionalProperties" and error.schema.get("additionalProperties") is False:
        allowed = sorted(error.schema.get("properties", {}))
        for key in sorted(set(error.instance) - set(allowed)):
            close = _suggest(str(key), allowed)
            hint = f" (did you mean '{close}'?)" if close else f" (allowed: {', '.join(allowed)})"
            yield SchemaProblem((*path, key), f"unknown key '{key}'{hint}", at_key=True)
        return
    if keyword == "required":
        for key in error.validator_value:
            if isinstance(error.instance, dict) and key not in error.instance:
                yield SchemaProblem(path, f"missing required key '{key}' in {_container(path)}")
        return
    message = _custom(error) or _default_message(error, path)
    explain = _EXPLAIN.get(error.schema.get("x-explain", "")) if keyword == "pattern" else None
    if explain is not None and isinstance(error.instance, str):
        message = explain(error.instance, message) or message
    yield SchemaProblem(path, message)


def _default_message(error: ValidationError, path: tuple[str | int, ...]) -> str:
    keyword = error.validator
    name = _field(path)
    value = error.validator_value
    if keyword == "type":
        expected = " or ".join(
            _TYPE_NAMES.get(t, t) for t in ([value] if isinstance(value, str) else value)
        )
        return f"{name} must be {expected}, got {_kind(error.instance)}"
    if keyword == "minLength":
        return f"{name} cannot be empty" if value == 1 else f"{name} is shorter than {value}"
    if keyword == "maxLength":
        return f"{name} is longer than {value} characters"
    if keyword == "const":
        return f"{name} must be {json.dumps(value)}"
    if keyword == "pattern":
        return f"{name} has the wrong format"
    if keyword == "minProperties":
        return f"{name} needs at least {value} key(s)"
    if keyword == "maxProperties":
        return f"{name} has more than {value} keys"
    return f"{name}: not allowed here ({keyword})"
