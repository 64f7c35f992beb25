"""The client-wide settings as Codat has them, read only as far as the manifests declare.

Webhook consumers are always read whole (at most 50: one call). Sync settings are
read when any data type is declared; the sync flow's text per declared locale; the
visible accounts per declared platform key. A merchant-only manifest set reads none.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Protocol

from reconciler.manifests.client import ClientSettings


class ClientSettingsReads(Protocol):
    def list_webhook_consumers(self) -> list[dict[str, Any]]: ...
    def sync_settings(self) -> dict[str, Any]: ...
    def sync_flow_text(self, locale: str) -> dict[str, str | None]: ...
    def visible_accounts(self, platform_key: str) -> list[str] | None: ...


@dataclass(frozen=True, slots=True)
class LiveClientSettings:
    webhooks: tuple[dict[str, Any], ...] = ()
    # `SyncSettings.settings` by data type; None when no data type is declared.
    sync_settings: dict[str, dict[str, Any]] | None = None
    text: dict[str, dict[str, str | None]] = field(default_factory=dict)
    visible_accounts: dict[str, list[str] | None] = field(default_factory=dict)

    def digest(self) -> str:
        """sha256 over everything read, so a saved plan is stale once any of it moves."""
        row = [
            sorted(self.webhooks, key=lambda w: (str(w.get("url")), str(w.get("id")))),
            self.sync_settings,
            self.text,
            self.visible_accounts,
        ]
        canonical = json.dumps(row, sort_keys=True, default=str)
        return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()

    def consumers(self, url: str) -> list[dict[str, Any]]:
        return [w for w in self.webhooks if w.get("url") == url]


def read_client_settings(
    client: ClientSettingsReads, desired: ClientSettings
) -> LiveClientSettings:
    settings: dict[str, dict[str, Any]] | None = None
    if desired.sync_settings:
        answer = client.sync_settings()
        settings = {str(s["dataType"]): dict(s) for s in answer["settings"]}
    return LiveClientSettings(
        webhooks=tuple(client.list_webhook_consumers()) if desired.webhooks else (),
        sync_settings=settings,
        text={locale: client.sync_flow_text(locale) for locale in sorted(desired.text)},
        visible_accounts={
            key: client.visible_accounts(key) for key in sorted(desired.visible_accounts)
        },
    )
