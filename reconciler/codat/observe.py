"""One record per HTTP attempt, for logs and progress (`--log-format json`).

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
