"""Validate sandbox bodies against the schemas in ../shared/codat/*.yaml, read at test time.

The specs say `openapi: 3.1.0` but use 3.0's `nullable: true`, also beside a
`$ref`; each such schema is rewritten as "that schema, or null" before
validation. `propertyNames` is plain JSON Schema and needs nothing. The one
known inconsistency, `PagingInfo.pageSize` documented with `maximum: 2000`
while requests may ask for 5000, is removed (API-NOTES.md, "Paging").
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

SPEC_DIR = Path(__file__).resolve().parents[3] / "shared" / "codat"
PLATFORM = "Codat-Platform.yaml"
COMMERCE = "Codat-Sync-Commerce.yaml"


def _nullable(node: Any) -> Any:
    if isinstance(node, list):
        return [_nullable(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _nullable(value) for key, value in node.items()}
    if node.get("nullable") is True:
        del node["nullable"]
        notes = {k: node.pop(k) for k in ("description", "title", "example") if k in node}
        return {"anyOf": [node, {"type": "null"}], **notes}
    if node.get("nullable") is False:
        del node["nullable"]
    return node


@functools.cache
def _document(name: str) -> dict[str, Any]:
    raw = yaml.safe_load((SPEC_DIR / name).read_text(encoding="utf-8"))
    document: dict[str, Any] = _nullable(raw)
    paging = document["components"]["schemas"]["PagingInfo"]["properties"]["pageSize"]
    assert paging.pop("maximum") == 2000  # the known inconsistency, nothing else
    return document


def validator(name: str, schema: str) -> Draft202012Validator:
    """A validator for `#/components/schemas/<schema>` of spec file `name`."""
    document = _document(name)
    assert schema in document["components"]["schemas"], schema
    root = {**document, "$ref": f"#/components/schemas/{schema}"}
    return Draft202012Validator(root, format_checker=Draft202012Validator.FORMAT_CHECKER)


def assert_valid(body: Any, schema: str, *specs: str) -> None:
    """Fail with every violation if `body` does not match `schema` in each spec."""
    for name in specs or (PLATFORM,):
        errors = sorted(validator(name, schema).iter_errors(body), key=lambda e: list(e.path))
        assert not errors, f"{name} {schema}: " + "; ".join(
            f"{list(e.path)}: {e.message}" for e in errors
        )
