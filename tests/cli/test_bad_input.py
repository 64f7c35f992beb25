"""Bad settings end as a message that says what to do and exit 1, never a traceback."""

from __future__ import annotations

import base64
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from reconciler.codat.client import CodatClient
from tests.cli.conftest import BASIC, TOKENS, companies
from tests.fixtures.cli import CliFn, Run
from tests.fixtures.sandbox import SandboxHandle


def assert_refused(run: Run, *phrases: str) -> None:
    assert run.code == 1, run
    assert "Traceback" not in run.output, run
    for phrase in phrases:
        assert phrase in run.stderr, run


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "0", "-1", "1e400", "3601", "soon"])
def test_a_timeout_that_is_not_a_sane_number_of_seconds_is_a_usage_error(
    cli: CliFn, write_manifest: Callable[..., Path], value: str
) -> None:
    root = str(write_manifest(BASIC))
    run = cli(
        "plan",
        root,
        "--timeout",
        value,
        "--base-url",
        "http://127.0.0.1:9",
        env={"CODAT_API_KEY": "key-123456"},
    )
    assert_refused(run, "Invalid value for '--timeout'")
    from_env = cli("plan", root, env={"CODAT_TIMEOUT": value, "CODAT_API_KEY": "key-123456"})
    assert_refused(from_env, "Invalid value for '--timeout'")


@pytest.mark.parametrize(
    ("url", "phrase"),
    [
        ("http://[::1", "is not a valid URL"),
        ("http://127.0.0.1:99999", "has no valid port: a port is a number from 1 to 65535"),
        ("http://127.0.0.1:0", "has no valid port"),
        ("https://api.codat.io:http", "has no valid port"),
    ],
)
def test_a_base_url_that_cannot_be_dialled_is_refused_before_any_call(
    cli: CliFn, write_manifest: Callable[..., Path], url: str, phrase: str
) -> None:
    root = str(write_manifest(BASIC))
    from_env = cli("plan", root, env={"CODAT_BASE_URL": url, "CODAT_API_KEY": "key-123456"})
    assert_refused(from_env, f"CODAT_BASE_URL: base URL {url!r}", phrase)
    assert "could not connect" not in from_env.stderr
    from_flag = cli(
        "apply", root, "--auto-approve", "--base-url", url, env={"CODAT_API_KEY": "key-123456"}
    )
    assert_refused(from_flag, f"--base-url: base URL {url!r}", phrase)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # nothing listens there once the socket is closed


def test_could_not_connect_names_the_url_never_the_key(
    cli: CliFn, write_manifest: Callable[..., Path]
) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    run = cli(
        "plan",
        str(write_manifest(BASIC)),
        "--base-url",
        url,
        env={"CODAT_API_KEY": "secret-key-0001"},
    )
    assert_refused(run, f"could not connect to {url}", "--base-url")
    assert "secret-key-0001" not in run.output
    assert base64.b64encode(b"secret-key-0001").decode() not in run.output


def test_an_api_key_file_that_is_not_utf8_is_refused_without_showing_it(
    cli: CliFn, write_manifest: Callable[..., Path], tmp_path: Path
) -> None:
    key_file = tmp_path / "key"
    key_file.write_bytes(b"sk-\xff\xfe-binary")
    run = cli(
        "plan",
        str(write_manifest(BASIC)),
        "--api-key-file",
        str(key_file),
        "--base-url",
        "https://codat.invalid",
    )
    assert_refused(run, f"API key file {key_file} is not UTF-8 text")
    assert "binary" not in run.output and "\\xff" not in run.output


def test_a_refused_key_says_which_settings_hold_it_and_keeps_the_correlation_id(
    cli: CliFn, write_manifest: Callable[..., Path], sandbox_server: Callable[..., SandboxHandle]
) -> None:
    server = sandbox_server(api_key="the-real-key-123")
    root = str(write_manifest(BASIC))
    wrong = cli(
        "plan", root, env={"CODAT_BASE_URL": server.base_url, "CODAT_API_KEY": "a-wrong-key-456"}
    )
    assert_refused(wrong, "401 Unauthorized", "correlationId: ", "CODAT_API_KEY", "--api-key-file")
    assert "base64" not in wrong.stderr and "a-wrong-key-456" not in wrong.output
    # The key as it appears in an Authorization header: encoded once already.
    encoded = base64.b64encode(b"the-real-key-123").decode()
    twice = cli("plan", root, env={"CODAT_BASE_URL": server.base_url, "CODAT_API_KEY": encoded})
    assert_refused(
        twice,
        "401 Unauthorized",
        "the key looks base64-encoded already: give the key itself, the tool encodes it",
    )
    assert encoded not in twice.output and "the-real-key-123" not in twice.output


def test_max_deletes_without_prune_limits_the_deletion_of_twins_only(
    cli: CliFn, write_manifest: Callable[..., Path], env: dict[str, str], codat: CodatClient
) -> None:
    """Without --prune the only deletions are of the tool's own unused twins: the guard
    holds for them, so --max-deletes is accepted alone, and it prunes nothing."""
    owned = {"managed-by": "codat-reconciler"}
    codat.create_company({"name": "gone", "tags": owned}, idempotency_key="undeclared")
    for key in ("a", "b"):
        codat.create_company(
            {"name": "10000003", "description": "Corner Shop", "tags": owned},
            idempotency_key=f"twin-{key}",
        )
    root = str(write_manifest(BASIC))
    refused = cli("apply", root, "--max-deletes", "0", "--auto-approve", env=env)
    assert_refused(refused, "deletes 1 company, more than --max-deletes 0")
    assert len(companies(codat)) == 3
    applied = cli("apply", root, "--max-deletes", "1", "--auto-approve", env=env)
    assert applied.code == 0, applied
    names = sorted(c["name"] for c in companies(codat))
    assert names == ["10000001", "10000002", "10000003", "gone"], names


def test_max_deletes_with_prune_is_accepted(
    cli: CliFn, write_manifest: Callable[..., Path], env: dict[str, str]
) -> None:
    run = cli("plan", str(write_manifest(BASIC)), "--prune", "--max-deletes", "3", env=env)
    assert run.code == 0, run


def test_apply_help_words_merchant_for_apply(cli: CliFn) -> None:
    apply_help = cli("apply", "--help").stdout
    assert "Plan only" not in apply_help and "Apply only this merchant" in apply_help
    assert "Plan only this merchant" in cli("plan", "--help").stdout


@pytest.mark.parametrize("where", ["missing/folder/state.sqlite", "not-sqlite.sqlite"])
def test_sandbox_state_that_cannot_be_opened_is_named_with_what_to_do(
    cli: CliFn, write_manifest: Callable[..., Path], tmp_path: Path, where: str
) -> None:
    state = tmp_path / where
    if where.startswith("not-sqlite"):
        state.write_text("merchant list, not a database\n" * 100)
    expected = "does not exist; create it" if "missing" in where else "it is not an SQLite database"
    served = cli("sandbox", "serve", "--state", str(state))
    assert_refused(served, f"--state: cannot open the sandbox state file {state}: ", expected)
    embedded = cli("plan", str(write_manifest(BASIC)), env={"CODAT_SANDBOX": str(state), **TOKENS})
    assert_refused(
        embedded, f"CODAT_SANDBOX: cannot open the sandbox state file {state}: ", expected
    )
    assert not (tmp_path / "missing").exists()
