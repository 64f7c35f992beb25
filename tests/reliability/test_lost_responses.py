"""Scenario 1: `lost` answers on every creating call and on PUT authorization.

The sandbox commits the change, then closes the connection without answering.
POSTs are retried under their derived Idempotency-Key, so Codat replays the
first answer instead of creating a twin; PUT authorization is repeatable. At
100% every first answer is lost; re-running apply must converge with no twin.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.reliability.conftest import World
from tests.reliability.harness import mutations, record, seed_for, trials
from tests.reliability.invariants import assert_converged

RATES = (1.0, 0.5, 0.2)
# A re-run always plans from what did get done; more runs than this means it does not converge.
MAX_RUNS = 4


def lost_everywhere(rate: float) -> list[str]:
    return [
        f"lost:POST:/companies:{rate}",
        f"lost:POST:/companies/*/connections:{rate}",
        f"lost:PUT:/companies/*/connections/*/authorization:{rate}",
    ]


def converge(w: World, *, max_runs: int = MAX_RUNS) -> int:
    """Apply until it exits 0; the number of runs it took."""
    for run_number in range(1, max_runs + 1):
        run = w.apply()
        if run.code == 0:
            return run_number
        assert "Re-run apply to finish" in run.stderr, f"{w.context}: unclear failure\n{run}"
    raise AssertionError(f"{w.context}: apply did not converge in {max_runs} runs")


@pytest.mark.parametrize("trial", trials(6))
def test_lost_answers_never_make_a_duplicate(world: Callable[..., World], trial: int) -> None:
    rate = RATES[trial % len(RATES)]
    seed = seed_for("lost", trial)
    w = world(f"lost rate={rate} seed={seed}", faults=lost_everywhere(rate), seed=seed)
    before = [w.bystander()]
    runs = converge(w)
    live = assert_converged(w.fleet, w.sb.state_path, w.cli, context=w.context, before=before)
    # Nothing beyond the fleet and the bystander was created.
    assert len(live) == len(w.fleet.declared) + 1, w.context
    again = w.apply()
    assert again.code == 0 and mutations(again) == [], f"{w.context}: not idempotent\n{again}"
    record(
        "1-lost", seed, rate=rate, merchants=len(w.fleet.declared), runs=runs, outcome="converged"
    )
