"""The committed codat_schemas.json: where it comes from, that it is whole, that it bites."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from tests.sandbox.spec import COMMERCE, PLATFORM, request_violations, schemas_file, violations

ROOT = Path(__file__).resolve().parents[2]
PROSE = {"description", "title", "example", "examples", "nullable"}


def _schema_nodes(node: Any) -> Iterator[dict[str, Any]]:
    """Every schema object inside `node`; property names are not keywords."""
    if isinstance(node, list):
        for item in node:
            yield from _schema_nodes(item)
    elif isinstance(node, dict):
        yield node
        for key, value in node.items():
            if key in ("properties", "definitions"):
                for schema in value.values():
                    yield from _schema_nodes(schema)
            elif key not in ("enum", "const", "required"):
                yield from _schema_nodes(value)


def _resolve(document: dict[str, Any], ref: str) -> Any:
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def test_the_file_names_its_source_and_generator() -> None:
    content = schemas_file()
    assert content["source"] == {"repository": "codatio/oas", "commit": "1d1fab1"}
    assert content["generator"] == "scripts/trim_codat_specs.py"
    assert (ROOT / content["generator"]).is_file()
    assert "do not edit by hand" in content["$comment"]
    specs = content["specs"]
    assert {name: (s["title"], s["version"]) for name, s in specs.items()} == {
        PLATFORM: ("Platform API", "3.0.0"),
        COMMERCE: ("Sync for Commerce", "1.1"),
    }


@pytest.mark.parametrize(
    ("name", "schema"),
    [
        *[(PLATFORM, s) for s in ("Integrations", "Integration", "WebhookConsumer")],
        *[(COMMERCE, s) for s in ("Configuration", "CompanySyncStatus", "SyncFlowUrl")],
        *[(spec, "ErrorMessage") for spec in (PLATFORM, COMMERCE)],
    ],
)
def test_the_schemas_of_coming_endpoints_are_there(name: str, schema: str) -> None:
    assert schema in schemas_file()["specs"][name]["components"]["schemas"]


@pytest.mark.parametrize("name", [PLATFORM, COMMERCE])
def test_every_schema_is_valid_resolvable_and_without_prose(name: str) -> None:
    document = schemas_file()["specs"][name]
    for schema in document["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
    nodes = list(_schema_nodes(document["components"]["schemas"]))
    assert nodes
    for node in nodes:
        assert not PROSE & node.keys() and not any(k.startswith("x-") for k in node), node
        if "$ref" in node:
            assert isinstance(_resolve(document, node["$ref"]), dict | bool), node["$ref"]


@pytest.mark.parametrize("name", [PLATFORM, COMMERCE])
def test_bodies_breaking_the_schemas_are_rejected(name: str) -> None:
    company = {
        "id": "0498e921-9b53-4396-a412-4f2f5983b0a2",
        "name": "Acme",
        "redirect": "https://link.codat.io/company/0498e921",
        "description": None,  # nullable, rewritten as "or null"
        "created": "2026-06-01T10:00:00Z",
    }
    assert violations(company, "Company", name) == []
    assert violations({**company, "id": "not-a-uuid"}, "Company", name) != []  # formats
    assert violations({k: v for k, v in company.items() if k != "name"}, "Company", name)
    assert violations({**company, "tags": {"k" * 28: "v"}}, "Company", name)  # propertyNames
    assert violations({**company, "description": 5}, "Company", name)

    page = {
        "results": [company],
        "pageNumber": 1,
        "pageSize": 5000,  # above the documented 2000, which the generator drops
        "totalResults": 1,
        "_links": {"self": {"href": "/companies"}, "current": {"href": "/companies"}},
    }
    assert violations(page, "Companies", name) == []
    assert violations({**page, "results": [{**company, "id": 1}]}, "Companies", name)
    assert violations({**page, "pageSize": "5000"}, "Companies", name)

    error = {"statusCode": 404, "service": "PublicApi", "error": "Not found"}
    assert violations(error, "ErrorMessage", name) == []
    assert violations({**error, "statusCode": "404"}, "ErrorMessage", name) == [
        "['statusCode']: '404' is not of type 'integer'"
    ]


@pytest.mark.parametrize("name", [PLATFORM, COMMERCE])
def test_request_schemas_are_valid_resolvable_without_prose_and_bite(name: str) -> None:
    document = schemas_file()["specs"][name]
    assert document["requests"]
    for schema in document["requests"].values():
        Draft202012Validator.check_schema(schema)
        for node in _schema_nodes(schema):
            assert not PROSE & node.keys() and not any(k.startswith("x-") for k in node), node
            if "$ref" in node:
                assert isinstance(_resolve(document, node["$ref"]), dict | bool), node["$ref"]
    if name == PLATFORM:
        settings = {
            "clientId": "367f7975-267b-439b-90c6-a6040ee680f3",
            "settings": [
                {"dataType": "commerce-orders", "fetchOnFirstLink": True, "syncSchedule": 24,
                 "syncOrder": 0}
            ],
            "overridesDefaults": True,
        }  # fmt: skip
        assert request_violations(settings, "POST /profile/syncSettings", name) == []
        assert request_violations({**settings, "clientId": 7}, "POST /profile/syncSettings", name)
        unknown = {**settings, "settings": [{**settings["settings"][0], "dataType": "teapots"}]}
        assert request_violations(unknown, "POST /profile/syncSettings", name)
        assert request_violations({"companyTags": ["x" * 129]}, "POST /webhooks", name)
    else:
        patch = {"configure-misc-nextButton": {"text": None}}
        assert request_violations(patch, "PATCH /sync/commerce/config/ui/text", name) == []
        bare = {"configure-misc-nextButton": "Next"}
        assert request_violations(bare, "PATCH /sync/commerce/config/ui/text", name)
