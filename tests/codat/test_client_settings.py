"""The client's calls for client-wide settings, against the sandbox over real HTTP.

Every request body the client sends is checked against the request schema of
Codat's specs, as the sandbox received it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from typing import Any

import httpx
import pytest

from reconciler.codat import ApiCall, CodatAPIError, CodatClient, CodatError
from reconciler.codat.client_defaults import ACCOUNTS, COMMERCE_DATA_TYPES
from reconciler.sandbox.messages import SandboxResponse
from tests.codat.fakes import SimulatedTime, make_client, scripted
from tests.fixtures.sandbox import SandboxHandle
from tests.sandbox.spec import COMMERCE, PLATFORM, request_schema, request_violations

Start = Callable[..., SandboxHandle]
HOOK = {
    "url": "https://reconciler.example.com/webhooks/codat",
    "eventTypes": ["connection.disconnected", "connection.created", "company.deleted"],
    "companyTags": ["managed-by:codat-reconciler"],
}
NEXT = "configure-misc-nextButton"


class Sent:
    """What the sandbox received: (method, path, headers, body) of each request."""

    def __init__(self, sb: SandboxHandle) -> None:
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        self._lock = threading.Lock()
        handle = sb.app.handle

        def recording(
            method: str, path: str, query: str, headers: Mapping[str, str], body: bytes
        ) -> SandboxResponse:
            with self._lock:
                self.requests.append(
                    (method, path, {k.lower(): v for k, v in headers.items()}, body)
                )
            return handle(method, path, query, headers, body)

        sb.app.handle = recording  # type: ignore[method-assign]

    def assert_bodies_match_the_specs(self) -> int:
        """Every body sent validates against its operation's request schema; returns how many."""
        checked = 0
        for method, path, headers, body in self.requests:
            if not body:
                continue
            operation = f"{method} {path}"
            specs = [s for s in (PLATFORM, COMMERCE) if request_schema(operation, s) is not None]
            assert specs, f"{operation}: no request schema in the specs"
            for spec in specs:
                assert request_violations(json.loads(body), operation, spec) == [], operation
            assert headers.get("idempotency-key"), f"{operation} was sent without a key"
            checked += 1
        return checked


@pytest.fixture
def sb(sandbox_server: Start) -> SandboxHandle:
    return sandbox_server()


def connect(sb: SandboxHandle) -> tuple[CodatClient, list[ApiCall]]:
    """A client whose waits move the sandbox's clock instead of real time."""
    sim = SimulatedTime(sb.app.clock.advance)
    calls: list[ApiCall] = []
    client = CodatClient(
        sb.base_url, sb.api_key, observer=calls.append, sleep=sim.sleep, clock=sim, max_rate=0
    )
    return client, calls


def test_webhook_consumers_round_trip(sb: SandboxHandle) -> None:
    sent = Sent(sb)
    with connect(sb)[0] as client:
        assert client.list_webhook_consumers() == []
        consumer = client.create_webhook_consumer(HOOK)
        quiet = client.create_webhook_consumer(
            {**HOOK, "url": "https://b.example/h", "disabled": True}
        )
        assert consumer == {**HOOK, "id": consumer["id"], "disabled": False}
        assert client.list_webhook_consumers() == [consumer, quiet]
        client.delete_webhook_consumer(consumer["id"])
        assert client.list_webhook_consumers() == [quiet]
        with pytest.raises(CodatAPIError) as gone:
            client.delete_webhook_consumer(consumer["id"])
    assert gone.value.status == 404 and gone.value.correlation_id
    assert sent.assert_bodies_match_the_specs() == 2


def test_a_consumer_codat_refuses_is_a_clear_error_without_secrets(sb: SandboxHandle) -> None:
    with connect(sb)[0] as client, pytest.raises(CodatAPIError) as refused:
        client.create_webhook_consumer({**HOOK, "eventTypes": []})
    text = str(refused.value)
    assert refused.value.status == 400 and "eventTypes" in text
    assert "POST /webhooks" in text and refused.value.correlation_id in text
    assert sb.api_key not in text


def test_sync_settings_are_read_and_replaced_whole(sb: SandboxHandle) -> None:
    sent = Sent(sb)
    with connect(sb)[0] as client:
        live = client.sync_settings()
        assert live["clientId"] == sb.app.context.client_id == client.client_id()
        settings = [
            {**s, "fetchOnFirstLink": True} if s["dataType"] == "commerce-orders" else s
            for s in live["settings"]
        ]
        client.set_sync_settings(settings)
        now = client.sync_settings()
    assert now["overridesDefaults"] is True
    assert [s["dataType"] for s in now["settings"]] == list(COMMERCE_DATA_TYPES)
    assert [s["dataType"] for s in now["settings"] if s["fetchOnFirstLink"]] == ["commerce-orders"]
    assert sent.assert_bodies_match_the_specs() == 1


