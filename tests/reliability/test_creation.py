"""Issue 11's scenarios: creation stays correct whatever Codat, the network or a
second operator does. Each plays the condition on a real sandbox server and
checks the invariants: one company per merchant, the declared connections, a
plan with no changes, and no secret in any output.

1. a keyed 500 (before or after the change) that Codat keeps and replays;
2. Codat's `Date` ahead of or behind `created` (its edge and API clocks);
3. (recreate with a missing or repeated `Date`: test_recreate.py);
4. a second apply started while the first is half-way, with or without the key;
5. page counts that lie, too low or absurdly high;
and answers of the wrong shape, and a redirect where a DELETE was expected.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable

import pytest

from reconciler.sandbox.messages import SandboxResponse
from tests.fixtures.cli import Run
from tests.reliability.conftest import Call, World
from tests.reliability.harness import (
    api_calls,
    finish,
    kill,
    record,
    seed_for,
    server_args,
    spawn,
    trials,
)
from tests.reliability.invariants import assert_converged
from tests.reliability.test_concurrent_applies import assert_lost_only_to_a_twin


def company_posts(run: Run) -> list[dict[str, object]]:
    return [c for c in api_calls(run) if c["method"] == "POST" and c["path"] == "/companies"]


@pytest.mark.parametrize("kind", ["500", "500-after", "503"])
@pytest.mark.parametrize("path", ["/companies", "/companies/*/connections"])
def test_a_keyed_5xx_codat_replays_costs_no_twin_and_no_extra_run(
    world: Callable[..., World], kind: str, path: str
) -> None:
    w = world(f"{kind} on POST {path}", merchants=4, faults=[f"{kind}:POST:{path}:first:2"])
    run = w.apply()
    # The ambiguous answers were read back and sent again under new keys in this run.
    assert run.code == 0, f"{w.context}\n{run}"
    failed = [c for c in api_calls(run) if c["status"] in (500, 503)]
    assert len(failed) == 2, f"{w.context}: the fault did not strike: {failed}"
    assert_converged(w.fleet, w.sb.state_path, w.cli, context=w.context)
    record("1-keyed-5xx", 0, kind=kind, path=path, outcome="converged in one run")


@pytest.mark.parametrize("trial", trials(2))
def test_keyed_5xx_at_random_converge_within_one_extra_run(
    world: Callable[..., World], trial: int
) -> None:
    seed = seed_for("keyed-5xx-random", trial)
    w = world(
        f"random keyed 5xx seed={seed}",
        seed=seed,
        faults=["500:POST:/companies**:0.2", "500-after:POST:/companies**:0.2"],
    )
    first = w.apply()
    runs = 1
    if first.code != 0:
        runs += 1
        again = w.apply()
        assert again.code == 0, f"{w.context}\n{first}\n{again}"
    assert_converged(w.fleet, w.sb.state_path, w.cli, context=w.context)
    record("1-keyed-5xx-random", seed, runs=runs, outcome="converged")


@pytest.mark.parametrize("skew_ms", [3000, 1000, -1000, -3000])
def test_clock_skew_makes_exactly_one_company_per_merchant(
    world: Callable[..., World], skew_ms: int
) -> None:
    w = world(f"Date skewed {skew_ms} ms", merchants=5, clock_skew_ms=skew_ms)
    run = w.apply()
    assert run.code == 0, f"{w.context}\n{run}"
    assert len(company_posts(run)) == 5, w.context
    assert_converged(w.fleet, w.sb.state_path, w.cli, context=w.context)
    record("2-clock-skew", 0, skew_ms=skew_ms, outcome="one company each")


def hold_creations_after(w: World, count: int) -> threading.Event:
    """After `count` companies were created, further creations wait (30 s at most)
    until the next read of /companies has been answered: the second apply's read."""
    read_after = threading.Event()
    created = [0]
    lock = threading.Lock()

    def around(call: Call, forward: Callable[[], SandboxResponse]) -> SandboxResponse:
        if (call.method, call.path) == ("POST", "/companies"):
            with lock:
                created[0] += 1
                held = created[0] > count
            if held:
                read_after.wait(30)
        answer = forward()
        if (call.method, call.path) == ("GET", "/companies") and created[0] >= count:
            read_after.set()
        return answer

    w.intercept(around)
    return read_after


