"""From manifests, the company listing and the per-company reads to each merchant's status.

Pure: no I/O. `companies_to_read` says which companies need the two Sync for
Commerce reads (only merchants matching exactly one company: a missing or
conflicting merchant costs nothing beyond the listing); `assess` turns what was
read into a MerchantStatus per merchant, with reasons a support person can act on.
Matching is the planner's (reconciler/plan/matching.py), so `status` and `plan`
never disagree about which company is a merchant's.
"""

from __future__ import annotations

import shlex
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from reconciler.live.model import LiveCompany, LiveState
from reconciler.manifests.model import DesiredState, Merchant
from reconciler.plan.matching import CompanyMatcher, Match, match_connection
from reconciler.readiness.model import (
    CompanyReads,
    ConnectionStatus,
    LastSync,
    MerchantStatus,
    ReadFailure,
    ReadinessState,
    SyncFlowStatus,
)

# Kinds of reasons (see MerchantStatus.waiting_kinds) not made where the reason is.
CONFLICT = "merchants match no single company (see plan)"
MISSING = "merchants have no company in Codat yet (run apply)"
UNREAD = "merchants could not be read"
SYNC_FAILED = "merchants' latest sync failed"


@dataclass(frozen=True, slots=True)
class StatusRequest:
    """Which merchants to report (None: all), and the PATHs to quote in `sync-url` advice."""

    merchants: Collection[str] | None = None
    paths: Sequence[str] = ("PATH",)


def _matches(
    desired: DesiredState, live: LiveState, request: StatusRequest
) -> list[tuple[Merchant, Match]]:
    matcher = CompanyMatcher(desired.merchants, live)
    return [
        (m, matcher.match(m))
        for m in sorted(desired.merchants, key=lambda m: m.name)
        if request.merchants is None or m.name in request.merchants
    ]


def companies_to_read(desired: DesiredState, live: LiveState, request: StatusRequest) -> list[str]:
    """Ids of the companies whose sync flow and latest sync `assess` needs, in merchant order."""
    return [
        match.company.id
        for _, match in _matches(desired, live, request)
        if match.company is not None
    ]


def assess(
    desired: DesiredState,
    live: LiveState,
    reads: Mapping[str, CompanyReads],
    request: StatusRequest = StatusRequest(),
) -> list[MerchantStatus]:
    """Every merchant requested, by name. `reads` holds an entry per `companies_to_read` id."""
    statuses = []
    for merchant, match in _matches(desired, live, request):
        company = match.company
        if match.conflict is not None:
            statuses.append(
                MerchantStatus(
                    merchant.name,
                    None,
                    ReadinessState.CONFLICT,
                    (match.conflict,),
                    waiting_kinds=(CONFLICT,),
                )
            )
        elif company is None:
            reason = f'no company named "{merchant.name}" in Codat yet: run apply to create it'
            statuses.append(
                MerchantStatus(
                    merchant.name, None, ReadinessState.MISSING, (reason,), waiting_kinds=(MISSING,)
                )
            )
        else:
            statuses.append(_one_company(merchant, company, reads[company.id], request))
    return statuses


def _one_company(
    merchant: Merchant, company: LiveCompany, reads: CompanyReads, request: StatusRequest
) -> MerchantStatus:
    connections = _connections(merchant, company)
    failures = [r for r in (reads.sync_flow, reads.last_sync) if isinstance(r, ReadFailure)]
    reasons = [(f"could not read {f.what}: {f.message}", UNREAD) for f in failures]
    reasons += _connection_reasons(merchant, connections)
    sync_flow = reads.sync_flow if isinstance(reads.sync_flow, SyncFlowStatus) else None
    last_sync = reads.last_sync if isinstance(reads.last_sync, LastSync) else None
    if sync_flow is not None and not sync_flow.done:
        reasons.append(_sync_flow_reason(merchant, sync_flow, request))
    if last_sync is not None and last_sync.failed:
        when = f" on {last_sync.minute} UTC" if last_sync.minute else ""
        reasons.append((f"the latest sync failed ({last_sync.label}){when}", SYNC_FAILED))
    state = (
        ReadinessState.ERROR
        if failures
        else ReadinessState.WAITING
        if reasons
        else ReadinessState.READY
    )
    return MerchantStatus(
        merchant.name,
        company.id,
        state,
        tuple(r for r, _ in reasons),
        connections,
        sync_flow,
        last_sync,
        tuple(k for _, k in reasons),
    )


