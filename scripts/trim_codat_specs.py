"""Write tests/sandbox/codat_schemas.json: the validation part of Codat's published schemas.

The sandbox tests check every body the sandbox produces against Codat's own
OpenAPI schemas. The published spec files are large and mostly prose, so the
tests read a trimmed, generated copy instead, committed in the repository:

- only the component schemas the sandbox serves (`NEEDED`), the request body
  schemas of the operations the client sends bodies to (`REQUESTS`, under
  `requests`, keyed "METHOD /path"), and every schema they reference,
  transitively;
- only validation keywords (type, required, properties, items, enum, pattern,
  format, lengths, bounds, additionalProperties, propertyNames, allOf/anyOf/
  oneOf, $ref, const, ...); prose, examples, defaults and `x-*` extensions
  are dropped. A keyword this script does not know stops it, so a new one in
  a future spec is looked at rather than lost;
- OpenAPI 3.0's `nullable: true` (which the specs use although they say
  3.1.0, also beside a `$ref`) rewritten as `anyOf: [that schema, null]`, so
  plain JSON Schema 2020-12 validators read it;
- `PagingInfo.pageSize`'s `maximum: 2000` removed: Codat documents page sizes
  up to 5000 for requests, and a page echoes the size asked for, so that one
  bound contradicts the API it describes.

Usage, with the project's venv (it needs pyyaml), given the two spec files of
a checkout of https://github.com/codatio/oas (in either order) and the commit
they come from (`git -C <checkout> rev-parse --short HEAD`):

    .venv/bin/python scripts/trim_codat_specs.py --commit 1d1fab1 \\
        <oas>/yaml/Codat-Platform.yaml <oas>/yaml/Codat-Sync-Commerce.yaml

The output is deterministic: the same inputs give a byte-identical file.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import unquote

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "tests" / "sandbox" / "codat_schemas.json"
REPOSITORY = "codatio/oas"

# Spec title -> the published file name it is stored under, and the component
# schemas the sandbox serves or will serve (responses, and the request bodies
# of the same endpoints).
NEEDED: dict[str, tuple[str, tuple[str, ...]]] = {
    "Platform API": (
        "Codat-Platform.yaml",
        (
            "Companies",  # GET /companies
            "Company",  # /companies/{companyId}
            "CompanyWebhook",  # company.deleted deliveries
            "CompanyRequestBody",  # POST /companies, PUT /companies/{companyId}
            "CompanyUpdateRequest",  # PATCH /companies/{companyId}
            "Connection",  # /companies/{companyId}/connections/{connectionId}
            "Connections",  # GET /companies/{companyId}/connections
            "ConnectionWebhook",  # connection.created/.connected/.disconnected deliveries
            "ErrorMessage",  # every 4xx and 5xx
            "Integration",  # GET /integrations/{platformKey}
            "Integrations",  # GET /integrations
            "UpdateConnectionStatus",  # PATCH .../connections/{connectionId}
            "WebhookConsumer",  # /webhooks (its definitions hold list and prototype)
            "SyncSettings",  # GET /profile/syncSettings
        ),
    ),
    "Sync for Commerce": (
        "Codat-Sync-Commerce.yaml",
        (
            "Companies",
            "Company",
            "CompanySyncStatus",  # GET .../sync/commerce/syncs/latest/status
            "Configuration",  # GET/POST /config/companies/{companyId}/sync/commerce
            "Connection",
            "Connections",
            "CreateCompany",  # POST /companies
            "ErrorMessage",
            "Integration",
            "Integrations",  # GET /config/integrations
            "SyncFlowUrl",  # GET /config/sync/commerce/{commerceKey}/{accountingKey}/start
            "UpdateConnection",  # PATCH .../connections/{connectionId}
            "LocalizationInfo",  # GET/PATCH /sync/commerce/config/ui/text
            "VisibleAccounts",  # .../config/ui/accounts/platform/{platformKey}
        ),
    ),
}

# Spec title -> the operations whose request body schema is kept, as written
# in the spec (some are inline, not component schemas).
REQUESTS: dict[str, tuple[tuple[str, str], ...]] = {
    "Platform API": (
        ("POST", "/companies"),
        ("PATCH", "/companies/{companyId}"),
        ("POST", "/webhooks"),
        ("POST", "/profile/syncSettings"),
    ),
    "Sync for Commerce": (
        ("PATCH", "/sync/commerce/config/ui/text"),
        ("POST", "/sync/commerce/config/ui/accounts/platform/{platformKey}"),
    ),
}

_PLAIN = frozenset(
    {
        "type", "required", "enum", "const", "pattern", "format", "$ref",
        "minLength", "maxLength", "minimum", "maximum", "exclusiveMinimum",
        "exclusiveMaximum", "multipleOf", "minItems", "maxItems", "uniqueItems",
        "minProperties", "maxProperties",
    }
)  # fmt: skip
_SCHEMA = frozenset({"items", "additionalProperties", "propertyNames", "not", "contains"})
_SCHEMA_LIST = frozenset({"allOf", "anyOf", "oneOf", "prefixItems"})
_SCHEMA_MAP = frozenset({"properties", "patternProperties", "definitions", "$defs"})
# Annotations, and `minValue`/`maxValue`, which are no JSON Schema keywords and
# so never constrained anything.
_DROPPED = frozenset(
    {
        "description", "title", "example", "examples", "default", "deprecated",
        "readOnly", "writeOnly", "discriminator", "externalDocs", "xml",
        "minValue", "maxValue",
    }
)  # fmt: skip
_SCHEMAS = "#/components/schemas/"


class SpecError(Exception):
    """An input this script cannot turn into the trimmed file."""


def resolve(document: dict[str, Any], ref: str) -> Any:
    """The node a local `$ref` (a JSON pointer) designates in `document`."""
    node: Any = document
    for raw in ref.removeprefix("#/").split("/"):
        part = unquote(raw).replace("~1", "/").replace("~0", "~")
        try:
            node = node[int(part)] if isinstance(node, list) else node[part]
        except (KeyError, IndexError, ValueError, TypeError):
            raise SpecError(f"$ref {ref!r} designates nothing") from None
    return node


def trim(node: Any, where: str, document: dict[str, Any], depth: int = 0) -> Any:
    """`node` with only its validation keywords, nullable rewritten.

    A `$ref` outside `#/components/schemas` (a parameter's schema, a property
    of an inline request body) is replaced by what it designates, so the
    output needs nothing but component schemas.
    """
    if isinstance(node, bool):
        return node
    if not isinstance(node, dict):
        raise SpecError(f"{where}: expected a schema, found {type(node).__name__}")
    if depth > 20:
        raise SpecError(f"{where}: $ref cycle outside #/components/schemas")
    kept: dict[str, Any] = {}
    inlined: list[Any] = []
    for key, value in node.items():
        at = f"{where}/{key}"
        if (key in _SCHEMA_LIST and not isinstance(value, list)) or (
            key in _SCHEMA_MAP and not isinstance(value, dict)
        ):
            raise SpecError(f"{at}: malformed {key!r}")
        if key == "$ref" and not str(value).startswith(_SCHEMAS):
            if not isinstance(value, str) or not value.startswith("#/"):
                raise SpecError(f"{at}: only local references are supported, not {value!r}")
            inlined.append(trim(resolve(document, value), value, document, depth + 1))
        elif key in _PLAIN:
            kept[key] = value
        elif key in _SCHEMA:
            kept[key] = trim(value, at, document, depth)
        elif key in _SCHEMA_LIST:
            kept[key] = [trim(item, f"{at}/{i}", document, depth) for i, item in enumerate(value)]
        elif key in _SCHEMA_MAP:
            kept[key] = {n: trim(item, f"{at}/{n}", document, depth) for n, item in value.items()}
        elif key not in _DROPPED and key != "nullable" and not key.startswith("x-"):
            raise SpecError(f"{at}: unknown keyword {key!r}; teach the script whether it validates")
    if inlined:
        # A $ref beside other keywords means both apply, as allOf says.
        kept = {"allOf": [*inlined, kept]} if kept else inlined[0]
    if node.get("nullable") is True:
        return {"anyOf": [kept, {"type": "null"}]}
    return kept


def references(node: Any) -> set[str]:
    """The component schema names `node` refers to, anywhere inside it."""
    if isinstance(node, list):
        return set().union(*(references(item) for item in node))
    if not isinstance(node, dict):
        return set()
    found = set().union(*(references(value) for value in node.values()))
    ref = node.get("$ref")
    if isinstance(ref, str):
        if not ref.startswith(_SCHEMAS):
            raise SpecError(f"$ref {ref!r} leaves #/components/schemas")
        found.add(ref.removeprefix(_SCHEMAS).split("/")[0])
    return found


def request_schemas(
    document: dict[str, Any], operations: tuple[tuple[str, str], ...], title: str
) -> dict[str, Any]:
    """The trimmed JSON request body schema of each operation, keyed "METHOD /path"."""
    kept: dict[str, Any] = {}
    for method, path in operations:
        where = f"{title} {method} {path}"
        try:
            content = document["paths"][path][method.lower()]["requestBody"]["content"]
            schema = content["application/json"]["schema"]
        except (KeyError, TypeError):
            raise SpecError(f"{where}: no application/json request body") from None
        kept[f"{method} {path}"] = trim(schema, where, document)
    return kept


def closure(
    document: dict[str, Any], needed: tuple[str, ...], title: str, also: Any = None
) -> dict[str, Any]:
    """The trimmed `needed` schemas and every schema they, or `also`, reference."""
    schemas = document["components"]["schemas"]
    done: dict[str, Any] = {}
    todo = [*needed, *references(also)]
    while todo:
        name = todo.pop()
        if name in done:
            continue
        if name not in schemas:
            raise SpecError(f"{title}: no schema #/components/schemas/{name}")
        done[name] = trim(schemas[name], f"{title}#/components/schemas/{name}", document)
        todo.extend(references(done[name]) - done.keys())
    return done


def drop_paging_maximum(schemas: dict[str, Any]) -> None:
    page_size = schemas.get("PagingInfo", {}).get("properties", {}).get("pageSize", {})
    if page_size.get("maximum") == 2000:
        del page_size["maximum"]


def trimmed_spec(path: Path) -> tuple[str, dict[str, Any]]:
    """The published file name of the spec at `path` and its trimmed entry."""
    import yaml  # here, so `--help` works without the venv

    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise SpecError(f"{path}: cannot read it: {error}") from None
    try:
        info = document["info"]
        title = info["title"]
        if not isinstance(document["components"]["schemas"], dict):
            raise TypeError
    except (KeyError, TypeError):
        raise SpecError(f"{path}: not an OpenAPI document with component schemas") from None
    if title not in NEEDED:
        known = ", ".join(repr(t) for t in NEEDED)
        raise SpecError(f"{path}: spec title {title!r} is none of {known}")
    published, needed = NEEDED[title]
    requests = request_schemas(document, REQUESTS.get(title, ()), title)
    kept = closure(document, needed, title, requests)
    drop_paging_maximum(kept)
    entry = {
        "components": {"schemas": kept},
        "requests": requests,
        "title": title,
        "version": str(info.get("version", "unknown")),
    }
    return published, entry


def trimmed_file(paths: list[Path], commit: str) -> dict[str, Any]:
    specs = dict(trimmed_spec(path) for path in paths)
    missing = sorted({published for published, _ in NEEDED.values()} - specs.keys())
    if missing:
        raise SpecError(f"missing spec file(s): {', '.join(missing)}")
    return {
        "$comment": (
            "Generated by scripts/trim_codat_specs.py from Codat's published OpenAPI "
            "specs; do not edit by hand, re-run the script. Only validation keywords "
            "are kept; nullable is rewritten as anyOf [schema, null]; "
            "PagingInfo.pageSize maximum 2000 is removed (requests may ask for 5000)."
        ),
        "generator": "scripts/trim_codat_specs.py",
        "source": {"commit": commit, "repository": REPOSITORY},
        "specs": specs,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Write the trimmed Codat schemas the sandbox tests validate against.",
        epilog="Example: scripts/trim_codat_specs.py --commit 1d1fab1 "
        "oas/yaml/Codat-Platform.yaml oas/yaml/Codat-Sync-Commerce.yaml",
    )
    parser.add_argument(
        "specs",
        nargs=2,
        type=Path,
        metavar="SPEC.yaml",
        help="Codat-Platform.yaml and Codat-Sync-Commerce.yaml, in any order",
    )
    parser.add_argument(
        "--commit", required=True, help=f"the {REPOSITORY} commit the files come from"
    )
    parser.add_argument("--out", type=Path, default=OUTPUT, help="default: %(default)s")
    args = parser.parse_args(argv)
    try:
        content = trimmed_file(args.specs, args.commit)
    except SpecError as error:
        print(f"trim_codat_specs: {error}", file=sys.stderr)
        return 1
    text = json.dumps(content, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out} ({len(text.encode()):,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
