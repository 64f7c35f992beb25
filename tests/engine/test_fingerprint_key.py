"""Whether the embedded sandbox's well-known key stands in for CODAT_RECONCILER_KEY is
decided from the client engine.connect made, and from nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler import engine
from reconciler.credentials import SANDBOX_KEY, fingerprint_key


def test_a_client_of_the_embedded_sandbox_says_so_and_gets_the_well_known_key(
    sandbox_path: Path,
) -> None:
    with engine.connect(engine.Target.embedded_sandbox(sandbox_path)) as client:
        assert client.embedded_sandbox
        assert fingerprint_key(None, embedded_sandbox=client.embedded_sandbox) == SANDBOX_KEY
        given = fingerprint_key(b"given", embedded_sandbox=client.embedded_sandbox)
        assert given == b"given"


def test_a_loopback_url_is_not_the_sandbox_and_the_environment_is_not_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A loopback URL may be a proxy in front of real Codat; and the variable is the
    # CLI's to read: set here, it changes nothing.
    monkeypatch.setenv("CODAT_RECONCILER_KEY", "from-the-environment")
    with engine.connect(engine.Target.codat("http://127.0.0.1:9"), api_key="key") as client:
        assert not client.embedded_sandbox
        assert fingerprint_key(None, embedded_sandbox=client.embedded_sandbox) is None
        assert fingerprint_key(b"given", embedded_sandbox=False) == b"given"


def test_a_plan_run_never_shows_its_key() -> None:
    assert "secret-key" not in repr(engine.PlanRun(fingerprint_key=b"secret-key"))
