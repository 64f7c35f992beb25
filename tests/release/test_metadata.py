"""The release's metadata: the licence, its one version, and the changelog for it."""

from __future__ import annotations

import re
import tomllib

from reconciler import __version__
from tests.release.conftest import ROOT


def test_the_licence_is_apache_2_declared_as_an_spdx_expression() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "Apache-2.0" and project["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text()
    assert text.split()[:4] == ["Apache", "License", "Version", "2.0,"]
    assert "END OF TERMS AND CONDITIONS" in text
    # With an SPDX expression a licence classifier is redundant, and PyPI refuses both.
    assert not [c for c in project["classifiers"] if c.startswith("License ::")]


def test_the_version_has_one_source() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in pyproject["project"] and pyproject["project"]["dynamic"] == ["version"]
    attr = pyproject["tool"]["setuptools"]["dynamic"]["version"]["attr"]
    assert attr == "reconciler.__version__"
    assert re.fullmatch(r"\d+\.\d+\.\d+", __version__)


def test_the_changelog_starts_with_this_release() -> None:
    text = (ROOT / "CHANGELOG.md").read_text()
    releases = re.findall(r"^## \[([^\]]+)\](?: - (\d{4}-\d{2}-\d{2}))?$", text, re.M)
    assert releases[0] == ("Unreleased", "")
    version, date = releases[1]
    assert version == __version__ and date, "the newest release is this version, dated"
    for name, _ in releases:  # Keep a Changelog: each heading links to its changes
        assert re.search(rf"^\[{re.escape(name)}\]: https://github\.com/", text, re.M), name
