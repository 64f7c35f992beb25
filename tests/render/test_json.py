from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema

from reconciler.plan.model import Action, Change, Kind, Note, NoteKind, Plan
from reconciler.render.json_format import render_json
from tests.render import plans

DOC = Path(__file__).resolve().parents[2] / "docs" / "reference" / "plan-json.md"

_NULLABLE_STRING = {"type": ["string", "null"]}
_NULLABLE_OBJECT = {"type": ["object", "null"]}
_CONFLICT = {
    "type": "object",
    "additionalProperties": False,
    "required": ["address", "message", "merchant", "kind"],
    "properties": {
        "address": {"type": "string"},
        "message": {"type": "string"},
        "merchant": {"type": "string"},
        "kind": {"enum": ["duplicate_name", "twins_in_use", "pinned_missing", "lookalike"]},
    },
}
_PROBLEM = {
    "type": "object",
    "additionalProperties": False,
    "required": ["address", "message", "merchant", "kind", "location"],
    "properties": {
        "address": {"type": "string"},
        "message": {"type": "string"},
        "merchant": {"type": "string"},
        "kind": {"enum": ["unknown_platform", "secret_missing"]},
        "location": {"type": "string", "pattern": "^.+:[0-9]+:[0-9]+$"},
    },
}
_NOTE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["address", "message", "kind"],
    "properties": {
        "address": {"type": "string"},
        "message": {"type": "string"},
        "kind": {
            "enum": [
                "waiting_for_merchant",
                "credentials_not_checked",
                "merchant_connection",
                "record_full",
                "undeclared_companies",
                "secret_missing",
                "lookalike",
                "extra_connection",
                None,
            ]
        },
    },
}
_COUNT = {"type": "integer", "minimum": 0}

# The schema docs/reference/plan-json.md documents, strict both ways: every field present and no
# undocumented one.
SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "required": [
        "format_version",
        "changes",
        "conflicts",
        "problems",
        "notes",
        "summary",
        "manifest_files",
    ],
    "properties": {
        "format_version": {"const": 1},
        "changes": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": [
                    "address",
                    "action",
                    "kind",
                    "reason",
                    "cause",
                    "merchant",
                    "platform_key",
                    "company_id",
                    "connection_id",
                    "before",
                    "after",
                ],
                "properties": {
                    "address": {"type": "string"},
                    "action": {"enum": ["create", "update", "authorize", "unlink", "delete"]},
                    "kind": {"enum": ["company", "connection"]},
                    "reason": {"type": "string"},
                    "cause": {"enum": ["prune", "twin", "extra_connection", None]},
                    "merchant": {"type": "string"},
                    "platform_key": _NULLABLE_STRING,
                    "company_id": _NULLABLE_STRING,
                    "connection_id": _NULLABLE_STRING,
                    "before": _NULLABLE_OBJECT,
                    "after": _NULLABLE_OBJECT,
                },
            },
        },
        "conflicts": {"type": "array", "items": _CONFLICT},
        "problems": {"type": "array", "items": _PROBLEM},
        "notes": {"type": "array", "items": _NOTE},
        "summary": {
            "type": "object",
            "additionalProperties": False,
            "required": ["create", "update", "authorize", "unlink", "delete", "has_changes"],
            "properties": {
                "create": _COUNT,
                "update": _COUNT,
                "authorize": _COUNT,
                "unlink": _COUNT,
                "delete": _COUNT,
                "has_changes": {"type": "boolean"},
            },
        },
        "manifest_files": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["path", "sha256"],
                "properties": {
                    "path": {"type": "string"},
                    "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                },
            },
        },
    },
}
SHA256 = "0f5c8a4f3a2fd1e6a7c3b2e1d0c9f8e7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1"
FILES = (("manifests/merchants.yaml", SHA256),)


