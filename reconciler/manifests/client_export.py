"""The live client-wide settings written as a manifest's `client:` section (`export`).

Webhook consumers and sync settings are written whole; of the sync flow's text,
only what differs from Codat's defaults (the rest is what a new client has, and
declaring it would only pin it). Visible accounts are not written: Codat lists
them per platform key and has no call naming the keys that were set.
"""

from __future__ import annotations

from typing import Any

import yaml

from reconciler.codat.client_defaults import LOCALES, default_text
from reconciler.live.client import ClientSettingsReads

CLIENT_FILE = "client.yaml"
HEADER = """\
# Written by `codat-reconciler export` from live Codat: the client-wide settings.
"""


def client_section(client: ClientSettingsReads) -> dict[str, Any]:
    section: dict[str, Any] = {}
    webhooks = []
    for consumer in sorted(client.list_webhook_consumers(), key=lambda c: str(c["url"])):
        entry: dict[str, Any] = {"url": consumer["url"]}
        entry["eventTypes"] = sorted(set(consumer.get("eventTypes") or []))
        if consumer.get("companyTags"):
            entry["companyTags"] = sorted(set(consumer["companyTags"]))
        if consumer.get("disabled"):
            entry["disabled"] = True
        webhooks.append(entry)
    if webhooks:
        section["webhooks"] = webhooks
    settings = [
        {k: v for k, v in s.items() if v is not None}
        for s in sorted(client.sync_settings()["settings"], key=lambda s: str(s["dataType"]))
    ]
    if settings:
        section["syncSettings"] = settings
    text: dict[str, dict[str, str | None]] = {}
    for locale in LOCALES:
        defaults = default_text(locale)
        changed = {
            key: value
            for key, value in client.sync_flow_text(locale).items()
            if key not in defaults or defaults[key] != value
        }
        if changed:
            text[locale] = changed
    if text:
        section["syncFlowUi"] = {"text": text}
    return section


def client_document(client: ClientSettingsReads, *, schema: str) -> tuple[str, str]:
    """(file name, YAML text) of a manifest holding the client section and no merchants."""
    doc = {"version": 1, "client": client_section(client), "merchants": []}
    text = f"# yaml-language-server: $schema={schema}\n{HEADER}" + yaml.safe_dump(
        doc, sort_keys=False, allow_unicode=True, width=100
    )
    return CLIENT_FILE, text
