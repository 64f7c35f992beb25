"""watch's HTTP side, in this process, fed by the sandbox's own signed webhooks."""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.codat.client import CodatClient
from reconciler.engine.progress import Silent
from reconciler.errors import ReconcilerError
from reconciler.sandbox.webhooks import signature
from reconciler.watch.endpoint import MAX_BODY, WebhookEndpoint
from reconciler.watch.loop import WatchSettings
from reconciler.watch.metrics import WatchMetrics
from reconciler.watch.service import Watch
from reconciler.watch.signature import DeliveryVerifier
from tests.fixtures.sandbox import SandboxHandle
from tests.watch.conftest import HANG_GUARD, MERCHANTS

KEY = hashlib.sha256(b"watch endpoint tests").digest()
SECRET = "whsec_" + base64.b64encode(KEY).decode()
OTHER_KEY = hashlib.sha256(b"not the consumer's secret").digest()


@dataclass
class Records:
    """A Log that keeps what watch says, for the tests to wait on."""

    lines: list[dict[str, Any]] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def note(self, event: str, message: str, **fields: Any) -> None:
        with self.changed:
            self.lines.append({"event": event, "message": message, **fields})
            self.changed.notify_all()

    def tell(self, event: str, message: str, *, prefix: str = "", **fields: Any) -> None:
        self.note(event, message, **fields)

    def wait_for(
        self, match: Callable[[dict[str, Any]], bool], count: int = 1, after: int = 0
    ) -> dict[str, Any]:
        """The `count`th line from `after` on that matches, once watch said it."""
        deadline = time.monotonic() + HANG_GUARD
        with self.changed:
            while True:
                found = [line for line in self.lines[after:] if match(line)]
                if len(found) >= count:
                    return found[count - 1]
                assert self.changed.wait(deadline - time.monotonic()), "watch never said it"


class HoldFirstRead(Silent):
    """A Progress holding the first reconcile at its start until released."""

    def __init__(self) -> None:
        self.release = threading.Event()

    def start(self, label: str, total: int) -> None:
        self.release.wait(HANG_GUARD)


@dataclass
class Served:
    watch: Watch
    sandbox: SandboxHandle
    records: Records
    http: httpx.Client
    api: httpx.Client
    hold: HoldFirstRead

    def post(self, body: bytes, headers: dict[str, str]) -> httpx.Response:
        """Deliver, and wait for the delivery's log line (written after the answer)."""
        message_id = headers.get("svix-id", "")

        def ours(r: dict[str, Any]) -> bool:
            return r["event"] == "delivery" and r["svix_id"] == message_id

        logged = sum(1 for r in self.records.lines if ours(r))
        answer = self.http.post("/webhooks/codat", content=body, headers=headers)
        self.records.wait_for(ours, count=logged + 1)
        return answer

    def ready(self) -> None:
        self.hold.release.set()
        assert self.watch.reconciler.ready.wait(HANG_GUARD)

    def settled(self) -> int:
        """Ready, and the echoes of the first reconcile handled: each new connection's
        connection.created and connection.connected, and the reconcile of each merchant
        the first of them asks for. The number of lines said so far."""
        self.ready()
        self.records.wait_for(lambda r: r["event"] == "delivery", count=2 * len(MERCHANTS))
        for name in MERCHANTS:
            self.records.wait_for(lambda r, name=name: name in r.get("merchants", ()))
        return len(self.records.lines)


def signed(
    body: bytes, key: bytes = KEY, *, age: int = 0, message_id: str | None = None
) -> dict[str, str]:
    message_id = message_id or f"msg_{uuid.uuid4().hex}"
    stamp = int(time.time()) - age
    return {
        "svix-id": message_id,
        "svix-timestamp": str(stamp),
        "svix-signature": signature(key, message_id, stamp, body),
        "Content-Type": "application/json",
    }


def event_body(event_type: str, company_id: str, name: str) -> bytes:
    return json.dumps(
        {
            "id": str(uuid.uuid4()),
            "eventType": event_type,
            "generatedDate": "2026-01-01T00:00:00Z",
            "payload": {"referenceCompany": {"id": company_id, "name": name}},
        }
    ).encode()


@pytest.fixture
def served(sandbox_server: Callable[..., SandboxHandle], manifests: Path) -> Iterator[Served]:
    metrics = WatchMetrics()
    endpoint = WebhookEndpoint(("127.0.0.1", 0), DeliveryVerifier(SECRET), metrics)
    sandbox = sandbox_server(webhook_url=endpoint.url + "/webhooks/codat", webhook_secret=SECRET)
    records, hold = Records(), HoldFirstRead()
    with CodatClient(
        sandbox.base_url, api_key=sandbox.api_key, max_rate=0, observer=metrics.api_call
    ) as client:
        watch = Watch(client, WatchSettings((str(manifests),)), endpoint, records, progress=hold)
        watch.start()
        with (
            httpx.Client(base_url=endpoint.url, timeout=HANG_GUARD) as http,
            httpx.Client(base_url=sandbox.base_url, headers=sandbox.auth_headers) as api,
        ):
            yield Served(watch, sandbox, records, http, api, hold)
        hold.release.set()
        watch.stop()


