"""Each command imports only what it uses: a fresh process shows which modules a run loaded.

`validate` of 100,000 merchants has a budget of 1.5x what reading their YAML
costs, measured as the whole process; importing the HTTP client, the diff
library, jsonschema and the sandbox before reading a single file spent 0.4 s of
its 1.8 s. Only a new interpreter shows what a run imported, so each case runs the
real entry point in a child process and reports `sys.modules` when it ends.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from reconciler import environment
from tests.fixtures.sandbox import SandboxHandle

# Heavy libraries and the parts of the tool a light command never needs.
HEAVY = (
    "httpx",
    "jsonschema",
    "deepdiff",
    "pydantic",
    "rich",
    "reconciler.sandbox",
    "reconciler.engine",
    "reconciler.apply",
    "reconciler.live",
    "reconciler.plan.planner",
    "reconciler.codat.client",
)
# What `plan` against a Codat at a URL leaves alone when no manifest has a `client:`
# section: the embedded sandbox, the diff of client-wide settings, jsonschema (the
# manifests are valid) and the parts of the engine other commands use.
NOT_FOR_A_MERCHANT_PLAN = (
    "deepdiff",
    "pydantic",
    "jsonschema",
    "reconciler.sandbox",
    "reconciler.apply",
    "reconciler.readiness",
    "reconciler.watch",
)
# What showing a command's help never needs: the HTTP stack, the libraries a run may
# use, the sandbox server and the engine's working parts.
NOT_FOR_HELP = (
    "httpx",
    "jsonschema",
    "deepdiff",
    "pydantic",
    "rich",
    "reconciler.sandbox.app",
    "reconciler.codat.client",
    "reconciler.apply",
    "reconciler.plan.planner",
    "reconciler.live.reader",
)

# Runs main() as the console script does, then writes the exit code and the heavy
# modules loaded to the file named by the first argument (stdout is the command's).
PROBE = textwrap.dedent(
    """\
    import json, sys
    from reconciler.cli import main
    report, argv, watched = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
    try:
        main(argv)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    loaded = sorted(
        w for w in watched
        if any(name == w or name.startswith(w + ".") for name in sys.modules)
    )
    with open(report, "w", encoding="utf-8") as f:
        json.dump({"code": code, "loaded": loaded}, f)
    """
)

MERCHANTS = """\
version: 1
defaults:
  syncFlow: {commerceKey: lqai, accountingKey: gbol, redirectUrl: "https://app.example.com/done"}
merchants:
  - name: "10000001"
    description: Acme Coffee Ltd
    connections:
      - platformKey: dfxm
"""

COMMANDS = ["validate", "plan", "apply", "status", "show", "export", "sync-url", "sandbox", "watch"]

Probe = Callable[..., tuple[int, list[str], str]]


@pytest.fixture
def probe(tmp_path: Path) -> Probe:
    """probe(*args, watched=HEAVY, env={}) -> (exit code, watched modules loaded, output)."""

    def run(
        *args: str, watched: tuple[str, ...] = HEAVY, env: Mapping[str, str] | None = None
    ) -> tuple[int, list[str], str]:
        report = tmp_path / "modules.json"
        report.unlink(missing_ok=True)
        clean = {k: v for k, v in os.environ.items() if k not in environment.READ}
        proc = subprocess.run(
            [sys.executable, "-c", PROBE, str(report), json.dumps(args), json.dumps(watched)],
            capture_output=True,
            text=True,
            env={**clean, **(env or {})},
            timeout=60,
        )
        output = proc.stdout + proc.stderr
        assert report.exists(), f"the probe ended without a report:\n{output}"
        result = json.loads(report.read_text(encoding="utf-8"))
        return result["code"], result["loaded"], output

    return run


@pytest.fixture
def manifests(tmp_path: Path) -> Path:
    root = tmp_path / "manifests"
    root.mkdir()
    (root / "merchants.yaml").write_text(MERCHANTS, encoding="utf-8")
    return root


def test_validate_of_valid_manifests_loads_nothing_heavy(probe: Probe, manifests: Path) -> None:
    code, loaded, output = probe("validate", str(manifests))
    assert code == 0 and "OK: 1 merchant in 1 file" in output, output
    assert loaded == []


def test_validate_of_an_invalid_manifest_still_explains_it(probe: Probe, tmp_path: Path) -> None:
    # jsonschema words the problem: loaded on demand, and only it.
    bad = tmp_path / "bad.yaml"
    bad.write_text(MERCHANTS.replace("merchants:", "merchnats:"), encoding="utf-8")
    code, loaded, output = probe("validate", str(bad))
    assert code == 1 and f"{bad}:4:1: unknown key 'merchnats'" in output, output
    assert loaded == ["jsonschema"]


@pytest.mark.parametrize("args", [["--version"], ["validate", "--help"]], ids=" ".join)
def test_version_and_validate_s_help_load_nothing_heavy(probe: Probe, args: list[str]) -> None:
    code, loaded, output = probe(*args)
    assert code == 0 and ("version" in output or "Usage:" in output), output
    assert loaded == []


# `sandbox` is left out: its help is the sandbox server's, whose module it loads.
@pytest.mark.parametrize("command", [c for c in COMMANDS if c != "sandbox"])
def test_a_command_s_help_loads_nothing_it_would_only_use_to_run(
    probe: Probe, command: str
) -> None:
    code, loaded, output = probe(command, "--help", watched=NOT_FOR_HELP)
    assert code == 0 and f"Usage: codat-reconciler {command}" in output, output
    assert loaded == []


def test_plan_against_a_url_loads_neither_the_sandbox_nor_the_client_diff(
    probe: Probe, manifests: Path, sandbox_server: Callable[..., SandboxHandle]
) -> None:
    sandbox = sandbox_server()
    code, loaded, output = probe(
        "plan",
        str(manifests),
        "--base-url",
        sandbox.base_url,
        watched=NOT_FOR_A_MERCHANT_PLAN,
        env={"CODAT_API_KEY": sandbox.api_key},
    )
    assert code == 0 and "Plan: 2 to create" in output, output
    assert loaded == []


def test_the_command_list_names_every_command_in_order(probe: Probe) -> None:
    code, _, output = probe("--help")
    assert code == 0, output
    lines = output.split("Commands:")[1].splitlines()
    names = [line.split()[0] for line in lines if line.startswith("  ")]
    # Listing them loads every command (for its one-line help); the order stays click's.
    assert names == sorted(COMMANDS)


def test_a_mistyped_command_is_answered_with_the_one_meant(probe: Probe) -> None:
    # No command is loaded yet when the name is looked up: every name is still offered
    # (by loading them all, on this error path only).
    code, _, output = probe("valdate")
    assert code == 1 and "No such command 'valdate'. Did you mean 'validate'?" in output, output
