"""The real `codat-reconciler watch` process: the loop closed through the sandbox's webhooks,
SIGTERM, JSON logs, and the errors it gives before it serves."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from reconciler.codat.client import CodatClient
from reconciler.sandbox.messages import ApiError
from tests.fixtures.cli import CliFn
from tests.fixtures.lines import Lines, kill_if_running, rest_of
from tests.fixtures.sandbox import SandboxHandle
from tests.watch.conftest import FINGERPRINT_KEY, HANG_GUARD, MERCHANTS, TOKENS, manifest
from tests.watch.test_endpoint import SECRET


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def until(check: Callable[[], bool], what: str) -> None:
    """Poll `check`; the deadline only guards against a hang."""
    deadline = time.monotonic() + HANG_GUARD
    while not check():
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.05)


def ready(url: str) -> bool:
    try:
        return httpx.get(url + "/readyz").status_code == 200
    except httpx.TransportError:
        return False


def start_watch(
    sandbox: SandboxHandle, manifests: Path, port: int, *options: str
) -> subprocess.Popen[str]:
    if not manifests.exists():
        manifests.mkdir()
        (manifests / "merchants.yaml").write_text(manifest(), encoding="utf-8")
    env = {
        **os.environ,
        **TOKENS,
        "CODAT_API_KEY": sandbox.api_key,
        "CODAT_WEBHOOK_SECRET": SECRET,
        "CODAT_RECONCILER_KEY": FINGERPRINT_KEY,
    }
    for name in ("CODAT_SANDBOX", "CODAT_BASE_URL"):
        env.pop(name, None)
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "reconciler",
            "watch",
            str(manifests),
            "--listen",
            f"127.0.0.1:{port}",
            "--base-url",
            sandbox.base_url,
            "--max-rate",
            "0",
            "--log-format",
            "json",
            *options,
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_watch_brings_a_deauthorized_connection_back_and_stops_on_sigterm(
    sandbox_server: Callable[..., SandboxHandle], tmp_path: Path
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    sandbox = sandbox_server(webhook_url=url + "/webhooks/codat", webhook_secret=SECRET)
    process = start_watch(sandbox, tmp_path / "m", port)
    try:
        until(lambda: ready(url), "ready")
        with CodatClient(sandbox.base_url, api_key=sandbox.api_key, max_rate=0) as codat:
            (company,) = [c for c in codat.list_companies(1).results if c["name"] == "20000003"]
            (connection,) = company["dataConnections"]
            codat.update_connection(company["id"], connection["id"], {"status": "Deauthorized"})

            def linked() -> bool:
                body = codat.get_company(company["id"])
                return [c["status"] for c in body["dataConnections"]] == ["Linked"]

            until(linked, "Linked again")
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=HANG_GUARD)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    records: list[dict[str, Any]] = [json.loads(line) for line in err.splitlines()]
    assert records[0]["event"] == "target" and records[0]["codat"] == sandbox.base_url
    kinds = {r["event"] for r in records}
    assert {"listening", "reconcile", "delivery", "api_call", "stopping"} <= kinds
    deliveries = [r for r in records if r["event"] == "delivery"]
    assert any(
        r.get("event_type") == "connection.disconnected" and r["outcome"] == "queued"
        for r in deliveries
    )
    assert all(r["svix_id"].startswith("msg_") for r in deliveries)
    relinked = [
        r for r in records if r["event"] == "reconcile" and "20000003" in r.get("merchants", [])
    ]
    assert any(r["done"] >= 1 and r["ok"] for r in relinked)
    for secret in (SECRET, sandbox.api_key, *TOKENS.values(), FINGERPRINT_KEY):
        assert secret not in err + out


def test_a_watch_killed_mid_reconcile_loses_nothing(
    sandbox_server: Callable[..., SandboxHandle], tmp_path: Path
) -> None:
    """SIGKILL (an OOM kill, a node lost) between a company's creation and its
    connection's: the next watch converges, no merchant made twice."""
    sandbox = sandbox_server(latency_ms=100)
    first = start_watch(sandbox, tmp_path / "m", free_port(), "--parallelism", "1")
    try:
        until(lambda: ("POST", "/companies", 200) in list(sandbox.app.calls), "a company made")
        first.kill()
        first.communicate(timeout=HANG_GUARD)
    finally:
        if first.poll() is None:
            first.kill()
            first.communicate()
    with CodatClient(sandbox.base_url, api_key=sandbox.api_key, max_rate=0) as codat:
        made = codat.list_companies(1).results
        assert 1 <= len(made) < 3  # killed half-way

        port = free_port()
        second = start_watch(sandbox, tmp_path / "m", port)
        try:
            until(lambda: ready(f"http://127.0.0.1:{port}"), "ready")
            second.send_signal(signal.SIGTERM)
            second.communicate(timeout=HANG_GUARD)
        finally:
            if second.poll() is None:
                second.kill()
                second.communicate()
        assert second.returncode == 0
        companies = codat.list_companies(1).results
    assert sorted(c["name"] for c in companies) == sorted(MERCHANTS)
    assert all([x["status"] for x in c["dataConnections"]] == ["Linked"] for c in companies)


