"""The reconcile loop: one reconcile at a time, on one worker thread.

Work waiting is a set, not a queue: a flag for "everything" and the merchants
named by deliveries, each with the latest company id heard of. Deliveries that
arrive during a reconcile land in it and are coalesced (a merchant named ten
times is reconciled once), never lost; the next reconcile takes every merchant
waiting at once (scope.py reads their companies together), once a burst has
settled (SETTLE_GAP, SETTLE_MAX below). A full reconcile covers every merchant,
so it clears the merchants waiting when it starts (it reads after they arrived).

A rate-limit pause, or a shutdown, stops the apply in flight from starting new
changes (those running finish); a paused reconcile is put back to wait, so the
pause loses nothing either.

Time decides when work starts (the interval, the settling of a burst, the end of a
pause): `clock` tells it, `wait` waits on the worker's condition for it, and both
are injected by tests, which move time rather than sleep. A shutdown or a delivery
notifies the condition, so no wait outlasts what it waits for.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from reconciler import engine
from reconciler.apply.executor import ApplyResult
from reconciler.codat.client import CodatClient
from reconciler.errors import ReconcilerError
from reconciler.manifests.references import EnvAllowlist
from reconciler.watch.events import (
    MERCHANT_EVENTS,
    RATE_LIMIT_REACHED,
    RATE_LIMIT_RESET,
    Event,
)
from reconciler.watch.scope import DeclaredMerchants, Trigger, listing_calls, reconcile

# A lost `client.rateLimit.reset` must not pause the service for good: Codat's
# quota is a daily one, so no pause outlasts a day.
PAUSE_LIMIT = 24 * 3600.0
# A failed full reconcile (Codat unreachable, manifests mid-update) is tried
# again this soon, rather than a whole interval later.
RETRY_AFTER = 30.0
# Deliveries come in bursts (a partner revoking every token sends one per merchant).
# The worker starts once no delivery came for SETTLE_GAP, or SETTLE_MAX after the
# first one waiting: one read and one plan for the burst rather than one per few,
# and the endpoint has the interpreter to itself while the burst arrives. A lone
# delivery waits SETTLE_GAP; a steady stream cannot hold the work back longer.
SETTLE_GAP = 0.1
SETTLE_MAX = 5.0


@dataclass(frozen=True, slots=True)
class WatchSettings:
    paths: tuple[str, ...]
    interval: float = 300.0
    prune: bool = False
    max_deletes: int | None = None
    parallelism: int = 10
    secret_env: EnvAllowlist | None = None  # the variables `{env: NAME}` may name
    fingerprint_key: bytes | None = field(default=None, repr=False)  # as PlanRun's


@dataclass(frozen=True, slots=True)
class Reconciled:
    """What one reconcile did, for the log and the metrics."""

    merchants: tuple[str, ...] | None  # the merchants deliveries named; None: all (full)
    planned: int  # merchants planned
    done: int
    failed: int
    duration_s: float
    error: str | None = None
    paused: bool = False  # stopped by a rate-limit pause; put back to wait

    @property
    def ok(self) -> bool:
        return self.error is None and not self.failed and not self.paused

    @property
    def scope(self) -> str:
        """For the log and the metrics' label: `full` or `merchants`."""
        return "full" if self.merchants is None else "merchants"


_FULL = "full"
Batch = tuple[Trigger, ...]


