"""The planner: a pure function from (desired, live, credentials) to a Plan.

No I/O happens here. The rules are the ones README.md states under "How desired
meets live"; each decision leaves a reason a reviewer can read in the plan.

Within a merchant, changes come in the order the executor must make them:
company, then connections, then authorizations, then unlinks (see
reconciler/plan/merchant.py). Merchants are ordered by name, company deletions
last, so the same inputs always give the same plan.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from reconciler.credentials import Credentials, Unverifiable
from reconciler.live.model import LiveCompany, LiveState
from reconciler.manifests.model import DesiredState, merchant_address
from reconciler.plan.matching import CompanyMatcher
from reconciler.plan.merchant import plan_merchant
from reconciler.plan.model import Action, Change, Conflict, Kind, Note, NoteKind, Plan

# How many undeclared companies a note names before "and N more".
NAMED_IN_NOTE = 5


@dataclass(frozen=True, slots=True)
class PlanOptions:
    prune: bool = False
    # Only these merchants (by name) are planned; None plans every merchant.
    targets: frozenset[str] | None = None
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
    conflicts: list[Conflict] = []
    notes: list[Note] = []
    claimed: set[str] = set()  # live company ids some declared merchant accounts for

    targets = options.targets
    planned_merchants = (desired.merchants if targets is None
                         else [m for m in desired.merchants if m.name in targets])
    for merchant in sorted(planned_merchants, key=lambda m: m.name):
        match = matcher.match(merchant)
        for company in match.companies:  # used by a plan of all merchants only
            claimed.add(company.id)
        if match.conflict is not None:
            conflicts.append(Conflict(merchant.address, match.conflict))
        else:
            planned = plan_merchant(merchant, match.company, credentials, notes,
                                    prune=options.prune)
            blocked, missing = _cannot_finish(planned, credentials, options.integrations)
            if missing and not options.require_secrets:
                notes.extend(Note(merchant.address, m + ": apply will not start this merchant "
                                  "until it is available", NoteKind.SECRET_MISSING)
                             for m in missing)
            elif missing:
                blocked.extend(missing)
            if blocked:
                # Started, it would stop half-way (a company without its connection);
                # reported now, it is fixed before anything is made.
                conflicts.append(Conflict(merchant.address, "not started: " + "; ".join(blocked)))
            else:
                changes.extend(planned)

    if options.targets is None:
        undeclared = sorted(
            (c for c in live.companies if c.id not in claimed and c.managed),
            key=lambda c: (c.name, c.id),
        )
        if options.prune:
            changes.extend(_prune_companies(undeclared))
        elif undeclared:
            notes.append(_undeclared_note(undeclared))

    return Plan(changes=tuple(changes), conflicts=tuple(conflicts), notes=tuple(notes))


def _cannot_finish(
    changes: Sequence[Change], credentials: Credentials, integrations: frozenset[str] | None
) -> tuple[list[str], list[str]]:
    """Why a merchant's changes could not all be carried out, known before any call:
    (what Codat refuses, which secrets are missing)."""
    reasons: list[str] = []
    missing: list[str] = []
    for change in changes:
        key = change.platform_key or ""
        creates = change.kind is Kind.CONNECTION and change.action is Action.CREATE
        if creates and integrations is not None and key not in integrations:
            reasons.append(
                    f"platform key {key} is not an enabled integration of this Codat account "
                    "(GET /integrations): enable it in Codat, or correct the manifest"
                )
        if change.action is Action.AUTHORIZE:
            credential = credentials.get((change.merchant, key))
            if isinstance(credential, Unverifiable) and credential.secret_missing:
                missing.append(f"connection {key} cannot be authorized: {credential.reason}")
    return reasons, missing


def _undeclared_note(undeclared: Sequence[LiveCompany]) -> Note:
    """Without --prune they are kept, but a reviewer should know they exist."""
    n = len(undeclared)
    names = ", ".join(f'"{c.name}"' for c in undeclared[:NAMED_IN_NOTE])
    more = f" and {n - NAMED_IN_NOTE} more" if n > NAMED_IN_NOTE else ""
    return Note(
        "",
        f"{n} managed {'company is' if n == 1 else 'companies are'} not declared in any "
        f"manifest; --prune would delete {'it' if n == 1 else 'them'}: {names}{more}",
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
        )
        for c in undeclared
    ]