def company(served: Served, name: str) -> dict[str, Any]:
    (found,) = [c for c in served.api.get("/companies").json()["results"] if c["name"] == name]
    return dict(found)


def test_probes_health_at_once_ready_after_the_first_reconcile(served: Served) -> None:
    assert served.http.get("/healthz").status_code == 200
    assert served.http.get("/readyz").status_code == 503
    served.ready()
    assert served.http.get("/readyz").status_code == 200
    assert served.http.get("/nowhere").status_code == 404


def test_a_deauthorized_connection_comes_back_through_the_webhook(served: Served) -> None:
    said = served.settled()
    acme = company(served, "20000002")
    (connection,) = acme["dataConnections"]
    mark = len(served.sandbox.app.calls)

    answer = served.api.patch(
        f"/companies/{acme['id']}/connections/{connection['id']}", json={"status": "Deauthorized"}
    )
    assert answer.status_code == 200

    delivery = served.records.wait_for(
        lambda r: r.get("event_type") == "connection.disconnected", after=said
    )
    assert delivery["status"] == 200 and delivery["outcome"] == "queued"
    done = served.records.wait_for(lambda r: "20000002" in r.get("merchants", ()), after=said)
    assert done["ok"] and done["done"] >= 1
    reads = [c for c in list(served.sandbox.app.calls)[mark:] if c[0] == "GET"]
    assert reads == [("GET", f"/companies/{acme['id']}", 200)]
    assert [c["status"] for c in company(served, "20000002")["dataConnections"]] == ["Linked"]


def test_unverified_deliveries_get_401_and_change_nothing(served: Served) -> None:
    said = served.settled()
    acme = company(served, "20000001")
    body = event_body("connection.disconnected", acme["id"], "20000001")
    mark = len(served.sandbox.app.calls)

    unsigned = {"Content-Type": "application/json"}
    forged = signed(body, OTHER_KEY)
    stale = signed(body, age=10 * 60)
    tampered = signed(body)
    first = signed(body)
    assert served.post(body, unsigned).status_code == 401
    assert served.post(body, forged).status_code == 401
    assert served.post(body, stale).status_code == 401
    assert served.post(body.replace(b"20000001", b"20000002"), tampered).status_code == 401
    assert served.post(body, first).status_code == 200
    served.records.wait_for(lambda r: "20000001" in r.get("merchants", ()), after=said)
    assert served.post(body, first).status_code == 401  # the same delivery again

    unverified = [r for r in served.records.lines[said:] if r.get("status") == 401]
    assert len(unverified) == 5
    assert all(r["outcome"].startswith("unverified") for r in unverified)
    assert served.watch.reconciler.waiting == 0
    ours = {h["svix-id"] for h in (forged, stale, tampered, first)}
    accepted = [
        r["svix_id"]
        for r in served.records.lines[said:]
        if r.get("status") == 200 and r["svix_id"] in ours
    ]
    assert accepted == [first["svix-id"]]
    writes = [c for c in list(served.sandbox.app.calls)[mark:] if c[0] != "GET"]
    assert writes == []  # and that one found nothing to do


def test_a_message_codat_sends_again_is_acknowledged_and_nothing_done(
    served: Served,
) -> None:
    """Svix keeps a message's id across attempts and signs each anew: a retry after a
    lost 200 (or the Portal's Resend) must get a 2xx, or Codat retries for 28 hours."""
    said = served.settled()
    acme = company(served, "20000001")
    body = event_body("connection.disconnected", acme["id"], "20000001")
    first = signed(body, age=1)
    assert served.post(body, first).status_code == 200
    served.records.wait_for(lambda r: "20000001" in r.get("merchants", ()), after=said)
    mark, lines = len(served.sandbox.app.calls), len(served.records.lines)

    again = signed(body, message_id=first["svix-id"])  # a new attempt: a new timestamp
    assert again["svix-timestamp"] != first["svix-timestamp"]
    answer = served.post(body, again)
    assert answer.status_code == 200
    assert answer.json()["outcome"].startswith("duplicate")
    assert served.post(body, again).status_code == 401  # that attempt, replayed

    (logged, replayed) = [r for r in served.records.lines[lines:] if r["event"] == "delivery"]
    assert logged["svix_id"] == first["svix-id"] and logged["status"] == 200
    assert logged["outcome"].startswith("duplicate")
    assert replayed["status"] == 401
    assert served.watch.reconciler.waiting == 0
    assert list(served.sandbox.app.calls)[mark:] == []  # nothing read, nothing written


def test_bad_bodies_get_a_4xx_and_a_log_line(served: Served) -> None:
    said = served.settled()
    not_json = b"{not json"
    unknown = json.dumps({"eventType": "invoice.paid", "payload": {}}).encode()
    no_company = json.dumps({"eventType": "company.deleted", "payload": {}}).encode()
    for body in (not_json, unknown, no_company, b"[]"):
        assert served.post(body, signed(body)).status_code == 400
    huge = b"{" + b" " * MAX_BODY + b"}"
    assert served.post(huge, signed(huge)).status_code == 413

    outcomes = [r["outcome"] for r in served.records.lines[said:] if r["event"] == "delivery"]
    assert outcomes[:4] == [
        "rejected: the body is not JSON",
        "rejected: unknown event type 'invoice.paid'",
        "rejected: company.deleted names no company",
        "rejected: the body has no eventType",
    ]
    assert outcomes[4].startswith("rejected: body over")
    assert served.http.get("/healthz").status_code == 200  # still serving
    assert all(not any(k in r for k in ("body", "payload")) for r in served.records.lines)


