"""`apply --plan FILE` refuses a plan that no longer fits, and says why: the real CLI."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from reconciler.codat.client import CodatClient
from tests.cli.conftest import BASIC, api_calls, assert_no_secret, companies, mutating
from tests.fixtures.cli import CliFn


def planned(cli: CliFn, root: Path, env: dict[str, str], plan_file: Path) -> None:
    made = cli("plan", str(root), "--out", str(plan_file), env=env)
    assert made.code == 0, made


def test_a_secret_changed_after_the_plan_refuses_the_whole_plan(
    cli: CliFn,
    write_manifest: Callable[..., Path],
    env: dict[str, str],
    codat: CodatClient,
    tmp_path: Path,
) -> None:
    root, plan_file = write_manifest(BASIC), tmp_path / "plan.json"
    planned(cli, root, env, plan_file)
    changed = {**env, "BOLT_TOKEN": "bolt-secret-token-CHANGED"}
    run = cli("apply", "--plan", str(plan_file), "--log-format", "json", env=changed)
    assert run.code == 1, run
    (error,) = [
        json.loads(line)["message"] for line in run.stderr.splitlines() if '"event":"error"' in line
    ]
    assert (
        'merchant["10000002"].connection["dfxm"]: the secret env BOLT_TOKEN changed since this '
        "plan was made: make a new plan"
    ) in error
    assert "refusing the whole plan; nothing was changed" in error
    assert "10000001" not in error  # its secret did not change
    assert companies(codat) == [] and api_calls(run) == []  # refused before any call
    assert_no_secret(run, "bolt-secret-token-CHANGED")


def test_a_secret_rotated_twice_is_caught_on_a_linked_connection_too(
    cli: CliFn,
    write_manifest: Callable[..., Path],
    env: dict[str, str],
    codat: CodatClient,
    tmp_path: Path,
) -> None:
    root, plan_file = write_manifest(BASIC), tmp_path / "plan.json"
    assert cli("apply", str(root), "--auto-approve", env=env).code == 0
    rotated = {**env, "ACME_TOKEN": "acme-secret-token-ROTATED"}
    planned(cli, root, rotated, plan_file)
    again = {**env, "ACME_TOKEN": "acme-secret-token-AGAIN"}
    run = cli("apply", "--plan", str(plan_file), "--log-format", "json", env=again)
    assert run.code == 1 and "the secret env ACME_TOKEN changed" in run.stderr, run
    assert mutating(run) == []
    done = cli("apply", "--plan", str(plan_file), env=rotated)
    assert done.code == 0, done
    assert cli("plan", str(root), "--detailed-exitcode", env=rotated).code == 0


def test_a_changed_fingerprint_key_refuses_the_plan(
    cli: CliFn,
    write_manifest: Callable[..., Path],
    env: dict[str, str],
    codat: CodatClient,
    tmp_path: Path,
) -> None:
    root, plan_file = write_manifest(BASIC), tmp_path / "plan.json"
    planned(cli, root, {**env, "CODAT_RECONCILER_KEY": "k" * 64}, plan_file)
    run = cli("apply", "--plan", str(plan_file), env={**env, "CODAT_RECONCILER_KEY": "j" * 64})
    assert run.code == 1
    assert "CODAT_RECONCILER_KEY changed since this plan was made" in run.stderr
    assert companies(codat) == []


def test_an_applied_plan_applied_again_says_so(
    cli: CliFn,
    write_manifest: Callable[..., Path],
    env: dict[str, str],
    codat: CodatClient,
    tmp_path: Path,
) -> None:
    root, plan_file = write_manifest(BASIC), tmp_path / "plan.json"
    planned(cli, root, env, plan_file)
    assert cli("apply", "--plan", str(plan_file), env=env).code == 0
    again = cli("apply", "--plan", str(plan_file), "--log-format", "json", env=env)
    assert again.code == 1 and mutating(again) == []
    assert (
        "this plan was already applied: Codat matches the manifests it was made from"
        in again.stderr
    )
    assert "Codat changed" not in again.stderr


def test_a_plan_for_another_codat_is_refused_before_any_call(
    cli: CliFn, write_manifest: Callable[..., Path], env: dict[str, str], tmp_path: Path
) -> None:
    root, plan_file = write_manifest(BASIC), tmp_path / "plan.json"
    planned(cli, root, env, plan_file)
    other = tmp_path / "other.sqlite"
    run = cli(
        "apply",
        "--plan",
        str(plan_file),
        "--log-format",
        "json",
        env={**env, "CODAT_SANDBOX": str(other)},
    )
    assert run.code == 1 and api_calls(run) == []
    assert (
        f"this plan was made for embedded sandbox {Path(env['CODAT_SANDBOX']).resolve()}, "
        f"not embedded sandbox {other.resolve()}; nothing was changed"
    ) in run.stderr


def test_a_plan_applied_from_another_folder_reads_the_manifests_where_they_were(
    cli: CliFn,
    env: dict[str, str],
    codat: CodatClient,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made_in, elsewhere = tmp_path / "repo", tmp_path / "elsewhere"
    (made_in / "m").mkdir(parents=True)
    elsewhere.mkdir()
    (made_in / "m" / "merchants.yaml").write_text(BASIC)
    monkeypatch.chdir(made_in)
    planned(cli, Path("m"), env, tmp_path / "plan.json")

    monkeypatch.chdir(elsewhere)
    run = cli("apply", "--plan", str(tmp_path / "plan.json"), env=env)
    assert run.code == 0, run
    assert len(companies(codat)) == 3


def test_a_plan_whose_manifests_are_nowhere_says_where_to_run_it(
    cli: CliFn,
    env: dict[str, str],
    codat: CodatClient,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made_in = tmp_path / "repo"
    (made_in / "m").mkdir(parents=True)
    (made_in / "m" / "merchants.yaml").write_text(BASIC)
    monkeypatch.chdir(made_in)
    planned(cli, Path("m"), env, tmp_path / "plan.json")
    moved = tmp_path / "moved"
    shutil.move(made_in, moved)  # e.g. a CI workspace cleaned up between jobs

    monkeypatch.chdir(tmp_path)
    run = cli("apply", "--plan", str(tmp_path / "plan.json"), env=env)
    assert run.code == 1
    assert (
        f"the manifests this plan was made from (m) are not here; run apply --plan from "
        f"the folder the plan was made in ({made_in}), or make a new plan"
    ) in run.stderr
    assert "Traceback" not in run.output and companies(codat) == []
    # The same checkout somewhere else is as good: paths are relative to the folder.
    monkeypatch.chdir(moved)
    assert cli("apply", "--plan", str(tmp_path / "plan.json"), env=env).code == 0
