"""One record per HTTP attempt and one per retry, for logs and progress (`--log-format json`).

It holds no header and no body, so nothing secret can reach a log through it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ApiCall:
    method: str
    path: str  # URL path only; ids are fine, the query string is left out
    status: int | None  # None: no HTTP answer (connection failed, lost, timed out)
    duration_ms: float
    attempt: int
    correlation_id: str | None = None
    error: str | None = None


Observer = Callable[[ApiCall], None]


@dataclass(frozen=True, slots=True)
class Retrying:
    """A request about to be sent again, or held back by the rate limit for a while:
    said at once, so no wait is ever silent."""

    method: str
    url: str  # the whole URL, query included: it carries ids and names, never the key
    attempt: int  # the attempt about to be made
    attempts: int  # how many will be made at most
    cause: str  # "a timeout", "503 Service Unavailable", "the rate limit", ...
    wait_s: float  # how long until that attempt may start
    retry: bool = True  # False: not a retry, only a wait before an attempt

    @property
    def event(self) -> str:
        return "retry" if self.retry else "wait"

    def describe(self) -> str:
        if not self.retry:
            return f"waiting {self.wait_s:.0f} s before {self.method} {self.url}: {self.cause}"
        text = f"retrying {self.method} {self.url} (attempt {self.attempt} of {self.attempts}) "
        text += f"after {self.cause}"
        if self.wait_s >= 1:
            text += f", in {self.wait_s:.0f} s"
        return text


RetryObserver = Callable[[Retrying], None]
