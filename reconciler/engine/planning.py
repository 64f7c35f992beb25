"""From manifests to a Plan: load, read live state, fingerprint, plan.

Manifests are loaded offline; reading live state (and, when the plan makes
connections, the account's integrations) are the only Codat calls; the
planner itself is pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from reconciler import credentials
from reconciler.codat.client import CodatClient
from reconciler.engine.progress import SILENT, Progress
from reconciler.engine.selection import select_merchants
from reconciler.gcpause import paused_collection
from reconciler.live.client import read_client_settings
from reconciler.live.model import LiveState
from reconciler.live.reader import read_live_state
from reconciler.manifests import loader
from reconciler.manifests.model import DesiredState
from reconciler.manifests.references import EnvAllowlist
from reconciler.plan.client import plan_client
from reconciler.plan.guard import check_deletes
from reconciler.plan.model import Action, Cause, Kind, Plan
from reconciler.plan.planner import PlanOptions, make_plan


def load_manifests(
    paths: Sequence[str | Path],
    merchants: Sequence[str] = (),
    *,
    secret_env: EnvAllowlist | None = None,
) -> DesiredState:
    """Load and check manifests (ManifestErrors lists every problem); `merchants` (names
    or shell-style patterns), if given, must each match a declared merchant; `{env: NAME}`
    must match `secret_env`, if given."""
    desired = loader.load(paths, secret_env=secret_env)
    select_merchants(desired, merchants, paths=paths)
    return desired


# This process's share of a parallel parse when it reads Codat meanwhile (decoding
# pages and building the live model take it about a third of the parse).
READING_CODAT_WEIGHT = 0.6


@dataclass(slots=True)
class Loading:
    """Manifests on their way: loaded already, or (a large fleet) being parsed by other
    processes while `plan` reads Codat. Made by `start_loading`."""

    paths: Sequence[str | Path]
    desired: DesiredState | None = None
    reading: loader.Loading | None = None

    def result(self) -> DesiredState:
        if self.desired is None:
            assert self.reading is not None
            self.desired = self.reading.result()
            self.reading = None
        return self.desired


def start_loading(
    paths: Sequence[str | Path],
    merchants: Sequence[str] = (),
    exclude: Sequence[str] = (),
    *,
    secret_env: EnvAllowlist | None = None,
) -> Loading:
    """Like `load_manifests`, but a fleet large enough to parse in several processes is
    still being parsed on return, so `plan` can read Codat meanwhile. A small one is
    loaded at once, and its problems (`merchants` or `exclude` matching no declared
    merchant among them) are raised here, before anything talks to Codat."""
    reading = loader.begin(paths, secret_env=secret_env, own_weight=READING_CODAT_WEIGHT)
    if reading.in_parallel:
        return Loading(paths, reading=reading)
    desired = reading.result()
    select_merchants(desired, merchants, exclude, paths)
    return Loading(paths, desired=desired)


def read_live(client: CodatClient, progress: Progress = SILENT) -> LiveState:
    """Every company, connections embedded."""
    progress.start("Reading Codat companies", 1)
    live = read_live_state(client, on_page=progress.update)
    progress.finish()
    return live


@dataclass(frozen=True, slots=True)
class PlanRun:
    """What to plan: `prune` (with its `max_deletes` guard), only some `merchants` less
    those in `exclude` (names or shell-style patterns, each of which must match a declared
    merchant; see engine/selection.py), whether merchants whose secrets are missing
    are left out (`require_secrets`, as apply does), and the key credential fingerprints
    are made with (`fingerprint_key`, the value of CODAT_RECONCILER_KEY; without it
    the embedded sandbox uses a well-known key, and elsewhere none is made)."""

    prune: bool = False
    merchants: tuple[str, ...] = ()
    max_deletes: int | None = None
    require_secrets: bool = False
    exclude: tuple[str, ...] = ()
    fingerprint_key: bytes | None = field(default=None, repr=False)  # a secret


@dataclass(frozen=True, slots=True)
class Planned:
    """A plan and what it was made from: the manifests and the live state, and the
    names of the merchants it covers (`merchants`; () for all of them)."""

    desired: DesiredState
    live: LiveState
    plan: Plan
    merchants: tuple[str, ...] = ()


def plan(
    client: CodatClient,
    desired: DesiredState | Loading,
    run: PlanRun = PlanRun(),
    *,
    progress: Progress = SILENT,
) -> Planned:
    """Read live state and plan.

    Given manifests still `Loading`, Codat's companies are read while they are parsed
    (both take about as long for a large fleet); a manifest problem is still raised
    before any change is planned, let alone made."""
    paths: Sequence[str | Path] = desired.paths if isinstance(desired, Loading) else ()
    if isinstance(desired, Loading) and desired.desired is not None:
        desired = desired.desired
    if isinstance(desired, DesiredState):
        names = select_merchants(desired, run.merchants, run.exclude, paths)
        live = read_live(client, progress)
    else:
        with ThreadPoolExecutor(max_workers=1) as pool:
            reading = pool.submit(read_live, client, progress)
            # A manifest problem is raised first; leaving, the pool lets the read end
            # (a page per worker at most) rather than cut it mid-request.
            desired = desired.result()
            names = select_merchants(desired, run.merchants, run.exclude, paths)
            live = reading.result()
    live = with_client_settings(client, desired, live, names)
    chosen = replace(run, merchants=names, exclude=())
    return plan_from_live(client, desired, live, chosen)


def plan_from_live(
    client: CodatClient,
    desired: DesiredState,
    live: LiveState,
    run: PlanRun = PlanRun(),
) -> Planned:
    """Plan from a live state the caller read (`watch` reads one company, not all)."""
    options = PlanOptions(
        prune=run.prune,
        merchants=frozenset(run.merchants) if run.merchants else None,
        require_secrets=run.require_secrets,
    )
    key = credentials.fingerprint_key(run.fingerprint_key, embedded_sandbox=client.embedded_sandbox)
    # Fingerprints and changes hold no reference cycles, and the collector would otherwise
    # walk the whole desired and live state (millions of objects for a large fleet) for them.
    with paused_collection():
        creds = credentials.collect(desired, key, options.merchants)
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
    if desired.client is not None and live.client is not None and not run.merchants:
        client_changes, client_notes = plan_client(desired.client, live.client)
        made = replace(
            made,
            changes=(*client_changes, *made.changes),
            notes=(*client_notes, *made.notes),
        )
    return Planned(desired, live, made, run.merchants)


def with_client_settings(
    client: CodatClient, desired: DesiredState, live: LiveState, merchants: Sequence[str] = ()
) -> LiveState:
    """`live` with the client-wide settings the manifests declare, read now. A plan of
    some merchants only (`merchants`) leaves them alone, and merchant-only manifests
    make no call for them."""
    if desired.client is None or merchants:
        return live
    return replace(live, client=read_client_settings(client, desired.client))


def guard_deletes(planned: Planned, run: PlanRun) -> None:
    """The mass-deletion guard: raises when the plan deletes more than allowed. The
    tool's unused twins are deleted without --prune, under the same limit."""
    if run.prune or any(
        c.cause is Cause.TWIN or (c.kind is Kind.WEBHOOK and c.action is Action.DELETE)
        for c in planned.plan.changes
    ):
        check_deletes(
            planned.plan,
            max_deletes=run.max_deletes,
            declared_merchants=len(planned.desired.merchants),
        )
