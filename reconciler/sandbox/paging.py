"""Codat's paging and filters: `page`, `pageSize`, `query`, `tags`, and the page body."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from reconciler.sandbox.messages import (
    ApiError,
    SandboxRequest,
    SandboxResponse,
    text_json_response,
)
from reconciler.sandbox.query import QueryError, Resolver, compile_filter, tag_resolver

DEFAULT_PAGE_SIZE = 100
LARGEST_PAGE_ALLOWED = 5000  # as Codat; a larger pageSize is a 400


def _int_param(req: SandboxRequest, name: str, default: int, low: int, high: int) -> int:
    raw = req.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise ApiError(
            400,
            f"Error processing request - {name} must be a whole number from {low} to {high}.",
            errors=[(name, f"{name} must be from {low} to {high}")],
        )
    return value


def paging(req: SandboxRequest, max_page_size: int | None) -> tuple[int, int]:
    """(page, size) asked for; the size capped at `max_page_size` when the sandbox has one."""
    page = _int_param(req, "page", 1, 1, 2**31 - 1)
    size = _int_param(req, "pageSize", DEFAULT_PAGE_SIZE, 1, LARGEST_PAGE_ALLOWED)
    if max_page_size is not None:
        size = min(size, max_page_size)
    return page, size


def row_filter(req: SandboxRequest, with_tags: bool, columns: Resolver) -> tuple[str, list[str]]:
    """The SQL condition for `query` (and `tags` when the resource has them)."""
    try:
        where, params = compile_filter(req.query.get("query", ""), columns)
        if with_tags:
            tag_where, tag_params = compile_filter(req.query.get("tags", ""), tag_resolver("tags"))
            where, params = f"({where}) AND ({tag_where})", [*params, *tag_params]
    except QueryError as err:
        raise ApiError(400, f"Error parsing query - {err}") from None
    return where, params


def page_response(
    path: str, req: SandboxRequest, page: int, size: int, total: int, rows: list[str]
) -> SandboxResponse:
    """A page of stored JSON bodies with `pageNumber`, `pageSize`, `totalResults`, `_links`."""
    kept: dict[str, str] = {k: req.query[k] for k in ("query", "tags", "orderBy") if k in req.query}

    def href(number: int) -> dict[str, str]:
        params: dict[str, str | int] = {"page": number, "pageSize": size, **kept}
        return {"href": path + "?" + urlencode(params)}

    links: dict[str, dict[str, str]] = {"self": {"href": path}, "current": href(page)}
    if page * size < total:
        links["next"] = href(page + 1)
    if page > 1:
        links["previous"] = href(page - 1)
    paging_info = json.dumps(
        {"pageNumber": page, "pageSize": size, "totalResults": total, "_links": links}
    )
    return text_json_response(200, '{"results":[' + ",".join(rows) + "]," + paging_info[1:])
