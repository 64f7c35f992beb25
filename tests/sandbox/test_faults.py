"""Injected faults: each kind, over real HTTP and in-process, deterministic under a seed."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from reconciler.sandbox.faults import FaultInjector, parse_fault
from tests.sandbox.conftest import ClientFactory
from tests.sandbox.spec import assert_valid

Start = Callable[..., Any]


def _client(handle: Any, timeout: float = 5) -> httpx.Client:
    return httpx.Client(base_url=handle.base_url, headers=handle.auth_headers, timeout=timeout)


@pytest.mark.parametrize(("kind", "retry_after"), [("500", None), ("503", "1"), ("429", "1")])
def test_error_faults_answer_codat_errors_and_change_nothing(
    sandbox_server: Start, kind: str, retry_after: str | None
) -> None:
    handle = sandbox_server(faults=[f"{kind}:POST:/companies:first:2"])
    with _client(handle) as client:
        for _ in range(2):
            response = client.post("/companies", json={"name": "Acme"})
            assert response.status_code == int(kind)
            assert response.headers.get("Retry-After") == retry_after
            assert_valid(response.json(), "ErrorMessage")
        assert client.get("/companies").json()["totalResults"] == 0
        assert client.post("/companies", json={"name": "Acme"}).status_code == 200


def test_timeout_holds_the_request_unanswered(sandbox_server: Start) -> None:
    handle = sandbox_server(faults=["timeout:GET:/companies:first:1"])
    with _client(handle, timeout=0.5) as client:
        # A read timeout, not a closed connection: the server kept it open, silent.
        with pytest.raises(httpx.ReadTimeout):
            client.get("/companies")
        assert client.get("/companies").status_code == 200


def test_stopping_the_server_releases_a_held_request(sandbox_server: Start) -> None:
    handle = sandbox_server(faults=["timeout:*:/**:1"])
    errors: list[BaseException] = []

    def call() -> None:
        try:
            with _client(handle, timeout=30) as client:
                client.get("/companies")
        except httpx.HTTPError as err:
            errors.append(err)

    thread = threading.Thread(target=call)
    thread.start()
    handle.wait_for_calls(1)  # the server holds it now
    handle.stop()
    thread.join(20)  # held for 120 s or until the 30 s client timeout otherwise
    assert not thread.is_alive()
    assert errors and isinstance(errors[0], httpx.RemoteProtocolError | httpx.ReadError)


def test_lost_commits_then_drops_the_answer_and_the_retry_replays(sandbox_server: Start) -> None:
    handle = sandbox_server(faults=["lost:POST:/companies:first:1"])
    key = {"Idempotency-Key": "c0ffee00-0000-4000-8000-000000000001"}
    with _client(handle) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            client.post("/companies", json={"name": "Acme"}, headers=key)
        listed = client.get("/companies").json()
        assert listed["totalResults"] == 1  # committed although never answered
        retried = client.post("/companies", json={"name": "Acme"}, headers=key)
        assert retried.status_code == 200
        assert retried.json()["id"] == listed["results"][0]["id"]
        assert client.get("/companies").json()["totalResults"] == 1  # no duplicate


def test_in_process_faults_raise_what_a_network_would(make_api: ClientFactory) -> None:
    api = make_api(faults=["lost:POST:/companies:first:1", "timeout:GET:/companies:first:1"])
    key = {"Idempotency-Key": "k"}
    with pytest.raises(httpx.RemoteProtocolError):
        api.post("/companies", json={"name": "Acme"}, headers=key)
    with pytest.raises(httpx.ReadTimeout):
        api.get("/companies")
    assert api.get("/companies").json()["totalResults"] == 1
    assert api.post("/companies", json={"name": "Acme"}, headers=key).status_code == 200
    assert api.get("/companies").json()["totalResults"] == 1


def test_glob_star_is_one_segment_and_method_filters(make_api: ClientFactory) -> None:
    api = make_api(faults=["503:GET:/companies/*:1"])
    assert api.get("/companies").status_code == 200
    company = api.post("/companies", json={"name": "A"}).json()
    assert api.get(f"/companies/{company['id']}").status_code == 503
    assert api.get(f"/companies/{company['id']}/connections").status_code == 200
    assert api.patch(f"/companies/{company['id']}", json={}).status_code == 200


def _pattern(seed: int) -> list[int]:
    injector = FaultInjector(["500:*:/companies:0.5", "503:GET:/**:0.3"], seed=seed)
    return [{None: 0, "500": 1, "503": 2}[injector.decide("GET", "/companies")] for _ in range(200)]


def test_same_seed_same_faults() -> None:
    assert _pattern(7) == _pattern(7)
    assert _pattern(7) != _pattern(8)
    ones = _pattern(7).count(1)
    assert 70 < ones < 130  # about half, as RATE 0.5 asks


def test_same_seed_same_faults_over_http(sandbox_server: Start) -> None:
    def statuses(seed: int) -> list[int]:
        handle = sandbox_server(faults=["500:GET:/companies:0.5"], seed=seed)
        with _client(handle) as client:
            return [client.get("/companies").status_code for _ in range(30)]

    assert statuses(3) == statuses(3)
    assert set(statuses(3)) == {200, 500}


@pytest.mark.parametrize(
    "bad",
    [
        "404:GET:/x:1",
        "500:FETCH:/x:1",
        "500:GET:x:1",
        "500:GET:/x:2",
        "500:GET:/x:first:-1",
        "500:GET:/x",
        "500:GET:/x:often",
    ],
)
def test_bad_fault_specs_say_what_is_wrong(bad: str) -> None:
    with pytest.raises(ValueError, match=r"KIND|METHOD|PATH_GLOB|RATE|first"):
        parse_fault(bad)


def test_latency_applies_to_every_request(make_api: ClientFactory) -> None:
    api = make_api(latency_ms=120)
    for path in ("/companies", "/nowhere"):
        started = time.monotonic()
        api.get(path)
        assert time.monotonic() - started >= 0.115
