"""Ctrl-C and SIGTERM during apply, and Codat's daily quota running out.

A real `python -m reconciler apply` child works through a fleet on a slow
sandbox server; the signal comes once a few changes reached the server. What
must hold: no new change starts after it, the ones in flight finish, a summary
of done / not started is printed, exit 130 (SIGINT) or 143 (SIGTERM), and a
re-run converges. A second Ctrl-C stops at once.
"""

from __future__ import annotations

import json
import re
import signal
import time
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from reconciler.sandbox.clock import Clock
from reconciler.sandbox.messages import ApiError, SandboxResponse
from tests.fixtures.lines import Lines, kill_if_running, rest_of
from tests.reliability.conftest import Call, World
from tests.reliability.harness import finish, kill, spawn
from tests.reliability.invariants import assert_converged

PARALLELISM = 2


def mutations_seen(w: World) -> int:
    return sum(1 for method, _, _ in list(w.sb.app.calls) if method != "GET")


def wait_for_mutations(w: World, count: int) -> None:
    deadline = time.monotonic() + 60  # a hang guard, not a timing assertion
    while mutations_seen(w) < count:
        assert time.monotonic() < deadline, f"{w.context}: the child made no progress"
        time.sleep(0.01)


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_new_changes_and_reports_what_was_not_started(
    world: Callable[..., World], sig: signal.Signals, code: int
) -> None:
    w = world(f"{sig.name} during apply", merchants=20, latency_ms=60)
    child = spawn([*w.apply_command(), "--parallelism", str(PARALLELISM)], w.env())
    try:
        wait_for_mutations(w, 4)
        child.send_signal(sig)
        at_signal = mutations_seen(w)
        run = finish(child)
    finally:
        kill(child)
    assert run.code == code, f"{w.context}\n{run}"
    assert f"{sig.name} received" in run.stderr and "Traceback" not in run.output, run
    assert "Apply interrupted:" in run.stdout and "not started" in run.stdout, run
    # In flight at the signal: at most one change per worker, then nothing new.
    after = mutations_seen(w) - at_signal
    assert after <= PARALLELISM, f"{w.context}: {after} mutations after the signal"
    total = 20 * 3  # company, connection, authorization per merchant at least
    assert mutations_seen(w) < total // 2, f"{w.context}: the apply ran on"
    w.secrets.scan_run(run, w.context)
    rerun = w.apply()
    assert rerun.code == 0, f"{w.context}: the re-run failed\n{rerun}"
    assert_converged(w.fleet, w.sb.state_path, w.cli, context=w.context)


# Codat's answer when its per-minute limit is used up: most of a minute to wait.
LONG_RETRY_AFTER = 55
# Far less than the wait, and than a CI runner's 10 s grace before SIGKILL.
PROMPT = 5.0


def is_event(line: str, event: str) -> bool:
    return line.startswith("{") and json.loads(line).get("event") == event


def is_retry(line: str) -> bool:
    return is_event(line, "retry")


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_during_a_long_retry_after_ends_the_wait_at_once(
    world: Callable[..., World], sig: signal.Signals, code: int
) -> None:
    """Kubernetes gives 30 s between SIGTERM and SIGKILL: a 55 s Retry-After is not
    waited out. The changes waiting are reported not started; a re-run converges."""
    w = world(f"{sig.name} during a Retry-After", merchants=4)
    refusing = True

    def limited(call: Call, forward: Callable[[], SandboxResponse]) -> SandboxResponse:
        if refusing and call.method == "POST" and call.path == "/companies":
            return ApiError(429, retry_after=LONG_RETRY_AFTER).response()
        return forward()

    w.intercept(limited)
    child = spawn([*w.apply_command(), "--parallelism", str(PARALLELISM)], w.env())
    try:
        stderr = Lines(child.stderr)  # type: ignore[arg-type]
        retry, _ = stderr.wait_for(is_retry, timeout=60)
        child.send_signal(sig)
        signalled = time.monotonic()
        out = rest_of(child, timeout=LONG_RETRY_AFTER)
        took = time.monotonic() - signalled
    finally:
        kill_if_running(child)
    run_text = f"{w.context}\nstdout:\n{out}\nstderr:\n{stderr.text()}"
    assert json.loads(retry)["wait_s"] >= LONG_RETRY_AFTER - 1, retry
    assert child.returncode == code, run_text
    assert took < PROMPT, f"{w.context}: exit {took:.1f} s after the signal"
    assert "Apply interrupted: 0 done" in out and "not started" in out, run_text
    assert "Traceback" not in out + stderr.text(), run_text
    w.secrets.assert_absent(out + stderr.text(), w.context)
    refusing = False
    rerun = w.apply()
    assert rerun.code == 0, f"{w.context}: the re-run failed\n{rerun}"
    assert_converged(w.fleet, w.sb.state_path, w.cli, context=w.context)


def test_a_second_ctrl_c_stops_at_once(world: Callable[..., World]) -> None:
    w = world("two Ctrl-C", merchants=20, latency_ms=300)
    child = spawn([*w.apply_command(), "--parallelism", str(PARALLELISM)], w.env())
    try:
        stderr = Lines(child.stderr)  # type: ignore[arg-type]
        wait_for_mutations(w, 1)
        child.send_signal(signal.SIGINT)
        # The first is handled once it is said: the second must find it so.
        stderr.wait_for(lambda line: is_event(line, "stopping"), timeout=60)
        child.send_signal(signal.SIGINT)
        out = rest_of(child, timeout=60)
    finally:
        kill_if_running(child)
    run_text = f"{w.context}\nstdout:\n{out}\nstderr:\n{stderr.text()}"
    assert child.returncode == 130 and "Stopped at once" in stderr.text(), run_text
    assert "Traceback" not in out + stderr.text(), run_text


def test_a_daily_quota_used_up_stops_the_run_and_says_when(world: Callable[..., World]) -> None:
    # Enough for the plan's read and a few changes, far from what 10 merchants need.
    # At noon (sandbox time) the quota resets in 12 hours: reported, never waited out,
    # whatever the time of day the test runs at.
    clock = Clock()
    clock.move_to(datetime(2026, 6, 1, 12, 0, tzinfo=UTC).timestamp())
    w = world("daily quota", merchants=10, daily_quota=8, clock=clock)
    started = time.monotonic()
    run = w.apply()
    assert run.code == 1, run
    assert time.monotonic() - started < 30, f"the run waited: {run}"
    said = r"request quota is used up until .* UTC \(in 1[12] h \d+ min\)"
    assert re.search(said, run.stderr), run
    assert "not started" in run.stdout and "Traceback" not in run.output, run
    refused = [m for m, _, status in list(w.sb.app.calls) if status == 429]
    # The client stops sending once told: no flood of refused requests.
    assert len(refused) <= PARALLELISM * 5, f"{len(refused)} requests refused"
