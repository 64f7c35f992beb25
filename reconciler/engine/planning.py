"""From manifests to a Plan: load, read live state, fingerprint, plan.

Manifests are loaded offline; reading live state (and, when the plan makes
connections, the account's integrations) are the only Codat calls; the
planner itself is pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from reconciler import credentials
from reconciler.codat.client import CodatClient
from reconciler.engine.progress import SILENT, Progress
from reconciler.engine.selection import select_merchants
from reconciler.live.model import LiveState
from reconciler.live.reader import read_live_state
from reconciler.manifests.loader import load
from reconciler.manifests.model import DesiredState
from reconciler.plan.guard import check_deletes
from reconciler.plan.model import Action, Kind, Plan
from reconciler.plan.planner import PlanOptions, make_plan


def load_manifests(
    paths: Sequence[str | Path], merchants: Sequence[str] = ()
) -> DesiredState:
    """Load and check manifests (ManifestErrors lists every problem); `merchants` (names
    or shell-style patterns), if given, must each match a declared merchant."""
    desired = load(paths)
    select_merchants(desired, merchants, paths=paths)
    return desired


def read_live(client: CodatClient, progress: Progress = SILENT) -> LiveState:
    """Every company, connections embedded."""
    progress.start("Reading Codat companies", 1)
    live = read_live_state(client, on_page=progress.update)
    progress.finish()
    return live


@dataclass(frozen=True, slots=True)
class PlanRun:
    """What to plan: `prune` (with its `max_deletes` guard), only some `merchants`, and
    whether merchants whose secrets are missing are left out (`require_secrets`, as
    apply does)."""

    prune: bool = False
    merchants: tuple[str, ...] = ()
    max_deletes: int | None = None
    require_secrets: bool = False


@dataclass(frozen=True, slots=True)
class Planned:
    """A plan and what it was made from: the manifests and the live state."""

    desired: DesiredState
    live: LiveState
    plan: Plan


def plan(
    client: CodatClient,
    desired: DesiredState,
    run: PlanRun = PlanRun(),
    *,
    sandbox: bool = False,
    progress: Progress = SILENT,
) -> Planned:
    """Read live state and plan. `sandbox`: the target is the embedded sandbox, where
    fingerprints may use the well-known key when CODAT_RECONCILER_KEY is unset."""
    return plan_from_live(client, desired, read_live(client, progress), run, sandbox=sandbox)


def plan_from_live(
    client: CodatClient,
    desired: DesiredState,
    live: LiveState,
    run: PlanRun = PlanRun(),
    *,
    sandbox: bool = False,
) -> Planned:
    """Plan from a live state the caller read (`watch` reads one company, not all)."""
    options = PlanOptions(
        prune=run.prune,
        targets=frozenset(run.merchants) if run.merchants else None,
        require_secrets=run.require_secrets,
    )
    creds = credentials.collect(desired, credentials.fingerprint_key(sandbox=sandbox),
                                options.targets)
    made = make_plan(desired, live, creds, options)
    creating = {
        c.platform_key for c in made.changes
        if c.kind is Kind.CONNECTION and c.action is Action.CREATE
    }
    if creating:
        # Only a plan that makes connections needs to know which it may make: one
        # more read then, none on a converged base; planned again only if one is refused.
        enabled = client.enabled_integrations()
        if not creating <= enabled:
            made = make_plan(desired, live, creds, replace(options, integrations=enabled))
    return Planned(desired, live, made)


def guard_deletes(planned: Planned, run: PlanRun) -> None:
    """The mass-deletion guard: raises when the plan deletes more than allowed."""
    if run.prune:
        check_deletes(
            planned.plan,
            max_deletes=run.max_deletes,
            declared_merchants=len(planned.desired.merchants),
        )
