"""Scenario 5: two applies of the same manifests started at the same moment.

Two real child processes run against one sandbox server. To make the race the
worst one, the server holds each child's first live read until both have
arrived (a barrier, bounded), so both plan from the same empty state and both
create every merchant. Codat has no unique names: twins are made, and each
apply's end-of-run read resolves them by one rule both compute alike (see
reconciler/apply/creation.py). Afterwards: one company per merchant, nothing
else touched, and a plan with no changes. An apply whose twin lost says so
and exits 1 ("run apply again"), the other exits 0.

The same with a saved plan: `plan --out` once, then two `apply --plan` at once.
Either may also find that Codat changed since the plan was made and refuse it
as stale (exit 1, nothing changed): all are correct.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from reconciler.sandbox.messages import SandboxResponse
from tests.fixtures.cli import Run
from tests.reliability.conftest import Call, World
from tests.reliability.harness import (
    api_calls,
    finish,
    kill,
    mutations,
    notices,
    record,
    seed_for,
    server_args,
    spawn,
    trials,
)
from tests.reliability.invariants import assert_converged

# The other run got there first: all of the plan done, or only part of it yet.
STALE = ("this plan was already applied", "Codat changed since this plan was made")
TWIN = "another apply created this merchant at the same moment"


def stale(text: str) -> bool:
    return any(reason in text for reason in STALE)


def assert_lost_only_to_a_twin(w: World, runs: list[Run]) -> list[int]:
    """Each run succeeded, or failed only because its twins were resolved away."""
    codes = [r.code for r in runs]
    assert 0 in codes or all(TWIN in r.stderr for r in runs), f"{w.context}: {codes}"
    for run in runs:
        if run.code == 0:
            continue
        errors = notices(run, "error", "failed")
        assert errors and all(TWIN in x or stale(x) for x in errors), f"{w.context}\n{run}"
    return codes


def hold_first_reads(w: World, parties: int = 2) -> threading.Barrier:
    """The first `parties` reads of /companies wait for each other (10 s at most)."""
    barrier = threading.Barrier(parties, timeout=10)
    seen = [0]
    lock = threading.Lock()

    def around(call: Call, forward: Callable[[], SandboxResponse]) -> SandboxResponse:
        if call.method == "GET" and call.path == "/companies":
            with lock:
                seen[0] += 1
                mine = seen[0]
            if mine <= parties:
                barrier.wait()
        return forward()

    w.intercept(around)
    return barrier


def run_together(w: World, *commands: list[str]) -> list[Run]:
    children = [spawn(c, w.env()) for c in commands]
    try:
        runs = [finish(c) for c in children]
    finally:
        for child in children:
            kill(child)
    for run in runs:
        w.secrets.scan_run(run, f"concurrent apply ({w.context})")
        assert "Traceback" not in run.output, f"{w.context}\n{run}"
    return runs


@pytest.mark.parametrize("trial", trials(3))
def test_two_applies_at_once_make_no_twin(world: Callable[..., World], trial: int) -> None:
    seed = seed_for("concurrent", trial)
    w = world(f"two applies seed={seed}", latency_ms=10 + trial % 3 * 10)
    before = [w.bystander()]
    barrier = hold_first_reads(w)
    runs = run_together(w, w.apply_command(), w.apply_command())
    assert not barrier.broken, f"{w.context}: the two reads did not meet"
    codes = assert_lost_only_to_a_twin(w, runs)
    assert_converged(w.fleet, w.sb.state_path, w.cli, context=w.context, before=before)
    # The race really happened: each child sent every creation.
    posts = [len([c for c in api_calls(r) if c["method"] == "POST" and c["status"]]) for r in runs]
    assert min(posts) >= len(w.fleet.declared), f"{w.context}: no race: {posts}"
    record(
        "5-concurrent",
        seed,
        merchants=len(w.fleet.declared),
        codes=codes,
        posts_answered=posts,
        outcome="converged",
    )


@pytest.mark.parametrize("trial", trials(3))
def test_one_saved_plan_applied_twice_at_once_makes_no_twin(
    world: Callable[..., World], trial: int, tmp_path: Path
) -> None:
    seed = seed_for("saved-plan-twice", trial)
    w = world(f"saved plan twice seed={seed}", latency_ms=10 + trial % 3 * 10)
    before = [w.bystander()]
    plan_file = tmp_path / "plan.json"
    made = w.cli(
        "plan", str(w.fleet.root), "--out", str(plan_file), *server_args(w.sb), env=w.env()
    )
    assert made.code == 0, made
    w.secrets.scan_run(made, "plan --out", plan_file)
    # Only the first run holds reads: the second is let go whenever it comes, a natural race.
    hold = trial % 2 == 0
    if hold:
        hold_first_reads(w)
    command = [
        "apply",
        "--plan",
        str(plan_file),
        "--max-rate",
        "0",
        "--log-format",
        "json",
        *server_args(w.sb),
    ]
    runs = run_together(w, command, command)
    codes = sorted(assert_lost_only_to_a_twin(w, runs))
    refused = [r for r in runs if stale(r.stderr)]
    for run in refused:
        assert mutations(run) == [], f"{w.context}: a refused plan still changed Codat"
    assert_converged(w.fleet, w.sb.state_path, w.cli, context=w.context, before=before)
    record(
        "5-saved-plan-twice",
        seed,
        merchants=len(w.fleet.declared),
        codes=codes,
        reads_held=hold,
        stale_refusals=len(refused),
        outcome="converged",
    )
