"""The SQLite file: bulk seeding, two writing processes, and crashes mid-change."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import pytest

from reconciler.sandbox.store import SandboxStore, Tx
from reconciler.sandbox.transport import SandboxTransport
from tests.sandbox.conftest import ClientFactory, app_of, new_company, new_connection
from tests.sandbox.spec import assert_valid


def _integrity(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        result: str = conn.execute("PRAGMA integrity_check").fetchone()[0]
    return result


def test_seed_10000_companies_and_read_them_in_two_pages(sandbox_path: Path) -> None:
    store = SandboxStore(sandbox_path)
    items = (
        {
            "name": f"{i:08d}",
            "tags": {"managed-by": "codat-reconciler"},
            "connections": [{"platformKey": "dfxm"}],
        }
        for i in range(10_000)
    )
    ids = store.seed(items)  # its speed: benchmarks/bench_sandbox_seed.py
    assert len(ids) == len(set(ids)) == 10_000

    with httpx.Client(base_url="https://api.codat.io", transport=SandboxTransport(store)) as api:
        pages = [api.get("/companies", params={"page": n, "pageSize": 5000}) for n in (1, 2)]
    bodies = [page.json() for page in pages]
    assert [c["id"] for body in bodies for c in body["results"]] == ids
    assert all(len(c["dataConnections"]) == 1 for c in bodies[1]["results"])
    assert bodies[1]["results"][-1]["dataConnections"][0]["status"] == "Linked"
    assert_valid({**bodies[0], "results": bodies[0]["results"][:50]}, "Companies")


def test_seed_refuses_an_unknown_platform_key_and_writes_nothing(sandbox_path: Path) -> None:
    store = SandboxStore(sandbox_path)
    with pytest.raises(ValueError, match="zzzz"):
        store.seed([{"name": "A"}, {"name": "B", "connections": [{"platformKey": "zzzz"}]}])
    with store.read() as tx:
        assert tx.conn.execute("SELECT count(*) FROM companies").fetchone()[0] == 0


_WRITER = textwrap.dedent(
    """
    import sys, httpx
    from reconciler.sandbox.transport import SandboxTransport
    client = httpx.Client(base_url="https://api.codat.io", transport=SandboxTransport(sys.argv[1]))
    for i in range(int(sys.argv[3])):
        company = client.post("/companies", json={"name": f"{sys.argv[2]} {i}"})
        assert company.status_code == 200, company.text
        cid = company.json()["id"]
        conn = client.post(f"/companies/{cid}/connections", json={"platformKey": "gbol"})
        assert conn.status_code == 200, conn.text
    """
)


def test_two_processes_writing_one_file_lose_nothing(sandbox_path: Path) -> None:
    SandboxStore(sandbox_path).close()
    writers = [
        subprocess.Popen([sys.executable, "-c", _WRITER, str(sandbox_path), name, "60"])
        for name in ("left", "right")
    ]
    assert [w.wait(60) for w in writers] == [0, 0]
    assert _integrity(sandbox_path) == "ok"
    with sqlite3.connect(sandbox_path) as conn:
        names = {row[0] for row in conn.execute("SELECT name FROM companies")}
        orphans = conn.execute(
            "SELECT count(*) FROM companies WHERE id NOT IN (SELECT company_id FROM connections)"
        ).fetchone()[0]
    assert names == {f"{side} {i}" for side in ("left", "right") for i in range(60)}
    assert orphans == 0


_KILLED_MID_DELETE = textwrap.dedent(
    """
    import os, signal, sys
    from reconciler.sandbox.app import SandboxApp
    from reconciler.sandbox.store import Tx

    def delete_company(self, company_id):
        self.conn.execute("DELETE FROM connections WHERE company_id = ?", (company_id,))
        os.kill(os.getpid(), signal.SIGKILL)  # between the two statements of the change

    Tx.delete_company = delete_company
    SandboxApp(sys.argv[1]).handle("DELETE", "/companies/" + sys.argv[2], "", {}, b"")
    """
)


def test_a_process_killed_mid_change_leaves_no_half_change(make_api: ClientFactory) -> None:
    api = make_api()
    company = new_company(api)
    connection = new_connection(api, company["id"])
    path = app_of(api).store.path
    child = subprocess.run(
        [sys.executable, "-c", _KILLED_MID_DELETE, str(path), company["id"]], timeout=60
    )
    assert child.returncode == -signal.SIGKILL
    assert _integrity(path) == "ok"
    listed = api.get(f"/companies/{company['id']}/connections").json()
    assert [c["id"] for c in listed["results"]] == [connection["id"]]


def test_an_exception_mid_change_rolls_it_back(
    api: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    company = new_company(api)
    connection = new_connection(api, company["id"])

    def explode(self: Tx, connection_id: str) -> None:
        raise RuntimeError("injected between the statements of one change")

    monkeypatch.setattr(Tx, "count_authorization", explode)
    path = f"/companies/{company['id']}/connections/{connection['id']}"
    response = api.put(path + "/authorization", json={"token": "t"})
    assert response.status_code == 500
    assert_valid(response.json(), "ErrorMessage")
    assert "Traceback" not in response.text and "injected" not in response.text
    assert api.get(path).json()["status"] == "PendingAuth"  # the status change rolled back


def test_stored_bodies_are_compact_json(api: httpx.Client) -> None:
    company = new_company(api, tags={"a": "b"})
    with app_of(api).store.read() as tx:
        body = tx.conn.execute("SELECT body FROM companies").fetchone()[0]
    assert json.loads(body)["id"] == company["id"] and ", " not in body
