"""The endpoints: one function per operation of the specs, and the table routing to them.

Companies, connections and the sync flow URL are here; the merchant's side
(integrations, Sync for Commerce configuration and syncs, `/_sandbox/` hooks) is
in merchant_routes.py, its table joined to this one. Handlers run inside one
store transaction the app opens (a write transaction for the operations that
change something), so each change is whole or absent.
"""

from __future__ import annotations

import re
import secrets
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from reconciler.sandbox import connections, validation
from reconciler.sandbox.client_routes import CLIENT_TABLE
from reconciler.sandbox.context import Context, Handler, company_or_404
from reconciler.sandbox.merchant_routes import MERCHANT_TABLE
from reconciler.sandbox.messages import (
    ApiError,
    SandboxRequest,
    SandboxResponse,
    json_response,
    text_json_response,
)
from reconciler.sandbox.paging import page_response, paging, row_filter
from reconciler.sandbox.query import column_resolver
from reconciler.sandbox.resources import company_body
from reconciler.sandbox.store import Tx

__all__ = ["ROUTES", "Context", "Route", "find_route"]

_COMPANY_COLUMNS = column_resolver({"id": "id", "name": "name", "description": "description"})
_CONNECTION_COLUMNS = column_resolver(
    {"id": "id", "status": "status", "integrationKey": "integration_key"}
)


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    template: str
    handler: Handler
    writes: bool
    pattern: re.Pattern[str]


# -- companies ---------------------------------------------------------------------


def _company_answer(tx: Tx, company_id: str) -> SandboxResponse:
    served = tx.company_json(company_id)
    if served is None:
        raise ApiError(404, f"No company was found with ID {company_id}")
    return text_json_response(200, served)


def list_companies(ctx: Context, tx: Tx, req: SandboxRequest) -> SandboxResponse:
    page, size = paging(req, ctx.max_page_size)
    where, params = row_filter(req, True, _COMPANY_COLUMNS)
    total, rows = tx.page_companies(where, params, (page - 1) * size, size)
    return page_response("/companies", req, page, size, total, rows)


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
    company = company_or_404(tx, req.params["companyId"])
    # Codat's Update company: "If any of the fields provided are `null` or not
    # provided, they won't be included in the update" (Replace company clears them).
    given = {k: v for k, v in req.json_object().items() if v is not None}
    company.update(validation.company_fields(given, require_name=False))
    tx.put_company(company)
    return _company_answer(tx, company["id"])


def replace_company(ctx: Context, tx: Tx, req: SandboxRequest) -> SandboxResponse:
    company = company_or_404(tx, req.params["companyId"])
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
    company = company_or_404(tx, req.params["companyId"])
    tx.delete_company(company["id"])
    # The spec's CompanyWebhook: the payload is the company itself (companyDetails).
    ctx.webhooks.publish(tx, "company.deleted", company)
    return SandboxResponse(204, {}, b"")


# -- connections -------------------------------------------------------------------


def _connection_or_404(tx: Tx, req: SandboxRequest) -> tuple[dict[str, Any], dict[str, Any]]:
    """(company, connection) named by the path."""
    company = company_or_404(tx, req.params["companyId"])
    connection = tx.connection(company["id"], req.params["connectionId"])
    if connection is None:
        raise ApiError(404, f"Data connection {req.params['connectionId']} not found")
    return company, connection


def list_connections(ctx: Context, tx: Tx, req: SandboxRequest) -> SandboxResponse:
    company_id = req.params["companyId"]
    company_or_404(tx, company_id)
    page, size = paging(req, ctx.max_page_size)
    where, params = row_filter(req, False, _CONNECTION_COLUMNS)
    total, rows = tx.page_connections(company_id, where, params, (page - 1) * size, size)
    return page_response(f"/companies/{company_id}/connections", req, page, size, total, rows)


def create_connection(ctx: Context, tx: Tx, req: SandboxRequest) -> SandboxResponse:
    company = company_or_404(tx, req.params["companyId"])
    integration = validation.platform_key(req.json_object(), ctx.integrations)
    return json_response(200, connections.create(ctx, tx, company, integration, "PendingAuth"))


def get_connection(ctx: Context, tx: Tx, req: SandboxRequest) -> SandboxResponse:
    return json_response(200, _connection_or_404(tx, req)[1])


def update_connection(ctx: Context, tx: Tx, req: SandboxRequest) -> SandboxResponse:
    company, connection = _connection_or_404(tx, req)
    status = validation.connection_status(req.json_object())
    if status is not None:
        connections.set_status(ctx, tx, company, connection, status)
    return json_response(200, connection)


def authorize_connection(ctx: Context, tx: Tx, req: SandboxRequest) -> SandboxResponse:
    company, connection = _connection_or_404(tx, req)
    validation.authorization(req.json_object())
    connections.set_status(ctx, tx, company, connection, "Linked")
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


_TABLES = [*_TABLE, *MERCHANT_TABLE, *CLIENT_TABLE]
ROUTES = [Route(m, t, h, w, _compile(t)) for m, t, h, w in _TABLES]


def find_route(method: str, path: str) -> tuple[Route, dict[str, str]]:
    """The route for this request; 404 for an unknown path, 405 (with `Allow`, as HTTP
    requires) for a method the path does not take."""
    allowed: list[str] = []
    for route in ROUTES:
        found = route.pattern.fullmatch(path)
        if found is None:
            continue
        if route.method == method:
            return route, found.groupdict()
        allowed.append(route.method)
    if allowed:
        raise ApiError(
            405,
            f"Method {method} is not allowed on {path}",
            headers={"Allow": ", ".join(sorted(set(allowed)))},
        )
    raise ApiError(404, f"No resource at {path}")
