"""The sandbox's notion of now: a time source plus an offset tests can move.

Idempotency expiry (90 minutes), rate-limit windows (60 s) and the daily quota's
midnight read this clock, so a test can jump past them with `advance(seconds)`,
or start at a chosen moment with `move_to(epoch)` (five to midnight UTC), instead
of waiting or depending on the time of day. `source` is the wall clock by default;
a test may give its own.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime


class Clock:
    def __init__(self, source: Callable[[], float] = time.time) -> None:
        self._source = source
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        """Seconds since the epoch, as the sandbox sees them."""
        return self._source() + self._offset

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += seconds

    def move_to(self, epoch: float) -> None:
        """From now on, time runs on from `epoch`."""
        with self._lock:
            self._offset = epoch - self._source()

    def iso_now(self) -> str:
        """Codat's timestamp style: UTC, millisecond precision, `Z`."""
        moment = datetime.fromtimestamp(self.now(), UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
