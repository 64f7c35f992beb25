from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.codat import load_api_key, resolve_base_url
from reconciler.errors import ReconcilerError


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CODAT_BASE_URL", raising=False)
    monkeypatch.delenv("CODAT_API_KEY", raising=False)


def test_base_url_defaults_to_production() -> None:
    assert resolve_base_url(None) == "https://api.codat.io"


def test_base_url_flag_wins_over_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODAT_BASE_URL", "https://env.example.com")
    assert resolve_base_url(None) == "https://env.example.com"
    assert resolve_base_url("https://flag.example.com/") == "https://flag.example.com"


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost:8080",
        "http://127.0.0.1:5000",
        "http://127.3.4.5",
        "http://[::1]:9000",
        "https://api.codat.io",
    ],
)
def test_base_url_allows_https_and_loopback_http(url: str) -> None:
    assert resolve_base_url(url) == url


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://api.codat.io", "unencrypted"),
        ("http://10.0.0.5:8080", "unencrypted"),
        ("http://localhost.evil.com", "unencrypted"),
        ("ftp://api.codat.io", "not an http"),
        ("api.codat.io", "not an http"),
        ("https://user:secret@api.codat.io", "credentials"),
    ],
)
def test_base_url_refuses_unsafe_urls(url: str, why: str) -> None:
    with pytest.raises(ReconcilerError, match=why) as err:
        resolve_base_url(url)
    assert "secret" not in str(err.value)


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
