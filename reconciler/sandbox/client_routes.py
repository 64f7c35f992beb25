"""The client-wide settings: webhook consumers, sync settings, and the sync flow's UI.

Platform spec: `GET/POST /webhooks`, `DELETE /webhooks/{webhookId}`, `GET/POST
/profile/syncSettings`. Sync for Commerce spec: `GET/PATCH
/sync/commerce/config/ui/text?locale=`, `POST
/sync/commerce/config/ui/accounts/platform/{platformKey}` and its read,
`GET /clients/{clientId}/config/ui/accounts/platform/{platformKey}`. None of
them pages in the specs, so none pages here. A request the specs do not allow
is refused with 400 naming the field, as Codat's validation errors do, so a
test learns its request would not survive the trip.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from reconciler.codat import client_defaults
from reconciler.sandbox import client_store
from reconciler.sandbox.context import Context, Handler
from reconciler.sandbox.messages import ApiError, SandboxRequest, SandboxResponse, json_response
from reconciler.sandbox.store import Tx
from reconciler.sandbox.validation import PLATFORM_KEY

# The spec's "Tips and traps" of Create webhook consumer: at most 50 consumers.
MAX_WEBHOOK_CONSUMERS = 50
# `companyTags` in the spec: at most 10 items of at most 128 characters; Codat's
# webhook docs (using-the-api/webhooks/create-consumer.md) format each as `key:value`.
MAX_COMPANY_TAGS = 10
MAX_COMPANY_TAG = 128
_SYNC_SETTINGS = "syncSettings"
_INTEGER_FIELDS = ("syncSchedule", "syncOrder", "syncFromWindow", "monthsToSync")


def _invalid(errors: list[tuple[str, str]]) -> ApiError:
    return ApiError(400, "Error processing request - not valid.", errors=errors)


def _is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_iso_date(value: Any) -> bool:
    # The spec's DateTime: ISO 8601, a date or a date and time, with or without offset.
    try:
        datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return False
    return True


# -- webhook consumers -------------------------------------------------------------


def list_webhook_consumers(ctx: Context, tx: Tx, req: SandboxRequest) -> SandboxResponse:
    return json_response(200, {"results": client_store.webhook_consumers(tx)})


def _consumer_fields(body: dict[str, Any]) -> dict[str, Any]:
    """A `webhookConsumerPrototype`, checked; unknown properties are ignored."""
    errors: list[tuple[str, str]] = []
    url = body.get("url")
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        errors.append(("url", "url must be an absolute http or https URL"))
    events = body.get("eventTypes")
    # Codat's webhook docs: "You must specify at least one event type per endpoint."
    if (
        not isinstance(events, list)
        or not events
        or not all(isinstance(e, str) and e for e in events)
    ):
        errors.append(("eventTypes", "eventTypes must list at least one event type"))
    disabled = body.get("disabled")
    if disabled is not None and not isinstance(disabled, bool):
        errors.append(("disabled", "disabled must be true or false"))
    tags = body.get("companyTags")
    if tags is not None:
        errors.extend(_company_tag_errors(tags))
    if errors:
        raise _invalid(errors)
    return {
        "url": url,
        "eventTypes": list(events or []),
        "disabled": bool(disabled),
        "companyTags": None if tags is None else list(tags),
    }


def _company_tag_errors(tags: Any) -> list[tuple[str, str]]:
    if not isinstance(tags, list):
        return [("companyTags", "companyTags must be a list of key:value strings")]
    errors: list[tuple[str, str]] = []
    if len(tags) > MAX_COMPANY_TAGS:
        errors.append(("companyTags", f"at most {MAX_COMPANY_TAGS} company tags, got {len(tags)}"))
    for index, tag in enumerate(tags):
        item = f"companyTags[{index}]"
        if not isinstance(tag, str) or not tag.partition(":")[0] or ":" not in tag:
            errors.append((item, "a company tag must be a key:value string"))
        elif len(tag) > MAX_COMPANY_TAG:
            errors.append((item, f"a company tag must be at most {MAX_COMPANY_TAG} characters"))
    return errors


def create_webhook_consumer(ctx: Context, tx: Tx, req: SandboxRequest) -> SandboxResponse:
    fields = _consumer_fields(req.json_object())
    if client_store.count_webhook_consumers(tx) >= MAX_WEBHOOK_CONSUMERS:
        raise _invalid(
            [
                (
                    "url",
                    f"The number of webhook consumers is limited to {MAX_WEBHOOK_CONSUMERS};"
                    " delete an unused consumer first.",
                )
            ]
        )
    consumer = {"id": str(uuid.uuid4()), **fields}
    client_store.add_webhook_consumer(tx, consumer)
    return json_response(201, consumer)


def delete_webhook_consumer(ctx: Context, tx: Tx, req: SandboxRequest) -> SandboxResponse:
    consumer_id = req.params["webhookId"]
    if not client_store.delete_webhook_consumer(tx, consumer_id):
        raise ApiError(404, f"No webhook consumer was found with ID {consumer_id}")
    return SandboxResponse(204, {}, b"")


# -- sync settings -----------------------------------------------------------------


def get_sync_settings(ctx: Context, tx: Tx, req: SandboxRequest) -> SandboxResponse:
    stored = client_store.setting(tx, _SYNC_SETTINGS)
    return json_response(200, stored or client_defaults.sync_settings(ctx.client_id))


def _setting_fields(index: int, setting: Any, errors: list[tuple[str, str]]) -> dict[str, Any]:
    item = f"settings[{index}]"
    if not isinstance(setting, dict):
        errors.append((item, "a sync setting must be an object"))
        return {}
    kept: dict[str, Any] = {}
    data_type = setting.get("dataType")
    if data_type not in client_defaults.DATA_TYPES:
        errors.append((f"{item}.dataType", f"unknown data type {data_type!r}"))
    kept["dataType"] = data_type
    for name in ("fetchOnFirstLink", "isLocked"):
        if name in setting:
            if not isinstance(setting[name], bool):
                errors.append((f"{item}.{name}", f"{name} must be true or false"))
            kept[name] = setting[name]
    for name in _INTEGER_FIELDS:
        if name in setting:
            if not _is_integer(setting[name]) or setting[name] < 0:
                errors.append((f"{item}.{name}", f"{name} must be a whole number, 0 or more"))
            kept[name] = setting[name]
    if "syncFromUtc" in setting:
        if not _is_iso_date(setting["syncFromUtc"]):
            errors.append((f"{item}.syncFromUtc", "syncFromUtc must be an ISO 8601 date"))
        kept["syncFromUtc"] = setting["syncFromUtc"]
    for name in ("fetchOnFirstLink", "syncSchedule", "syncOrder"):  # the spec's `required`
        if name not in setting:
            errors.append((f"{item}.{name}", f"{name} is required"))
    return kept


def update_sync_settings(ctx: Context, tx: Tx, req: SandboxRequest) -> SandboxResponse:
    """Replace the client's whole settings list: the spec's body asks for "a `syncSetting`
    object for each data type", and a data type left out is no longer in the list."""
    body = req.json_object()
    errors: list[tuple[str, str]] = []
    client_id = body.get("clientId")
    if client_id != ctx.client_id:
        errors.append(("clientId", "clientId must be the id of the client of this API key"))
    overrides = body.get("overridesDefaults")
    if not isinstance(overrides, bool):
        errors.append(("overridesDefaults", "overridesDefaults is required, true or false"))
    settings = body.get("settings")
    kept: list[dict[str, Any]] = []
    if not isinstance(settings, list):
        errors.append(("settings", "settings is required, a list of sync settings"))
    else:
        kept = [_setting_fields(i, s, errors) for i, s in enumerate(settings)]
        seen: set[Any] = set()
        for index, setting in enumerate(kept):
            if setting.get("dataType") in seen:
                errors.append((f"settings[{index}].dataType", "a data type may appear once"))
            seen.add(setting.get("dataType"))
    if errors:
        raise _invalid(errors)
    stored = {"clientId": ctx.client_id, "settings": kept, "overridesDefaults": overrides}
    client_store.put_setting(tx, _SYNC_SETTINGS, stored)
    return SandboxResponse(204, {}, b"")


