"""The endpoints the sandbox serves: status codes, shapes, validation, lifecycle."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from reconciler.sandbox.transport import SandboxTransport
from tests.sandbox.conftest import ClientFactory, app_of, new_company, new_connection

MISSING = "0498e921-9b53-4396-a412-4f2f5983b0a2"


def test_company_create_get_patch_put_delete(api: httpx.Client) -> None:
    company = new_company(api, "12345678", description="Acme", tags={"region": "uk"})
    assert company["redirect"] == f"https://link.codat.io/company/{company['id']}"
    assert company["dataConnections"] == [] and company["products"] == []
    path = f"/companies/{company['id']}"
    assert api.get(path).json() == company

    patched = api.patch(path, json={"tags": {"region": "us"}}).json()
    assert patched["tags"] == {"region": "us"}
    assert patched["description"] == "Acme" and patched["name"] == "12345678"  # untouched

    replaced = api.put(path, json={"name": "Renamed"}).json()
    assert replaced["name"] == "Renamed"
    assert replaced["description"] is None and replaced["tags"] == {}  # replaced, not merged
    assert replaced["created"] == company["created"]

    deleted = api.delete(path)
    assert deleted.status_code == 204 and deleted.content == b""
    again = api.delete(path)
    assert again.status_code == 404 and again.json()["statusCode"] == 404
    assert api.get(path).status_code == 404


def test_null_fields_of_an_update_leave_the_company_as_it_was(api: httpx.Client) -> None:
    """Codat's Update company: fields given as `null` are not included in the update;
    Replace company replaces every field, a null description included."""
    company = new_company(api, "12345678", description="Acme", tags={"region": "uk"})
    path = f"/companies/{company['id']}"
    patched = api.patch(path, json={"name": None, "description": None, "tags": None})
    assert patched.status_code == 200, patched.text
    assert {k: patched.json()[k] for k in ("name", "description", "tags")} == {
        "name": "12345678",
        "description": "Acme",
        "tags": {"region": "uk"},
    }
    emptied = api.patch(path, json={"description": ""}).json()
    assert emptied["description"] == ""  # an empty string is a value: it is set
    replaced = api.put(path, json={"name": "12345678", "description": None}).json()
    assert replaced["description"] is None
    created = new_company(api, "87654321", description=None)
    assert created["description"] is None


def test_two_companies_may_share_a_name(api: httpx.Client) -> None:
    first, second = new_company(api, "Same"), new_company(api, "Same")
    assert first["id"] != second["id"]


def test_connection_lifecycle(api: httpx.Client) -> None:
    company = new_company(api)
    connection = new_connection(api, company["id"], "dfxm")
    assert connection["status"] == "PendingAuth" and connection["integrationKey"] == "dfxm"
    path = f"/companies/{company['id']}/connections/{connection['id']}"

    linked = api.put(path + "/authorization", json={"apiToken": "secret-value", "storeId": "s1"})
    assert linked.status_code == 200 and linked.json()["status"] == "Linked"
    assert "secret-value" not in linked.text
    with app_of(api).store.read() as tx:
        assert tx.authorizations(connection["id"]) == 1
        stored = tx.conn.execute("SELECT group_concat(body) FROM connections").fetchone()[0]
    assert "secret-value" not in stored

    assert api.patch(path, json={"status": "Deauthorized"}).json()["status"] == "Deauthorized"
    assert api.patch(path, json={"status": "unlinked"}).json()["status"] == "Unlinked"
    assert api.patch(path, json={"status": "Linked"}).status_code == 400
    assert api.patch(path, json={"colour": "red"}).status_code == 400
    listed = api.get(f"/companies/{company['id']}/connections").json()
    assert [c["status"] for c in listed["results"]] == ["Unlinked"]
    embedded = api.get("/companies").json()["results"][0]["dataConnections"]
    assert embedded[0]["status"] == "Unlinked"

    assert api.delete(path).status_code == 200
    assert api.delete(path).status_code == 404
    assert api.get(path).status_code == 404


def test_deleting_a_company_deletes_its_connections(api: httpx.Client) -> None:
    company = new_company(api)
    connection = new_connection(api, company["id"])
    assert api.delete(f"/companies/{company['id']}").status_code == 204
    with app_of(api).store.read() as tx:
        assert tx.connection(company["id"], connection["id"]) is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "Acme <script>"}, "name"),
        ({"name": 12}, "name"),
        ({}, "name"),
        ({"name": "A", "tags": {f"k{i}": "v" for i in range(11)}}, "tags"),
        ({"name": "A", "tags": {"k" * 28: "v"}}, "tags." + "k" * 28),
        ({"name": "A", "tags": {"": "v"}}, "tags."),
        ({"name": "A", "tags": {"k": "v" * 101}}, "tags.k"),
        ({"name": "A", "tags": {"k": 1}}, "tags.k"),
        ({"name": "A", "description": 5}, "description"),
    ],
)
def test_company_validation_names_the_field(
    api: httpx.Client, body: dict[str, object], field: str
) -> None:
    response = api.post("/companies", json=body)
    assert response.status_code == 400
    items = response.json()["validation"]["errors"]
    assert field in [item["itemId"] for item in items]


def test_company_limits_at_their_edges_are_accepted(api: httpx.Client) -> None:
    tags = {("k" * 26 + str(i)): "v" * 100 for i in range(10)}
    new_company(api, "A-z 0,9 &@.'?!", tags=tags)


@pytest.mark.parametrize("key", ["GBOL", "gbo", "gbol1", "zzzz", 7])
def test_platform_key_must_be_a_known_four_letter_key(api: httpx.Client, key: object) -> None:
    company = new_company(api)
    response = api.post(f"/companies/{company['id']}/connections", json={"platformKey": key})
    assert response.status_code == 400
    assert response.json()["validation"]["errors"][0]["itemId"] == "platformKey"


def test_known_integrations_are_configurable(make_api: ClientFactory) -> None:
    api = make_api(integrations=["abcd"])
    company = new_company(api)
    assert new_connection(api, company["id"], "abcd")["platformName"] == "Integration abcd"
    bad = api.post(f"/companies/{company['id']}/connections", json={"platformKey": "gbol"})
    assert bad.status_code == 400


@pytest.mark.parametrize("body", [{}, {"a": 1}, {"a": None}, ["a"], "text"])
def test_authorization_body_must_be_an_object_of_strings(api: httpx.Client, body: object) -> None:
    company = new_company(api)
    connection = new_connection(api, company["id"])
    path = f"/companies/{company['id']}/connections/{connection['id']}/authorization"
    assert api.put(path, json=body).status_code == 400
    assert api.get(path.removesuffix("/authorization")).json()["status"] == "PendingAuth"


def test_connection_calls_on_a_missing_company_or_connection_are_404(api: httpx.Client) -> None:
    created = api.post(f"/companies/{MISSING}/connections", json={"platformKey": "gbol"})
    assert created.status_code == 404
    assert api.get(f"/companies/{MISSING}/connections").status_code == 404
    company = new_company(api)
    path = f"/companies/{company['id']}/connections/{MISSING}"
    assert api.get(path).status_code == 404
    assert api.patch(path, json={"status": "Unlinked"}).status_code == 404
    assert api.put(path + "/authorization", json={"a": "b"}).status_code == 404
    assert "not found" in api.delete(path).json()["error"]


def test_sync_flow_url_has_a_fresh_one_time_code_each_call(api: httpx.Client) -> None:
    params = {"merchantIdentifier": "12345678", "redirectUrl": "https://app.example.com/done?x=1"}
    urls = [
        api.get("/config/sync/commerce/lqai/gbol/start", params=params).json()["url"]
        for _ in range(5)
    ]
    parts = urlsplit(urls[0])
    assert parts.scheme == "https" and parts.path.endswith("/lqai/gbol/start")
    query = parse_qs(parts.query)
    assert query["merchantIdentifier"] == ["12345678"]
    assert query["redirectUrl"] == ["https://app.example.com/done?x=1"]
    codes = [parse_qs(urlsplit(url).query)["otp"][0] for url in urls]
    assert all(len(code) == 6 and code.isdigit() for code in codes)
    assert len(set(codes)) > 1


def test_sync_flow_url_needs_a_merchant_and_known_keys(api: httpx.Client) -> None:
    assert api.get("/config/sync/commerce/lqai/gbol/start").status_code == 400
    params = {"merchantIdentifier": "m"}
    assert api.get("/config/sync/commerce/zzzz/gbol/start", params=params).status_code == 404
    assert api.get("/config/sync/commerce/LQAI/gbol/start", params=params).status_code == 400


def test_state_is_shared_through_the_file(tmp_path: object, make_api: ClientFactory) -> None:
    first = make_api()
    company = new_company(first)
    path = app_of(first).store.path
    with httpx.Client(base_url="https://api.codat.io", transport=SandboxTransport(path)) as again:
        assert again.get(f"/companies/{company['id']}").json()["name"] == "Acme"
