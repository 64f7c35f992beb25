"""The merchant's side in SQLite: Sync for Commerce configurations and syncs, the
connection lookups Codat's rules need, and paging the integrations list.

Functions over a `Tx` (the tables are created with the others in store.py), so
they join the handler's transaction like every other change.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from reconciler.sandbox.store import Tx, dumps


def connections_with(
    tx: Tx, company_id: str, keys: Sequence[str], exclude_status: str
) -> list[dict[str, Any]]:
    """The company's connections to any of `keys` whose status is not `exclude_status`."""
    if not keys:
        return []
    marks = ",".join("?" * len(keys))
    rows = tx.conn.execute(
        f"SELECT body FROM connections WHERE company_id = ? AND integration_key IN ({marks})"
        " AND status != ? ORDER BY seq",
        [company_id, *keys, exclude_status],
    )
    return [json.loads(row[0]) for row in rows]


def configuration(tx: Tx, company_id: str) -> dict[str, Any] | None:
    row = tx.conn.execute(
        "SELECT body FROM commerce_configs WHERE company_id = ?", (company_id,)
    ).fetchone()
    return None if row is None else dict(json.loads(row[0]))


def put_configuration(tx: Tx, company_id: str, body: dict[str, Any]) -> None:
    tx.conn.execute(
        "INSERT INTO commerce_configs (company_id, body) VALUES (?, ?)"
        " ON CONFLICT(company_id) DO UPDATE SET body = excluded.body",
        (company_id, dumps(body)),
    )


def latest_sync(tx: Tx, company_id: str) -> str | None:
    row = tx.conn.execute(
        "SELECT body FROM commerce_syncs WHERE company_id = ? ORDER BY seq DESC LIMIT 1",
        (company_id,),
    ).fetchone()
    return None if row is None else str(row[0])


def add_sync(tx: Tx, company_id: str, body: dict[str, Any]) -> None:
    tx.conn.execute(
        "INSERT INTO commerce_syncs (company_id, body) VALUES (?, ?)", (company_id, dumps(body))
    )


def page_rows(
    tx: Tx,
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    where: str,
    params: list[str],
    offset: int,
    limit: int,
) -> tuple[int, list[str]]:
    """Filter and page rows that live in memory (the integrations) with the same SQL
    `query` compiler as stored resources. Each row is its `columns`' values then its
    body JSON; returns (total matching, this page's bodies), in the rows' order."""
    if not rows:
        return 0, []
    width = len(columns) + 2
    values = ",".join(["(" + ",".join("?" * width) + ")"] * len(rows))
    table = f"WITH t(seq, {', '.join(columns)}, body) AS (VALUES {values})"
    flat = [value for seq, row in enumerate(rows) for value in (seq, *row)]
    total = tx.conn.execute(f"{table} SELECT count(*) FROM t WHERE {where}", [*flat, *params])
    count = int(total.fetchone()[0])
    page = tx.conn.execute(
        f"{table} SELECT body FROM t WHERE {where} ORDER BY seq LIMIT ? OFFSET ?",
        [*flat, *params, limit, offset],
    )
    return count, [row[0] for row in page]
