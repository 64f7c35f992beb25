"""The tag keys the schema reserves are exactly the ones the tool writes."""

from __future__ import annotations

import json
from pathlib import Path

from reconciler.live.model import TOOL_TAG_KEYS
from reconciler.manifests.loader import MAX_USER_TAGS

SCHEMA = Path(__file__).resolve().parents[2] / "schemas" / "manifest.schema.json"


def test_schema_reserves_the_tools_own_tag_keys() -> None:
    text = SCHEMA.read_text(encoding="utf-8")
    reserved = next(
        set(node["not"]["enum"])
        for node in _walk(json.loads(text))
        if isinstance(node, dict) and isinstance(node.get("not"), dict) and "enum" in node["not"]
    )
    assert reserved == TOOL_TAG_KEYS
    assert MAX_USER_TAGS + len(TOOL_TAG_KEYS) == 10  # Codat's limit per company


def _walk(node: object) -> list[object]:
    found = [node]
    children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else []
    for child in children:
        found.extend(_walk(child))
    return found
