"""A watch, wired: the endpoint feeding the Reconciler, both logging and counting.

`run_until` is the whole service: the CLI calls it with its signal-driven stop
event, tests with their own. Should the worker ever die, the endpoint would
acknowledge deliveries nobody acts on: `run_until` raises instead, so the
process exits 1 and its supervisor (Kubernetes, systemd) starts a fresh one.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol

from reconciler import engine
from reconciler.codat.client import CodatClient
from reconciler.errors import ReconcilerError
from reconciler.watch.endpoint import WebhookEndpoint
from reconciler.watch.loop import Reconciled, Reconciler, WatchSettings

# How often the waiting thread looks whether the worker died (it never should).
CHECK_EVERY = 0.5


class Log(Protocol):
    """What a watch says (the CLI's Reporter has these)."""

    def note(self, event: str, message: str, **fields: Any) -> None: ...
    def tell(self, event: str, message: str, *, prefix: str = "", **fields: Any) -> None: ...


class Watch:
    def __init__(
        self,
        client: CodatClient,
        settings: WatchSettings,
        endpoint: WebhookEndpoint,
        log: Log,
        progress: engine.Progress = engine.SILENT,
    ) -> None:
        self.endpoint = endpoint
        self._log = log
        endpoint.log = self._delivered
        endpoint.refusals = self._refused
        self.reconciler = Reconciler(
            client, settings, on_reconciled=self._reconciled, progress=progress
        )
        endpoint.sink = self.reconciler
        endpoint.metrics.follow(lambda: self.reconciler.waiting, lambda: self.reconciler.paused)
        self._worker = threading.Thread(target=self._work, name="watch-reconcile")
        self._died: str | None = None

    def start(self) -> None:
        self.endpoint.serve_in_background()
        self._worker.start()

    def stop(self) -> None:
        """The change in flight finishes, then the endpoint closes."""
        self.reconciler.shutdown()
        self._worker.join()
        self.endpoint.stop()

    def run_until(self, stop: threading.Event) -> None:
        """Serve until `stop` is set; raises ReconcilerError if the worker died."""
        self.start()
        try:
            while not stop.wait(CHECK_EVERY) and self._worker.is_alive():
                pass
        finally:
            self.stop()
        if self._died is not None:
            raise ReconcilerError(
                f"watch stopped: the reconcile worker died ({self._died}); "
                "a fresh start converges from where it was"
            )

    def _work(self) -> None:
        try:
            self.reconciler.run()
        except BaseException as err:  # said by run_until, not as a thread's traceback
            self._died = f"unexpected {type(err).__name__}"

    def _reconciled(self, result: Reconciled) -> None:
        r = self.reconciler
        self.endpoint.metrics.reconciled(result, len(r.not_converged), r.last_success)
        scope = _scope(result.merchants)
        outcome = (
            f"error: {result.error}"
            if result.error
            else "paused (rate limit), will resume"
            if result.paused
            else f"{result.done} {'change' if result.done == 1 else 'changes'} done, "
            f"{result.failed} failed"
        )
        fields: dict[str, Any] = {"scope": result.scope}
        if result.merchants is not None:
            fields["merchants"] = list(result.merchants)
        fields.update(
            planned=result.planned,
            done=result.done,
            failed=result.failed,
            duration_s=round(result.duration_s, 3),
            ok=result.ok,
            not_converged=len(r.not_converged),
        )
        if result.error:
            fields["error"] = result.error
        message = f"Reconciled {scope} in {result.duration_s:.1f}s: {outcome}"
        if result.ok:
            self._log.note("reconcile", message, **fields)
        else:
            self._log.tell("reconcile", message, level="error", **fields)

    def _delivered(self, fields: dict[str, Any]) -> None:
        kind = fields.get("event_type", "delivery")
        message = (
            f"Webhook {fields['svix_id'] or '(no id)'} {kind}: {fields['outcome']} "
            f"({fields['status']})"
        )
        self._log.note("delivery", message, **fields)

    def _refused(self, fields: dict[str, Any]) -> None:
        self._log.note("refused", _refusal(fields), **fields)


def _refusal(fields: dict[str, Any]) -> str:
    if "refused" in fields:
        return (
            f"Refused {fields['refused']} connections and dropped {fields['evicted']} "
            f"slow ones since the last such line: {fields['reason']} ({fields['status']})"
        )
    what = f"{fields['request']!r}" if "request" in fields else "a request"
    return f"Refused {what} from {fields['client']}: {fields['reason']} ({fields['status']})"


def _scope(merchants: tuple[str, ...] | None, named: int = 3) -> str:
    if merchants is None:
        return "all merchants"
    if len(merchants) == 1:
        return f"merchant {merchants[0]}"
    more = f" and {len(merchants) - named} more" if len(merchants) > named else ""
    return f"{len(merchants)} merchants ({', '.join(merchants[:named])}{more})"
