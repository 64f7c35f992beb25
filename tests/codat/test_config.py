from __future__ import annotations

import pytest

from reconciler.codat import resolve_base_url
from reconciler.errors import ReconcilerError


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CODAT_BASE_URL", raising=False)
    monkeypatch.delenv("CODAT_API_KEY", raising=False)


def test_base_url_defaults_to_production() -> None:
    assert resolve_base_url(None) == "https://api.codat.io"


def test_the_client_reads_no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # CODAT_BASE_URL is the CLI's to read (tests/cli/test_targets.py), not the client's.
    monkeypatch.setenv("CODAT_BASE_URL", "https://env.example.com")
    assert resolve_base_url(None) == "https://api.codat.io"
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
