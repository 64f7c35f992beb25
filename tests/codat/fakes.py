"""Test doubles for time and for Codat's answers."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import httpx

from reconciler.codat import ApiCall, CodatClient

API_KEY = "sk_test_9f8e7d6c5b4a"  # a made-up key the tests look for in every output


class FakeClock:
    """A monotonic clock that only moves when someone sleeps."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += max(0.0, seconds)


def error_json(status: int, message: str, correlation: str = "corr-123", **extra: Any) -> Any:
    return {
        "statusCode": status,
        "service": "PublicApi",
        "error": message,
        "correlationId": correlation,
        "canBeRetried": "Unknown",
        "detailedErrorCode": 0,
        **extra,
    }


Handler = Callable[[httpx.Request], httpx.Response]


def make_client(
    handler: Handler, clock: FakeClock | None = None, **kwargs: Any
) -> tuple[CodatClient, list[ApiCall]]:
    calls: list[ApiCall] = []
    clock = clock or FakeClock()
    kwargs.setdefault("max_rate", 0)
    client = CodatClient(
        "https://api.codat.io",
        API_KEY,
        transport=httpx.MockTransport(handler),
        observer=calls.append,
        sleep=clock.sleep,
        clock=clock,
        **kwargs,
    )
    return client, calls


def scripted(*answers: httpx.Response | Exception) -> tuple[Handler, list[httpx.Request]]:
    """A handler giving `answers` in turn (the last one repeats) and keeping the requests."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = answers[min(len(seen), len(answers)) - 1]
        if isinstance(answer, Exception):
            raise answer
        # A fresh copy each time: a response object is read once.
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)

    return handler, seen


class SimulatedTime:
    """Monotonic time that sleeping moves forward instead of waiting.

    For one thread at a time: a jump while another thread's request is in flight
    would make that request arrive a minute late. `on_advance` hears every step
    (e.g. to move a sandbox's clock along).
    """

    def __init__(self, on_advance: Callable[[float], None] = lambda step: None) -> None:
        self._offset = 0.0
        self._on_advance = on_advance

    def __call__(self) -> float:
        return time.monotonic() + self._offset

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._offset += seconds
            self._on_advance(seconds)


class FastTime:
    """Real time running `speed` times faster, for many threads at once.

    Requests really run concurrently; only waits are shortened. Give the
    sandbox `sandbox_clock()` so both sides agree on what a minute is.
    """

    def __init__(self, speed: float) -> None:
        self.speed = speed
        self._origin = time.monotonic()

    def __call__(self) -> float:
        return (time.monotonic() - self._origin) * self.speed

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds / self.speed)

    def sandbox_clock(self) -> Any:
        from reconciler.sandbox.clock import Clock

        outer = self
        epoch = time.time()

        class FastClock(Clock):
            def now(self) -> float:
                return epoch + outer()

        return FastClock()
