"""The sandbox as a pure request handler: bytes in, status/headers/bytes out.

`SandboxApp.handle` is everything the sandbox does: auth, rate limit, routing,
faults, idempotency, latency, and the endpoint itself. The HTTP server and the
in-process httpx transport only carry bytes to and from it, so both modes
behave the same by construction.

Order of a request: rate limits (every request counts, as Codat's per-IP
limit) -> Basic auth -> size -> route -> injected fault (429 and timeout act
here, at the edge) -> idempotency claim or replay -> injected 5xx -> latency
-> the endpoint and the idempotency record in one transaction.

Idempotency as Codat documents it: the first answer to a keyed POST or PATCH,
whatever it was, is stored for 90 minutes and replayed; an injected 500/503
is such an answer (stored whether it came before the change or, `500-after`,
after the change committed). Only a 429 leaves the key free.

The edge clock: `Date` (and `X-Rate-Limit-Reset`) can run `clock_skew_ms`
ahead of (or behind) the clock that stamps `created`, and `date_header` can
be `omit` or `repeat`, as a proxy may drop or duplicate it.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import replace
from email.utils import formatdate
from pathlib import Path

from reconciler.sandbox.clock import Clock
from reconciler.sandbox.faults import FaultInjector, FaultSpec
from reconciler.sandbox.idempotency import IdempotencyKeys, scope
from reconciler.sandbox.messages import MAX_BODY_BYTES, ApiError, SandboxRequest, SandboxResponse
from reconciler.sandbox.ratelimit import CodatLimits, RateDecision
from reconciler.sandbox.resources import IntegrationCatalogue
from reconciler.sandbox.routes import Context, Route, find_route
from reconciler.sandbox.store import SandboxStore
from reconciler.sandbox.webhooks import webhook_sender

log = logging.getLogger(__name__)

IDEMPOTENT_METHODS = ("POST", "PATCH")
_RETRY_AFTER_FAULT = 1
DATE_HEADER_MODES = ("send", "omit", "repeat")


class SandboxApp:
    """One sandbox world over one SQLite file.

    Options: `api_key` (None: no auth, the in-process mode), `latency_ms`,
    `faults` (specs or `KIND:METHOD:PATH_GLOB:RATE` strings), `seed`,
    `rate_limit` (requests per minute, None for none), `max_page_size` (pages
    smaller than asked), `integrations` (the accepted platform keys; None for
    the built-in DEFAULT_INTEGRATIONS), `disabled_integrations` (listed with
    `enabled: false`, refused a connection), `clock` (move it with
    `app.clock.advance(s)`), `daily_quota` (requests per UTC day), `clock_skew_ms`
    and `date_header` (see the module doc), `webhook_url` and `webhook_secret`
    (`whsec_...`: Svix-signed events for committed changes, see webhooks.py).
    """

    def __init__(
        self,
        store: SandboxStore | str | Path,
        *,
        api_key: str | None = None,
        latency_ms: int = 0,
        faults: Iterable[FaultSpec | str] = (),
        seed: int | None = None,
        rate_limit: int | None = None,
        max_page_size: int | None = None,
        integrations: Iterable[str] | None = None,
        disabled_integrations: Iterable[str] = (),
        clock: Clock | None = None,
        daily_quota: int | None = None,
        clock_skew_ms: int = 0,
        date_header: str = "send",
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        client_id: str = "6a2d3f0e-5c4b-4a39-8e7d-1f0c9b8a7d6e",
    ) -> None:
        self.store = store if isinstance(store, SandboxStore) else SandboxStore(store)
        self.api_key = api_key
        self.clock = clock or Clock()
        self.latency = max(0, latency_ms) / 1000
        self.faults = FaultInjector(faults, seed)
        if date_header not in DATE_HEADER_MODES:
            raise ValueError(f"date_header must be one of {', '.join(DATE_HEADER_MODES)}")
        self.rate = CodatLimits(rate_limit, self.clock, daily_quota)
        self.skew = clock_skew_ms / 1000
        self.date_header = date_header
        self.idempotency = IdempotencyKeys(self.store, self.clock)
        catalogue = IntegrationCatalogue(integrations, disabled_integrations)
        # Last: the sender starts a thread, which nothing may fail after.
        self.webhooks = webhook_sender(webhook_url, webhook_secret, self.clock)
        self.context = Context(self.clock, catalogue, max_page_size, client_id, self.webhooks)
        self._expected_auth = (
            None if api_key is None else "Basic " + base64.b64encode(api_key.encode()).decode()
        )
        self._stopping = threading.Event()
        # (method, path, status) of recent requests, for tests that count calls.
        self.calls: deque[tuple[str, str, int]] = deque(maxlen=100_000)

    def stop(self) -> None:
        """Cut short every latency wait and held `timeout` request; stop webhook deliveries."""
        self._stopping.set()
        self.webhooks.close()

    def wait(self, seconds: float) -> bool:
        """Sleep up to `seconds`; True if the app was stopped meanwhile."""
        return self._stopping.wait(seconds)

    def handle(
        self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes
    ) -> SandboxResponse:
        started = time.monotonic()
        request = SandboxRequest.build(method, path, query, headers, body)
        decision = self.rate.admit()
        try:
            if not decision.allowed:
                raise ApiError(429, retry_after=decision.retry_after)
            response = self._serve(request, started)
        except ApiError as err:
            self._pause_until(started)
            response = err.response()
        except Exception:
            # A bug in the sandbox must still answer like Codat would, and keep serving.
            correlation = uuid.uuid4().hex
            log.exception("sandbox failure on %s %s (%s)", method, path, correlation)
            response = ApiError(500).response()
        self.calls.append((request.method, path, response.status))
        return replace(response, headers={**response.headers, **self._stamp(decision)})

    def refuse(self, status: int, message: str | None = None) -> SandboxResponse:
        """An error answered before a request could reach `handle` (e.g. by the HTTP layer)."""
        response = ApiError(status, message).response()
        stamp = self._stamp(self.rate.admit(False))
        return replace(response, headers={**response.headers, **stamp})

    def _stamp(self, decision: RateDecision) -> dict[str, str]:
        # Date comes last so a replayed idempotent answer carries the time it is sent,
        # as any HTTP message does; it is the edge's clock, not the one of `created`.
        headers = decision.headers(self.skew)
        if self.date_header != "omit":
            date = formatdate(self.clock.now() + self.skew, usegmt=True)
            # A repeated field reaches a client joined by a comma (RFC 9110, 5.3).
            headers["Date"] = f"{date}, {date}" if self.date_header == "repeat" else date
        return headers

    def _authorized(self, request: SandboxRequest) -> bool:
        if self._expected_auth is None:
            return True
        given = request.headers.get("authorization", "")
        try:
            # Accept any valid base64 spelling of the key, compare in constant time.
            scheme, _, token = given.partition(" ")
            decoded = base64.b64decode(token, validate=True)
        except (binascii.Error, ValueError):
            return False
        assert self.api_key is not None
        return scheme.lower() == "basic" and hmac.compare_digest(decoded, self.api_key.encode())

    def _serve(self, request: SandboxRequest, started: float) -> SandboxResponse:
        if not self._authorized(request):
            raise ApiError(401, "Unauthorized")
        if len(request.body) > MAX_BODY_BYTES:
            raise ApiError(413)
        route, request.params = find_route(request.method, request.path)
        fault = self.faults.decide(request.method, request.path)
        # At the edge, before any idempotency bookkeeping: a 429 never holds a key.
        if fault == "timeout":
            return SandboxResponse(504, {}, b"", fault="timeout")
        if fault == "429":
            raise ApiError(429, retry_after=_RETRY_AFTER_FAULT)
        key = request.headers.get("idempotency-key")
        key_scope = None
        if key and request.method in IDEMPOTENT_METHODS:
            key_scope = scope(self.api_key or "", request.method, request.path, key)
            outcome = self.idempotency.begin(key_scope, request.body)
            if outcome.kind == "mismatch":
                raise ApiError(422, "This Idempotency-Key was already used with another body.")
            if outcome.kind == "in_flight":
                raise ApiError(409, "A request with this Idempotency-Key is still in progress.")
            if outcome.kind == "replay" and outcome.record is not None:
                self._pause_until(started)
                record = outcome.record
                assert record.status is not None
                return SandboxResponse(record.status, record.headers, record.body)
        self._pause_until(started)
        if fault in ("500", "503"):
            # Failed before the change: the failure is the answer the key keeps.
            response = _server_error(int(fault))
            if key_scope is not None:
                with self.store.write() as tx:
                    self.idempotency.complete(tx, key_scope, response)
            return response
        response = self._run(route, request, key_scope, failed_after=fault == "500-after")
        return replace(response, fault="lost") if fault == "lost" else response

    def _run(
        self, route: Route, request: SandboxRequest, key_scope: str | None, failed_after: bool
    ) -> SandboxResponse:
        if not route.writes:
            with self.store.read() as tx:
                response = route.handler(self.context, tx, request)
            return _server_error(500) if failed_after else response
        try:
            with self.store.write() as tx:
                response = route.handler(self.context, tx, request)
                if failed_after:
                    # The change commits, yet the answer is a 500 (and is what the key keeps).
                    response = _server_error(500)
                if key_scope is not None:
                    self.idempotency.complete(tx, key_scope, response)
                return response
        except ApiError as err:
            # The change rolled back; the refusal itself is what the key replays.
            response = err.response()
        except BaseException:
            if key_scope is not None:
                self.idempotency.release(key_scope)
            raise
        if key_scope is not None:
            with self.store.write() as tx:
                self.idempotency.complete(tx, key_scope, response)
        return response

    def _pause_until(self, started: float) -> None:
        remaining = started + self.latency - time.monotonic()
        if remaining > 0:
            self.wait(remaining)


def _server_error(status: int) -> SandboxResponse:
    return ApiError(status, retry_after=None if status == 500 else _RETRY_AFTER_FAULT).response()
