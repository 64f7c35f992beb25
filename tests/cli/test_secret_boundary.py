"""A merged manifest cannot send the tool's own secrets, or Git's, to Codat: every
command that loads manifests refuses it, at the value's position, before any call."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.fixtures.cli import CliFn, Run
from tests.fixtures.sandbox import SandboxHandle

# The four values of the issue: the fingerprint key, the API key, the webhook
# secret and the job token actions/checkout writes into .git/config.
RECONCILER_KEY = "reconciler-key-6b1f0c3e9d"
WEBHOOK_SECRET = "whsec_c2VjcmV0LXdlYmhvb2sta2V5LTAwMDE="
CHECKOUT_TOKEN = "ghs_checkoutJobToken0123456789"
GIT_CONFIG = f"[http]\n\textraheader = AUTHORIZATION: basic {CHECKOUT_TOKEN}\n"

TAKES_ALL = """\
version: 1
merchants:
  - name: "10000001"
    connections:
      - platformKey: dfxm
        authorization:
          fingerprintKey: {env: CODAT_RECONCILER_KEY}
          apiKey: {env: CODAT_API_KEY}
          webhookSecret: {env: CODAT_WEBHOOK_SECRET}
          gitConfig: {file: ../.git/config}
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A checkout as actions/checkout leaves it: the job's token in .git/config."""
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    (root / ".git" / "config").write_text(GIT_CONFIG)
    (root / "manifests").mkdir()
    return root


def write(repo: Path, text: str) -> Path:
    manifest = repo / "manifests" / "merchants.yaml"
    manifest.write_text(textwrap.dedent(text))
    return manifest


def located_errors(run: Run, manifest: Path) -> list[str]:
    """The errors naming `manifest`, as text lines or JSON log records."""
    lines = run.stderr.splitlines()
    records = [json.loads(x)["message"] for x in lines if x.startswith("{")]
    messages = [m for r in records for m in r.splitlines()] or lines
    return [m.removeprefix(f"{manifest}:") for m in messages if m.startswith(f"{manifest}:")]


def test_the_tools_own_secrets_and_gits_are_refused_before_any_call(
    cli: CliFn, sandbox_server: Callable[..., SandboxHandle], repo: Path
) -> None:
    manifest = write(repo, TAKES_ALL)
    sb = sandbox_server()
    env = {
        "CODAT_API_KEY": sb.api_key,
        "CODAT_RECONCILER_KEY": RECONCILER_KEY,
        "CODAT_WEBHOOK_SECRET": WEBHOOK_SECRET,
    }
    codat = ["--base-url", sb.base_url]
    own = "is one codat-reconciler reads for itself (CODAT_*)"
    for args in (
        ["validate", str(manifest)],
        ["validate", str(manifest), "--check-secrets", "--format", "json"],
        ["plan", str(manifest), *codat],
        ["plan", str(manifest), *codat, "--log-format", "json"],
        ["apply", str(manifest), "--auto-approve", *codat],
        ["apply", str(manifest), "--auto-approve", *codat, "--log-format", "json"],
    ):
        run = cli(*args, env=env)
        assert run.code == 1, (args, run)
        errors = located_errors(run, manifest)
        assert [e.split(": ", 1)[0] for e in errors] == ["7:27", "8:19", "9:26", "10:22"], run
        assert all(own in e for e in errors[:3]), run
        assert "secret file '../.git/config' is inside Git's own folder (.git)" in errors[3]
        assert "Traceback" not in run.output
        for secret in (sb.api_key, RECONCILER_KEY, WEBHOOK_SECRET, CHECKOUT_TOKEN):
            assert secret not in run.output, (args, run)
    assert list(sb.app.calls) == [], "Codat was called"


def test_an_allowlist_from_the_flag_or_the_environment_refuses_other_variables(
    cli: CliFn, sandbox_server: Callable[..., SandboxHandle], repo: Path, tmp_path: Path
) -> None:
    manifest = write(
        repo,
        """\
        version: 1
        merchants:
          - name: "10000001"
            connections:
              - platformKey: dfxm
                authorization: {apiToken: {env: ACME_TOKEN}}
          - name: "10000002"
            connections:
              - platformKey: dfxm
                authorization: {apiToken: {env: BOLT_TOKEN}}
        """,
    )
    sb = sandbox_server()
    env = {
        "CODAT_API_KEY": sb.api_key,
        "CODAT_RECONCILER_KEY": RECONCILER_KEY,
        "ACME_TOKEN": "acme-token-1",
        "BOLT_TOKEN": "bolt-2",
    }
    codat = ["--base-url", sb.base_url]
    path = str(manifest)
    plan_file = tmp_path / "plan.json"
    # Made without an allowlist: applying it under one is refused too.
    assert cli("plan", path, *codat, "--out", str(plan_file), env=env).code == 0
    calls = len(sb.app.calls)
    refused = "10:35: environment variable BOLT_TOKEN is not allowed by {} (ACME_*)"
    commands = [
        ["validate", path],
        ["plan", path, *codat],
        ["apply", path, "--auto-approve", *codat],
        ["apply", "--plan", str(plan_file), *codat],
        ["status", path, *codat],
        ["sync-url", path, "--merchant", "10000001", *codat],
        ["watch", path, "--listen", "127.0.0.1:0", *codat],
    ]
    for args, extra, given_as in [
        (["--secret-env", "ACME_*"], {}, "--secret-env"),
        ([], {"CODAT_SECRET_ENV": "ACME_*"}, "CODAT_SECRET_ENV"),
        # A flag beats the variable.
        (["--secret-env", "ACME_*"], {"CODAT_SECRET_ENV": "BOLT_*"}, "--secret-env"),
    ]:
        for command in commands:
            run = cli(
                *command,
                *args,
                env={
                    **env,
                    "CODAT_WEBHOOK_SECRET": WEBHOOK_SECRET,
                    "CODAT_SECRET_ENV": None,
                    **extra,
                },
            )
            assert run.code == 1, (command, run)
            assert located_errors(run, manifest) == [
                refused.format(given_as) + ": an authorization value comes only from a "
                "variable matching one of these"
            ], (command, run)
            assert "bolt-2" not in run.output
    assert len(sb.app.calls) == calls, "Codat was called"
    # Both admitted: comma- or space-separated in the variable.
    for patterns in ("ACME_*,BOLT_*", "ACME_* BOLT_TOKEN"):
        run = cli("validate", path, env={"CODAT_SECRET_ENV": patterns})
        assert run.code == 0, run


def test_an_unusable_allowlist_is_refused_naming_where_it_came_from(cli: CliFn, repo: Path) -> None:
    manifest = str(write(repo, 'version: 1\nmerchants:\n  - name: "1"\n'))
    run = cli("validate", manifest, "--secret-env", "ACME-*")
    assert run.code == 1
    assert "--secret-env: 'ACME-*' is not a variable name pattern" in run.stderr
    run = cli("validate", manifest, env={"CODAT_SECRET_ENV": " , "})
    assert run.code == 1
    assert "CODAT_SECRET_ENV: no pattern given" in run.stderr
