"""A `watch` service, wired: the webhook endpoint, its verifier and metrics, and the
reconcile loop over a client.

The watch modules are imported when a service is built, not with the engine: they
need the `watch` extra (reconciler/watch/extra.py says so when it is missing).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reconciler.codat.client import CodatClient
from reconciler.engine.progress import SILENT, Progress
from reconciler.errors import ReconcilerError

if TYPE_CHECKING:
    from reconciler.watch.loop import WatchSettings
    from reconciler.watch.service import Log, Watch


def watch_service(
    client: CodatClient,
    settings: WatchSettings,
    *,
    listen: tuple[str, int],
    webhook_secret: str,
    log: Log,
    progress: Progress = SILENT,
) -> Watch:
    """A watch listening on `listen` (not serving yet: `run_until` serves), verifying
    deliveries with `webhook_secret` (the whsec_... secret of the Codat webhook consumer).
    Its endpoint's socket is the caller's to close (`service.endpoint.server_close()`)."""
    from reconciler.watch.endpoint import WebhookEndpoint
    from reconciler.watch.metrics import WatchMetrics
    from reconciler.watch.service import Watch
    from reconciler.watch.signature import DeliveryVerifier

    verifier = DeliveryVerifier(webhook_secret)
    try:
        endpoint = WebhookEndpoint(listen, verifier, WatchMetrics())
    except OSError as err:
        raise ReconcilerError(
            f"--listen {listen[0]}:{listen[1]}: cannot listen there: {err.strerror or err}"
        ) from None
    try:
        return Watch(client, settings, endpoint, log, progress=progress)
    except BaseException:
        endpoint.server_close()
        raise
