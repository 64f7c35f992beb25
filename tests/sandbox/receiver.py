"""A webhook consumer on loopback for tests: records every delivery, can refuse the first few."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Delivery:
    headers: dict[str, str]  # lower-case names
    body: bytes
    status: int  # what the receiver answered


class WebhookReceiver:
    """`with WebhookReceiver(fail_first=2) as rx: ... rx.wait_for(3)`."""

    def __init__(self, fail_first: int = 0) -> None:
        self.deliveries: list[Delivery] = []
        self._fail_first = fail_first
        self._changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._changed:
                    status = 500 if len(receiver.deliveries) < receiver._fail_first else 200
                    headers = {k.lower(): v for k, v in self.headers.items()}
                    receiver.deliveries.append(Delivery(headers, body, status))
                    receiver._changed.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/codat/events"

    def accepted(self) -> list[Delivery]:
        with self._changed:
            return [d for d in self.deliveries if d.status == 200]

    def wait_for(self, count: int, timeout: float = 20.0) -> list[Delivery]:
        """The first `count` accepted deliveries, waiting for them up to `timeout` s."""
        with self._changed:
            self._changed.wait_for(
                lambda: sum(d.status == 200 for d in self.deliveries) >= count, timeout
            )
        accepted = self.accepted()
        assert len(accepted) >= count, f"{len(accepted)} of {count} deliveries arrived"
        return accepted[:count]

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