# -- the sync flow's text ----------------------------------------------------------


def _locale(req: SandboxRequest) -> str:
    locale = req.query.get("locale", "")
    if locale not in client_defaults.LOCALES:
        known = ", ".join(client_defaults.LOCALES)
        raise _invalid([("locale", f"locale is required, one of {known}")])
    return locale


def _text_answer(tx: Tx, locale: str) -> SandboxResponse:
    texts = client_defaults.default_text(locale)
    texts.update(client_store.setting(tx, "text:" + locale) or {})
    # `required` is not described beyond "True if required"; no key is, here.
    return json_response(200, {k: {"text": v, "required": False} for k, v in texts.items()})


def get_text(ctx: Context, tx: Tx, req: SandboxRequest) -> SandboxResponse:
    return _text_answer(tx, _locale(req))


def update_text(ctx: Context, tx: Tx, req: SandboxRequest) -> SandboxResponse:
    """Set the keys given; `{"text": null}` restores Codat's default (as Codat's
    customizing-the-sync-configuration-flow page documents), other keys are untouched."""
    locale = _locale(req)
    body = req.json_object()
    errors: list[tuple[str, str]] = []
    overrides: dict[str, str] = client_store.setting(tx, "text:" + locale) or {}
    for key, value in body.items():
        if key not in client_defaults.TEXT_KEYS:
            errors.append((key, "not a text key of the sync flow"))
        elif not isinstance(value, dict):
            errors.append((key, 'a text must be an object: {"text": "..."}'))
        elif "required" in value and not isinstance(value["required"], bool):
            errors.append((f"{key}.required", "required must be true or false"))
        elif "text" in value:
            text = value["text"]
            if text is None:
                overrides.pop(key, None)
            elif isinstance(text, str):
                overrides[key] = text
            else:
                errors.append((f"{key}.text", "text must be a string or null"))
    if errors:
        raise _invalid(errors)
    client_store.put_setting(tx, "text:" + locale, overrides)
    return _text_answer(tx, locale)


