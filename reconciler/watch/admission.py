"""Which connections the endpoint serves: at most `max_connections` at once.

Each served connection holds a thread, so their number is capped. When all
places are taken, a new connection takes the place of the one that has been
reading its request the longest, if that is over `evict_after`: clients holding
places by sending slowly (or not at all) are dropped, so a probe or a delivery,
which sends its request at once, is still answered. When no place can be freed
that way (every place busy answering, or reading for less than `evict_after`: a
real burst), the new connection is refused at once with a 503.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable
from enum import Enum


class Admitted(Enum):
    FREE = "free"  # a place was free
    EVICTED = "evicted"  # a slow client's place was taken
    REFUSED = "refused"


class Admission:
    def __init__(
        self, max_connections: int, evict_after: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._max = max_connections
        self._evict_after = evict_after
        self._clock = clock
        self._lock = threading.Lock()
        # Each served connection: since when it reads its request, None while answered.
        self._served: dict[socket.socket, float | None] = {}

    @property
    def served(self) -> int:
        with self._lock:
            return len(self._served)

    def admit(self, sock: socket.socket) -> Admitted:
        with self._lock:
            now = self._clock()
            if len(self._served) < self._max:
                self._served[sock] = now
                return Admitted.FREE
            reading = [(since, s) for s, since in self._served.items() if since is not None]
            since, slowest = min(reading, key=lambda pair: pair[0], default=(now, None))
            if slowest is None or now - since < self._evict_after:
                return Admitted.REFUSED
            del self._served[slowest]
            self._served[sock] = now
        # Wakes its thread's receive with an end of stream: it leaves, answering nothing
        # (unless it left meanwhile).
        with contextlib.suppress(OSError):
            slowest.shutdown(socket.SHUT_RDWR)
        return Admitted.EVICTED

    def reading(self, sock: socket.socket) -> bool:
        """The connection waits for a request; False if its place was taken."""
        return self._mark(sock, self._clock())

    def answering(self, sock: socket.socket) -> bool:
        """The request is read whole: no longer to be evicted. False if it already was."""
        return self._mark(sock, None)

    def leave(self, sock: socket.socket) -> None:
        with self._lock:
            self._served.pop(sock, None)

    def _mark(self, sock: socket.socket, since: float | None) -> bool:
        with self._lock:
            if sock not in self._served:
                return False
            self._served[sock] = since
            return True
