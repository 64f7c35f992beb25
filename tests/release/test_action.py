"""action.yml, run as a GitHub runner runs a composite action (tests/release/github_runner.py),
against the embedded sandbox. The install step really installs, once for the module: the
later runs reuse it, as a second use of the action in one job does.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.render.markdown import MARKER
from tests.release.conftest import ROOT, clean_env
from tests.release.github_runner import (
    GITHUB_TOKEN,
    PR,
    REPOSITORY,
    FakeGitHub,
    Runner,
    serving,
)

pytestmark = pytest.mark.slow

SECRETS = {
    "ACME_DFXM_TOKEN": "action-secret-acme-4401",
    "BOLT_DFXM_TOKEN": "action-secret-bolt-4402",
}


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with serving(FakeGitHub()) as fake:
        yield fake


@pytest.fixture
def runner(
    tmp_path: Path, sandbox_path: Path, checkout: Path, runner_temp: Path, github: FakeGitHub
) -> Runner:
    workspace = tmp_path / "workspace"
    shutil.copytree(ROOT / "manifests", workspace / "manifests")
    env = clean_env(**SECRETS, CODAT_SANDBOX=str(sandbox_path))
    # GitHub checks the action's repository out at the pinned commit: `checkout`.
    return Runner(workspace, runner_temp, checkout, env, github)


def assert_no_secret(*texts: str) -> None:
    for secret in [*SECRETS.values(), GITHUB_TOKEN]:
        assert all(secret not in text for text in texts), "a secret was shown"


def test_plan_on_a_pull_request_then_apply_then_plan_keeps_one_comment(
    runner: Runner, github: FakeGitHub
) -> None:
    github.post("Looks good to me", author="a-reviewer")
    planned = runner.run("pull_request", command="plan", python=sys.executable)
    assert not planned.failed, planned.log
    assert planned.outputs["exitcode"] == "2" and planned.outputs["has-changes"] == "true"
    saved = json.loads(Path(planned.outputs["plan-file"]).read_text())
    assert saved["kind"] == "codat-reconciler/saved-plan" and saved["changes"]
    assert planned.summary.startswith(MARKER) and "12 to create" in planned.summary
    assert 'merchant["10000001"]' in planned.log  # the text plan, for the job's log
    (_, first) = github.comments
    assert first.body == planned.summary
    assert (
        "POST",
        f"/repos/{REPOSITORY}/issues/{PR}/comments",
        f"Bearer {GITHUB_TOKEN}",
    ) in github.requests

    applied = runner.run("push", command="apply", python=sys.executable)
    assert not applied.failed, applied.log
    assert applied.outputs["exitcode"] == "0" and applied.outputs["plan-file"] == ""
    assert "Apply complete: 14 done" in applied.summary
    assert applied.ran == ["install", "run"]  # no comment outside a pull request

    again = runner.run("pull_request", command="plan", python=sys.executable)
    assert not again.failed, again.log
    assert again.outputs["exitcode"] == "0" and again.outputs["has-changes"] == "false"
    assert len(github.comments) == 2  # the reviewer's and the one plan comment, edited
    assert github.comments[1].id == first.id and "No changes" in github.comments[1].body
    assert_no_secret(
        planned.summary,
        planned.log,
        applied.summary,
        applied.log,
        again.summary,
        again.log,
        Path(planned.outputs["plan-file"]).read_text(),
    )


def test_the_install_is_reused_within_a_job(runner: Runner, runner_temp: Path) -> None:
    runner.run("push", command="validate", python=sys.executable)
    venv = runner_temp / "codat-reconciler" / "venv"
    stamp = (venv / "installed-from").stat().st_mtime_ns
    validated = runner.run("push", command="validate", python=sys.executable)
    assert not validated.failed and validated.outputs["exitcode"] == "0", validated.log
    assert "OK:" in validated.summary
    assert (venv / "installed-from").stat().st_mtime_ns == stamp


def test_detailed_exitcode_fails_on_changes_and_still_comments(
    runner: Runner, github: FakeGitHub
) -> None:
    planned = runner.run(
        "pull_request", command="plan", python=sys.executable, **{"detailed-exitcode": "true"}
    )
    assert planned.failed and planned.outputs["exitcode"] == "2"
    assert len(planned.ran) == 3 and len(github.comments) == 1
    status = runner.run(
        "push", command="status", python=sys.executable, **{"detailed-exitcode": "true"}
    )
    assert status.failed and status.outputs["exitcode"] == "2", status.log
    assert "missing" in status.summary


def test_a_pull_request_from_a_fork_warns_without_failing(
    runner: Runner, github: FakeGitHub
) -> None:
    github.writable = False  # a fork's pull request gets a read-only token
    planned = runner.run("pull_request", command="plan", python=sys.executable)
    assert not planned.failed and planned.outputs["has-changes"] == "true", planned.log
    assert "::warning::could not post the plan comment: GitHub answered 403" in planned.log
    assert github.comments == [] and planned.summary.startswith(MARKER)


def test_comments_with_the_marker_it_may_not_edit_are_left_alone(
    runner: Runner, github: FakeGitHub
) -> None:
    pasted = github.post(f"{MARKER}\nthe plan, pasted by hand", author="a-reviewer")
    quoted = github.post(f"> {MARKER}\n> Plan: 1 to create\n\nWhy?", author="a-reviewer")
    for _ in range(120):  # the plan comment lands on the second page of the listing
        github.post("+1", author="a-reviewer")
    first = runner.run("pull_request", command="plan", python=sys.executable)
    again = runner.run("pull_request", command="plan", python=sys.executable)
    assert not first.failed and not again.failed, first.log + again.log
    assert "Posted the plan comment" in first.log and "Updated the plan comment" in again.log
    mine = [c for c in github.comments if c.author == "github-actions[bot]"]
    assert [c.body for c in mine] == [again.summary]  # one, edited on page two
    assert pasted.body.endswith("pasted by hand") and quoted.body.endswith("Why?")
    touched = [(method, path) for method, path, _ in github.requests]
    assert ("PATCH", f"/repos/{REPOSITORY}/issues/comments/{quoted.id}") not in touched


def test_arguments_are_never_run_as_shell_code(runner: Runner) -> None:
    hostile = ["$(touch${IFS}pwned)", "`touch${IFS}pwned`", ";touch${IFS}pwned", "*"]
    planned = runner.run("push", command="plan", python=sys.executable, args=" ".join(hostile))
    assert planned.failed and planned.outputs["exitcode"] == "1"
    assert not (runner.workspace / "pwned").exists()
    for word in hostile:  # each reached the tool as written, a path that does not exist
        assert f"{word}:1:1: no such file or directory" in planned.summary, planned.summary
    assert planned.summary.startswith("### codat-reconciler plan (exit 1)")


def test_an_unknown_command_is_refused(runner: Runner) -> None:
    done = runner.run("push", command="destroy", python=sys.executable)
    assert done.failed and done.outputs["exitcode"] == "1"
    assert "::error::command must be plan, apply, status or validate, not 'destroy'" in done.log


def test_a_manifest_error_names_the_file_line_and_column_in_the_summary(
    runner: Runner,
) -> None:
    (runner.workspace / "manifests" / "bad.yaml").write_text("version: 1\nmerchants: [\n")
    done = runner.run("push", command="validate", python=sys.executable)
    assert done.failed and done.outputs["exitcode"] == "1"
    assert re.search(r"manifests/bad\.yaml:\d+:\d+: ", done.summary), done.summary


def test_apply_carries_out_the_plan_file_that_plan_saved(runner: Runner) -> None:
    planned = runner.run("push", command="plan", python=sys.executable)
    plan_file = planned.outputs["plan-file"]
    applied = runner.run(
        "push", command="apply", python=sys.executable, manifests="", args=f"--plan {plan_file}"
    )
    assert not applied.failed and "Apply complete: 14 done" in applied.summary, applied.log
    again = runner.run("push", command="plan", python=sys.executable)
    assert again.outputs["has-changes"] == "false", again.log


def test_no_comment_when_told_not_to(runner: Runner, github: FakeGitHub) -> None:
    planned = runner.run("pull_request", command="plan", python=sys.executable, comment="false")
    assert not planned.failed and planned.outputs["has-changes"] == "true", planned.log
    assert planned.ran == ["install", "run"] and github.requests == []
