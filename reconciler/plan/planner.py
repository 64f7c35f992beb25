"""The planner: a pure function from (desired, live, credentials) to a Plan.

No I/O happens here. The rules are the ones README.md states under "How desired
meets live"; each decision leaves a reason a reviewer can read in the plan.

Within a merchant, changes come in the order the executor must make them:
company, then connections, then authorizations, then (for rotated credentials)
the fingerprint record. Merchants are ordered by name, prune removals last, so
the same inputs always give the same plan.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from reconciler.credentials import Credentials, Fingerprint, Unverifiable
from reconciler.live.model import (
    AUTH_TAG,
    OWNERSHIP_TAG,
    LiveCompany,
    LiveConnection,
    LiveState,
    format_auth_tag,
)
from reconciler.manifests.model import (
    DesiredConnection,
    DesiredState,
    Merchant,
    connection_address,
    merchant_address,
)
from reconciler.plan.fields import describe_field_changes
from reconciler.plan.matching import CompanyMatcher, match_connection
from reconciler.plan.model import Action, Change, Conflict, Kind, Note, Plan


@dataclass(frozen=True, slots=True)
class PlanOptions:
    prune: bool = False
    # Only these merchants (by name) are planned; None plans every merchant.
    targets: frozenset[str] | None = None


def make_plan(
    desired: DesiredState,
    live: LiveState,
    credentials: Credentials,
    options: PlanOptions = PlanOptions(),
) -> Plan:
    matcher = CompanyMatcher(desired.merchants, live)
    changes: list[Change] = []
    conflicts: list[Conflict] = []
    notes: list[Note] = []
    claimed: set[str] = set()  # live company ids some declared merchant accounts for

    for merchant in sorted(desired.merchants, key=lambda m: m.name):
        match = matcher.match(merchant)
        claimed.update(c.id for c in match.companies)
        if options.targets is not None and merchant.name not in options.targets:
            continue

        if match.conflict is not None:
            conflicts.append(Conflict(merchant.address, match.conflict))
        else:
            matched = match.company
            merchant_changes, merchant_notes = _plan_merchant(merchant, matched, credentials)
            changes.extend(merchant_changes)
            notes.extend(merchant_notes)
            if matched is not None and options.prune:
                changes.extend(_prune_connections(merchant, matched))

    if options.prune and options.targets is None:
        changes.extend(_prune_companies(c for c in live.companies if c.id not in claimed))

    return Plan(changes=tuple(changes), conflicts=tuple(conflicts), notes=tuple(notes))


def _plan_merchant(
    merchant: Merchant, company: LiveCompany | None, credentials: Credentials
) -> tuple[list[Change], list[Note]]:
    connections = sorted(merchant.connections, key=lambda c: c.platform_key)
    live_fps = company.applied_fingerprints if company else {}
    # Fingerprints to record: `early` may be written before authorizing (the
    # connection is not Linked, so it will be re-authorized whatever the tag
    # says); `late` only after a Linked connection's new credentials went through.
    early, late = dict(live_fps), dict(live_fps)
    declared_auth = {c.platform_key for c in connections if c.authorization is not None}
    for key in list(early):
        if key not in declared_auth:
            del early[key], late[key]

    conn_changes: list[Change] = []
    notes: list[Note] = []
    for conn in connections:
        live_conn = match_connection(company, conn.platform_key) if company else None
        conn_changes.extend(_plan_connection(merchant, conn, company, live_conn))
        address = connection_address(merchant.name, conn.platform_key)
        if conn.authorization is None:
            if live_conn is None or not live_conn.status_is("Linked"):
                notes.append(
                    Note(
                        address,
                        f"waiting for the merchant to authorize {conn.platform_key} "
                        "through the sync flow (no authorization declared)",
                    )
                )
            continue
        cred = credentials.get((merchant.name, conn.platform_key))
        if isinstance(cred, Fingerprint):
            late[conn.platform_key] = cred.value
            if live_conn is None or not live_conn.status_is("Linked"):
                early[conn.platform_key] = cred.value
            elif live_fps.get(conn.platform_key) != cred.value:
                known = conn.platform_key in live_fps
                conn_changes.append(
                    _authorize(
                        merchant,
                        conn,
                        company,
                        live_conn,
                        "declared credentials changed since last applied"
                        if known
                        else "credentials last applied are unknown to this tool",
                    )
                )
        elif live_conn is not None and live_conn.status_is("Linked"):
            reason = cred.reason if isinstance(cred, Unverifiable) else "no fingerprint"
            notes.append(Note(address, f"could not check for changed credentials: {reason}"))

    changes: list[Change] = []
    company_change = _plan_company(merchant, company, early)
    if company_change is not None:
        changes.append(company_change)
    changes.extend(conn_changes)
    if company is not None and late != early:
        changes.append(
            Change(
                address=merchant.address,
                action=Action.UPDATE,
                kind=Kind.COMPANY,
                reason="record fingerprints of the credentials just applied",
                merchant=merchant.name,
                before={"tags": {AUTH_TAG: company.tags.get(AUTH_TAG)}},
                after={"tags": {AUTH_TAG: format_auth_tag(late)}},
                company_id=company.id,
                body={"tags": {**_user_tags(merchant, company), **_tool_tags(late)}},
            )
        )
    return changes, notes


def _user_tags(merchant: Merchant, company: LiveCompany) -> dict[str, str]:
    # Undeclared tags are left as they are; declared ones replace the user's set.
    return merchant.tags if merchant.tags is not None else company.user_tags


def _tool_tags(fingerprints: dict[str, str]) -> dict[str, str]:
    tags = {OWNERSHIP_TAG[0]: OWNERSHIP_TAG[1]}
    if fingerprints:
        tags[AUTH_TAG] = format_auth_tag(fingerprints)
    return tags


def _plan_company(
    merchant: Merchant, company: LiveCompany | None, fingerprints: dict[str, str]
) -> Change | None:
    if company is None:
        body: dict[str, object] = {"name": merchant.name}
        if merchant.description is not None:
            body["description"] = merchant.description
        body["tags"] = {**(merchant.tags or {}), **_tool_tags(fingerprints)}
        return Change(
            address=merchant.address,
            action=Action.CREATE,
            kind=Kind.COMPANY,
            reason=f'no company named "{merchant.name}" in Codat',
            merchant=merchant.name,
            after=dict(body),
            body=body,
        )

    tags = {**_user_tags(merchant, company), **_tool_tags(fingerprints)}
    want: dict[str, object] = {"tags": tags}
    have: dict[str, object] = {"tags": company.tags}
    if merchant.description is not None:
        want["description"] = merchant.description
        have["description"] = company.description or ""  # Codat may answer null or ""
    if merchant.company_id and company.name != merchant.name:
        want["name"] = merchant.name
        have["name"] = company.name
    if want == have:
        return None
    changed = sorted(k for k in want if want[k] != have[k])
    reasons = describe_field_changes(
        {k: have[k] for k in changed}, {k: want[k] for k in changed}
    )
    if not company.managed:
        reasons.insert(0, "adopt: existing company taken under management (ownership tag)")
    return Change(
        address=merchant.address,
        action=Action.UPDATE,
        kind=Kind.COMPANY,
        reason="; ".join(reasons),
        merchant=merchant.name,
        before={k: have[k] for k in changed},
        after={k: want[k] for k in changed},
        company_id=company.id,
        body={k: want[k] for k in changed},
    )


def _plan_connection(
    merchant: Merchant,
    conn: DesiredConnection,
    company: LiveCompany | None,
    live_conn: LiveConnection | None,
) -> list[Change]:
    address = connection_address(merchant.name, conn.platform_key)
    changes: list[Change] = []
    if live_conn is None:
        changes.append(
            Change(
                address=address,
                action=Action.CREATE,
                kind=Kind.CONNECTION,
                reason=f"no active {conn.platform_key} connection"
                if company
                else "the company is new",
                merchant=merchant.name,
                after={"platformKey": conn.platform_key, "status": "PendingAuth"},
                platform_key=conn.platform_key,
                company_id=company.id if company else None,
                body={"platformKey": conn.platform_key},
            )
        )
        if conn.authorization is not None:
            changes.append(_authorize(merchant, conn, company, None, "new connection"))
    elif conn.authorization is not None and not live_conn.status_is("Linked"):
        lost = " (access lost)" if live_conn.status_is("Deauthorized") else ""
        changes.append(
            _authorize(
                merchant, conn, company, live_conn, f"connection is {live_conn.status}{lost}"
            )
        )
    return changes


def _authorize(
    merchant: Merchant,
    conn: DesiredConnection,
    company: LiveCompany | None,
    live_conn: LiveConnection | None,
    reason: str,
) -> Change:
    assert conn.authorization is not None
    return Change(
        address=connection_address(merchant.name, conn.platform_key),
        action=Action.AUTHORIZE,
        kind=Kind.CONNECTION,
        reason=reason,
        merchant=merchant.name,
        before={"status": live_conn.status} if live_conn else None,
        after={"authorization": {k: v.describe() for k, v in sorted(conn.authorization.items())}},
        platform_key=conn.platform_key,
        company_id=company.id if company else None,
        connection_id=live_conn.id if live_conn else None,
    )


def _prune_connections(merchant: Merchant, company: LiveCompany) -> list[Change]:
    if not company.managed:
        return []
    declared = {c.platform_key for c in merchant.connections}
    return [
        Change(
            address=connection_address(merchant.name, c.platform_key),
            action=Action.UNLINK,
            kind=Kind.CONNECTION,
            reason=f"{c.platform_key} is not declared (prune)",
            merchant=merchant.name,
            before={"id": c.id, "platformKey": c.platform_key, "status": c.status},
            after={"status": "Unlinked"},
            platform_key=c.platform_key,
            company_id=company.id,
            connection_id=c.id,
            body={"status": "Unlinked"},
        )
        for c in sorted(company.connections, key=lambda c: (c.platform_key, c.id))
        if c.platform_key not in declared and not c.status_is("Unlinked")
    ]


def _prune_companies(undeclared: Iterable[LiveCompany]) -> list[Change]:
    return [
        Change(
            address=merchant_address(c.name),
            action=Action.DELETE,
            kind=Kind.COMPANY,
            reason="not declared in any manifest (prune)",
            merchant=c.name,
            before={"id": c.id, "name": c.name, "connections": len(c.connections)},
            company_id=c.id,
        )
        for c in sorted(undeclared, key=lambda c: (c.name, c.id))
        if c.managed
    ]