def test_a_body_without_a_length_gets_411_and_a_log_line(served: Served) -> None:
    """Chunked or unsized bodies are not read at all: the cap needs the length first."""
    said = served.settled()
    host, port = served.watch.endpoint.server_address[:2]
    body = event_body("connection.disconnected", str(uuid.uuid4()), "Somebody Else")
    for length_header in (b"Transfer-Encoding: chunked\r\n", b""):
        with socket.create_connection((str(host), port), timeout=HANG_GUARD) as raw:
            raw.sendall(
                b"POST /webhooks/codat HTTP/1.1\r\nHost: watch\r\n" + length_header + b"\r\n" + body
            )
            assert raw.recv(4096).startswith(b"HTTP/1.1 411 ")
    served.records.wait_for(lambda r: r.get("status") == 411, count=2, after=said)
    assert served.http.get("/healthz").status_code == 200  # still serving


def test_deliveries_for_undeclared_companies_are_acknowledged_and_ignored(
    served: Served,
) -> None:
    served.settled()
    mark = len(served.sandbox.app.calls)
    body = event_body("connection.disconnected", str(uuid.uuid4()), "Somebody Else")
    answer = served.post(body, signed(body))
    assert answer.status_code == 200
    assert answer.json()["outcome"].startswith("ignored")
    assert list(served.sandbox.app.calls)[mark:] == []


def test_metrics(served: Served) -> None:
    served.settled()
    body = event_body("connection.disconnected", str(uuid.uuid4()), "Somebody Else")
    served.post(body, signed(body, OTHER_KEY))
    answer = served.http.get("/metrics")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    values = {}
    for line in answer.text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            values[name] = float(value)
    assert values["codat_reconciler_changes_applied_total"] >= 6
    assert values["codat_reconciler_changes_failed_total"] == 0
    assert values['codat_reconciler_api_calls_total{status="200"}'] >= 7
    assert values["codat_reconciler_merchants_not_converged"] == 0
    assert values["codat_reconciler_last_successful_reconcile_timestamp_seconds"] > 0
    assert values['codat_reconciler_webhook_deliveries_total{status="401"}'] == 1
    assert values["codat_reconciler_reconciles_waiting"] == 0
    assert values["codat_reconciler_paused"] == 0


def test_metrics_show_a_pause_and_the_work_it_holds_back(served: Served) -> None:
    served.settled()
    reached = json.dumps({"eventType": "client.rateLimit.reached", "payload": {}}).encode()
    assert served.post(reached, signed(reached)).status_code == 200
    acme = company(served, "20000001")
    body = event_body("connection.disconnected", acme["id"], "20000001")
    assert served.post(body, signed(body)).json()["outcome"] == "queued"

    def gauges() -> dict[str, float]:
        text = served.http.get("/metrics").text
        return {
            n: float(v)
            for n, _, v in (
                line.rpartition(" ")
                for line in text.splitlines()
                if line.startswith("codat_reconciler_")
            )
        }

    held = gauges()
    assert held["codat_reconciler_paused"] == 1
    assert held["codat_reconciler_reconciles_waiting"] == 1
    reset = json.dumps({"eventType": "client.rateLimit.reset", "payload": {}}).encode()
    assert served.post(reset, signed(reset)).json()["outcome"] == "resumed"
    served.records.wait_for(lambda r: "20000001" in r.get("merchants", ()), count=2)
    assert gauges()["codat_reconciler_paused"] == 0


class BrokenLog(Records):
    """A Log that fails as it is told of a reconcile: the worker thread dies of it."""

    def note(self, event: str, message: str, **fields: Any) -> None:
        if event == "reconcile":
            raise RuntimeError("the log is broken")
        super().note(event, message, **fields)


def test_a_dead_worker_stops_the_service_with_an_error(
    sandbox_server: Callable[..., SandboxHandle], manifests: Path
) -> None:
    """Else the endpoint would go on acknowledging deliveries nobody acts on."""
    sandbox = sandbox_server()
    endpoint = WebhookEndpoint(("127.0.0.1", 0), DeliveryVerifier(SECRET), WatchMetrics())
    with CodatClient(sandbox.base_url, api_key=sandbox.api_key, max_rate=0) as client:
        watch = Watch(client, WatchSettings((str(manifests),)), endpoint, BrokenLog())
        never = threading.Event()
        with pytest.raises(ReconcilerError, match="reconcile worker died"):
            watch.run_until(never)
    assert not never.is_set()
    with pytest.raises(httpx.TransportError):  # the endpoint is closed
        httpx.get(endpoint.url + "/healthz", timeout=2)
