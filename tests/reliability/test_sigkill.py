"""Scenario 4: the apply process killed with SIGKILL at random points.

A real `python -m reconciler apply` child runs against a sandbox server whose
every answer takes LATENCY_MS, so the work lasts long enough to be cut anywhere:
the kill comes a seeded random delay after the first mutating request reaches
the server (polled, bounded). A re-run must converge with no twin.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

import pytest

from tests.reliability.conftest import World
from tests.reliability.harness import MERCHANTS, kill, record, seed_for, spawn, trials
from tests.reliability.invariants import assert_converged

LATENCY_MS = 40
PARALLELISM = "3"
# Roughly how long the mutating part of an uninterrupted apply of the fleet lasts
# (measured: about 32 mutations for 10 merchants at 40 ms, three at a time).
WORK_SECONDS = 0.06 * MERCHANTS


def wait_for_first_mutation(w: World, deadline: float) -> bool:
    """Poll the server's request log until a non-GET arrives; False at the deadline."""
    while time.monotonic() < deadline:
        if any(method != "GET" for method, _, _ in list(w.sb.app.calls)):
            return True
        time.sleep(0.005)
    return False


@pytest.mark.parametrize("trial", trials(20))
def test_sigkill_at_a_random_point_then_rerun_converges(
    world: Callable[..., World], trial: int
) -> None:
    seed = seed_for("sigkill", trial)
    delay = random.Random(seed).uniform(0.0, WORK_SECONDS)
    w = world(f"SIGKILL {delay * 1000:.0f} ms into the work, seed={seed}", latency_ms=LATENCY_MS)
    before = [w.bystander()]
    child = spawn([*w.apply_command(), "--parallelism", PARALLELISM], w.env())
    try:
        started = wait_for_first_mutation(w, time.monotonic() + 60)
        assert started, f"{w.context}: the child never started mutating"
        time.sleep(delay)  # the kill point itself, not a synchronisation
        finished_first = child.poll() is not None
    finally:
        kill(child)
    mutations_before_kill = sum(1 for m, _, _ in list(w.sb.app.calls) if m != "GET")
    rerun = w.apply()
    assert rerun.code == 0, f"{w.context}: the re-run failed\n{rerun}"
    assert_converged(w.fleet, w.sb.state_path, w.cli, context=w.context, before=before)
    record(
        "4-sigkill",
        seed,
        merchants=len(w.fleet.declared),
        delay_ms=round(delay * 1000),
        mutations_before_kill=mutations_before_kill,
        finished_before_kill=finished_first,
        outcome="converged",
    )
