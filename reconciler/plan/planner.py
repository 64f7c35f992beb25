"""The planner: a pure function from (desired, live, credentials) to a Plan.

No I/O happens here. The rules are the ones README.md states under "How desired
meets live"; each decision leaves a reason a reviewer can read in the plan.

Within a merchant, changes come in the order the executor must make them:
company, then connections, then authorizations, then unlinks (see
reconciler/plan/merchant.py). Merchants are ordered by name, company deletions
last (the tool's unused twins, then with --prune undeclared companies), so the
same inputs always give the same plan.

A merchant is left out of the changes for a *conflict* (which company is its
is not clear: for a person to settle in Codat or by a word in the manifest) or
a *problem* (its manifest asks what cannot be done here: a platform the account
has not enabled, a secret apply cannot read), named at its manifest position.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from reconciler.credentials import Credentials, Unverifiable
from reconciler.live.model import LiveCompany, LiveState
from reconciler.manifests.model import DesiredState, Merchant, merchant_address
from reconciler.plan import twins
from reconciler.plan.matching import CompanyMatcher, Match
from reconciler.plan.merchant import plan_merchant
from reconciler.plan.model import (
    Action,
    Cause,
    Change,
    Conflict,
    ConflictKind,
    Kind,
    Note,
    NoteKind,
    Plan,
    Problem,
    ProblemKind,
    first_few,
)


@dataclass(frozen=True, slots=True)
class PlanOptions:
    prune: bool = False
    # Only these merchants (by name) are planned; None plans every merchant.
    merchants: frozenset[str] | None = None
    # The platform keys the account can connect to (`GET /integrations`); None: not known.
    integrations: frozenset[str] | None = None
    # apply: a merchant whose authorization secret is missing is not started. plan (which
    # may run without secrets, on a fork's pull request) only notes it.
    require_secrets: bool = False


def make_plan(
    desired: DesiredState,
    live: LiveState,
    credentials: Credentials,
    options: PlanOptions = PlanOptions(),
) -> Plan:
    matcher = CompanyMatcher(desired.merchants, live)
    changes: list[Change] = []
    twin_deletes: list[Change] = []
    conflicts: list[Conflict] = []
    problems: list[Problem] = []
    notes: list[Note] = []
    claimed: set[str] = set()  # live company ids some declared merchant accounts for

    chosen = options.merchants
    planned_merchants = (
        desired.merchants if chosen is None else [m for m in desired.merchants if m.name in chosen]
    )
    for merchant in sorted(planned_merchants, key=lambda m: m.name):
        match = matcher.match(merchant)
        for company in match.companies:  # used by a plan of all merchants only
            claimed.add(company.id)
        if match.conflict is not None:
            kind = match.conflict_kind or ConflictKind.DUPLICATE_NAME
            conflicts.append(Conflict(merchant.address, match.conflict, merchant.name, kind))
            continue
        if match.company is not None and match.twins:
            twin_deletes.extend(_delete_twins(merchant, match.company, match.twins))
        notes.extend(_lookalike_notes(merchant, match))
        planned = plan_merchant(merchant, match.company, credentials, notes, prune=options.prune)
        blocked, missing = _cannot_finish(merchant, planned, credentials, options)
        notes.extend(missing)
        if blocked:
            # Started, it would stop half-way (a company without its connection);
            # reported now, it is fixed before anything is made.
            problems.extend(blocked)
        else:
            changes.extend(planned)
    changes.extend(twin_deletes)

    if options.merchants is None:
        undeclared = sorted(
            (c for c in live.companies if c.id not in claimed and c.managed),
            key=lambda c: (c.name, c.id),
        )
        if options.prune:
            changes.extend(_prune_companies(undeclared))
        elif undeclared:
            notes.append(_undeclared_note(undeclared))

    return Plan(
        changes=tuple(changes),
        conflicts=tuple(conflicts),
        notes=tuple(notes),
        problems=tuple(problems),
    )


def _cannot_finish(
    merchant: Merchant, changes: Sequence[Change], credentials: Credentials, options: PlanOptions
) -> tuple[list[Problem], list[Note]]:
    """What keeps a merchant's changes from all being carried out, known before any call,
    each named at the connection's position in its manifest: a platform Codat refuses, a
    missing secret (a problem for apply; plan, which may run without secrets on a fork's
    pull request, notes it)."""
    declared = {c.platform_key: c for c in merchant.connections}
    problems: list[Problem] = []
    notes: list[Note] = []
    for change in changes:
        key = change.platform_key or ""
        conn = declared.get(key)
        where = str(conn.location if conn is not None else merchant.location)
        creates = change.kind is Kind.CONNECTION and change.action is Action.CREATE
        if creates and options.integrations is not None and key not in options.integrations:
            problems.append(
                Problem(
                    change.address,
                    f"not started: platform key {key} is not an enabled integration of this Codat "
                    "account (GET /integrations): enable it in Codat, or correct the manifest",
                    merchant.name,
                    ProblemKind.UNKNOWN_PLATFORM,
                    where,
                )
            )
        credential = credentials.get((change.merchant, key))
        if change.action is not Action.AUTHORIZE or not (
            isinstance(credential, Unverifiable) and credential.secret_missing
        ):
            continue
        missing = f"connection {key} cannot be authorized: {credential.reason}"
        if options.require_secrets:
            problems.append(
                Problem(
                    change.address,
                    "not started: " + missing,
                    merchant.name,
                    ProblemKind.SECRET_MISSING,
                    where,
                )
            )
        else:
            notes.append(
                Note(
                    merchant.address,
                    missing + ": apply will not start this merchant until it is available",
                    NoteKind.SECRET_MISSING,
                )
            )
    return problems, notes


def _delete_twins(
    merchant: Merchant, keep: LiveCompany, twins_: Sequence[LiveCompany]
) -> list[Change]:
    """Deleting the tool's unused twins of the company that stays (plan/twins.py)."""
    reason = twins.twin_reason(keep, kept_in_use=bool(twins.signs_of_use(merchant, keep)))
    return [
        Change(
            address=merchant.address,
            action=Action.DELETE,
            kind=Kind.COMPANY,
            reason=reason,
            merchant=merchant.name,
            before={**twins.snapshot(twin), "keeps": keep.id},
            company_id=twin.id,
            cause=Cause.TWIN,
        )
        for twin in twins_
    ]


def _lookalike_notes(merchant: Merchant, match: Match) -> list[Note]:
    """Look-alikes of a merchant that has its company (or creates one beside them)."""
    if not match.lookalikes or (match.company is not None and match.company in match.lookalikes):
        return []
    listed = ", ".join(f'"{c.name}" ({c.id})' for c in sorted(match.lookalikes, key=lambda c: c.id))
    beside = (
        "onLookalike: create makes a new company beside it"
        if match.company is None
        else "this merchant's company is the one named exactly"
    )
    return [
        Note(
            merchant.address,
            f'{listed} reads the same as "{merchant.name}" (a '
            f"possible duplicate, left alone): {beside}",
            NoteKind.LOOKALIKE,
        )
    ]


def _undeclared_note(undeclared: Sequence[LiveCompany]) -> Note:
    """Without --prune they are kept, but a reviewer should know they exist."""
    n = len(undeclared)
    names = first_few([f'"{c.name}"' for c in undeclared])
    return Note(
        "",
        f"{n} managed {'company is' if n == 1 else 'companies are'} not declared in any "
        f"manifest; --prune would delete {'it' if n == 1 else 'them'}: {names}",
        NoteKind.UNDECLARED_COMPANIES,
    )


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
            cause=Cause.PRUNE,
        )
        for c in undeclared
    ]
