"""Planning the client-wide settings: the declared ones against what Codat has.

Pure, like the merchant planner. Only what the manifests declare is compared:
consumers by URL, sync settings by data type and declared field, text by
locale and key, visible accounts by platform key. What differs is described
with deepdiff: these are tens of nested objects, not the merchant path's tens
of thousands, and its report names exactly which fields moved.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.codat.client_defaults import ACCOUNTS, default_text
from reconciler.live.client import LiveClientSettings
from reconciler.manifests.client import (
    ClientSettings,
    DesiredWebhook,
    sync_setting_address,
    text_address,
    visible_accounts_address,
    webhook_address,
)
from reconciler.plan.model import Action, Change, Kind, Note, NoteKind, first_few


def plan_client(
    desired: ClientSettings, live: LiveClientSettings
) -> tuple[list[Change], list[Note]]:
    """The changes that bring Codat to `desired`, in the order apply makes them."""
    changes: list[Change] = []
    notes: list[Note] = []
    declared_urls = {w.url for w in desired.webhooks}
    for webhook in desired.webhooks:
        changes += _webhook_changes(webhook, live, notes)
    undeclared = sorted({str(w["url"]) for w in live.webhooks} - declared_urls)
    if undeclared and desired.webhooks:
        notes.append(_undeclared_note(undeclared))
    changes += _sync_setting_changes(desired, live)
    changes += _text_changes(desired, live)
    changes += _visible_account_changes(desired, live)
    return changes, notes


def differences(before: Mapping[str, Any], after: Mapping[str, Any]) -> str:
    """`eventTypes and disabled differ`: the top-level fields deepdiff finds changed."""
    # Imported by the one function that uses it, only when a declared client-wide setting
    # differs: deepdiff brings pydantic, too heavy for every run of `plan`.
    from deepdiff import DeepDiff

    diff = DeepDiff(dict(before), dict(after), ignore_order=True)
    fields = sorted(str(key) for key in diff.affected_root_keys)
    if not fields:
        return "no field differs"
    named = fields[0] if len(fields) == 1 else ", ".join(fields[:-1]) + " and " + fields[-1]
    return f"{named} {'differs' if len(fields) == 1 else 'differ'}"


def consumer_fields(consumer: Mapping[str, Any]) -> dict[str, Any]:
    """What identifies a consumer's behaviour, as the manifests say it (order-free lists)."""
    return {
        "eventTypes": sorted(set(consumer.get("eventTypes") or [])),
        "companyTags": sorted(set(consumer.get("companyTags") or [])),
        "disabled": bool(consumer.get("disabled") or False),
    }


def _declared(webhook: DesiredWebhook) -> dict[str, Any]:
    return {
        "eventTypes": list(webhook.event_types),
        "companyTags": list(webhook.company_tags),
        "disabled": webhook.disabled,
    }


def _webhook_changes(
    webhook: DesiredWebhook, live: LiveClientSettings, notes: list[Note]
) -> list[Change]:
    address = webhook_address(webhook.url)
    existing = sorted(live.consumers(webhook.url), key=lambda w: str(w["id"]))
    if webhook.absent:
        return [
            Change(
                address=address,
                action=Action.DELETE,
                kind=Kind.WEBHOOK,
                reason="declared absent",
                merchant="",
                before={"id": w["id"], "url": webhook.url, **consumer_fields(w)},
                body={"id": w["id"]},
            )
            for w in existing
        ]
    wanted = _declared(webhook)
    if not existing:
        return [
            Change(
                address=address,
                action=Action.CREATE,
                kind=Kind.WEBHOOK,
                reason="declared, no consumer has this URL",
                merchant="",
                after={"url": webhook.url, **wanted},
                body={"consumer": webhook.body()},
            )
        ]
    matching = [w for w in existing if consumer_fields(w) == wanted]
    if len(existing) > 1:
        kept = (matching or existing)[0]
        others = ", ".join(str(w["id"]) for w in existing if w is not kept)
        notes.append(
            Note(
                address,
                f"other consumers have this URL too ({others}): left alone; "
                "delete them in Codat if they are not wanted",
            )
        )
    if matching:
        return []
    now = existing[0]
    before = consumer_fields(now)
    return [
        Change(
            address=address,
            action=Action.REPLACE,
            kind=Kind.WEBHOOK,
            reason=f"{differences(before, wanted)} (Codat has no update: delete, then create)",
            merchant="",
            before={"id": now["id"], **before},
            after=wanted,
            body={"id": now["id"], "consumer": webhook.body()},
        )
    ]


