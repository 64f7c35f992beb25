"""Fixtures of the reliability suite: a fleet of merchants on a sandbox server."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from reconciler import engine
from reconciler.sandbox.messages import SandboxResponse
from tests.fixtures.cli import CliFn, Run
from tests.fixtures.sandbox import SandboxHandle
from tests.reliability.harness import Fleet, Secrets, apply_args, make_fleet
from tests.reliability.invariants import Company, snapshot


@dataclass(frozen=True)
class Call:
    """One request as the sandbox server's handler sees it."""

    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    body: bytes


# Given the call and `forward` (the sandbox's own handling), the answer to send.
Around = Callable[[Call, Callable[[], SandboxResponse]], SandboxResponse]


@dataclass
class World:
    """A sandbox server, a fleet declared for it, and the in-process CLI."""

    sb: SandboxHandle
    fleet: Fleet
    cli: CliFn
    context: str

    @property
    def secrets(self) -> Secrets:
        return self.fleet.secrets

    def env(self) -> dict[str, str]:
        return self.secrets.env()

    def apply_command(self, *extra: str) -> list[str]:
        return apply_args(self.fleet, self.sb, *extra)

    def apply(self, *extra: str) -> Run:
        run = self.cli(*self.apply_command(*extra), env=self.env())
        self.secrets.scan_run(run, f"apply ({self.context})")
        return run

    def intercept(self, around: Around) -> None:
        """Put `around` between the HTTP server and the sandbox (to hold, note or rewrite)."""
        original = self.sb.app.handle

        def handle(
            method: str, path: str, query: str, headers: Mapping[str, str], body: bytes
        ) -> SandboxResponse:
            call = Call(method, path, query, headers, body)
            return around(call, lambda: original(method, path, query, headers, body))

        self.sb.app.handle = handle  # type: ignore[method-assign]

    def snapshot(self) -> list[Company]:
        return snapshot(self.sb.state_path)

    def bystander(self, name: str = "99999999") -> Company:
        """An unmanaged company nobody declared: it must survive every scenario."""
        sandbox = engine.Target.embedded_sandbox(self.sb.state_path)
        with engine.connect(sandbox, max_rate=0) as c:
            return c.create_company(
                {"name": name, "description": "not ours"}, idempotency_key=f"bystander-{name}"
            )


@pytest.fixture
def world(
    sandbox_server: Callable[..., SandboxHandle], cli: CliFn, tmp_path: Path
) -> Callable[..., World]:
    """world(context, merchants=N, **sandbox_options) -> World."""

    def make(context: str, merchants: int | None = None, **options: Any) -> World:
        sb = sandbox_server(**options)
        kwargs = {} if merchants is None else {"count": merchants}
        fleet = make_fleet(tmp_path / "manifests", **kwargs)
        fleet.secrets = fleet.secrets.with_api_key(sb.api_key)
        return World(sb, fleet, cli, context)

    return make
