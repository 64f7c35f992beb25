"""The mass-deletion guard."""

from __future__ import annotations

import pytest

from reconciler.live.model import LiveCompany, LiveState
from reconciler.manifests.model import DesiredState, Location, Merchant
from reconciler.plan.guard import DeleteGuardError, check_deletes
from reconciler.plan.planner import PlanOptions, make_plan

OWNED = {"managed-by": "codat-reconciler"}


def pruning(n_live: int, declared: int = 1):  # type: ignore[no-untyped-def]
    live = LiveState(tuple(LiveCompany(f"c{i}", f"old{i}", None, OWNED) for i in range(n_live)))
    merchants = tuple(Merchant(f"m{i}", Location("f", 1, 1)) for i in range(declared))
    return make_plan(DesiredState(merchants), live, {}, PlanOptions(prune=True))


def test_default_allows_ten_deletes_and_refuses_eleven() -> None:
    check_deletes(pruning(10), max_deletes=None, declared_merchants=1)
    with pytest.raises(DeleteGuardError, match="deletes 11 companies, more than --max-deletes 10"):
        check_deletes(pruning(11), max_deletes=None, declared_merchants=1)


def test_explicit_limit_wins() -> None:
    check_deletes(pruning(11), max_deletes=11, declared_merchants=1)
    with pytest.raises(DeleteGuardError, match="more than --max-deletes 2"):
        check_deletes(pruning(3), max_deletes=2, declared_merchants=1)
    with pytest.raises(DeleteGuardError, match="deletes 1 company, more than --max-deletes 0"):
        check_deletes(pruning(1), max_deletes=0, declared_merchants=1)


def test_empty_manifest_set_needs_an_explicit_limit_even_for_one_delete() -> None:
    plan = pruning(1, declared=0)
    with pytest.raises(DeleteGuardError, match="would delete the one managed company"):
        check_deletes(plan, max_deletes=None, declared_merchants=0)
    check_deletes(plan, max_deletes=1, declared_merchants=0)
