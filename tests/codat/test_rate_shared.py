"""The client's rate limit with real threads, on time that passes only while they wait."""

from __future__ import annotations

import threading
from collections import deque

import httpx
import pytest

from reconciler.codat import ApiCall, CodatClient
from reconciler.codat.ratelimit import RequestPacer
from tests.codat.fakes import FakeClock, VirtualTime, make_client, scripted

WINDOW = 0.3
MARGIN = 0.03
LIMIT = 20


class SlidingWindowServer:
    """At most LIMIT requests in any WINDOW seconds, else 429 + Retry-After."""

    def __init__(self, clock: VirtualTime) -> None:
        self.clock = clock
        self.arrivals: deque[float] = deque()
        self.admitted: list[float] = []
        self.rejected = 0
        self._lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            now = self.clock()
            while self.arrivals and self.arrivals[0] <= now - WINDOW:
                self.arrivals.popleft()
            if len(self.arrivals) >= LIMIT:
                self.rejected += 1
                wait = self.arrivals[0] + WINDOW - now
                return httpx.Response(429, headers={"Retry-After": f"{wait:.3f}"})
            self.arrivals.append(now)
            self.admitted.append(now)
        return httpx.Response(200, json={"id": "c"})


def _client(server: SlidingWindowServer, **kwargs: object) -> CodatClient:
    return CodatClient(
        "http://sandbox",
        transport=httpx.MockTransport(server),
        clock=server.clock,
        sleep=server.clock.sleep,
        **kwargs,  # type: ignore[arg-type]
    )


def test_threads_share_one_sliding_window_and_no_429_is_seen() -> None:
    # The benchmark in miniature: 3 x LIMIT mutating calls from 10 threads come in
    # three bursts, one window (plus margin) apart: none refused, none held longer.
    clock = VirtualTime()
    server = SlidingWindowServer(clock)
    calls: list[ApiCall] = []
    lock = threading.Lock()

    def observe(call: ApiCall) -> None:
        with lock:
            calls.append(call)

    client = _client(server, observer=observe)
    client.pacer = RequestPacer(LIMIT, window=WINDOW, margin=MARGIN, clock=clock, sleep=clock.sleep)
    clock.map(
        lambda i: client.create_company({"name": str(i)}, idempotency_key=f"k{i}"),
        range(3 * LIMIT),
        threads=10,
    )
    assert server.rejected == 0
    assert len(calls) == 3 * LIMIT and {c.status for c in calls} == {200}
    span = WINDOW + MARGIN
    assert server.admitted == pytest.approx([0.0] * LIMIT + [span] * LIMIT + [2 * span] * LIMIT)
    assert clock() == pytest.approx(2 * span)


def test_a_429_that_slips_through_is_retried_transparently() -> None:
    server = SlidingWindowServer(VirtualTime())
    client = _client(server, max_rate=0)
    results = server.clock.map(
        lambda i: client.create_company({"name": str(i)}, idempotency_key=f"k{i}"),
        range(LIMIT + 10),
        threads=10,
    )
    assert len(results) == LIMIT + 10
    assert server.rejected > 0  # with no client-side limit, the server had to refuse
    assert len(server.admitted) == LIMIT + 10


def test_client_max_rate_holds_back_the_next_request() -> None:
    times: list[float] = []
    clock = FakeClock(0.0)
    handler, _ = scripted(httpx.Response(200, json={"id": "c"}))

    def timed(request: httpx.Request) -> httpx.Response:
        times.append(clock())
        return handler(request)

    client, _ = make_client(timed, clock, max_rate=3)
    for _ in range(4):
        client.get_company("c")
    assert times[:3] == [0.0, 0.0, 0.0]
    assert 60.0 < times[3] <= 61.0
