"""The client-wide settings as code, end to end: the real CLI against the sandbox server."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from reconciler.codat.client import CodatClient
from tests.cli.conftest import api_calls, mutating
from tests.fixtures.cli import CliFn
from tests.fixtures.sandbox import SandboxHandle

HOOK = "https://reconciler.example.com/webhooks/codat"
OLD = "https://old.example.com/hook"
HAND = "https://made-by-hand.example.com/hook"

CLIENT = f"""\
version: 1
client:
  webhooks:
    - url: {HOOK}
      eventTypes: [connection.disconnected, company.deleted]
      companyTags: ["managed-by:codat-reconciler"]
    - url: {OLD}
      absent: true
  syncSettings:
    - dataType: commerce-orders
      fetchOnFirstLink: true
  syncFlowUi:
    text:
      en-us: {{configure-misc-nextButton: Onwards, configure-misc-previousButton: null}}
    visibleAccounts:
      gbol: [sales-accounts-sales, sales-accounts-prepaid]
merchants: []
"""


def _server(
    sandbox_server: Callable[..., SandboxHandle], *faults: str, like: SandboxHandle | None = None
) -> tuple[SandboxHandle, dict[str, str], CodatClient]:
    options: dict[str, Any] = {"faults": list(faults)}
    if like is not None:
        options.update(state_path=like.state_path, api_key=like.api_key)
    server = sandbox_server(**options)
    env = {"CODAT_BASE_URL": server.base_url, "CODAT_API_KEY": server.api_key}
    client = CodatClient(server.base_url, api_key=server.api_key, max_rate=0)
    return server, env, client


def _consumers(codat: CodatClient) -> dict[str, dict[str, Any]]:
    return {str(c["url"]): c for c in codat.list_webhook_consumers()}


def test_client_settings_converge_and_a_second_apply_writes_nothing(
    cli: CliFn, write_manifest: Callable[..., Path], sandbox_server: Callable[..., SandboxHandle]
) -> None:
    _, env, codat = _server(sandbox_server)
    with codat:
        codat.create_webhook_consumer({"url": OLD, "eventTypes": ["company.deleted"]})
        codat.create_webhook_consumer({"url": HAND, "eventTypes": ["company.deleted"]})
        root = str(write_manifest(CLIENT))

        planned = cli("plan", root, "--detailed-exitcode", env=env)
        assert planned.code == 2, planned
        assert f'+ webhook["{HOOK}"]' in planned.stdout
        assert f'- webhook["{OLD}"]' in planned.stdout
        assert '~ syncSettings["commerce-orders"]' in planned.stdout
        assert "fetchOnFirstLink: false -> true" in planned.stdout
        assert 'syncFlowUi.text["en-us"]["configure-misc-nextButton"]' in planned.stdout
        # The previous button holds Codat's default already: null asks for nothing.
        assert "configure-misc-previousButton" not in planned.stdout
        assert 'syncFlowUi.visibleAccounts["gbol"]' in planned.stdout
        assert f"never touched, with --prune or without: {HAND}" in planned.stdout

        applied = cli("apply", root, "--auto-approve", "--log-format", "json", env=env)
        assert applied.code == 0, applied
        assert sorted(mutating(applied)) == sorted(
            [
                "POST /webhooks",
                "DELETE /webhooks/" + _id_of(applied, OLD),
                "POST /profile/syncSettings",
                "PATCH /sync/commerce/config/ui/text",
                "POST /sync/commerce/config/ui/accounts/platform/gbol",
            ]
        )
        consumers = _consumers(codat)
        assert set(consumers) == {HOOK, HAND}
        assert sorted(consumers[HOOK]["eventTypes"]) == [
            "company.deleted",
            "connection.disconnected",
        ]
        assert consumers[HOOK]["companyTags"] == ["managed-by:codat-reconciler"]
        settings = {s["dataType"]: s for s in codat.sync_settings()["settings"]}
        assert settings["commerce-orders"]["fetchOnFirstLink"] is True
        # Undeclared data types and fields keep their values.
        assert settings["commerce-orders"]["syncSchedule"] == 24
        assert settings["commerce-customers"]["fetchOnFirstLink"] is False
        assert len(settings) == 11
        assert codat.sync_flow_text("en-us")["configure-misc-nextButton"] == "Onwards"
        shown = codat.visible_accounts("gbol") or []
        assert "sales-accounts-prepaid" in shown and "sales-accounts-gratuity" not in shown

        again = cli("plan", root, "--detailed-exitcode", env=env)
        assert again.code == 0, again
        assert "No changes." in again.stdout
        second = cli("apply", root, "--auto-approve", "--prune", "--log-format", "json", env=env)
        assert second.code == 0, second
        assert mutating(second) == []
        # The consumer made by hand survives --prune.
        assert HAND in _consumers(codat)


def _id_of(run: Any, url: str) -> str:
    """The id of the consumer the run's plan deleted, from its JSON records."""
    for line in run.stderr.splitlines():
        if line.startswith("{") and "DELETE" in line:
            record = json.loads(line)
            if record.get("event") == "api_call" and record.get("method") == "DELETE":
                return str(record["path"]).rsplit("/", 1)[-1]
    raise AssertionError(f"no DELETE of {url} in {run.stderr}")


