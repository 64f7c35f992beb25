"""`codat-reconciler sandbox serve` as users run it: a process, two lines, a signal."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.sandbox.receiver import WebhookReceiver

SERVE = [sys.executable, "-m", "reconciler", "sandbox", "serve"]
KEY = hashlib.sha256(b"sandbox serve webhook tests").digest()
SECRET = "whsec_" + base64.b64encode(KEY).decode()
BAD = "whsec_c2VjcmV0LXRvby1zaG9ydA"  # not padded base64, and too short


def _start(*args: str) -> tuple[subprocess.Popen[str], str, str]:
    process = subprocess.Popen(
        [*SERVE, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    first, second = process.stdout.readline(), process.stdout.readline()
    listening = re.fullmatch(r"Sandbox listening on (http://127\.0\.0\.1:\d+)\n", first)
    key = re.fullmatch(r"API key: (\S+)\n", second)
    assert listening and key, (first, second)
    return process, listening.group(1), key.group(1)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_serve_prints_two_lines_serves_and_stops_on_signal(
    tmp_path: Path, signum: signal.Signals
) -> None:
    state = tmp_path / "world.sqlite"
    process, base_url, key = _start("--state", str(state), "--api-key", "k-123")
    try:
        assert key == "k-123"
        auth = {"Authorization": "Basic " + base64.b64encode(key.encode()).decode()}
        created = httpx.post(base_url + "/companies", json={"name": "Acme"}, headers=auth)
        assert created.status_code == 200
        # An idle keep-alive connection must not keep the server from stopping.
        idle = httpx.Client(base_url=base_url, headers=auth)
        assert idle.get("/companies").json()["totalResults"] == 1
        process.send_signal(signum)
        # A hang guard only: the idle connection must not hold the server (idle
        # keep-alive connections time out after 300 s).
        assert process.wait(60) == 0
        idle.close()
    finally:
        process.kill()
        process.wait()
    assert state.exists()


def test_default_key_is_random_and_required(tmp_path: Path) -> None:
    process, base_url, key = _start()
    try:
        assert len(key) >= 16
        assert httpx.get(base_url + "/companies").status_code == 401
    finally:
        process.terminate()
        assert process.wait(10) == 0


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["--fault", "explode:GET:/x:1"], "--fault"),
        (["--port", "70000"], "--port"),
        (["--rate-limit", "0"], "--rate-limit"),
        (["--integration", "TOOLONG"], "--integration"),
        (["--disabled-integration", "TOOLONG"], "--disabled-integration"),
        (["--disabled-integration", "abcd"], "--disabled-integration"),
        (["--webhook-url", "http://example.com/x", "--webhook-secret", SECRET], "--webhook-url"),
        (["--webhook-url", "http://127.0.0.1:1/x", "--webhook-secret", BAD], "--webhook-secret"),
        (["--webhook-url", "http://127.0.0.1:1/x"], "--webhook-secret"),
    ],
)
def test_bad_flags_exit_1_naming_the_flag(args: list[str], flag: str) -> None:
    result = subprocess.run([*SERVE, *args], capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert flag in result.stderr and "Traceback" not in result.stderr
    assert BAD not in result.stderr  # a secret is never repeated


def test_serve_with_webhooks_and_a_disabled_integration(tmp_path: Path) -> None:
    with WebhookReceiver() as receiver:
        process, base_url, key = _start(
            "--disabled-integration", "fztf", "--integration", "abcd",
            "--disabled-integration", "abcd", "--webhook-url", receiver.url,
            "--webhook-secret", SECRET,
        )  # fmt: skip
        try:
            auth = {"Authorization": "Basic " + base64.b64encode(key.encode()).decode()}
            with httpx.Client(base_url=base_url, headers=auth, timeout=10) as http:
                listed = http.get("/integrations", params={"query": "enabled=false"}).json()
                assert sorted(i["key"] for i in listed["results"]) == ["abcd", "fztf"]
                company = http.post("/companies", json={"name": "Acme"}).json()
                path = f"/companies/{company['id']}/connections"
                assert http.post(path, json={"platformKey": "fztf"}).status_code == 403
                assert http.delete(f"/companies/{company['id']}").status_code == 204
            [delivery] = receiver.wait_for(1)
            signed = f"{delivery.headers['svix-id']}.{delivery.headers['svix-timestamp']}."
            digest = hmac.new(KEY, signed.encode() + delivery.body, hashlib.sha256).digest()
            assert delivery.headers["svix-signature"] == "v1," + base64.b64encode(digest).decode()
            assert json.loads(delivery.body)["eventType"] == "company.deleted"
            process.send_signal(signal.SIGTERM)
            assert process.wait(10) == 0
        finally:
            process.kill()
            process.wait()
        assert process.stderr is not None
        assert SECRET not in process.stderr.read()
