"""`status`: which declared merchants can sync, and what each is waiting for."""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.codat.client import CodatClient
from reconciler.engine.planning import read_live
from reconciler.engine.progress import SILENT, Progress
from reconciler.manifests.model import DesiredState
from reconciler.readiness.assess import StatusRequest, assess, companies_to_read
from reconciler.readiness.model import MerchantStatus
from reconciler.readiness.reader import read_companies


def status(
    client: CodatClient,
    desired: DesiredState,
    *,
    merchants: Sequence[str] = (),
    paths: Sequence[str] = (),
    parallelism: int = 10,
    progress: Progress = SILENT,
) -> list[MerchantStatus]:
    """One company listing, then the two sync reads per merchant that has a company.
    `paths` only words the advice given (the sync-url command to send)."""
    request = StatusRequest(frozenset(merchants) if merchants else None, tuple(paths))
    live = read_live(client, progress)
    company_ids = companies_to_read(desired, live, request)
    progress.start("Reading the merchants' sync status", len(company_ids))
    reads = read_companies(
        client, company_ids, parallelism=parallelism, on_company=progress.advance
    )
    progress.finish()
    return assess(desired, live, reads, request)
