"""The endpoints: one function per operation of the specs, and the table routing to them.

Handlers run inside one store transaction the app opens (a write transaction
for the operations that change something), so each change is whole or absent.
"""

from __future__ import annotations

import json
import re
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from reconciler.sandbox import validation
from reconciler.sandbox.clock import Clock
from reconciler.sandbox.messages import (
    ApiError,
    SandboxRequest,
    SandboxResponse,
    json_response,
    text_json_response,
)
from reconciler.sandbox.query import (
    QueryError,
    Resolver,
    column_resolver,
    compile_filter,
    tag_resolver,
)
from reconciler.sandbox.resources import (
    IntegrationCatalogue,
    company_body,
    connection_body,
)
from reconciler.sandbox.store import Tx

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 5000
_COMPANY_COLUMNS = column_resolver({"id": "id", "name": "name", "description": "description"})
_CONNECTION_COLUMNS = column_resolver(
    {"id": "id", "status": "status", "integrationKey": "integration_key"}
)


@dataclass(frozen=True, slots=True)
class Context:
    """What handlers need from the app's configuration."""

    clock: Clock
    integrations: IntegrationCatalogue
    max_page_size: int | None
    client_id: str


Handler = Callable[[Context, Tx, SandboxRequest], SandboxResponse]


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    template: str
    handler: Handler
    writes: bool
    pattern: re.Pattern[str]


# -- paging and filters ------------------------------------------------------------


def _int_param(req: SandboxRequest, name: str, default: int, low: int, high: int) -> int:
    raw = req.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise ApiError(
            400,
            f"Error processing request - {name} must be a whole number from {low} to {high}.",
            errors=[(name, f"{name} must be from {low} to {high}")],
        )
    return value


