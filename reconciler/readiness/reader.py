"""The two Sync for Commerce reads per company, in parallel, within the client's rate limit.

Each company costs its configuration and its latest sync, nothing else (its
connections came embedded in the company listing). A read that fails is kept
as that company's ReadFailure, with Codat's correlationId in its message: one
merchant's trouble never hides the others' status.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from reconciler.codat.errors import CodatError
from reconciler.readiness.model import CompanyReads, LastSync, ReadFailure, SyncFlowStatus


class SyncReads(Protocol):
    """What reading needs of a client (CodatClient has it)."""

    def sync_configuration(self, company_id: str) -> dict[str, Any]: ...

    def latest_sync(self, company_id: str) -> dict[str, Any] | None: ...


def read_companies(
    client: SyncReads,
    company_ids: Sequence[str],
    *,
    parallelism: int = 10,
    on_company: Callable[[], None] | None = None,
) -> dict[str, CompanyReads]:
    """Both reads of every company, `parallelism` companies at a time; `on_company` per one done.

    The client's rate limiter is shared by all threads, so `--max-rate` holds
    however many run at once.
    """

    def read(company_id: str) -> tuple[str, CompanyReads]:
        reads = CompanyReads(_sync_flow(client, company_id), _last_sync(client, company_id))
        if on_company is not None:
            on_company()
        return company_id, reads

    unique = list(dict.fromkeys(company_ids))
    if not unique:
        return {}
    with ThreadPoolExecutor(max_workers=max(1, min(parallelism, len(unique)))) as pool:
        return dict(pool.map(read, unique))


def _sync_flow(client: SyncReads, company_id: str) -> SyncFlowStatus | ReadFailure:
    try:
        return SyncFlowStatus.from_api(client.sync_configuration(company_id))
    except CodatError as err:
        return ReadFailure("the sync flow configuration", str(err))


def _last_sync(client: SyncReads, company_id: str) -> LastSync | ReadFailure | None:
    try:
        body = client.latest_sync(company_id)
    except CodatError as err:
        return ReadFailure("the latest sync", str(err))
    return None if body is None else LastSync.from_api(body)
