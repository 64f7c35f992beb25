"""Re-authorization reasons through the real CLI: a changed key is not a changed secret."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from reconciler.codat.client import CodatClient
from reconciler.credentials import key_id
from tests.cli.conftest import BASIC, companies, mutating
from tests.fixtures.cli import CliFn

KEY_ONE, KEY_TWO = "1" * 64, "2" * 64
KEY_CHANGED = "CODAT_RECONCILER_KEY changed since the fingerprints were written"
SECRET_CHANGED = "declared credentials changed since last applied"


def test_a_changed_key_and_a_rotated_secret_are_told_apart(
    cli: CliFn, write_manifest: Callable[..., Path], env: dict[str, str], codat: CodatClient
) -> None:
    root = write_manifest(BASIC)
    one, two = {**env, "CODAT_RECONCILER_KEY": KEY_ONE}, {**env, "CODAT_RECONCILER_KEY": KEY_TWO}
    assert cli("apply", str(root), "--auto-approve", env=one).code == 0

    new_key = cli("plan", str(root), env=two)
    assert new_key.stdout.count(KEY_CHANGED) == 2, new_key  # both authorized connections
    assert SECRET_CHANGED not in new_key.stdout
    assert "Plan: 0 to create, 0 to update, 2 to authorize" in new_key.stdout
    applied = cli("apply", str(root), "--auto-approve", "--log-format", "json", env=two)
    assert applied.code == 0 and len(mutating(applied)) == 4  # a PUT and its record, twice
    tags = {c["name"]: c["tags"].get("codat-reconciler-auth", "") for c in companies(codat)}
    assert tags["10000001"].startswith(f"@{key_id(KEY_TWO.encode())},dfxm:")

    rotated = cli("plan", str(root), env={**two, "BOLT_TOKEN": "bolt-secret-token-ROTATED"})
    assert rotated.stdout.count(SECRET_CHANGED) == 1 and KEY_CHANGED not in rotated.stdout
    assert '! merchant["10000002"].connection["dfxm"]' in rotated.stdout
    # The credentials show as changed as a whole; no field is claimed changed (storeId was not).
    assert (
        "authorization: (sensitive: last applied) -> the declared credentials, sent as a "
        "whole:" in rotated.stdout
    )
    assert "  apiToken: (sensitive: env BOLT_TOKEN)" in rotated.stdout
    assert "->" not in rotated.stdout.split("sent as a whole:")[1].split("companyTags")[0]
