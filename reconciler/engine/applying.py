"""Carrying out a plan, fresh or saved.

A saved plan is checked before any change: every check that needs no call
first (target, manifests, secrets), then the live state it was made from.
"""

from __future__ import annotations

import threading
from pathlib import Path

from reconciler import credentials
from reconciler.apply.executor import ApplyResult, Executor
from reconciler.codat.client import CodatClient
from reconciler.engine.planning import Planned, read_live, with_client_settings
from reconciler.engine.progress import SILENT, Progress
from reconciler.engine.target import Target
from reconciler.manifests.loader import load
from reconciler.manifests.model import DesiredState
from reconciler.manifests.references import EnvAllowlist
from reconciler.plan import freshness, saved
from reconciler.plan.freshness import StalePlan
from reconciler.plan.saved import SavedPlan

__all__ = ["StalePlan", "apply", "open_saved_plan", "verify_saved_plan"]


def apply(
    client: CodatClient,
    planned: Planned,
    *,
    parallelism: int = 10,
    progress: Progress = SILENT,
    stop: threading.Event | None = None,
) -> ApplyResult:
    """Carry out `planned.plan`. Once `stop` is set no new change starts."""
    plan = planned.plan
    progress.start("Applying changes", len(plan.changes))
    executor = Executor(
        client,
        planned.desired,
        planned.live,
        parallelism=parallelism,
        on_change=progress.change_applied,
    )
    result = executor.run(plan, stop)
    progress.finish()
    return result


def open_saved_plan(
    plan_file: str,
    target: Target,
    *,
    here: Path | None = None,
    secret_env: EnvAllowlist | None = None,
    fingerprint_key: bytes | None = None,
) -> tuple[SavedPlan, DesiredState]:
    """Read a saved plan and check all that needs no call: the Codat it was made for,
    its manifests (`{env: NAME}` matching `secret_env`, if given), its secrets (their
    fingerprints under `fingerprint_key`, as PlanRun's). Raises StalePlan or
    ManifestErrors, changing nothing."""
    plan_saved = saved.read(plan_file)
    freshness.check_target(plan_saved, target.describe(), plan_file)
    paths, expected = freshness.manifest_paths(plan_saved, here or Path.cwd(), plan_file)
    desired = load(paths, secret_env=secret_env)
    freshness.check_manifests(desired, expected, plan_file)
    now = _credentials(desired, fingerprint_key, embedded_sandbox=target.sandbox)
    freshness.check_secrets(plan_saved.plan, desired, now, plan_file)
    return plan_saved, desired


def verify_saved_plan(
    client: CodatClient,
    plan_saved: SavedPlan,
    desired: DesiredState,
    *,
    source: str,
    fingerprint_key: bytes | None = None,
    progress: Progress = SILENT,
) -> Planned:
    """Read live state; raise StalePlan unless it is the one the plan was made from."""
    live = read_live(client, progress)
    live = with_client_settings(client, desired, live, plan_saved.merchants or ())
    if live.digest() != plan_saved.live_digest:
        now = _credentials(desired, fingerprint_key, embedded_sandbox=client.embedded_sandbox)
        raise StalePlan(freshness.stale_live_message(plan_saved, desired, live, now, source))
    return Planned(desired, live, plan_saved.plan)


def _credentials(
    desired: DesiredState, given: bytes | None, *, embedded_sandbox: bool
) -> credentials.Credentials:
    key = credentials.fingerprint_key(given, embedded_sandbox=embedded_sandbox)
    return credentials.collect(desired, key)
