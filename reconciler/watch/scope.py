"""Which merchant a delivery is about, and reconciling just the merchants named.

A delivery names a company (id and name). It is a declared merchant's when the
merchant pins that company id, or, unpinned, has that name: the matching rules
of `plan` (reconciler/plan/matching.py). Anything else is not ours to touch.

The merchants deliveries named are reconciled together, from their companies
alone: one `GET /companies/{id}` each (at once, up to the parallelism), not the
listing. A plan that makes a connection reads the account's integrations too:
one merchant costs at most two reads, then the writes. The listing is read instead:
- for a burst naming more merchants than the listing has pages (a partner
  revoking every token at once): fewer calls against the rate limit;
- when a named company is not the one last matched to its merchant by name. One
  company cannot show that no other has the same name (a twin made by hand,
  which `plan` would report as a conflict and leave alone), and acting on it
  alone would send the merchant's credentials to a company that may not be its.
- when a merchant's company was deleted: it is made again only if no other company
  has its name, or one that reads the same (a look-alike made by hand), which only
  the listing shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from reconciler import engine
from reconciler.apply.executor import ApplyResult
from reconciler.codat.client import PAGE_SIZE, CodatClient
from reconciler.live.model import LiveState
from reconciler.live.reader import read_company
from reconciler.manifests.model import DesiredState
from reconciler.plan.matching import CompanyMatcher

# So few companies are read one by one, in one round at the parallelism, even where
# the listing would take fewer calls: a small account's listing is still all of it.
READ_EACH_UP_TO = 10


@dataclass(frozen=True, slots=True)
class Trigger:
    """A merchant to reconcile, and the company the latest delivery named."""

    merchant: str
    company_id: str
    deleted: bool
    # The company is the merchant's by its pin, or is the one a complete read last
    # matched to it by name, or the one this watch created for it. Otherwise (a
    # company made by hand since with the same name, one not seen yet) only the
    # listing can tell whether the name is unique.
    confirmed: bool = True


class DeclaredMerchants:
    """The declared merchants, indexed for deliveries, and which company each unpinned
    merchant was last matched to (`known`, carried over when the manifests are read again)."""

    def __init__(self, desired: DesiredState, known: dict[str, str] | None = None) -> None:
        self.desired = desired
        self.known: dict[str, str] = known if known is not None else {}
        self._pinned = {m.company_id: m.name for m in desired.merchants if m.company_id}
        self._named = {m.name for m in desired.merchants if not m.company_id}

    def trigger(self, company_id: str, company_name: str | None, deleted: bool) -> Trigger | None:
        """The reconcile a delivery about this company asks for; None if not ours."""
        pinned = self._pinned.get(company_id)
        if pinned is not None:
            return Trigger(pinned, company_id, deleted)
        if company_name not in self._named:
            return None
        confirmed = self.known.get(company_name) == company_id
        return Trigger(company_name, company_id, deleted, confirmed)

    def matched(self, planned: engine.Planned, merchants: Sequence[str] | None = None) -> None:
        """Remember the company each unpinned merchant (of `merchants`, or all) matched in a
        plan made from the complete listing; forget it where the match is a conflict."""
        matcher = CompanyMatcher(planned.desired.merchants, planned.live)
        wanted = None if merchants is None else set(merchants)
        for merchant in planned.desired.merchants:
            if merchant.company_id or (wanted is not None and merchant.name not in wanted):
                continue
            company = matcher.match(merchant).company  # None on a conflict
            if company is None:
                self.known.pop(merchant.name, None)
            else:
                self.known[merchant.name] = company.id

    def unconverged(self, planned: engine.Planned, result: ApplyResult) -> set[str]:
        """Merchants a reconcile left short of their manifests: conflicts, problems,
        failures, changes skipped or not started."""
        names = {f.change.merchant for f in result.failed}
        names.update(c.merchant for c in (*result.skipped, *result.not_started))
        names.update(planned.plan.blocked)
        # A client-wide change is no merchant's: the next full reconcile retries it.
        names.discard("")
        return names


def reconcile(
    client: CodatClient,
    desired: DesiredState,
    triggers: Sequence[Trigger],
    run: engine.PlanRun,
    *,
    parallelism: int,
    listing_calls: int,
    progress: engine.Progress = engine.SILENT,
) -> tuple[engine.Planned, bool]:
    """The plan for the merchants `triggers` name (run.merchants), from their companies,
    and whether it was made from the whole listing. `listing_calls`: what reading the
    listing would cost, as last seen."""
    gone = {t.company_id for t in triggers if t.deleted}
    listing = _reads_listing(triggers, listing_calls)
    if listing:
        listed = engine.read_live(client, progress).companies
        live = LiveState(tuple(c for c in listed if c.id not in gone))
    else:
        wanted = list(dict.fromkeys(t.company_id for t in triggers if not t.deleted))
        with ThreadPoolExecutor(max(1, min(parallelism, len(wanted)))) as pool:
            found = pool.map(lambda company_id: read_company(client, company_id), wanted)
            # None: deleted since the delivery, so planned as for company.deleted.
            live = LiveState(tuple(c for c in found if c is not None))
    return engine.plan_from_live(client, desired, live, run), listing


def _reads_listing(triggers: Sequence[Trigger], listing_calls: int) -> bool:
    companies = {t.company_id for t in triggers if not t.deleted}
    return not all(t.confirmed and not t.deleted for t in triggers) or len(companies) > max(
        READ_EACH_UP_TO, listing_calls
    )


def listing_calls(companies: int) -> int:
    """The list calls reading `companies` takes (the last, full or empty, page included)."""
    return companies // PAGE_SIZE + 1
