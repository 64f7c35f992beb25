"""Pieces the CLI end-to-end tests share: a manifest writer and a direct sandbox client."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from reconciler import engine
from reconciler.codat.client import CodatClient
from tests.fixtures.cli import Run

TOKENS = {"ACME_TOKEN": "acme-secret-token-0001", "BOLT_TOKEN": "bolt-secret-token-0002"}

BASIC = """\
version: 1
defaults:
  syncFlow: {commerceKey: lqai, accountingKey: gbol, redirectUrl: "https://app.example.com/done"}
merchants:
  - name: "10000001"
    description: Acme Coffee Ltd
    tags: {region: uk}
    connections:
      - platformKey: dfxm
        authorization:
          apiToken: {env: ACME_TOKEN}
          storeId: acme-001
  - name: "10000002"
    description: Bolt Bikes
    connections:
      - platformKey: dfxm
        authorization:
          apiToken: {env: BOLT_TOKEN}
  - name: "10000003"
    description: Corner Shop
    connections:
      - platformKey: dfxm
"""


@pytest.fixture
def write_manifest(tmp_path: Path) -> Callable[[str, str], Path]:
    """write_manifest(text, name="merchants.yaml") -> the manifests directory."""
    root = tmp_path / "manifests"
    root.mkdir()

    def write(text: str, name: str = "merchants.yaml") -> Path:
        (root / name).write_text(textwrap.dedent(text), encoding="utf-8")
        return root

    return write


@pytest.fixture
def env(sandbox_path: Path) -> dict[str, str]:
    """Environment for CLI runs: the embedded sandbox and the test merchants' secrets."""
    return {"CODAT_SANDBOX": str(sandbox_path), **TOKENS}


@pytest.fixture
def codat(sandbox_path: Path) -> Iterator[CodatClient]:
    """A client on the same sandbox file, for arranging and inspecting live state."""
    with engine.connect(engine.Target.embedded_sandbox(sandbox_path), max_rate=0) as client:
        yield client


def companies(client: CodatClient) -> list[dict[str, object]]:
    return list(client.list_companies(1, 5000).results)


def api_calls(run: Run) -> list[dict[str, object]]:
    """The api_call records of a run made with --log-format json."""
    records = [json.loads(line) for line in run.stderr.splitlines() if line.startswith("{")]
    return [r for r in records if r.get("event") == "api_call"]


def mutating(run: Run) -> list[str]:
    return [f"{c['method']} {c['path']}" for c in api_calls(run) if c["method"] != "GET"]


def assert_no_secret(run: Run, *extra: str) -> None:
    for secret in (*TOKENS.values(), *extra):
        assert secret not in run.stdout and secret not in run.stderr
