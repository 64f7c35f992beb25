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
"""

from __future__ import annotations

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
