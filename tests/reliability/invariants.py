"""The one checker every scenario ends with: live state equals the manifests.

Live state is read straight from the sandbox's SQLite file through an
in-process sandbox without faults (the server under test may be injecting
them), and the drift check is the real `plan --detailed-exitcode` on that file.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from reconciler import engine
from tests.fixtures.cli import CliFn
from tests.reliability.harness import Fleet

Company = dict[str, Any]


def snapshot(state_path: Path) -> list[Company]:
    """Every company in the sandbox, connections embedded, sorted by id."""
    found: list[Company] = []
    with engine.connect(engine.Target.embedded_sandbox(state_path), max_rate=0) as client:
        page = 1
        while True:
            answer = client.list_companies(page, 5000)
            found += answer.results
            if not answer.results or len(found) >= (answer.total or 0):
                break
            page += 1
    return sorted(found, key=lambda c: str(c["id"]))


def canonical(companies: list[Company]) -> str:
    """A comparable form of a snapshot: equal strings mean nothing changed."""
    return json.dumps(companies, sort_keys=True)


def assert_converged(
    fleet: Fleet,
    state_path: Path,
    cli: CliFn,
    *,
    context: str,
    before: Sequence[Company] = (),
    deleted: frozenset[str] = frozenset(),
) -> list[Company]:
    """Assert the invariants; `context` (with the seed) goes into every message.

    - every declared merchant exists exactly once by name;
    - each declared connection exists exactly once not Unlinked: Linked when the
      manifests authorize it, PendingAuth when the merchant must;
    - no company name appears twice at all (no twin created);
    - every company present in `before` is still there unless its id is in `deleted`;
    - `plan --detailed-exitcode` on the same state exits 0.
    """
    live = snapshot(state_path)
    names = Counter(str(c["name"]) for c in live)
    twins = sorted(n for n, k in names.items() if k > 1)
    assert not twins, f"{context}: duplicate companies {twins}"
    by_name = {str(c["name"]): c for c in live}
    for name, connections in fleet.declared.items():
        assert name in by_name, f"{context}: merchant {name} is missing"
        company = by_name[name]
        for key, authorized in connections.items():
            alive = [
                x
                for x in company["dataConnections"]
                if x["integrationKey"] == key and x["status"].lower() != "unlinked"
            ]
            assert len(alive) == 1, (
                f"{context}: {name} has {len(alive)} live {key} connections: "
                f"{[(x['id'], x['status']) for x in alive]}"
            )
            want = "linked" if authorized else "pendingauth"
            assert alive[0]["status"].lower() == want, (
                f"{context}: {name}.{key} is {alive[0]['status']}, expected {want}"
            )
        extra = {
            x["integrationKey"]
            for x in company["dataConnections"]
            if x["status"].lower() != "unlinked"
        } - set(connections)
        assert not extra, f"{context}: {name} has undeclared live connections {extra}"
    ids = {str(c["id"]) for c in live}
    lost = sorted({str(c["id"]) for c in before} - ids - deleted)
    assert not lost, f"{context}: companies deleted that were not meant to be: {lost}"
    drift = cli(
        "plan",
        str(fleet.root),
        "--sandbox",
        str(state_path),
        "--detailed-exitcode",
        env=fleet.secrets.env(),
    )
    assert drift.code == 0, f"{context}: plan still has changes after convergence\n{drift}"
    fleet.secrets.scan_run(drift, f"drift check ({context})")
    return live
