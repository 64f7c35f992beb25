"""Notes summarised by kind: one line per kind with its count and an example.

A plan of thousands of merchants can hold thousands of notes of one kind (a
connection waiting for its merchant's sync flow); listed one by one they bury
the changes and errors that matter. A kind with one note shows that note as it
is; `--verbose` and the JSON plan keep every note.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from reconciler.plan.model import Note

# What N notes of a kind say, and whether the example's own message follows (where it
# says more than its kind: which secret is missing, why a check was not made). Keyed
# by the kind's value, as the JSON plan spells it: a kind added or dropped elsewhere
# falls back to "other notes" instead of breaking.
_PHRASES: dict[str | None, tuple[str, bool]] = {
    "waiting_for_merchant": (
        "connections wait for their merchant to authorize them through the sync flow",
        False,
    ),
    "credentials_not_checked": (
        "Linked connections could not be checked for changed credentials",
        True,
    ),
    "merchant_connection": (
        "connections made by their merchant, not by this tool, are left alone by --prune",
        False,
    ),
    "record_full": (
        "connections are not recorded as the tool's (the record tag is full), so --prune "
        "leaves them alone",
        False,
    ),
    "undeclared_companies": ("notes on undeclared companies", True),
    "secret_missing": (
        "merchants will not be started by apply until a secret is available",
        True,
    ),
    None: ("other notes", True),
}

VERBOSE_HINT = "(--verbose lists every note)"


@dataclass(frozen=True, slots=True)
class NoteGroup:
    kind: str | None  # a NoteKind's value; None: notes of no kind worded here
    notes: tuple[Note, ...]


def by_kind(notes: Sequence[Note]) -> list[NoteGroup]:
    """Groups in the order their kind first appears."""
    groups: dict[str | None, list[Note]] = {}
    for note in notes:
        kind = note.kind.value if note.kind is not None else None
        groups.setdefault(kind if kind in _PHRASES else None, []).append(note)
    return [NoteGroup(kind, tuple(found)) for kind, found in groups.items()]


def summary(
    group: NoteGroup, show: Callable[[str, str], str], number: Callable[[int], str] = "{:,}".format
) -> str:
    """`3,000 connections wait ..., e.g. merchant["X"].connection["dfxm"]`; a lone note as
    it is. `show(address, message)` words one note."""
    first = group.notes[0]
    if len(group.notes) == 1:
        return show(first.address, first.message)
    many, with_message = _PHRASES[group.kind]
    example = show(first.address, first.message) if with_message else show(first.address, "")
    return f"{number(len(group.notes))} {many}, e.g. {example}"
