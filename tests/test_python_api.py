"""The Python API reference's example runs as written, against the embedded sandbox."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def documented_example() -> str:
    text = (ROOT / "docs" / "reference" / "python-api.md").read_text(encoding="utf-8")
    match = re.search(r"```python\n(.*?)```", text, re.S)
    assert match, "docs/reference/python-api.md has no python example"
    return match.group(1)


def test_the_documented_example_plans_applies_and_reports_status(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "manifests", tmp_path / "manifests")
    env = {**os.environ, "ACME_DFXM_TOKEN": "demo-token-acme", "BOLT_DFXM_TOKEN": "demo-token-bolt"}
    env.pop("CODAT_RECONCILER_KEY", None)
    run = subprocess.run(
        [sys.executable, "-c", documented_example()],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert "+ create" in run.stdout
    made = re.search(r"(\d+) changes made, (\d+) failed", run.stdout)
    assert made and int(made.group(1)) > 0 and made.group(2) == "0", run.stdout
    assert re.search(r"^\S+ (waiting|ready)", run.stdout, re.M), run.stdout
    assert "demo-token" not in run.stdout + run.stderr
    # Run again: the world it made is converged, so the plan is empty.
    again = subprocess.run(
        [sys.executable, "-c", documented_example()],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 0 and "No changes" in again.stdout, again.stdout
    assert "0 changes made, 0 failed" in again.stdout
