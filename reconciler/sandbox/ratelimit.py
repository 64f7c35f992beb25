"""A sliding-window request limit: at most N requests in any 60 seconds.

Headers on every answer: `X-Rate-Limit-Limit` (N), `X-Rate-Limit-Remaining`
(requests left in the current window) and `X-Rate-Limit-Reset`, the whole
seconds until the oldest request in the window ages out and frees a slot (0 when
the window is empty). A refused request is not counted, so a client that waits
`Retry-After` seconds gets through.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from dataclasses import dataclass

from reconciler.sandbox.clock import Clock

WINDOW_SECONDS = 60.0
# Reported when no limit is set: big enough that no client throttles itself.
UNLIMITED = 1_000_000


@dataclass(frozen=True, slots=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    reset: int

    def headers(self) -> dict[str, str]:
        return {
            "X-Rate-Limit-Limit": str(self.limit),
            "X-Rate-Limit-Remaining": str(self.remaining),
            "X-Rate-Limit-Reset": str(self.reset),
        }


class RateLimiter:
    def __init__(self, limit: int | None, clock: Clock) -> None:
        self.limit = limit
        self._clock = clock
        self._seen: deque[float] = deque()
        self._lock = threading.Lock()

    def admit(self, count: bool = True) -> RateDecision:
        """Count this request if the window has room; `count=False` only reports."""
        if self.limit is None:
            return RateDecision(True, UNLIMITED, UNLIMITED, 0)
        now = self._clock.now()
        with self._lock:
            while self._seen and self._seen[0] <= now - WINDOW_SECONDS:
                self._seen.popleft()
            allowed = len(self._seen) < self.limit
            if allowed and count:
                self._seen.append(now)
            reset = math.ceil(self._seen[0] + WINDOW_SECONDS - now) if self._seen else 0
            remaining = self.limit - len(self._seen)
        return RateDecision(allowed, self.limit, remaining, max(reset, 1) if not allowed else reset)
