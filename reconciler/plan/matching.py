"""How a declared merchant finds its live company, and a declared connection its live one.

One set of rules for every command that relates manifests to Codat (`plan`,
`apply`, `status`), as README.md states them under "How desired meets live":
a merchant matches by its pinned `companyId`, else by its exact name among the
companies no other merchant pins; a connection matches by `platformKey`,
preferring Linked, then PendingAuth, then Deauthorized (Unlinked counts as gone).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from reconciler.live.model import STATUS_PREFERENCE, LiveCompany, LiveConnection, LiveState
from reconciler.manifests.model import Merchant


@dataclass(frozen=True, slots=True)
class Match:
    """The live companies a merchant matches, and why that is not one to manage, if so."""

    companies: tuple[LiveCompany, ...]
    conflict: str | None = None  # for a person: what is wrong and how to resolve it

    @property
    def company(self) -> LiveCompany | None:
        """The one company to manage; None when there is none yet or a conflict."""
        if self.conflict is None and len(self.companies) == 1:
            return self.companies[0]
        return None


class CompanyMatcher:
    """Matches merchants against one live state (indexes built once, for thousands)."""

    def __init__(self, merchants: Iterable[Merchant], live: LiveState) -> None:
        self._by_id = {c.id: c for c in live.companies}
        # A pinned company belongs to its merchant, even if another merchant has its name:
        # it is left out of the names index once here, not filtered out on every match.
        pinned = {m.company_id for m in merchants if m.company_id}
        self._by_name: dict[str, list[LiveCompany]] = defaultdict(list)
        for company in live.companies:
            if company.id not in pinned:
                self._by_name[company.name].append(company)

    def match(self, merchant: Merchant) -> Match:
        if merchant.company_id:
            pinned = self._by_id.get(merchant.company_id)
            if pinned is None:
                return Match(
                    (),
                    f"pinned companyId {merchant.company_id} does not exist in Codat; "
                    "remove the pin to create the company, or fix the id",
                )
            return Match((pinned,))
        named = tuple(self._by_name.get(merchant.name, ()))
        if len(named) > 1:
            ids = ", ".join(sorted(c.id for c in named))
            return Match(
                named,
                f'{len(named)} companies are named "{merchant.name}" (ids: {ids}); '
                "the merchant is left unchanged until you pin one with companyId",
            )
        return Match(named)


def match_connection(company: LiveCompany, platform_key: str) -> LiveConnection | None:
    """The company's connection a declared `platform_key` stands for, if any is active."""
    candidates = [
        c
        for c in company.connections
        if c.platform_key == platform_key and c.status.lower() in STATUS_PREFERENCE
    ]
    if len(candidates) < 2:  # the usual case: nothing to rank
        return candidates[0] if candidates else None
    return min(candidates, key=lambda c: (STATUS_PREFERENCE[c.status.lower()], c.created, c.id))
