"""Whether the webhook consumer `watch` listens on is there: a line of `status`.

`watch` is fed by the consumer whose URL ends with its delivery path
(/webhooks/codat). When the manifests' `client:` section declares one, `status`
reads the consumers (one call) and says whether it exists and is enabled; a
manifest set without one makes no call.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol
from urllib.parse import urlsplit

from reconciler.manifests.model import DesiredState
from reconciler.plan.client import consumer_fields

# Where `watch` takes deliveries (reconciler/watch/endpoint.py serves it).
WATCH_PATH = "/webhooks/codat"


class ConsumerState(StrEnum):
    ENABLED = "enabled"
    DISABLED = "disabled"
    MISSING = "missing"
    DIFFERENT = "different"  # exists, enabled, but not as declared: apply replaces it


class ConsumerReads(Protocol):
    def list_webhook_consumers(self) -> list[dict[str, Any]]: ...


@dataclass(frozen=True, slots=True)
class WatchConsumer:
    url: str
    state: ConsumerState

    def sentence(self) -> str:
        said = {
            ConsumerState.ENABLED: "exists and is enabled",
            ConsumerState.DISABLED: "exists but is disabled: watch receives nothing",
            ConsumerState.MISSING: "does not exist: watch receives nothing until apply makes it",
            ConsumerState.DIFFERENT: "exists and is enabled, but not as declared: apply "
            "replaces it",
        }
        return f"watch's webhook consumer {self.url} {said[self.state]}"


def watch_consumer(client: ConsumerReads, desired: DesiredState) -> WatchConsumer | None:
    """The state of the declared consumer that feeds `watch`; None when none is declared."""
    if desired.client is None:
        return None
    declared = [
        w
        for w in desired.client.webhooks
        if not w.absent and urlsplit(w.url).path.rstrip("/") == WATCH_PATH
    ]
    if not declared:
        return None
    webhook = declared[0]
    live = [c for c in client.list_webhook_consumers() if c.get("url") == webhook.url]
    if not live:
        return WatchConsumer(webhook.url, ConsumerState.MISSING)
    wanted = {
        "eventTypes": list(webhook.event_types),
        "companyTags": list(webhook.company_tags),
        "disabled": webhook.disabled,
    }
    if any(consumer_fields(c) == wanted and not c.get("disabled") for c in live):
        return WatchConsumer(webhook.url, ConsumerState.ENABLED)
    if all(c.get("disabled") for c in live):
        return WatchConsumer(webhook.url, ConsumerState.DISABLED)
    return WatchConsumer(webhook.url, ConsumerState.DIFFERENT)