def _undeclared_note(urls: list[str]) -> Note:
    n = len(urls)
    return Note(
        "",
        f"{n} webhook {'consumer is' if n == 1 else 'consumers are'} not declared in any "
        f"manifest and never touched, with --prune or without: {first_few(urls)}",
        NoteKind.UNDECLARED_WEBHOOKS,
    )


def _same(a: Any, b: Any) -> bool:
    """JSON equality: true is not 1."""
    return isinstance(a, bool) == isinstance(b, bool) and bool(a == b)


def _sync_setting_changes(desired: ClientSettings, live: LiveClientSettings) -> list[Change]:
    changes: list[Change] = []
    settings = live.sync_settings or {}
    for setting in desired.sync_settings:
        now = settings.get(setting.data_type)
        before = None if now is None else {k: now.get(k) for k in setting.fields}
        if before is not None and all(_same(before[k], v) for k, v in setting.fields.items()):
            continue
        reason = (
            f"data type {setting.data_type} is not in the settings list"
            if before is None
            else differences(before, setting.fields)
        )
        changes.append(
            Change(
                address=sync_setting_address(setting.data_type),
                action=Action.UPDATE,
                kind=Kind.SYNC_SETTING,
                reason=reason,
                merchant="",
                before=before,
                after=dict(setting.fields),
                body={"dataType": setting.data_type, "fields": dict(setting.fields)},
            )
        )
    return changes


def _text_changes(desired: ClientSettings, live: LiveClientSettings) -> list[Change]:
    if not desired.text:
        return []
    # Codat's documented default texts (`default_text`): what `null` brings back, and so
    # what it compares to.
    changes: list[Change] = []
    for locale, keys in sorted(desired.text.items()):
        catalogue = live.text.get(locale, {})
        defaults = default_text(locale)
        for key, text in sorted(keys.items()):
            wanted = text if text is not None else defaults.get(key)
            if key in catalogue and _same(catalogue[key], wanted):
                continue
            changes.append(
                Change(
                    address=text_address(locale, key),
                    action=Action.UPDATE,
                    kind=Kind.SYNC_FLOW_TEXT,
                    reason="back to Codat's default" if text is None else "text differs",
                    merchant="",
                    before={"text": catalogue.get(key)},
                    after={"text": wanted},
                    body={"locale": locale, "key": key, "text": text},
                )
            )
    return changes


def _visible_account_changes(desired: ClientSettings, live: LiveClientSettings) -> list[Change]:
    if not desired.visible_accounts:
        return []
    # Codat always shows these, declared or not (its docs: they "cannot be removed").
    always = {key for key, required in ACCOUNTS.items() if required}
    changes: list[Change] = []
    for platform_key, accounts in sorted(desired.visible_accounts.items()):
        now = live.visible_accounts.get(platform_key)
        wanted = set(accounts)
        if now is not None and wanted <= set(now) and set(now) - wanted <= always:
            continue
        changes.append(
            Change(
                address=visible_accounts_address(platform_key),
                action=Action.UPDATE,
                kind=Kind.VISIBLE_ACCOUNTS,
                reason=_accounts_reason(set(now or ()) - wanted - always, wanted - set(now or ())),
                merchant="",
                platform_key=platform_key,
                before={"visibleAccounts": now},
                after={"visibleAccounts": list(accounts)},
                body={"visibleAccounts": list(accounts)},
            )
        )
    return changes


def _accounts_reason(hidden: set[str], shown: set[str]) -> str:
    """`hides 2 accounts (a, b); shows 1 more (c)`: what the flow stops and starts showing."""
    parts = []
    if hidden:
        parts.append(f"hides {_some(hidden, 'account', 'accounts')}")
    if shown:
        parts.append(f"shows {_some(shown, 'more account', 'more accounts')}")
    return "; ".join(parts) or "the accounts shown differ"


def _some(keys: set[str], one: str, many: str) -> str:
    return f"{len(keys)} {one if len(keys) == 1 else many} ({first_few(sorted(keys))})"
