"""The merchant's side: Sync for Commerce configuration, latest sync, and the /_sandbox/ hooks."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.sandbox.store import SandboxStore
from tests.sandbox.conftest import ClientFactory, app_of, new_company, new_connection
from tests.sandbox.spec import COMMERCE, PLATFORM, assert_valid

MISSING = "0498e921-9b53-4396-a412-4f2f5983b0a2"


def config_of(api: httpx.Client, company_id: str) -> dict[str, Any]:
    answer = api.get(f"/config/companies/{company_id}/sync/commerce")
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    assert_valid(body, "Configuration", COMMERCE)
    return body


def latest(api: httpx.Client, company_id: str) -> httpx.Response:
    return api.get(f"/companies/{company_id}/sync/commerce/syncs/latest/status")


def complete_flow(api: httpx.Client, company_id: str, key: str = "gbol") -> httpx.Response:
    path = f"/_sandbox/companies/{company_id}/sync-flow/complete"
    return api.post(path, json={"accountingKey": key})


def record_sync(api: httpx.Client, company_id: str, **body: Any) -> httpx.Response:
    return api.post(f"/_sandbox/companies/{company_id}/syncs", json=body)


def test_a_new_company_is_neither_configured_nor_synced(api: httpx.Client) -> None:
    company = new_company(api)
    config = config_of(api, company["id"])
    assert config == {"companyId": company["id"], "enable": False, "configured": False}
    none_yet = latest(api, company["id"])
    assert none_yet.status_code == 404
    assert_valid(none_yet.json(), "ErrorMessage", PLATFORM, COMMERCE)
    assert company["id"] in none_yet.json()["error"]


@pytest.mark.parametrize(
    "path",
    [
        f"/config/companies/{MISSING}/sync/commerce",
        f"/companies/{MISSING}/sync/commerce/syncs/latest/status",
    ],
)
def test_unknown_company_is_404(api: httpx.Client, path: str) -> None:
    answer = api.get(path)
    assert answer.status_code == 404
    assert answer.json()["error"] == f"No company was found with ID {MISSING}"
    for hook in (complete_flow(api, MISSING), record_sync(api, MISSING, status="Complete")):
        assert hook.status_code == 404


def test_completing_the_flow_links_the_accounting_connection(api: httpx.Client) -> None:
    company = new_company(api, "Acme Coffee")
    commerce = new_connection(api, company["id"], "lqai")
    done = complete_flow(api, company["id"], "gbol")
    assert done.status_code == 200, done.text
    connection = done.json()["connection"]
    assert_valid(connection, "Connection", PLATFORM, COMMERCE)
    assert connection["integrationKey"] == "gbol" and connection["status"] == "Linked"
    assert connection["sourceType"] == "Accounting"

    config = config_of(api, company["id"])
    assert config["configured"] is True and config["enable"] is True
    assert config["accountingSoftwareCompanyName"] == "Acme Coffee"
    assert done.json()["configuration"] == config

    listed = api.get(f"/companies/{company['id']}").json()["dataConnections"]
    assert [(c["integrationKey"], c["status"]) for c in listed] == [
        ("lqai", commerce["status"]),
        ("gbol", "Linked"),
    ]


@pytest.mark.parametrize("status", ["PendingAuth", "Linked", "Deauthorized"])
def test_the_flow_links_an_active_connection_to_the_same_platform(
    api: httpx.Client, status: str
) -> None:
    company = new_company(api)
    existing = new_connection(api, company["id"], "qhyg")
    path = f"/companies/{company['id']}/connections/{existing['id']}"
    if status == "Linked":
        api.put(path + "/authorization", json={"token": "t"})
    elif status == "Deauthorized":
        api.patch(path, json={"status": "Deauthorized"})
    done = complete_flow(api, company["id"], "qhyg")
    assert done.status_code == 200
    assert done.json()["connection"]["id"] == existing["id"]
    assert api.get(path).json()["status"] == "Linked"
    assert api.get(f"/companies/{company['id']}/connections").json()["totalResults"] == 1


def test_the_flow_with_another_accounting_platform_is_refused(api: httpx.Client) -> None:
    company = new_company(api)
    existing = new_connection(api, company["id"], "qhyg")
    refused = complete_flow(api, company["id"], "gbol")
    assert refused.status_code == 409
    assert "qhyg" in refused.json()["error"]
    # Nothing of the refused flow stays: no connection, no configuration.
    assert api.get(f"/companies/{company['id']}/connections").json()["totalResults"] == 1
    assert config_of(api, company["id"])["configured"] is False

    api.patch(
        f"/companies/{company['id']}/connections/{existing['id']}", json={"status": "Unlinked"}
    )
    assert complete_flow(api, company["id"], "gbol").status_code == 200


@pytest.mark.parametrize(
    ("body", "item"),
    [
        ({}, "accountingKey"),
        ({"accountingKey": "GBOL"}, "accountingKey"),
        ({"accountingKey": "lqai"}, "accountingKey"),  # commerce, not accounting
        ({"accountingKey": "zzzz"}, "accountingKey"),
    ],
)
def test_the_flow_needs_an_accounting_key(
    api: httpx.Client, body: dict[str, Any], item: str
) -> None:
    company = new_company(api)
    answer = api.post(f"/_sandbox/companies/{company['id']}/sync-flow/complete", json=body)
    assert answer.status_code == 400
    assert answer.json()["validation"]["errors"][0]["itemId"] == item


def test_the_flow_with_a_disabled_accounting_platform_is_refused(
    make_api: ClientFactory,
) -> None:
    api = make_api(disabled_integrations=["gbol"])
    company = new_company(api)
    assert complete_flow(api, company["id"], "gbol").status_code == 403
    assert config_of(api, company["id"])["configured"] is False


def test_recorded_syncs_are_reported_latest_first(api: httpx.Client) -> None:
    company = new_company(api)
    app = app_of(api)
    first = record_sync(api, company["id"], status="Completed")
    assert first.status_code == 200, first.text
    assert_valid(first.json(), "CompanySyncStatus", COMMERCE)
    app.clock.advance(3600)
    failed = record_sync(api, company["id"], status="PushError", errorMessage="Account archived")
    assert failed.status_code == 200

    answer = latest(api, company["id"])
    assert answer.status_code == 200
    body = answer.json()
    assert_valid(body, "CompanySyncStatus", COMMERCE)
    assert body == failed.json()
    assert body["syncStatus"] == "PushError" and body["syncStatusCode"] == 5130
    assert body["errorMessage"] == "Account archived" and body["dataPushed"] is False
    assert body["syncUtc"] > first.json()["syncUtc"]  # the sandbox clock moved an hour
    assert first.json()["syncStatus"] == "Complete"
    assert first.json()["syncStatusCode"] == 2000 and first.json()["dataPushed"] is True


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"status": "Complete"}, 2000),
        ({"status": "Complete", "dataPushed": False}, 2040),
        ({"status": "Started"}, 1000),
        ({"status": "ValidateError"}, 4000),
        ({"status": "MapCoreError"}, 4200),
    ],
)
def test_sync_status_codes(api: httpx.Client, body: dict[str, Any], code: int) -> None:
    company = new_company(api)
    recorded = record_sync(api, company["id"], **body).json()
    assert recorded["syncStatusCode"] == code
    assert (recorded["errorMessage"] == "") == (code < 4000)


@pytest.mark.parametrize(
    "body",
    [{}, {"status": "Done"}, {"status": 2000}, {"status": "Complete", "dataPushed": "yes"}],
)
def test_a_sync_needs_a_known_status(api: httpx.Client, body: dict[str, Any]) -> None:
    company = new_company(api)
    assert record_sync(api, company["id"], **body).status_code == 400
    assert latest(api, company["id"]).status_code == 404


def test_deleting_a_company_deletes_its_commerce_state(api: httpx.Client) -> None:
    company = new_company(api)
    complete_flow(api, company["id"])
    record_sync(api, company["id"], status="Complete")
    assert api.delete(f"/companies/{company['id']}").status_code == 204
    with app_of(api).store.read() as tx:
        for table in ("commerce_configs", "commerce_syncs", "connections"):
            assert tx.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0


def test_hooks_take_the_api_key(sandbox_server: Callable[..., Any]) -> None:
    handle = sandbox_server()
    with httpx.Client(base_url=handle.base_url, timeout=10) as anonymous:
        path = f"/_sandbox/companies/{MISSING}/syncs"
        assert anonymous.post(path, json={"status": "Complete"}).status_code == 401
    with httpx.Client(base_url=handle.base_url, headers=handle.auth_headers, timeout=10) as http:
        company = new_company(http)
        assert complete_flow(http, company["id"]).status_code == 200
        assert record_sync(http, company["id"], status="Complete").status_code == 200
        assert latest(http, company["id"]).json()["syncStatus"] == "Complete"
        assert http.get(f"/_sandbox/companies/{company['id']}/syncs").status_code == 405


def test_a_file_from_an_older_sandbox_gains_the_new_tables(
    sandbox_path: Path, make_api: ClientFactory
) -> None:
    SandboxStore(sandbox_path).close()
    with sqlite3.connect(sandbox_path) as db:  # as a sandbox before these tables left it
        db.execute("DROP TABLE commerce_configs")
        db.execute("DROP TABLE commerce_syncs")
    api = make_api(sandbox_path)
    company = new_company(api)
    assert complete_flow(api, company["id"]).status_code == 200
    assert record_sync(api, company["id"], status="Complete").status_code == 200
    assert config_of(api, company["id"])["configured"] is True
