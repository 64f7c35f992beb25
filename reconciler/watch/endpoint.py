"""watch's HTTP side: Codat's deliveries in, probes and metrics out.

The standard library's threaded server is enough: four routes, small bodies,
an answer that only verifies and queues (the work is done by the Reconciler's
own thread), and a reverse proxy or Kubernetes in front for TLS.

POST /webhooks/codat   verified (Svix), parsed, queued; 200 at once.
GET  /healthz          200 while the process serves.
GET  /readyz           200 once the first full reconcile finished, 503 before.
GET  /metrics          Prometheus text.

Bad deliveries get a 4xx and a log line: 411 without a length, 413 over
MAX_BODY, 401 unverified (Svix headers missing, forged, stale, replayed), 400
for a verified body that is not an event watch knows. Nothing is done for any;
nor for a message Codat sends again (200: see signature.py).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

from reconciler.watch.events import BadEvent, Event, parse_event
from reconciler.watch.metrics import WatchMetrics
from reconciler.watch.signature import HEADERS, DeliveryVerifier, Duplicate, Unverified

MAX_BODY = 256 * 1024
WEBHOOK_PATH = "/webhooks/codat"
# A client that opens a connection and sends nothing does not hold a thread for long.
SOCKET_TIMEOUT = 10.0


class Sink(Protocol):
    """Where verified events go (the Reconciler)."""

    ready: threading.Event

    def submit(self, event: Event) -> str: ...


DeliveryLog = Callable[[dict[str, Any]], None]


class WebhookEndpoint(ThreadingHTTPServer):
    daemon_threads = True
    # Without it, a restart within TIME_WAIT could not bind the port again.
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        verifier: DeliveryVerifier,
        metrics: WatchMetrics,
    ) -> None:
        super().__init__(address, _Handler)
        self.verifier = verifier
        self.metrics = metrics
        self.log: DeliveryLog = lambda fields: None
        self.sink: Sink | None = None  # set once the Reconciler exists
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def serve_in_background(self) -> None:
        self._thread = threading.Thread(target=self.serve_forever, name="watch-http",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:  # shutdown() would wait forever for a loop never run
            self.shutdown()
            self._thread.join()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    server: WebhookEndpoint
    timeout = SOCKET_TIMEOUT
    protocol_version = "HTTP/1.1"
    # Headers and body are buffered and leave in one send when the request is done:
    # each send gives up the interpreter lock, and while the worker reconciles, taking
    # it back is what a delivery's answer waits for. No Nagle either, so nothing waits
    # for the client's delayed ACK.
    wbufsize = 64 * 1024
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass  # deliveries are logged with their outcome; probes are not worth a line

    def do_GET(self) -> None:
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
            self._answer(404, b"not found\n")
            return
        status, fields = self._delivery()
        self._answer(status, json.dumps({"outcome": fields["outcome"]}).encode(),
                     "application/json")
        # After the answer: the log is shared with the worker's threads, and waiting
        # for it is no reason to keep Codat waiting.
        self.server.metrics.delivery(status)
        self.server.log({"status": status, **fields})

    def _delivery(self) -> tuple[int, dict[str, Any]]:
        # The id is the sender's word until verified: logged, but cut short.
        message_id = (self.headers.get("svix-id") or "")[:100]
        fields: dict[str, Any] = {"svix_id": message_id}
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            self.close_connection = True
            return 411, {**fields, "outcome": "rejected: no Content-Length"}
        if int(length) > MAX_BODY:
            self.close_connection = True  # the body is left unread
            return 413, {**fields, "outcome": f"rejected: body over {MAX_BODY} bytes"}
        body = self.rfile.read(int(length))
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

    def _answer(self, status: int, body: bytes, content_type: str = "text/plain") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()
