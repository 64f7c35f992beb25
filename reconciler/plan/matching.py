"""How a declared merchant finds its live company, and a declared connection its live one.

One set of rules for every command that relates manifests to Codat (`plan`,
`apply`, `status`), as README.md states them under "How desired meets live":
a merchant matches by its pinned `companyId`, else by its exact name among the
companies no other merchant pins; a connection matches by `platformKey`,
preferring Linked, then PendingAuth, then Deauthorized (Unlinked counts as gone).

Beyond the exact name, a company whose name reads the same (whitespace at the
ends, runs of spaces or tabs, letter case) is a possible duplicate made by hand:
with no exactly named company, the merchant is a conflict until its manifest
pins a company or says `onLookalike: adopt` or `create`. Several companies with
the exact name are a conflict too, unless all are the tool's own twins and at
most one of them was ever used (reconciler/plan/twins.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from reconciler.live.model import STATUS_PREFERENCE, LiveCompany, LiveConnection, LiveState
from reconciler.manifests.model import Merchant
from reconciler.manifests.names import lookalike
from reconciler.plan import twins
from reconciler.plan.model import ConflictKind


@dataclass(frozen=True, slots=True)
class Match:
    """What a merchant matches: the company to manage (None: none yet, or a conflict),
    every live company accounted to it, twins of the tool's own to delete, and live
    look-alikes left alone."""

    companies: tuple[LiveCompany, ...]
    company: LiveCompany | None = None
    conflict: str | None = None  # for a person: what is wrong and how to resolve it
    conflict_kind: ConflictKind | None = None
    twins: tuple[LiveCompany, ...] = ()  # the tool's twins of `company`, never used
    lookalikes: tuple[LiveCompany, ...] = ()  # read the same, not the same name

    @classmethod
    def blocked(cls, companies: tuple[LiveCompany, ...], kind: ConflictKind, message: str) -> Match:
        return cls(companies, None, message, kind)


def lookalike_key(name: str) -> str:
    """The form two names share when they read the same, whatever the letter case."""
    return lookalike(name).casefold()


class CompanyMatcher:
    """Matches merchants against one live state (indexes built once, for thousands)."""

    def __init__(self, merchants: Iterable[Merchant], live: LiveState) -> None:
        self._by_id = {c.id: c for c in live.companies}
        # A pinned company belongs to its merchant, even if another merchant has its name:
        # it is left out of the names index once here, not filtered out on every match.
        merchants = tuple(merchants)
        pinned = {m.company_id for m in merchants if m.company_id}
        declared = {m.name for m in merchants if not m.company_id}
        self._by_name: dict[str, list[LiveCompany]] = defaultdict(list)
        # Look-alikes by their common form; a company another merchant is named
        # exactly is that merchant's, not anybody's look-alike.
        self._by_form: dict[str, list[LiveCompany]] = defaultdict(list)
        for company in live.companies:
            if company.id in pinned:
                continue
            self._by_name[company.name].append(company)
            if company.name not in declared:
                self._by_form[lookalike_key(company.name)].append(company)

    def match(self, merchant: Merchant) -> Match:
        if merchant.company_id:
            pinned = self._by_id.get(merchant.company_id)
            if pinned is None:
                return Match.blocked(
                    (),
                    ConflictKind.PINNED_MISSING,
                    f"pinned companyId {merchant.company_id} does not exist in Codat; "
                    "remove the pin to create the company, or fix the id",
                )
            return Match((pinned,), pinned)
        named = tuple(self._by_name.get(merchant.name, ()))
        alike = tuple(self._by_form.get(lookalike_key(merchant.name), ()))
        if len(named) > 1:
            return _several(merchant, named, alike)
        if named:
            return Match(named, named[0], lookalikes=alike)
        if not alike or merchant.on_lookalike == "create":
            return Match((), lookalikes=alike)
        listed = ", ".join(f'"{c.name}" ({c.id})' for c in sorted(alike, key=lambda c: c.id))
        if merchant.on_lookalike == "adopt" and len(alike) == 1:
            return Match(alike, alike[0])
        if merchant.on_lookalike == "adopt":
            return Match.blocked(
                alike,
                ConflictKind.LOOKALIKE,
                f"onLookalike: adopt, but {len(alike)} companies read the same as "
                f'"{merchant.name}": {listed}; pin the one to adopt with companyId',
            )
        return Match.blocked(
            alike,
            ConflictKind.LOOKALIKE,
            f'no company is named "{merchant.name}", but {listed} reads the same (a possible '
            "duplicate made by hand); apply will not create beside it until you pin it with "
            "companyId, or say onLookalike: adopt (manage it, renamed to the declared name) or "
            "onLookalike: create (make a new company)",
        )


def _several(
    merchant: Merchant, named: tuple[LiveCompany, ...], alike: tuple[LiveCompany, ...]
) -> Match:
    """Several companies have the merchant's exact name: the tool's own twins are settled
    (reconciler/plan/twins.py); any other is for a person."""
    ids = ", ".join(sorted(c.id for c in named))
    if not all(c.managed for c in named):
        return Match.blocked(
            named,
            ConflictKind.DUPLICATE_NAME,
            f'{len(named)} companies are named "{merchant.name}" (ids: {ids}); '
            "the merchant is left unchanged until you pin one with companyId",
        )
    resolution = twins.resolve(merchant, named)
    if resolution.keep is None:
        return Match.blocked(named, ConflictKind.TWINS_IN_USE, resolution.conflict or "")
    return Match(named, resolution.keep, twins=resolution.delete, lookalikes=alike)


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
