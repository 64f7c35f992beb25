"""The `client:` section: Codat settings shared by every merchant of the client.

Webhook consumers, sync settings per data type, and the sync flow's text and
visible accounts, as the manifests declare them (only what is declared is
managed). The JSON Schema has checked the shapes; what it cannot say (a URL or
a data type declared twice) is checked here, at its file:line:column.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.codat.client_defaults import ACCOUNTS, default_text
from reconciler.manifests.model import Location

Path_ = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class DesiredWebhook:
    """One webhook consumer, identified by its URL. `absent`: delete it if it exists."""

    url: str
    location: Location
    event_types: tuple[str, ...] = ()
    company_tags: tuple[str, ...] = ()
    disabled: bool = False
    absent: bool = False

    def body(self) -> dict[str, Any]:
        """The `POST /webhooks` body that makes it."""
        body: dict[str, Any] = {"url": self.url, "eventTypes": list(self.event_types)}
        if self.company_tags:
            body["companyTags"] = list(self.company_tags)
        body["disabled"] = self.disabled
        return body


@dataclass(frozen=True, slots=True)
class DesiredSyncSetting:
    """The declared fields of one data type's setting (`dataType` left out)."""

    data_type: str
    fields: Mapping[str, Any]
    location: Location


@dataclass(frozen=True, slots=True)
class ClientSettings:
    """What the one `client:` section declares."""

    location: Location
    webhooks: tuple[DesiredWebhook, ...] = ()
    sync_settings: tuple[DesiredSyncSetting, ...] = ()
    # locale -> text key -> text (None: Codat's default)
    text: Mapping[str, Mapping[str, str | None]] = field(default_factory=dict)
    # platform key -> the account keys shown
    visible_accounts: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


def webhook_address(url: str) -> str:
    return f'webhook["{url}"]'


def sync_setting_address(data_type: str) -> str:
    return f'syncSettings["{data_type}"]'


def text_address(locale: str, key: str) -> str:
    return f'syncFlowUi.text["{locale}"]["{key}"]'


def visible_accounts_address(platform_key: str) -> str:
    return f'syncFlowUi.visibleAccounts["{platform_key}"]'


def read_client(
    raw: Mapping[str, Any],
    at: Callable[[Path_], Location],
    error: Callable[[Path_, str], None],
) -> ClientSettings:
    """The schema-checked `client:` mapping as ClientSettings; `error` gets each duplicate."""
    here: Path_ = ("client",)
    webhooks: dict[str, DesiredWebhook] = {}
    for index, entry in enumerate(raw.get("webhooks", [])):
        where = (*here, "webhooks", index)
        url = entry["url"]
        first = webhooks.get(url)
        if first is not None:
            error(
                (*where, "url"),
                f"webhook consumer {url} is declared twice (first at line "
                f"{first.location.line}): one consumer per URL",
            )
            continue
        absent = bool(entry.get("absent", False))
        if not absent and not entry.get("eventTypes"):
            error(
                where,
                "missing required key 'eventTypes' in this webhook consumer (a "
                "consumer gets at least one event type; `absent: true` deletes it)",
            )
            continue
        webhooks[url] = DesiredWebhook(
            url=url,
            location=at(where),
            event_types=tuple(sorted(set(entry.get("eventTypes", [])))),
            company_tags=tuple(sorted(set(entry.get("companyTags", [])))),
            disabled=bool(entry.get("disabled", False)),
            absent=absent,
        )
    settings: dict[str, DesiredSyncSetting] = {}
    for index, entry in enumerate(raw.get("syncSettings", [])):
        where = (*here, "syncSettings", index)
        data_type = entry["dataType"]
        seen = settings.get(data_type)
        if seen is not None:
            error(
                (*where, "dataType"),
                f"data type {data_type} is declared twice (first at "
                f"line {seen.location.line}): one setting per data type",
            )
            continue
        fields = {k: v for k, v in entry.items() if k != "dataType"}
        settings[data_type] = DesiredSyncSetting(data_type, fields, at(where))
    ui = raw.get("syncFlowUi", {})
    _check_catalogues(ui, error)
    text = {locale: dict(keys) for locale, keys in ui.get("text", {}).items()}
    accounts = {key: tuple(shown) for key, shown in ui.get("visibleAccounts", {}).items()}
    return ClientSettings(
        location=at(here),
        webhooks=tuple(webhooks.values()),
        sync_settings=tuple(settings.values()),
        text=text,
        visible_accounts=accounts,
    )


def _check_catalogues(ui: Mapping[str, Any], error: Callable[[Path_, str], None]) -> None:
    """Text keys and account keys are Codat's documented ones: Codat refuses any other, so
    a misspelt one is named here, with the key meant, before anything is planned."""
    if not ui:
        return
    here: Path_ = ("client", "syncFlowUi")
    for locale, keys in ui.get("text", {}).items():
        known = list(default_text(locale))
        for key in keys:
            if key not in known:
                error((*here, "text", locale, key), f"unknown text key '{key}'{_meant(key, known)}")
    for platform_key, accounts in ui.get("visibleAccounts", {}).items():
        for index, account in enumerate(accounts):
            if account not in ACCOUNTS:
                error(
                    (*here, "visibleAccounts", platform_key, index),
                    f"unknown account key '{account}'{_meant(account, list(ACCOUNTS))}",
                )


def _meant(key: str, known: list[str]) -> str:
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""
