"""The merchant lifecycle end to end: adopt, rotate, access lost, prune, export, sync-url."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from reconciler.codat.client import CodatClient
from tests.cli.conftest import BASIC, assert_no_secret, companies, mutating
from tests.fixtures.cli import CliFn

ONE = """\
version: 1
merchants:
  - name: "20000001"
    description: Adopted Ltd
    connections:
      - platformKey: dfxm
        authorization: {apiToken: {env: ACME_TOKEN}}
"""


def applied(cli: CliFn, root: Path, env: dict[str, str], *extra: str) -> None:
    run = cli("apply", str(root), "--auto-approve", *extra, env=env)
    assert run.code == 0, run


def test_existing_company_is_adopted_with_one_patch_never_recreated(
    cli: CliFn, write_manifest: Callable[..., Path], env: dict[str, str], codat: CodatClient
) -> None:
    existing = codat.create_company(
        {"name": "20000001", "description": "Adopted Ltd", "tags": {"crm": "x1"}},
        idempotency_key="k-existing",
    )
    root = write_manifest("""\
        version: 1
        merchants:
          - name: "20000001"
            description: Adopted Ltd
        """)
    plan = cli("plan", str(root), env=env)
    assert "adopt: existing company taken under management" in plan.stdout
    assert "Plan: 0 to create, 1 to update" in plan.stdout
    run = cli("apply", str(root), "--auto-approve", "--log-format", "json", env=env)
    assert run.code == 0, run
    assert mutating(run) == [f"PATCH /companies/{existing['id']}"]
    (company,) = companies(codat)
    assert company["tags"] == {"crm": "x1", "managed-by": "codat-reconciler"}


def test_rotated_secret_reauthorizes_exactly_that_connection(
    cli: CliFn, write_manifest: Callable[..., Path], env: dict[str, str], codat: CodatClient
) -> None:
    root = write_manifest(BASIC)
    applied(cli, root, env)
    rotated = {**env, "BOLT_TOKEN": "bolt-secret-token-ROTATED"}
    plan = cli("plan", str(root), env=rotated)
    assert plan.code == 0
    assert (
        '! merchant["10000002"].connection["dfxm"]' in plan.stdout
        and "declared credentials changed since last applied" in plan.stdout
    )
    assert 'merchant["10000001"].connection' not in plan.stdout
    run = cli("apply", str(root), "--auto-approve", "--log-format", "json", env=rotated)
    assert run.code == 0, run
    bolt = next(c for c in companies(codat) if c["name"] == "10000002")
    conn_id = bolt["dataConnections"][0]["id"]
    assert mutating(run) == [
        f"PUT /companies/{bolt['id']}/connections/{conn_id}/authorization",
        f"PATCH /companies/{bolt['id']}",  # the new fingerprint, recorded after it went through
    ]
    assert cli("plan", str(root), "--detailed-exitcode", env=rotated).code == 0
    assert_no_secret(run, "bolt-secret-token-ROTATED")
    # The fingerprint stored in Codat is not the secret, nor a plain hash of it.
    tag = bolt["tags"]["codat-reconciler-auth"]
    assert "bolt" not in tag.lower() and len(tag) < 40


def test_plan_without_secrets_still_works_and_says_what_it_could_not_check(
    cli: CliFn, write_manifest: Callable[..., Path], env: dict[str, str]
) -> None:
    root = write_manifest(BASIC)
    applied(cli, root, env)
    no_secrets = {"ACME_TOKEN": None, "BOLT_TOKEN": None}
    run = cli("plan", str(root), "--detailed-exitcode", env=no_secrets)
    assert run.code == 0, run
    assert (
        "could not check for changed credentials: environment variable ACME_TOKEN is not set"
        in run.stdout
    )


def test_deauthorized_connection_is_brought_back(
    cli: CliFn, write_manifest: Callable[..., Path], env: dict[str, str], codat: CodatClient
) -> None:
    root = write_manifest(ONE)
    applied(cli, root, env)
    (company,) = companies(codat)
    conn_id = company["dataConnections"][0]["id"]
    codat.update_connection(
        company["id"], conn_id, {"status": "Deauthorized"}, idempotency_key="k-deauth"
    )
    plan = cli("plan", str(root), env=env)
    assert "connection is Deauthorized (access lost)" in plan.stdout
    applied(cli, root, env)
    (company,) = companies(codat)
    assert [c["status"] for c in company["dataConnections"]] == ["Linked"]


def test_unlinked_connection_is_replaced_by_a_new_one(
    cli: CliFn, write_manifest: Callable[..., Path], env: dict[str, str], codat: CodatClient
) -> None:
    root = write_manifest(ONE)
    applied(cli, root, env)
    (company,) = companies(codat)
    old = company["dataConnections"][0]["id"]
    codat.update_connection(company["id"], old, {"status": "Unlinked"}, idempotency_key="k-u")
    applied(cli, root, env)
    (company,) = companies(codat)
    statuses = {c["id"]: c["status"] for c in company["dataConnections"]}
    assert statuses[old] == "Unlinked"
    assert sorted(statuses.values()) == ["Linked", "Unlinked"]


def test_prune_refused_by_the_guard_then_carried_out(
    cli: CliFn, write_manifest: Callable[..., Path], env: dict[str, str], codat: CodatClient
) -> None:
    root = write_manifest(BASIC)
    applied(cli, root, env)
    codat.create_company({"name": "not-ours"}, idempotency_key="k-foreign")
    (root / "merchants.yaml").write_text("version: 1\nmerchants: []\n")

    refused = cli("apply", str(root), "--auto-approve", "--prune", "--log-format", "json", env=env)
    assert refused.code == 1 and "declare no merchants" in refused.stderr
    # The refused plan is shown first, so a reviewer sees what it would have deleted.
    assert refused.stdout.count("will be DELETED") == 3 and "Apply" not in refused.stdout
    assert len(companies(codat)) == 4 and mutating(refused) == []
    plan_file = root.parent / "plan.json"
    for fmt, shown in (
        ("text", "will be DELETED"),
        ("json", '"action": "delete"'),
        ("markdown", "This plan DELETES 3 companies"),
    ):
        limited = cli(
            "plan",
            str(root),
            "--prune",
            "--max-deletes",
            "2",
            "--format",
            fmt,
            "--out",
            str(plan_file),
            env=env,
        )
        assert limited.code == 1, limited
        assert "deletes 3 companies, more than --max-deletes 2" in limited.stderr
        assert shown in limited.stdout and not plan_file.exists()  # shown, never saved

    plan = cli("plan", str(root), "--prune", "--max-deletes", "3", env=env)
    assert plan.code == 0 and plan.stdout.count("will be DELETED") == 3
    applied(cli, root, env, "--prune", "--max-deletes", "3")
    assert [c["name"] for c in companies(codat)] == ["not-ours"]


def test_prune_unlinks_only_the_connections_the_tool_made(
    cli: CliFn, write_manifest: Callable[..., Path], env: dict[str, str], codat: CodatClient
) -> None:
    root = write_manifest(ONE + "      - platformKey: lqai\n")
    applied(cli, root, env)  # the tool creates dfxm (authorized) and lqai (left to the merchant)
    (company,) = companies(codat)
    # The merchant links their accounting software through the sync flow.
    flow = f"/_sandbox/companies/{company['id']}/sync-flow/complete"
    assert codat.request("POST", flow, json={"accountingKey": "gbol"}).status_code == 200
    write_manifest(ONE)  # lqai is no longer declared

    plan = cli("plan", str(root), "--prune", env=env)
    assert plan.code == 0, plan
    assert '- merchant["20000001"].connection["lqai"]' in plan.stdout
    assert "Plan: 0 to create, 0 to update, 0 to authorize, 1 to unlink" in plan.stdout
    assert (
        'merchant["20000001"].connection["gbol"]: connection gbol was made by the '
        "merchant, not by this tool: left alone"
    ) in plan.stdout
    run = cli("apply", str(root), "--auto-approve", "--prune", "--log-format", "json", env=env)
    assert run.code == 0, run
    lqai = next(c for c in company["dataConnections"] if c["integrationKey"] == "lqai")
    assert mutating(run) == [
        f"PATCH /companies/{company['id']}/connections/{lqai['id']}",
        f"PATCH /companies/{company['id']}",  # lqai leaves the tool's record
    ]
    (company,) = companies(codat)
    by_key = {c["integrationKey"]: c["status"] for c in company["dataConnections"]}
    assert by_key == {"dfxm": "Linked", "lqai": "Unlinked", "gbol": "Linked"}
    again = cli("apply", str(root), "--auto-approve", "--prune", "--log-format", "json", env=env)
    assert again.code == 0 and mutating(again) == []
    assert "connection gbol was made by the merchant" in again.stdout


def test_export_then_plan_shows_no_changes(
    cli: CliFn, write_manifest: Callable[..., Path], env: dict[str, str], tmp_path: Path
) -> None:
    root = write_manifest(BASIC)
    applied(cli, root, env)
    out = tmp_path / "exported"
    run = cli("export", "--out", str(out), env=env)
    assert run.code == 0, run
    text = (out / "merchants-0001.yaml").read_text()
    assert "AUTH_10000001_DFXM_APITOKEN" in text
    assert_no_secret(run, text)
    plan = cli("plan", str(out), "--detailed-exitcode", env=env)
    assert plan.code == 0, plan
    assert "No changes." in plan.stdout


def test_sync_url_is_fresh_and_names_the_company(
    cli: CliFn, write_manifest: Callable[..., Path], env: dict[str, str], codat: CodatClient
) -> None:
    root = write_manifest(BASIC)
    applied(cli, root, env)
    company_id = next(c["id"] for c in companies(codat) if c["name"] == "10000001")
    first = cli("sync-url", str(root), "--merchant", "10000001", env=env)
    second = cli("sync-url", str(root), "--merchant", "10000001", env=env)
    assert first.code == 0, first
    url = urlparse(first.stdout.strip())
    query = parse_qs(url.query)
    assert query["merchantIdentifier"] == [company_id]
    assert query["redirectUrl"] == ["https://app.example.com/done"]
    assert "/lqai/gbol/start" in url.path
    assert first.stdout != second.stdout  # a fresh one-time code each time
    missing = cli("sync-url", str(root), "--merchant", "nobody", env=env)
    assert missing.code == 1


def test_export_of_a_base_made_by_hand_adopts_it_in_one_apply(
    cli: CliFn, env: dict[str, str], codat: CodatClient, tmp_path: Path
) -> None:
    made = codat.create_company(
        {"name": "30000001", "description": "Made by hand", "tags": {"crm": "77"}},
        idempotency_key="k-hand",
    )
    conn = codat.create_connection(made["id"], "dfxm", idempotency_key="k-hand-conn")
    codat.authorize_connection(made["id"], conn["id"], {"apiToken": "set-by-hand-secret"})
    out = tmp_path / "exported"
    assert cli("export", "--out", str(out), env=env).code == 0
    plan = cli("plan", str(out), env=env)
    # The only change: the ownership tag. Nothing is recreated or re-authorized
    # (its credentials, never exported, are unset placeholders: noted, not sent).
    assert "Plan: 0 to create, 1 to update, 0 to authorize" in plan.stdout, plan
    assert "adopt: existing company taken under management" in plan.stdout
    assert "AUTH_30000001_DFXM_APITOKEN is not set" in plan.stdout
    run = cli("apply", str(out), "--auto-approve", "--log-format", "json", env=env)
    assert mutating(run) == [f"PATCH /companies/{made['id']}"]
    assert cli("plan", str(out), "--detailed-exitcode", env=env).code == 0
