"""Before/after as a list of field differences, shared by the text lines and the
markdown diff blocks."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from reconciler.plan.model import Action, Change

SENSITIVE_PREFIX = "(sensitive:"


class Difference(Enum):
    """How a field differs between before and after, as the mark shown beside it."""

    ADDED = "+"
    REMOVED = "-"
    CHANGED = "~"
    # Shown for orientation only (a connection's id, the status it is authorized from).
    CONTEXT = " "


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    difference: Difference
    before: Any = None
    after: Any = None
    # Set for mappings (tags, authorization): their keys are compared one by one.
    children: tuple[Field, ...] | None = None
    # Said after the name of a mapping that changes as a whole, its keys shown as context.
    heading: str | None = None

    @property
    def value(self) -> Any:
        """The one value to show when the field is not CHANGED."""
        shows_before = self.difference in (Difference.REMOVED, Difference.CONTEXT)
        return self.before if shows_before else self.after


def field_diffs(change: Change) -> tuple[Field, ...]:
    """The fields of `before`/`after` worth showing, in the planner's order (`before`'s
    first: the state being left reads before what is new).

    A field only in `before` is context (the state being changed from), except when the
    whole company is deleted: then everything in it goes.
    """
    before_only = Difference.REMOVED if change.action is Action.DELETE else Difference.CONTEXT
    fields = _diff(change.before or {}, change.after or {}, before_only)
    if change.action is Action.AUTHORIZE:
        fields = tuple(_credentials(f) if f.name == "authorization" else f for f in fields)
    return fields


def _credentials(field: Field) -> Field:
    """Credentials a connection holds are replaced as a whole: Codat never shows them, so
    which of their values changed is not known, and a diff by key would claim one did."""
    before, after = field.before, field.after
    if field.difference is not Difference.CHANGED or not isinstance(after, Mapping):
        return field
    held = sorted(set(before.values())) if isinstance(before, Mapping) else [before]
    stand_in = held[0] if len(held) == 1 else format_value(before)
    keys = tuple(_whole(k, v, Difference.CONTEXT) for k, v in after.items())
    heading = f"{stand_in} -> the declared credentials, sent as a whole:"
    return Field(field.name, Difference.CHANGED, before, after, keys, heading)


def _diff(
    before: Mapping[str, Any], after: Mapping[str, Any], before_only: Difference
) -> tuple[Field, ...]:
    fields: list[Field] = []
    for name in [*before, *(k for k in after if k not in before)]:
        if name not in before:
            fields.append(_whole(name, after[name], Difference.ADDED))
        elif name not in after:
            fields.append(_whole(name, before[name], before_only))
        elif before[name] == after[name]:
            fields.append(_whole(name, before[name], Difference.CONTEXT))
        elif isinstance(before[name], Mapping) and isinstance(after[name], Mapping):
            # Only the keys that differ: unchanged tags would bury the one that changes.
            changed = tuple(
                f
                for f in _diff(before[name], after[name], Difference.REMOVED)
                if f.difference is not Difference.CONTEXT
            )
            fields.append(Field(name, Difference.CHANGED, before[name], after[name], changed))
        else:
            fields.append(Field(name, Difference.CHANGED, before[name], after[name]))
    return tuple(fields)


def _whole(name: str, value: Any, difference: Difference) -> Field:
    """A field that is added, removed or kept as a whole, nested keys alike."""
    children = None
    if isinstance(value, Mapping):
        children = tuple(_whole(k, v, difference) for k, v in value.items())
    if difference is Difference.ADDED:
        return Field(name, difference, None, value, children)
    after = value if difference is Difference.CONTEXT else None
    return Field(name, difference, value, after, children)


def format_value(value: Any) -> str:
    """JSON-like, except that secret markers show bare: they are labels, not strings."""
    if isinstance(value, str) and value.startswith(SENSITIVE_PREFIX) and value.endswith(")"):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
