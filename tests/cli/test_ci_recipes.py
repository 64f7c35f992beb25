"""The CI recipes in examples/ci/: their codat-reconciler steps, run against the sandbox.

GitHub and GitLab themselves are not run; the shell steps that call the tool
are taken from the workflow files as written and run with bash, in order, on the
repository's example manifests, so a recipe that drifts from the CLI fails here.
The install steps are not run (they fetch from GitHub); they are checked to pin
a source the user controls instead of taking a name from a public index.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from reconciler.codat.client import CodatClient
from reconciler.sandbox.transport import SandboxTransport

ROOT = Path(__file__).resolve().parents[2]
GITHUB = ROOT / "examples" / "ci" / "github"
GITLAB = ROOT / "examples" / "ci" / "gitlab" / ".gitlab-ci.yml"
SECRETS = {"ACME_DFXM_TOKEN": "recipe-secret-acme-1", "BOLT_DFXM_TOKEN": "recipe-secret-bolt-2"}


def github_steps(workflow: str) -> list[str]:
    doc = yaml.safe_load((GITHUB / workflow).read_text())
    (job,) = doc["jobs"].values()
    return [s["run"] for s in job["steps"]
            if "codat-reconciler " in s.get("run", "") and "pip install" not in s["run"]]


def gitlab_script(job: str) -> str:
    doc = yaml.safe_load(GITLAB.read_text())
    # The note-posting lines need GitLab's API; everything else runs here.
    return "\n".join(line for line in doc[job]["script"] if "curl" not in line)


@pytest.fixture
def workspace(tmp_path: Path, sandbox_path: Path) -> tuple[Path, dict[str, str]]:
    """A checkout-like directory with the example manifests, and the CI job's environment."""
    shutil.copytree(ROOT / "manifests", tmp_path / "manifests")
    tool_dir = str(Path(sys.executable).parent)  # where pip put the console script
    mine = {k: v for k, v in os.environ.items() if not k.startswith("CODAT_")}
    env = {**mine, **SECRETS, "CODAT_SANDBOX": str(sandbox_path),
           "PATH": tool_dir + os.pathsep + os.environ.get("PATH", ""),
           "GITHUB_OUTPUT": str(tmp_path / "github-output")}
    return tmp_path, env


def run_step(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-e", "-c", script], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_github_recipes_plan_then_apply_then_drift_check(
    workspace: tuple[Path, dict[str, str]], sandbox_path: Path
) -> None:
    cwd, env = workspace
    for step in github_steps("codat-plan.yml"):
        done = run_step(step, cwd, env)
        assert done.returncode == 0, done.stderr
    comment = (cwd / "plan.md").read_text()
    assert comment.startswith("<!-- codat-reconciler plan -->")  # the marker the script finds
    assert "exitcode=2" in (cwd / "github-output").read_text()
    for step in github_steps("codat-apply.yml"):
        done = run_step(step, cwd, env)
        assert done.returncode == 0, done.stderr
    (drift,) = github_steps("codat-drift.yml")
    assert run_step(drift, cwd, env).returncode == 0
    with CodatClient("http://127.0.0.1", transport=SandboxTransport(sandbox_path)) as codat:
        # A merchant that declares its description (20000002 leaves it alone: no drift).
        (company,) = [c for c in codat.list_companies(1, 100).results
                      if c["name"] == "10000001"]
        codat.update_company(company["id"], {"description": "edited by hand"},
                             idempotency_key="drift-1")
    drifted = run_step(drift, cwd, env)
    assert drifted.returncode == 2  # the nightly job fails on drift
    for secret in SECRETS.values():
        assert secret not in comment + drifted.stdout + drifted.stderr


def test_github_apply_workflow_never_runs_twice_at_once() -> None:
    doc = yaml.safe_load((GITHUB / "codat-apply.yml").read_text())
    assert doc["concurrency"] == {"group": "codat-apply", "cancel-in-progress": False}
    assert "--auto-approve" in " ".join(github_steps("codat-apply.yml"))


def test_gitlab_recipes_plan_apply_drift(workspace: tuple[Path, dict[str, str]]) -> None:
    cwd, env = workspace
    planned = run_step(gitlab_script("plan"), cwd, env)
    assert planned.returncode == 0, planned.stderr
    assert (cwd / "plan.md").read_text().startswith("<!-- codat-reconciler plan -->")
    applied = run_step(gitlab_script("apply"), cwd, env)
    assert applied.returncode == 0, applied.stderr
    assert run_step(gitlab_script("drift"), cwd, env).returncode == 0
    doc = yaml.safe_load(GITLAB.read_text())
    assert doc["apply"]["resource_group"] == "codat-apply"
    assert "CODAT_API_KEY" not in GITLAB.read_text().split("stages:")[1]  # set in CI settings


def test_secrets_come_from_the_ci_secret_store_only() -> None:
    for workflow in GITHUB.glob("*.yml"):
        env = yaml.safe_load(workflow.read_text())["jobs"]
        for job in env.values():
            for name, value in job.get("env", {}).items():
                assert str(value).startswith("${{ secrets."), f"{workflow.name}: {name}"


def test_pre_commit_hook_runs_validate_on_manifests() -> None:
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["entry"] == "codat-reconciler validate"
    assert hook["files"] == r"^manifests/.*\.ya?ml$"
    changed = sorted(str(p) for p in (ROOT / "manifests").glob("*.yaml"))
    done = subprocess.run([sys.executable, "-m", "reconciler", "validate", *changed],
                          capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.startswith("OK:")


def install_commands(text: str) -> list[list[str]]:
    """Every `pip install` in a recipe, as the shell would split it (comments dropped)."""
    found = []
    for line in (x for x in text.splitlines() if "pip install" in x):
        words = shlex.split(line, comments=True)
        for i in range(len(words) - 1):
            if words[i : i + 2] == ["pip", "install"]:
                found.append(words[i + 2 :])
    return found


# A direct reference to a git repository at a fixed revision (PEP 508 `name @ url`).
PINNED = re.compile(r"codat-reconciler @ git\+https://[^@\s]+@[^@\s]+")


def test_no_recipe_installs_the_tool_by_name_from_a_registry() -> None:
    # `pip install codat-reconciler` installs whatever a public index serves
    # under a name this project does not own: a squatter's package would run
    # in CI with the Codat key in its environment.
    for recipe in [*GITHUB.glob("*.yml"), GITLAB]:
        text = recipe.read_text()
        installs = install_commands(text)
        assert installs, f"{recipe.name}: no install step"
        for words in installs:
            ours = [w for w in words if "codat-reconciler" in w]
            assert ours and all(PINNED.fullmatch(w) for w in ours), f"{recipe.name}: {words}"
        assert "OWNER" in text and "REF" in text  # placeholders the user must fill
    hooks = (ROOT / ".pre-commit-hooks.yaml").read_text()
    assert "additional_dependencies" not in hooks and install_commands(hooks) == []


def test_the_install_check_catches_a_bare_name() -> None:
    for bare in ("pip install codat-reconciler", "pip install -q codat-reconciler==1.2.0",
                 "python -m pip install 'codat-reconciler>=1'"):
        (words,) = install_commands(bare)
        assert not all(PINNED.fullmatch(w) for w in words if "codat-reconciler" in w)
