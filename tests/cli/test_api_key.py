"""The API key: from --api-key-file, else CODAT_API_KEY (read by the CLI only)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.cli.target import load_api_key
from reconciler.errors import ReconcilerError


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CODAT_API_KEY", raising=False)


def test_api_key_from_file_is_stripped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODAT_API_KEY", "from-env")
    path = tmp_path / "key"
    path.write_text("  from-file\n")
    assert load_api_key(str(path)) == "from-file"


def test_api_key_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODAT_API_KEY", "from-env\n")
    assert load_api_key(None) == "from-env"


def test_missing_api_key_says_what_to_do() -> None:
    with pytest.raises(ReconcilerError, match="set CODAT_API_KEY or pass --api-key-file"):
        load_api_key(None)


def test_unreadable_or_empty_key_file(tmp_path: Path) -> None:
    with pytest.raises(ReconcilerError, match="cannot read API key file"):
        load_api_key(str(tmp_path / "missing"))
    (tmp_path / "empty").write_text("\n")
    with pytest.raises(ReconcilerError, match="is empty"):
        load_api_key(str(tmp_path / "empty"))
