"""The client against the real sandbox over HTTP: faults, idempotency, rate limit."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from reconciler.codat import ApiCall, CodatAPIError, CodatClient
from reconciler.codat.ratelimit import MARGIN, WINDOW
from reconciler.sandbox.app import SandboxApp
from reconciler.sandbox.transport import SandboxTransport
from tests.codat.fakes import SimulatedTime, VirtualTime
from tests.fixtures.sandbox import SandboxHandle

Start = Callable[..., SandboxHandle]


def connect(sb: SandboxHandle, **kwargs: Any) -> tuple[CodatClient, list[ApiCall], SimulatedTime]:
    """A client on `sb` whose waits move the sandbox's clock instead of real time."""
    sim = SimulatedTime(sb.app.clock.advance)
    calls: list[ApiCall] = []
    lock = threading.Lock()

    def observe(call: ApiCall) -> None:
        with lock:
            calls.append(call)

    kwargs.setdefault("max_rate", 0)
    client = CodatClient(
        sb.base_url, sb.api_key, observer=observe, sleep=sim.sleep, clock=sim, **kwargs
    )
    return client, calls, sim


def companies_named(client: CodatClient, name: str) -> list[dict[str, Any]]:
    page = client.list_companies(1, query=f"name={name}")
    return [c for c in page.results if c["name"] == name]


@pytest.mark.parametrize("kind", ["500", "500-after", "503"])
def test_a_keyed_5xx_on_create_is_replayed_by_codat_so_the_client_reports_it_ambiguous(
    sandbox_server: Start, kind: str
) -> None:
    sb = sandbox_server(faults=[f"{kind}:POST:/companies:first:1"])
    client, calls, _ = connect(sb)
    with pytest.raises(CodatAPIError) as err:
        client.create_company({"name": "12345678"}, idempotency_key="4b0f-key-1")
    assert err.value.may_have_applied and len(calls) == 1
    # Codat replays the same answer for that key: it cannot tell more.
    with pytest.raises(CodatAPIError) as again:
        client.create_company({"name": "12345678"}, idempotency_key="4b0f-key-1")
    assert again.value.correlation_id == err.value.correlation_id
    landed = 1 if kind == "500-after" else 0
    assert len(companies_named(client, "12345678")) == landed


@pytest.mark.parametrize("kind", ["429", "lost"])
def test_faults_on_create_are_retried_without_duplicates(sandbox_server: Start, kind: str) -> None:
    sb = sandbox_server(faults=[f"{kind}:POST:/companies:first:2"])
    client, calls, _ = connect(sb)
    created = client.create_company({"name": "12345678"}, idempotency_key="4b0f-key-1")
    assert created["name"] == "12345678"
    fault_status = None if kind == "lost" else int(kind)
    assert calls[0].status == fault_status and calls[-1].status == 200
    assert [c.attempt for c in calls] == list(range(1, len(calls) + 1))
    assert len(companies_named(client, "12345678")) == 1


def test_lost_answers_half_the_time_still_one_company_each(sandbox_server: Start) -> None:
    sb = sandbox_server(faults=["lost:POST:/companies:0.5"], seed=7)
    client, calls, _ = connect(sb, max_attempts=10)
    for i in range(20):
        client.create_company({"name": f"m{i:03d}"}, idempotency_key=f"key-{i}")
    names = [c["name"] for c in client.list_companies(1).results]
    assert sorted(names) == [f"m{i:03d}" for i in range(20)]
    assert any(c.status is None for c in calls)  # the fault really struck


def test_timeout_is_retried(sandbox_server: Start) -> None:
    sb = sandbox_server(faults=["timeout:GET:/companies:first:1"])
    client, calls, _ = connect(sb, timeout=0.3)
    assert client.list_companies(1).total == 0
    assert [c.status for c in calls] == [None, 200]


