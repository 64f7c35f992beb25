"""Saved plans round-trip exactly and refuse tampering."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path

import pytest

from reconciler.live.model import LiveCompany, LiveState
from reconciler.manifests.model import DesiredConnection, DesiredState, Location, Merchant
from reconciler.plan import saved
from reconciler.plan.model import Cause, ConflictKind, NoteKind, ProblemKind
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
        merchants=None,
        base="/work/repo",
        target="https://api.codat.io",
    )


def signed(body: dict[str, object], path: Path) -> None:
    """Write `body` with a checksum that matches it, as `plan --out` would."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    body["checksum"] = "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()
    path.write_text(json.dumps(body))


def test_round_trip(tmp_path: Path) -> None:
    original = a_saved_plan()
    saved.write(original, tmp_path / "plan.json")
    assert saved.read(tmp_path / "plan.json") == original
    desired = DesiredState((Merchant("new", HERE),))
    live = LiveState((LiveCompany("c1", "gone", None, {"managed-by": "codat-reconciler"}),))
    with_note = replace(original, plan=make_plan(desired, live, {}))
    assert with_note.plan.notes[0].kind is NoteKind.UNDECLARED_COMPANIES
    saved.write(with_note, tmp_path / "plan.json")
    assert saved.read(tmp_path / "plan.json") == with_note


def test_a_plan_saved_by_an_older_version_still_loads(tmp_path: Path) -> None:
    """Fields that older plans of this format_version may lack (base, target, a change's
    record, a note's kind) are optional when read."""
    body = json.loads(saved.dumps(a_saved_plan()))
    del body["checksum"], body["base"], body["target"]
    for change in body["changes"]:
        del change["record"]
    body["notes"] = [{"address": "a", "message": "m"}]
    signed(body, tmp_path / "old.json")
    old = saved.read(tmp_path / "old.json")
    assert old.base is None and old.target is None and old.plan.notes[0].kind is None
    assert old.plan.changes == a_saved_plan().plan.changes


def test_a_plan_of_format_version_1_is_refused_with_how_to_go_on(tmp_path: Path) -> None:
    """Version 1 conflicts carry no merchant or kind: such a plan is made again."""
    body = json.loads(saved.dumps(a_saved_plan()))
    del body["checksum"]
    body["format_version"] = 1
    signed(body, tmp_path / "v1.json")
    with pytest.raises(saved.SavedPlanError, match=r"format_version 1 is not supported.*again"):
        saved.read(tmp_path / "v1.json")


def test_conflicts_problems_and_causes_round_trip(tmp_path: Path) -> None:
    twin = {"managed-by": "codat-reconciler"}
    live = LiveState(
        (
            LiveCompany("a", "twins", None, twin, created="2026-01-01T00:00:00Z"),
            LiveCompany("b", "twins", None, twin, created="2026-01-02T00:00:00Z"),
            LiveCompany("c", "dup", None, twin),
            LiveCompany("d", "dup", None, {}),
        )
    )
    conn = DesiredConnection("zzzz", None, Location("m.yaml", 7, 9))
    desired = DesiredState(
        (Merchant("twins", HERE), Merchant("dup", HERE), Merchant("off", HERE, connections=(conn,)))
    )
    plan = make_plan(desired, live, {}, PlanOptions(integrations=frozenset({"dfxm"})))
    assert [c.cause for c in plan.changes] == [Cause.TWIN]
    assert [(c.merchant, c.kind) for c in plan.conflicts] == [("dup", ConflictKind.DUPLICATE_NAME)]
    assert [(p.merchant, p.kind, p.location) for p in plan.problems] == [
        ("off", ProblemKind.UNKNOWN_PLATFORM, "m.yaml:7:9")
    ]
    original = replace(a_saved_plan(), plan=plan)
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


def test_a_saved_change_no_api_call_carries_out_is_refused(tmp_path: Path) -> None:
    body = json.loads(saved.dumps(a_saved_plan()))
    del body["checksum"]
    body["changes"][0]["kind"], body["changes"][0]["action"] = "company", "authorize"
    signed(body, tmp_path / "odd.json")
    with pytest.raises(saved.SavedPlanError, match=r"malformed saved plan.*authorize a company"):
        saved.read(tmp_path / "odd.json")
