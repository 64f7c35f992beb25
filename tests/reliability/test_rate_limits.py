"""Scenario 2: 429 bursts, and a server rate limit well below the work.

A request log on the server side records when each attempt arrived and what it
was told, so "waits as Retry-After says" is checked on the wire: the retry of
an operation refused with 429 never arrives before its Retry-After has passed.

The sandbox's 60-second window is shortened (its module constant, in this test
process only) so a CI trial waits seconds instead of minutes; the client is
not told and learns every figure from the headers, as it would from Codat.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from reconciler.sandbox import ratelimit as sandbox_ratelimit
from reconciler.sandbox.messages import SandboxResponse
from reconciler.sandbox.ratelimit import RateDecision
from tests.fixtures.cli import Run
from tests.reliability.conftest import Call, World
from tests.reliability.harness import api_calls, env_int, record, records, seed_for, trials
from tests.reliability.invariants import assert_converged

WINDOW = float(env_int("RELIABILITY_RATE_WINDOW", 4))


SCHEDULING_SLACK = 0.25


@dataclass(frozen=True)
class Arrival:
    at: float
    operation: tuple[str, str, str]  # method, path, Idempotency-Key
    status: int
    retry_after: float | None


def log_arrivals(w: World) -> list[Arrival]:
    """Wrap the sandbox's handler to note every request (thread-safe append)."""
    arrivals: list[Arrival] = []
    lock = threading.Lock()

    def around(call: Call, forward: Callable[[], SandboxResponse]) -> SandboxResponse:
        at = time.monotonic()
        answer = forward()
        key = next((v for k, v in call.headers.items() if k.lower() == "idempotency-key"), "")
        after = answer.headers.get("Retry-After")
        with lock:
            arrivals.append(
                Arrival(
                    at,
                    (call.method, f"{call.path}?{call.query}", key),
                    answer.status,
                    float(after) if after else None,
                )
            )
        return answer

    w.intercept(around)
    return arrivals


def log_admissions(w: World) -> list[float]:
    """The sandbox clock's time of every request its rate limiter let through."""
    admitted: list[float] = []
    original = w.sb.app.rate.admit

    def admit(count: bool = True) -> RateDecision:
        decision = original(count)
        if count and decision.allowed:
            admitted.append(w.sb.app.clock.now())
        return decision

    w.sb.app.rate.admit = admit  # type: ignore[method-assign]
    return admitted


def assert_retry_after_obeyed(arrivals: list[Arrival], context: str) -> int:
    """Every 429'd operation came back no sooner than Retry-After; the number of 429s."""
    refused = [a for a in arrivals if a.status == 429]
    for no in refused:
        assert no.retry_after is not None, f"{context}: a 429 without Retry-After"
        later = [a for a in arrivals if a.operation == no.operation and a.at > no.at]
        if later:
            gap = later[0].at - no.at
            # 50 ms of slack for the scheduler; Retry-After is in whole seconds.
            assert gap >= no.retry_after - 0.05, (
                f"{context}: {no.operation[:2]} retried {gap:.2f}s after a 429 that said "
                f"Retry-After {no.retry_after}"
            )
    return len(refused)


def assert_no_429_failure(w: World, run: Run) -> None:
    assert run.code == 0, f"{w.context}: apply failed\n{run.stderr[-3000:]}"
    # Retries are said as they happen (one line each); none may end as a failure.
    said = [
        r["message"]
        for r in records(run)
        # A whole word: the sandbox's port (say 42967) may hold the digits too.
        if r["event"] not in ("retry", "wait") and re.search(r"\b429\b", r.get("message", ""))
    ]
    assert not said, f"{w.context}: a 429 reached the user: {said}"


@pytest.mark.parametrize("trial", trials(2))
def test_429_bursts_are_waited_out(world: Callable[..., World], trial: int) -> None:
    seed = seed_for("429-burst", trial)
    w = world(
        f"429 bursts seed={seed}",
        seed=seed,
        faults=["429:*:/companies:first:4", "429:*:/companies/**:0.15"],
    )
    arrivals = log_arrivals(w)
    run = w.apply()
    assert_no_429_failure(w, run)
    refused = assert_retry_after_obeyed(arrivals, w.context)
    assert refused >= 4, f"{w.context}: the burst did not happen"
    assert sum(1 for c in api_calls(run) if c["status"] == 429) == refused, w.context
    assert_converged(w.fleet, w.sb.state_path, w.cli, context=w.context)
    record(
        "2-429-burst", seed, merchants=len(w.fleet.declared), refused=refused, outcome="converged"
    )


@pytest.mark.parametrize("trial", trials(1))
def test_rate_limit_well_below_the_work(
    world: Callable[..., World], trial: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed = seed_for("rate-limit", trial)
    monkeypatch.setattr(sandbox_ratelimit, "WINDOW_SECONDS", WINDOW)
    # About a third of what the apply needs fits in one window.
    limit = max(5, env_int("RELIABILITY_MERCHANTS", 10) * 4 // 3)
    w = world(f"rate limit {limit}/{WINDOW:g}s seed={seed}", seed=seed, rate_limit=limit)
    arrivals = log_arrivals(w)
    admitted = log_admissions(w)
    started = time.monotonic()
    run = w.apply("--parallelism", "10")
    took = time.monotonic() - started
    assert_no_429_failure(w, run)
    refused = assert_retry_after_obeyed(arrivals, w.context)
    # Refused requests are not counted by the server; only admitted ones fill windows.
    work = len(admitted)
    assert work > 2 * limit, f"{w.context}: the work ({work}) did not exceed the limit"
    # The server admitted no more than `limit` requests in any window (so the work
    # spread over at least (work - 1) // limit windows). Times are taken right after
    # each admission; on a loaded machine a thread can be held between the
    # limiter's own reading of the clock and ours, hence the slack.
    admitted.sort()
    for i, at in enumerate(admitted):
        inside = [x for x in admitted[i:] if x < at + WINDOW - SCHEDULING_SLACK]
        assert len(inside) <= limit, f"{w.context}: {len(inside)} requests in one window"
    assert_converged(w.fleet, w.sb.state_path, w.cli, context=w.context)
    record(
        "2-rate-limit",
        seed,
        merchants=len(w.fleet.declared),
        limit=limit,
        window=WINDOW,
        requests=work,
        refused=refused,
        seconds=round(took, 1),
        outcome="converged",
    )