# -- the accounts the sync flow shows ----------------------------------------------


def _platform(ctx: Context, req: SandboxRequest) -> str:
    key = req.params["platformKey"]
    if not PLATFORM_KEY.fullmatch(key):
        raise _invalid([("platformKey", "platformKey must be four lowercase letters")])
    if ctx.integrations.get(key) is None:
        raise ApiError(404, f"Integration {key} not found")
    return key


def _accounts_answer(tx: Tx, key: str) -> SandboxResponse:
    chosen = client_store.setting(tx, "visibleAccounts:" + key)
    return json_response(200, {"visibleAccounts": client_defaults.visible_accounts(chosen)})


def get_visible_accounts(ctx: Context, tx: Tx, req: SandboxRequest) -> SandboxResponse:
    if req.params["clientId"] != ctx.client_id:
        raise ApiError(404, f"No client was found with ID {req.params['clientId']}")
    return _accounts_answer(tx, _platform(ctx, req))


def update_visible_accounts(ctx: Context, tx: Tx, req: SandboxRequest) -> SandboxResponse:
    """Codat's customizing-the-sync-configuration-flow page: `{}` shows every account
    again, `[]` only the ones that cannot be hidden, a list those and the ones listed."""
    key = _platform(ctx, req)
    chosen = req.json_object().get("visibleAccounts")
    name = "visibleAccounts:" + key
    if chosen is None:
        client_store.delete_setting(tx, name)
        return _accounts_answer(tx, key)
    if not isinstance(chosen, list):
        raise _invalid([("visibleAccounts", "visibleAccounts must be a list of account keys")])
    unknown = [
        (f"visibleAccounts[{i}]", f"unknown account key {a!r}")
        for i, a in enumerate(chosen)
        if not isinstance(a, str) or a not in client_defaults.ACCOUNTS
    ]
    if unknown:
        raise _invalid(unknown)
    client_store.put_setting(tx, name, chosen)
    return _accounts_answer(tx, key)


_ACCOUNTS = "/config/ui/accounts/platform/{platformKey}"
CLIENT_TABLE: list[tuple[str, str, Handler, bool]] = [
    ("GET", "/webhooks", list_webhook_consumers, False),
    ("POST", "/webhooks", create_webhook_consumer, True),
    ("DELETE", "/webhooks/{webhookId}", delete_webhook_consumer, True),
    ("GET", "/profile/syncSettings", get_sync_settings, False),
    ("POST", "/profile/syncSettings", update_sync_settings, True),
    ("GET", "/sync/commerce/config/ui/text", get_text, False),
    ("PATCH", "/sync/commerce/config/ui/text", update_text, True),
    ("GET", "/clients/{clientId}" + _ACCOUNTS, get_visible_accounts, False),
    ("POST", "/sync/commerce" + _ACCOUNTS, update_visible_accounts, True),
]
