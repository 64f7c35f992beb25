"""Helpers for manifest tests: write small YAML files and collect the loader's errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from reconciler.manifests.errors import ManifestErrors
from reconciler.manifests.loader import load

Write = Callable[[str, str | bytes], Path]


@pytest.fixture
def write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Write:
    """Write a file under tmp_path (the current directory, so reported paths stay short)."""
    monkeypatch.chdir(tmp_path)

    def _write(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return Path(name)

    return _write


def errors_of(*paths: str | Path, check_secrets: bool = False) -> list[str]:
    """The report lines (without the count line) of a load that must fail."""
    with pytest.raises(ManifestErrors) as caught:
        load(list(paths), check_secrets=check_secrets)
    lines = str(caught.value).splitlines()
    assert lines[-1].endswith(("file", "files"))
    return lines[:-1]
