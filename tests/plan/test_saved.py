"""Saved plans round-trip exactly and refuse tampering."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler.live.model import LiveCompany, LiveState
from reconciler.manifests.model import DesiredState, Location, Merchant
from reconciler.plan import saved
from reconciler.plan.planner import PlanOptions, make_plan

HERE = Location("m.yaml", 1, 1)


def a_saved_plan() -> saved.SavedPlan:
    live = LiveState((LiveCompany("c1", "gone", None, {"managed-by": "codat-reconciler"}),))
    desired = DesiredState((Merchant("new", HERE, description="D", tags={"a": "b"}),))
    plan = make_plan(desired, live, {}, PlanOptions(prune=True))
    return saved.SavedPlan(
        plan=plan,
        paths=("manifests/",),
        manifests=(("manifests/a.yaml", "ab" * 32),),
        live_digest=live.digest(),
        prune=True,
        targets=None,
    )


def test_round_trip(tmp_path: Path) -> None:
    original = a_saved_plan()
    saved.write(original, tmp_path / "plan.json")
    assert saved.read(tmp_path / "plan.json") == original


def test_hand_edited_plan_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    saved.write(a_saved_plan(), path)
    body = json.loads(path.read_text())
    body["changes"][0]["body"]["name"] = "someone-else"
    path.write_text(json.dumps(body))
    with pytest.raises(saved.SavedPlanError, match="modified after it was made"):
        saved.read(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", r"plan.json:1:2: not a saved plan"),
        ('{"kind": "x"}', "not a codat-reconciler saved plan"),
        ('{"kind": "codat-reconciler/saved-plan", "format_version": 9}', "format_version 9"),
    ],
)
def test_unreadable_plans_get_clear_errors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "plan.json"
    path.write_text(text)
    with pytest.raises(saved.SavedPlanError, match=message):
        saved.read(path)