def _paging(ctx: Context, req: SandboxRequest) -> tuple[int, int]:
    page = _int_param(req, "page", 1, 1, 2**31 - 1)
    size = _int_param(req, "pageSize", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    if ctx.max_page_size is not None:
        size = min(size, ctx.max_page_size)
    return page, size


def _filter(req: SandboxRequest, with_tags: bool, columns: Resolver) -> tuple[str, list[str]]:
    try:
        where, params = compile_filter(req.query.get("query", ""), columns)
        if with_tags:
            tag_where, tag_params = compile_filter(req.query.get("tags", ""), tag_resolver("tags"))
            where, params = f"({where}) AND ({tag_where})", [*params, *tag_params]
    except QueryError as err:
        raise ApiError(400, f"Error parsing query - {err}") from None
    return where, params


def _page_response(
    path: str, req: SandboxRequest, page: int, size: int, total: int, rows: list[str]
) -> SandboxResponse:
    kept: dict[str, str] = {k: req.query[k] for k in ("query", "tags", "orderBy") if k in req.query}

    def href(number: int) -> dict[str, str]:
        params: dict[str, str | int] = {"page": number, "pageSize": size, **kept}
        return {"href": path + "?" + urlencode(params)}

    links: dict[str, dict[str, str]] = {"self": {"href": path}, "current": href(page)}
    if page * size < total:
        links["next"] = href(page + 1)
    if page > 1:
        links["previous"] = href(page - 1)
    paging = json.dumps(
        {"pageNumber": page, "pageSize": size, "totalResults": total, "_links": links}
    )
    return text_json_response(200, '{"results":[' + ",".join(rows) + "]," + paging[1:])


# -- companies ---------------------------------------------------------------------


def _company_or_404(tx: Tx, company_id: str) -> dict[str, Any]:
    company = tx.company(company_id)
    if company is None:
        raise ApiError(404, f"No company was found with ID {company_id}")
    return company


def _company_answer(tx: Tx, company_id: str) -> SandboxResponse:
    served = tx.company_json(company_id)
    if served is None:
        raise ApiError(404, f"No company was found with ID {company_id}")
    return text_json_response(200, served)


def list_companies(ctx: Context, tx: Tx, req: SandboxRequest) -> SandboxResponse:
    page, size = _paging(ctx, req)
    where, params = _filter(req, True, _COMPANY_COLUMNS)
    total, rows = tx.page_companies(where, params, (page - 1) * size, size)
    return _page_response("/companies", req, page, size, total, rows)


def create_company(ctx: Context, tx: Tx, req: SandboxRequest) -> SandboxResponse:
    fields = validation.company_fields(req.json_object(), require_name=True)
    body = company_body(
        str(uuid.uuid4()),
        fields["name"],
        fields.get("description"),
        fields.get("tags", {}),
        ctx.clock.iso_now(),
    )
    tx.put_company(body)
    return json_response(200, {**body, "dataConnections": []})


def get_company(ctx: Context, tx: Tx, req: SandboxRequest) -> SandboxResponse:
    return _company_answer(tx, req.params["companyId"])


def update_company(ctx: Context, tx: Tx, req: SandboxRequest) -> SandboxResponse:
    company = _company_or_404(tx, req.params["companyId"])
    company.update(validation.company_fields(req.json_object(), require_name=False))
    tx.put_company(company)
    return _company_answer(tx, company["id"])


def replace_company(ctx: Context, tx: Tx, req: SandboxRequest) -> SandboxResponse:
    company = _company_or_404(tx, req.params["companyId"])
    fields = validation.company_fields(req.json_object(), require_name=True)
    replaced = company_body(
        company["id"],
        fields["name"],
        fields.get("description"),
        fields.get("tags", {}),
        company["created"],
    )
    tx.put_company({**company, **replaced})
    return _company_answer(tx, company["id"])


def delete_company(ctx: Context, tx: Tx, req: SandboxRequest) -> SandboxResponse:
    company_id = req.params["companyId"]
    if not tx.delete_company(company_id):
        raise ApiError(404, f"No company was found with ID {company_id}")
    return SandboxResponse(204, {}, b"")


# -- connections -------------------------------------------------------------------


def _connection_or_404(tx: Tx, req: SandboxRequest) -> dict[str, Any]:
    _company_or_404(tx, req.params["companyId"])
    connection = tx.connection(req.params["companyId"], req.params["connectionId"])
    if connection is None:
        raise ApiError(404, f"Data connection {req.params['connectionId']} not found")
    return connection


def list_connections(ctx: Context, tx: Tx, req: SandboxRequest) -> SandboxResponse:
    company_id = req.params["companyId"]
    _company_or_404(tx, company_id)
    page, size = _paging(ctx, req)
    where, params = _filter(req, False, _CONNECTION_COLUMNS)
    total, rows = tx.page_connections(company_id, where, params, (page - 1) * size, size)
    return _page_response(f"/companies/{company_id}/connections", req, page, size, total, rows)


def create_connection(ctx: Context, tx: Tx, req: SandboxRequest) -> SandboxResponse:
    company_id = req.params["companyId"]
    _company_or_404(tx, company_id)
    integration = validation.platform_key(req.json_object(), ctx.integrations)
    body = connection_body(
        str(uuid.uuid4()), company_id, integration, "PendingAuth", ctx.clock.iso_now()
    )
    tx.put_connection(company_id, body)
    return json_response(200, body)


def get_connection(ctx: Context, tx: Tx, req: SandboxRequest) -> SandboxResponse:
    return json_response(200, _connection_or_404(tx, req))


def update_connection(ctx: Context, tx: Tx, req: SandboxRequest) -> SandboxResponse:
    connection = _connection_or_404(tx, req)
    status = validation.connection_status(req.json_object())
    if status is not None:
        connection["status"] = status
        tx.put_connection(req.params["companyId"], connection)
    return json_response(200, connection)


def authorize_connection(ctx: Context, tx: Tx, req: SandboxRequest) -> SandboxResponse:
    connection = _connection_or_404(tx, req)
    validation.authorization(req.json_object())
    connection["status"] = "Linked"
    tx.put_connection(req.params["companyId"], connection)
    tx.count_authorization(connection["id"])
    return json_response(200, connection)


def delete_connection(ctx: Context, tx: Tx, req: SandboxRequest) -> SandboxResponse:
    _connection_or_404(tx, req)
    tx.delete_connection(req.params["companyId"], req.params["connectionId"])
    return SandboxResponse(200, {}, b"")


# -- sync flow ---------------------------------------------------------------------


def sync_flow_url(ctx: Context, tx: Tx, req: SandboxRequest) -> SandboxResponse:
    for name in ("commerceKey", "accountingKey"):
        key = req.params[name]
        if not validation.PLATFORM_KEY.fullmatch(key):
            raise ApiError(400, f"{name} must be four lowercase letters", errors=[(name, key)])
        if ctx.integrations.get(key) is None:
            raise ApiError(404, f"Integration {key} not found")
    merchant = req.query.get("merchantIdentifier", "")
    if not merchant:
        raise ApiError(
            400,
            "Error processing request - merchantIdentifier is required.",
            errors=[("merchantIdentifier", "merchantIdentifier is required")],
        )
    query = {"merchantIdentifier": merchant, "otp": f"{secrets.randbelow(10**6):06d}"}
    if req.query.get("redirectUrl"):
        query["redirectUrl"] = req.query["redirectUrl"]
    base = "https://sync-flow.codat.io/{}/{}/{}/start".format(
        ctx.client_id, req.params["commerceKey"], req.params["accountingKey"]
    )
    return json_response(200, {"url": base + "?" + urlencode(query)})


# -- the table ---------------------------------------------------------------------

_COMPANY = "/companies/{companyId}"
_CONNECTION = _COMPANY + "/connections/{connectionId}"
_TABLE: list[tuple[str, str, Handler, bool]] = [
    ("GET", "/companies", list_companies, False),
    ("POST", "/companies", create_company, True),
    ("GET", _COMPANY, get_company, False),
    ("PATCH", _COMPANY, update_company, True),
    ("PUT", _COMPANY, replace_company, True),
    ("DELETE", _COMPANY, delete_company, True),
    ("GET", _COMPANY + "/connections", list_connections, False),
    ("POST", _COMPANY + "/connections", create_connection, True),
    ("GET", _CONNECTION, get_connection, False),
    ("PATCH", _CONNECTION, update_connection, True),
    ("DELETE", _CONNECTION, delete_connection, True),
    ("PUT", _CONNECTION + "/authorization", authorize_connection, True),
    ("GET", "/config/sync/commerce/{commerceKey}/{accountingKey}/start", sync_flow_url, False),
]


def _compile(template: str) -> re.Pattern[str]:
    regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
    return re.compile(regex + "/?")


ROUTES = [Route(m, t, h, w, _compile(t)) for m, t, h, w in _TABLE]


def find_route(method: str, path: str) -> tuple[Route, dict[str, str]]:
    """The route for this request; 404 for an unknown path, 405 for a wrong method."""
    path_known = False
    for route in ROUTES:
        found = route.pattern.fullmatch(path)
        if found is None:
            continue
        path_known = True
        if route.method == method:
            return route, found.groupdict()
    if path_known:
        raise ApiError(405, f"Method {method} is not allowed on {path}")
    raise ApiError(404, f"No resource at {path}")
