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
from collections.abc import Callable, Iterator
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from reconciler.manifests import names
from reconciler.manifests.fastcheck import Check, compile_check, pattern_regex

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

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
def validator() -> Any:
    # Compiled once: building a validator costs more than validating a document.
    # No format checker: the formats that matter are spelled out as patterns.
    # jsonschema is imported here, by the one function that needs it: it only explains
    # invalid documents (fast_check confirms the valid ones), and importing it would
    # cost every run of `validate` more than checking a small manifest set does.
    from jsonschema import Draft202012Validator, validators
    from jsonschema.exceptions import ValidationError

    def pattern(
        validator: Any, pattern: str, instance: Any, node: Any
    ) -> Iterator[ValidationError]:
        # A final `$` is the end of the text, as the fast check reads it (pattern_regex).
        if isinstance(instance, str) and not pattern_regex(pattern).search(instance):
            yield ValidationError(f"{instance!r} does not match {pattern!r}")

    extended = validators.extend(Draft202012Validator, {"pattern": pattern})
    return extended(schema())


@cache
def fast_check() -> Check | None:
    """A plain-Python yes/no check compiled from the schema, or None if it uses other keywords.

    jsonschema spends most of a large load on bookkeeping that only matters for
    error reports, so valid documents (nearly all of them) are confirmed by this
    check and jsonschema runs only to explain the invalid ones. The schema stays
    the single source of truth; tests hold the two checks to the same verdicts.
    """
    return compile_check(schema())


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
        singular = {
            "merchants": "merchant",
            "connections": "connection",
            "webhooks": "webhook consumer",
            "syncSettings": "sync setting",
        }
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


def _meant(error: ValidationError) -> str:
    """For a misspelt choice (a data type, a locale): the one most likely meant. Only the
    allowed values are ever spelled out, never the value written."""
    choices = error.validator_value if error.validator == "enum" else None
    if not isinstance(error.instance, str) or not isinstance(choices, list):
        return ""
    close = _suggest(error.instance, [c for c in choices if isinstance(c, str)])
    return f" (did you mean '{close}'?)" if close else ""


def _translate(error: ValidationError) -> Iterator[SchemaProblem]:
    path = tuple(error.absolute_path)
    keyword = error.validator
    if keyword == "pattern" and error.instance == "" and "minLength" in error.schema:
        return  # "cannot be empty" says it better
    in_property_names = "propertyNames" in error.relative_schema_path
    if in_property_names:
        # jsonschema reports a bad key at its mapping; point at the key itself.
        key_path = (*path, str(error.instance))
        message = (_custom(error) or f"key '{error.instance}' is not allowed") + _meant(error)
        yield SchemaProblem(key_path, message, at_key=True)
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
    message = (_custom(error) or _default_message(error, path)) + _meant(error)
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
    if keyword == "minItems":
        return f"{name} needs at least {value} item(s)"
    if keyword == "maxItems":
        return f"{name} has more than {value} items"
    return f"{name}: not allowed here ({keyword})"
