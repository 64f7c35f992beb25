"""Every command explains itself with an example; errors say what to do next."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler import __version__
from tests.fixtures.cli import CliFn

COMMANDS = [
    ["validate"],
    ["plan"],
    ["apply"],
    ["status"],
    ["show"],
    ["export"],
    ["sync-url"],
    ["sandbox", "serve"],
    ["watch"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help_with_an_example(cli: CliFn, command: list[str]) -> None:
    run = cli(*command, "--help")
    assert run.code == 0
    assert "Example" in run.stdout and f"codat-reconciler {' '.join(command)}" in run.stdout


def test_version(cli: CliFn) -> None:
    run = cli("--version")
    assert run.code == 0 and run.stdout.strip() == f"codat-reconciler, version {__version__}"


def test_usage_errors_exit_1_not_2(cli: CliFn) -> None:
    # Exit 2 means "the plan has changes" to CI: a typo must not read as drift.
    run = cli("plan", "--no-such-flag")
    assert run.code == 1 and "No such option" in run.stderr


def test_missing_api_key_says_what_to_do(cli: CliFn) -> None:
    manifests = str(Path(__file__).resolve().parents[2] / "manifests")
    run = cli("plan", manifests, env={"CODAT_API_KEY": None, "CODAT_SANDBOX": None})
    assert run.code == 1 and "CODAT_API_KEY" in run.stderr and "--api-key-file" in run.stderr
