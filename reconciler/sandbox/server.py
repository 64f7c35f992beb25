"""`sandbox serve`: SandboxApp behind a threaded HTTP/1.1 server on loopback.

One thread per connection (keep-alive), so at least as many requests run at
once as clients connect. The server only moves bytes: every decision, faults
included, is SandboxApp's. It acts out two faults itself: `lost` closes the
connection without a byte of answer, `timeout` holds the request unanswered
for HOLD_SECONDS or until the server stops.
"""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from reconciler.sandbox.app import SandboxApp
from reconciler.sandbox.messages import MAX_BODY_BYTES, SandboxResponse

HOLD_SECONDS = 120.0
# Bodies over 1 MiB are read and dropped (so the client sees the 413 rather than
# a reset) up to this size; beyond it the connection is closed after the 413.
_DRAIN_LIMIT = 64 * 1024 * 1024
_REASONS = {status.value: status.phrase for status in HTTPStatus}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], app: SandboxApp) -> None:
        self.app = app
        self.open_sockets: set[socket.socket] = set()
        self.sockets_lock = threading.Lock()
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client hanging up mid-request (a timeout, Ctrl-C, a `lost` fault on
        # its side) is routine for a server: no traceback on the operator's screen.
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    timeout = 300  # idle keep-alive connections give their thread back eventually
    server: _Server

    def setup(self) -> None:
        super().setup()
        with self.server.sockets_lock:
            self.server.open_sockets.add(self.connection)

    def finish(self) -> None:
        with self.server.sockets_lock:
            self.server.open_sockets.discard(self.connection)
        super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # a request log on stderr would cost more than the request

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # Malformed request lines and headers also get Codat's error body.
        self.close_connection = True
        self._write(self.server.app.refuse(code, message))

    def _serve(self) -> None:
        app = self.server.app
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            self._write(app.refuse(411, "Send a Content-Length; chunked bodies are not supported"))
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True
            self._write(app.refuse(400, "Content-Length is not a number"))
            return
        if length > MAX_BODY_BYTES:
            self._drain(length)
            self._write(app.refuse(413))
            return
        body = self.rfile.read(length) if length else b""
        path, _, query = self.path.partition("?")
        answer = app.handle(self.command, path, query, dict(self.headers.items()), body)
        if answer.fault == "timeout":
            app.wait(HOLD_SECONDS)
        if answer.fault is not None:
            self.close_connection = True
            return
        self._write(answer)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

    def _drain(self, length: int) -> None:
        if length > _DRAIN_LIMIT:
            self.close_connection = True
            return
        while length > 0:
            chunk = self.rfile.read(min(length, 1 << 16))
            if not chunk:
                break
            length -= len(chunk)

    def _write(self, answer: SandboxResponse) -> None:
        # One write for head and body: two small writes on one socket meet
        # delayed ACKs and cost ~40 ms per request.
        reason = _REASONS.get(answer.status, "")
        head = [f"HTTP/1.1 {answer.status} {reason}"]
        head += [f"{name}: {value}" for name, value in answer.headers.items()]
        head.append(f"Content-Length: {len(answer.body)}")
        if self.close_connection:
            head.append("Connection: close")
        body = b"" if self.command == "HEAD" else answer.body
        data = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body
        try:
            self.wfile.write(data)
        except OSError:
            self.close_connection = True


class SandboxServer:
    """The HTTP server; `start()` serves from a background thread, `stop()` ends it."""

    def __init__(self, app: SandboxApp, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self._httpd = _Server((host, port), app)
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        address, port = self._httpd.server_address[:2]
        host = address.decode() if isinstance(address, bytes | bytearray) else str(address)
        return f"http://{'[' + host + ']' if ':' in host else host}:{port}"

    def start(self) -> SandboxServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, release held requests, and close open connections."""
        self.app.stop()
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.server_close()
        with self._httpd.sockets_lock:
            sockets = list(self._httpd.open_sockets)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
