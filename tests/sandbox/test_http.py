"""The real server: auth, rate limits, bad requests, keep-alive and concurrency."""

from __future__ import annotations

import base64
import socket
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.sandbox.spec import assert_valid

Start = Callable[..., Any]


def _client(handle: Any, **headers: str) -> httpx.Client:
    headers = headers or handle.auth_headers
    return httpx.Client(base_url=handle.base_url, headers=headers, timeout=10)


@pytest.mark.parametrize(
    "authorization",
    [None, "Basic " + base64.b64encode(b"wrong").decode(), "Bearer x", "Basic !!!"],
)
def test_missing_or_wrong_key_is_401(sandbox_server: Start, authorization: str | None) -> None:
    handle = sandbox_server(api_key="right")
    headers = {"Authorization": authorization} if authorization else {}
    response = httpx.get(handle.base_url + "/companies", headers=headers)
    assert response.status_code == 401
    assert_valid(response.json(), "ErrorMessage")
    ok = httpx.get(handle.base_url + "/companies", headers=handle.auth_headers)
    assert ok.status_code == 200


def test_rate_limit_headers_on_every_answer(http: httpx.Client) -> None:
    for response in (http.get("/companies"), http.get("/nowhere"), http.post("/companies")):
        assert int(response.headers["X-Rate-Limit-Limit"]) >= 1000
        assert "X-Rate-Limit-Remaining" in response.headers
        assert "X-Rate-Limit-Reset" in response.headers


def test_rate_limit_answers_429_with_retry_after(sandbox_server: Start) -> None:
    handle = sandbox_server(rate_limit=3)
    with _client(handle) as client:
        assert all(client.get("/companies").status_code == 200 for _ in range(3))
        refused = client.get("/companies")
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert_valid(refused.json(), "ErrorMessage")
        handle.app.clock.advance(int(refused.headers["Retry-After"]))
        assert client.get("/companies").status_code == 200


def test_bad_requests_get_4xx_error_bodies_and_the_server_keeps_serving(http: httpx.Client) -> None:
    json_type = {"Content-Type": "application/json"}
    cases = [
        (http.post("/companies", content=b"{not json", headers=json_type), 400),
        (http.post("/companies", content=b"[" * 100_000, headers=json_type), 400),
        (
            http.post(
                "/companies", content=b'{"name":"a"}', headers={"Content-Type": "text/plain"}
            ),
            415,
        ),
        (http.post("/companies", content=b'{"name":"a"}'), 415),
        (http.post("/companies", content=b"x" * (1024 * 1024 + 1), headers=json_type), 413),
        (http.get("/nowhere"), 404),
        (http.get("/companies/a/b/c/d/e"), 404),
        (http.post("/companies/x/connections/y/authorization", json={}), 405),
        (http.request("TRACE", "/companies"), 501),
    ]
    for response, status in cases:
        assert response.status_code == status, response.text
        assert_valid(response.json(), "ErrorMessage")
        assert "Traceback" not in response.text
    assert http.post("/companies", json={"name": "still here"}).status_code == 200


def test_a_method_a_path_does_not_take_gets_405_with_allow(http: httpx.Client) -> None:
    company = http.post("/companies", json={"name": "Acme"}).json()
    cases = [
        (http.delete("/companies"), "GET, POST"),
        (http.post(f"/companies/{company['id']}", json={}), "DELETE, GET, PATCH, PUT"),
        (http.get(f"/companies/{company['id']}/connections/x/authorization"), "PUT"),
        (http.post("/config/integrations", json={}), "GET"),
    ]
    for response, allow in cases:
        assert response.status_code == 405, response.text
        assert response.headers["Allow"] == allow
        assert_valid(response.json(), "ErrorMessage")


def test_garbage_on_the_socket_gets_an_error_body(sandbox_server: Start) -> None:
    handle = sandbox_server()
    url = urlsplit(handle.base_url)
    with socket.create_connection((url.hostname, url.port), timeout=5) as sock:
        sock.sendall(b"NOT-HTTP\r\n\r\n")
        answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 400")
    assert b'"correlationId"' in answer
    with _client(handle) as client:
        assert client.get("/companies").status_code == 200


def test_keep_alive_serves_many_requests_on_one_connection(http: httpx.Client) -> None:
    for _ in range(20):
        assert http.get("/companies").status_code == 200
    # httpx reuses one pooled connection for sequential requests
    pool = http._transport._pool  # type: ignore[attr-defined]
    assert len(pool.connections) == 1


def test_sixteen_requests_are_served_at_once(sandbox_server: Start) -> None:
    # The server holds the first fifteen unanswered; it can only answer the
    # sixteenth if it serves requests side by side rather than in turn.
    handle = sandbox_server(faults=["timeout:GET:/companies:first:15"])
    held = [
        httpx.Client(base_url=handle.base_url, headers=handle.auth_headers, timeout=60)
        for _ in range(15)
    ]
    with ThreadPoolExecutor(15) as pool:
        waiting = [pool.submit(client.get, "/companies") for client in held]
        handle.wait_for_calls(15)
        with _client(handle) as sixteenth:
            assert sixteenth.get("/companies").status_code == 200
        assert not any(call.done() for call in waiting)
        handle.stop()  # lets the held ones go, unanswered
        released = [call.exception() for call in waiting]
    for client in held:
        client.close()
    assert all(isinstance(e, httpx.RemoteProtocolError | httpx.ReadError) for e in released)
    assert list(handle.app.calls) == [("GET", "/companies", 504)] * 15 + [
        ("GET", "/companies", 200)
    ]
