"""The container image: the Dockerfile's shape, hadolint's review, and its build stage run
here (there is no Docker engine: what can be run without one is).

The build stage's RUN is run with /bin/sh -c, as Docker runs it, on a folder laid out
as its COPY lines lay /src, with /wheels moved into a temporary folder: a file the
package needs that the COPY lines leave out, or a VERSION that is not the package's,
fails it as it would fail `docker build`.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from reconciler import __version__
from tests.release.conftest import BIN, ROOT, clean_env, repository_files

DOCKERFILE = ROOT / "Dockerfile"


def stages(text: str) -> list[list[tuple[str, str]]]:
    """(instruction, arguments) per stage; continuation lines joined, comments dropped."""
    joined = re.sub(
        r"\\\n",
        " ",
        "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")),
    )
    found: list[list[tuple[str, str]]] = []
    for line in filter(None, (x.strip() for x in joined.splitlines())):
        name, _, args = line.partition(" ")
        if name == "FROM":
            found.append([])
        found[-1].append((name, args.strip()))
    return found


def hadolint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [BIN / "hadolint", "--failure-threshold", "warning", "--no-color", path],
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=60,
    )


def dockerfiles() -> list[Path]:
    return [ROOT / name for name in repository_files() if Path(name).name.startswith("Dockerfile")]


@pytest.mark.parametrize("path", dockerfiles(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_dockerfile_is_hadolint_clean_at_warning_level(path: Path) -> None:
    done = hadolint(path)
    assert done.returncode == 0, done.stdout + done.stderr


def test_hadolint_as_called_here_catches_a_warning(tmp_path: Path) -> None:
    sloppy = tmp_path / "Dockerfile"
    sloppy.write_text(DOCKERFILE.read_text().replace("pip install --no-cache-dir", "pip install"))
    done = hadolint(sloppy)
    assert done.returncode == 1 and "DL3042" in done.stdout  # pip's cache left in the image


def test_the_image_is_multi_stage_non_root_and_labelled_from_the_one_version() -> None:
    build, final = stages(DOCKERFILE.read_text())
    assert build[0] == ("FROM", "python:3.11-slim AS build")
    assert final[0][0] == "FROM" and final[0][1].startswith("python:3.11-slim")
    assert ("ARG", "VERSION") in build and ("ARG", "VERSION") in final
    (labels,) = [args for name, args in final if name == "LABEL"]
    assert 'org.opencontainers.image.version="${VERSION}"' in labels
    assert (
        'org.opencontainers.image.source="https://github.com/codat-reconciler/codat-reconciler"'
    ) in labels
    assert 'org.opencontainers.image.licenses="Apache-2.0"' in labels
    assert ("COPY", "--from=build /wheels /wheels") in final
    (install,) = [args for name, args in final if name == "RUN"]
    assert '"/wheels/codat_reconciler-${VERSION}-py3-none-any.whl[watch]"' in install
    assert "useradd --system --uid 10001" in install
    users = [args for name, args in final if name == "USER"]
    assert users == ["10001"]  # the last word on who runs: not root
    entry = [json.loads(args) for name, args in final if name == "ENTRYPOINT"]
    assert entry == [["codat-reconciler"]]


def test_the_build_context_holds_only_what_the_build_copies() -> None:
    build, _ = stages(DOCKERFILE.read_text())
    copied = {word for name, args in build if name == "COPY" for word in args.split()[:-1]}
    ignore = (ROOT / ".dockerignore").read_text().splitlines()
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    assert "*" in ignore and copied == allowed
    project = (ROOT / "pyproject.toml").read_text()
    for needed in ("README.md", "LICENSE"):  # pyproject's readme and license-files
        assert f'"{needed}"' in project and needed in copied


def build_stage(tmp_path: Path, version: str) -> subprocess.CompletedProcess[str]:
    """The build stage's COPY and RUN, on this machine, with VERSION given."""
    build, _ = stages(DOCKERFILE.read_text())
    src, wheels = tmp_path / "src", tmp_path / "wheels"
    src.mkdir(parents=True)
    for name, args in build:
        if name == "COPY":
            *sources, target = args.split()
            for source in sources:
                destination = src / target / source if target.endswith("/") else src / target
                if (ROOT / source).is_dir():
                    shutil.copytree(
                        ROOT / source, destination, ignore=shutil.ignore_patterns("__pycache__")
                    )
                else:
                    shutil.copy2(ROOT / source, destination)
    (run,) = [args for name, args in build if name == "RUN"]
    tools = str(Path(sys.executable).parent)  # this environment's pip, as the image's
    env = clean_env(VERSION=version, PATH=tools + ":" + clean_env()["PATH"])
    return subprocess.run(
        ["/bin/sh", "-c", run.replace("/wheels", str(wheels))],
        cwd=src,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
def test_the_build_stage_makes_the_wheel_of_the_version_it_is_given(tmp_path: Path) -> None:
    built = build_stage(tmp_path / "right", __version__)
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    wheels = [p.name for p in (tmp_path / "right" / "wheels").iterdir()]
    assert wheels == [f"codat_reconciler-{__version__}-py3-none-any.whl"]
    wrong = build_stage(tmp_path / "wrong", "9.9.9")
    assert wrong.returncode == 1
    assert f"error: built codat_reconciler-{__version__}-py3-none-any.whl" in wrong.stderr


def test_examples_watch_deploys_this_release_of_the_image() -> None:
    docs = yaml.safe_load_all((ROOT / "examples" / "watch" / "kubernetes.yaml").read_text())
    (deployment,) = [d for d in docs if d["kind"] == "Deployment"]
    pod = deployment["spec"]["template"]["spec"]
    (watch,) = [c for c in pod["containers"] if c["name"] == "watch"]
    assert watch["image"] == f"ghcr.io/codat-reconciler/codat-reconciler:{__version__}"
    assert pod["securityContext"] == {"runAsNonRoot": True, "runAsUser": 10001}
    assert not (ROOT / "examples" / "watch" / "Dockerfile").exists()  # one image, not two
