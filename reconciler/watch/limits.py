"""What one client may take of watch's endpoint: a place in the queue, time, bytes.

The endpoint faces the internet (through a proxy or not), and Codat, the kubelet
and whoever else share it. A client's request must come whole within
`request_deadline`, however it spaces its bytes, and its head (request line and
headers) within `max_head` bytes, so that neither a slow client nor a flood of
headers holds a thread or memory for long. How many connections are served at
once is admission.py's.
"""

from __future__ import annotations

import io
import socket
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    # Connections the kernel queues before they are accepted: a burst of deliveries
    # and probes arriving together must not lose SYNs (a lost SYN costs the client 1 s).
    backlog: int = 1024
    # Connections served at once, each by a thread; beyond, see admission.py.
    max_connections: int = 256
    # From the wait for a request's first byte to its body's last.
    request_deadline: float = 10.0
    # The request line and headers together (Codat's deliveries send about 1 KiB).
    max_head: int = 64 * 1024
    # A connection still reading its request after this long gives its place to a
    # new one when all places are taken: a client sends its request at once.
    evict_after: float = 1.0


DEFAULT_LIMITS = Limits()


class HeadTooLarge(Exception):
    """The request line and headers go on past `max_head` bytes."""


class _Deadline(io.RawIOBase):
    """The socket's bytes, each receive allowed only what is left of the deadline:
    a per-receive timeout alone lets a client sending a byte at a time stay forever."""

    def __init__(self, sock: socket.socket) -> None:
        super().__init__()
        self._sock = sock
        self.until = time.monotonic()
        self.received = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        left = self.until - time.monotonic()
        if left <= 0:
            raise TimeoutError("the request took too long")
        self._sock.settimeout(left)
        count = self._sock.recv_into(buffer)
        self.received += count
        return count


class RequestReader:
    """The handler's `rfile`: reads under the request's deadline, and its head under
    `max_head`, never buffering more of the head than that."""

    def __init__(self, sock: socket.socket, limits: Limits) -> None:
        self._limits = limits
        self._raw = _Deadline(sock)
        self._buffered = io.BufferedReader(self._raw)
        self._head_left = limits.max_head
        self.head_ended = False

    def begin(self) -> None:
        """A new request: a new deadline and head allowance."""
        self._raw.until = time.monotonic() + self._limits.request_deadline
        self._raw.received = 0
        self._head_left = self._limits.max_head
        self.head_ended = False

    def readline(self, limit: int = -1) -> bytes:
        """A line of the head (the only reads of the head use readline)."""
        if self._head_left <= 0:
            raise HeadTooLarge(f"request head over {self._limits.max_head} bytes")
        allowed = self._head_left + 1 if limit < 0 else min(limit, self._head_left + 1)
        line = self._buffered.readline(allowed)
        self._head_left -= len(line)
        if self._head_left < 0:
            raise HeadTooLarge(f"request head over {self._limits.max_head} bytes")
        # A head ends with an empty line; one cut short by the client's end of
        # stream is not a request, whatever the parser makes of it.
        self.head_ended = line in (b"\r\n", b"\n")
        return line

    @property
    def received(self) -> int:
        """Bytes received since the request began (the client has started it)."""
        return self._raw.received

    def read(self, size: int = -1) -> bytes:
        return self._buffered.read(size)

    def close(self) -> None:
        self._buffered.close()
