"""Carrying out the client-wide changes (reconciler/plan/client.py made them).

Two of them are more than one call:
- Replacing a webhook consumer deletes it, then creates the new one (Codat has no
  update). A failure between the two is reported as such; the next plan finds no
  consumer with that URL and creates it, so the next apply finishes the job.
- A sync setting is written by sending the whole list (the POST replaces it). The
  list is read immediately before, and the declared fields must still hold what
  the plan saw: a change someone made since is reported, never overwritten blindly,
  and the fields nobody declared go back exactly as they were read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from reconciler.apply.creation import ChangeFailed
from reconciler.errors import ReconcilerError
from reconciler.plan.model import Change, Operation


class ClientSettingsCalls(Protocol):
    def create_webhook_consumer(self, body: Mapping[str, Any]) -> dict[str, Any]: ...
    def delete_webhook_consumer(self, webhook_id: str) -> None: ...
    def sync_settings(self) -> dict[str, Any]: ...
    def set_sync_settings(self, settings: Sequence[Mapping[str, Any]]) -> None: ...
    def update_sync_flow_text(
        self, locale: str, texts: Mapping[str, str | None]
    ) -> dict[str, str | None]: ...
    def set_visible_accounts(
        self, platform_key: str, account_keys: Sequence[str] | None
    ) -> list[str] | None: ...


def execute_client_change(client: ClientSettingsCalls, change: Change) -> None:
    body = change.body
    match change.operation:
        case Operation.CREATE_WEBHOOK:
            client.create_webhook_consumer(body["consumer"])
        case Operation.DELETE_WEBHOOK:
            client.delete_webhook_consumer(str(body["id"]))
        case Operation.REPLACE_WEBHOOK:
            _replace_webhook(client, str(body["id"]), body["consumer"])
        case Operation.SET_SYNC_SETTING:
            _set_sync_setting(client, change)
        case Operation.SET_SYNC_FLOW_TEXT:
            client.update_sync_flow_text(str(body["locale"]), {str(body["key"]): body["text"]})
        case Operation.SET_VISIBLE_ACCOUNTS:
            client.set_visible_accounts(str(change.platform_key), list(body["visibleAccounts"]))
        case other:
            raise ChangeFailed(f"internal error: {other} is not a client-wide change")


def _replace_webhook(client: ClientSettingsCalls, old_id: str, consumer: Mapping[str, Any]) -> None:
    client.delete_webhook_consumer(old_id)
    try:
        client.create_webhook_consumer(consumer)
    except ReconcilerError as exc:
        raise ChangeFailed(
            f"consumer {old_id} was deleted, but creating its replacement failed: {exc}. "
            "No consumer has this URL now: the next apply creates it"
        ) from None


def _set_sync_setting(client: ClientSettingsCalls, change: Change) -> None:
    data_type = str(change.body["dataType"])
    fields: dict[str, Any] = dict(change.body["fields"])
    settings = [dict(s) for s in client.sync_settings()["settings"]]
    current = next((s for s in settings if s.get("dataType") == data_type), None)
    seen = change.before
    now = None if current is None else {k: current.get(k) for k in fields}
    if now != seen and now != fields:
        raise ChangeFailed(
            f"the sync setting of {data_type} changed in Codat since the plan was made "
            f"(planned from {seen}, now {now}): not overwritten; plan again"
        )
    if current is None:
        settings.append({"dataType": data_type, **fields})
    else:
        current.update(fields)
    client.set_sync_settings(settings)
