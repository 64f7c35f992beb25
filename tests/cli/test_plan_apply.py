"""plan and apply end to end: the real CLI on the embedded sandbox."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from reconciler.codat.client import CodatClient
from tests.cli.conftest import BASIC, assert_no_secret, companies, mutating
from tests.fixtures.cli import CliFn


def test_plan_apply_plan_converges_and_second_apply_mutates_nothing(
    cli: CliFn, write_manifest: Callable[..., Path], env: dict[str, str], codat: CodatClient
) -> None:
    root = write_manifest(BASIC)
    first = cli("plan", str(root), "--detailed-exitcode", env=env)
    assert first.code == 2, first
    assert 'merchant["10000001"]' in first.stdout
    assert "Plan: 6 to create, 0 to update, 2 to authorize" in first.stdout
    assert "waiting for the merchant to authorize dfxm" in first.stdout

    applied = cli("apply", str(root), "--auto-approve", "--log-format", "json", env=env)
    assert applied.code == 0, applied
    assert len(mutating(applied)) == 8  # 3 companies, 3 connections, 2 authorizations
    live = {c["name"]: c for c in companies(codat)}
    assert set(live) == {"10000001", "10000002", "10000003"}
    statuses = {n: [x["status"] for x in c["dataConnections"]] for n, c in live.items()}
    assert statuses == {"10000001": ["Linked"], "10000002": ["Linked"], "10000003": ["PendingAuth"]}
    assert live["10000001"]["tags"]["region"] == "uk"
    assert live["10000001"]["tags"]["managed-by"] == "codat-reconciler"

    again = cli("plan", str(root), "--detailed-exitcode", env=env)
    assert again.code == 0, again
    assert "No changes." in again.stdout
    second = cli("apply", str(root), "--auto-approve", "--log-format", "json", env=env)
    assert second.code == 0 and mutating(second) == []
    for run in (first, applied, again, second):
        assert_no_secret(run)


def test_apply_refuses_without_terminal_or_auto_approve(
    cli: CliFn, write_manifest: Callable[..., Path], env: dict[str, str], codat: CodatClient
) -> None:
    run = cli("apply", str(write_manifest(BASIC)), env=env)
    assert run.code == 1
    assert "refusing to apply without confirmation" in run.stderr
    assert "--auto-approve" in run.stderr
    assert companies(codat) == []


@pytest.mark.parametrize(("answer", "code", "created"), [("yes\n", 0, 3), ("no\n", 1, 0)])
def test_apply_asks_for_yes_on_a_terminal(
    cli: CliFn,
    write_manifest: Callable[..., Path],
    env: dict[str, str],
    codat: CodatClient,
    monkeypatch: pytest.MonkeyPatch,
    answer: str,
    code: int,
    created: int,
) -> None:
    monkeypatch.setattr("reconciler.cli.apply.stdin_is_terminal", lambda: True)
    run = cli("apply", str(write_manifest(BASIC)), env=env, input=answer)
    assert run.code == code, run
    assert "Only 'yes' will be accepted" in run.stdout
    assert len(companies(codat)) == created


def test_saved_plan_is_applied_exactly_and_refused_when_stale(
    cli: CliFn,
    write_manifest: Callable[..., Path],
    env: dict[str, str],
    codat: CodatClient,
    tmp_path: Path,
) -> None:
    root = write_manifest(BASIC)
    plan_file = tmp_path / "plan.json"
    made = cli("plan", str(root), "--out", str(plan_file), env=env)
    assert made.code == 0, made
    text = plan_file.read_text()
    assert "acme-001" not in text  # literal authorization values are secrets too
    assert_no_secret(made, text)
    shown = cli("show", str(plan_file))
    assert shown.code == 0 and shown.stdout == cli("plan", str(root), env=env).stdout

    # Someone changes Codat after the plan was made: the plan is stale.
    codat.create_company({"name": "intruder"}, idempotency_key="k-intruder")
    stale = cli("apply", "--plan", str(plan_file), env=env)
    assert stale.code == 1 and "Codat changed since this plan was made" in stale.stderr
    assert [c["name"] for c in companies(codat)] == ["intruder"]

    cli("plan", str(root), "--out", str(plan_file), env=env)
    done = cli("apply", "--plan", str(plan_file), env=env)
    assert done.code == 0, done
    assert cli("plan", str(root), "--detailed-exitcode", env=env).code == 0
    # Applying the same plan again: Codat changed (by the plan itself), so it is refused.
    again = cli("apply", "--plan", str(plan_file), env=env)
    assert again.code == 1 and "this plan was already applied" in again.stderr


def test_plan_without_prune_notes_the_managed_companies_no_manifest_declares(
    cli: CliFn, write_manifest: Callable[..., Path], env: dict[str, str]
) -> None:
    root = write_manifest(BASIC)
    assert cli("apply", str(root), "--auto-approve", env=env).code == 0
    write_manifest(BASIC.split('  - name: "10000002"')[0])  # only 10000001 is left
    note = (
        "2 managed companies are not declared in any manifest; --prune would delete them:"
        ' "10000002", "10000003"'
    )
    text = cli("plan", str(root), "--detailed-exitcode", env=env)
    assert text.code == 0 and f"Note: {note}" in text.stdout  # a note, not a change
    doc = json.loads(cli("plan", str(root), "--format", "json", env=env).stdout)
    assert {"address": "", "message": note, "kind": "undeclared_companies"} in doc["notes"]
    markdown = cli("plan", str(root), "--format", "markdown", env=env).stdout
    assert f"- {note}" in markdown.replace("\\", "")
    pruning = cli("plan", str(root), "--prune", env=env)
    assert note not in pruning.stdout and pruning.stdout.count("will be DELETED") == 2


def test_hand_edited_saved_plan_is_refused(
    cli: CliFn,
    write_manifest: Callable[..., Path],
    env: dict[str, str],
    codat: CodatClient,
    tmp_path: Path,
) -> None:
    plan_file = tmp_path / "plan.json"
    cli("plan", str(write_manifest(BASIC)), "--out", str(plan_file), env=env)
    body = json.loads(plan_file.read_text())
    body["changes"][0]["body"]["description"] = "edited by hand"
    plan_file.write_text(json.dumps(body))
    run = cli("apply", "--plan", str(plan_file), env=env)
    assert run.code == 1 and "modified after it was made" in run.stderr
    assert companies(codat) == []


def test_json_and_markdown_formats(
    cli: CliFn, write_manifest: Callable[..., Path], env: dict[str, str]
) -> None:
    root = write_manifest(BASIC)
    as_json = json.loads(cli("plan", str(root), "--format", "json", env=env).stdout)
    assert as_json["format_version"] == 1
    assert {c["action"] for c in as_json["changes"]} == {"create", "authorize"}
    auth = next(c for c in as_json["changes"] if c["action"] == "authorize")
    assert auth["after"]["authorization"]["apiToken"] == "(sensitive: env ACME_TOKEN)"
    markdown = cli("plan", str(root), "--format", "markdown", env=env).stdout
    assert markdown.startswith("<!-- codat-reconciler plan -->")


def test_merchant_targeting(
    cli: CliFn, write_manifest: Callable[..., Path], env: dict[str, str], codat: CodatClient
) -> None:
    root = write_manifest(BASIC)
    run = cli("apply", str(root), "--auto-approve", "--merchant", "10000002", env=env)
    assert run.code == 0, run
    assert [c["name"] for c in companies(codat)] == ["10000002"]
    unknown = cli("plan", str(root), "--merchant", "nobody", env=env)
    assert unknown.code == 1 and '"nobody": not declared' in unknown.stderr


def test_conflict_is_reported_with_ids_and_other_merchants_still_apply(
    cli: CliFn, write_manifest: Callable[..., Path], env: dict[str, str], codat: CodatClient
) -> None:
    a = codat.create_company({"name": "10000001"}, idempotency_key="k1")["id"]
    b = codat.create_company({"name": "10000001"}, idempotency_key="k2")["id"]
    root = write_manifest(BASIC)
    plan = cli("plan", str(root), env=env)
    assert plan.code == 1
    assert all(i in plan.stdout for i in (a, b)) and "companyId" in plan.stdout
    applied = cli("apply", str(root), "--auto-approve", env=env)
    assert applied.code == 1
    names = sorted(c["name"] for c in companies(codat))
    assert names == ["10000001", "10000001", "10000002", "10000003"]


def test_api_key_as_flag_and_plain_http_to_a_remote_host_are_refused(
    cli: CliFn, write_manifest: Callable[..., Path]
) -> None:
    root = str(write_manifest(BASIC))
    flag = cli("plan", root, "--api-key", "sk-live-123")
    assert flag.code == 1 and "never accepted as a flag" in flag.stderr
    assert "sk-live-123" not in flag.output
    remote = cli(
        "plan", root, "--base-url", "http://codat.example.com", env={"CODAT_API_KEY": "key-123456"}
    )
    assert remote.code == 1 and "plain http is only allowed to localhost" in remote.stderr
    assert "Traceback" not in flag.output + remote.output


def test_invalid_manifests_stop_plan_and_apply_before_any_call(
    cli: CliFn, write_manifest: Callable[..., Path], env: dict[str, str], codat: CodatClient
) -> None:
    root = write_manifest("version: 1\nmerchants:\n  - name: shop\n    platfromKey: dfxm\n")
    for command in ("plan", "apply"):
        run = cli(command, str(root), "--auto-approve" if command == "apply" else "-q", env=env)
        assert run.code == 1
        first = run.stderr.splitlines()[0]
        assert first.startswith(f"{root / 'merchants.yaml'}:4:5: unknown key 'platfromKey'"), first
        assert "Traceback" not in run.output
    assert companies(codat) == []


def test_unwritable_plan_file_is_a_clean_error(
    cli: CliFn, write_manifest: Callable[..., Path], env: dict[str, str], tmp_path: Path
) -> None:
    target = tmp_path / "missing-dir" / "plan.json"
    run = cli("plan", str(write_manifest(BASIC)), "--out", str(target), env=env)
    assert run.code == 1
    assert f"Error: {target}: cannot write the plan: No such file or directory" in run.stderr
    assert "Traceback" not in run.output and not target.parent.exists()


@pytest.mark.parametrize("state", ["missing-dir/x.sqlite", "not-a-db.sqlite"])
def test_unusable_sandbox_state_is_a_clean_error(
    cli: CliFn, write_manifest: Callable[..., Path], tmp_path: Path, state: str
) -> None:
    (tmp_path / "not-a-db.sqlite").write_text("hello, not SQLite\n" * 100)
    run = cli("plan", str(write_manifest(BASIC)), "--sandbox", str(tmp_path / state))
    assert run.code == 1 and "cannot open the sandbox state file" in run.stderr
    assert "Traceback" not in run.output
