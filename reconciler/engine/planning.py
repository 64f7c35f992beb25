"""From manifests to a Plan: load, read live state, fingerprint, plan.

Manifests are loaded offline; reading live state (and, when the plan makes
connections, the account's integrations) are the only Codat calls; the
planner itself is pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from reconciler import credentials
from reconciler.codat.client import CodatClient
from reconciler.engine.progress import SILENT, Progress
from reconciler.errors import ReconcilerError
from reconciler.live.model import LiveState
from reconciler.live.reader import read_live_state
from reconciler.manifests import loader
from reconciler.manifests.model import DesiredState
from reconciler.manifests.references import EnvAllowlist
from reconciler.plan.guard import check_deletes
from reconciler.plan.model import Action, Cause, Kind, Plan
from reconciler.plan.planner import PlanOptions, make_plan


def load_manifests(
    paths: Sequence[str | Path],
    merchants: Sequence[str] = (),
    *,
    secret_env: EnvAllowlist | None = None,
) -> DesiredState:
    """Load and check manifests (ManifestErrors lists every problem); `merchants`, if
    given, must all be declared; `{env: NAME}` must match `secret_env`, if given."""
    return _declared(loader.load(paths, secret_env=secret_env), paths, merchants)


# This process's share of a parallel parse when it reads Codat meanwhile (decoding
# pages and building the live model take it about a third of the parse).
READING_CODAT_WEIGHT = 0.6


@dataclass(slots=True)
class Loading:
    """Manifests on their way: loaded already, or (a large fleet) being parsed by other
    processes while `plan` reads Codat. Made by `start_loading`."""

    paths: Sequence[str | Path]
    merchants: Sequence[str]
    desired: DesiredState | None = None
    reading: loader.Loading | None = None

    def result(self) -> DesiredState:
        if self.desired is None:
            assert self.reading is not None
            self.desired = _declared(self.reading.result(), self.paths, self.merchants)
            self.reading = None
        return self.desired


def start_loading(
    paths: Sequence[str | Path],
    merchants: Sequence[str] = (),
    *,
    secret_env: EnvAllowlist | None = None,
) -> Loading:
    """Like `load_manifests`, but a fleet large enough to parse in several processes is
    still being parsed on return, so `plan` can read Codat meanwhile. A small one is
    loaded at once: its problems are raised here, before anything talks to Codat."""
    reading = loader.begin(paths, secret_env=secret_env, own_weight=READING_CODAT_WEIGHT)
    if reading.in_parallel:
        return Loading(paths, merchants, reading=reading)
    return Loading(paths, merchants, desired=_declared(reading.result(), paths, merchants))


def _declared(
    desired: DesiredState, paths: Sequence[str | Path], merchants: Sequence[str]
) -> DesiredState:
    declared = {m.name for m in desired.merchants}
    unknown = sorted(set(merchants) - declared)
    if unknown:
        names = ", ".join(f'"{n}"' for n in unknown)
        raise ReconcilerError(
            f"--merchant {names}: not declared in {', '.join(str(p) for p in paths)} "
            "(merchant names are the Codat company names, as written in the manifests)"
        )
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
    desired: DesiredState | Loading,
    run: PlanRun = PlanRun(),
    *,
    sandbox: bool = False,
    progress: Progress = SILENT,
) -> Planned:
    """Read live state and plan. `sandbox`: the target is the embedded sandbox, where
    fingerprints may use the well-known key when CODAT_RECONCILER_KEY is unset.

    Given manifests still `Loading`, Codat's companies are read while they are parsed
    (both take about as long for a large fleet); a manifest problem is still raised
    before any change is planned, let alone made."""
    if isinstance(desired, DesiredState):
        live = read_live(client, progress)
    elif desired.desired is not None:
        desired, live = desired.desired, read_live(client, progress)
    else:
        with ThreadPoolExecutor(max_workers=1) as pool:
            reading = pool.submit(read_live, client, progress)
            # A manifest problem is raised first; leaving, the pool lets the read end
            # (a page per worker at most) rather than cut it mid-request.
            desired = desired.result()
            live = reading.result()
    return plan_from_live(client, desired, live, run, sandbox=sandbox)


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
    creds = credentials.collect(
        desired, credentials.fingerprint_key(sandbox=sandbox), options.targets
    )
    made = make_plan(desired, live, creds, options)
    creating = {
        c.platform_key
        for c in made.changes
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
    """The mass-deletion guard: raises when the plan deletes more than allowed. The
    tool's unused twins are deleted without --prune, under the same limit."""
    if run.prune or any(c.cause is Cause.TWIN for c in planned.plan.changes):
        check_deletes(
            planned.plan,
            max_deletes=run.max_deletes,
            declared_merchants=len(planned.desired.merchants),
        )
