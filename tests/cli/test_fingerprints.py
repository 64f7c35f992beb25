"""Fingerprints are never skipped in silence: apply and watch refuse to authorize without
CODAT_RECONCILER_KEY unless told --no-fingerprints, and a later re-authorization says that
the fingerprint was missing, not that the tool never authorized the connection."""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from reconciler.live.model import AUTH_TAG
from reconciler.plan.authorization import NEVER_AUTHORIZED, NO_FINGERPRINT
from tests.cli.conftest import BASIC, TOKENS, assert_no_secret
from tests.fixtures.cli import CliFn
from tests.fixtures.sandbox import SandboxHandle

KEY = "fingerprint-test-key-0123456789"
WEBHOOK_SECRET = "whsec_" + "c2VjcmV0LXNpZ25pbmcta2V5LWZvci10ZXN0cw=="
UNAUTHORIZED = """\
version: 1
merchants:
  - name: "10000003"
    connections:
      - platformKey: dfxm
"""


def server_env(server: SandboxHandle, key: str | None = None) -> dict[str, str | None]:
    return {
        "CODAT_BASE_URL": server.base_url,
        "CODAT_API_KEY": server.api_key,
        "CODAT_RECONCILER_KEY": key,
        **TOKENS,
    }


def mutating_calls(server: SandboxHandle) -> list[tuple[str, str, int]]:
    return [c for c in server.app.calls if c[0] != "GET"]


def auth_tags(server: SandboxHandle) -> dict[str, str]:
    with httpx.Client(base_url=server.base_url, headers=server.auth_headers) as http:
        found = http.get("/companies", params={"pageSize": 100}).json()["results"]
    return {c["name"]: c["tags"].get(AUTH_TAG, "") for c in found}


def test_apply_without_the_key_refuses_then_no_fingerprints_warns_and_the_reason_is_true(
    cli: CliFn, write_manifest: Callable[..., Path], sandbox_server: Callable[..., SandboxHandle]
) -> None:
    server = sandbox_server()
    root = str(write_manifest(BASIC))

    refused = cli("apply", root, "--auto-approve", env=server_env(server))
    assert refused.code == 1, refused
    error = refused.stderr.splitlines()[-1]
    assert error.startswith(
        "Error: refusing to apply: 2 authorizations would be sent without "
        "CODAT_RECONCILER_KEY, the key that fingerprints the credentials"
    )
    assert "--no-fingerprints" in error and "Nothing was changed." in error
    assert mutating_calls(server) == []

    keyless = cli("apply", root, "--auto-approve", "--no-fingerprints", env=server_env(server))
    assert keyless.code == 0, keyless
    warnings = [line for line in keyless.stderr.splitlines() if line.startswith("Warning:")]
    assert warnings == [
        "Warning: --no-fingerprints: 2 authorizations sent without "
        "CODAT_RECONCILER_KEY, so no fingerprint is recorded; the first apply "
        "with the key set sends them again to record one."
    ]
    # The record says the tool authorized them, without a fingerprint.
    assert auth_tags(server) == {"10000001": "dfxm:-", "10000002": "dfxm:-", "10000003": "dfxm"}

    with_key = cli("plan", root, "--detailed-exitcode", env=server_env(server, KEY))
    assert with_key.code == 2, with_key
    assert with_key.stdout.count(NO_FINGERPRINT) == 2
    assert NEVER_AUTHORIZED not in with_key.stdout
    assert "(sensitive: last applied)" in with_key.stdout

    applied = cli("apply", root, "--auto-approve", env=server_env(server, KEY))
    assert applied.code == 0, applied
    assert all(
        re.fullmatch(r"@[\w-]{4},dfxm:[\w-]{12}", auth_tags(server)[n])
        for n in ("10000001", "10000002")
    )
    converged = cli("plan", root, "--detailed-exitcode", env=server_env(server, KEY))
    assert converged.code == 0 and "No changes." in converged.stdout, converged
    for run in (refused, keyless, with_key, applied, converged):
        assert_no_secret(run, KEY, server.api_key)


