"""Webhooks: Svix-signed deliveries of committed changes to a loopback receiver."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from svix.webhooks import Webhook

from reconciler.sandbox.clock import Clock
from reconciler.sandbox.store import SandboxStore
from reconciler.sandbox.webhooks import WebhookSender
from tests.sandbox.conftest import ClientFactory, app_of, new_company, new_connection
from tests.sandbox.receiver import Delivery, WebhookReceiver
from tests.sandbox.spec import PLATFORM, assert_valid

# Fixed, so parallel workers collect the same parametrized tests.
KEY = hashlib.sha256(b"sandbox webhook tests").digest()
SECRET = "whsec_" + base64.b64encode(KEY).decode()


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as rx:
        yield rx


@pytest.fixture
def hooked(make_api: ClientFactory, receiver: WebhookReceiver) -> httpx.Client:
    return make_api(webhook_url=receiver.url, webhook_secret=SECRET)


def verified(delivery: Delivery) -> dict[str, Any]:
    """The event, once its Svix signature is checked here and by the svix library."""
    headers = delivery.headers
    message_id, timestamp = headers["svix-id"], headers["svix-timestamp"]
    signed = f"{message_id}.{timestamp}.".encode() + delivery.body
    expected = base64.b64encode(hmac.new(KEY, signed, hashlib.sha256).digest()).decode()
    version, _, given = headers["svix-signature"].partition(",")
    assert version == "v1" and hmac.compare_digest(given, expected)
    Webhook(SECRET).verify(delivery.body, headers)
    event: dict[str, Any] = json.loads(delivery.body)
    return event


def test_changes_arrive_signed_in_order(hooked: httpx.Client, receiver: WebhookReceiver) -> None:
    company = new_company(hooked, "Acme Coffee", tags={"region": "uk"})
    connection = new_connection(hooked, company["id"], "dfxm")
    path = f"/companies/{company['id']}/connections/{connection['id']}"
    hooked.put(path + "/authorization", json={"apiToken": "t"})
    hooked.patch(path, json={"status": "Deauthorized"})
    hooked.post(
        f"/_sandbox/companies/{company['id']}/sync-flow/complete", json={"accountingKey": "gbol"}
    )
    hooked.delete(f"/companies/{company['id']}")

    events = [verified(d) for d in receiver.wait_for(6)]
    assert [e["eventType"] for e in events] == [
        "connection.created",
        "connection.connected",
        "connection.disconnected",
        "connection.created",
        "connection.connected",
        "company.deleted",
    ]
    assert len({e["id"] for e in events}) == 6
    assert len({d.headers["svix-id"] for d in receiver.accepted()}) == 6
    for event in events[:5]:
        assert_valid(event, "ConnectionWebhook", PLATFORM)
        reference = event["payload"]["referenceCompany"]
        assert reference["id"] == company["id"] and reference["name"] == "Acme Coffee"
        assert reference["tags"] == {"region": "uk"}
    statuses = [
        (e["payload"]["connection"]["integrationKey"], e["payload"]["connection"]["status"])
        for e in events[:5]
    ]
    assert statuses == [
        ("dfxm", "PendingAuth"),
        ("dfxm", "Linked"),
        ("dfxm", "Deauthorized"),
        ("gbol", "PendingAuth"),
        ("gbol", "Linked"),
    ]
    assert events[0]["payload"]["connection"]["id"] == connection["id"]
    assert_valid(events[5], "CompanyWebhook", PLATFORM)
    assert events[5]["payload"]["id"] == company["id"]
    assert events[5]["payload"]["name"] == "Acme Coffee"


def test_generated_date_and_timestamp_follow_the_sandbox_clock(
    make_api: ClientFactory, receiver: WebhookReceiver
) -> None:
    api = make_api(webhook_url=receiver.url, webhook_secret=SECRET)
    clock = app_of(api).clock
    clock.advance(86_400)  # the sandbox runs a day ahead
    company = new_company(api)
    new_connection(api, company["id"], "lqai")
    [delivery] = receiver.wait_for(1)
    generated = datetime.fromisoformat(json.loads(delivery.body)["generatedDate"]).timestamp()
    sent = int(delivery.headers["svix-timestamp"])
    for moment in (generated, sent):
        assert moment - time.time() > 86_000  # the sandbox's day ahead, not the wall clock's
        assert moment <= clock.now() + 1


def test_refused_and_unchanged_requests_send_nothing(
    make_api: ClientFactory, receiver: WebhookReceiver
) -> None:
    api = make_api(webhook_url=receiver.url, webhook_secret=SECRET, disabled_integrations=["fztf"])
    company = new_company(api)
    base = f"/companies/{company['id']}/connections"
    new_connection(api, company["id"], "gbol")
    assert api.post(base, json={"platformKey": "qhyg"}).status_code == 409
    assert api.post(base, json={"platformKey": "fztf"}).status_code == 403
    keyed = {"Idempotency-Key": "one-lqai"}
    other = api.post(base, json={"platformKey": "lqai"}, headers=keyed).json()
    replayed = api.post(base, json={"platformKey": "lqai"}, headers=keyed).json()
    assert replayed == other  # a replay repeats the answer, not the change or its event
    api.patch(f"{base}/{other['id']}", json={"status": "Unlinked"})
    api.patch(f"{base}/{other['id']}", json={"status": "Unlinked"})  # no change, no event
    api.patch(f"{base}/{other['id']}", json={})
    last = new_connection(api, company["id"], "ldgh")
    # One thread delivers in commit order: once the last event is in, any other would be too.
    events = [verified(d) for d in receiver.wait_for(4)]
    assert [(e["eventType"], e["payload"]["connection"]["integrationKey"]) for e in events] == [
        ("connection.created", "gbol"),
        ("connection.created", "lqai"),
        ("connection.disconnected", "lqai"),
        ("connection.created", "ldgh"),
    ]
    assert events[-1]["payload"]["connection"]["id"] == last["id"]
    assert len(receiver.deliveries) == 4


def test_an_event_of_a_rolled_back_transaction_is_never_sent(
    tmp_path: Path, receiver: WebhookReceiver
) -> None:
    store = SandboxStore(tmp_path / "rollback.sqlite")
    sender = WebhookSender(receiver.url, SECRET, Clock())
    try:
        with pytest.raises(RuntimeError), store.write() as tx:
            sender.publish(tx, "company.deleted", {"id": "rolled-back"})
            raise RuntimeError("the change fails after publishing")
        with store.write() as tx:
            sender.publish(tx, "company.deleted", {"id": "committed"})
        [delivery] = receiver.wait_for(1)
        assert verified(delivery)["payload"] == {"id": "committed"}
        assert len(receiver.deliveries) == 1
    finally:
        sender.close()
        store.close()


def test_a_failing_receiver_gets_retries_with_the_same_message_id(
    make_api: ClientFactory,
) -> None:
    with WebhookReceiver(fail_first=2) as receiver:
        api = make_api(webhook_url=receiver.url, webhook_secret=SECRET)
        company = new_company(api)
        new_connection(api, company["id"], "lqai")
        [delivery] = receiver.wait_for(1)
        assert verified(delivery)["eventType"] == "connection.created"
        attempts = receiver.deliveries
        assert [a.status for a in attempts] == [500, 500, 200]
        assert len({a.headers["svix-id"] for a in attempts}) == 1
        assert len({a.body for a in attempts}) == 1
        for attempt in attempts:
            verified(attempt)  # every attempt is signed


def test_stopping_abandons_retries_and_ends_the_thread(tmp_path: Path) -> None:
    with WebhookReceiver(fail_first=1_000) as receiver:
        store = SandboxStore(tmp_path / "stop.sqlite")
        sender = WebhookSender(receiver.url, SECRET, Clock())
        with store.write() as tx:
            sender.publish(tx, "company.deleted", {"id": "x"})
        sender.close()
        assert not sender.running
        assert len(receiver.deliveries) == 1  # the attempt under way; no retry after close
        with store.write() as tx:  # after close: dropped, never sent
            sender.publish(tx, "company.deleted", {"id": "y"})
        assert all(json.loads(d.body)["payload"]["id"] == "x" for d in receiver.deliveries)
        store.close()


def test_app_stop_closes_the_sender(sandbox_server: Callable[..., Any]) -> None:
    with WebhookReceiver() as receiver:
        handle = sandbox_server(webhook_url=receiver.url, webhook_secret=SECRET)
        with httpx.Client(base_url=handle.base_url, headers=handle.auth_headers) as http:
            company = new_company(http)
            http.delete(f"/companies/{company['id']}")
        assert verified(receiver.wait_for(1)[0])["eventType"] == "company.deleted"
        handle.stop()
        assert not handle.app.webhooks.running


@pytest.mark.parametrize(
    "url",
    ["http://example.com/hook", "https://10.0.0.1/hook", "ftp://127.0.0.1/x", "not a url"],
)
def test_webhook_url_must_be_loopback(make_api: ClientFactory, url: str) -> None:
    with pytest.raises(ValueError, match="loopback"):
        make_api(webhook_url=url, webhook_secret=SECRET)


@pytest.mark.parametrize(
    "secret",
    [
        "whsec_!!!notbase64!!!",
        base64.b64encode(KEY).decode(),  # no prefix
        "whsec_" + base64.b64encode(b"short").decode(),
    ],
)
def test_webhook_secret_must_be_whsec_base64(
    make_api: ClientFactory, receiver: WebhookReceiver, secret: str
) -> None:
    with pytest.raises(ValueError, match="whsec_") as raised:
        make_api(webhook_url=receiver.url, webhook_secret=secret)
    assert secret not in str(raised.value)


def test_webhooks_need_both_url_and_secret(
    make_api: ClientFactory, receiver: WebhookReceiver
) -> None:
    with pytest.raises(ValueError, match="both"):
        make_api(webhook_url=receiver.url)
    with pytest.raises(ValueError, match="both"):
        make_api(webhook_secret=SECRET)
