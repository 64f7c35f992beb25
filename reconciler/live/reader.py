"""Reading every company, connections embedded, in as few page calls as Codat allows.

Page 1 says how many companies there are and how many a page really holds (a
server may cap pages below what was asked); the other pages are then fetched
in parallel, asking for exactly that size so page N means the same thing to
both sides. Companies created or deleted during the read shift the pages: ids
are de-duplicated, and if the count still falls short the read carries on page
by page while the server says there is more.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

from reconciler.codat.client import MAX_PAGE_SIZE, CodatClient, json_object
from reconciler.codat.errors import CodatError
from reconciler.live.model import LiveCompany, LiveState

Progress = Callable[[int, int], None]


# Reads repeated when companies change under the read, before giving up.
READ_ATTEMPTS = 3


def read_live_state(
    client: CodatClient,
    *,
    page_size: int = MAX_PAGE_SIZE,
    parallelism: int = 4,
    on_page: Progress | None = None,
) -> LiveState:
    for _ in range(READ_ATTEMPTS):
        seen = _read_all_pages(client, page_size, parallelism, on_page)
        # A missed company would be planned as missing and created again, so a
        # read that may have skipped one is repeated: fewer companies than Codat
        # counts, or a count that fell mid-read (a delete shifts later rows back
        # onto pages already read). A count that only grew is safe: the shifted
        # rows show up twice and are de-duplicated.
        if seen.count >= seen.total and not seen.shrank:
            return seen.state()
    raise CodatError(
        f"GET /companies: companies kept changing while they were read ({READ_ATTEMPTS} "
        f"tries; last: Codat counted {seen.total}, {seen.count} read); run again"
    )


def _read_all_pages(
    client: CodatClient, page_size: int, parallelism: int, on_page: Progress | None
) -> _Companies:
    seen = _Companies(on_page)
    first = client.request("GET", "/companies", params={"page": 1, "pageSize": page_size})
    seen.read_at = _server_time(first.headers.get("date"))
    last = json_object(first)
    seen.add(last)
    served = len(_results(last))
    if served == 0:
        return seen

    last_page = max(1, math.ceil(seen.total / served))
    if last_page > 1:
        with ThreadPoolExecutor(max_workers=max(1, parallelism)) as pool:
            # Ask for the size actually served, so page N covers the same rows for both sides.
            for last in pool.map(
                lambda n: client.list_companies(n, served), range(2, last_page + 1)
            ):
                seen.add(last)

    page = last_page
    while seen.count < seen.total or _has_next(last):
        page += 1
        last = client.list_companies(page, served)
        if not seen.add(last):
            break
    return seen


class _Companies:
    """Companies read so far, by id, with the latest total Codat reported."""

    def __init__(self, on_page: Progress | None) -> None:
        self._by_id: dict[str, Mapping[str, Any]] = {}
        self._on_page = on_page
        self.total = 0
        self.shrank = False
        self.read_at: datetime | None = None

    @property
    def count(self) -> int:
        return len(self._by_id)

    def add(self, page: Mapping[str, Any]) -> bool:
        """Take in one page; False when it brought no company not seen before."""
        before = self.count
        for company in _results(page):
            # A company pushed onto the next page by an insert appears twice: keep one.
            self._by_id.setdefault(str(company["id"]), company)
        total = page.get("totalResults")
        if isinstance(total, int):
            self.shrank = self.shrank or total < self.total
            self.total = total
        if self._on_page is not None:
            self._on_page(self.count, max(self.total, self.count))
        return self.count > before

    def state(self) -> LiveState:
        return LiveState(
            companies=tuple(LiveCompany.from_api(c) for c in self._by_id.values()),
            read_at=self.read_at,
        )


def _results(page: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    results = page.get("results")
    if not isinstance(results, list):
        raise CodatError("GET /companies: Codat's page holds no `results` list")
    return results


def _server_time(date_header: str | None) -> datetime | None:
    if not date_header:
        return None
    try:
        return parsedate_to_datetime(date_header)
    except (TypeError, ValueError):
        return None


def _has_next(page: Mapping[str, Any]) -> bool:
    links = page.get("_links")
    return isinstance(links, dict) and isinstance(links.get("next"), dict)
