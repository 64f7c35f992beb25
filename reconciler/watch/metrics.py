"""What `GET /metrics` shows, with prometheus-client, every name `codat_reconciler_`.

A registry of its own, not the library's global one: two watches in one process
(tests) do not share counts, and no process-wide collectors are exposed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reconciler.codat.observe import ApiCall
from reconciler.watch.extra import require
from reconciler.watch.loop import Reconciled


class WatchMetrics:
    def __init__(self) -> None:
        prometheus = require("prometheus_client")
        self._prometheus = prometheus
        self.registry = prometheus.CollectorRegistry(auto_describe=True)
        r = self.registry
        self.applied = prometheus.Counter(
            "codat_reconciler_changes_applied", "Changes made in Codat.", registry=r
        )
        self.failed = prometheus.Counter(
            "codat_reconciler_changes_failed", "Changes Codat refused or that failed.", registry=r
        )
        self.api_calls = prometheus.Counter(
            "codat_reconciler_api_calls",
            "Codat API call attempts, by HTTP status ('none': no answer).",
            ["status"],
            registry=r,
        )
        self.reconciles = prometheus.Counter(
            "codat_reconciler_reconciles",
            "Reconciles run, by scope and outcome.",
            ["scope", "outcome"],
            registry=r,
        )
        self.deliveries = prometheus.Counter(
            "codat_reconciler_webhook_deliveries",
            "Webhook deliveries, by HTTP status answered.",
            ["status"],
            registry=r,
        )
        self.refusals = prometheus.Counter(
            "codat_reconciler_http_refused",
            "Connections and requests the endpoint refused "
            "or dropped, by reason: busy (503, no place), evicted (slow, its place taken), "
            "timeout (408), head_too_large (431), malformed (other 4xx), error (500).",
            ["reason"],
            registry=r,
        )
        self.last_success = prometheus.Gauge(
            "codat_reconciler_last_successful_reconcile_timestamp_seconds",
            "When the last full reconcile without errors finished (Unix time).",
            registry=r,
        )
        self.not_converged = prometheus.Gauge(
            "codat_reconciler_merchants_not_converged",
            "Declared merchants the last reconciles left short of their manifests.",
            registry=r,
        )

    def follow(self, waiting: Callable[[], int], paused: Callable[[], bool]) -> None:
        """Gauges read when scraped: the backlog a burst or a pause leaves, and the pause."""
        prometheus, r = self._prometheus, self.registry
        prometheus.Gauge(
            "codat_reconciler_reconciles_waiting",
            "Reconciles waiting: merchants named by deliveries, plus one for a full reconcile due.",
            registry=r,
        ).set_function(waiting)
        prometheus.Gauge(
            "codat_reconciler_paused",
            "1 while Codat's rate limit pauses the work "
            "(client.rateLimit.reached until client.rateLimit.reset).",
            registry=r,
        ).set_function(lambda: float(paused()))

    def api_call(self, call: ApiCall) -> None:
        self.api_calls.labels(status=str(call.status or "none")).inc()

    def reconciled(
        self, result: Reconciled, not_converged: int, last_success: float | None
    ) -> None:
        self.applied.inc(result.done)
        self.failed.inc(result.failed)
        outcome = (
            "error"
            if result.error
            else "paused"
            if result.paused
            else ("ok" if result.ok else "incomplete")
        )
        self.reconciles.labels(scope=result.scope, outcome=outcome).inc()
        self.not_converged.set(not_converged)
        if last_success is not None:
            self.last_success.set(last_success)

    def delivery(self, status: int) -> None:
        self.deliveries.labels(status=str(status)).inc()

    def refused(self, reason: str) -> None:
        self.refusals.labels(reason=reason).inc()

    def exposition(self) -> tuple[bytes, str]:
        """The text format and its content type."""
        body: Any = self._prometheus.generate_latest(self.registry)
        return bytes(body), str(self._prometheus.CONTENT_TYPE_LATEST)
