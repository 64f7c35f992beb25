"""Issue points 1 and 7: the schema file itself, and the example manifests."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from reconciler.manifests.loader import load
from reconciler.manifests.model import LiteralValue, SecretRef
from reconciler.manifests.schema import schema

REPO = Path(__file__).resolve().parents[2]


def _resolve(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if ref is None:
        return node
    target: dict[str, Any] = root["$defs"][ref.split("/")[-1]]
    return {**_resolve(target, root), **{k: v for k, v in node.items() if k != "$ref"}}


def _properties(node: Any, root: dict[str, Any], where: str) -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(node, dict):
        for key, value in node.get("properties", {}).items():
            found.append((f"{where}.{key}", _resolve(value, root)))
        for key, value in node.items():
            found += _properties(value, root, f"{where}/{key}")
    return found


def test_every_property_has_a_title_and_description() -> None:
    root = schema()
    assert root["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    properties = _properties(root, root, "#")
    assert len(properties) >= 15  # the walk reaches the nested $defs too
    for where, prop in properties:
        assert prop.get("title"), where
        assert prop.get("description"), where


def test_the_repository_schema_path_is_the_packaged_schema() -> None:
    link = REPO / "schemas" / "manifest.schema.json"
    assert link.is_symlink()
    assert os.readlink(link) == "../reconciler/schemas/manifest.schema.json"
    assert json.loads(link.read_text()) == schema()


def test_the_example_manifests_show_every_feature() -> None:
    os.environ.pop("NOT_USED", None)
    state = load([REPO / "manifests"])
    assert [m.name for m in state.merchants] == [
        "10000001",
        "10000002",
        "10000003",
        "20000001",
        "20000002",
    ]
    files = sorted((REPO / "manifests").glob("*.yaml"))
    texts = [f.read_text() for f in files]
    for text in texts:
        assert text.startswith("# yaml-language-server: $schema=../schemas/manifest.schema.json")
    joined = "\n".join(texts)
    assert "defaults:" in joined and "# companyId:" in joined
    auth_values = [
        value
        for m in state.merchants
        for c in m.connections
        for value in (c.authorization or {}).values()
    ]
    env_names = {v.name for v in auth_values if isinstance(v, SecretRef) and v.kind == "env"}
    assert env_names == {"ACME_DFXM_TOKEN", "BOLT_DFXM_TOKEN"}
    assert any(isinstance(v, SecretRef) and v.kind == "file" for v in auth_values)
    assert any(isinstance(v, LiteralValue) for v in auth_values)
    assert any(c.authorization is None for m in state.merchants for c in m.connections)
    tag_states = {m.name: m.tags for m in state.merchants}
    assert tag_states["20000002"] is None and tag_states["10000001"] == {
        "region": "uk",
        "tier": "gold",
    }
    for ref in auth_values:
        if isinstance(ref, SecretRef) and ref.kind == "file":
            assert ref.resolve()  # the committed demo file is there and readable
