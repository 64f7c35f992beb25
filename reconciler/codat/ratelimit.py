"""Keeping under Codat's rate limits, for all threads of one client together.

Three rules decide when the next request may start:
- a sliding window: at most `max_rate` starts in any `window` seconds. The server
  sees a request a little after we send it, so a start only leaves our window
  `margin` seconds after it would leave the server's;
- the server's own count (`X-Rate-Limit-*`): when it says fewer requests remain
  than our window believes (someone else shares the quota, or its limit is lower),
  the remaining ones are spread until its reset instead of spent in a burst;
- a shared pause: a 429's Retry-After stops every thread, not just the one told.

`delay_for` and `observe` are pure bookkeeping on times passed in, so the rules
are tested with plain numbers; `acquire` adds the clock, the lock and the sleep.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from reconciler.codat.headers import Quota

WINDOW = 60.0
MARGIN = 0.5
# Spreading starts when the server's remaining count falls below this share of its limit.
LOW_SHARE = 0.1
# A daily quota can reset hours away: slow down, but never look hung.
MAX_SPACING = 10.0
MAX_QUOTA_PAUSE = 60.0
# A wait at least this long is told to `acquire`'s caller, so it can say so: a run
# held back by the rate limit must not look hung.
NOTABLE_WAIT = 5.0


class RequestPacer:
    def __init__(
        self,
        max_rate: int,
        *,
        window: float = WINDOW,
        margin: float = MARGIN,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if max_rate < 0:
            raise ValueError("max_rate must be >= 0 (0 means unlimited)")
        self.max_rate = max_rate
        self._span = window + margin
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._starts: deque[float] = deque()
        self._not_before = float("-inf")
        self._spacing = 0.0
        self._spacing_until = float("-inf")

    def acquire(self, on_wait: Callable[[float], None] | None = None) -> None:
        """Block until a request may start, and count it as started. `on_wait` hears
        the first wait of NOTABLE_WAIT or more, before it begins."""
        told = on_wait is None
        while True:
            with self._lock:
                now = self._clock()
                wait = self.delay_for(now)
                if wait <= 0:
                    self._starts.append(now)
                    return
            if not told and wait >= NOTABLE_WAIT:
                assert on_wait is not None
                on_wait(wait)
                told = True
            # Sleep outside the lock, then look again: a pause may have been
            # set, or another thread may have taken the slot meanwhile.
            self._sleep(wait)

    def delay_for(self, now: float) -> float:
        """Seconds from `now` until a start is allowed (0: at once)."""
        self._forget_before(now - self._span)
        earliest = self._not_before
        if self.max_rate and len(self._starts) >= self.max_rate:
            earliest = max(earliest, self._starts[-self.max_rate] + self._span)
        if self._starts and now < self._spacing_until:
            earliest = max(earliest, self._starts[-1] + self._spacing)
        return max(0.0, earliest - now)

    def pause_until(self, when: float) -> None:
        with self._lock:
            self._not_before = max(self._not_before, when)

    def pause(self, seconds: float) -> None:
        self.pause_until(self._clock() + seconds)

    def observe(self, quota: Quota, now: float) -> None:
        """Take the server's view of what is left into account."""
        with self._lock:
            self._forget_before(now - self._span)
            ours = self.max_rate - len(self._starts) if self.max_rate else None
            if ours is not None and quota.remaining >= ours:
                # Our own window is the stricter rule: bursting up to it is safe.
                self._spacing_until = float("-inf")
                return
            if quota.reset_in is None:
                return
            if quota.remaining == 0:
                self._not_before = max(self._not_before, now + min(quota.reset_in, MAX_QUOTA_PAUSE))
            elif quota.remaining < quota.limit * LOW_SHARE:
                self._spacing = min(quota.reset_in / quota.remaining, MAX_SPACING)
                self._spacing_until = now + quota.reset_in
            else:
                self._spacing_until = float("-inf")

    def _forget_before(self, cutoff: float) -> None:
        while self._starts and self._starts[0] <= cutoff:
            self._starts.popleft()
