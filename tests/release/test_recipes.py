"""The GitHub workflows users copy (examples/ci/github/) and the release workflow: they run,
and they pass a security review.

The recipes' jobs run step by step on the runner of tests/release/github_runner.py:
`actions/checkout` is played by the workspace holding the example manifests,
`actions/setup-python` by putting this Python first on PATH, and every use of
codat-reconciler's action runs action.yml itself with the step's `with:` and `env:`
(secrets from a fake secret store), against the embedded sandbox.

The review is zizmor's (offline: no GitHub API) and GitHub's own JSON schemas for
workflows and actions (check-jsonschema's vendored copies), with a check that each linter,
as called here, does catch what it is asked about.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler import __version__, engine
from reconciler.render.markdown import MARKER
from tests.release.conftest import BIN, ROOT, clean_env
from tests.release.github_runner import EXPRESSION, FakeGitHub, Runner, serving

RECIPES = sorted((ROOT / "examples" / "ci" / "github").glob("*.yml"))
WORKFLOWS = [*RECIPES, *sorted((ROOT / ".github" / "workflows").glob("*.yml"))]
ACTION_FILE = ROOT / "action.yml"
SECRETS = {
    "CODAT_API_KEY": "",
    "CODAT_RECONCILER_KEY": "recipe-fingerprint-key-5501",
    "ACME_DFXM_TOKEN": "recipe-secret-acme-5502",
    "BOLT_DFXM_TOKEN": "recipe-secret-bolt-5503",
}

# The third-party actions, each pinned to the commit its release tag points at (read from
# the actions' repositories). One version of each everywhere: an update is made once.
PINS = {
    "actions/checkout": ("11bd71901bbe5b1630ceea73d27597364c9af683", "v4.2.2"),
    "actions/setup-python": ("0b93645e9fea7318ecaed2b359559ac225c90a2b", "v5.3.0"),
    "actions/upload-artifact": ("ea165f8d65b6e75b540449e92b4886f43607fa02", "v4.6.2"),
    "actions/download-artifact": ("d3f86a106a0bac45b974a628896c90dbdf5c8093", "v4.3.0"),
    "pypa/gh-action-pypi-publish": ("81e9d935c883d0b210363ab89cf05f3894778450", "v1.8.14"),
}
OURS = "codat-reconciler/codat-reconciler"
# The commit of a release cannot be written into that same commit: the recipes hold this
# placeholder, a well-formed SHA no repository has, so a copy used without putting the
# release's SHA in its place fails at once ("unable to resolve action") rather than run
# something unpinned. The comment beside it names the release.
PLACEHOLDER = "0" * 40
USES = re.compile(r"^\s*(?:- )?uses: (\S+)@(\S+)(?: # (\S+))?\s*$")


def uses_lines(path: Path) -> list[tuple[str, str, str | None]]:
    """(action, ref, the version in the comment) for each `uses:` line."""
    found = []
    for line in path.read_text().splitlines():
        if "uses:" in line and not line.lstrip().startswith("#"):
            matched = USES.match(line)
            assert matched, f"{path.name}: a `uses:` not in the form action@ref # version: {line}"
            found.append((matched[1], matched[2], matched[3]))
    return found


def jobs(path: Path) -> dict[str, Any]:
    found: dict[str, Any] = yaml.safe_load(path.read_text())["jobs"]
    return found


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_uses_is_pinned_to_a_full_commit_sha_with_its_version(path: Path) -> None:
    for action, ref, version in uses_lines(path):
        assert re.fullmatch("[0-9a-f]{40}", ref), f"{path.name}: {action}@{ref}"
        if action == OURS:
            assert (ref, version) == (PLACEHOLDER, f"v{__version__}"), path.name
        else:
            assert (ref, version) == PINS[action], f"{path.name}: {action}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_checkout_never_persists_credentials(path: Path) -> None:
    for job in jobs(path).values():
        for step in job["steps"]:
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False, path.name


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_permissions_are_the_least_each_job_needs(path: Path) -> None:
    doc = yaml.safe_load(path.read_text())
    assert doc["permissions"] == {}, "nothing by default: each job says what it needs"
    for name, job in doc["jobs"].items():
        granted = job["permissions"]
        assert isinstance(granted, dict) and "write-all" not in str(granted)
        uses = " ".join(s.get("uses", "") for s in job["steps"])
        needs = {"contents": "read"} if "actions/checkout@" in uses else {}
        triggers = doc[True]  # YAML 1.1 reads the key `on` as true
        if "command: plan" in yaml.safe_dump(job) and "pull_request" in triggers:
            needs["pull-requests"] = "write"  # the plan comment
        if "pypa/gh-action-pypi-publish@" in uses:
            needs["id-token"] = "write"  # trusted publishing
        if "docker push" in yaml.safe_dump(job):
            needs["packages"] = "write"
        assert granted == needs, f"{path.name}: job {name}"


@pytest.mark.parametrize("path", RECIPES, ids=lambda p: p.name)
def test_secrets_come_from_the_secret_store_and_only_to_the_steps_that_call_codat(
    path: Path,
) -> None:
    for job in jobs(path).values():
        assert "env" not in job  # not in checkout's or setup-python's environment
        for step in job["steps"]:
            for name, value in step.get("env", {}).items():
                assert value == f"${{{{ secrets.{name} }}}}", f"{path.name}: {name}"
                assert step["uses"].startswith(OURS + "@") and step["with"]["command"] != "validate"


def zizmor(*paths: Path) -> list[dict[str, Any]]:
    """zizmor's findings of medium or high severity, offline."""
    done = subprocess.run(
        [
            BIN / "zizmor",
            "--offline",
            "--no-progress",
            "--format",
            "json",
            "--min-severity",
            "medium",
            *paths,
        ],
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=120,
    )
    assert done.returncode in (0, 11, 12, 13, 14), done.stderr  # 1x: findings, by severity
    findings: list[dict[str, Any]] = json.loads(done.stdout)
    return findings


