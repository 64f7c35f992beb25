"""`status` end to end: the real CLI against a sandbox server, merchants moved by its hooks."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.cli.conftest import TOKENS, assert_no_secret
from tests.fixtures.cli import CliFn, Run
from tests.fixtures.sandbox import SandboxHandle

APPLIED = """\
version: 1
defaults:
  syncFlow: {commerceKey: lqai, accountingKey: gbol}
merchants:
  - name: "10000001"
    connections:
      - platformKey: dfxm
        authorization: {apiToken: {env: ACME_TOKEN}}
  - name: "10000002"
    connections:
      - platformKey: dfxm
        authorization: {apiToken: {env: BOLT_TOKEN}}
  - name: "10000003"
    connections:
      - platformKey: dfxm
  - name: "10000004"
  - name: "10000005"
"""
# Declared after the apply: a merchant Codat has not heard of, and a new connection.
LATER = (
    APPLIED.replace(
        '  - name: "10000004"\n',
        '  - name: "10000004"\n    connections:\n      - platformKey: lqai\n',
    )
    + '  - name: "10000006"\n'
)
KEYS = ["name", "companyId", "state", "waitingFor", "connections", "syncFlow", "lastSync"]
STATES = ["ready", "waiting", "missing", "conflict", "error"]


@dataclass
class World:
    """Five applied merchants, each brought to a different state through the sandbox's hooks."""

    server: SandboxHandle
    manifests: Path
    http: httpx.Client
    ids: dict[str, str]
    failed_at: str  # syncUtc of 10000004's failed sync

    @property
    def env(self) -> dict[str, str | None]:
        return {
            "CODAT_BASE_URL": self.server.base_url,
            "CODAT_API_KEY": self.server.api_key,
            "CODAT_SANDBOX": None,
            **TOKENS,
        }

    def post(self, path: str, **body: Any) -> dict[str, Any]:
        answer = self.http.post(path, json=body)
        assert answer.status_code in (200, 201), answer.text
        result: dict[str, Any] = answer.json()
        return result


def company_ids(http: httpx.Client) -> dict[str, str]:
    return {c["name"]: c["id"] for c in http.get("/companies").json()["results"]}


@pytest.fixture
def world(
    cli: CliFn, write_manifest: Callable[..., Path], sandbox_server: Callable[..., SandboxHandle]
) -> Iterator[World]:
    server = sandbox_server()
    manifests = write_manifest(APPLIED)
    env = {
        "CODAT_BASE_URL": server.base_url,
        "CODAT_API_KEY": server.api_key,
        "CODAT_SANDBOX": None,
        "CODAT_RECONCILER_KEY": "status-test-key",
        **TOKENS,
    }
    assert cli("apply", str(manifests), "--auto-approve", env=env).code == 0
    with httpx.Client(base_url=server.base_url, headers=server.auth_headers) as http:
        ids = company_ids(http)
        w = World(server, manifests, http, ids, "")
        for name in ("10000001", "10000004"):
            w.post(f"/_sandbox/companies/{ids[name]}/sync-flow/complete", accountingKey="gbol")
        w.post(f"/_sandbox/companies/{ids['10000001']}/syncs", status="Completed")
        w.failed_at = w.post(f"/_sandbox/companies/{ids['10000004']}/syncs", status="PushError")[
            "syncUtc"
        ]
        dfxm = http.get(f"/companies/{ids['10000002']}/connections").json()["results"][0]
        revoked = http.patch(
            f"/companies/{ids['10000002']}/connections/{dfxm['id']}",
            json={"status": "Deauthorized"},
        )
        assert revoked.status_code == 200, revoked.text
        w.post("/companies", name="10000005")  # a twin: two companies, one name
        write_manifest(LATER)
        yield w


def status(cli: CliFn, world: World, *args: str) -> Run:
    return cli("status", str(world.manifests), *args, env=world.env)


def by_name(run: Run) -> dict[str, dict[str, Any]]:
    doc = json.loads(run.stdout)
    assert list(doc) == ["format_version", "merchants", "summary"] and doc["format_version"] == 1
    assert all(list(m) == KEYS for m in doc["merchants"])
    states = [m["state"] for m in doc["merchants"]]
    assert doc["summary"] == {"total": len(states), **{s: states.count(s) for s in STATES}}
    return {m["name"]: m for m in doc["merchants"]}


