"""The client's own settings in SQLite: webhook consumers and named settings documents.

Functions over a `Tx` (the tables are created with the others in store.py), so a
change joins the handler's transaction like every other. A setting not stored
yet is the caller's default: the sandbox stores only what a request changed.
"""

from __future__ import annotations

import json
from typing import Any

from reconciler.sandbox.store import Tx, dumps


def webhook_consumers(tx: Tx) -> list[dict[str, Any]]:
    rows = tx.conn.execute("SELECT body FROM webhook_consumers ORDER BY seq")
    return [json.loads(row[0]) for row in rows]


def count_webhook_consumers(tx: Tx) -> int:
    return int(tx.conn.execute("SELECT count(*) FROM webhook_consumers").fetchone()[0])


def add_webhook_consumer(tx: Tx, body: dict[str, Any]) -> None:
    tx.conn.execute(
        "INSERT INTO webhook_consumers (id, body) VALUES (?, ?)", (body["id"], dumps(body))
    )


def delete_webhook_consumer(tx: Tx, consumer_id: str) -> bool:
    cur = tx.conn.execute("DELETE FROM webhook_consumers WHERE id = ?", (consumer_id,))
    return cur.rowcount > 0


def setting(tx: Tx, name: str) -> Any:
    """The stored document `name` (e.g. "syncSettings"), None if never written."""
    row = tx.conn.execute("SELECT body FROM client_settings WHERE name = ?", (name,)).fetchone()
    return None if row is None else json.loads(row[0])


def put_setting(tx: Tx, name: str, body: Any) -> None:
    tx.conn.execute(
        "INSERT INTO client_settings (name, body) VALUES (?, ?)"
        " ON CONFLICT(name) DO UPDATE SET body = excluded.body",
        (name, dumps(body)),
    )


def delete_setting(tx: Tx, name: str) -> None:
    tx.conn.execute("DELETE FROM client_settings WHERE name = ?", (name,))
