"""Scenario 6: a company deleted and declared again within Codat's 90-minute
idempotency window is recreated, not confused with the deleted one.

The live state after the delete is exactly what it was before the first
creation, so the derived Idempotency-Key comes back and Codat replays the
answer describing the deleted company. The executor recognises the replay by
its `created` time preceding the live read (HTTP Date, 1-second resolution).
Were the recreate to happen within the same second as the first creation the
replay could not be recognised, so the test waits 1.1 s before the recreate:
a precondition of the detection, not a synchronisation.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from tests.fixtures.cli import Run
from tests.reliability.conftest import World
from tests.reliability.harness import api_calls, record, seed_for, trials
from tests.reliability.invariants import assert_converged

SAME_SECOND_GUARD = 1.1


def delete_then_redeclare(w: World, guard: float) -> tuple[str, Run]:
    """Apply, prune the merchant away, wait `guard` seconds, declare it again and apply."""
    victim = w.fleet.names[0]
    assert w.apply().code == 0, w.context
    old_id = str(next(c["id"] for c in w.snapshot() if c["name"] == victim))
    w.fleet.write([])
    pruned = w.apply("--prune", "--max-deletes", "1")
    assert pruned.code == 0, f"{w.context}\n{pruned}"
    assert w.snapshot() == [], w.context
    time.sleep(guard)
    w.fleet.write()
    return old_id, w.apply()


@pytest.mark.parametrize("trial", trials(2))
def test_deleted_then_redeclared_company_is_recreated(
    world: Callable[..., World], trial: int
) -> None:
    seed = seed_for("recreate", trial)
    # One merchant: after the delete the live state is exactly what the first creation
    # was planned from, so the same derived key comes back (the case at stake).
    w = world(f"recreate seed={seed}", merchants=1, seed=seed,
              faults=["lost:POST:/companies:0.5"] if trial % 2 else [])
    old_id, again = delete_then_redeclare(w, SAME_SECOND_GUARD)
    assert again.code == 0, f"{w.context}\n{again}"
    posts = [c for c in api_calls(again) if c["method"] == "POST" and c["path"] == "/companies"]
    # The first answer was Codat's replay about the deleted company; then a fresh key.
    assert sum(c["attempt"] == 1 for c in posts) == 2, (
        f"{w.context}: the stale replay was not met or not recognised: {posts}"
    )
    (reborn,) = assert_converged(w.fleet, w.sb.state_path, w.cli, context=w.context)
    assert reborn["id"] != old_id, f"{w.context}: the deleted company's id came back"
    record("6-recreate", seed, lost_rate=0.5 if trial % 2 else 0,
           outcome="recreated with a new id")


def test_recreate_within_the_same_second_is_safe(world: Callable[..., World]) -> None:
    """Without the guard the replay may be unrecognisable (same second): then the
    apply must fail cleanly (the replayed company is gone: 404), make no twin, and a
    re-run in a later second must recreate it. (A re-run within the same second
    meets the same unrecognisable replay and fails the same safe way.)"""
    w = world("recreate in the same second", merchants=1)
    old_id, again = delete_then_redeclare(w, 0)
    if again.code != 0:
        assert "404" in again.stderr and "Re-run apply to finish" in again.stderr, again
        assert w.snapshot() == [], f"{w.context}: something was created from a replay"
        time.sleep(SAME_SECOND_GUARD)
        rerun = w.apply()
        assert rerun.code == 0, f"{w.context}: first try\n{again}\nre-run\n{rerun}"
    (reborn,) = assert_converged(w.fleet, w.sb.state_path, w.cli, context=w.context)
    assert reborn["id"] != old_id
