"""The sandbox plays Codat for client-wide settings, over real HTTP, checked against the specs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from reconciler.codat.client_defaults import ACCOUNTS, COMMERCE_DATA_TYPES
from tests.fixtures.sandbox import SandboxHandle
from tests.sandbox.spec import COMMERCE, PLATFORM, assert_valid, request_violations

Start = Callable[..., SandboxHandle]
CONSUMERS = "WebhookConsumer/definitions/webhookConsumers"
TEXT = "/sync/commerce/config/ui/text"
NEXT = "configure-misc-nextButton"
REQUIRED_ACCOUNTS = [key for key, required in ACCOUNTS.items() if required]


def client_of(sb: SandboxHandle) -> httpx.Client:
    return httpx.Client(base_url=sb.base_url, headers=sb.auth_headers, timeout=10)


@pytest.fixture
def sb(sandbox_server: Start) -> SandboxHandle:
    return sandbox_server()


@pytest.fixture
def http(sb: SandboxHandle) -> Any:
    with client_of(sb) as client:
        yield client


def accounts_path(sb: SandboxHandle, key: str = "gbol") -> str:
    return f"/clients/{sb.app.context.client_id}/config/ui/accounts/platform/{key}"


def refused(response: httpx.Response, status: int = 400) -> list[str]:
    """The itemIds of a refusal, after checking it is Codat's error body."""
    assert response.status_code == status, response.text
    body = response.json()
    assert_valid(body, "ErrorMessage", PLATFORM, COMMERCE)
    validation = body["validation"] or {"errors": []}
    return [error["itemId"] for error in validation["errors"]]


# -- defaults ----------------------------------------------------------------------


def test_a_new_client_has_the_specs_shapes_and_codats_defaults(
    sb: SandboxHandle, http: httpx.Client
) -> None:
    settings = http.get("/profile/syncSettings").json()
    assert_valid(settings, "SyncSettings", PLATFORM)
    assert settings["clientId"] == sb.app.context.client_id
    assert [s["dataType"] for s in settings["settings"]] == list(COMMERCE_DATA_TYPES)
    # Codat's SfC guide has users switch this on by hand: it starts off.
    assert not any(s["fetchOnFirstLink"] for s in settings["settings"])

    consumers = http.get("/webhooks").json()
    assert_valid(consumers, CONSUMERS, PLATFORM)
    assert consumers == {"results": []}

    english = http.get(TEXT, params={"locale": "en-us"}).json()
    french = http.get(TEXT, params={"locale": "fr-fr"}).json()
    for catalogue in (english, french):
        assert_valid(catalogue, "LocalizationInfo", COMMERCE)
    assert english.keys() == french.keys() and len(english) > 50
    assert english[NEXT]["text"] == "Next" and french[NEXT]["text"] == "Suivant"
    assert english["configure-content-sales-description"]["text"] is None

    accounts = http.get(accounts_path(sb)).json()
    assert_valid(accounts, "VisibleAccounts", COMMERCE)
    assert accounts == {"visibleAccounts": list(ACCOUNTS)}


# -- webhook consumers -------------------------------------------------------------

HOOK = {
    "url": "https://reconciler.example.com/webhooks/codat",
    "eventTypes": ["connection.disconnected", "company.deleted"],
    "companyTags": ["managed-by:codat-reconciler"],
}


def test_webhook_consumers_are_created_listed_and_deleted(http: httpx.Client) -> None:
    assert request_violations(HOOK, "POST /webhooks", PLATFORM) == []
    created = http.post("/webhooks", json=HOOK)
    assert created.status_code == 201, created.text
    consumer = created.json()
    assert_valid(consumer, "WebhookConsumer", PLATFORM)
    assert consumer == {**HOOK, "id": consumer["id"], "disabled": False}
    disabled = http.post("/webhooks", json={**HOOK, "disabled": True, "companyTags": None}).json()
    assert disabled["disabled"] is True and disabled["companyTags"] is None

    listed = http.get("/webhooks").json()
    assert_valid(listed, CONSUMERS, PLATFORM)
    assert listed["results"] == [consumer, disabled]

    assert http.delete(f"/webhooks/{consumer['id']}").status_code == 204
    assert http.get("/webhooks").json()["results"] == [disabled]
    assert refused(http.delete(f"/webhooks/{consumer['id']}"), 404) == []


@pytest.mark.parametrize(
    ("change", "item"),
    [
        ({"url": "not a url"}, "url"),
        ({"url": "ftp://example.com/hook"}, "url"),
        ({"url": None}, "url"),
        ({"eventTypes": []}, "eventTypes"),
        ({"eventTypes": "company.deleted"}, "eventTypes"),
        ({"disabled": "no"}, "disabled"),
        ({"companyTags": [f"k{i}:v" for i in range(11)]}, "companyTags"),
        ({"companyTags": ["region:" + "x" * 122]}, "companyTags[0]"),
        ({"companyTags": ["no-colon"]}, "companyTags[0]"),
    ],
)
def test_a_consumer_codat_would_refuse_is_refused_naming_the_field(
    http: httpx.Client, change: dict[str, Any], item: str
) -> None:
    assert refused(http.post("/webhooks", json={**HOOK, **change})) == [item]
    assert http.get("/webhooks").json()["results"] == []