def field_names(schema: dict[str, Any]) -> set[str]:
    names: set[str] = set()
    for name, sub in schema.get("properties", {}).items():
        names.add(name)
        names |= field_names(sub.get("items", sub))
    return names


def test_matches_the_documented_schema() -> None:
    for plan in (plans.every_action(), Plan(changes=())):
        for files in ((), FILES):
            jsonschema.validate(json.loads(render_json(plan, files)), SCHEMA)


def test_every_field_is_documented() -> None:
    documented = set(re.findall(r"^\| `([a-z0-9_]+)` \|", DOC.read_text(), flags=re.MULTILINE))
    assert field_names(SCHEMA) <= documented


def test_changes_keep_plan_order_and_carry_before_after() -> None:
    plan = plans.every_action()
    doc = json.loads(render_json(plan))
    assert [(c["address"], c["action"]) for c in doc["changes"]] == [
        (c.address, c.action.value) for c in plan.changes
    ]
    update = doc["changes"][3]
    assert update["before"]["description"] == "old"
    assert update["after"]["description"] == "new"
    assert update["company_id"] == "co-22222222"


def test_summary() -> None:
    doc = json.loads(render_json(plans.every_action()))
    assert doc["summary"] == {
        "create": 2,
        "update": 1,
        "authorize": 2,
        "unlink": 1,
        "delete": 1,
        "has_changes": True,
    }
    assert doc["conflicts"][0]["address"] == 'merchant["55555555"]'
    assert doc["notes"][0]["message"].startswith("waiting for the merchant")


def test_no_changes() -> None:
    doc = json.loads(render_json(Plan(changes=())))
    assert doc["changes"] == [] and doc["summary"]["has_changes"] is False


def test_deterministic() -> None:
    assert render_json(plans.every_action()) == render_json(plans.every_action())


def test_notes_say_their_kind_and_a_note_on_the_whole_plan_has_no_address() -> None:
    doc = json.loads(render_json(plans.every_action()))
    assert [(n["address"], n["kind"]) for n in doc["notes"]] == [
        ('merchant["12345678"].connection["dfxm"]', "waiting_for_merchant"),
        ("", "undeclared_companies"),
    ]


def test_the_documented_example_is_real_output() -> None:
    plan = Plan(
        changes=(
            Change(
                address='merchant["12345678"].connection["dfxm"]',
                action=Action.AUTHORIZE,
                kind=Kind.CONNECTION,
                reason="declared credentials changed since last applied",
                merchant="12345678",
                before={
                    "status": "Linked",
                    "authorization": {
                        "apiToken": "(sensitive: last applied)",
                        "storeId": "(sensitive: last applied)",
                    },
                    "companyTags": {"codat-reconciler-auth": "@Ab3x,dfxm:Q2hhbmdlTWUx,lqai"},
                },
                after={
                    "authorization": {
                        "apiToken": "(sensitive: env ACME_DFXM_TOKEN)",
                        "storeId": "(sensitive: literal)",
                    },
                    "companyTags": {"codat-reconciler-auth": "@Ab3x,dfxm:TmV3VmFsdWUy,lqai"},
                },
                platform_key="dfxm",
                company_id="0498e921-9b53-4396-a412-4f2f5983b0a2",
                connection_id="51baa045-4836-4317-a42e-3542e991e581",
                record={"tags": {"managed-by": "codat-reconciler"}},
            ),
        ),
        notes=(
            Note(
                'merchant["12345678"].connection["lqai"]',
                "waiting for the merchant to authorize lqai through the sync flow "
                "(no authorization declared)",
                NoteKind.WAITING_FOR_MERCHANT,
            ),
            Note(
                "",
                "2 managed companies are not declared in any manifest; --prune would delete "
                'them: "10000001", "10000002"',
                NoteKind.UNDECLARED_COMPANIES,
            ),
        ),
    )
    example = DOC.read_text().split("```json\n", 1)[1].split("\n```", 1)[0]
    assert render_json(plan, FILES) == example + "\n"
