"""Codat's two request limits, as the sandbox plays them.

- The per-IP hard limit (`--rate-limit N`): at most N requests in any 60
  seconds, a sliding window. Over it: 429 with `Retry-After`, the whole seconds
  until the oldest request in the window ages out. A refused request is not
  counted, so a client that waits `Retry-After` seconds gets through.
- The client's daily quota (`--daily-quota N`): at most N requests per UTC
  day. Over it: 429 with a `Retry-After` reaching to the next 00:00 UTC, when
  Codat resets it.

`X-Rate-Limit-*` describe the quota period, as Codat documents them: `Limit`
the requests allowed today, `Remaining` those left, `Reset` the date (an HTTP
date) when the quota resets. Without a daily quota they report a limit too big
to matter.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from dataclasses import dataclass
from email.utils import formatdate

from reconciler.sandbox.clock import Clock

WINDOW_SECONDS = 60.0
DAY_SECONDS = 86_400
# Reported when no daily quota is set: big enough that no client throttles itself.
UNLIMITED = 1_000_000


@dataclass(frozen=True, slots=True)
class RateDecision:
    allowed: bool
    retry_after: int  # seconds; 0 when allowed
    limit: int
    remaining: int
    reset_at: float  # epoch seconds of the next quota reset

    def headers(self, skew: float = 0.0) -> dict[str, str]:
        return {
            "X-Rate-Limit-Limit": str(self.limit),
            "X-Rate-Limit-Remaining": str(max(0, self.remaining)),
            "X-Rate-Limit-Reset": formatdate(self.reset_at + skew, usegmt=True),
        }


class CodatLimits:
    """Both limits behind one lock; `admit` decides and counts one request."""

    def __init__(self, per_minute: int | None, clock: Clock, daily: int | None = None) -> None:
        self.per_minute = per_minute
        self.daily = daily
        self._clock = clock
        self._seen: deque[float] = deque()
        self._day = -1
        self._used_today = 0
        self._lock = threading.Lock()

    def admit(self, count: bool = True) -> RateDecision:
        """Count this request if both limits have room; `count=False` only reports."""
        now = self._clock.now()
        day = math.floor(now / DAY_SECONDS)
        reset_at = (day + 1) * DAY_SECONDS
        with self._lock:
            if day != self._day:
                self._day, self._used_today = day, 0
            retry_after = self._minute_wait(now)
            if retry_after == 0 and self.daily is not None and self._used_today >= self.daily:
                retry_after = max(1, math.ceil(reset_at - now))
            allowed = retry_after == 0
            if allowed and count:
                if self.per_minute is not None:
                    self._seen.append(now)
                self._used_today += 1
            limit = UNLIMITED if self.daily is None else self.daily
            remaining = limit - self._used_today
        return RateDecision(allowed, retry_after, limit, remaining, reset_at)

    def _minute_wait(self, now: float) -> int:
        if self.per_minute is None:
            return 0
        while self._seen and self._seen[0] <= now - WINDOW_SECONDS:
            self._seen.popleft()
        if len(self._seen) < self.per_minute:
            return 0
        return max(1, math.ceil(self._seen[0] + WINDOW_SECONDS - now))