def test_at_most_50_webhook_consumers(http: httpx.Client) -> None:
    ids = [http.post("/webhooks", json=HOOK).json()["id"] for _ in range(50)]
    assert refused(http.post("/webhooks", json=HOOK)) == ["url"]
    assert len(http.get("/webhooks").json()["results"]) == 50
    http.delete(f"/webhooks/{ids[0]}")
    assert http.post("/webhooks", json=HOOK).status_code == 201


# -- sync settings -----------------------------------------------------------------


def test_posting_sync_settings_replaces_the_whole_list(http: httpx.Client) -> None:
    live = http.get("/profile/syncSettings").json()
    orders = {
        "dataType": "commerce-orders",
        "fetchOnFirstLink": True,
        "syncSchedule": 12,
        "syncOrder": 0,
        "syncFromUtc": "2026-01-01T00:00:00Z",
    }
    body = {**live, "settings": [orders, live["settings"][0]], "overridesDefaults": True}
    assert request_violations(body, "POST /profile/syncSettings", PLATFORM) == []
    answer = http.post("/profile/syncSettings", json=body)
    assert answer.status_code == 204 and answer.content == b""
    now = http.get("/profile/syncSettings").json()
    assert_valid(now, "SyncSettings", PLATFORM)
    # The data types left out are no longer in the list: a writer must send them all.
    assert now == body


@pytest.mark.parametrize(
    ("change", "items"),
    [
        ({"clientId": "0f5c1e3a-9d2b-4c7e-8a6f-3b2d1c0e9f8a"}, ["clientId"]),
        ({"overridesDefaults": None}, ["overridesDefaults"]),
        ({"settings": None}, ["settings"]),
        ({"settings": [{"dataType": "commerce-teapots"}]}, None),
        ({"settings": ["commerce-orders"]}, ["settings[0]"]),
    ],
)
def test_sync_settings_codat_would_refuse_change_nothing(
    http: httpx.Client, change: dict[str, Any], items: list[str] | None
) -> None:
    live = http.get("/profile/syncSettings").json()
    found = refused(http.post("/profile/syncSettings", json={**live, **change}))
    if items is None:  # every missing field is named, beside the unknown data type
        assert found[0] == "settings[0].dataType" and "settings[0].syncOrder" in found
    else:
        assert found == items
    assert http.get("/profile/syncSettings").json() == live


def test_a_sync_setting_of_the_wrong_type_or_twice_is_refused(http: httpx.Client) -> None:
    live = http.get("/profile/syncSettings").json()
    first = live["settings"][0]
    wrong = [{**first, "syncSchedule": True, "fetchOnFirstLink": "yes"}]
    assert refused(http.post("/profile/syncSettings", json={**live, "settings": wrong})) == [
        "settings[0].fetchOnFirstLink",
        "settings[0].syncSchedule",
    ]
    late = [{**first, "syncFromUtc": "the first of May"}]
    assert refused(http.post("/profile/syncSettings", json={**live, "settings": late})) == [
        "settings[0].syncFromUtc"
    ]
    twice = [first, {**first, "syncOrder": 5}]
    assert refused(http.post("/profile/syncSettings", json={**live, "settings": twice})) == [
        "settings[1].dataType"
    ]


# -- the sync flow's text ----------------------------------------------------------


def test_patching_text_sets_the_keys_given_and_null_restores_the_default(
    http: httpx.Client,
) -> None:
    patch = {NEXT: {"text": "Continue"}, "configure-content-fees-title": {"text": ""}}
    assert request_violations(patch, "PATCH " + TEXT, COMMERCE) == []
    answer = http.patch(TEXT, params={"locale": "en-us"}, json=patch)
    assert answer.status_code == 200, answer.text
    assert_valid(answer.json(), "LocalizationInfo", COMMERCE)
    assert answer.json() == http.get(TEXT, params={"locale": "en-us"}).json()
    assert answer.json()[NEXT]["text"] == "Continue"
    assert answer.json()["configure-content-fees-title"]["text"] == ""
    assert answer.json()["configure-misc-previousButton"]["text"] == "Previous"
    assert http.get(TEXT, params={"locale": "fr-fr"}).json()[NEXT]["text"] == "Suivant"

    restored = http.patch(TEXT, params={"locale": "en-us"}, json={NEXT: {"text": None}}).json()
    assert restored[NEXT]["text"] == "Next"
    assert restored["configure-content-fees-title"]["text"] == ""


@pytest.mark.parametrize(
    ("locale", "patch", "item"),
    [
        (None, {NEXT: {"text": "Go"}}, "locale"),
        ("de-de", {NEXT: {"text": "Weiter"}}, "locale"),
        ("en-us", {"configure-no-such-key": {"text": "Go"}}, "configure-no-such-key"),
        ("en-us", {NEXT: "Go"}, NEXT),  # Codat's docs show bare strings; the spec does not
        ("en-us", {NEXT: {"text": 5}}, f"{NEXT}.text"),
    ],
)
def test_text_codat_would_refuse_is_refused(
    http: httpx.Client, locale: str | None, patch: dict[str, Any], item: str
) -> None:
    params = {} if locale is None else {"locale": locale}
    assert refused(http.patch(TEXT, params=params, json=patch)) == [item]
    assert http.get(TEXT, params={"locale": "en-us"}).json()[NEXT]["text"] == "Next"


