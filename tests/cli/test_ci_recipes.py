"""The GitLab recipe in examples/ci/gitlab/ and the pre-commit hook: their codat-reconciler
steps, run against the sandbox.

GitLab itself is not run; the shell steps that call the tool are taken from the pipeline
as written and run with bash, in order, on the repository's example manifests, so a recipe
that drifts from the CLI fails here. The install steps are not run (they fetch from
GitHub); they are checked to pin a source the user controls instead of taking a name from
a public index. The GitHub recipes use the repository's Action: tests/release/test_recipes.py
runs them.
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

ROOT = Path(__file__).resolve().parents[2]
GITHUB = ROOT / "examples" / "ci" / "github"
GITLAB = ROOT / "examples" / "ci" / "gitlab" / ".gitlab-ci.yml"
SECRETS = {"ACME_DFXM_TOKEN": "recipe-secret-acme-1", "BOLT_DFXM_TOKEN": "recipe-secret-bolt-2"}


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
    env = {
        **mine,
        **SECRETS,
        "CODAT_SANDBOX": str(sandbox_path),
        "PATH": tool_dir + os.pathsep + os.environ.get("PATH", ""),
    }
    return tmp_path, env


def run_step(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-e", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


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


def test_pre_commit_hook_runs_validate_on_manifests() -> None:
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["entry"] == "codat-reconciler validate"
    assert hook["files"] == r"^manifests/.*\.ya?ml$"
    changed = sorted(str(p) for p in (ROOT / "manifests").glob("*.yaml"))
    done = subprocess.run(
        [sys.executable, "-m", "reconciler", "validate", *changed], capture_output=True, text=True
    )
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
    text = GITLAB.read_text()
    installs = install_commands(text)
    assert installs, "no install step"
    for words in installs:
        ours = [w for w in words if "codat-reconciler" in w]
        assert ours and all(PINNED.fullmatch(w) for w in ours), words
    assert "OWNER" in text and "REF" in text  # placeholders the user must fill
    # pip needs git for a git URL, and GitLab's python:3.11-slim image has none.
    first, pip = yaml.safe_load(text)[".install"]
    assert "apt-get install" in first and " git " in first and "pip install" in pip
    for recipe in GITHUB.glob("*.yml"):  # the Action installs from its own pinned commit
        assert install_commands(recipe.read_text()) == [], recipe.name
    hooks = (ROOT / ".pre-commit-hooks.yaml").read_text()
    assert "additional_dependencies" not in hooks and install_commands(hooks) == []


def test_the_install_check_catches_a_bare_name() -> None:
    for bare in (
        "pip install codat-reconciler",
        "pip install -q codat-reconciler==1.2.0",
        "python -m pip install 'codat-reconciler>=1'",
    ):
        (words,) = install_commands(bare)
        assert not all(PINNED.fullmatch(w) for w in words if "codat-reconciler" in w)
