"""When a failed attempt is worth another, and how long to wait first."""

from __future__ import annotations

import random

import httpx

BASE_DELAY = 0.2
MAX_DELAY = 10.0
# A Retry-After longer than this is reported rather than silently waited out.
MAX_RETRY_AFTER = 300.0

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

# These failed before a byte reached the server: the request cannot have been applied.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def backoff(attempt: int, rng: random.Random) -> float:
    """Exponential backoff with full jitter, so parallel retries do not stampede."""
    return rng.uniform(0.0, min(MAX_DELAY, BASE_DELAY * 2 ** (attempt - 1)))


def should_retry(response: httpx.Response, *, idempotent_key: bool) -> bool:
    status = response.status_code
    if status in RETRY_STATUSES:
        return True
    # With an Idempotency-Key, 409 means "the first request with this key is
    # still running": try again later. Without one it is a real conflict.
    return status == 409 and idempotent_key
