"""The sandbox's notion of now: wall time plus an offset tests can move forward.

Idempotency expiry (90 minutes) and rate-limit windows (60 s) read this clock,
so a test can jump past them with `clock.advance(seconds)` instead of waiting.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime


class Clock:
    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        """Seconds since the epoch, as the sandbox sees them."""
        return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += seconds

    def iso_now(self) -> str:
        """Codat's timestamp style: UTC, millisecond precision, `Z`."""
        moment = datetime.fromtimestamp(self.now(), UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
