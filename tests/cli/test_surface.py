"""Words and output that match the situation: quiet and verbose, per-change lines, a
prompt interrupted, a terminal without colours, errors held back, validate's options."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from reconciler import engine
from tests.cli.conftest import BASIC, TOKENS, companies
from tests.cli.test_progress import _run_on_terminal
from tests.fixtures.cli import CliFn
from tests.fixtures.sandbox import SandboxHandle

ACME_ONLY = """\
version: 1
merchants:
  - name: "10000001"
    connections:
      - platformKey: dfxm
        authorization: {apiToken: {env: ACME_TOKEN}}
"""


def test_quiet_apply_prints_the_summary_lines_and_errors_only(
    cli: CliFn, write_manifest: Callable[..., Path], env: dict[str, str]
) -> None:
    root = str(write_manifest(BASIC))
    run = cli("apply", root, "--auto-approve", "--quiet", env=env)
    assert run.code == 0, run
    assert run.stdout.splitlines() == [
        "Plan: 6 to create, 0 to update, 2 to authorize, 0 to unlink, 0 to delete.",
        "",
        "Apply complete: 8 done, 0 failed, 0 skipped.",
    ]
    assert run.stderr == ""
    both = cli("plan", root, "--quiet", "--verbose", env=env)
    assert both.code == 1 and "--quiet and --verbose ask for opposite things" in both.stderr


def test_each_change_prints_as_it_completes_and_a_failure_once_as_it_happens(
    cli: CliFn, write_manifest: Callable[..., Path], sandbox_server: Callable[..., SandboxHandle]
) -> None:
    # Acme's authorization fails on every attempt; Bolt's and Corner's changes go through.
    server = sandbox_server(faults=["503:PUT:/companies/*/connections/*/authorization:first:6"])
    env = {
        "CODAT_BASE_URL": server.base_url,
        "CODAT_API_KEY": server.api_key,
        "CODAT_RECONCILER_KEY": "surface-test-key",
        **TOKENS,
    }
    run = cli("apply", str(write_manifest(BASIC)), "--auto-approve", "--parallelism", "1", env=env)
    assert run.code == 1, run
    lines = run.stderr.splitlines()
    failed = [line for line in lines if line.startswith('Error: merchant["10000001"]')]
    assert len(failed) == 1 and "correlationId" in failed[0]
    assert lines.index(failed[0]) < lines.index(
        'merchant["10000002"].connection["dfxm"]: authorized'
    )
    assert 'merchant["10000003"].connection["dfxm"]: authorized' not in lines  # none declared
    assert sum(line.startswith('merchant["') for line in lines) == 7  # 8 changes, 1 failed
    assert "Apply incomplete: 7 done, 1 failed, 0 skipped." in run.stdout


def _interruptible() -> None:
    # A shell's background job (CI runners, some test launchers) ignores SIGINT, and a
    # child inherits that; a person at a terminal has it at its default.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_at_the_prompt_exits_130_saying_nothing_was_changed(
    write_manifest: Callable[..., Path], sandbox_path: Path
) -> None:
    root = str(write_manifest(BASIC))
    terminal, answer = pty.openpty()  # stdin on a terminal: apply asks
    env = {**os.environ, **TOKENS, "CODAT_SANDBOX": str(sandbox_path)}
    env.pop("CODAT_BASE_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "apply", root],
        stdin=answer,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        preexec_fn=_interruptible,
    )
    os.close(answer)
    assert proc.stdout is not None and proc.stderr is not None
    shown = b""
    deadline = time.monotonic() + 60  # a hang guard, not a timing assertion
    while b"Only 'yes' will be accepted" not in shown:
        assert time.monotonic() < deadline and proc.poll() is None, shown
        if select.select([proc.stdout], [], [], 1)[0]:
            shown += os.read(proc.stdout.fileno(), 65536)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    os.close(terminal)
    assert proc.returncode == 130, err
    assert err.decode().splitlines()[-1] == (
        "Error: apply interrupted at the prompt: nothing was changed"
    )
    assert b"Traceback" not in err
    with engine.connect(engine.Target.embedded_sandbox(sandbox_path)) as codat:
        assert companies(codat) == []


def test_a_terminal_declaring_no_colours_gets_none(
    write_manifest: Callable[..., Path], sandbox_path: Path
) -> None:
    root = str(write_manifest(BASIC))
    env = {**TOKENS, "CODAT_SANDBOX": str(sandbox_path), "NO_COLOR": ""}
    coloured, _ = _run_on_terminal(["plan", root], {**env, "TERM": "xterm-256color"})
    assert "\x1b[" in coloured
    dumb, _ = _run_on_terminal(["plan", root], {**env, "TERM": "dumb"})
    assert "\x1b[" not in dumb and "Plan: 6 to create" in dumb


def test_an_apply_whose_changes_are_held_back_never_says_no_changes(
    cli: CliFn, write_manifest: Callable[..., Path], sandbox_path: Path
) -> None:
    root = str(write_manifest(ACME_ONLY))
    env = {"CODAT_SANDBOX": str(sandbox_path)}  # ACME_TOKEN unset
    planned = cli("plan", root, env=env)
    assert "Plan: 2 to create, 0 to update, 1 to authorize" in planned.stdout, planned
    applied = cli("apply", root, "--auto-approve", env=env)
    assert applied.code == 1, applied
    assert "No changes" not in applied.output
    assert "Nothing can be changed until the errors above are resolved." in applied.stdout
    assert "1 merchant left unchanged by a problem" in applied.stdout


def test_validate_takes_quiet_and_json_logs(
    cli: CliFn, write_manifest: Callable[..., Path], tmp_path: Path
) -> None:
    root = str(write_manifest(BASIC))
    quiet = cli("validate", root, "--quiet")
    assert quiet.code == 0 and quiet.stdout == "OK: 3 merchants in 1 file\n" and not quiet.stderr
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "m.yaml").write_text("version: 1\nmerchants:\n  - platfromKey: x\n")
    logged = cli("validate", str(broken), "--quiet", "--log-format", "json")
    assert logged.code == 1
    (record,) = [json.loads(line) for line in logged.stderr.splitlines()]
    assert record["level"] == "error" and record["time"].endswith("Z")
    assert "m.yaml:3:5: unknown key 'platfromKey'" in record["message"]
    empty = tmp_path / "empty"
    empty.mkdir()
    nothing = cli("validate", str(empty))
    assert nothing.code == 1 and f"no manifest files under {empty}" in nothing.stderr