def _connections(merchant: Merchant, company: LiveCompany) -> tuple[ConnectionStatus, ...]:
    """The declared connections (by platform key), then the company's others still active."""
    declared = sorted(c.platform_key for c in merchant.connections)
    shown = []
    for key in declared:
        live = match_connection(company, key)
        shown.append(
            ConnectionStatus(key, live.status if live else None, True, live.id if live else None)
        )
    others = sorted(
        (
            c
            for c in company.connections
            if c.platform_key not in declared and not c.status_is("Unlinked")
        ),
        key=lambda c: (c.platform_key, c.created, c.id),
    )
    shown += [ConnectionStatus(c.platform_key, c.status, False, c.id) for c in others]
    return tuple(shown)


def _connection_reasons(
    merchant: Merchant, connections: Sequence[ConnectionStatus]
) -> list[tuple[str, str]]:
    authorized = {c.platform_key for c in merchant.connections if c.authorization is not None}
    reasons = []
    for conn in connections:
        if not conn.managed or (conn.status or "").lower() == "linked":
            continue
        key, declared = conn.platform_key, conn.platform_key in authorized
        status = (conn.status or "").lower()
        if conn.status is None:
            reasons.append(
                (
                    f"connection {key} does not exist in Codat yet: run apply to create it",
                    "merchants have a declared connection Codat does not have yet (run apply)",
                )
            )
        elif status == "pendingauth" and declared:
            reasons.append(
                (
                    f"connection {key} is {conn.status}: run apply to send its "
                    "declared authorization",
                    "merchants have a connection waiting "
                    "for its declared authorization (run apply)",
                )
            )
        elif status == "pendingauth":
            reasons.append(
                (
                    f"connection {key} is {conn.status}: the merchant must authorize it "
                    "(or declare its authorization and run apply)",
                    "merchants have a connection they must authorize",
                )
            )
        elif status == "deauthorized" and declared:
            reasons.append(
                (
                    f"connection {key} is {conn.status}: run apply, or check the token",
                    "merchants have a Deauthorized connection (run apply, or check the token)",
                )
            )
        elif status == "deauthorized":
            reasons.append(
                (
                    f"connection {key} is {conn.status}: the merchant must authorize it "
                    "again (or declare its authorization and run apply)",
                    "merchants have a Deauthorized connection they must authorize again",
                )
            )
        else:
            reasons.append(
                (
                    f"connection {key} is {conn.status}, not Linked",
                    "merchants have a connection that is not Linked",
                )
            )
    return reasons


def _sync_flow_reason(
    merchant: Merchant, flow: SyncFlowStatus, request: StatusRequest
) -> tuple[str, str]:
    command = " ".join(
        [
            "codat-reconciler sync-url",
            *map(shlex.quote, request.paths),
            "--merchant",
            shlex.quote(merchant.name),
        ]
    )
    keys = merchant.sync_flow
    missing = [
        k
        for k, v in (("commerceKey", keys.commerce_key), ("accountingKey", keys.accounting_key))
        if not v
    ]
    send = f"send them `{command}`"
    if missing:
        send = f"declare its syncFlow {' and '.join(missing)}, then {send}"
    if flow.configured:
        return (
            f"the merchant has switched its sync off (configured, not enabled): {send} "
            "to switch it back on",
            "merchants have switched their sync off",
        )
    return (
        f"the merchant has not completed the sync flow: {send}",
        "merchants have not completed the sync flow",
    )