# -- visible accounts --------------------------------------------------------------


def test_visible_accounts_keep_the_ones_that_cannot_be_hidden(
    sb: SandboxHandle, http: httpx.Client
) -> None:
    update = "/sync/commerce/config/ui/accounts/platform/gbol"
    chosen = {"visibleAccounts": ["fees-accounts-loan", "payments-accounts-cash"]}
    assert request_violations(chosen, "POST " + update, COMMERCE) == []
    answer = http.post(update, json=chosen)
    assert answer.status_code == 200, answer.text
    assert_valid(answer.json(), "VisibleAccounts", COMMERCE)
    shown = answer.json()["visibleAccounts"]
    assert shown == [
        k for k in ACCOUNTS if k in REQUIRED_ACCOUNTS or k in chosen["visibleAccounts"]
    ]
    assert http.get(accounts_path(sb)).json() == answer.json()
    # Per platform: another one still shows every account.
    assert http.get(accounts_path(sb, "qhyg")).json()["visibleAccounts"] == list(ACCOUNTS)

    only_required = http.post(update, json={"visibleAccounts": []}).json()
    assert only_required == {"visibleAccounts": REQUIRED_ACCOUNTS}
    assert http.post(update, json={}).json() == {"visibleAccounts": list(ACCOUNTS)}
    assert http.get(accounts_path(sb)).json() == {"visibleAccounts": list(ACCOUNTS)}


def test_visible_accounts_codat_would_refuse(sb: SandboxHandle, http: httpx.Client) -> None:
    update = "/sync/commerce/config/ui/accounts/platform/"
    assert refused(http.post(update + "gbol", json={"visibleAccounts": ["sales-x"]})) == [
        "visibleAccounts[0]"
    ]
    assert refused(http.post(update + "gbol", json={"visibleAccounts": "all"})) == [
        "visibleAccounts"
    ]
    assert refused(http.post(update + "GBOL", json={})) == ["platformKey"]
    assert refused(http.post(update + "zzzz", json={}), 404) == []
    other_client = accounts_path(sb).replace(sb.app.context.client_id, "0" * 8)
    assert refused(http.get(other_client), 404) == []
    assert http.get(accounts_path(sb)).json() == {"visibleAccounts": list(ACCOUNTS)}


# -- faults, idempotency, state ----------------------------------------------------


def test_a_keyed_create_failing_after_it_committed_is_replayed_not_repeated(
    sandbox_server: Start,
) -> None:
    sb = sandbox_server(faults=["500-after:POST:/webhooks:first:1"])
    with client_of(sb) as http:
        key = {"Idempotency-Key": "6f1c-consumer-1"}
        first = http.post("/webhooks", json=HOOK, headers=key)
        again = http.post("/webhooks", json=HOOK, headers=key)
        assert first.status_code == again.status_code == 500
        assert first.json()["correlationId"] == again.json()["correlationId"]
        assert len(http.get("/webhooks").json()["results"]) == 1
        other = http.post("/webhooks", json={**HOOK, "disabled": True}, headers=key)
        assert refused(other, 422) == []


def test_keyed_settings_writes_are_replayed_and_faults_strike_them(sandbox_server: Start) -> None:
    sb = sandbox_server(faults=["503:PATCH:/sync/commerce/config/**:first:1"])
    with client_of(sb) as http:
        patch = {NEXT: {"text": "Onwards"}}
        params = {"locale": "en-us"}
        assert http.patch(TEXT, params=params, json=patch).status_code == 503
        assert http.get(TEXT, params=params).json()[NEXT]["text"] == "Next"
        key = {"Idempotency-Key": "6f1c-text-1"}
        first = http.patch(TEXT, params=params, json=patch, headers=key)
        # Changed meanwhile: the repeat is still answered from the key, not redone.
        http.patch(TEXT, params=params, json={NEXT: {"text": None}})
        again = http.patch(TEXT, params=params, json=patch, headers=key)
        assert first.status_code == again.status_code == 200
        assert first.content == again.content
        assert http.get(TEXT, params=params).json()[NEXT]["text"] == "Next"


def test_client_settings_outlive_the_server(sandbox_server: Start) -> None:
    first = sandbox_server()
    with client_of(first) as http:
        consumer = http.post("/webhooks", json=HOOK).json()
        http.patch(TEXT, params={"locale": "fr-fr"}, json={NEXT: {"text": "Continuer"}})
    first.stop()
    second = sandbox_server(state_path=first.state_path, api_key=first.api_key)
    with client_of(second) as http:
        assert http.get("/webhooks").json()["results"] == [consumer]
        assert http.get(TEXT, params={"locale": "fr-fr"}).json()[NEXT]["text"] == "Continuer"
