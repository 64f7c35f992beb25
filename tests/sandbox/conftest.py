"""Clients for the sandbox tests: in-process (fast) and over real HTTP."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.sandbox.transport import SandboxTransport

ClientFactory = Callable[..., httpx.Client]


@pytest.fixture
def make_api(tmp_path: Path) -> Iterator[ClientFactory]:
    """`make_api(**SandboxApp options) -> httpx.Client` over an in-process sandbox."""
    clients: list[httpx.Client] = []

    def make(path: Path | None = None, **options: Any) -> httpx.Client:
        transport = SandboxTransport(path or tmp_path / f"api-{len(clients)}.sqlite", **options)
        client = httpx.Client(base_url="https://api.codat.io", transport=transport)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def api(make_api: ClientFactory) -> httpx.Client:
    return make_api()


@pytest.fixture
def http(sandbox_server: Callable[..., Any]) -> Iterator[httpx.Client]:
    """A keep-alive client of a real sandbox server with the right key."""
    handle = sandbox_server()
    with httpx.Client(base_url=handle.base_url, headers=handle.auth_headers, timeout=10) as client:
        yield client


def app_of(client: httpx.Client) -> Any:
    """The SandboxApp behind an in-process client (to move its clock, read its calls)."""
    transport = client._transport
    assert isinstance(transport, SandboxTransport)
    return transport.app


def new_company(client: httpx.Client, name: str = "Acme", **fields: Any) -> dict[str, Any]:
    response = client.post("/companies", json={"name": name, **fields})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def new_connection(client: httpx.Client, company_id: str, key: str = "gbol") -> dict[str, Any]:
    response = client.post(f"/companies/{company_id}/connections", json={"platformKey": key})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
