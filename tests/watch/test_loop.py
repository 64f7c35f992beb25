"""The reconcile loop against a sandbox server: what it reads, coalesces, pauses, stops."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from reconciler.engine.progress import Silent
from reconciler.plan.model import Change
from reconciler.watch.events import Event
from reconciler.watch.loop import Reconciled
from tests.watch.conftest import MERCHANTS, World, manifest


def deauthorize(world: World, name: str) -> dict[str, Any]:
    company = world.company(name)
    (connection,) = company["dataConnections"]
    answer = world.client.update_connection(company["id"], connection["id"],
                                            {"status": "Deauthorized"})
    assert answer["status"] == "Deauthorized"
    return company


def disconnected(company: dict[str, Any]) -> Event:
    return Event("connection.disconnected", company["id"], company["name"])


def test_start_reconciles_everything_then_is_ready(world: World) -> None:
    run = world.start()
    first = run.next()
    assert first.merchant is None and first.ok and first.merchants == 3
    assert run.reconciler.ready.is_set()
    assert run.reconciler.not_converged == frozenset()
    for name in MERCHANTS:
        assert world.statuses(name) == ["Linked"]


def test_a_disconnected_merchant_is_relinked_reading_only_its_company(world: World) -> None:
    run = world.start()
    run.next()
    company = deauthorize(world, "20000002")
    mark = len(world.sandbox.app.calls)

    assert run.reconciler.submit(disconnected(company)) == "queued"
    result = run.next()

    calls = world.calls_since(mark)
    assert result.merchant == "20000002" and result.ok and result.done >= 1
    assert world.statuses("20000002") == ["Linked"]
    reads = [c for c in calls if c[0] == "GET"]
    assert len(reads) <= 2
    assert ("GET", "/companies", 200) not in calls  # never the listing
    assert ("GET", f"/companies/{company['id']}", 200) in calls


def test_a_deleted_company_is_made_again(world: World) -> None:
    run = world.start()
    run.next()
    company = world.company("20000003")
    world.client.delete_company(company["id"])

    assert run.reconciler.submit(Event("company.deleted", company["id"], "20000003")) == "queued"
    result = run.next()

    assert result.merchant == "20000003" and result.ok
    again = world.company("20000003")
    assert again["id"] != company["id"]
    assert world.statuses("20000003") == ["Linked"]


def test_companies_no_manifest_declares_are_ignored(world: World) -> None:
    run = world.start()
    run.next()
    mark = len(world.sandbox.app.calls)
    stranger = Event("connection.disconnected", "7f3c0d9e-0000-4000-8000-000000000000", "Other")
    assert run.reconciler.submit(stranger).startswith("ignored")
    assert run.reconciler.waiting == 0
    assert world.calls_since(mark) == []


def test_deliveries_during_a_reconcile_are_coalesced_not_lost(world: World) -> None:
    busy, release = threading.Event(), threading.Event()

    def hold_first(result: Reconciled) -> None:
        # The worker is held inside its first reconcile while deliveries arrive.
        if not busy.is_set():
            busy.set()
            release.wait(30)

    run = world.start(hook=hold_first)
    assert busy.wait(30)
    one, two = deauthorize(world, "20000001"), deauthorize(world, "20000002")
    for _ in range(5):
        run.reconciler.submit(disconnected(one))
    for _ in range(3):
        run.reconciler.submit(disconnected(two))
    assert run.reconciler.waiting == 2
    release.set()

    assert run.next().merchant is None
    done = {run.next().merchant, run.next().merchant}
    assert done == {"20000001", "20000002"}
    assert run.reconciler.waiting == 0
    assert world.statuses("20000001") == ["Linked"] and world.statuses("20000002") == ["Linked"]


class _Hook(Silent):
    """A Progress that runs `on_change` after the first change, and notes whether
    any reconcile started reading while the loop was paused."""

    def __init__(self) -> None:
        self.on_change: Any = None
        self.reads_while_paused: list[bool] = []
        self.paused: Any = lambda: False

    def start(self, label: str, total: int) -> None:
        if label.startswith("Reading"):
            self.reads_while_paused.append(self.paused())

    def change_applied(self, change: Change, error: str | None) -> None:
        if self.on_change is not None:
            action, self.on_change = self.on_change, None
            action()


def test_a_rate_limit_pause_stops_new_changes_and_resumes_at_reset(world: World) -> None:
    hook = _Hook()
    run = world.start(progress=hook, parallelism=1)
    hook.paused = lambda: run.reconciler.paused
    hook.on_change = lambda: run.reconciler.submit(Event("client.rateLimit.reached"))

    paused = run.next()
    assert paused.paused and paused.merchant is None
    assert run.reconciler.paused and run.reconciler.waiting == 1  # put back, not lost
    made = len(world.client.list_companies(1).results)
    assert made < 3

    assert run.reconciler.submit(Event("client.rateLimit.reset")) == "resumed"
    finished = run.next()
    assert finished.ok and finished.merchant is None
    assert True not in hook.reads_while_paused
    for name in MERCHANTS:
        assert world.statuses(name) == ["Linked"]


def test_shutdown_finishes_the_change_in_flight_and_starts_no_other(world: World) -> None:
    hook = _Hook()
    run = world.start(progress=hook, parallelism=1)
    hook.on_change = lambda: run.reconciler.shutdown()

    result = run.next()
    run.thread.join(30)
    assert not run.thread.is_alive()
    assert not result.paused and result.done >= 1
    assert len(world.client.list_companies(1).results) < 3


def test_every_interval_the_manifests_are_read_again(world: World, tmp_path: Path) -> None:
    run = world.start(interval=0.05)
    run.next()
    (world.manifests / "merchants.yaml").write_text(manifest((*MERCHANTS, "20000004")[1:]),
                                                    encoding="utf-8")
    while (result := run.next()).done == 0:
        assert result.merchant is None
    names = {c["name"] for c in world.client.list_companies(1).results}
    assert "20000004" in names
