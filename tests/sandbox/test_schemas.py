"""Every kind of body the sandbox produces, validated against the specs' own schemas."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from reconciler.sandbox.idempotency import scope
from tests.sandbox.conftest import ClientFactory, app_of, new_company, new_connection
from tests.sandbox.spec import COMMERCE, PLATFORM, assert_valid


def test_company_connection_and_pages_match_both_specs(http: httpx.Client) -> None:
    company = new_company(http, "Acme Coffee", description="d", tags={"region": "uk"})
    assert_valid(company, "Company", PLATFORM, COMMERCE)
    connection = new_connection(http, company["id"], "dfxm")
    assert_valid(connection, "Connection", PLATFORM, COMMERCE)

    base = f"/companies/{company['id']}"
    for body in (
        http.get(base).json(),
        http.patch(base, json={"description": None}).json(),
        http.put(base, json={"name": "Acme"}).json(),
    ):
        assert_valid(body, "Company", PLATFORM, COMMERCE)
    conn_path = f"{base}/connections/{connection['id']}"
    for body in (
        http.get(conn_path).json(),
        http.put(conn_path + "/authorization", json={"apiToken": "t"}).json(),
        http.patch(conn_path, json={"status": "Unlinked"}).json(),
    ):
        assert_valid(body, "Connection", PLATFORM, COMMERCE)

    companies = http.get("/companies", params={"pageSize": 5000}).json()
    assert companies["results"][0]["dataConnections"][0]["id"] == connection["id"]
    assert_valid(companies, "Companies", PLATFORM, COMMERCE)
    assert_valid(http.get(base + "/connections").json(), "Connections", PLATFORM, COMMERCE)


def test_sync_flow_url_matches_the_commerce_spec(http: httpx.Client) -> None:
    body = http.get(
        "/config/sync/commerce/lqai/gbol/start", params={"merchantIdentifier": "12345678"}
    ).json()
    assert_valid(body, "SyncFlowUrl", COMMERCE)


def _error_bodies(make_api: ClientFactory) -> dict[int, httpx.Response]:
    api = make_api(rate_limit=5)  # the sixth request is refused
    company = new_company(api)
    answers = {
        400: api.post("/companies", json={"name": "<bad>"}),
        404: api.get("/companies/0498e921-9b53-4396-a412-4f2f5983b0a2"),
    }
    keyed = {"Idempotency-Key": "k1"}
    path = f"/companies/{company['id']}"
    api.patch(path, json={"description": "one"}, headers=keyed)
    answers[422] = api.patch(path, json={"description": "two"}, headers=keyed)
    answers[429] = api.get("/companies")
    return answers


@pytest.mark.parametrize("status", [400, 404, 422, 429])
def test_error_bodies_match_the_error_schema(make_api: ClientFactory, status: int) -> None:
    response = _error_bodies(make_api)[status]
    assert response.status_code == status
    body = response.json()
    assert_valid(body, "ErrorMessage", PLATFORM, COMMERCE)
    assert body["statusCode"] == status and body["correlationId"]


def test_401_and_409_bodies_match_the_error_schema(
    sandbox_server: Callable[..., Any], make_api: ClientFactory
) -> None:
    handle = sandbox_server()
    unauthorized = httpx.get(handle.base_url + "/companies")
    assert unauthorized.status_code == 401
    assert_valid(unauthorized.json(), "ErrorMessage", PLATFORM, COMMERCE)

    api = make_api()
    # A claim as the first request leaves it while it runs (the HTTP race is in
    # test_idempotency.py).
    app_of(api).idempotency.begin(scope("", "POST", "/companies", "busy"), b'{"name":"a"}')
    in_flight = api.post("/companies", json={"name": "a"}, headers={"Idempotency-Key": "busy"})
    assert in_flight.status_code == 409
    assert_valid(in_flight.json(), "ErrorMessage", PLATFORM, COMMERCE)


def test_merchant_side_bodies_match_the_specs(http: httpx.Client) -> None:
    assert_valid(http.get("/integrations").json(), "Integrations", PLATFORM, COMMERCE)
    company = new_company(http)
    config_path = f"/config/companies/{company['id']}/sync/commerce"
    latest_path = f"/companies/{company['id']}/sync/commerce/syncs/latest/status"
    assert_valid(http.get(config_path).json(), "Configuration", COMMERCE)
    assert_valid(http.get(latest_path).json(), "ErrorMessage", PLATFORM, COMMERCE)
    hooks = f"/_sandbox/companies/{company['id']}"
    flow = http.post(hooks + "/sync-flow/complete", json={"accountingKey": "gbol"}).json()
    assert_valid(flow["configuration"], "Configuration", COMMERCE)
    assert_valid(flow["connection"], "Connection", PLATFORM, COMMERCE)
    assert_valid(http.get(config_path).json(), "Configuration", COMMERCE)
    for status in ("Complete", "PushError"):
        http.post(hooks + "/syncs", json={"status": status})
        assert_valid(http.get(latest_path).json(), "CompanySyncStatus", COMMERCE)
