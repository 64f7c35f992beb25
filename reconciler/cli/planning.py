"""The road from manifests to a Plan, shared by `plan` and `apply`.

Manifests are loaded (offline), live state read (the only Codat calls), secrets
turned into fingerprints, and the pure planner run on the three.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from reconciler import credentials
from reconciler.cli.progress import Reporter
from reconciler.codat.client import CodatClient
from reconciler.errors import ReconcilerError
from reconciler.live.model import LiveState
from reconciler.live.reader import read_live_state
from reconciler.manifests.loader import load
from reconciler.manifests.model import DesiredState
from reconciler.plan.guard import check_deletes
from reconciler.plan.model import Action, Kind, Plan
from reconciler.plan.planner import PlanOptions, make_plan


@dataclass(frozen=True, slots=True)
class Planned:
    """The plan, and the live state it was made from (its digest seeds the executor's keys)."""

    live: LiveState
    plan: Plan


def load_targeted(paths: Sequence[str], merchants: Sequence[str]) -> DesiredState:
    desired = load(paths)
    declared = {m.name for m in desired.merchants}
    unknown = sorted(set(merchants) - declared)
    if unknown:
        names = ", ".join(f'"{n}"' for n in unknown)
        raise ReconcilerError(
            f"--merchant {names}: not declared in {', '.join(paths)} "
            "(merchant names are the Codat company names, as written in the manifests)"
        )
    return desired


def read_live(client: CodatClient, reporter: Reporter) -> LiveState:
    reporter.start("Reading Codat companies", 1)
    live = read_live_state(client, on_page=reporter.update)
    reporter.finish()
    return live


@dataclass(frozen=True, slots=True)
class PlanRequest:
    """What `plan` and `apply` were asked to plan, from their shared options."""

    desired: DesiredState
    prune: bool
    merchants: tuple[str, ...]
    max_deletes: int | None
    # apply: merchants whose secrets are missing are not started (see PlanOptions).
    require_secrets: bool = False


def plan_from(
    client: CodatClient, request: PlanRequest, *, sandbox: bool, reporter: Reporter
) -> Planned:
    desired = request.desired
    live = read_live(client, reporter)
    targets = frozenset(request.merchants) if request.merchants else None
    options = PlanOptions(
        prune=request.prune, targets=targets, require_secrets=request.require_secrets
    )
    key = credentials.fingerprint_key(sandbox=sandbox)
    creds = credentials.collect(desired, key)
    plan = make_plan(desired, live, creds, options)
    if any(c.kind is Kind.CONNECTION and c.action is Action.CREATE for c in plan.changes):
        # Only a plan that makes connections needs to know which it may make: one
        # more read then, none on a converged base.
        options = replace(options, integrations=client.enabled_integrations())
        plan = make_plan(desired, live, creds, options)
    return Planned(live, plan)


def guard_deletes(plan: Plan, request: PlanRequest) -> None:
    """The mass-deletion guard, once the plan is shown: a refused plan is still one a
    reviewer should see, to tell a wrong path from an intended clean-up."""
    if request.prune:
        check_deletes(
            plan, max_deletes=request.max_deletes, declared_merchants=len(request.desired.merchants)
        )
