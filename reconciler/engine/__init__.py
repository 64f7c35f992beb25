"""The engine as a Python API: every command is a thin shell over these calls.

    from reconciler import engine

    desired = engine.load_manifests(["manifests/"])
    with engine.connect(engine.Target.embedded_sandbox("world.sqlite")) as client:
        planned = engine.plan(client, desired)
        print(engine.render(planned.plan, "text"))
        result = engine.apply(client, planned)

Errors are ReconcilerError subclasses with messages for people (ManifestErrors
with file:line:column, CodatError with the call and correlationId, StalePlan).
Progress goes to an optional `progress` object (see engine.progress.Progress);
`apply` takes a `stop` event: once set, no new change starts. The engine reads no
environment variable: the fingerprint key is PlanRun's `fingerprint_key`, and the
embedded sandbox, which holds no real credentials, uses a well-known one without it.

Each name is imported from its module when first used, so a command loads only the
parts it calls (`plan` never loads the apply executor, the watch service or the
readiness readers).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reconciler.lazy_names import importer

if TYPE_CHECKING:
    from reconciler.apply.executor import ApplyResult, Failure
    from reconciler.codat.client import CodatClient
    from reconciler.engine.applying import StalePlan, apply, open_saved_plan, verify_saved_plan
    from reconciler.engine.planning import (
        Loading,
        Planned,
        PlanRun,
        guard_deletes,
        load_manifests,
        plan,
        plan_from_live,
        read_live,
        start_loading,
    )
    from reconciler.engine.progress import SILENT, Progress
    from reconciler.engine.readiness import status
    from reconciler.engine.saving import save_plan
    from reconciler.engine.selection import select_merchants
    from reconciler.engine.sync_flow import sync_flow_url
    from reconciler.engine.target import Target, connect
    from reconciler.engine.watching import watch_service
    from reconciler.errors import ReconcilerError
    from reconciler.manifests.model import DesiredState
    from reconciler.plan.model import Action, Change, Plan
    from reconciler.readiness.model import MerchantStatus, ReadinessState
    from reconciler.render import render

_HOME = {
    "Action": "reconciler.plan.model",
    "ApplyResult": "reconciler.apply.executor",
    "Change": "reconciler.plan.model",
    "CodatClient": "reconciler.codat.client",
    "DesiredState": "reconciler.manifests.model",
    "Failure": "reconciler.apply.executor",
    "Loading": "reconciler.engine.planning",
    "MerchantStatus": "reconciler.readiness.model",
    "Plan": "reconciler.plan.model",
    "PlanRun": "reconciler.engine.planning",
    "Planned": "reconciler.engine.planning",
    "Progress": "reconciler.engine.progress",
    "ReadinessState": "reconciler.readiness.model",
    "ReconcilerError": "reconciler.errors",
    "SILENT": "reconciler.engine.progress",
    "StalePlan": "reconciler.engine.applying",
    "Target": "reconciler.engine.target",
    "apply": "reconciler.engine.applying",
    "connect": "reconciler.engine.target",
    "guard_deletes": "reconciler.engine.planning",
    "load_manifests": "reconciler.engine.planning",
    "open_saved_plan": "reconciler.engine.applying",
    "plan": "reconciler.engine.planning",
    "plan_from_live": "reconciler.engine.planning",
    "read_live": "reconciler.engine.planning",
    "render": "reconciler.render",
    "save_plan": "reconciler.engine.saving",
    "select_merchants": "reconciler.engine.selection",
    "start_loading": "reconciler.engine.planning",
    "status": "reconciler.engine.readiness",
    "sync_flow_url": "reconciler.engine.sync_flow",
    "verify_saved_plan": "reconciler.engine.applying",
    "watch_service": "reconciler.engine.watching",
}

__all__ = [
    "SILENT",
    "Action",
    "ApplyResult",
    "Change",
    "CodatClient",
    "DesiredState",
    "Failure",
    "Loading",
    "MerchantStatus",
    "Plan",
    "PlanRun",
    "Planned",
    "Progress",
    "ReadinessState",
    "ReconcilerError",
    "StalePlan",
    "Target",
    "apply",
    "connect",
    "guard_deletes",
    "load_manifests",
    "open_saved_plan",
    "plan",
    "plan_from_live",
    "read_live",
    "render",
    "save_plan",
    "select_merchants",
    "start_loading",
    "status",
    "sync_flow_url",
    "verify_saved_plan",
    "watch_service",
]


__getattr__ = importer(__name__, _HOME, globals())
