"""Scenario 6: a company deleted and declared again, at once, is recreated.

Before, keys were derived from the live state, so the live state returning to
what it was brought back a key Codat still held, and its replayed answer
described the deleted company: recognising it needed `Date` and `created` to
agree, and failed with clock skew, a missing `Date` or within one second
(a phantom create reported done). Every creation now goes under a fresh key and
a created company counts as done only when the end-of-run read finds it, so the
recreate is right however Codat's clocks and `Date` header behave.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.fixtures.cli import Run
from tests.reliability.conftest import World
from tests.reliability.harness import api_calls, record, seed_for, trials
from tests.reliability.invariants import assert_converged

EDGES = [
    {},
    {"date_header": "omit"},
    {"date_header": "repeat"},
    {"clock_skew_ms": 2500},
    {"clock_skew_ms": -2500},
]


def delete_then_redeclare(w: World) -> tuple[str, Run]:
    """Apply, prune the merchant away, declare it again at once and apply."""
    victim = w.fleet.names[0]
    assert w.apply().code == 0, w.context
    old_id = str(next(c["id"] for c in w.snapshot() if c["name"] == victim))
    w.fleet.write([])
    pruned = w.apply("--prune", "--max-deletes", "1")
    assert pruned.code == 0, f"{w.context}\n{pruned}"
    assert w.snapshot() == [], w.context
    w.fleet.write()
    return old_id, w.apply()


@pytest.mark.parametrize(
    "edge", EDGES, ids=lambda e: ",".join(f"{k}={v}" for k, v in e.items()) or "plain"
)
@pytest.mark.parametrize("trial", trials(1))
def test_deleted_then_redeclared_company_is_recreated(
    world: Callable[..., World], trial: int, edge: dict[str, object]
) -> None:
    seed = seed_for("recreate", trial)
    w = world(f"recreate {edge} seed={seed}", merchants=1, seed=seed, **edge)
    old_id, again = delete_then_redeclare(w)
    assert again.code == 0, f"{w.context}\n{again}"
    posts = [c for c in api_calls(again) if c["method"] == "POST" and c["path"] == "/companies"]
    assert len(posts) == 1, f"{w.context}: {posts}"
    (reborn,) = assert_converged(w.fleet, w.sb.state_path, w.cli, context=w.context)
    assert reborn["id"] != old_id, f"{w.context}: the deleted company's id came back"
    record("6-recreate", seed, edge=edge, outcome="recreated with a new id")
