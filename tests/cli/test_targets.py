"""Which Codat a command talks to: flags beat the environment, and the command says which."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from reconciler.credentials import SANDBOX_KEY, fingerprint, key_id
from reconciler.live.model import AUTH_TAG
from tests.cli.conftest import BASIC, TOKENS
from tests.fixtures.cli import CliFn
from tests.fixtures.sandbox import SandboxHandle

ServerFactory = Callable[..., SandboxHandle]


def server_env(server: SandboxHandle) -> dict[str, str]:
    return {"CODAT_BASE_URL": server.base_url, "CODAT_API_KEY": server.api_key, **TOKENS}


def test_base_url_flag_beats_codat_sandbox_in_the_environment(
    cli: CliFn,
    write_manifest: Callable[..., Path],
    sandbox_server: ServerFactory,
    sandbox_path: Path,
) -> None:
    server = sandbox_server()
    run = cli(
        "plan",
        str(write_manifest(BASIC)),
        "--base-url",
        server.base_url,
        env={"CODAT_SANDBOX": str(sandbox_path), "CODAT_API_KEY": server.api_key},
    )
    assert run.code == 0, run
    assert ("GET", "/companies", 200) in server.app.calls
    assert not sandbox_path.exists()  # the embedded sandbox was never opened
    assert f"Codat: {server.base_url} (from --base-url)" in run.stderr.splitlines()


def test_sandbox_flag_beats_codat_base_url_in_the_environment(
    cli: CliFn,
    write_manifest: Callable[..., Path],
    sandbox_server: ServerFactory,
    sandbox_path: Path,
) -> None:
    server = sandbox_server()
    run = cli(
        "plan", str(write_manifest(BASIC)), "--sandbox", str(sandbox_path), env=server_env(server)
    )
    assert run.code == 0, run
    assert list(server.app.calls) == []
    assert sandbox_path.exists()
    assert f"Codat: embedded sandbox {sandbox_path} (from --sandbox)" in run.stderr.splitlines()


def test_two_targets_given_the_same_way_are_an_error_naming_both(
    cli: CliFn,
    write_manifest: Callable[..., Path],
    sandbox_server: ServerFactory,
    sandbox_path: Path,
) -> None:
    server = sandbox_server()
    root = str(write_manifest(BASIC))
    flags = cli(
        "plan",
        root,
        "--sandbox",
        str(sandbox_path),
        "--base-url",
        server.base_url,
        env={"CODAT_API_KEY": server.api_key},
    )
    assert flags.code == 1, flags
    assert "--sandbox and --base-url" in flags.stderr
    both_env = cli(
        "apply",
        root,
        "--auto-approve",
        env={**server_env(server), "CODAT_SANDBOX": str(sandbox_path)},
    )
    assert both_env.code == 1, both_env
    assert "CODAT_SANDBOX and CODAT_BASE_URL are both set" in both_env.stderr
    assert list(server.app.calls) == [] and not sandbox_path.exists()
    for run in (flags, both_env):
        assert "Traceback" not in run.output and server.api_key not in run.output


@pytest.mark.parametrize("command", ["plan", "apply", "export", "sync-url"])
def test_every_command_talking_to_codat_says_which_unless_quiet(
    cli: CliFn,
    write_manifest: Callable[..., Path],
    sandbox_server: ServerFactory,
    tmp_path: Path,
    command: str,
) -> None:
    server = sandbox_server()
    root = str(write_manifest(BASIC))
    args = {
        "plan": ["plan", root],
        "apply": ["apply", root, "--auto-approve"],
        "export": ["export", "--out", str(tmp_path / "exported")],
        # Fails (the merchant is not in Codat yet) after saying where it looked.
        "sync-url": ["sync-url", root, "--merchant", "10000001"],
    }[command]
    run = cli(*args, env=server_env(server))
    assert run.stderr.splitlines()[0] == f"Codat: {server.base_url} (from CODAT_BASE_URL)", run
    assert server.api_key not in run.output
    again = ["--force"] if command == "export" else []  # the first run wrote the files
    quiet = cli(*args, *again, "--quiet", env=server_env(server))
    assert quiet.code == run.code and "Codat:" not in quiet.stderr, quiet
    logged = cli(*args, *again, "--log-format", "json", env=server_env(server))
    first = json.loads(logged.stderr.splitlines()[0])
    assert first.pop("time").endswith("Z") and first.pop("level") == "info"
    assert first == {
        "event": "target",
        "message": f"Codat: {server.base_url} (from CODAT_BASE_URL)",
        "codat": server.base_url,
        "sandbox": False,
        "chosen_by": "CODAT_BASE_URL",
    }


def test_default_target_is_production_and_is_named(
    cli: CliFn, write_manifest: Callable[..., Path]
) -> None:
    # No key: the command stops before any call, after naming where it would have gone.
    run = cli("plan", str(write_manifest(BASIC)))
    assert run.code == 1
    assert run.stderr.splitlines()[0] == "Codat: https://api.codat.io (from default)"


def auth_tags(server: SandboxHandle) -> dict[str, str | None]:
    with httpx.Client(base_url=server.base_url, headers=server.auth_headers) as http:
        results = http.get("/companies", params={"pageSize": 100}).json()["results"]
    return {c["name"]: c.get("tags", {}).get(AUTH_TAG) for c in results}


def test_a_loopback_server_never_gets_the_well_known_fingerprint_key(
    cli: CliFn, write_manifest: Callable[..., Path], sandbox_server: ServerFactory
) -> None:
    # A plain-http loopback URL may be a local proxy in front of real Codat:
    # fingerprints anyone can recompute must never reach it.
    server = sandbox_server()
    root = str(write_manifest(BASIC))
    applied = cli("apply", root, "--auto-approve", "--no-fingerprints", env=server_env(server))
    assert applied.code == 0, applied
    # The tool's record lists the connections it made and authorized, and no fingerprint.
    assert sorted(auth_tags(server).values()) == ["dfxm", "dfxm:-", "dfxm:-"]
    planned = cli("plan", root, env=server_env(server))
    assert "could not check for changed credentials: CODAT_RECONCILER_KEY is not set" in (
        planned.stdout
    )


def test_the_embedded_sandbox_uses_the_well_known_key_without_setup(
    cli: CliFn,
    write_manifest: Callable[..., Path],
    sandbox_path: Path,
    sandbox_server: ServerFactory,
) -> None:
    root = str(write_manifest(BASIC))
    env = {"CODAT_SANDBOX": str(sandbox_path), **TOKENS}
    assert cli("apply", root, "--auto-approve", env=env).code == 0
    planned = cli("plan", root, env=env)
    assert "No changes." in planned.stdout and "CODAT_RECONCILER_KEY" not in planned.stdout
    # The same world served over HTTP: the tag holds the well-known key's fingerprint.
    server = sandbox_server(state_path=sandbox_path)
    expected = fingerprint(SANDBOX_KEY, "10000002", "dfxm", {"apiToken": TOKENS["BOLT_TOKEN"]})
    assert auth_tags(server)["10000002"] == f"@{key_id(SANDBOX_KEY)},dfxm:{expected}"
