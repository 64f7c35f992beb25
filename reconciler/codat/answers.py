"""Codat's answers, checked for the shape this tool relies on before anything reads them.

A body of the wrong shape (a `200 {}` to a create, a page whose `results` is
not a list of objects) is a CodatError naming the call and its correlationId,
never a KeyError or TypeError further down.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from reconciler.codat.errors import CodatError, header_correlation_id


def unexpected_answer(response: httpx.Response, problem: str) -> CodatError:
    request = response.request
    text = f"{request.method} {request.url.path}: Codat answered {response.status_code} {problem}"
    if correlation := header_correlation_id(response):
        text += f" (correlationId: {correlation})"
    return CodatError(text)


def json_object(response: httpx.Response) -> dict[str, Any]:
    """The response's JSON object body, or a CodatError naming the call."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise unexpected_answer(response, "without a JSON object")
    return body


def with_id(response: httpx.Response) -> dict[str, Any]:
    """A JSON object describing one resource: it must at least name its `id`."""
    body = json_object(response)
    if not _has_id(body):
        raise unexpected_answer(response, "without the `id` of what it describes")
    return body


def sync_configuration(response: httpx.Response) -> dict[str, Any]:
    """A Sync for Commerce `Configuration`: `configured` and `enable`, when given, are booleans."""
    body = json_object(response)
    for key in ("configured", "enable"):
        if key in body and not isinstance(body[key], bool):
            raise unexpected_answer(response, f"a configuration whose `{key}` is not true or false")
    return body


def sync_status(response: httpx.Response) -> dict[str, Any]:
    """A `CompanySyncStatus`: a text `syncStatus` or an integer `syncStatusCode` to judge it by."""
    body = json_object(response)
    status, code = body.get("syncStatus"), body.get("syncStatusCode")
    if status is not None and not isinstance(status, str):
        raise unexpected_answer(response, "a sync status whose `syncStatus` is not text")
    if code is not None and (not isinstance(code, int) or isinstance(code, bool)):
        raise unexpected_answer(response, "a sync status whose `syncStatusCode` is not a number")
    if status is None and code is None:
        raise unexpected_answer(response, "a sync status with neither `syncStatus` nor a code")
    at = body.get("syncUtc")
    if at is not None and not isinstance(at, str):
        raise unexpected_answer(response, "a sync status whose `syncUtc` is not a date")
    return body


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a Codat list: the server's word on what is there, not proof."""

    number: int
    results: tuple[dict[str, Any], ...]
    page_size: int | None  # what the server says a page holds; may be below what was asked
    total: int | None  # `totalResults`: may be too low or absurdly high
    has_next: bool  # `_links.next` present

    @classmethod
    def parse(
        cls, number: int, response: httpx.Response, *, identity: str = "id", kind: str = "company"
    ) -> Page:
        """`identity` is the field every result must name itself by (`key` for integrations)."""
        body = json_object(response)
        results = body.get("results")
        if not isinstance(results, list):
            raise unexpected_answer(response, "a page without a `results` list")
        for index, item in enumerate(results):
            if not isinstance(item, dict) or not _has_id(item, identity):
                raise unexpected_answer(response, f"a page whose result {index} is not a {kind}")
        links = body.get("_links")
        return cls(
            number=number,
            results=tuple(results),
            page_size=_count(body.get("pageSize")),
            total=_count(body.get("totalResults")),
            has_next=isinstance(links, dict) and isinstance(links.get("next"), dict),
        )

    def is_last(self, capacity: int) -> bool:
        """Evidence of the end: an empty page, or one not full without a next link."""
        return not self.results or (len(self.results) < capacity and not self.has_next)


CompaniesPage = Page


def _has_id(body: dict[str, Any], identity: str = "id") -> bool:
    return isinstance(body.get(identity), str) and bool(body[identity])


def _count(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def webhook_consumers(response: httpx.Response) -> list[dict[str, Any]]:
    """The `results` of `GET /webhooks`: consumers, each naming its `id` and `url`."""
    results = json_object(response).get("results")
    if not isinstance(results, list):
        raise unexpected_answer(response, "a consumer list without a `results` list")
    for index, item in enumerate(results):
        if not isinstance(item, dict) or not _has_id(item) or not _has_id(item, "url"):
            raise unexpected_answer(
                response, f"a consumer list whose result {index} is no consumer"
            )
    return results


def sync_settings(response: httpx.Response) -> dict[str, Any]:
    """`SyncSettings`: the `clientId`, and `settings` that each name their `dataType`."""
    body = json_object(response)
    if not _has_id(body, "clientId"):
        raise unexpected_answer(response, "sync settings without the `clientId`")
    settings = body.get("settings")
    if not isinstance(settings, list):
        raise unexpected_answer(response, "sync settings without a `settings` list")
    for index, item in enumerate(settings):
        if not isinstance(item, dict) or not _has_id(item, "dataType"):
            raise unexpected_answer(
                response, f"sync settings whose setting {index} has no data type"
            )
    return body


def localization(response: httpx.Response) -> dict[str, str | None]:
    """`LocalizationInfo` as each key's text (None: no text)."""
    texts: dict[str, str | None] = {}
    for key, value in json_object(response).items():
        text = value.get("text") if isinstance(value, dict) else None
        if not isinstance(value, dict) or not (text is None or isinstance(text, str)):
            raise unexpected_answer(response, f"a text catalogue whose `{key}` holds no text")
        texts[key] = text
    return texts


def visible_accounts(response: httpx.Response) -> list[str] | None:
    """`VisibleAccounts`: the account keys shown, or None where Codat gives none."""
    accounts = json_object(response).get("visibleAccounts")
    if accounts is None:
        return None
    if not isinstance(accounts, list) or not all(isinstance(a, str) for a in accounts):
        raise unexpected_answer(response, "`visibleAccounts` that are not a list of keys")
    return accounts