def test_zizmor_finds_nothing_medium_or_high() -> None:
    findings = zizmor(*WORKFLOWS, ACTION_FILE)
    assert findings == [], [(f["ident"], f["locations"][0]["symbolic"]["key"]) for f in findings]


def test_zizmor_as_called_here_catches_a_mutable_tag_and_persisted_credentials(
    tmp_path: Path,
) -> None:
    unsafe = tmp_path / "unsafe.yml"
    unsafe.write_text(
        RECIPES[0]
        .read_text()
        .replace(f"actions/checkout@{PINS['actions/checkout'][0]}", "actions/checkout@v4")
        .replace("        with:\n          persist-credentials: false\n", "")
    )
    assert {f["ident"] for f in zizmor(unsafe)} == {"unpinned-uses", "artipacked"}


def check_jsonschema(schema: str, *paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [BIN / "check-jsonschema", "--builtin-schema", schema, *paths],
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=120,
    )


def test_workflows_and_the_action_follow_githubs_schemas(tmp_path: Path) -> None:
    workflows = check_jsonschema("vendor.github-workflows", *WORKFLOWS)
    assert workflows.returncode == 0, workflows.stdout + workflows.stderr
    action = check_jsonschema("vendor.github-actions", ACTION_FILE)
    assert action.returncode == 0, action.stdout + action.stderr
    broken = tmp_path / "broken.yml"  # `runs-on` misspelt: the schema must catch it
    broken.write_text(RECIPES[0].read_text().replace("runs-on:", "run-on:"))
    assert check_jsonschema("vendor.github-workflows", broken).returncode == 1


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with serving(FakeGitHub()) as fake:
        yield fake


def run_job(path: Path, runner: Runner, event_name: str) -> list[Any]:
    """The workflow's one job, step by step; stops at the first failed step, as GitHub
    does. Returns each codat-reconciler step's result."""
    (job,) = jobs(path).values()
    results = []
    for step in job["steps"]:
        action = step["uses"].split("@")[0]
        if action == "actions/checkout":
            continue  # the runner's workspace holds the repository's manifests already
        if action == "actions/setup-python":
            assert step["with"]["python-version"] == "3.11"
            continue  # this Python is first on the runner's PATH
        assert action == OURS, f"{path.name}: a step this test cannot play: {step}"
        env = {k: resolve_secret(v) for k, v in step.get("env", {}).items()}
        given = {
            k: str(v).lower() if isinstance(v, bool) else str(v)
            for k, v in step.get("with", {}).items()
        }
        results.append(runner.run(event_name, env, **given))
        if results[-1].failed:
            break
    return results


def resolve_secret(value: str) -> str:
    matched = EXPRESSION.fullmatch(value)
    assert matched and matched[1].startswith("secrets."), value
    return SECRETS[matched[1].removeprefix("secrets.")]


@pytest.mark.slow
def test_github_recipes_plan_then_apply_then_drift_check(
    tmp_path: Path, sandbox_path: Path, checkout: Path, runner_temp: Path, github: FakeGitHub
) -> None:
    workspace = tmp_path / "workspace"
    shutil.copytree(ROOT / "manifests", workspace / "manifests")
    path = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")
    env = clean_env(CODAT_SANDBOX=str(sandbox_path), PATH=path)
    runner = Runner(workspace, runner_temp, checkout, env, github)
    by_name = {p.name: p for p in RECIPES}

    validated, planned = run_job(by_name["codat-plan.yml"], runner, "pull_request")
    assert not planned.failed, planned.log
    assert planned.outputs["has-changes"] == "true" and "OK:" in validated.summary
    (comment,) = github.comments
    assert comment.body.startswith(MARKER) and comment.body == planned.summary

    _, applied = run_job(by_name["codat-apply.yml"], runner, "push")
    assert not applied.failed and "Apply complete" in applied.summary, applied.log

    (quiet,) = run_job(by_name["codat-drift.yml"], runner, "schedule")
    assert not quiet.failed and quiet.outputs["exitcode"] == "0", quiet.log
    with engine.connect(engine.Target.embedded_sandbox(sandbox_path)) as codat:
        # A merchant that declares its description (20000002 leaves it alone: no drift).
        (company,) = [c for c in codat.list_companies(1, 100).results if c["name"] == "10000001"]
        codat.update_company(
            company["id"], {"description": "edited by hand"}, idempotency_key="drift-1"
        )
    (drifted,) = run_job(by_name["codat-drift.yml"], runner, "schedule")
    assert drifted.failed and drifted.outputs["exitcode"] == "2"  # the nightly job fails
    assert "edited by hand" in drifted.summary
    assert len(github.comments) == 1  # no comment outside a pull request
    for result in (validated, planned, applied, quiet, drifted):
        for secret in filter(None, SECRETS.values()):
            assert secret not in result.log + result.summary


def test_the_apply_workflow_never_runs_twice_at_once() -> None:
    doc = yaml.safe_load((ROOT / "examples" / "ci" / "github" / "codat-apply.yml").read_text())
    assert doc["concurrency"] == {"group": "codat-apply", "cancel-in-progress": False}
    (job,) = doc["jobs"].values()
    assert [
        s["with"]["command"] for s in job["steps"] if "with" in s and "command" in s["with"]
    ] == ["validate", "apply"]


def test_no_recipe_runs_pip_or_names_the_tool_outside_the_action() -> None:
    for recipe in RECIPES:
        for job in jobs(recipe).values():
            assert all("run" not in step for step in job["steps"]), recipe.name
