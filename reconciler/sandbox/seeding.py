"""`SandboxStore.seed`: thousands of companies and connections in one transaction."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from reconciler.sandbox.resources import IntegrationCatalogue, company_body, connection_body
from reconciler.sandbox.store import SandboxStore, company_row, dumps

CompanyRow = tuple[str, str, str | None, str, str]
ConnectionRow = tuple[str, str, str, str, str]


def seed(
    store: SandboxStore, companies: Iterable[Mapping[str, Any]], catalogue: IntegrationCatalogue
) -> list[str]:
    """`SandboxStore.seed`: every row built first, then one transaction writes them all."""
    created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    company_rows: list[CompanyRow] = []
    connection_rows: list[ConnectionRow] = []
    for item in companies:
        company_id = str(item.get("id") or uuid.uuid4())
        body = company_body(
            company_id, item["name"], item.get("description"), item.get("tags") or {}, created
        )
        company_rows.append(company_row(body))
        for conn in item.get("connections") or ():
            integration = catalogue.get(conn["platformKey"])
            if integration is None:
                raise ValueError(f"unknown platformKey {conn['platformKey']!r}")
            status = conn.get("status", "Linked")
            cbody = connection_body(str(uuid.uuid4()), company_id, integration, status, created)
            connection_rows.append((cbody["id"], company_id, integration.key, status, dumps(cbody)))
    with store.write() as tx:
        tx.conn.executemany(
            "INSERT INTO companies (id, name, description, tags, body) VALUES (?, ?, ?, ?, ?)",
            company_rows,
        )
        tx.conn.executemany(
            "INSERT INTO connections (id, company_id, integration_key, status, body)"
            " VALUES (?, ?, ?, ?, ?)",
            connection_rows,
        )
    return [row[0] for row in company_rows]
