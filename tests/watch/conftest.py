"""A watch world: manifests, a sandbox server (calls counted) and a running Reconciler."""

from __future__ import annotations

import queue
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from reconciler.codat.client import CodatClient
from reconciler.engine import SILENT
from reconciler.watch.loop import Reconciled, Reconciler, WatchSettings
from tests.fixtures.sandbox import SandboxHandle

MERCHANTS = ("20000001", "20000002", "20000003")
TOKENS = {f"WATCH_TOKEN_{i}": f"watch-secret-token-{i:04d}" for i in range(1, 4)}
# Results arrive within seconds; the deadline only guards against a hang.
HANG_GUARD = 30.0


def manifest(names: tuple[str, ...] = MERCHANTS) -> str:
    rows = "".join(
        f"""
  - name: "{name}"
    connections:
      - platformKey: dfxm
        authorization:
          apiToken: {{env: WATCH_TOKEN_{i}}}
"""
        for i, name in enumerate(names, start=1)
    )
    return textwrap.dedent("version: 1\nmerchants:") + rows


@dataclass
class Running:
    reconciler: Reconciler
    results: queue.Queue[Reconciled]
    thread: threading.Thread

    def next(self) -> Reconciled:
        return self.results.get(timeout=HANG_GUARD)

    def stop(self) -> None:
        self.reconciler.shutdown()
        self.thread.join(HANG_GUARD)
        assert not self.thread.is_alive()


@dataclass
class World:
    sandbox: SandboxHandle
    client: CodatClient
    manifests: Path
    running: list[Running] = field(default_factory=list)

    def start(self, hook: Callable[[Reconciled], None] = lambda r: None, **options: Any) -> Running:
        results: queue.Queue[Reconciled] = queue.Queue()
        progress = options.pop("progress", None) or SILENT
        clock = options.pop("clock", time.monotonic)
        wait = getattr(clock, "wait", threading.Condition.wait)

        def reconciled(result: Reconciled) -> None:
            hook(result)
            results.put(result)

        options.setdefault("fingerprint_key", FINGERPRINT_KEY.encode())
        settings = WatchSettings(paths=(str(self.manifests),), **options)
        reconciler = Reconciler(
            self.client,
            settings,
            on_reconciled=reconciled,
            progress=progress,
            clock=clock,
            wait=wait,
        )
        thread = threading.Thread(target=reconciler.run, daemon=True)
        thread.start()
        run = Running(reconciler, results, thread)
        self.running.append(run)
        return run

    def company(self, name: str) -> dict[str, Any]:
        (found,) = [c for c in self.client.list_companies(1).results if c["name"] == name]
        return dict(found)

    def statuses(self, name: str) -> list[str]:
        return [str(c["status"]) for c in self.company(name).get("dataConnections", [])]

    def calls_since(self, mark: int) -> list[tuple[str, str, int]]:
        return list(self.sandbox.app.calls)[mark:]


FINGERPRINT_KEY = "watch-tests-fingerprint-key-0123456789abcdef"


@pytest.fixture
def manifests(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The manifests folder of MERCHANTS, their secrets in the environment."""
    for name, value in TOKENS.items():
        monkeypatch.setenv(name, value)
    root = tmp_path / "manifests"
    root.mkdir()
    (root / "merchants.yaml").write_text(manifest(), encoding="utf-8")
    return root


@pytest.fixture
def world(sandbox_server: Callable[..., SandboxHandle], manifests: Path) -> Iterator[World]:
    sandbox = sandbox_server()
    with CodatClient(sandbox.base_url, api_key=sandbox.api_key, max_rate=0) as client:
        w = World(sandbox, client, manifests)
        yield w
        for run in w.running:
            run.stop()
