"""`--log-format json`: every line on stderr is a JSON object, errors and summaries included."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from reconciler.codat.client import CodatClient
from tests.cli.conftest import BASIC, TOKENS
from tests.fixtures.cli import CliFn, Run
from tests.fixtures.sandbox import SandboxHandle

UNKNOWN_PLATFORM = """\
version: 1
merchants:
  - name: "30000001"
    connections:
      - platformKey: zzzz
  - name: "30000002"
"""


LEVELS = {"info", "warning", "error"}


def records(run: Run) -> list[dict[str, Any]]:
    """Every stderr line, parsed: fails on any line that is not a JSON object with an
    RFC 3339 UTC `time` and a `level`. Returned without those two, which every one has."""
    parsed = [json.loads(line) for line in run.stderr.splitlines()]
    assert parsed, run
    assert all(isinstance(r, dict) and isinstance(r.get("event"), str) for r in parsed), run
    for record in parsed:
        stamp = record.pop("time")
        assert stamp.endswith("Z") and datetime.fromisoformat(stamp).utcoffset() == timedelta(0)
        assert record.pop("level") in LEVELS, record
    return parsed


def events(run: Run) -> list[str]:
    return [r["event"] for r in records(run)]


def test_plan_then_apply_succeeding(
    cli: CliFn, write_manifest: Callable[..., Path], env: dict[str, str], tmp_path: Path
) -> None:
    root = str(write_manifest(BASIC))
    plan_file = str(tmp_path / "plan.json")
    planned = cli("plan", root, "--out", plan_file, "--log-format", "json", env=env)
    assert planned.code == 0, planned
    # The companies, then (the plan makes connections) the account's integrations.
    assert events(planned) == ["target", "api_call", "api_call", "saved"]
    assert records(planned)[-1]["file"] == plan_file
    applied = cli("apply", "--plan", plan_file, "--log-format", "json", env=env)
    assert applied.code == 0, applied
    found = records(applied)
    assert found[0]["event"] == "target" and found[0]["sandbox"] is True
    assert found[-1] == {
        "event": "summary",
        "complete": True,
        "done": 8,
        "failed": 0,
        "skipped": 0,
        "not_started": 0,
    }
    assert "Apply complete: 8 done" in applied.stdout  # the plain summary stays on stdout


def test_apply_with_a_failed_change(
    cli: CliFn, write_manifest: Callable[..., Path], sandbox_server: Callable[..., SandboxHandle]
) -> None:
    # Bolt's authorization fails on every attempt; the others go through.
    server = sandbox_server(faults=["503:PUT:/companies/*/connections/*/authorization:first:6"])
    env = {
        "CODAT_BASE_URL": server.base_url,
        "CODAT_API_KEY": server.api_key,
        "CODAT_RECONCILER_KEY": "json-log-test-key",
        **TOKENS,
    }
    run = cli(
        "apply",
        str(write_manifest(BASIC)),
        "--auto-approve",
        "--parallelism",
        "1",
        "--log-format",
        "json",
        env=env,
    )
    assert run.code == 1, run
    found = records(run)
    (failed,) = [r for r in found if r["event"] == "failed"]
    assert failed["address"] == 'merchant["10000001"].connection["dfxm"]'
    assert failed["message"].startswith('merchant["10000001"].connection["dfxm"]: PUT ')
    assert "correlationId: " in failed["message"]
    summary = next(r for r in found if r["event"] == "summary")
    assert summary["complete"] is False and summary["failed"] == 1
    assert found[-1]["event"] == "hint" and "Re-run apply" in found[-1]["message"]


def test_a_merchant_that_could_not_finish_is_not_started(
    cli: CliFn, write_manifest: Callable[..., Path], env: dict[str, str]
) -> None:
    root = str(write_manifest(UNKNOWN_PLATFORM))
    run = cli("apply", root, "--auto-approve", "--log-format", "json", env=env)
    assert run.code == 1, run
    # A problem of the manifest, named where the connection is declared; not a conflict.
    where = r'Error: \S*merchants\.yaml:5:9: merchant\["30000001"\]\.connection\["zzzz"\]: '
    assert re.search(where + "not started: platform key zzzz is not an enabled", run.stdout), run
    found = records(run)
    posts = [r for r in found if r["event"] == "api_call" and r["method"] != "GET"]
    # Only the other merchant was created; nothing of 30000001 was started.
    assert [p["path"] for p in posts] == ["/companies"]
    assert {
        "event": "summary",
        "complete": True,
        "done": 1,
        "failed": 0,
        "skipped": 0,
        "not_started": 0,
    } in found


def test_apply_with_conflicts(
    cli: CliFn, write_manifest: Callable[..., Path], env: dict[str, str], codat: CodatClient
) -> None:
    for key in ("a", "b"):
        codat.create_company({"name": "10000001"}, idempotency_key=f"dup-{key}")
    run = cli(
        "apply", str(write_manifest(BASIC)), "--auto-approve", "--log-format", "json", env=env
    )
    assert run.code == 1, run
    assert records(run)[-1] == {
        "event": "conflicts",
        "message": "1 merchant left alone because of conflicts or problems (see the plan above).",
        "merchants": 1,
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["apply", "--plan", "p.json", "{root}"], "--plan takes no PATH"),
        (["apply", "{root}", "--timeout", "nan"], "Invalid value for '--timeout'"),
        (["plan", "{root}", "--no-such-flag"], "--no-such-flag"),
        (["apply", "{root}"], "refusing to apply without confirmation"),
        (["plan", "{broken}"], "merchants.yaml:3:5: unknown key 'platfromKey'"),
        (["export", "--merchant", "NOPE"], '--merchant "NOPE": no company of that name'),
    ],
    ids=["usage", "bad-value", "parse", "no-terminal", "manifest", "export"],
)
def test_failures_end_with_one_error_record(
    cli: CliFn,
    write_manifest: Callable[..., Path],
    env: dict[str, str],
    tmp_path: Path,
    args: list[str],
    message: str,
) -> None:
    root = write_manifest(BASIC)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "merchants.yaml").write_text("version: 1\nmerchants:\n  - platfromKey: x\n")
    filled = [a.format(root=root, broken=broken) for a in args]
    run = cli(*filled, "--log-format", "json", env=env)
    assert run.code == 1, run
    assert json.loads(run.stderr.splitlines()[-1])["level"] == "error"
    last = records(run)[-1]
    assert last["event"] == "error" and message in last["message"], run
    assert not last["message"].startswith("Error:")
