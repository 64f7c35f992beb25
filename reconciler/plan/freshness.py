"""Is a saved plan still the one to carry out?

`apply --plan FILE` carries out exactly what was reviewed, so it refuses, before
any change, a plan that no longer fits the world: made for another Codat, from
manifests that changed or are not where they were, with secrets that changed
since (their new values would be sent under the old fingerprint, and the next
plan would say "No changes" while Codat holds another secret), or against a
live state that moved on. Each refusal says which, and what to do.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from reconciler.credentials import KEY_ENV, Credentials, Unverifiable
from reconciler.errors import ReconcilerError
from reconciler.live.model import AUTH_TAG, LiveState
from reconciler.manifests.model import DesiredConnection, DesiredState, SecretRef
from reconciler.plan import record
from reconciler.plan.client import plan_client
from reconciler.plan.model import Action, Change, Kind, Plan
from reconciler.plan.planner import PlanOptions, make_plan
from reconciler.plan.saved import SavedPlan

REFUSED = "nothing was changed"


class StalePlan(ReconcilerError):
    pass


def check_target(saved: SavedPlan, target: str, source: str) -> None:
    if saved.target is not None and saved.target != target:
        raise StalePlan(
            f"{source}: this plan was made for {saved.target}, not {target}; {REFUSED}. "
            "Apply it against the Codat it was made for, or make a new plan."
        )


def manifest_paths(
    saved: SavedPlan, here: Path, source: str
) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """The manifest paths to load, and the (file, sha256) list they must give.

    Paths are read where the plan was made (its `base` folder) when they are still
    there, else relative to `here` (the same repository checked out elsewhere)."""
    if saved.base is not None and Path(saved.base) != here:
        base = Path(saved.base)
        if all((base / p).exists() for p in saved.paths):
            return (
                tuple(str(base / p) for p in saved.paths),
                tuple((str(base / name), digest) for name, digest in saved.manifests),
            )
    if not all((here / p).exists() for p in saved.paths):
        where = f" ({saved.base})" if saved.base else ""
        raise StalePlan(
            f"{source}: the manifests this plan was made from ({', '.join(saved.paths)}) are not "
            f"here; run apply --plan from the folder the plan was made in{where}, or make "
            f"a new plan; {REFUSED}"
        )
    return saved.paths, saved.manifests


def check_manifests(
    desired: DesiredState, expected: Sequence[tuple[str, str]], source: str
) -> None:
    if tuple(desired.files) != tuple(expected):
        raise StalePlan(
            f"{source}: the manifests changed since this plan was made; {REFUSED}. Make a new plan."
        )


def check_secrets(plan: Plan, desired: DesiredState, now: Credentials, source: str) -> None:
    """Refuse the plan when a secret it authorizes with is not the one it was made with."""
    planned = _planned_fingerprints(plan.changes)
    declared = {(m.name, c.platform_key): c for m in desired.merchants for c in m.connections}
    problems: list[str] = []
    for change in plan.changes:
        where = (change.merchant, change.platform_key or "")
        if change.action is not Action.AUTHORIZE or where not in planned:
            continue  # nothing recorded at plan time to compare with
        fingerprint, key_id = planned[where]
        current = now.get(where)
        if current is None or isinstance(current, Unverifiable):
            why = current.reason if current is not None else "no declared authorization"
            problems.append(f"{change.address}: cannot check its secrets against the plan: {why}")
        elif key_id and current.key_id and key_id != current.key_id:
            problems.append(f"{change.address}: {KEY_ENV} changed since this plan was made")
        elif current.value != fingerprint:
            problems.append(
                f"{change.address}: {_secrets(declared.get(where))} changed since this plan "
                "was made: make a new plan"
            )
    if problems:
        listed = "\n  ".join(problems)
        raise StalePlan(f"{source}: refusing the whole plan; {REFUSED}:\n  {listed}")


def stale_live_message(
    saved: SavedPlan, desired: DesiredState, live: LiveState, now: Credentials, source: str
) -> str:
    """Why a plan whose live state digest differs is refused: applied already, or overtaken."""
    merchants = frozenset(saved.merchants) if saved.merchants is not None else None
    fresh = make_plan(desired, live, now, PlanOptions(prune=saved.prune, merchants=merchants))
    client_changes = (
        plan_client(desired.client, live.client)[0]
        if desired.client is not None and live.client is not None
        else []
    )
    if not fresh.has_changes and not fresh.blocked and not client_changes:
        return (
            f"{source}: this plan was already applied: Codat matches the manifests it was "
            f"made from; {REFUSED}."
        )
    return (
        f"{source}: Codat changed since this plan was made (live state digest differs); "
        f"{REFUSED}. Make a new plan and review it again."
    )


def _planned_fingerprints(changes: Sequence[Change]) -> dict[tuple[str, str], tuple[str, str]]:
    """(merchant, platform key) -> (fingerprint, key id) the plan records for it, from the
    last record each merchant's changes write."""
    latest: dict[str, record.Record] = {}
    for change in changes:
        # A company's own body, and any change's follow-up record, may write tags.
        bodies = (change.body if change.kind is Kind.COMPANY else None, change.record)
        for body in bodies:
            if body is not None and isinstance(body.get("tags"), dict):
                latest[change.merchant] = record.parse(body["tags"].get(AUTH_TAG))
    return {
        (merchant, key): (value, rec.key_id or "")
        for merchant, rec in latest.items()
        for key, value in rec.entries.items()
        if value is not None
    }


def _secrets(conn: DesiredConnection | None) -> str:
    values = (conn.authorization or {}).values() if conn is not None else ()
    refs = sorted(f"{v.kind} {v.name}" for v in values if isinstance(v, SecretRef))
    if len(refs) == 1:
        return f"the secret {refs[0]}"
    if refs:
        return f"one of the secrets {', '.join(refs)}"
    return "the declared credentials"
