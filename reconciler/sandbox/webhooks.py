"""Webhook deliveries, signed the way Codat's (Svix) are, sent after the change commits.

A handler publishes an event on its transaction; the event is queued only once
that transaction has committed (a rolled-back change sends nothing), and a
background thread posts it, so no API answer waits for a receiver. Each event is
tried a few times; the queue is bounded and drops (with a warning) when full.

Signature (Svix, as Codat documents it): `svix-signature` is `v1,` +
base64(HMAC-SHA256(key, f"{svix-id}.{svix-timestamp}.{body}")), the key being
the base64 part of the `whsec_` secret. Timestamps come from the sandbox clock.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import json
import logging
import threading
import uuid
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx

from reconciler.sandbox.clock import Clock
from reconciler.sandbox.store import Tx

log = logging.getLogger(__name__)

SECRET_PREFIX = "whsec_"
# The Standard Webhooks spec (which Svix follows) asks for 24 to 64 random bytes.
SECRET_BYTES = (24, 64)
QUEUE_LIMIT = 1000
RETRY_DELAYS = (0.0, 0.2, 1.0, 5.0)  # before each attempt: first, then three retries
ATTEMPT_TIMEOUT = 5.0


class Publisher(Protocol):
    def publish(self, tx: Tx, event_type: str, payload: Mapping[str, Any]) -> None: ...


class NoWebhooks:
    """The sandbox without `--webhook-url`: events go nowhere."""

    def publish(self, tx: Tx, event_type: str, payload: Mapping[str, Any]) -> None:
        pass

    def close(self) -> None:
        pass


def webhook_url(url: str) -> str:
    """`url` if it is an http(s) URL on loopback; ValueError otherwise (tests stay local)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if parts.scheme not in ("http", "https") or not loopback:
        raise ValueError("the webhook URL must be http(s) on loopback (127.0.0.1, ::1, localhost)")
    return url


def signing_key(secret: str) -> bytes:
    """The HMAC key in a `whsec_` secret; ValueError (never echoing it) if malformed."""
    low, high = SECRET_BYTES
    problem = f"the webhook secret must be {SECRET_PREFIX} followed by base64 of {low}-{high} bytes"
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError(problem)
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(problem) from None
    if not low <= len(key) <= high:
        raise ValueError(problem)
    return key


def signature(key: bytes, message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def reference_company(company: Mapping[str, Any]) -> dict[str, Any]:
    """`companyReference` of the Platform spec, as connection events carry it."""
    return {
        "id": company["id"],
        "name": company["name"],
        "description": company.get("description"),
        "links": {"portal": f"https://app.codat.io/companies/{company['id']}/summary"},
        "tags": company.get("tags", {}),
    }


def connection_payload(company: Mapping[str, Any], connection: Mapping[str, Any]) -> dict[str, Any]:
    return {"referenceCompany": reference_company(company), "connection": dict(connection)}


class WebhookSender:
    """Delivers events to one consumer URL from one background thread."""

    def __init__(
        self,
        url: str,
        secret: str,
        clock: Clock,
        *,
        retry_delays: Sequence[float] = RETRY_DELAYS,
        queue_limit: int = QUEUE_LIMIT,
    ) -> None:
        self.url = webhook_url(url)
        self._key = signing_key(secret)
        self._clock = clock
        self._delays = tuple(retry_delays)
        self._limit = queue_limit
        self._pending: deque[tuple[str, bytes]] = deque()
        self._ready = threading.Condition()
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sandbox-webhooks", daemon=True)
        self._thread.start()

    def publish(self, tx: Tx, event_type: str, payload: Mapping[str, Any]) -> None:
        """Queue an event for delivery once `tx` commits."""
        event = {
            "id": str(uuid.uuid4()),
            "eventType": event_type,
            "generatedDate": self._clock.iso_now(),
            "payload": payload,
        }
        body = json.dumps(event).encode()
        tx.on_commit(lambda: self._enqueue(f"msg_{uuid.uuid4().hex}", body))

    def _enqueue(self, message_id: str, body: bytes) -> None:
        with self._ready:
            if self._closed.is_set() or len(self._pending) >= self._limit:
                log.warning("webhook queue closed or full: event %s dropped", message_id)
                return
            self._pending.append((message_id, body))
            self._ready.notify()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def close(self, timeout: float = 5.0) -> None:
        """Stop: events still queued get one last attempt each, without retries."""
        with self._ready:
            self._closed.set()
            self._ready.notify()
        self._thread.join(timeout)

    def _run(self) -> None:
        with httpx.Client(timeout=ATTEMPT_TIMEOUT, trust_env=False) as client:
            while True:
                with self._ready:
                    while not self._pending and not self._closed.is_set():
                        self._ready.wait()
                    if not self._pending:
                        return
                    message_id, body = self._pending.popleft()
                self._deliver(client, message_id, body)

    def _deliver(self, client: httpx.Client, message_id: str, body: bytes) -> None:
        for delay in self._delays:
            # A closed sender gives up instead of waiting for the next retry.
            if delay and self._closed.wait(delay):
                break
            timestamp = int(self._clock.now())
            headers = {
                "Content-Type": "application/json",
                "svix-id": message_id,
                "svix-timestamp": str(timestamp),
                "svix-signature": signature(self._key, message_id, timestamp, body),
            }
            try:
                answer = client.post(self.url, content=body, headers=headers)
                if answer.is_success:
                    return
                outcome = f"status {answer.status_code}"
            except httpx.HTTPError as err:
                outcome = type(err).__name__
            log.info("webhook %s not delivered (%s)", message_id, outcome)
        log.warning("webhook %s abandoned after %d attempts", message_id, len(self._delays))


def webhook_sender(url: str | None, secret: str | None, clock: Clock) -> WebhookSender | NoWebhooks:
    """A sender for `url` signing with `secret`; NoWebhooks when neither is given."""
    if url is None and secret is None:
        return NoWebhooks()
    if url is None or secret is None:
        raise ValueError("webhooks need both a URL and a whsec_ secret")
    return WebhookSender(url, secret, clock)
