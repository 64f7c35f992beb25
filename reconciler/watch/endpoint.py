"""watch's HTTP side: Codat's deliveries in, probes and metrics out.

The standard library's threaded server is enough, held to limits: four routes,
small bodies, an answer that only verifies and queues (the work is done by the
Reconciler's own thread), and a reverse proxy or Kubernetes in front for TLS.

POST /webhooks/codat   verified (Svix), parsed, queued; 200 at once.
GET  /healthz          200 while the process serves.
GET  /readyz           200 once the first full reconcile finished, 503 before.
GET  /metrics          Prometheus text.

Bad deliveries get a 4xx and a log line: 411 without a length, 400 for a
length that is not ASCII digits, 413 over MAX_BODY, 401 unverified (Svix headers
missing, forged, stale, replayed), 400 for a verified body that is not an event
watch knows. Nothing is done for any; nor for a message Codat sends again (200:
see signature.py).

Hostile or broken clients meet the limits (limits.py): a request not whole within
its deadline gets 408, a head over its cap 431, both then closed; connections
over the cap are dropped if slow, else refused with 503 (admission.py). Each is
counted on /metrics and logged, never as a traceback.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

from reconciler.watch.admission import Admission, Admitted
from reconciler.watch.events import BadEvent, Event, parse_event
from reconciler.watch.limits import DEFAULT_LIMITS, HeadTooLarge, Limits, RequestReader
from reconciler.watch.metrics import WatchMetrics
from reconciler.watch.signature import HEADERS, DeliveryVerifier, Duplicate, Unverified

MAX_BODY = 256 * 1024
WEBHOOK_PATH = "/webhooks/codat"
# A length is ASCII digits (RFC 9110); str.isdigit() would take '²' or '٣'.
LENGTH = re.compile(r"[0-9]+")
# After the last answer on a connection, what the client still sends is read and
# dropped for this long (and at most this much) before closing: closing over
# unread bytes resets the connection, which can destroy the answer before the
# client reads it (a 431 to a flood of headers, a 413 to a body sent anyway).
LINGER = 0.5
LINGER_BYTES = MAX_BODY
# Refusals for want of a place come in floods: one log line per this long says how many.
BUSY_SAID_EVERY = 60.0
BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
    b"Content-Length: 5\r\nRetry-After: 1\r\nConnection: close\r\n\r\nbusy\n"
)


class Sink(Protocol):
    """Where verified events go (the Reconciler)."""

    ready: threading.Event

    def submit(self, event: Event) -> str: ...


DeliveryLog = Callable[[dict[str, Any]], None]
# Requests and connections refused before they were a delivery (fields: status,
# reason, and the client's address or how many were refused).
RefusalLog = Callable[[dict[str, Any]], None]
_Request = socket.socket | tuple[bytes, socket.socket]


class WebhookEndpoint(ThreadingHTTPServer):
    daemon_threads = True
    # Without it, a restart within TIME_WAIT could not bind the port again.
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        verifier: DeliveryVerifier,
        metrics: WatchMetrics,
        limits: Limits = DEFAULT_LIMITS,
    ) -> None:
        self.request_queue_size = limits.backlog  # listen() is called by __init__
        super().__init__(address, _Handler)
        self.limits = limits
        self.admission = Admission(limits.max_connections, limits.evict_after)
        self.verifier = verifier
        self.metrics = metrics
        self.log: DeliveryLog = lambda fields: None
        self.refusals: RefusalLog = lambda fields: None
        self.sink: Sink | None = None  # set once the Reconciler exists
        self._thread: threading.Thread | None = None
        self._busy_lock = threading.Lock()
        self._busy_unsaid = {"refused": 0, "evicted": 0}
        self._busy_said_at: float | None = None

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def serve_in_background(self) -> None:
        self._thread = threading.Thread(target=self.serve_forever, name="watch-http", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:  # shutdown() would wait forever for a loop never run
            self.shutdown()
            self._thread.join()
        self.server_close()

    def process_request(self, request: _Request, client_address: Any) -> None:
        admitted = self.admission.admit(_socket(request))
        if admitted is Admitted.REFUSED:
            self._refuse_busy(_socket(request))
            return
        if admitted is Admitted.EVICTED:
            self._busy("evicted")
        try:
            super().process_request(request, client_address)
        except BaseException:  # no thread (none left to start): its place is not taken
            self.admission.leave(_socket(request))
            raise

    def process_request_thread(self, request: _Request, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.admission.leave(_socket(request))

    def shutdown_request(self, request: _Request) -> None:
        sock = _socket(request)
        try:
            sock.shutdown(socket.SHUT_WR)
            until, drained = time.monotonic() + LINGER, 0
            while drained < LINGER_BYTES and (left := until - time.monotonic()) > 0:
                sock.settimeout(left)
                chunk = sock.recv(64 * 1024)
                if not chunk:
                    break
                drained += len(chunk)
        except OSError:
            pass  # gone already, or still sending when the time was up
        self.close_request(request)

    def handle_error(self, request: _Request, client_address: Any) -> None:
        # The standard library prints a traceback on stderr, which would break JSON logs.
        err = sys.exc_info()[1]
        if isinstance(err, OSError):
            return  # the client left: nobody to answer, nothing to say
        self.metrics.refused("error")
        self.refusals(
            {
                "status": 500,
                "reason": f"unexpected {type(err).__name__}",
                "client": _client(client_address),
            }
        )

    def refused(self, status: int, reason: str, client: str, request: str) -> None:
        """A request answered with an error before it was a delivery."""
        kind = {408: "timeout", 431: "head_too_large"}.get(status, "malformed")
        self.metrics.refused(kind)
        fields: dict[str, Any] = {"status": int(status), "reason": reason, "client": client}
        if request:
            fields["request"] = request
        self.refusals(fields)

    def _refuse_busy(self, sock: socket.socket) -> None:
        # On the accepting thread: nothing here may wait for the client.
        try:
            sock.setblocking(False)
            with contextlib.suppress(OSError):
                sock.recv(64 * 1024)  # what arrived already (see LINGER)
            sock.send(BUSY)
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        self.close_request(sock)
        self._busy("refused")

    def _busy(self, kind: str) -> None:
        self.metrics.refused("busy" if kind == "refused" else kind)
        with self._busy_lock:
            self._busy_unsaid[kind] += 1
            now = time.monotonic()
            if self._busy_said_at is not None and now - self._busy_said_at < BUSY_SAID_EVERY:
                return
            counts, self._busy_said_at = dict(self._busy_unsaid), now
            self._busy_unsaid = dict.fromkeys(counts, 0)
        self.refusals(
            {
                "status": 503,
                "reason": f"all {self.limits.max_connections} connections taken",
                **counts,
            }
        )


def _socket(request: _Request) -> socket.socket:
    assert isinstance(request, socket.socket), "a TCP server's requests are sockets"
    return request


def _client(address: Any) -> str:
    return str(address[0]) if isinstance(address, tuple) and address else str(address)


class _Handler(BaseHTTPRequestHandler):
    server: WebhookEndpoint
    protocol_version = "HTTP/1.1"
    # Headers and body are buffered and leave in one send when the request is done:
    # each send gives up the interpreter lock, and while the worker reconciles, taking
    # it back is what a delivery's answer waits for. No Nagle either, so nothing waits
    # for the client's delayed ACK.
    wbufsize = 64 * 1024
    disable_nagle_algorithm = True
    error_message_format = "%(code)d %(message)s\n"
    error_content_type = "text/plain"

    def setup(self) -> None:
        super().setup()
        self.rfile.close()
        self.reader = RequestReader(self.connection, self.server.limits)
        self.rfile = self.reader  # type: ignore[assignment]

    def handle_one_request(self) -> None:
        self.close_connection = True
        if not self.server.admission.reading(self.connection):
            return  # its place was taken
        self.reader.begin()
        self.requestline, self.command = "", ""
        # What an error before the request line is read is answered in.
        self.request_version = self.protocol_version
        self.answering = False
        try:
            self._one_request()
        except HeadTooLarge as err:
            self._refuse(431, str(err))
        except TimeoutError:
            # Not for a connection that never began a request (an idle keep-alive), nor
            # for one that does not read its answer: closed without a word.
            if self.reader.received and not self.answering:
                deadline = self.server.limits.request_deadline
                self._refuse(408, f"request not whole within {deadline:g} s")
        except OSError:
            pass  # the client left, or its place was taken

    def _one_request(self) -> None:
        self.raw_requestline = self.rfile.readline(65537)
        if not self.raw_requestline.endswith(b"\n"):
            return  # the client left (or its place was taken) before a whole line
        if not self.parse_request():
            return  # answered with an error
        if not self.reader.head_ended:
            self.close_connection = True  # cut short by the client: nobody to answer
            return
        if self.command == "GET":
            self.do_GET()
        elif self.command == "POST":
            self.do_POST()
        else:
            self.send_error(501, f"unsupported method {self.command[:20]}")
            return
        self.wfile.flush()

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # Every error the parser answers (400, 414, 431, 505) is logged and counted.
        self.server.refused(
            code, message or "", _client(self.client_address), self.requestline[:100]
        )
        self.connection.settimeout(self.server.limits.request_deadline)
        super().send_error(code, message, explain)

    def _refuse(self, code: int, message: str) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):  # the client left meanwhile
            self.send_error(code, message)
            self.wfile.flush()

    def _whole(self) -> bool:
        """The request is read: from here on it is answered, no longer evicted."""
        if not self.server.admission.answering(self.connection):
            self.close_connection = True
            return False
        self.answering = True
        # A client that does not read its answer is dropped as one slow to ask.
        self.connection.settimeout(self.server.limits.request_deadline)
        return True

    def log_message(self, format: str, *args: Any) -> None:
        pass  # deliveries and refusals are logged by the endpoint; probes not at all

    def do_GET(self) -> None:
        if not self._whole():
            return
        if self.path == "/healthz":
            self._answer(200, b"ok\n")
        elif self.path == "/readyz":
            ready = self.server.sink is not None and self.server.sink.ready.is_set()
            self._answer(200 if ready else 503, b"ready\n" if ready else b"not ready\n")
        elif self.path == "/metrics":
            body, content_type = self.server.metrics.exposition()
            self._answer(200, body, content_type)
        else:
            self._answer(404, b"not found\n")

    def do_POST(self) -> None:
        if self.path != WEBHOOK_PATH:
            if self._whole():
                self.close_connection = True  # its body is left unread
                self._answer(404, b"not found\n")
            return
        delivered = self._delivery()
        if delivered is None:
            return
        status, fields = delivered
        self._answer(
            status, json.dumps({"outcome": fields["outcome"]}).encode(), "application/json"
        )
        # After the answer: the log is shared with the worker's threads, and waiting
        # for it is no reason to keep Codat waiting.
        self.server.metrics.delivery(status)
        self.server.log({"status": status, **fields})

    def _delivery(self) -> tuple[int, dict[str, Any]] | None:
        """The answer and log fields; None if the client left before the whole request."""
        # The id is the sender's word until verified: logged, but cut short.
        message_id = (self.headers.get("svix-id") or "")[:100]
        fields: dict[str, Any] = {"svix_id": message_id}
        refusal = self._unread(self.headers.get_all("Content-Length") or [])
        if refusal is not None:
            self.close_connection = True  # the body is left unread
            return (refusal[0], {**fields, "outcome": refusal[1]}) if self._whole() else None
        length = int(self.headers["Content-Length"].strip(" \t"))
        body = self.rfile.read(length)
        if len(body) < length or not self._whole():
            self.close_connection = True
            return None
        missing = [h for h in HEADERS if not self.headers.get(h)]
        if missing:
            return 401, {**fields, "outcome": f"unverified: no {', '.join(missing)} header"}
        try:
            self.server.verifier.verify(body, {h: self.headers[h] for h in HEADERS})
        except Unverified as err:
            return 401, {**fields, "outcome": f"unverified: {err}"}
        except Duplicate as err:
            return 200, {**fields, "outcome": f"duplicate: {err}"}
        try:
            event = parse_event(body)
        except BadEvent as err:
            return 400, {**fields, "outcome": f"rejected: {err}"}
        fields["event_type"] = event.type
        sink = self.server.sink
        if sink is None:  # not yet started: Codat retries later
            return 503, {**fields, "outcome": "not started yet"}
        return 200, {**fields, "outcome": sink.submit(event)}

    def _unread(self, lengths: list[str]) -> tuple[int, str] | None:
        """Why the body is not to be read (status, outcome), or None."""
        if self.headers.get("Transfer-Encoding") is not None:
            return 411, "rejected: Transfer-Encoding (only a Content-Length body is read)"
        if not lengths:
            return 411, "rejected: no Content-Length"
        values = {value.strip(" \t") for value in lengths}
        if len(values) > 1 or not LENGTH.fullmatch(length := values.pop()):
            return 400, "rejected: Content-Length is not a number of bytes"
        # Compared as text first: int() of thousands of digits is slow, or refused.
        if len(length) > len(str(MAX_BODY)) or int(length) > MAX_BODY:
            return 413, f"rejected: body over {MAX_BODY} bytes"
        return None

    def _answer(self, status: int, body: bytes, content_type: str = "text/plain") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()
