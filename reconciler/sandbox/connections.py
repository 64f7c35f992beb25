"""Connection changes under Codat's rules, each one published as its webhook event.

Every endpoint that creates a connection or changes its status goes through
here, so the rules (enabled integrations only, one active accounting connection
per company) and the events cannot be skipped by one of them.
"""

from __future__ import annotations

import uuid
from typing import Any

from reconciler.sandbox import merchant_store
from reconciler.sandbox.context import Context
from reconciler.sandbox.messages import ApiError
from reconciler.sandbox.resources import Integration, connection_body
from reconciler.sandbox.store import Tx
from reconciler.sandbox.webhooks import connection_payload

DISCONNECTED = ("Unlinked", "Deauthorized")


def active_accounting(ctx: Context, tx: Tx, company_id: str) -> dict[str, Any] | None:
    """The company's accounting connection that is not Unlinked, if it has one."""
    keys = [i.key for i in ctx.integrations.all() if i.accounting]
    found = merchant_store.connections_with(tx, company_id, keys, exclude_status="Unlinked")
    return found[0] if found else None


def _refuse_second_accounting(
    ctx: Context, tx: Tx, company_id: str, integration: Integration, connection_id: str | None
) -> None:
    # Codat allows one active accounting connection per company (the Connection
    # schema's description: "Accounting data - 1 active connection"). The spec
    # documents no status for the refusal; 409 is Codat's "conflicts with the
    # current state" in its error docs, and retrying cannot help.
    if not integration.accounting:
        return
    active = active_accounting(ctx, tx, company_id)
    if active is not None and active["id"] != connection_id:
        raise ApiError(
            409,
            f"Company {company_id} already has an active accounting connection "
            f"({active['integrationKey']}, {active['status']}); unlink it first.",
            retryable=False,
        )


def create(
    ctx: Context, tx: Tx, company: dict[str, Any], integration: Integration, status: str
) -> dict[str, Any]:
    """A new connection on `company`, published as `connection.created`."""
    if not integration.enabled:
        # 403 is the refusal the spec documents for POST .../connections that fits
        # "not allowed for this client"; Codat's word is that a key which is not
        # enabled cannot get a connection.
        raise ApiError(
            403,
            f"Integration {integration.key} is not enabled for this client.",
            retryable=False,
        )
    _refuse_second_accounting(ctx, tx, company["id"], integration, None)
    body = connection_body(
        str(uuid.uuid4()), company["id"], integration, "PendingAuth", ctx.clock.iso_now()
    )
    tx.put_connection(company["id"], body)
    ctx.webhooks.publish(tx, "connection.created", connection_payload(company, body))
    if status != body["status"]:
        set_status(ctx, tx, company, body, status)
    return body


def set_status(
    ctx: Context, tx: Tx, company: dict[str, Any], connection: dict[str, Any], status: str
) -> None:
    """Move `connection` to `status` (in place and in the store), publishing the change."""
    if connection["status"] == status:
        return
    if status == "Linked":
        integration = ctx.integrations.get(connection["integrationKey"])
        if integration is not None:
            _refuse_second_accounting(ctx, tx, company["id"], integration, connection["id"])
    connection["status"] = status
    tx.put_connection(company["id"], connection)
    if status == "Linked":
        ctx.webhooks.publish(tx, "connection.connected", connection_payload(company, connection))
    elif status in DISCONNECTED:
        payload = connection_payload(company, connection)
        ctx.webhooks.publish(tx, "connection.disconnected", payload)