def test_delete_whose_answer_was_lost(sandbox_server: Start) -> None:
    sb = sandbox_server(faults=["lost:DELETE:/companies/*:first:1"])
    client, calls, _ = connect(sb)
    company = client.create_company({"name": "gone"}, idempotency_key="k-del")
    client.delete_company(company["id"])  # 2nd attempt answers 404: the 1st did it
    assert [c.status for c in calls[1:]] == [None, 404]
    with pytest.raises(CodatAPIError, match="404 Not Found"):
        client.delete_company(company["id"])


def test_wrong_key_is_a_clear_error_with_correlation_id(sandbox_server: Start) -> None:
    sb = sandbox_server()
    client = CodatClient(sb.base_url, "not-the-key")
    with pytest.raises(CodatAPIError) as err:
        client.list_companies(1)
    assert str(err.value).startswith("GET /companies failed: 401 Unauthorized")
    assert err.value.correlation_id and err.value.correlation_id in str(err.value)
    assert "not-the-key" not in str(err.value)


def test_validation_error_names_the_field(sandbox_server: Start) -> None:
    sb = sandbox_server()
    client, _, _ = connect(sb)
    with pytest.raises(CodatAPIError) as err:
        client.create_company({"name": "bad{name}"}, idempotency_key="k-bad")
    assert err.value.status == 400
    assert "correlationId" in str(err.value)


def virtual_client(
    sandbox_path: Path, rate_limit: int, **kwargs: Any
) -> tuple[SandboxApp, CodatClient, list[ApiCall], VirtualTime]:
    """The in-process sandbox and a client sharing one VirtualTime.

    Threads really run concurrently; time only passes while all of them wait,
    so a minute of rate-limit window costs nothing and requests take no time.
    """
    clock = VirtualTime()
    transport = SandboxTransport(sandbox_path, rate_limit=rate_limit, clock=clock.sandbox_clock())
    calls: list[ApiCall] = []
    lock = threading.Lock()

    def observe(call: ApiCall) -> None:
        with lock:
            calls.append(call)

    client = CodatClient(
        "https://api.codat.io",
        transport=transport,
        observer=observe,
        sleep=clock.sleep,
        clock=clock,
        **kwargs,
    )
    return transport.app, client, calls, clock


def stored_companies(app: SandboxApp) -> int:
    # Straight from the store: asking through the client would wait for the window.
    with app.store.read() as tx:
        total, _ = tx.page_companies("1=1", [], 0, 1)
    return total


def create_many(client: CodatClient, count: int, threads: int, clock: VirtualTime) -> float:
    """Create `count` companies from `threads` threads; the virtual seconds it took."""
    started = clock()
    clock.map(
        lambda i: client.create_company({"name": f"m{i}"}, idempotency_key=f"k-{i}"),
        range(count),
        threads,
    )
    return clock() - started


def test_benchmark_shape_three_windows_of_calls_take_two_minutes(sandbox_path: Path) -> None:
    # The benchmark's shape (3 x the limit in mutating calls from 10 threads against
    # a sandbox enforcing it per sliding minute): bursts at 0, one window (plus
    # margin) later and two windows later; none refused, none held longer.
    app, client, calls, clock = virtual_client(sandbox_path, 200, max_rate=200, pool_size=14)
    took = create_many(client, 600, threads=10, clock=clock)
    assert stored_companies(app) == 600
    assert [c.status for c in calls] == [200] * 600
    assert took == pytest.approx(2 * (WINDOW + MARGIN))


def test_server_limit_lower_than_ours_is_followed(sandbox_path: Path) -> None:
    # The client believes 1,000/min is fine; the server allows 30. Its headers and
    # its 429s (waited out, shared by all threads) keep every call succeeding.
    app, client, calls, clock = virtual_client(sandbox_path, 30, max_rate=1000)
    took = create_many(client, 75, threads=5, clock=clock)
    assert sum(1 for c in calls if c.status == 200) == 75
    assert stored_companies(app) == 75
    assert took >= 120  # 75 calls at 30 per minute need two more windows
    refused = sum(1 for c in calls if c.status == 429)
    assert refused <= 10, "the headers should stop the burst, not a stream of 429s"