LONG_RETRY_AFTER = 55


def test_sigterm_during_a_long_retry_after_exits_at_once(
    sandbox_server: Callable[..., SandboxHandle], tmp_path: Path
) -> None:
    """Kubernetes sends SIGKILL 30 s after SIGTERM: a 55 s Retry-After must not be
    waited out. The reconcile waiting stops; watch exits 0 as on any SIGTERM."""
    sandbox = sandbox_server()
    serve = sandbox.app.handle

    def limited(method: str, path: str, query: str, headers: Any, body: bytes) -> Any:
        if method == "POST" and path == "/companies":
            return ApiError(429, retry_after=LONG_RETRY_AFTER).response()
        return serve(method, path, query, headers, body)

    sandbox.app.handle = limited  # type: ignore[method-assign]
    process = start_watch(sandbox, tmp_path / "m", free_port())
    try:
        stderr = Lines(process.stderr)  # type: ignore[arg-type]
        stderr.wait_for(lambda line: json.loads(line)["event"] == "retry", HANG_GUARD)
        process.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        rest_of(process, timeout=LONG_RETRY_AFTER)
        took = time.monotonic() - signalled
    finally:
        kill_if_running(process)
    log = stderr.text()
    assert process.returncode == 0, log
    assert took < 5.0, f"exit {took:.1f} s after SIGTERM\n{log}"
    records = [json.loads(line) for line in log.splitlines()]
    (retry, *_) = [r for r in records if r["event"] == "retry"]
    assert retry["method"] == "POST" and retry["url"] == sandbox.base_url + "/companies"
    assert retry["wait_s"] >= LONG_RETRY_AFTER - 1 and retry["attempt"] == 2
    assert "stopping" in {r["event"] for r in records} and "Traceback" not in log


def test_watch_refuses_to_start_without_what_it_needs(
    cli: CliFn, tmp_path: Path, sandbox_path: Path
) -> None:
    root = tmp_path / "m"
    root.mkdir()
    (root / "merchants.yaml").write_text(manifest(), encoding="utf-8")
    base = ("watch", str(root), "--sandbox", str(sandbox_path))

    no_secret = cli(*base, "--listen", "127.0.0.1:0", env={"CODAT_WEBHOOK_SECRET": None})
    assert no_secret.code == 1 and "set CODAT_WEBHOOK_SECRET" in no_secret.stderr

    bad = cli(*base, "--listen", "127.0.0.1:0", env={"CODAT_WEBHOOK_SECRET": "whsec_%%%"})
    assert bad.code == 1 and "not a webhook signing secret" in bad.stderr
    assert "%%%" not in bad.output

    listen = cli(*base, "--listen", "nowhere", env={"CODAT_WEBHOOK_SECRET": SECRET})
    assert listen.code == 1 and "HOST:PORT" in listen.output

    (root / "merchants.yaml").write_text("version: 1\nmerchants: [{}]\n", encoding="utf-8")
    broken = cli(*base, "--listen", "127.0.0.1:0", env={"CODAT_WEBHOOK_SECRET": SECRET})
    assert broken.code == 1 and "merchants.yaml" in broken.stderr
    assert "Traceback" not in broken.output