def test_every_state_and_reason_from_one_listing_and_two_reads_per_company(
    cli: CliFn, world: World
) -> None:
    before = len(world.server.app.calls)
    run = status(cli, world, "--format", "json")
    assert run.code == 0, run
    calls = list(world.server.app.calls)[before:]
    # One listing, then configuration and latest sync for each of the 4 merchants
    # with one company; nothing for the missing one nor the twins.
    assert sum(1 for _, path, _ in calls if path == "/companies") == 1
    read = sorted(path for _, path, _ in calls if path != "/companies")
    ids = world.ids
    assert read == sorted(
        p
        for n in ("10000001", "10000002", "10000003", "10000004")
        for p in (
            f"/companies/{ids[n]}/sync/commerce/syncs/latest/status",
            f"/config/companies/{ids[n]}/sync/commerce",
        )
    )
    assert all(method == "GET" for method, _, _ in calls)

    merchants = by_name(run)
    states = {name: m["state"] for name, m in merchants.items()}
    assert states == {
        "10000001": "ready",
        "10000002": "waiting",
        "10000003": "waiting",
        "10000004": "waiting",
        "10000005": "conflict",
        "10000006": "missing",
    }
    ready = merchants["10000001"]
    assert ready["companyId"] == ids["10000001"] and ready["waitingFor"] == []
    assert [(c["platformKey"], c["status"], c["managed"]) for c in ready["connections"]] == [
        ("dfxm", "Linked", True),
        ("gbol", "Linked", False),
    ]
    assert ready["syncFlow"] == {"configured": True, "enabled": True}
    assert ready["lastSync"]["status"] == "Complete" and ready["lastSync"]["failed"] is False

    flow = (
        f"the merchant has not completed the sync flow: send them `codat-reconciler "
        f"sync-url {world.manifests} --merchant {{}}`"
    )
    assert merchants["10000002"]["waitingFor"] == [
        "connection dfxm is Deauthorized: run apply, or check the token",
        flow.format("10000002"),
    ]
    assert merchants["10000003"]["waitingFor"] == [
        "connection dfxm is PendingAuth: the merchant must authorize it (or declare its "
        "authorization and run apply)",
        flow.format("10000003"),
    ]
    minute = world.failed_at[:16].replace("T", " ")
    assert merchants["10000004"]["waitingFor"] == [
        "connection lqai does not exist in Codat yet: run apply to create it",
        f"the latest sync failed (PushError) on {minute} UTC",
    ]
    assert merchants["10000004"]["lastSync"]["statusCode"] == 5130
    assert merchants["10000003"]["lastSync"] is None
    assert merchants["10000005"]["companyId"] is None
    assert '2 companies are named "10000005"' in merchants["10000005"]["waitingFor"][0]
    assert merchants["10000006"] == {
        "name": "10000006",
        "companyId": None,
        "state": "missing",
        "waitingFor": ['no company named "10000006" in Codat yet: run apply to create it'],
        "connections": [],
        "syncFlow": None,
        "lastSync": None,
    }


def test_exit_codes_and_merchant_filter(cli: CliFn, world: World) -> None:
    assert status(cli, world, "--detailed-exitcode").code == 2
    ready = status(cli, world, "--merchant", "10000001", "--detailed-exitcode")
    assert ready.code == 0, ready
    assert list(by_name(status(cli, world, "--merchant", "10000001", "--format", "json"))) == [
        "10000001"
    ]
    missing = status(
        cli, world, "--merchant", "10000006", "--detailed-exitcode", "--log-format", "json"
    )
    assert missing.code == 2
    records = [json.loads(x) for x in missing.stderr.splitlines() if x.startswith("{")]
    api = [r for r in records if r["event"] == "api_call"]
    assert [(c["method"], c["path"]) for c in api] == [("GET", "/companies")]
    unknown = status(cli, world, "--merchant", "nobody")
    assert unknown.code == 1 and '--merchant "nobody": not declared' in unknown.stderr
    assert "Traceback" not in unknown.output


def test_the_table_reads_in_100_columns(cli: CliFn, world: World) -> None:
    run = status(cli, world)
    assert run.code == 0, run
    lines = run.stdout.splitlines()
    assert max(map(len, lines)) <= 100
    assert lines[0].split()[:2] == ["MERCHANT", "STATE"]
    row = next(line for line in lines if line.startswith("10000001"))
    assert row.split()[:4] == ["10000001", "ready", world.ids["10000001"], "done"]
    # What they wait for, by kind: each kind here is one merchant's, shown in full.
    assert "  - 10000004: the latest sync failed (PushError)" in run.stdout
    assert "connections:" not in run.stdout
    assert lines[-1] == "6 merchants: 1 ready, 3 waiting, 1 missing, 1 conflict."
    verbose = status(cli, world, "--verbose")
    assert "  connections: dfxm Deauthorized" in verbose.stdout
    assert "  - the latest sync failed (PushError)" in verbose.stdout
    assert max(map(len, verbose.stdout.splitlines())) <= 100
    quiet = status(cli, world, "--quiet")
    assert quiet.stdout == lines[-1] + "\n" and quiet.stderr == ""