def test_a_saved_plan_is_refused_before_any_call_and_no_authorization_needs_no_key(
    cli: CliFn,
    write_manifest: Callable[..., Path],
    sandbox_server: Callable[..., SandboxHandle],
    tmp_path: Path,
) -> None:
    server = sandbox_server()
    plan_file = str(tmp_path / "plan.json")
    root = str(write_manifest(BASIC))
    assert cli("plan", root, "--out", plan_file, env=server_env(server)).code == 0
    calls = len(server.app.calls)
    refused = cli("apply", "--plan", plan_file, env=server_env(server))
    assert refused.code == 1 and "refusing the whole plan; nothing was" in refused.stderr
    assert "CODAT_RECONCILER_KEY is not set" in refused.stderr
    assert len(server.app.calls) == calls  # refused before reading Codat
    forced = cli("apply", "--plan", plan_file, "--no-fingerprints", env=server_env(server))
    assert forced.code == 1 and "--plan takes no --no-fingerprints" in forced.stderr
    assert len(server.app.calls) == calls

    # Nothing to authorize: nothing a fingerprint would record, nothing refused or warned.
    quiet = cli(
        "apply",
        str(write_manifest(UNAUTHORIZED, "other.yaml") / "other.yaml"),
        "--auto-approve",
        env=server_env(server),
    )
    assert quiet.code == 0, quiet
    assert "Warning" not in quiet.stderr and "CODAT_RECONCILER_KEY" not in quiet.output


def _stderr_until(proc: subprocess.Popen[str], marker: str) -> str:
    """The child's stderr up to `marker` at least (read from the pipe itself, so nothing
    waits in a reader's buffer)."""
    assert proc.stderr is not None
    seen = b""
    deadline = time.monotonic() + 60  # a hang guard, not a timing assertion
    while marker.encode() not in seen:
        assert time.monotonic() < deadline and proc.poll() is None, seen
        if select.select([proc.stderr], [], [], 1)[0]:
            seen += os.read(proc.stderr.fileno(), 65536)
    return seen.decode()


def test_watch_refuses_without_the_key_or_warns_once_and_stamps_its_text_log(
    cli: CliFn, write_manifest: Callable[..., Path], sandbox_server: Callable[..., SandboxHandle]
) -> None:
    server = sandbox_server()
    root = str(write_manifest(BASIC))
    env = {**server_env(server), "CODAT_WEBHOOK_SECRET": WEBHOOK_SECRET}
    refused = cli("watch", root, "--listen", "127.0.0.1:0", env=env)
    assert refused.code == 1, refused
    assert "set CODAT_RECONCILER_KEY: watch authorizes connections" in refused.stderr
    assert "--no-fingerprints" in refused.stderr and list(server.app.calls) == []

    child_env = {**os.environ, **{k: v for k, v in env.items() if v is not None}}
    child_env.pop("CODAT_RECONCILER_KEY", None)
    child_env.pop("CODAT_SANDBOX", None)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "reconciler",
            "watch",
            root,
            "--listen",
            "127.0.0.1:0",
            "--no-fingerprints",
            "--max-rate",
            "0",
        ],
        env=child_env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        seen = _stderr_until(proc, "Reconciled all merchants")
    finally:
        proc.send_signal(signal.SIGTERM)
        _, rest = proc.communicate(timeout=60)
    assert proc.returncode == 0
    lines = (seen + rest).splitlines()
    assert any("SIGTERM received" in line for line in lines), lines
    stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ "
    assert all(re.match(stamp, line) for line in lines if line.strip()), lines
    warnings = [line for line in lines if "Warning: --no-fingerprints" in line]
    assert len(warnings) == 1
    # The changes it made, one line each as they completed, and the record it left.
    assert any(
        re.match(stamp + r'merchant\["10000001"\]: company created \[id=', line) for line in lines
    ), lines
    assert auth_tags(server)["10000001"] == "dfxm:-"
