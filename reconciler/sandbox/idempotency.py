"""`Idempotency-Key` on POST and PATCH, as Codat documents it.

The first response for a key is kept for 90 minutes and replayed, byte for
byte, for a repeat with the same body; another body gets 422; a repeat while
the first is still running gets 409 (also across processes sharing the SQLite
file: the claim is a row there); a 429 is never kept. The result is written in
the same transaction as the change it describes, so a response that was lost on
the wire is still replayed to the client's retry instead of repeating the change.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass

from reconciler.sandbox.clock import Clock
from reconciler.sandbox.messages import SandboxResponse
from reconciler.sandbox.store import SandboxStore, Tx, dumps

REPLAY_SECONDS = 90 * 60
# A claim this old belongs to a process that died mid-request; the key is free again.
ABANDONED_SECONDS = 300


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    body_digest: str  # stored in the `fingerprint` column, the name older files have
    state: str  # "pending" while the first request runs, then "done"
    created: float
    status: int | None
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True, slots=True)
class Outcome:
    kind: str  # "claimed", "replay", "mismatch" or "in_flight"
    record: IdempotencyRecord | None = None


def body_digest(body: bytes) -> str:
    # The same JSON re-serialised with other spacing or key order is the same body.
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, RecursionError):
        canonical = body
    return hashlib.sha256(canonical).hexdigest()


def scope(api_key: str, method: str, path: str, key: str) -> str:
    return hashlib.sha256("\n".join((api_key, method, path, key)).encode()).hexdigest()


# The rows, in the `idempotency` table (created with the others in store.py); each
# call joins the transaction it is given.


def _record(tx: Tx, scope: str) -> IdempotencyRecord | None:
    row = tx.conn.execute(
        "SELECT fingerprint, state, created, status, headers, body FROM idempotency"
        " WHERE scope = ?",
        (scope,),
    ).fetchone()
    if row is None:
        return None
    digest, state, created, status, headers, body = row
    return IdempotencyRecord(
        digest, state, created, status, json.loads(headers or "{}"), bytes(body or b"")
    )


def _claim(tx: Tx, scope: str, body_digest: str, now: float, expired: float) -> None:
    tx.conn.execute("DELETE FROM idempotency WHERE created < ?", (expired,))
    tx.conn.execute(
        "INSERT OR REPLACE INTO idempotency (scope, fingerprint, state, created)"
        " VALUES (?, ?, 'pending', ?)",
        (scope, body_digest, now),
    )


def _complete(tx: Tx, scope: str, status: int, headers: Mapping[str, str], body: bytes) -> None:
    tx.conn.execute(
        "UPDATE idempotency SET state = 'done', status = ?, headers = ?, body = ? WHERE scope = ?",
        (status, dumps(dict(headers)), body, scope),
    )


def _release(tx: Tx, scope: str) -> None:
    tx.conn.execute("DELETE FROM idempotency WHERE scope = ?", (scope,))


class IdempotencyKeys:
    def __init__(self, store: SandboxStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    def begin(self, key_scope: str, body: bytes) -> Outcome:
        now = self._clock.now()
        digest = body_digest(body)
        with self._store.write() as tx:
            record = _record(tx, key_scope)
            if record is not None and record.created > now - REPLAY_SECONDS:
                if record.body_digest != digest:
                    return Outcome("mismatch", record)
                if record.state == "done":
                    return Outcome("replay", record)
                if record.created > now - ABANDONED_SECONDS:
                    return Outcome("in_flight", record)
            _claim(tx, key_scope, digest, now, now - REPLAY_SECONDS)
        return Outcome("claimed")

    @staticmethod
    def complete(tx: Tx, key_scope: str, response: SandboxResponse) -> None:
        """Record `response` for the key inside the transaction of the change."""
        if response.status == 429:
            _release(tx, key_scope)
        else:
            _complete(tx, key_scope, response.status, response.headers, response.body)

    def release(self, key_scope: str) -> None:
        with self._store.write() as tx:
            _release(tx, key_scope)