def test_a_failed_read_is_that_merchants_error_and_exit_1(
    cli: CliFn, world: World, sandbox_server: Callable[..., SandboxHandle]
) -> None:
    broken = world.ids["10000003"]
    faulty = sandbox_server(
        state_path=world.server.state_path,
        api_key=world.server.api_key,
        faults=[f"500:GET:/config/companies/{broken}/sync/commerce:1"],
    )
    env = {**world.env, "CODAT_BASE_URL": faulty.base_url}
    run = cli("status", str(world.manifests), "--format", "json", "--detailed-exitcode", env=env)
    assert run.code == 1, run
    merchants = by_name(run)
    error = merchants["10000003"]
    assert error["state"] == "error" and error["syncFlow"] is None
    reason = error["waitingFor"][0]
    # Given up after retrying: the whole URL, as the retry lines named it.
    assert reason.startswith(
        f"could not read the sync flow configuration: GET {faulty.base_url}/config/companies/"
        f"{broken}/sync/commerce failed after 6 attempts"
    )
    assert "500 Internal Server Error" in reason and "(correlationId: " in reason
    assert merchants["10000001"]["state"] == "ready"  # the others are still reported
    assert 'could not read the status of 1 merchant ("10000003")' in run.stderr


def test_a_listing_that_fails_is_an_error_without_a_table(
    cli: CliFn, world: World, sandbox_server: Callable[..., SandboxHandle]
) -> None:
    faulty = sandbox_server(
        state_path=world.server.state_path,
        api_key=world.server.api_key,
        faults=["503:GET:/companies:1"],
    )
    run = cli("status", str(world.manifests), env={**world.env, "CODAT_BASE_URL": faulty.base_url})
    assert run.code == 1 and run.stdout == ""
    gave_up = f"Error: GET {faulty.base_url}/companies?page=1&pageSize=5000 failed after 6 attempts"
    assert run.stderr.splitlines()[-1].startswith(gave_up), run
    assert "Traceback" not in run.stderr


def test_no_secret_in_any_output(cli: CliFn, world: World) -> None:
    key = world.server.api_key
    for fmt in ("text", "json"):
        run = status(cli, world, "--format", fmt, "--log-format", "json")
        assert run.code == 0, run
        assert_no_secret(run, key, base64.b64encode(key.encode()).decode())


def test_slow_reads_show_progress(
    cli: CliFn, world: World, sandbox_server: Callable[..., SandboxHandle]
) -> None:
    # 700 ms a call: the per-merchant reads run past the second before progress shows.
    slow = sandbox_server(
        state_path=world.server.state_path, api_key=world.server.api_key, latency_ms=700
    )
    run = cli(
        "status",
        str(world.manifests),
        "--merchant",
        "10000001",
        "--log-format",
        "json",
        env={**world.env, "CODAT_BASE_URL": slow.base_url},
    )
    assert run.code == 0, run
    progress = [json.loads(x) for x in run.stderr.splitlines() if '"progress"' in x]
    assert progress[-1]["task"] == "Reading the merchants' sync status"
    assert (progress[-1]["done"], progress[-1]["total"]) == (1, 1)


def test_the_demo_merchant_becomes_ready(cli: CliFn, sandbox_path: Path) -> None:
    # What `python3 dev.py demo` shows: apply, one merchant plays the sync flow, status.
    root = Path(__file__).resolve().parents[2]
    env = {
        "CODAT_SANDBOX": str(sandbox_path),
        "CODAT_BASE_URL": None,
        "ACME_DFXM_TOKEN": "demo-token-acme",
        "BOLT_DFXM_TOKEN": "demo-token-bolt",
    }
    manifests = str(root / "manifests")
    assert cli("apply", manifests, "--auto-approve", env=env).code == 0
    played = subprocess.run(
        [sys.executable, str(root / "scripts" / "demo_merchant.py"), str(sandbox_path), "10000001"],
        capture_output=True,
        text=True,
    )
    assert played.returncode == 0, played.stderr
    run = cli("status", manifests, "--format", "json", env=env)
    assert run.code == 0, run
    states = {name: m["state"] for name, m in by_name(run).items()}
    assert states == {
        "10000001": "ready",
        "10000002": "waiting",
        "10000003": "waiting",
        "20000001": "waiting",
        "20000002": "waiting",
    }
    assert cli("plan", manifests, "--detailed-exitcode", env=env).code == 0
