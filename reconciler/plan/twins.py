"""Twins the tool made: several managed companies with one merchant's exact name.

A lost answer read back from a lagging listing, or an apply killed between its
creation and its end-of-run read, can leave two companies for one merchant, both
carrying the ownership tag. Codat cannot say which one a person relies on, so the
tool only settles what no one can have relied on (RELIABILITY.md, "Twins"):

- a twin is *used* when anything on it is more than what the tool's own creation
  leaves: a connection the tool's record does not claim, any connection that is
  not PendingAuth (authorized once, by anybody: data may have synced), or a
  description or user tags other than the manifest's;
- the one to keep is the used one; when none is used, the earliest `created`
  (then the smallest id), the rule every process computes alike;
- every other twin is deleted, each only if unused; a second used twin leaves the
  merchant a conflict for a person, as any two companies with one name are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from reconciler.live.model import AUTH_TAG, LiveCompany, parse_timestamp
from reconciler.manifests.model import Merchant
from reconciler.plan import record

_NEVER = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Resolution:
    """Which twin stays and which go; `conflict` (for a person) when that is not safe."""

    keep: LiveCompany | None
    delete: tuple[LiveCompany, ...] = ()
    conflict: str | None = None


def signs_of_use(merchant: Merchant, company: LiveCompany) -> list[str]:
    """What on `company` the tool's own creation does not explain; empty: never used."""
    claimed = record.parse(company.tags.get(AUTH_TAG))
    signs = []
    for conn in sorted(company.connections, key=lambda c: (c.platform_key, c.id)):
        if not claimed.owns(conn.platform_key):
            signs.append(f"connection {conn.platform_key} {conn.id} was not made by this tool")
        elif not conn.status_is("PendingAuth"):
            signs.append(f"connection {conn.platform_key} {conn.id} is {conn.status}")
    if (company.description or "") != (merchant.description or ""):
        signs.append("its description is not the manifest's")
    if company.user_tags != (merchant.tags or {}):
        signs.append("its tags are not the manifest's")
    return signs


def oldest(companies: Sequence[LiveCompany]) -> LiveCompany:
    return min(companies, key=lambda c: (parse_timestamp(c.created) or _NEVER, c.id))


def resolve(merchant: Merchant, twins: Sequence[LiveCompany]) -> Resolution:
    """How the twins of `merchant` (all managed, all with its exact name) are settled."""
    used = {c.id: signs_of_use(merchant, c) for c in twins}
    in_use = [c for c in twins if used[c.id]]
    if len(in_use) > 1:
        detail = "; ".join(
            f"{c.id}: {', '.join(used[c.id])}" for c in sorted(in_use, key=lambda c: c.id)
        )
        return Resolution(
            None,
            conflict=(
                f'{len(twins)} companies made by this tool are named "{merchant.name}" and '
                f"{len(in_use)} of them are in use ({detail}); the merchant is left unchanged "
                "until you pin the one to keep with companyId (and delete the other in Codat)"
            ),
        )
    keep = in_use[0] if in_use else oldest(twins)
    return Resolution(keep, tuple(sorted((c for c in twins if c is not keep), key=lambda c: c.id)))


def twin_reason(keep: LiveCompany, *, kept_in_use: bool) -> str:
    why = "the one in use" if kept_in_use else "the older"
    return (
        f"twin of {keep.id} ({why}, which stays): made by this tool for the same merchant "
        "and never used"
    )


def snapshot(company: LiveCompany) -> dict[str, Any]:
    """What the plan saw of a twin: the executor deletes it only if it still reads so."""
    return {
        "id": company.id,
        "name": company.name,
        "created": company.created,
        "description": company.description,
        "tags": dict(company.tags),
        "connections": [
            {"id": c.id, "platformKey": c.platform_key, "status": c.status}
            for c in sorted(company.connections, key=lambda c: c.id)
        ],
    }
