"""Saving a plan for `apply --plan`: the plan with all that proves it still holds
when carried out (its manifests' digests, the live state's, the Codat it was made
for); engine/applying.py reads it back and checks each."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from reconciler.engine.planning import Planned, PlanRun
from reconciler.engine.target import Target
from reconciler.plan import saved


def save_plan(
    planned: Planned,
    path: str | Path,
    *,
    paths: Sequence[str],
    run: PlanRun,
    target: Target,
    here: Path | None = None,
) -> None:
    """Write `planned` to `path` atomically. `paths`: the manifest PATHs it was planned
    from, relative to `here` (the current folder by default); `run`: how it was planned;
    `target`: the Codat it was planned against."""
    saved.write(
        saved.SavedPlan(
            plan=planned.plan,
            paths=tuple(paths),
            manifests=planned.desired.files,
            live_digest=planned.live.digest(),
            prune=run.prune,
            merchants=planned.merchants or None,
            base=str(here or Path.cwd()),
            target=target.describe(),
        ),
        path,
    )