@pytest.mark.parametrize("second_has_key", [True, False])
@pytest.mark.parametrize("trial", trials(1))
def test_a_second_apply_started_half_way_makes_no_twin(
    world: Callable[..., World], trial: int, second_has_key: bool
) -> None:
    seed = seed_for("staggered", trial)
    w = world(
        f"staggered, second has key={second_has_key} seed={seed}", merchants=20, latency_ms=10
    )
    read_after = hold_creations_after(w, 10)
    command = [*w.apply_command(), "--parallelism", "2"]
    first = spawn(command, w.env())
    second = None
    try:
        deadline = time.monotonic() + 60  # a hang guard, not a timing assertion
        while len(w.snapshot()) < 10:
            assert time.monotonic() < deadline and first.poll() is None, w.context
            time.sleep(0.02)
        env, keyless = w.env(), ["--no-fingerprints"]
        if not second_has_key:
            env = {**env, "CODAT_RECONCILER_KEY": ""}
        second = spawn(command if second_has_key else [*command, *keyless], env)
        runs = [finish(first), finish(second)]
    finally:
        kill(first)
        if second is not None:
            kill(second)
    assert read_after.is_set(), f"{w.context}: the second apply never read"
    for run in runs:
        w.secrets.scan_run(run, w.context)
        assert "Traceback" not in run.output, f"{w.context}\n{run}"
    codes = assert_lost_only_to_a_twin(w, runs)
    # The race happened: both created some of the same merchants.
    both = {c["path"] for c in company_posts(runs[0])} & {c["path"] for c in company_posts(runs[1])}
    assert company_posts(runs[1]) and both, f"{w.context}: no race"
    if not second_has_key:
        # No twin, but what the keyless apply authorized carries no fingerprint under
        # the operator's key: the next apply re-authorizes it once (README, rotation).
        names = [c["name"] for c in w.snapshot()]
        assert len(names) == len(set(names)) == 20, f"{w.context}: {sorted(names)}"
        assert w.apply().code == 0, w.context
    assert_converged(w.fleet, w.sb.state_path, w.cli, context=w.context)
    record("4-staggered", seed, second_has_key=second_has_key, codes=codes, outcome="converged")


def _rewrite_pages(w: World, change: Callable[[dict[str, object]], None]) -> None:
    def around(call: Call, forward: Callable[[], SandboxResponse]) -> SandboxResponse:
        answer = forward()
        if (call.method, call.path) == ("GET", "/companies") and answer.status == 200:
            page = json.loads(answer.body)
            change(page)
            answer = SandboxResponse(200, answer.headers, json.dumps(page).encode())
        return answer

    w.intercept(around)


def test_a_count_too_low_without_next_links_recreates_nothing(world: Callable[..., World]) -> None:
    w = world("totalResults too low", merchants=10, max_page_size=3)
    assert w.apply().code == 0

    def too_low(page: dict[str, object]) -> None:
        page["totalResults"] = 3
        links = page["_links"]
        assert isinstance(links, dict)
        links.pop("next", None)

    _rewrite_pages(w, too_low)
    run = w.apply()
    assert run.code == 0 and company_posts(run) == [], f"{w.context}\n{run}"
    assert "No changes" in run.stdout, run
    assert len(w.snapshot()) == 10
    record("5-count-too-low", 0, outcome="nothing recreated")


def test_an_absurd_count_is_an_error_not_a_plan(world: Callable[..., World]) -> None:
    w = world("totalResults absurd", merchants=3)
    _rewrite_pages(w, lambda page: page.update(totalResults=50_000_000))
    run = w.cli("plan", str(w.fleet.root), *server_args(w.sb), "--log-format", "json", env=w.env())
    assert run.code == 1 and "Traceback" not in run.output, run
    assert "cannot be right" in run.stderr, run
    reads = [c for c in api_calls(run) if c["path"] == "/companies"]
    assert len(reads) <= 3 * 5, f"{w.context}: {len(reads)} page reads for a lying count"
    record("5-count-absurd", 0, reads=len(reads), outcome="refused")


WRONG_SHAPES: dict[str, tuple[str, str, bytes]] = {
    "create answered {}": ("POST", "/companies", b"{}"),
    "a result that is not an object": ("GET", "/companies", b'{"results": [1], "totalResults": 1}'),
    "tags as a list": (
        "GET",
        "/companies",
        b'{"results": [{"id": "c1", "name": "x", "tags": ["a"]}], "totalResults": 1}',
    ),
}


@pytest.mark.parametrize("case", sorted(WRONG_SHAPES))
def test_an_answer_of_the_wrong_shape_is_a_clean_error(
    world: Callable[..., World], case: str
) -> None:
    w = world(case, merchants=2)
    method, path, body = WRONG_SHAPES[case]

    def around(call: Call, forward: Callable[[], SandboxResponse]) -> SandboxResponse:
        answer = forward()
        if (call.method, call.path) == (method, path):
            return SandboxResponse(200, {**answer.headers, "x-correlation-id": "corr-shape"}, body)
        return answer

    w.intercept(around)
    run = w.apply()
    assert run.code == 1 and "Traceback" not in run.output, run
    assert f"{method} {path}" in run.stderr and "corr-shape" in run.stderr, run
    assert "KeyError" not in run.stderr and "TypeError" not in run.stderr, run


def test_a_redirect_on_delete_is_not_counted_done(world: Callable[..., World]) -> None:
    w = world("DELETE answered 307", merchants=2)
    assert w.apply().code == 0

    def around(call: Call, forward: Callable[[], SandboxResponse]) -> SandboxResponse:
        if call.method == "DELETE":
            return SandboxResponse(307, {"Location": "/elsewhere"}, b"")
        return forward()

    w.intercept(around)
    w.fleet.write(w.fleet.names[:1])
    run = w.apply("--prune", "--max-deletes", "1")
    assert run.code == 1 and "307" in run.stderr, run
    assert "0 done" in run.stdout or "1 failed" in run.stdout, run
    assert len(w.snapshot()) == 2
