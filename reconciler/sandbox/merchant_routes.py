"""The merchant's side of Codat: integrations, Sync for Commerce state, and test hooks.

`GET /integrations` (Platform spec) and its Sync for Commerce twin
`GET /config/integrations` with `.../{platformKey}/branding` (what Codat's Sync
for Commerce SDK lists integrations with), the company's Sync for Commerce
configuration and latest sync (Sync for Commerce spec), and two hooks under
`/_sandbox/` that play what only a merchant can do in Codat: finish the sync
flow, and have a sync run. The hooks exist only in the sandbox and take the same
API key as everything else.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from reconciler.sandbox import connections, merchant_store
from reconciler.sandbox.context import Context, Handler, company_or_404
from reconciler.sandbox.messages import (
    ApiError,
    SandboxRequest,
    SandboxResponse,
    json_response,
    text_json_response,
)
from reconciler.sandbox.paging import page_response, paging, row_filter
from reconciler.sandbox.query import column_resolver
from reconciler.sandbox.store import Tx
from reconciler.sandbox.validation import PLATFORM_KEY

_INTEGRATION_COLUMNS = {
    "key": "platform_key",
    "name": "name",
    "sourceType": "source_type",
    "enabled": "enabled",
}

# syncStatus values the Sync for Commerce spec shows, with the syncStatusCode of
# Codat's Sync for Commerce status-code table (1000 in progress, 2000/2040 success
# with/without data pushed, 4000 configuration error, 5130 data push error; 4200 is
# the spec's own MapCoreError example). "Completed" (the word our docs use) means Complete.
SYNC_STATUS_CODES = {
    "NotStarted": 1000,
    "Pending": 1000,
    "Started": 1000,
    "Pushing": 1000,
    "Complete": 2000,
    "ValidateError": 4000,
    "MapCoreError": 4200,
    "PushError": 5130,
}
_SYNC_ALIASES = {"Completed": "Complete"}
_NO_DATA_PUSHED = 2040


def _invalid(item: str, message: str) -> ApiError:
    return ApiError(400, "Error processing request - not valid.", errors=[(item, message)])


# -- integrations ------------------------------------------------------------------


def list_integrations(ctx: Context, tx: Tx, req: SandboxRequest) -> SandboxResponse:
    return _integrations_page(ctx, tx, req, "/integrations")


def list_commerce_integrations(ctx: Context, tx: Tx, req: SandboxRequest) -> SandboxResponse:
    # The same catalogue and paging; only the links name this path.
    return _integrations_page(ctx, tx, req, "/config/integrations")


def integration_branding(ctx: Context, tx: Tx, req: SandboxRequest) -> SandboxResponse:
    key = req.params["platformKey"]
    integration = ctx.integrations.get(key)
    if integration is None:
        raise ApiError(404, f"Integration {key} not found")
    return json_response(200, integration.branding())


def _integrations_page(ctx: Context, tx: Tx, req: SandboxRequest, path: str) -> SandboxResponse:
    page, size = paging(req, ctx.max_page_size)
    where, params = row_filter(req, False, column_resolver(_INTEGRATION_COLUMNS))
    rows = [
        (i.key, i.name, i.source_type, str(i.enabled).lower(), json.dumps(i.body()))
        for i in ctx.integrations.all()
    ]
    columns = list(_INTEGRATION_COLUMNS.values())
    total, bodies = merchant_store.page_rows(
        tx, columns, rows, where, params, (page - 1) * size, size
    )
    return page_response(path, req, page, size, total, bodies)


# -- Sync for Commerce -------------------------------------------------------------


def _configuration(tx: Tx, company_id: str) -> dict[str, Any]:
    # A company the merchant has not taken through the flow: neither configured nor enabled.
    stored = merchant_store.configuration(tx, company_id)
    return stored or {"companyId": company_id, "enable": False, "configured": False}


def get_configuration(ctx: Context, tx: Tx, req: SandboxRequest) -> SandboxResponse:
    company = company_or_404(tx, req.params["companyId"])
    return json_response(200, _configuration(tx, company["id"]))


def latest_sync_status(ctx: Context, tx: Tx, req: SandboxRequest) -> SandboxResponse:
    company = company_or_404(tx, req.params["companyId"])
    latest = merchant_store.latest_sync(tx, company["id"])
    if latest is None:
        # The spec documents 404 (Not-Found) for this operation; before any sync
        # there is nothing to report.
        raise ApiError(404, f"No sync was found for company {company['id']}")
    return text_json_response(200, latest)


# -- /_sandbox/ hooks --------------------------------------------------------------


def complete_sync_flow(ctx: Context, tx: Tx, req: SandboxRequest) -> SandboxResponse:
    """The merchant finishes the sync flow with `accountingKey`.

    Their accounting connection is linked: an active (not Unlinked) connection
    to that same platform is the one the flow links; one to another accounting
    platform refuses the flow with 409, as Codat's one-active-accounting rule
    would; otherwise a new connection is created, Linked. The company's
    configuration becomes configured and enabled.
    """
    company = company_or_404(tx, req.params["companyId"])
    key = req.json_object().get("accountingKey")
    if not isinstance(key, str) or not PLATFORM_KEY.fullmatch(key):
        raise _invalid("accountingKey", "accountingKey must be four lowercase letters")
    integration = ctx.integrations.get(key)
    if integration is None or not integration.accounting:
        raise _invalid("accountingKey", f"{key} is not a known accounting integration")
    connection = connections.active_accounting(ctx, tx, company["id"])
    if connection is not None and connection["integrationKey"] == key:
        connections.set_status(ctx, tx, company, connection, "Linked")
    else:
        # With another platform active, create() refuses with the rule's 409.
        connection = connections.create(ctx, tx, company, integration, "Linked")
    configuration = {
        "companyId": company["id"],
        "accountingSoftwareCompanyName": company["name"],
        "enable": True,
        "configured": True,
        "schedule": {
            "selectedFrequency": "Daily",
            "frequencyOptions": ["Daily", "Monthly"],
            "startDate": ctx.clock.iso_now(),
            "syncHour": 0,
            "timeZone": "UTC",
        },
    }
    merchant_store.put_configuration(tx, company["id"], configuration)
    return json_response(200, {"configuration": configuration, "connection": connection})


def record_sync(ctx: Context, tx: Tx, req: SandboxRequest) -> SandboxResponse:
    """A sync of the company's commerce data ran, with the given `status`.

    Body: `status` (a syncStatus of SYNC_STATUS_CODES, or "Completed"), optional
    `dataPushed` (default: true for Complete) and `errorMessage`.
    """
    company = company_or_404(tx, req.params["companyId"])
    body = req.json_object()
    raw = body.get("status")
    status = _SYNC_ALIASES.get(raw, raw) if isinstance(raw, str) else None
    if status not in SYNC_STATUS_CODES:
        known = ", ".join(SYNC_STATUS_CODES)
        raise _invalid("status", f"status must be one of {known} (or Completed)")
    pushed = body.get("dataPushed", status == "Complete")
    message = body.get("errorMessage")
    if not isinstance(pushed, bool):
        raise _invalid("dataPushed", "dataPushed must be true or false")
    if message is not None and not isinstance(message, str):
        raise _invalid("errorMessage", "errorMessage must be a string")
    code = SYNC_STATUS_CODES[status]
    if status == "Complete" and not pushed:
        code = _NO_DATA_PUSHED
    if message is None:
        message = "" if code < 4000 else f"The sync ended with {status}."
    sync = {
        "companyId": company["id"],
        "syncId": str(uuid.uuid4()),
        "syncStatusCode": code,
        "syncStatus": status,
        "errorMessage": message,
        "syncExceptionMessage": message,
        "syncUtc": ctx.clock.iso_now(),
        "dataPushed": pushed,
    }
    merchant_store.add_sync(tx, company["id"], sync)
    return json_response(200, sync)


_HOOKS = "/_sandbox/companies/{companyId}"
MERCHANT_TABLE: list[tuple[str, str, Handler, bool]] = [
    ("GET", "/integrations", list_integrations, False),
    ("GET", "/config/integrations", list_commerce_integrations, False),
    ("GET", "/config/integrations/{platformKey}/branding", integration_branding, False),
    ("GET", "/config/companies/{companyId}/sync/commerce", get_configuration, False),
    ("GET", "/companies/{companyId}/sync/commerce/syncs/latest/status", latest_sync_status, False),
    ("POST", _HOOKS + "/sync-flow/complete", complete_sync_flow, True),
    ("POST", _HOOKS + "/syncs", record_sync, True),
]
