"""`export`: no silent overwrite, no unknown merchant, and a `$schema` line editors can follow."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from urllib.parse import unquote, urlparse

from reconciler.cli.export import schema_reference
from reconciler.codat.client import CodatClient
from tests.cli.conftest import BASIC
from tests.fixtures.cli import CliFn

REPO = Path(__file__).resolve().parents[2]
MODELINE = re.compile(r"# yaml-language-server: \$schema=(\S+)\n")


def applied_world(cli: CliFn, write_manifest: Callable[..., Path], env: dict[str, str]) -> None:
    assert cli("apply", str(write_manifest(BASIC)), "--auto-approve", env=env).code == 0


def schema_of(manifest: Path) -> str:
    found = MODELINE.match(manifest.read_text())
    assert found, manifest.read_text()[:200]
    return found.group(1)


def test_existing_files_are_never_replaced_without_force(
    cli: CliFn, write_manifest: Callable[..., Path], env: dict[str, str], tmp_path: Path
) -> None:
    applied_world(cli, write_manifest, env)
    out = tmp_path / "exported"
    assert cli("export", "--out", str(out), env=env).code == 0
    written = out / "merchants-0001.yaml"
    written.write_text(written.read_text() + "# reviewed by Sam\n")
    refused = cli("export", "--out", str(out), env=env)
    assert refused.code == 1, refused
    assert f"{out}: merchants-0001.yaml, client.yaml already exist" in refused.stderr
    assert "nothing was written" in refused.stderr and "--force" in refused.stderr
    assert written.read_text().endswith("# reviewed by Sam\n")
    (out / "merchants-0002.yaml").write_text("version: 1\nmerchants: []\n")  # an older export
    forced = cli("export", "--out", str(out), "--force", env=env)
    assert forced.code == 0, forced
    assert "reviewed by Sam" not in written.read_text()
    assert f"{out / 'merchants-0002.yaml'} is from an earlier export" in forced.stderr


def test_force_needs_out(cli: CliFn, env: dict[str, str]) -> None:
    run = cli("export", "--force", env=env)
    assert run.code == 1 and "--force only applies with --out" in run.stderr, run


def test_an_unknown_merchant_is_an_error_and_nothing_is_written(
    cli: CliFn, write_manifest: Callable[..., Path], env: dict[str, str], tmp_path: Path
) -> None:
    applied_world(cli, write_manifest, env)
    out = tmp_path / "exported"
    run = cli("export", "--out", str(out), "--merchant", "10000001", "--merchant", "NOPE", env=env)
    assert run.code == 1, run
    assert '--merchant "NOPE": no company of that name in Codat' in run.stderr
    assert "10000001" not in run.stderr and "Traceback" not in run.output
    assert not out.exists()
    to_stdout = cli("export", "--merchant", "NOPE", env=env)
    assert to_stdout.code == 1 and to_stdout.stdout == "", to_stdout


def test_schema_reference_is_relative_inside_a_checkout_holding_the_schema(
    cli: CliFn, write_manifest: Callable[..., Path], env: dict[str, str], tmp_path: Path
) -> None:
    applied_world(cli, write_manifest, env)
    checkout = tmp_path / "merchants-repo"
    (checkout / ".git").mkdir(parents=True)
    (checkout / "schemas").mkdir()
    (checkout / "schemas" / "manifest.schema.json").write_text("{}")
    out = checkout / "manifests" / "exported"
    assert cli("export", "--out", str(out), env=env).code == 0
    reference = schema_of(out / "merchants-0001.yaml")
    assert reference == "../../schemas/manifest.schema.json"
    # Editors resolve it against the file's own folder.
    assert (out / reference).resolve() == (checkout / "schemas" / "manifest.schema.json")


def test_this_repository_gets_a_relative_reference_from_any_depth() -> None:
    schema = REPO / "schemas" / "manifest.schema.json"
    for out in (REPO / "manifests", REPO / "manifests" / "exported" / "eu"):
        reference = schema_reference(out)
        assert not reference.startswith("file:")
        assert (out / reference).resolve() == schema.resolve()


def test_schema_reference_outside_a_checkout_is_the_installed_schema(
    cli: CliFn, write_manifest: Callable[..., Path], env: dict[str, str], tmp_path: Path
) -> None:
    applied_world(cli, write_manifest, env)
    lone = tmp_path / "no checkout here"  # a space: the modeline ends at whitespace
    (lone / ".git").mkdir(parents=True)  # a checkout without the schema: its root stops the search
    assert cli("export", "--out", str(lone), env=env).code == 0
    printed = cli("export", env=env).stdout  # stdout: where it lands is unknown
    on_stdout = MODELINE.match(printed)
    assert on_stdout, printed[:200]
    installed = resources.files("reconciler.schemas").joinpath("manifest.schema.json")
    for reference in (schema_of(lone / "merchants-0001.yaml"), on_stdout.group(1)):
        assert reference.startswith("file:///"), reference
        path = Path(unquote(urlparse(reference).path))
        assert json.loads(path.read_text()) == json.loads(installed.read_text())


def test_a_name_validate_would_refuse_is_exported_with_a_warning(
    cli: CliFn, env: dict[str, str], codat: CodatClient, tmp_path: Path
) -> None:
    """Codat allows "acme " (any whitespace); the manifests do not. Exported all the
    same, never left out in silence, and said before `validate` says it."""
    odd = codat.create_company({"name": "acme "}, idempotency_key="k-odd")
    codat.create_company({"name": "acme"}, idempotency_key="k-plain")
    out = tmp_path / "exported"
    run = cli("export", "--out", str(out), env=env)
    assert run.code == 0, run
    assert f"merchants-0001.yaml: company {odd['id']}: name 'acme ' ends with a space" in run.stderr
    assert "Wrote 2 files to" in run.stderr and "(2 merchants)" in run.stderr  # and client.yaml
    checked = cli("validate", str(out), env=env)
    assert checked.code == 1 and "ends with a space" in checked.stderr, checked
