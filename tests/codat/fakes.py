"""Test doubles for time and for Codat's answers."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import httpx

from reconciler.codat import ApiCall, CodatClient

T = TypeVar("T")
R = TypeVar("R")

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


class VirtualTime:
    """Time shared by many threads that passes only while all of them sleep.

    `map` runs work on worker threads it counts; `sleep` parks a thread until
    its wake-up time, and once every worker is parked the clock jumps to the
    earliest wake-up. Waits cost no real time, and what a test reads off this
    clock is exactly what the code under test chose to wait, however loaded the
    machine. Only workers may sleep while `map` runs; blocking on a lock held
    by a running thread is fine.
    """

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._workers = 0
        self._wakeups: list[float] = []
        self._changed = threading.Condition()
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        with self._changed:
            return self._now

    def sleep(self, seconds: float) -> None:
        with self._changed:
            self.sleeps.append(seconds)
            if seconds <= 0:
                return
            wake = self._now + seconds
            self._wakeups.append(wake)
            self._advance_if_all_asleep()
            while self._now < wake:
                self._changed.wait()
            self._wakeups.remove(wake)

    def map(self, work: Callable[[T], R], items: Iterable[T], threads: int) -> list[R]:
        """`work(item)` for every item, from `threads` worker threads; results in order."""
        todo = deque(enumerate(items))
        results: dict[int, R] = {}
        errors: list[BaseException] = []
        lock = threading.Lock()

        def worker() -> None:
            try:
                while True:
                    with lock:
                        if not todo or errors:
                            return
                        index, item = todo.popleft()
                    result = work(item)
                    with lock:
                        results[index] = result
            except BaseException as error:
                with lock:
                    errors.append(error)
            finally:
                with self._changed:
                    self._workers -= 1
                    self._advance_if_all_asleep()

        # Counted before any starts: a first worker asleep alone must not move time.
        with self._changed:
            self._workers += threads
        pool = [threading.Thread(target=worker) for _ in range(threads)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()
        if errors:
            raise errors[0]
        return [results[index] for index in sorted(results)]

    def sandbox_clock(self) -> Any:
        """A sandbox Clock reading this time, so both sides agree on what a minute is."""
        from reconciler.sandbox.clock import Clock

        epoch = 1_780_000_000.0
        return Clock(lambda: epoch + self())

    def _advance_if_all_asleep(self) -> None:
        # A woken thread's wake-up stays listed until it runs again; it is never
        # later than now, so the jump below cannot skip past a runnable thread.
        if self._wakeups and len(self._wakeups) >= self._workers:
            self._now = max(self._now, min(self._wakeups))
            self._changed.notify_all()