class Reconciler:
    """Loads the manifests at once (bad ones raise before anything is served)."""

    def __init__(
        self,
        client: CodatClient,
        settings: WatchSettings,
        *,
        on_reconciled: Callable[[Reconciled], None] = lambda r: None,
        progress: engine.Progress = engine.SILENT,
        clock: Callable[[], float] = time.monotonic,
        wait: Callable[[threading.Condition, float], Any] = threading.Condition.wait,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self._settings = settings
        self._on_reconciled = on_reconciled
        self._progress = progress
        self._clock = clock
        self._wait = wait
        self._wall_clock = wall_clock  # dates last_success, for /metrics
        self.declared = DeclaredMerchants(
            engine.load_manifests(settings.paths, secret_env=settings.secret_env)
        )
        self._wake = threading.Condition()
        self._full = True
        self._pending: dict[str, Trigger] = {}
        self._first_waiting = 0.0  # when the oldest merchant waiting arrived
        self._last_arrival = 0.0
        self._next_full = 0.0
        self._listing_calls = 1  # what reading the listing costs, as the last full read saw
        self._paused_until: float | None = None
        self._stopping = False
        self._halt = threading.Event()  # the apply in flight stops starting changes
        self.ready = threading.Event()  # set once a full reconcile has finished
        self.not_converged: frozenset[str] = frozenset()
        self.last_success: float | None = None  # epoch seconds of the last clean full run

    # -- what arrives ---------------------------------------------------------

    def submit(self, event: Event) -> str:
        """Take a verified event; the outcome, in words for the delivery log."""
        if event.type == RATE_LIMIT_REACHED:
            self.pause()
            return "paused"
        if event.type == RATE_LIMIT_RESET:
            self.resume()
            return "resumed"
        if event.type not in MERCHANT_EVENTS or event.company_id is None:
            return "nothing to do"
        trigger = self.declared.trigger(event.company_id, event.company_name, event.deleted)
        if trigger is None:
            return "ignored: no manifest declares this company"
        with self._wake:
            self._arrived(trigger)
            self._wake.notify()
        return "queued"

    def pause(self) -> None:
        with self._wake:
            self._paused_until = self._clock() + PAUSE_LIMIT
            self._halt.set()

    def resume(self) -> None:
        with self._wake:
            self._paused_until = None
            self._wake.notify()

    def shutdown(self) -> None:
        """The reconcile in flight finishes the changes it started; no other begins."""
        with self._wake:
            self._stopping = True
            self._halt.set()
            self._wake.notify()

    @property
    def paused(self) -> bool:
        return self._paused_until is not None

    @property
    def waiting(self) -> int:
        """Reconciles waiting: merchants, plus one for a full reconcile due."""
        return len(self._pending) + int(self._full)

    def _arrived(self, trigger: Trigger) -> None:
        """Under self._wake: a merchant to reconcile, latest company first."""
        now = self._clock()
        if not self._pending:
            self._first_waiting = now
        self._last_arrival = now
        self._pending[trigger.merchant] = trigger

    # -- the worker -----------------------------------------------------------

    def run(self) -> None:
        """Reconcile until `shutdown`; run it on one thread only."""
        while (work := self._next_work()) is not None:
            self._do(work)

    def _next_work(self) -> Batch | str | None:
        with self._wake:
            while not self._stopping:
                now = self._clock()
                if self._paused_until is not None and now >= self._paused_until:
                    self._paused_until = None
                if self._paused_until is not None:
                    self._wait(self._wake, self._paused_until - now)
                    continue
                self._halt = threading.Event()
                if self._full or now >= self._next_full:
                    self._full = False
                    self._pending.clear()
                    return _FULL
                settled = min(self._last_arrival + SETTLE_GAP, self._first_waiting + SETTLE_MAX)
                if self._pending and now >= settled:
                    batch = tuple(self._pending.values())
                    self._pending.clear()
                    return batch
                until = min(settled, self._next_full) if self._pending else self._next_full
                self._wait(self._wake, until - now)
            return None

    def _do(self, work: Batch | str) -> None:
        started = self._clock()
        halt = self._halt
        batch = work if isinstance(work, tuple) else None
        planned: engine.Planned | None = None
        result = ApplyResult()
        error = None
        try:
            planned = self._plan(batch)
            if planned.plan.has_changes:
                result = engine.apply(
                    self._client,
                    planned,
                    parallelism=self._settings.parallelism,
                    progress=self._progress,
                    stop=halt,
                )
        except ReconcilerError as err:
            error = str(err)
        except Exception as err:
            # A service outlives one bad reconcile: the next converges from what it did.
            error = f"unexpected {type(err).__name__}"
        paused = bool(result.not_started) and not self._stopping
        self._settle(batch, planned, result, error, paused)
        self._on_reconciled(
            Reconciled(
                merchants=tuple(t.merchant for t in batch) if batch is not None else None,
                planned=(
                    len(batch)
                    if batch is not None
                    else len(planned.desired.merchants)
                    if planned
                    else 0
                ),
                done=len(result.done),
                failed=len(result.failed),
                duration_s=self._clock() - started,
                error=error,
                paused=paused,
            )
        )

    def _plan(self, batch: Batch | None) -> engine.Planned:
        s = self._settings
        if batch is None:
            # Re-read each time: a git-sync sidecar may have changed them.
            self.declared = DeclaredMerchants(
                engine.load_manifests(s.paths, secret_env=s.secret_env), self.declared.known
            )
            run = engine.PlanRun(
                s.prune, (), s.max_deletes, require_secrets=True, fingerprint_key=s.fingerprint_key
            )
            planned = engine.plan(self._client, self.declared.desired, run, progress=self._progress)
            self._listing_calls = listing_calls(len(planned.live.companies))
            self.declared.matched(planned)
        else:
            names = tuple(t.merchant for t in batch)
            run = engine.PlanRun(
                s.prune,
                names,
                s.max_deletes,
                require_secrets=True,
                fingerprint_key=s.fingerprint_key,
            )
            planned, listing = reconcile(
                self._client,
                self.declared.desired,
                batch,
                run,
                parallelism=s.parallelism,
                listing_calls=self._listing_calls,
                progress=self._progress,
            )
            if listing:
                self.declared.matched(planned, names)
        engine.guard_deletes(planned, run)
        return planned

    def _settle(
        self,
        batch: Batch | None,
        planned: engine.Planned | None,
        result: ApplyResult,
        error: str | None,
        paused: bool,
    ) -> None:
        unconverged = self.declared.unconverged(planned, result) if planned else set()
        self.declared.known.update(result.created)
        with self._wake:
            if paused:  # put back to wait: the pause loses nothing
                if batch is None:
                    self._full = True
                else:
                    not_started = {c.merchant for c in result.not_started}
                    for trigger in batch:  # a newer delivery's trigger stays
                        if trigger.merchant in not_started - self._pending.keys():
                            self._arrived(trigger)
            if batch is None:
                failed = error is not None
                self._next_full = self._clock() + (
                    min(RETRY_AFTER, self._settings.interval) if failed else self._settings.interval
                )
                if not failed:
                    self.not_converged = frozenset(unconverged)
                    self.ready.set()
                    if result.ok and not paused:
                        self.last_success = self._wall_clock()
            elif planned is not None:
                others = self.not_converged - {t.merchant for t in batch}
                self.not_converged = frozenset(others | unconverged)
