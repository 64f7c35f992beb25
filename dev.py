#!/usr/bin/env python3
"""Developer entry point that works on a fresh machine with only Python 3.11.

    python3 dev.py demo    # plan, apply, plan, a merchant syncs, status: embedded sandbox
    python3 dev.py test    # ruff (lint and format), mypy and the whole pytest suite
    python3 dev.py bench   # the benchmarks in benchmarks/ (minutes, not part of test)
    python3 dev.py docs    # regenerate docs/reference/commands.md and manifest.md

It makes `.venv/` on first use and installs the project into it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")


def run(*cmd: str | Path, env: dict[str, str] | None = None) -> None:
    print("$", " ".join(str(c) for c in cmd), flush=True)
    code = subprocess.call([str(c) for c in cmd], cwd=ROOT, env=env)
    if code != 0:
        sys.exit(code)


def ensure_venv() -> None:
    stamp = VENV / ".installed"
    pyproject = ROOT / "pyproject.toml"
    if stamp.exists() and stamp.stat().st_mtime >= pyproject.stat().st_mtime:
        return
    if not (BIN / "python").exists():
        run(sys.executable, "-m", "venv", VENV)
    run(BIN / "python", "-m", "pip", "install", "-q", "--upgrade", "pip")
    run(BIN / "python", "-m", "pip", "install", "-q", "-e", ".[test]")
    stamp.touch()


def demo() -> None:
    cli = BIN / "codat-reconciler"
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ)
        env["CODAT_SANDBOX"] = str(Path(tmp) / "codat.sqlite")
        env.pop("CODAT_BASE_URL", None)  # beside CODAT_SANDBOX it would be an error
        # The demo manifests read these secrets from the environment.
        env.setdefault("ACME_DFXM_TOKEN", "demo-token-acme")
        env.setdefault("BOLT_DFXM_TOKEN", "demo-token-bolt")
        print("\n== plan: a fresh sandbox, nothing exists yet ==", flush=True)
        run(cli, "plan", "manifests/", env=env)
        print("\n== apply ==", flush=True)
        run(cli, "apply", "manifests/", "--auto-approve", env=env)
        print("\n== plan again: nothing left to do ==", flush=True)
        run(cli, "plan", "manifests/", "--detailed-exitcode", env=env)
        print("\n== merchant 10000001 goes through the sync flow (sandbox hooks) ==", flush=True)
        run(BIN / "python", "scripts/demo_merchant.py", env["CODAT_SANDBOX"], "10000001", env=env)
        print("\n== status: who can sync, and what the others wait for ==", flush=True)
        run(cli, "status", "manifests/", env=env)


def test() -> None:
    py = BIN / "python"
    sources = ("reconciler", "tests", "benchmarks", "scripts", "dev.py")
    run(py, "-m", "ruff", "check", *sources)
    run(py, "-m", "ruff", "format", "--check", *sources)
    run(py, "-m", "mypy")
    workers = os.environ.get("TEST_WORKERS", "2")
    run(py, "-m", "pytest", "-n", workers, *sys.argv[2:])


def bench() -> None:
    py = BIN / "python"
    for script in sorted((ROOT / "benchmarks").glob("bench_*.py")):
        run(py, script)


def docs() -> None:
    run(BIN / "python", "scripts/gen_docs.py")


def main() -> None:
    commands = {"demo": demo, "test": test, "bench": bench, "docs": docs}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print(__doc__)
        sys.exit(1)
    ensure_venv()
    commands[sys.argv[1]]()


if __name__ == "__main__":
    main()
