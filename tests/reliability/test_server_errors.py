"""Scenario 3: 500, 503 and `timeout` at 20% on every endpoint.

An apply either converges or stops with a clear, resumable report (exit 1,
every failure named by its address, the advice to re-run, no traceback); the
re-runs converge. `timeout` holds the request far longer than the client's
one-second attempt timeout, so the client gives up and retries.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from reconciler.sandbox.faults import FaultInjector
from tests.fixtures.cli import Run
from tests.reliability.conftest import World
from tests.reliability.harness import mutations, notices, record, seed_for, trials
from tests.reliability.invariants import assert_converged

FAULT_MIXES: dict[str, list[str]] = {
    "500": ["500:*:/**:0.2"],
    "503": ["503:*:/**:0.2"],
    "timeout": ["timeout:*:/**:0.2"],
    # One request in five fails, evenly shared among the three kinds.
    "mixed": ["500:*:/**:0.0667", "503:*:/**:0.0714", "timeout:*:/**:0.0769"],
}
MAX_RUNS = 5
_FAILURE = re.compile(r'^merchant\["\d+"\](\.connection\["[a-z]{4}"\])?: .+')


def assert_resumable_report(run: Run, context: str) -> None:
    """An incomplete apply says what failed, where, and to re-run; no traceback."""
    assert "Traceback" not in run.output, f"{context}: traceback\n{run}"
    errors = notices(run, "error", "failed")
    assert errors, f"{context}: exit {run.code} without an error record\n{run}"
    if "Re-run apply to finish" in run.stderr:
        assert "Apply incomplete" in run.stdout, f"{context}\n{run}"
        failures = notices(run, "failed")
        assert failures and all(_FAILURE.match(x) for x in failures), (
            f"{context}: unclear\n{failures}"
        )
    else:
        # The live read itself failed: nothing was changed, the message says which call.
        assert mutations(run) == [], f"{context}: mutations before a failed read\n{run}"
        assert any(re.search(r"GET \S*/companies", x) for x in errors), (
            f"{context}: unclear\n{errors}"
        )


@pytest.mark.parametrize("trial", trials(8))
def test_server_errors_converge_or_stop_resumably(world: Callable[..., World], trial: int) -> None:
    kind = list(FAULT_MIXES)[trial % len(FAULT_MIXES)]
    seed = seed_for("server-errors", trial)
    w = world(f"{kind} at 20% seed={seed}", seed=seed, faults=FAULT_MIXES[kind])
    before = [w.bystander()]
    incomplete = 0
    for _ in range(MAX_RUNS):
        run = w.apply()
        if run.code == 0:
            break
        incomplete += 1
        assert_resumable_report(run, w.context)
    else:
        raise AssertionError(f"{w.context}: no convergence in {MAX_RUNS} runs")
    assert_converged(w.fleet, w.sb.state_path, w.cli, context=w.context, before=before)
    record(
        "3-server-errors",
        seed,
        kind=kind,
        merchants=len(w.fleet.declared),
        incomplete_runs=incomplete,
        outcome="converged",
    )


def test_an_outage_of_one_endpoint_stops_resumably_then_converges(
    world: Callable[..., World],
) -> None:
    """Connection creation down for a whole run: the report is the resumable one."""
    seed = seed_for("outage", 0)
    w = world(
        f"connections down seed={seed}", seed=seed, faults=["503:POST:/companies/*/connections:1.0"]
    )
    broken = w.apply()
    assert broken.code == 1, f"{w.context}\n{broken}"
    assert_resumable_report(broken, w.context)
    assert "Re-run apply to finish" in broken.stderr, w.context
    assert len(w.snapshot()) == len(w.fleet.declared)  # the companies did get made
    w.sb.app.faults = FaultInjector([], seed)  # the outage ends
    assert w.apply().code == 0, w.context
    assert_converged(w.fleet, w.sb.state_path, w.cli, context=w.context)
