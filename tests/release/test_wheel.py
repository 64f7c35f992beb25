"""The released packages: `python -m build` makes an sdist and a wheel that pass
`twine check --strict`, and the wheel, installed alone into a fresh environment in an empty
folder, runs plan → apply → plan on the embedded sandbox.

Building goes through the sdist (what `python -m build` does by default), so a file the
sdist leaves out fails here even if the source tree has it. The fresh environment gets the
wheel and its declared dependencies only: a module the package needs but does not declare,
or package data it does not ship, fails the commands run from it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import zipfile
from email.parser import HeaderParser
from pathlib import Path

import pytest

from reconciler import __version__
from tests.release.conftest import BIN, clean_env

pytestmark = pytest.mark.slow

WHEEL = f"codat_reconciler-{__version__}-py3-none-any.whl"
SDIST = f"codat_reconciler-{__version__}.tar.gz"
TOKEN = "wheel-test-secret-token-7731"

MANIFEST = textwrap.dedent("""\
    version: 1
    merchants:
      - name: "30000001"
        description: Wheel Test Cafe
        tags: {region: uk}
        connections:
          - platformKey: dfxm
            authorization:
              apiToken: {env: WHEEL_TOKEN}
              storeId: wheel-001
""")


def run(
    *cmd: str | Path,
    cwd: Path,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(c) for c in cmd],
        cwd=cwd,
        env=env or clean_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory, checkout: Path) -> Path:
    """The packages: built here, or the release workflow's own when it names their folder
    in RELEASE_DIST (it tests the very files it then publishes)."""
    if os.environ.get("RELEASE_DIST"):
        return Path(os.environ["RELEASE_DIST"]).resolve()
    out = tmp_path_factory.mktemp("dist")
    built = run(sys.executable, "-m", "build", "--outdir", out, ".", cwd=checkout)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    return out


def test_sdist_and_wheel_pass_twine_check_strict(dist: Path) -> None:
    assert {p.name for p in dist.iterdir()} == {SDIST, WHEEL}
    checked = run(BIN / "twine", "check", "--strict", dist / SDIST, dist / WHEEL, cwd=dist)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.count("PASSED") == 2


def test_the_wheel_declares_its_licence_urls_and_version(dist: Path) -> None:
    with zipfile.ZipFile(dist / WHEEL) as wheel:
        info = f"codat_reconciler-{__version__}.dist-info"
        metadata = HeaderParser().parsestr(wheel.read(f"{info}/METADATA").decode())
        licence = wheel.read(f"{info}/licenses/LICENSE").decode()
        names = set(wheel.namelist())
    assert metadata["Version"] == __version__
    assert metadata["License-Expression"] == "Apache-2.0"
    assert "Apache License" in licence and "Version 2.0, January 2004" in licence
    urls = dict(u.split(", ", 1) for u in metadata.get_all("Project-URL"))
    assert {"Homepage", "Source", "Issues", "Changelog"} <= set(urls)
    assert all(u.startswith("https://github.com/codat-reconciler/") for u in urls.values())
    assert {"reconciler/py.typed", "reconciler/schemas/manifest.schema.json"} <= names
    assert "watch" in metadata.get_all("Provides-Extra")


def test_the_wheel_works_alone_in_a_fresh_environment(dist: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    made = run(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    installed = run(
        venv / "bin" / "python",
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        f"{dist / WHEEL}[watch]",
        cwd=tmp_path,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr

    work = tmp_path / "work"  # an empty folder: nothing of the repository is near
    (work / "manifests").mkdir(parents=True)
    (work / "manifests" / "merchants.yaml").write_text(MANIFEST)
    tool = venv / "bin" / "codat-reconciler"
    env = clean_env(WHEEL_TOKEN=TOKEN)

    where = run(
        venv / "bin" / "python",
        "-c",
        "import reconciler; print(reconciler.__file__)",
        cwd=work,
        env=env,
    )
    assert where.stdout.strip().startswith(str(venv)), where.stdout + where.stderr

    version = run(tool, "--version", cwd=work, env=env)
    assert version.stdout.strip() == f"codat-reconciler, version {__version__}"
    validated = run(tool, "validate", "manifests/", "--check-secrets", cwd=work, env=env)
    assert validated.returncode == 0 and validated.stdout.startswith("OK:"), validated.stderr

    sandbox = ["--sandbox", str(tmp_path / "codat.sqlite")]
    first = run(tool, "plan", "manifests/", "--detailed-exitcode", *sandbox, cwd=work, env=env)
    assert first.returncode == 2, first.stdout + first.stderr
    assert 'merchant["30000001"]' in first.stdout
    applied = run(tool, "apply", "manifests/", "--auto-approve", *sandbox, cwd=work, env=env)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    again = run(tool, "plan", "manifests/", "--detailed-exitcode", *sandbox, cwd=work, env=env)
    assert again.returncode == 0 and "No changes." in again.stdout, again.stdout + again.stderr

    watch = run(tool, "watch", "--help", cwd=work, env=env)
    assert watch.returncode == 0 and "codat-reconciler watch" in watch.stdout, watch.stderr
    extra = run(venv / "bin" / "python", "-c", "import svix, prometheus_client", cwd=work, env=env)
    assert extra.returncode == 0, extra.stderr  # what `watch` imports when it runs

    for done in (first, applied, again):
        assert TOKEN not in done.stdout + done.stderr
