"""The per-company reads: the client's two Sync for Commerce calls, against the sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.codat import CodatClient, CodatError
from reconciler.readiness.model import LastSync, ReadFailure, SyncFlowStatus
from reconciler.readiness.reader import read_companies
from reconciler.sandbox.app import SandboxApp
from reconciler.sandbox.transport import SandboxTransport
from tests.codat.fakes import error_json, make_client, scripted


def open_sandbox(path: Path, **options: Any) -> CodatClient:
    # Retries wait on an injected sleep: a client that is told to back off does not.
    return CodatClient(
        "http://127.0.0.1",
        transport=SandboxTransport(SandboxApp(path, **options)),
        max_rate=0,
        sleep=lambda seconds: None,
    )


@pytest.fixture
def ids(sandbox_path: Path) -> Iterator[list[str]]:
    """Three companies: one through the flow and synced, one with a failed sync, one new."""
    with open_sandbox(sandbox_path) as client:
        made = [client.create_company({"name": n})["id"] for n in ("done", "failed", "new")]
        for company, status in zip(made[:2], ("Complete", "PushError"), strict=False):
            hook = f"/_sandbox/companies/{company}"
            client.request("POST", hook + "/sync-flow/complete", json={"accountingKey": "gbol"})
            client.request("POST", hook + "/syncs", json={"status": status})
        yield made


def test_two_reads_per_company_and_none_before_the_first_sync(
    sandbox_path: Path, ids: list[str]
) -> None:
    app = SandboxApp(sandbox_path)
    done: list[None] = []
    with CodatClient("http://127.0.0.1", transport=SandboxTransport(app), max_rate=0) as client:
        reads = read_companies(
            client, [*ids, ids[0]], parallelism=3, on_company=lambda: done.append(None)
        )
    assert len(app.calls) == 6 and len(done) == 3  # a repeated id is read once
    assert {path.split("/")[1] for _, path, _ in app.calls} == {"config", "companies"}
    done_reads, failed_reads, new_reads = (reads[i] for i in ids)
    assert done_reads.sync_flow == SyncFlowStatus(configured=True, enabled=True)
    assert isinstance(done_reads.last_sync, LastSync)
    assert (done_reads.last_sync.status, done_reads.last_sync.code) == ("Complete", 2000)
    assert not done_reads.last_sync.failed
    assert isinstance(failed_reads.last_sync, LastSync) and failed_reads.last_sync.failed
    assert new_reads.sync_flow == SyncFlowStatus(configured=False, enabled=False)
    assert new_reads.last_sync is None


def test_a_failed_read_is_kept_for_its_company_only(sandbox_path: Path, ids: list[str]) -> None:
    fault = f"500:GET:/config/companies/{ids[1]}/sync/commerce:1"
    with open_sandbox(sandbox_path, faults=[fault]) as client:
        reads = read_companies(client, ids)
    failure = reads[ids[1]].sync_flow
    assert isinstance(failure, ReadFailure) and failure.what == "the sync flow configuration"
    assert "500 Internal Server Error" in failure.message and "correlationId: " in failure.message
    assert isinstance(reads[ids[1]].last_sync, LastSync)  # its other read still went through
    assert all(isinstance(reads[i].sync_flow, SyncFlowStatus) for i in (ids[0], ids[2]))


def test_no_companies_no_reads(sandbox_path: Path) -> None:
    with open_sandbox(sandbox_path) as client:
        assert read_companies(client, []) == {}


@pytest.mark.parametrize(
    ("method", "body", "problem"),
    [
        ("sync_configuration", {"configured": "yes", "enable": True}, "`configured` is not true"),
        ("sync_configuration", [], "without a JSON object"),
        ("latest_sync", {"syncStatus": 5, "syncStatusCode": 2000}, "`syncStatus` is not text"),
        ("latest_sync", {"syncStatus": "Complete", "syncStatusCode": "2000"}, "not a number"),
        ("latest_sync", {"dataPushed": True}, "neither `syncStatus` nor a code"),
        ("latest_sync", {"syncStatusCode": 2000, "syncUtc": 3}, "`syncUtc` is not a date"),
    ],
)
def test_answers_of_the_wrong_shape_are_clean_errors(
    method: str, body: object, problem: str
) -> None:
    handler, _ = scripted(httpx.Response(200, json=body, headers={"x-correlation-id": "c-7"}))
    client, _ = make_client(handler)
    with pytest.raises(CodatError, match="correlationId: c-7") as err:
        getattr(client, method)("co-1")
    assert problem in str(err.value)


def test_latest_sync_404_is_none_other_errors_raise() -> None:
    handler, seen = scripted(httpx.Response(404, json=error_json(404, "No sync")))
    client, _ = make_client(handler)
    assert client.latest_sync("co 1") is None
    assert seen[0].url.raw_path == b"/companies/co%201/sync/commerce/syncs/latest/status"
    handler, _ = scripted(httpx.Response(403, json=error_json(403, "Forbidden", "corr-4")))
    client, _ = make_client(handler)
    with pytest.raises(CodatError, match="corr-4"):
        client.latest_sync("co-1")
    with pytest.raises(CodatError, match="403"):
        client.sync_configuration("co-1")
