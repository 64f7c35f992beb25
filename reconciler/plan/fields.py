"""Field changes on a company, described for a reviewer.

DeepDiff does the structural comparison, so nested values (tags today, more
later) are described key by key without hand-written walking.
"""

from __future__ import annotations

from typing import Any

from deepdiff import DeepDiff

_WORDS = {
    "values_changed": "changed",
    "type_changes": "changed",
    "dictionary_item_added": "added",
    "dictionary_item_removed": "removed",
}


def describe_field_changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """E.g. ['description changed', 'tag region changed', 'tag team added'], sorted."""
    diff = DeepDiff(before, after, view="tree")
    lines: set[str] = set()
    for kind, levels in diff.items():
        word = _WORDS.get(kind, "changed")
        for level in levels:
            path = level.path(output_format="list")
            if len(path) >= 2 and path[0] == "tags":
                lines.add(f"tag {path[1]} {word}")
            else:
                lines.add(f"{path[0]} {word}")
    return sorted(lines)
