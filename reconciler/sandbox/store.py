"""The sandbox's world in one SQLite file.

WAL mode lets readers run beside one writer; every change runs inside
`BEGIN IMMEDIATE ... COMMIT`, so a process killed mid-request leaves either the
whole change or none of it, and several processes can share the file (the
`plan`, `apply`, `plan` sequence of separate CLI runs, or a server next to them).
Company and connection bodies are stored as finished JSON text: serving a page of
5,000 companies is a join of strings, not 5,000 `json.dumps`.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from reconciler.sandbox.resources import IntegrationCatalogue, with_connections

_SCHEMA = """
CREATE TABLE IF NOT EXISTS companies (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    description TEXT,
    tags TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS companies_name ON companies(name);
CREATE TABLE IF NOT EXISTS connections (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    company_id TEXT NOT NULL,
    integration_key TEXT NOT NULL,
    status TEXT NOT NULL,
    authorizations INTEGER NOT NULL DEFAULT 0,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS connections_company ON connections(company_id, seq);
CREATE TABLE IF NOT EXISTS idempotency (
    scope TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    state TEXT NOT NULL,
    created REAL NOT NULL,
    status INTEGER,
    headers TEXT,
    body BLOB
);
CREATE INDEX IF NOT EXISTS idempotency_created ON idempotency(created);
CREATE TABLE IF NOT EXISTS commerce_configs (
    company_id TEXT PRIMARY KEY,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS commerce_syncs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    company_id TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS commerce_syncs_company ON commerce_syncs(company_id, seq);
CREATE TABLE IF NOT EXISTS webhook_consumers (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS client_settings (
    name TEXT PRIMARY KEY,
    body TEXT NOT NULL
);
"""
# Every statement is IF NOT EXISTS: opening a file made by an older sandbox adds
# what it lacks and leaves its data alone.

_COMPACT = {"separators": (",", ":"), "ensure_ascii": False}


def dumps(value: Any) -> str:
    return json.dumps(value, **_COMPACT)  # type: ignore[arg-type]


class Tx:
    """One transaction's view of the world; obtained from `SandboxStore.read/write`."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._on_commit: list[Callable[[], None]] = []

    def on_commit(self, action: Callable[[], None]) -> None:
        """Run `action` once this transaction has committed; never if it rolls back."""
        self._on_commit.append(action)

    # -- companies -------------------------------------------------------------

    def company(self, company_id: str) -> dict[str, Any] | None:
        row = self.conn.execute("SELECT body FROM companies WHERE id = ?", (company_id,)).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def company_json(self, company_id: str) -> str | None:
        row = self.conn.execute("SELECT body FROM companies WHERE id = ?", (company_id,)).fetchone()
        if row is None:
            return None
        conns = self.conn.execute(
            "SELECT body FROM connections WHERE company_id = ? ORDER BY seq", (company_id,)
        )
        return with_connections(row[0], (c[0] for c in conns))

    def page_companies(
        self, where: str, params: list[str], offset: int, limit: int
    ) -> tuple[int, list[str]]:
        """(total matching, this page's company bodies with their connections)."""
        total = self.conn.execute(f"SELECT count(*) FROM companies WHERE {where}", params)
        count = int(total.fetchone()[0])
        page_sql = f"SELECT id FROM companies WHERE {where} ORDER BY seq LIMIT ? OFFSET ?"
        rows = self.conn.execute(
            f"SELECT id, body FROM companies WHERE id IN ({page_sql}) ORDER BY seq",
            [*params, limit, offset],
        ).fetchall()
        by_company: dict[str, list[str]] = {company_id: [] for company_id, _ in rows}
        conns = self.conn.execute(
            f"SELECT company_id, body FROM connections WHERE company_id IN ({page_sql})"
            " ORDER BY seq",
            [*params, limit, offset],
        )
        for company_id, body in conns:
            by_company[company_id].append(body)
        return count, [with_connections(body, by_company[cid]) for cid, body in rows]

    def put_company(self, body: Mapping[str, Any]) -> None:
        """Insert or replace a company body (connections live in their own table)."""
        self.conn.execute(
            "INSERT INTO companies (id, name, description, tags, body) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT(id) DO UPDATE SET name = excluded.name,"
            " description = excluded.description, tags = excluded.tags, body = excluded.body",
            company_row(body),
        )

    def delete_company(self, company_id: str) -> bool:
        # Its parts first, then the company: all inside this one transaction.
        for table in ("connections", "commerce_configs", "commerce_syncs"):
            self.conn.execute(f"DELETE FROM {table} WHERE company_id = ?", (company_id,))
        cur = self.conn.execute("DELETE FROM companies WHERE id = ?", (company_id,))
        return cur.rowcount > 0

    # -- connections -----------------------------------------------------------

    def connection(self, company_id: str, connection_id: str) -> dict[str, Any] | None:
        row = self.conn.execute(
            "SELECT body FROM connections WHERE id = ? AND company_id = ?",
            (connection_id, company_id),
        ).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def page_connections(
        self, company_id: str, where: str, params: list[str], offset: int, limit: int
    ) -> tuple[int, list[str]]:
        scope = f"company_id = ? AND ({where})"
        args: list[Any] = [company_id, *params]
        total = self.conn.execute(f"SELECT count(*) FROM connections WHERE {scope}", args)
        count = int(total.fetchone()[0])
        rows = self.conn.execute(
            f"SELECT body FROM connections WHERE {scope} ORDER BY seq LIMIT ? OFFSET ?",
            [*args, limit, offset],
        )
        return count, [r[0] for r in rows]

    def put_connection(self, company_id: str, body: Mapping[str, Any]) -> None:
        self.conn.execute(
            "INSERT INTO connections (id, company_id, integration_key, status, body)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET"
            " status = excluded.status, body = excluded.body",
            (body["id"], company_id, body["integrationKey"], body["status"], dumps(body)),
        )

    def count_authorization(self, connection_id: str) -> None:
        # A count only: the sandbox, like Codat, never keeps authorization values.
        self.conn.execute(
            "UPDATE connections SET authorizations = authorizations + 1 WHERE id = ?",
            (connection_id,),
        )

    def authorizations(self, connection_id: str) -> int:
        row = self.conn.execute(
            "SELECT authorizations FROM connections WHERE id = ?", (connection_id,)
        ).fetchone()
        return 0 if row is None else int(row[0])

    def delete_connection(self, company_id: str, connection_id: str) -> bool:
        cur = self.conn.execute(
            "DELETE FROM connections WHERE id = ? AND company_id = ?", (connection_id, company_id)
        )
        return cur.rowcount > 0


def company_row(body: Mapping[str, Any]) -> tuple[str, str, str | None, str, str]:
    return (body["id"], body["name"], body.get("description"), dumps(body["tags"]), dumps(body))


class SandboxStore:
    """The SQLite file, with a small pool of connections shared by threads."""

    def __init__(self, path: str | Path, busy_timeout_ms: int = 30_000) -> None:
        self.path = Path(path)
        self._busy_timeout_ms = busy_timeout_ms
        self._idle: list[sqlite3.Connection] = []
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        with self.write() as tx:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    tx.conn.execute(statement)

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
        conn.execute("PRAGMA journal_mode = WAL")
        # NORMAL in WAL mode is safe against a process crash (only power loss can
        # drop the last commits), and avoids an fsync per request.
        conn.execute("PRAGMA synchronous = NORMAL")
        with self._lock:
            self._all.append(conn)
        return conn

    @contextmanager
    def _transaction(self, begin: str) -> Iterator[Tx]:
        with self._lock:
            conn = self._idle.pop() if self._idle else None
        if conn is None:
            conn = self._open()
        tx = Tx(conn)
        try:
            conn.execute(begin)
            try:
                yield tx
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        finally:
            if not conn.in_transaction:
                with self._lock:
                    self._idle.append(conn)
        for action in tx._on_commit:
            action()

    def write(self) -> AbstractContextManager[Tx]:
        """A write transaction: all of it is committed, or none of it."""
        return self._transaction("BEGIN IMMEDIATE")

    def read(self) -> AbstractContextManager[Tx]:
        """A consistent snapshot for reads that take several statements."""
        return self._transaction("BEGIN")

    def seed(
        self,
        companies: Iterable[Mapping[str, Any]],
        integrations: IntegrationCatalogue | None = None,
    ) -> list[str]:
        """Bulk-create companies (and their connections) in one transaction; returns ids.

        Each item: `name`, optional `id`, `description`, `tags`, and `connections`,
        a list of `{"platformKey": ..., "status": ...}` (status defaults to Linked).
        Meant for tests and benchmarks that need thousands of existing companies:
        Codat's rules (one active accounting connection, ...) are not applied.
        """
        # Imported here: seeding builds its rows with this module's helpers.
        from reconciler.sandbox.seeding import seed

        return seed(self, companies, integrations or IntegrationCatalogue())

    def close(self) -> None:
        with self._lock:
            conns, self._all, self._idle = self._all, [], []
        for conn in conns:
            conn.close()
