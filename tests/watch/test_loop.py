"""The reconcile loop against a sandbox server: what it reads, coalesces, pauses, stops."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from reconciler.engine.progress import Silent
from reconciler.plan.model import Change
from reconciler.watch.events import Event
from reconciler.watch.loop import SETTLE_GAP, SETTLE_MAX, Reconciled
from reconciler.watch.scope import READ_EACH_UP_TO
from tests.watch.conftest import HANG_GUARD, MERCHANTS, World, manifest


def deauthorize(world: World, name: str) -> dict[str, Any]:
    company = world.company(name)
    (connection,) = company["dataConnections"]
    answer = world.client.update_connection(
        company["id"], connection["id"], {"status": "Deauthorized"}
    )
    assert answer["status"] == "Deauthorized"
    return company


def disconnected(company: dict[str, Any]) -> Event:
    return Event("connection.disconnected", company["id"], company["name"])


def test_start_reconciles_everything_then_is_ready(world: World) -> None:
    run = world.start()
    first = run.next()
    assert first.merchants is None and first.ok and first.planned == 3
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
    assert result.merchants == ("20000002",) and result.ok and result.done >= 1
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

    assert result.merchants == ("20000003",) and result.ok
    again = world.company("20000003")
    assert again["id"] != company["id"]
    assert world.statuses("20000003") == ["Linked"]


def test_a_deleted_company_is_not_made_again_beside_a_lookalike(world: World) -> None:
    """Deleted, and a company made by hand reads like the merchant's name: as `plan`,
    watch names it a conflict and creates nothing beside it."""
    run = world.start()
    run.next()
    company = world.company("20000003")
    world.client.delete_company(company["id"])
    world.client.create_company({"name": "20000003 "}, idempotency_key="k-lookalike")
    mark = len(world.sandbox.app.calls)

    assert run.reconciler.submit(Event("company.deleted", company["id"], "20000003")) == "queued"
    result = run.next()

    calls = world.calls_since(mark)
    assert result.merchants == ("20000003",) and result.done == 0
    assert ("GET", "/companies", 200) in calls  # only the listing shows a look-alike
    assert [c for c in calls if c[0] != "GET"] == []
    assert "20000003" in run.reconciler.not_converged


def test_a_company_not_known_as_the_merchants_is_checked_against_the_listing(
    world: World,
) -> None:
    """A company made by hand since, with a merchant's name: `plan` calls that a conflict
    and leaves the merchant alone. A delivery about it must not make watch act on it
    alone (it would send the merchant's credentials to a company that may not be its)."""
    run = world.start()
    run.next()
    twin = world.client.create_company({"name": "20000002"}, idempotency_key="k-twin")
    world.client.create_connection(twin["id"], "dfxm", idempotency_key="k-twin-conn")
    mark = len(world.sandbox.app.calls)

    assert run.reconciler.submit(disconnected(twin)) == "queued"
    result = run.next()

    calls = world.calls_since(mark)
    assert result.merchants == ("20000002",) and result.done == 0
    assert ("GET", "/companies", 200) in calls  # the listing, not the twin alone
    assert [c for c in calls if c[0] != "GET"] == []  # nothing sent to either company
    assert "20000002" in run.reconciler.not_converged  # the conflict, for a person


def test_companies_no_manifest_declares_are_ignored(world: World) -> None:
    run = world.start()
    run.next()
    mark = len(world.sandbox.app.calls)
    stranger = Event("connection.disconnected", "7f3c0d9e-0000-4000-8000-000000000000", "Other")
    assert run.reconciler.submit(stranger).startswith("ignored")
    assert run.reconciler.waiting == 0
    assert world.calls_since(mark) == []


class HoldFirst:
    """An on_reconciled hook holding the worker inside its first reconcile."""

    def __init__(self) -> None:
        self.busy, self.release = threading.Event(), threading.Event()

    def __call__(self, result: Reconciled) -> None:
        if not self.busy.is_set():
            self.busy.set()
            self.release.wait(30)


def test_deliveries_during_a_reconcile_are_coalesced_not_lost(world: World) -> None:
    hold = HoldFirst()
    run = world.start(hook=hold)
    assert hold.busy.wait(30)
    one, two = deauthorize(world, "20000001"), deauthorize(world, "20000002")
    mark = len(world.sandbox.app.calls)
    for _ in range(5):
        run.reconciler.submit(disconnected(one))
    for _ in range(3):
        run.reconciler.submit(disconnected(two))
    assert run.reconciler.waiting == 2
    hold.release.set()

    assert run.next().merchants is None
    together = run.next()  # both merchants waiting, in one reconcile
    assert together.ok and sorted(together.merchants or ()) == ["20000001", "20000002"]
    assert run.reconciler.waiting == 0
    reads = sorted(c for c in world.calls_since(mark) if c[0] == "GET")
    assert reads == sorted(("GET", f"/companies/{c['id']}", 200) for c in (one, two))
    assert world.statuses("20000001") == ["Linked"] and world.statuses("20000002") == ["Linked"]


class StoppedClock:
    """The Reconciler's clock, moved only by the test, and its waits, counted."""

    def __init__(self) -> None:
        self.now = 1000.0
        self._waits = 0
        self._counted = threading.Condition()

    def __call__(self) -> float:
        return self.now

    def wait(self, condition: threading.Condition, seconds: float) -> None:
        with self._counted:
            self._waits += 1
            self._counted.notify_all()
        # Time moves only when the test says: a delivery or a shutdown wakes the
        # worker; the short real wait only lets it see a move of `now`.
        condition.wait(min(seconds, 0.01))

    def looked_again(self) -> None:
        """Block until the worker has weighed its work with the time as it is now: a wait
        begun after one that began after this call follows a full look."""
        with self._counted:
            wanted = self._waits + 2
            assert self._counted.wait_for(lambda: self._waits >= wanted, HANG_GUARD)


def test_a_burst_is_reconciled_once_it_settles(world: World) -> None:
    clock = StoppedClock()
    run = world.start(clock=clock)
    run.next()
    one, two = deauthorize(world, "20000001"), deauthorize(world, "20000002")
    run.reconciler.submit(disconnected(one))
    clock.now += SETTLE_GAP * 0.6
    run.reconciler.submit(disconnected(two))
    clock.now += SETTLE_GAP * 0.6  # past the first's gap, not the second's
    clock.looked_again()
    assert run.reconciler.waiting == 2  # looked at, and left waiting

    clock.now += SETTLE_GAP
    together = run.next()
    assert sorted(together.merchants or ()) == ["20000001", "20000002"]


def test_a_steady_stream_holds_the_work_back_at_most_settle_max(world: World) -> None:
    clock = StoppedClock()
    run = world.start(clock=clock)
    run.next()
    one = deauthorize(world, "20000001")
    started = clock.now
    while clock.now < started + SETTLE_MAX:
        run.reconciler.submit(disconnected(one))  # never a quiet gap
        clock.now += SETTLE_GAP / 2
    assert run.next().merchants == ("20000001",)
    assert world.statuses("20000001") == ["Linked"]


def test_a_burst_naming_many_merchants_reads_the_listing_once(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A partner revoking every token at once: one list call, not one read each."""
    names = tuple(f"2100{i:04d}" for i in range(1, READ_EACH_UP_TO + 3))
    for i in range(1, len(names) + 1):
        monkeypatch.setenv(f"WATCH_TOKEN_{i}", f"watch-secret-token-{i:04d}")
    (world.manifests / "merchants.yaml").write_text(manifest(names), encoding="utf-8")
    hold = HoldFirst()
    run = world.start(hook=hold)
    assert hold.busy.wait(30)
    companies = [deauthorize(world, name) for name in names]
    mark = len(world.sandbox.app.calls)
    for company in companies:
        assert run.reconciler.submit(disconnected(company)) == "queued"
    hold.release.set()

    assert run.next().merchants is None
    burst = run.next()
    assert burst.ok and sorted(burst.merchants or ()) == sorted(names)
    assert burst.done == len(names)
    reads = [c for c in world.calls_since(mark) if c[0] == "GET"]
    assert reads == [("GET", "/companies", 200)]
    for name in names:
        assert world.statuses(name) == ["Linked"]


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
    assert paused.paused and paused.merchants is None
    assert run.reconciler.paused and run.reconciler.waiting == 1  # put back, not lost
    made = len(world.client.list_companies(1).results)
    assert made < 3

    assert run.reconciler.submit(Event("client.rateLimit.reset")) == "resumed"
    finished = run.next()
    assert finished.ok and finished.merchants is None
    assert True not in hook.reads_while_paused
    for name in MERCHANTS:
        assert world.statuses(name) == ["Linked"]


def test_a_pause_puts_back_only_the_merchants_not_started(world: World) -> None:
    hold, hook = HoldFirst(), _Hook()
    run = world.start(hook=hold, progress=hook, parallelism=1)
    assert hold.busy.wait(30)
    one, two = deauthorize(world, "20000001"), deauthorize(world, "20000002")
    run.reconciler.submit(disconnected(one))
    run.reconciler.submit(disconnected(two))
    hook.on_change = lambda: run.reconciler.submit(Event("client.rateLimit.reached"))
    hold.release.set()

    assert run.next().merchants is None
    paused = run.next()
    assert paused.paused and paused.done == 1 and len(paused.merchants or ()) == 2
    assert run.reconciler.waiting == 1  # the other merchant, put back
    relinked = [n for n in ("20000001", "20000002") if world.statuses(n) == ["Linked"]]
    assert len(relinked) == 1

    run.reconciler.submit(Event("client.rateLimit.reset"))
    finished = run.next()
    (other,) = {"20000001", "20000002"} - set(relinked)
    assert finished.ok and finished.merchants == (other,)
    assert world.statuses(other) == ["Linked"]


def test_shutdown_finishes_the_change_in_flight_and_starts_no_other(world: World) -> None:
    hook = _Hook()
    run = world.start(progress=hook, parallelism=1)
    hook.on_change = lambda: run.reconciler.shutdown()

    result = run.next()
    run.thread.join(30)
    assert not run.thread.is_alive()
    assert not result.paused and result.done >= 1
    assert len(world.client.list_companies(1).results) < 3


def test_shutdown_ends_a_rate_limit_pause_at_once(world: World) -> None:
    """A pause lasts until Codat's reset (up to a day): SIGTERM must not wait for it."""
    run = world.start()
    assert run.next().ok
    assert run.reconciler.submit(Event("client.rateLimit.reached")) == "paused"
    queued = run.reconciler.submit(disconnected(deauthorize(world, "20000001")))
    assert queued == "queued"  # work waiting behind the pause
    stopping = time.monotonic()
    run.reconciler.shutdown()
    run.thread.join(HANG_GUARD)
    assert not run.thread.is_alive() and time.monotonic() - stopping < 2.0
    assert run.results.empty()  # nothing ran during the pause


def test_every_interval_the_manifests_are_read_again(world: World, tmp_path: Path) -> None:
    run = world.start(interval=0.05)
    run.next()
    (world.manifests / "merchants.yaml").write_text(
        manifest((*MERCHANTS, "20000004")[1:]), encoding="utf-8"
    )
    while (result := run.next()).done == 0:
        assert result.merchants is None
    names = {c["name"] for c in world.client.list_companies(1).results}
    assert "20000004" in names


def test_prune_only_when_given_and_behind_the_same_guard(world: World) -> None:
    clock = StoppedClock()
    run = world.start(clock=clock, interval=60.0)
    run.next()
    (world.manifests / "merchants.yaml").write_text(manifest(MERCHANTS[:1]), encoding="utf-8")

    def names() -> set[str]:
        return {c["name"] for c in world.client.list_companies(1).results}

    clock.now += 60.0  # the next full reconcile is due
    kept = run.next()
    assert kept.ok and kept.done == 0 and names() == set(MERCHANTS)  # no --prune: left be
    run.stop()

    guarded = world.start(prune=True, max_deletes=1)
    refused = guarded.next()
    assert refused.error is not None and "more than --max-deletes 1" in refused.error
    assert refused.done == 0 and names() == set(MERCHANTS)
    assert not guarded.reconciler.ready.is_set()  # /readyz stays 503 until one succeeds
    guarded.stop()

    pruning = world.start(prune=True, max_deletes=2)
    pruned = pruning.next()
    assert pruned.ok and pruned.done == 2 and names() == {MERCHANTS[0]}


def test_a_full_reconcile_covers_the_client_settings_and_a_merchant_one_does_not(
    world: World,
) -> None:
    hook = "https://reconciler.example.com/webhooks/codat"
    (world.manifests / "client.yaml").write_text(
        "version: 1\nclient:\n  webhooks:\n"
        f"    - url: {hook}\n      eventTypes: [connection.disconnected]\nmerchants: []\n",
        encoding="utf-8",
    )
    run = world.start()
    first = run.next()
    assert first.merchants is None and first.ok
    assert [c["url"] for c in world.client.list_webhook_consumers()] == [hook]

    company = deauthorize(world, "20000002")
    mark = len(world.sandbox.app.calls)
    run.reconciler.submit(disconnected(company))
    result = run.next()
    assert result.merchants == ("20000002",) and result.ok
    assert not [c for c in world.calls_since(mark) if c[1].startswith("/webhooks")]
