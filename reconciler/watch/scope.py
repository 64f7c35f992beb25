"""Which merchant a delivery is about, and reconciling that one merchant alone.

A delivery names a company (id and name). It is a declared merchant's when the
merchant pins that company id, or, unpinned, has that name: the matching rules
of `plan` (reconciler/plan/matching.py). Anything else is not ours to touch.

One merchant is reconciled from that company alone (one read, not the listing);
a deleted company is planned from a live state without it, so a merchant still
declared is made again. A plan that makes a connection reads the account's
integrations too: at most two reads, then the writes.
"""

from __future__ import annotations

from dataclasses import dataclass

from reconciler import engine
from reconciler.apply.executor import ApplyResult
from reconciler.codat.client import CodatClient
from reconciler.codat.errors import CodatAPIError, CodatError
from reconciler.live.model import LiveCompany, LiveState
from reconciler.manifests.model import DesiredState


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
    trigger: Trigger,
    run: engine.PlanRun,
    sandbox: bool,
) -> engine.Planned:
    """The plan for one merchant, from its one company."""
    live = LiveState(()) if trigger.deleted else _one_company(client, trigger.company_id)
    return engine.plan_from_live(client, desired, live, run, sandbox=sandbox)


def _one_company(client: CodatClient, company_id: str) -> LiveState:
    try:
        body = client.get_company(company_id)
    except CodatAPIError as err:
        if err.status == 404:  # deleted since the delivery: plan as for company.deleted
            return LiveState(())
        raise
    try:
        return LiveState((LiveCompany.from_api(body),))
    except ValueError as err:
        raise CodatError(f"GET /companies/{company_id}: Codat answered with {err}") from None

