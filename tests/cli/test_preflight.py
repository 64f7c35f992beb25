"""A merchant that could only be made half-way is reported by plan and not started by apply:
a platform key the account has not enabled, or a secret a new connection needs that is unset."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.cli.conftest import BASIC, TOKENS
from tests.fixtures.cli import CliFn
from tests.fixtures.sandbox import SandboxHandle


def test_an_unset_secret_is_noted_by_plan_and_blocks_only_its_merchant_in_apply(
    cli: CliFn, write_manifest: Callable[..., Path], sandbox_path: Path
) -> None:
    root = str(write_manifest(BASIC))
    env = {"CODAT_SANDBOX": str(sandbox_path), "ACME_TOKEN": TOKENS["ACME_TOKEN"]}
    # plan can run without secrets (a fork's pull request): it says what apply will not do.
    planned = cli("plan", root, "--detailed-exitcode", env=env)
    assert planned.code == 2, planned
    assert "environment variable BOLT_TOKEN is not set: apply will not start" in planned.stdout
    applied = cli("apply", root, "--auto-approve", env=env)
    assert applied.code == 1, applied
    assert 'merchant["10000002"]' in applied.stdout and "not started" in applied.stdout
    # The other merchants were made whole; Bolt was not started at all.
    again = cli("plan", root, env={**env, **TOKENS})
    assert '+ merchant["10000002"]' in again.stdout, again
    assert 'merchant["10000001"]' not in again.stdout, again


def test_a_disabled_integration_blocks_its_merchant_before_any_call(
    cli: CliFn, write_manifest: Callable[..., Path], sandbox_server: Callable[..., SandboxHandle]
) -> None:
    server = sandbox_server(disabled_integrations=["dfxm"])
    env = {
        "CODAT_BASE_URL": server.base_url,
        "CODAT_API_KEY": server.api_key,
        "CODAT_RECONCILER_KEY": "preflight-key",
        **TOKENS,
    }
    run = cli("apply", str(write_manifest(BASIC)), "--auto-approve", env=env)
    assert run.code == 1, run
    assert "platform key dfxm is not an enabled integration" in run.stdout
    assert [c for c in server.app.calls if c[0] != "GET"] == []
    assert ("GET", "/integrations", 200) in server.app.calls
