"""The desired-state model never shows an authorization value by accident."""

from __future__ import annotations

import pytest

from reconciler.manifests.model import DesiredConnection, LiteralValue, Location, SecretRef


def test_repr_of_declared_authorization_hides_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOKEN", "env-secret-43")
    conn = DesiredConnection(
        "dfxm",
        {"storeId": LiteralValue("literal-secret-42"), "apiToken": SecretRef("env", "TOKEN")},
        Location("m.yaml", 3, 7),
    )
    assert "literal-secret-42" not in repr(conn) and "literal-secret-42" not in str(conn)
    assert conn.authorization is not None
    assert conn.authorization["storeId"].describe() == "(sensitive: literal)"
    assert conn.resolve_authorization()["storeId"] == "literal-secret-42"