def test_a_changed_consumer_is_replaced_and_an_interrupted_replace_is_finished_next_time(
    cli: CliFn, write_manifest: Callable[..., Path], sandbox_server: Callable[..., SandboxHandle]
) -> None:
    first, env, codat = _server(sandbox_server)
    with codat:
        made = codat.create_webhook_consumer({"url": HOOK, "eventTypes": ["company.deleted"]})
        root = str(write_manifest(CLIENT))
        planned = cli("plan", root, "--format", "json", env=env)
        assert planned.code == 0, planned
        (replace,) = [
            c for c in json.loads(planned.stdout)["changes"] if c["address"] == f'webhook["{HOOK}"]'
        ]
        assert replace["action"] == "replace" and replace["kind"] == "webhook"
        assert replace["reason"].startswith("companyTags and eventTypes differ")
        text = cli("plan", root, env=env)
        assert f'-/+ webhook["{HOOK}"]' in text.stdout
        assert "1 to replace" in text.stdout

        # Every POST /webhooks fails: the old consumer is deleted, its replacement is not made.
        _, broken_env, _ = _server(sandbox_server, "503:POST:/webhooks:1", like=first)
        broken = cli("apply", root, "--auto-approve", env=broken_env)
        assert broken.code == 1, broken
        assert f"consumer {made['id']} was deleted, but creating its replacement failed" in (
            broken.stdout + broken.stderr
        )
        assert "the next apply creates it" in broken.stdout + broken.stderr
        assert HOOK not in _consumers(codat)

        finished = cli("plan", root, "--detailed-exitcode", env=env)
        assert f'+ webhook["{HOOK}"]' in finished.stdout
        assert cli("apply", root, "--auto-approve", env=env).code == 0
        now = _consumers(codat)[HOOK]
        assert now["id"] != made["id"]
        assert sorted(now["eventTypes"]) == ["company.deleted", "connection.disconnected"]


def test_a_saved_plan_is_stale_once_a_client_setting_moved(
    cli: CliFn,
    write_manifest: Callable[..., Path],
    sandbox_server: Callable[..., SandboxHandle],
    tmp_path: Path,
) -> None:
    _, env, codat = _server(sandbox_server)
    plan_file = tmp_path / "plan.json"
    root = str(write_manifest(CLIENT))
    with codat:
        assert cli("plan", root, "--out", str(plan_file), env=env).code == 0
        # Someone edits a text the manifests declare between plan and apply.
        codat.update_sync_flow_text("en-us", {"configure-misc-nextButton": "Go on"})
        stale = cli("apply", "--plan", str(plan_file), env=env)
        assert stale.code == 1, stale
        assert "Codat changed since this plan was made" in stale.stderr
        assert codat.sync_flow_text("en-us")["configure-misc-nextButton"] == "Go on"
        assert _consumers(codat) == {}

        assert cli("plan", root, "--out", str(plan_file), env=env).code == 0
        done = cli("apply", "--plan", str(plan_file), env=env)
        assert done.code == 0, done
        assert codat.sync_flow_text("en-us")["configure-misc-nextButton"] == "Onwards"


def test_deleted_consumers_count_against_the_mass_deletion_guard(
    cli: CliFn, write_manifest: Callable[..., Path], sandbox_server: Callable[..., SandboxHandle]
) -> None:
    _, env, codat = _server(sandbox_server)
    with codat:
        codat.create_webhook_consumer({"url": OLD, "eventTypes": ["company.deleted"]})
        root = str(write_manifest(CLIENT))
        refused = cli("apply", root, "--auto-approve", "--max-deletes", "0", env=env)
        assert refused.code == 1, refused
        assert "this plan deletes 1 webhook consumer, more than --max-deletes 0" in refused.stderr
        assert OLD in _consumers(codat)
        assert cli("apply", root, "--auto-approve", "--max-deletes", "1", env=env).code == 0
        assert OLD not in _consumers(codat)


def test_markdown_and_json_plans_show_client_changes(
    cli: CliFn, write_manifest: Callable[..., Path], sandbox_server: Callable[..., SandboxHandle]
) -> None:
    _, env, codat = _server(sandbox_server)
    with codat:
        codat.create_webhook_consumer({"url": HOOK, "eventTypes": ["company.deleted"]})
    root = str(write_manifest(CLIENT))
    markdown = cli("plan", root, "--format", "markdown", env=env).stdout
    assert "1 to replace" in markdown
    assert f'| `-/+` | `webhook["{HOOK}"]` | replace webhook |' in markdown
    assert '| `~` | `syncSettings["commerce-orders"]` | update sync setting |' in markdown
    doc = json.loads(cli("plan", root, "--format", "json", env=env).stdout)
    kinds = {(c["kind"], c["action"]) for c in doc["changes"]}
    assert kinds == {
        ("webhook", "replace"),
        ("sync_setting", "update"),
        ("sync_flow_text", "update"),
        ("visible_accounts", "update"),
    }
    assert doc["summary"]["replace"] == 1
    setting = next(c for c in doc["changes"] if c["kind"] == "sync_setting")
    assert setting["before"] == {"fetchOnFirstLink": False}
    assert setting["after"] == {"fetchOnFirstLink": True}


