"""Test doubles for time and for Codat's answers."""

from __future__ import annotations

import threading
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
