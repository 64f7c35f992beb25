"""Which merchant a delivery is about, and reconciling just the merchants named.

A delivery names a company (id and name). It is a declared merchant's when the
merchant pins that company id, or, unpinned, has that name: the matching rules
of `plan` (reconciler/plan/matching.py). Anything else is not ours to touch.

The merchants deliveries named are reconciled together, from their companies
alone: one `GET /companies/{id}` each (at once, up to the parallelism), not the
listing; a deleted company is planned from a live state without it, so a
merchant still declared is made again. A plan that makes a connection reads the
account's integrations too: one merchant costs at most two reads, then the
writes. A burst naming more merchants than the listing has pages (a partner
revoking every token at once) reads the listing instead: fewer calls against
the rate limit, and the same plan.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from reconciler import engine
from reconciler.apply.executor import ApplyResult
from reconciler.codat.client import PAGE_SIZE, CodatClient
from reconciler.codat.errors import CodatAPIError, CodatError
from reconciler.live.model import LiveCompany, LiveState
from reconciler.manifests.model import DesiredState

# So few companies are read one by one, in one round at the parallelism, even where
# the listing would take fewer calls: a small account's listing is still all of it.
READ_EACH_UP_TO = 10


@dataclass(frozen=True, slots=True)
class Trigger:
    """A merchant to reconcile, and the company the latest delivery named."""

    merchant: str
    company_id: str
    deleted: bool


class Scope:
    """The declared merchants, indexed for deliveries."""

    def __init__(self, desired: DesiredState) -> None:
        self.desired = desired
        self._pinned = {m.company_id: m.name for m in desired.merchants if m.company_id}
        self._named = {m.name for m in desired.merchants if not m.company_id}
        self._by_address = {m.address: m.name for m in desired.merchants}

    def merchant_for(self, company_id: str, company_name: str | None) -> str | None:
        pinned = self._pinned.get(company_id)
        if pinned is not None:
            return pinned
        return company_name if company_name in self._named else None

    def unconverged(self, planned: engine.Planned, result: ApplyResult) -> set[str]:
        """Merchants a reconcile left short of their manifests: conflicts, failures,
        changes skipped or not started."""
        names = {f.change.merchant for f in result.failed}
        names.update(c.merchant for c in (*result.skipped, *result.not_started))
        for conflict in planned.plan.conflicts:
            merchant = self._by_address.get(conflict.address.partition(".connection[")[0])
            if merchant is not None:
                names.add(merchant)
        return names


def reconcile(
    client: CodatClient,
    desired: DesiredState,
    triggers: Sequence[Trigger],
    run: engine.PlanRun,
    *,
    sandbox: bool,
    parallelism: int,
    listing_calls: int,
    progress: engine.Progress = engine.SILENT,
) -> engine.Planned:
    """The plan for the merchants `triggers` name (run.merchants), from their companies.
    `listing_calls`: what reading the whole listing would cost, as last seen."""
    gone = {t.company_id for t in triggers if t.deleted}
    wanted = list(dict.fromkeys(t.company_id for t in triggers if t.company_id not in gone))
    if len(wanted) > max(READ_EACH_UP_TO, listing_calls):
        listed = engine.read_live(client, progress).companies
        live = LiveState(tuple(c for c in listed if c.id not in gone))
    else:
        with ThreadPoolExecutor(max(1, min(parallelism, len(wanted)))) as pool:
            found = pool.map(lambda company_id: _one_company(client, company_id), wanted)
            live = LiveState(tuple(c for c in found if c is not None))
    return engine.plan_from_live(client, desired, live, run, sandbox=sandbox)


def listing_calls(companies: int) -> int:
    """The list calls reading `companies` takes (the last, full or empty, page included)."""
    return companies // PAGE_SIZE + 1


def _one_company(client: CodatClient, company_id: str) -> LiveCompany | None:
    try:
        body = client.get_company(company_id)
    except CodatAPIError as err:
        if err.status == 404:  # deleted since the delivery: plan as for company.deleted
            return None
        raise
    try:
        return LiveCompany.from_api(body)
    except ValueError as err:
        raise CodatError(f"GET /companies/{company_id}: Codat answered with {err}") from None