def test_export_writes_the_live_client_settings_and_planning_them_changes_nothing(
    cli: CliFn,
    write_manifest: Callable[..., Path],
    sandbox_server: Callable[..., SandboxHandle],
    tmp_path: Path,
) -> None:
    _, env, codat = _server(sandbox_server)
    with codat:
        codat.create_webhook_consumer(
            {"url": HAND, "eventTypes": ["company.deleted"], "disabled": True}
        )
        codat.update_sync_flow_text("fr-fr", {"configure-misc-nextButton": "Continuer"})
    out = tmp_path / "exported"
    run = cli("export", "--out", str(out), "--client", env=env)
    assert run.code == 0, run
    text = (out / "client.yaml").read_text(encoding="utf-8")
    assert f"url: {HAND}" in text and "disabled: true" in text
    assert "dataType: commerce-orders" in text
    assert "configure-misc-nextButton: Continuer" in text
    assert "en-us" not in text  # only texts that differ from Codat's defaults
    again = cli("plan", str(out), "--detailed-exitcode", env=env)
    assert again.code == 0, again
    assert "No changes." in again.stdout


WATCHED = """\
version: 1
client:
  webhooks:
    - url: https://reconciler.example.com/webhooks/codat
      eventTypes: [connection.disconnected, company.deleted]
merchants: []
"""


def test_status_says_whether_the_consumer_watch_listens_on_exists_and_is_enabled(
    cli: CliFn, write_manifest: Callable[..., Path], sandbox_server: Callable[..., SandboxHandle]
) -> None:
    _, env, codat = _server(sandbox_server)
    root = str(write_manifest(WATCHED))
    missing = cli("status", root, env=env)
    assert missing.code == 0, missing
    assert f"watch's webhook consumer {HOOK} does not exist" in missing.stdout
    doc = json.loads(cli("status", root, "--format", "json", env=env).stdout)
    assert doc["watchConsumer"] == {"url": HOOK, "state": "missing"}

    assert cli("apply", root, "--auto-approve", env=env).code == 0
    enabled = cli("status", root, env=env)
    assert f"watch's webhook consumer {HOOK} exists and is enabled" in enabled.stdout

    with codat:
        (made,) = codat.list_webhook_consumers()
        codat.delete_webhook_consumer(str(made["id"]))
        codat.create_webhook_consumer(
            {"url": HOOK, "eventTypes": made["eventTypes"], "disabled": True}
        )
    disabled = cli("status", root, "--format", "json", env=env)
    assert json.loads(disabled.stdout)["watchConsumer"]["state"] == "disabled"
    # Merchant-only manifests make no call for it and say nothing of it.
    plain = cli("status", str(write_manifest("version: 1\nmerchants: []\n")), env=env)
    assert "webhook consumer" not in plain.stdout


def test_merchant_only_manifests_and_targeted_plans_make_no_call_for_client_settings(
    cli: CliFn, write_manifest: Callable[..., Path], sandbox_server: Callable[..., SandboxHandle]
) -> None:
    server, env, _ = _server(sandbox_server)
    merchant = 'version: 1\nmerchants:\n  - name: "40000001"\n'
    only = cli("plan", str(write_manifest(merchant)), "--log-format", "json", env=env)
    assert only.code == 0, only
    client_paths = ("/webhooks", "/profile", "/sync/commerce/config", "/clients")
    assert not [c for c in api_calls(only) if str(c["path"]).startswith(client_paths)]
    root = str(write_manifest(CLIENT.replace("merchants: []\n", merchant.split("\n", 1)[1])))
    targeted = cli("plan", root, "--merchant", "40000001", "--log-format", "json", env=env)
    assert targeted.code == 0, targeted
    assert not [c for c in api_calls(targeted) if str(c["path"]).startswith(client_paths)]
    assert "webhook[" not in targeted.stdout
    whole = cli("plan", root, "--log-format", "json", env=env)
    assert [c for c in api_calls(whole) if str(c["path"]).startswith(client_paths)]
    for run in (only, targeted, whole):
        assert server.api_key not in run.stdout + run.stderr


def test_a_consumer_declared_absent_is_shown_as_a_delete_without_the_company_warning(
    cli: CliFn, write_manifest: Callable[..., Path], sandbox_server: Callable[..., SandboxHandle]
) -> None:
    _, env, codat = _server(sandbox_server)
    with codat:
        codat.create_webhook_consumer({"url": OLD, "eventTypes": ["company.deleted"]})
    text = cli("plan", str(write_manifest(CLIENT)), env=env).stdout
    assert f'- webhook["{OLD}"]  (delete webhook: declared absent)' in text
    assert "will be DELETED" not in text
    assert "Plan: 1 to create, 3 to update, 0 to authorize, 0 to unlink, 1 to delete." in text
