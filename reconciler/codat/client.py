"""The calls this tool makes to Codat, one method per endpoint, typed answers.

How each request is sent (auth, rate limits, retries, idempotency keys) lives
in reconciler/codat/sending.py; this module only names paths and reads answers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from reconciler.codat.answers import (
    CompaniesPage,
    Page,
    json_object,
    localization,
    sync_configuration,
    sync_settings,
    sync_status,
    visible_accounts,
    webhook_consumers,
    with_id,
)
from reconciler.codat.errors import CodatAPIError, CodatError
from reconciler.codat.sending import RequestSender, new_idempotency_key

__all__ = ["PAGE_SIZE", "CodatClient", "api_path", "new_idempotency_key"]

# The largest page Codat serves: reading every company takes the fewest requests.
PAGE_SIZE = 5000


def api_path(*segments: str) -> str:
    # Ids come from manifests and API answers: quote them so none can add a segment.
    return "/" + "/".join(quote(s, safe="") for s in segments)


class CodatClient(RequestSender):
    _client_id: str | None = None  # learnt from the first sync settings read

    # -- companies -------------------------------------------------------

    def list_companies(
        self,
        page: int,
        page_size: int = PAGE_SIZE,
        *,
        query: str | None = None,
    ) -> CompaniesPage:
        params: dict[str, str | int] = {"page": page, "pageSize": page_size}
        if query is not None:
            params["query"] = query
        return CompaniesPage.parse(page, self.request("GET", "/companies", params=params))

    def get_company(self, company_id: str) -> dict[str, Any]:
        return with_id(self.request("GET", api_path("companies", company_id)))

    def create_company(
        self, body: Mapping[str, Any], *, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        return with_id(
            self.request("POST", "/companies", json=body, idempotency_key=idempotency_key)
        )

    def update_company(
        self, company_id: str, body: Mapping[str, Any], *, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        return with_id(
            self.request(
                "PATCH",
                api_path("companies", company_id),
                json=body,
                idempotency_key=idempotency_key,
            )
        )

    def delete_company(self, company_id: str) -> None:
        self.request("DELETE", api_path("companies", company_id), gone_ok=True)

    def enabled_integrations(self) -> frozenset[str]:
        """The platform keys this Codat account can make connections to."""
        enabled: set[str] = set()
        page = 1
        while True:
            answer = Page.parse(
                page,
                self.request("GET", "/integrations", params={"page": page, "pageSize": 5000}),
                identity="key",
                kind="integration",
            )
            enabled.update(i["key"] for i in answer.results if i.get("enabled") is True)
            if answer.is_last(min(5000, answer.page_size or 5000)):
                return frozenset(enabled)
            page += 1

    # -- connections -----------------------------------------------------

    def create_connection(
        self, company_id: str, platform_key: str, *, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        return with_id(
            self.request(
                "POST",
                api_path("companies", company_id, "connections"),
                json={"platformKey": platform_key},
                idempotency_key=idempotency_key,
            )
        )

    def update_connection(
        self,
        company_id: str,
        connection_id: str,
        body: Mapping[str, Any],
        *,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        return with_id(
            self.request(
                "PATCH",
                api_path("companies", company_id, "connections", connection_id),
                json=body,
                idempotency_key=idempotency_key,
            )
        )

    def authorize_connection(
        self, company_id: str, connection_id: str, values: Mapping[str, str]
    ) -> dict[str, Any]:
        # PUT is naturally repeatable: retried without a key. The values are
        # secrets: scrubbed from anything Codat echoes back into an error.
        return with_id(
            self.request(
                "PUT",
                api_path("companies", company_id, "connections", connection_id, "authorization"),
                json=dict(values),
                secrets=values.values(),
            )
        )

    def sync_flow_url(
        self,
        commerce_key: str,
        accounting_key: str,
        merchant_identifier: str,
        redirect_url: str | None = None,
    ) -> str:
        params = {"merchantIdentifier": merchant_identifier}
        if redirect_url:
            params["redirectUrl"] = redirect_url
        path = api_path("config", "sync", "commerce", commerce_key, accounting_key, "start")
        body = json_object(self.request("GET", path, params=params))
        url = body.get("url")
        if not isinstance(url, str) or not url:
            raise CodatError(f"GET {path}: Codat's answer holds no sync flow URL")
        return url

    # -- the merchant's side: Sync for Commerce ----------------------------

    def sync_configuration(self, company_id: str) -> dict[str, Any]:
        """The company's Sync for Commerce `Configuration` (`configured`, `enable`, ...)."""
        path = api_path("config", "companies", company_id, "sync", "commerce")
        return sync_configuration(self.request("GET", path))

    def latest_sync(self, company_id: str) -> dict[str, Any] | None:
        """The company's latest `CompanySyncStatus`; None before its first sync (Codat's 404)."""
        path = api_path("companies", company_id, "sync", "commerce", "syncs", "latest", "status")
        try:
            return sync_status(self.request("GET", path))
        except CodatAPIError as err:
            if err.status == 404:
                return None
            raise

    # -- client-wide settings ------------------------------------------------

    def list_webhook_consumers(self) -> list[dict[str, Any]]:
        """Every webhook consumer of this client (Codat allows at most 50: no paging)."""
        return webhook_consumers(self.request("GET", "/webhooks"))

    def create_webhook_consumer(
        self, body: Mapping[str, Any], *, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        """`body`: `url`, `eventTypes` (at least one), optional `disabled`, `companyTags`."""
        return with_id(
            self.request("POST", "/webhooks", json=dict(body), idempotency_key=idempotency_key)
        )

    def delete_webhook_consumer(self, webhook_id: str) -> None:
        self.request("DELETE", api_path("webhooks", webhook_id), gone_ok=True)

    def sync_settings(self) -> dict[str, Any]:
        """`SyncSettings`: `clientId`, `settings` (one per data type), `overridesDefaults`."""
        settings = sync_settings(self.request("GET", "/profile/syncSettings"))
        self._client_id = settings["clientId"]
        return settings

    def client_id(self) -> str:
        """Codat's id of the client this API key belongs to, as its sync settings name it."""
        if self._client_id is None:
            self.sync_settings()
        assert self._client_id is not None
        return self._client_id

    def set_sync_settings(
        self,
        settings: Sequence[Mapping[str, Any]],
        *,
        overrides_defaults: bool = True,
        idempotency_key: str | None = None,
    ) -> None:
        """Replace the whole settings list: a data type left out leaves it, so send them all."""
        body = {
            "clientId": self.client_id(),
            "settings": [dict(setting) for setting in settings],
            "overridesDefaults": overrides_defaults,
        }
        self.request("POST", "/profile/syncSettings", json=body, idempotency_key=idempotency_key)

    def sync_flow_text(self, locale: str) -> dict[str, str | None]:
        """Each text key of the sync flow in `locale` (`en-us`, `fr-fr`) and its text."""
        params = {"locale": locale}
        return localization(self.request("GET", "/sync/commerce/config/ui/text", params=params))

    def update_sync_flow_text(
        self,
        locale: str,
        texts: Mapping[str, str | None],
        *,
        idempotency_key: str | None = None,
    ) -> dict[str, str | None]:
        """Set the keys given (None: back to Codat's default); the others are untouched.
        Returns the whole catalogue after the change."""
        body = {key: {"text": text} for key, text in texts.items()}
        return localization(
            self.request(
                "PATCH",
                "/sync/commerce/config/ui/text",
                params={"locale": locale},
                json=body,
                idempotency_key=idempotency_key,
            )
        )

    def visible_accounts(self, platform_key: str) -> list[str] | None:
        """The account keys the sync flow shows for `platform_key`."""
        path = api_path(
            "clients", self.client_id(), "config", "ui", "accounts", "platform", platform_key
        )
        return visible_accounts(self.request("GET", path))

    def set_visible_accounts(
        self,
        platform_key: str,
        account_keys: Sequence[str] | None,
        *,
        idempotency_key: str | None = None,
    ) -> list[str] | None:
        """Show these accounts (and those Codat never hides); None shows every account
        again. Returns the accounts shown after the change."""
        body = {} if account_keys is None else {"visibleAccounts": list(account_keys)}
        path = api_path("sync", "commerce", "config", "ui", "accounts", "platform", platform_key)
        return visible_accounts(
            self.request("POST", path, json=body, idempotency_key=idempotency_key)
        )
