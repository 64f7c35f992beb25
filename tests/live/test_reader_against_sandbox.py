"""Reading live state from the real sandbox over HTTP, pages capped below 5000."""

from __future__ import annotations

import math
from collections.abc import Callable

from reconciler.codat import ApiCall, CodatClient
from reconciler.live.reader import read_live_state
from tests.fixtures.sandbox import SandboxHandle

Start = Callable[..., SandboxHandle]


def test_reads_12000_companies_with_pages_capped_at_2000(sandbox_server: Start) -> None:
    sb = sandbox_server(max_page_size=2000)
    sb.app.store.seed(
        {
            "name": f"{i:08d}",
            "tags": {"region": "uk"},
            "connections": [{"platformKey": "dfxm", "status": "Linked"}] if i % 3 == 0 else [],
        }
        for i in range(12_000)
    )
    calls: list[ApiCall] = []
    with CodatClient(sb.base_url, sb.api_key, observer=calls.append) as client:
        state = read_live_state(client, parallelism=4)

    assert len(state.companies) == len({c.id for c in state.companies}) == 12_000
    assert sum(len(c.connections) for c in state.companies) == 4_000
    assert all(c.connections[0].status_is("linked") for c in state.companies if c.connections)
    # One call per page the server really serves, plus one: the last page was full,
    # which is no proof of the end. Nothing per company.
    assert len(calls) == math.ceil(12_000 / 2000) + 1
    assert {(c.method, c.path, c.status) for c in calls} == {("GET", "/companies", 200)}


def test_reads_in_ceil_n_over_5000_calls_when_pages_are_honoured(sandbox_server: Start) -> None:
    sb = sandbox_server()
    sb.app.store.seed({"name": f"{i:08d}"} for i in range(12_000))
    calls: list[ApiCall] = []
    with CodatClient(sb.base_url, sb.api_key, observer=calls.append) as client:
        state = read_live_state(client)
    assert len(state.companies) == 12_000
    assert len(calls) == 3