def test_the_client_id_is_learnt_once(sb: SandboxHandle) -> None:
    with connect(sb)[0] as client:
        for key in ("gbol", "qhyg", "gbol"):
            client.visible_accounts(key)
        assert client.client_id() == sb.app.context.client_id
    reads = [call for call in sb.app.calls if call[1] == "/profile/syncSettings"]
    assert len(reads) == 1


def test_sync_flow_text_is_read_and_patched_per_locale(sb: SandboxHandle) -> None:
    sent = Sent(sb)
    with connect(sb)[0] as client:
        english = client.sync_flow_text("en-us")
        assert english[NEXT] == "Next" and english["configure-content-sales-description"] is None
        after = client.update_sync_flow_text(
            "en-us", {NEXT: "Continue", "configure-misc-previousButton": "Back"}
        )
        assert after == {**english, NEXT: "Continue", "configure-misc-previousButton": "Back"}
        restored = client.update_sync_flow_text("en-us", {NEXT: None})
        assert restored == {**after, NEXT: "Next"} == client.sync_flow_text("en-us")
        assert client.sync_flow_text("fr-fr")[NEXT] == "Suivant"
        with pytest.raises(CodatAPIError) as unknown:
            client.sync_flow_text("de-de")
    assert unknown.value.status == 400 and "locale" in str(unknown.value)
    assert sent.assert_bodies_match_the_specs() == 2


def test_visible_accounts_are_read_set_and_reset(sb: SandboxHandle) -> None:
    sent = Sent(sb)
    required = [key for key, must in ACCOUNTS.items() if must]
    with connect(sb)[0] as client:
        assert client.visible_accounts("gbol") == list(ACCOUNTS)
        shown = client.set_visible_accounts("gbol", ["fees-accounts-loan"])
        assert shown == client.visible_accounts("gbol")
        assert shown == [k for k in ACCOUNTS if k in required or k == "fees-accounts-loan"]
        assert client.set_visible_accounts("gbol", []) == required
        assert client.set_visible_accounts("gbol", None) == list(ACCOUNTS)
        assert client.visible_accounts("qhyg") == list(ACCOUNTS)
    assert sent.assert_bodies_match_the_specs() == 3


@pytest.mark.parametrize("kind", ["429", "lost"])
def test_faults_on_the_new_calls_are_retried_without_doing_them_twice(
    sandbox_server: Start, kind: str
) -> None:
    sb = sandbox_server(
        faults=[f"{kind}:POST:/webhooks:first:1", f"{kind}:POST:/profile/**:first:1"]
    )
    client, calls = connect(sb)
    with client:
        consumer = client.create_webhook_consumer(HOOK)
        assert client.list_webhook_consumers() == [consumer]
        live = client.sync_settings()
        client.set_sync_settings(live["settings"][:1], overrides_defaults=False)
        assert client.sync_settings()["settings"] == live["settings"][:1]
    first_status = None if kind == "lost" else 429
    posts = [c for c in calls if c.method == "POST"]
    expected = [(first_status, 1), (201, 2), (first_status, 1), (204, 2)]
    assert [(c.status, c.attempt) for c in posts] == expected


@pytest.mark.parametrize(
    ("call", "answer"),
    [
        (lambda c: c.list_webhook_consumers(), {"results": [{"id": "w1"}]}),
        (lambda c: c.list_webhook_consumers(), {"consumers": []}),
        (lambda c: c.create_webhook_consumer(HOOK), {"url": HOOK["url"]}),
        (lambda c: c.sync_settings(), {"settings": []}),
        (lambda c: c.sync_settings(), {"clientId": "c1", "settings": [{"fetchOnFirstLink": True}]}),
        (lambda c: c.sync_flow_text("en-us"), {NEXT: "Next"}),
        (lambda c: c.sync_flow_text("en-us"), {NEXT: {"text": 5}}),
        (lambda c: c.update_sync_flow_text("en-us", {NEXT: "Go"}), []),
        (lambda c: c.set_visible_accounts("gbol", []), {"visibleAccounts": "all"}),
        (lambda c: c.set_visible_accounts("gbol", []), {"visibleAccounts": [1]}),
    ],
)
def test_an_answer_of_the_wrong_shape_is_a_clean_error(
    call: Callable[[CodatClient], Any], answer: Any
) -> None:
    handler, _ = scripted(httpx.Response(200, json=answer))
    client, _ = make_client(handler)
    with pytest.raises(CodatError, match=r"Codat answered 200 .*"):
        call(client)
