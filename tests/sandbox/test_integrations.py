"""`GET /integrations` and Sync for Commerce's `GET /config/integrations` (with each
integration's branding), disabled integrations, and Codat's one active accounting
connection."""

from __future__ import annotations

import httpx
import pytest

from tests.sandbox.conftest import ClientFactory, new_company, new_connection
from tests.sandbox.spec import COMMERCE, PLATFORM, assert_valid

ACCOUNTING = ["gbol", "pbbf", "pdvj", "qhyg", "qudb", "tgff", "fbrh"]
COMMERCE_KEYS = ["fqly", "fztf", "ldgh", "lqai", "ugxp"]


def test_integrations_list_every_key_with_its_kind(api: httpx.Client) -> None:
    page = api.get("/integrations").json()
    assert_valid(page, "Integrations", PLATFORM, COMMERCE)
    by_key = {item["key"]: item for item in page["results"]}
    assert sorted(by_key) == sorted([*ACCOUNTING, *COMMERCE_KEYS, "dfxm"])
    assert page["totalResults"] == 13 and page["pageNumber"] == 1
    assert all(item["enabled"] for item in by_key.values())
    assert {k for k, item in by_key.items() if item["sourceType"] == "Accounting"} == set(
        ACCOUNTING
    )
    assert {k for k, item in by_key.items() if item["sourceType"] == "Commerce"} == set(
        COMMERCE_KEYS
    )
    assert by_key["dfxm"]["sourceType"] == "Other"
    assert by_key["gbol"]["name"] == "Xero"


def test_integration_ids_match_the_connections_made_from_them(api: httpx.Client) -> None:
    gbol = api.get("/integrations", params={"query": "key=gbol"}).json()["results"][0]
    connection = new_connection(api, new_company(api)["id"], "gbol")
    assert connection["integrationId"] == gbol["integrationId"]
    assert connection["sourceId"] == gbol["sourceId"]
    assert connection["sourceType"] == gbol["sourceType"] == "Accounting"


def test_integrations_page_and_filter(make_api: ClientFactory) -> None:
    api = make_api(disabled_integrations=["gbol", "fztf"])
    first = api.get("/integrations", params={"pageSize": 5}).json()
    assert len(first["results"]) == 5 and first["totalResults"] == 13
    assert first["_links"]["next"]["href"] == "/integrations?page=2&pageSize=5"
    last = api.get("/integrations", params={"pageSize": 5, "page": 3}).json()
    assert len(last["results"]) == 3 and "next" not in last["_links"]
    keys = [i["key"] for p in (1, 2, 3) for i in _page(api, p)]
    assert len(set(keys)) == 13 and keys == sorted(keys)

    disabled = api.get("/integrations", params={"query": "enabled=false"}).json()
    assert sorted(i["key"] for i in disabled["results"]) == ["fztf", "gbol"]
    assert disabled["totalResults"] == 2
    accounting = api.get("/integrations", params={"query": "sourceType=Accounting&&enabled=true"})
    assert accounting.json()["totalResults"] == 6
    assert api.get("/integrations", params={"query": "colour=red"}).status_code == 400


def _page(api: httpx.Client, number: int) -> list[dict[str, object]]:
    answer = api.get("/integrations", params={"pageSize": 5, "page": number})
    results: list[dict[str, object]] = answer.json()["results"]
    return results


def test_sync_for_commerce_lists_the_same_integrations_at_config_integrations(
    make_api: ClientFactory,
) -> None:
    """Codat's Sync for Commerce SDK lists integrations at `GET /config/integrations`."""
    api = make_api(disabled_integrations=["gbol"])
    page = api.get("/config/integrations", params={"pageSize": 5}).json()
    assert_valid(page, "Integrations", COMMERCE)
    assert page["totalResults"] == 13 and len(page["results"]) == 5
    assert page["_links"]["next"]["href"] == "/config/integrations?page=2&pageSize=5"
    everything = api.get("/config/integrations", params={"pageSize": 100}).json()["results"]
    assert everything == api.get("/integrations", params={"pageSize": 100}).json()["results"]
    accounting = api.get("/config/integrations", params={"query": "sourceType=Accounting"})
    assert {i["key"]: i["enabled"] for i in accounting.json()["results"]}["gbol"] is False


