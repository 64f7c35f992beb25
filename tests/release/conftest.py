"""What the release tests share: a copy of the repository as a release checkout holds it.

Building a package or installing the Action writes into the source folder
(`build/`, `*.egg-info`); they work on a copy so the developer's tree, and any
test reading it at the same time, never sees those files.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent  # the test environment's tools: build, twine, zizmor...

# The variables the tool reads: a developer's own must not reach the commands run here.
TOOL_ENV = (
    "CODAT_BASE_URL",
    "CODAT_SANDBOX",
    "CODAT_API_KEY",
    "CODAT_RECONCILER_KEY",
    "CODAT_TIMEOUT",
    "PYTHONPATH",
    "VIRTUAL_ENV",
)


def clean_env(**extra: str) -> dict[str, str]:
    """The test process's environment less what the tool reads, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if k not in TOOL_ENV}
    return {**env, **extra}


def repository_files() -> list[str]:
    """What a checkout holds: tracked files, and new ones not yet added but not ignored."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\0")
    return [name for name in listed if name and (ROOT / name).is_file()]


@pytest.fixture(scope="session")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the repository's files, outside the repository."""
    copy = tmp_path_factory.mktemp("checkout")
    for name in repository_files():
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, copy / name)
    return copy


@pytest.fixture(scope="session")
def runner_temp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The runner's RUNNER_TEMP, shared by the tests as by the steps of one job: the
    action's install is done once and then reused, as a second use in a job does."""
    return tmp_path_factory.mktemp("runner-temp")
