"""`Idempotency-Key` on POST and PATCH: replay, 422, 409 in flight, 429 not kept, expiry."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import httpx

from reconciler.sandbox.idempotency import scope
from tests.sandbox.conftest import ClientFactory, app_of, new_company

KEY = {"Idempotency-Key": "0b5c9f56-3b1e-4d0e-9b7a-6a1f0d2c3e4f"}


def _count(api: httpx.Client) -> int:
    total: int = api.get("/companies").json()["totalResults"]
    return total


def test_replay_returns_the_same_status_and_body_without_a_second_change(
    api: httpx.Client,
) -> None:
    first = api.post("/companies", json={"name": "Acme"}, headers=KEY)
    again = api.post(
        "/companies",
        content=b'{ "name" : "Acme" }',
        headers={**KEY, "Content-Type": "application/json"},
    )
    assert first.status_code == again.status_code == 200
    assert again.content == first.content
    assert _count(api) == 1


def test_another_body_with_the_same_key_is_422(api: httpx.Client) -> None:
    api.post("/companies", json={"name": "Acme"}, headers=KEY)
    response = api.post("/companies", json={"name": "Other"}, headers=KEY)
    assert response.status_code == 422 and response.json()["statusCode"] == 422
    assert _count(api) == 1


def test_key_is_scoped_to_method_and_path(api: httpx.Client) -> None:
    company = new_company(api)
    api.post("/companies", json={"name": "Acme"}, headers=KEY)
    patched = api.patch(f"/companies/{company['id']}", json={"name": "Acme"}, headers=KEY)
    assert patched.status_code == 200 and patched.json()["id"] == company["id"]


def test_a_refusal_is_replayed_too(api: httpx.Client) -> None:
    first = api.post("/companies", json={"name": "<bad>"}, headers=KEY)
    again = api.post("/companies", json={"name": "<bad>"}, headers=KEY)
    assert first.status_code == again.status_code == 400
    assert again.json()["correlationId"] == first.json()["correlationId"]


def test_replay_expires_after_90_minutes_of_the_sandbox_clock(api: httpx.Client) -> None:
    api.post("/companies", json={"name": "Acme"}, headers=KEY)
    app_of(api).clock.advance(89 * 60)
    api.post("/companies", json={"name": "Acme"}, headers=KEY)
    assert _count(api) == 1
    app_of(api).clock.advance(2 * 60)
    fresh = api.post("/companies", json={"name": "Acme"}, headers=KEY)
    assert fresh.status_code == 200 and _count(api) == 2


def test_a_429_is_never_kept(make_api: ClientFactory) -> None:
    api = make_api(faults=["429:POST:/companies:first:1"])
    refused = api.post("/companies", json={"name": "Acme"}, headers=KEY)
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"
    retried = api.post("/companies", json={"name": "Acme"}, headers=KEY)
    assert retried.status_code == 200 and _count(api) == 1


def test_a_429_from_the_rate_limit_is_never_kept(make_api: ClientFactory) -> None:
    api = make_api(rate_limit=1)
    assert api.post("/companies", json={"name": "Acme"}, headers=KEY).status_code == 200
    app_of(api).clock.advance(61)
    patch_key = {"Idempotency-Key": "p"}
    company_id = api.get("/companies").json()["results"][0]["id"]
    path = f"/companies/{company_id}"
    assert api.patch(path, json={"description": "x"}, headers=patch_key).status_code == 429
    app_of(api).clock.advance(61)
    assert api.patch(path, json={"description": "x"}, headers=patch_key).status_code == 200


def test_same_key_while_the_first_is_in_flight_is_409(
    sandbox_server: Callable[..., Any],
) -> None:
    handle = sandbox_server(latency_ms=600)
    results: list[httpx.Response] = []

    def first() -> None:
        with httpx.Client(base_url=handle.base_url, headers=handle.auth_headers) as client:
            results.append(client.post("/companies", json={"name": "Acme"}, headers=KEY))

    thread = threading.Thread(target=first)
    thread.start()
    with httpx.Client(base_url=handle.base_url, headers=handle.auth_headers) as client:
        # The first request is claimed before its latency: wait until the claim exists.
        for _ in range(100):
            with handle.app.store.read() as tx:
                if tx.conn.execute("SELECT count(*) FROM idempotency").fetchone()[0]:
                    break
            threading.Event().wait(0.01)
        second = client.post("/companies", json={"name": "Acme"}, headers=KEY)
        thread.join()
        assert second.status_code == 409
        assert second.json()["canBeRetried"] == "True"
        assert results[0].status_code == 200
        third = client.post("/companies", json={"name": "Acme"}, headers=KEY)
        assert third.content == results[0].content
        assert client.get("/companies").json()["totalResults"] == 1


def test_in_flight_is_seen_across_processes_sharing_the_file(make_api: ClientFactory) -> None:
    one = make_api()
    other = make_api(app_of(one).store.path)  # a second app: as another process would
    app_of(one).idempotency.begin(scope("", "POST", "/companies", "k"), b'{"name":"A"}')
    response = other.post("/companies", json={"name": "A"}, headers={"Idempotency-Key": "k"})
    assert response.status_code == 409


def test_put_and_delete_ignore_the_key(api: httpx.Client) -> None:
    company = new_company(api)
    path = f"/companies/{company['id']}"
    assert api.put(path, json={"name": "B"}, headers=KEY).json()["name"] == "B"
    assert api.put(path, json={"name": "C"}, headers=KEY).json()["name"] == "C"
    assert api.delete(path, headers=KEY).status_code == 204
    assert api.delete(path, headers=KEY).status_code == 404


def test_a_500_before_the_change_is_kept_and_replayed(make_api: ClientFactory) -> None:
    api = make_api(faults=["500:POST:/companies:first:1"])
    first = api.post("/companies", json={"name": "Acme"}, headers=KEY)
    again = api.post("/companies", json={"name": "Acme"}, headers=KEY)
    assert first.status_code == again.status_code == 500
    assert again.json()["correlationId"] == first.json()["correlationId"]
    assert _count(api) == 0
    # A new key is a new request: it goes through.
    fresh = api.post("/companies", json={"name": "Acme"}, headers={"Idempotency-Key": "new"})
    assert fresh.status_code == 200 and _count(api) == 1


def test_a_500_after_the_change_committed_is_kept_and_replayed(make_api: ClientFactory) -> None:
    api = make_api(faults=["500-after:POST:/companies:first:1"])
    first = api.post("/companies", json={"name": "Acme"}, headers=KEY)
    again = api.post("/companies", json={"name": "Acme"}, headers=KEY)
    assert first.status_code == again.status_code == 500
    assert again.content == first.content
    assert _count(api) == 1  # the change happened once, and the 500 hides it


def test_a_503_on_a_patch_is_kept_too(make_api: ClientFactory) -> None:
    api = make_api(faults=["503:PATCH:/companies/*:first:1"])
    company = new_company(api)
    path = f"/companies/{company['id']}"
    first = api.patch(path, json={"description": "x"}, headers=KEY)
    again = api.patch(path, json={"description": "x"}, headers=KEY)
    assert first.status_code == again.status_code == 503
    assert api.get(path).json().get("description") != "x"