def test_an_integrations_branding(api: httpx.Client) -> None:
    branding = api.get("/config/integrations/gbol/branding")
    assert branding.status_code == 200
    body = branding.json()
    assert_valid(body, "Branding", COMMERCE)
    gbol = api.get("/config/integrations", params={"query": "key=gbol"}).json()["results"][0]
    assert body["sourceId"] == gbol["sourceId"]
    images = [body["logo"]["full"], body["logo"]["square"], body["button"]["default"]]
    assert all(i["image"]["src"].startswith("https://static.codat.io/") for i in images)
    assert body["logo"]["full"]["image"]["alt"] == "Xero full icon"
    missing = api.get("/config/integrations/zzzz/branding")
    assert missing.status_code == 404
    assert_valid(missing.json(), "ErrorMessage", COMMERCE)


def test_added_integrations_are_listed(make_api: ClientFactory) -> None:
    api = make_api(integrations=["abcd", "gbol"], disabled_integrations=["abcd"])
    page = api.get("/integrations").json()
    assert_valid(page, "Integrations", PLATFORM, COMMERCE)
    assert [(i["key"], i["enabled"], i["sourceType"]) for i in page["results"]] == [
        ("abcd", False, "Other"),
        ("gbol", True, "Accounting"),
    ]


def test_disabling_an_unknown_integration_is_a_mistake(make_api: ClientFactory) -> None:
    with pytest.raises(ValueError, match="zzzz"):
        make_api(disabled_integrations=["zzzz"])


def test_a_disabled_integration_gets_no_connection(make_api: ClientFactory) -> None:
    api = make_api(disabled_integrations=["lqai"])
    company = new_company(api)
    refused = api.post(f"/companies/{company['id']}/connections", json={"platformKey": "lqai"})
    assert refused.status_code == 403
    body = refused.json()
    assert_valid(body, "ErrorMessage", PLATFORM, COMMERCE)
    assert "lqai" in body["error"] and "not enabled" in body["error"]
    assert body["canBeRetried"] == "False"
    assert api.get(f"/companies/{company['id']}/connections").json()["totalResults"] == 0
    new_connection(api, company["id"], "dfxm")  # others still work


@pytest.mark.parametrize("second", ["gbol", "qhyg"])
def test_one_active_accounting_connection_per_company(api: httpx.Client, second: str) -> None:
    company = new_company(api)
    base = f"/companies/{company['id']}/connections"
    first = new_connection(api, company["id"], "gbol")
    new_connection(api, company["id"], "lqai")  # commerce connections are not limited
    new_connection(api, company["id"], "fztf")

    refused = api.post(base, json={"platformKey": second})
    assert refused.status_code == 409
    body = refused.json()
    assert_valid(body, "ErrorMessage", PLATFORM, COMMERCE)
    assert "gbol" in body["error"] and body["canBeRetried"] == "False"

    # Linked and Deauthorized connections are active too; only Unlinked frees the place.
    api.put(f"{base}/{first['id']}/authorization", json={"token": "t"})
    assert api.post(base, json={"platformKey": second}).status_code == 409
    api.patch(f"{base}/{first['id']}", json={"status": "Deauthorized"})
    assert api.post(base, json={"platformKey": second}).status_code == 409
    api.patch(f"{base}/{first['id']}", json={"status": "Unlinked"})
    replacement = new_connection(api, company["id"], second)

    # Authorizing the unlinked one again would make two active: refused the same way.
    again = api.put(f"{base}/{first['id']}/authorization", json={"token": "t"})
    assert again.status_code == 409
    assert api.get(f"{base}/{first['id']}").json()["status"] == "Unlinked"
    assert api.get(f"{base}/{replacement['id']}").json()["status"] == "PendingAuth"


def test_the_rule_is_per_company(api: httpx.Client) -> None:
    for _ in range(2):
        new_connection(api, new_company(api)["id"], "gbol")
