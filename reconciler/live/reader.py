"""Reading every company, connections embedded, in as few page calls as Codat allows.

Codat's paging is its word, not proof: `totalResults` can be too low or
absurdly high, a page can be capped below the size asked, `_links.next` can
be missing. So reading ends only on evidence: an empty page, or a page that is
not full and has no next link. The count only decides how many pages to ask
for at once (never more than `parallelism`, so memory stays bounded whatever
it claims); a read that ends on evidence far short of the count is an error,
not a plan.

Companies created or deleted during the read shift the pages: ids are
de-duplicated, and a read during which the count fell (a delete shifts later
rows back onto pages already read) or that ended short of the count is
repeated, since a missed company would be planned as missing and created again.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from reconciler.codat.answers import CompaniesPage
from reconciler.codat.client import PAGE_SIZE
from reconciler.codat.errors import CodatAPIError, CodatError
from reconciler.live.model import LiveCompany, LiveState

Progress = Callable[[int, int], None]


class CompanyPages(Protocol):
    """What reading needs of a client (CodatClient has it)."""

    def list_companies(self, page: int, page_size: int = ...) -> CompaniesPage: ...


class OneCompany(Protocol):
    def get_company(self, company_id: str) -> dict[str, Any]: ...


def read_company(client: OneCompany, company_id: str) -> LiveCompany | None:
    """One company, connections embedded; None when Codat has it no more (404)."""
    try:
        body = client.get_company(company_id)
    except CodatAPIError as err:
        if err.status == 404:
            return None
        raise
    try:
        return LiveCompany.from_api(body)
    except ValueError as err:
        raise CodatError(f"GET /companies/{company_id}: Codat answered with {err}") from None


# Reads repeated when companies change under the read, before giving up.
READ_ATTEMPTS = 3


def read_live_state(
    client: CompanyPages,
    *,
    page_size: int = PAGE_SIZE,
    parallelism: int = 4,
    on_page: Progress | None = None,
) -> LiveState:
    for _ in range(READ_ATTEMPTS):
        seen = _read_all_pages(client, page_size, max(1, parallelism), on_page)
        if seen.count >= seen.total and not seen.shrank:
            return seen.state()
    if seen.shrank:
        raise CodatError(
            f"GET /companies: companies kept changing while they were read ({READ_ATTEMPTS} "
            f"tries; last: Codat counted {seen.total}, {seen.count} read); run again"
        )
    raise CodatError(
        f"GET /companies: Codat counts {seen.total} companies but its pages ended after "
        f"{seen.count} (page {seen.last_page} was its last), {READ_ATTEMPTS} times; "
        "the count cannot be right, so no plan is made from it"
    )


def _read_all_pages(
    client: CompanyPages, page_size: int, parallelism: int, on_page: Progress | None
) -> _Companies:
    seen = _Companies(on_page)
    first = client.list_companies(1, page_size)
    seen.add(first)
    # What a full page holds: the size asked, or less if the server says it caps pages.
    capacity = min(page_size, first.page_size or page_size)
    if first.is_last(capacity):
        return seen
    capacity = max(1, len(first.results))
    page = 2
    with ThreadPoolExecutor(max_workers=parallelism) as pool:
        while True:
            # As many pages at once as the count suggests are left (at least
            # one, since a full page is no proof of the end), at most `parallelism`.
            expected = math.ceil(max(0, seen.total - seen.count) / capacity)
            batch = range(page, page + min(parallelism, max(1, expected)))
            # Ask for the size actually served, so page N covers the same rows for both sides.
            pages = list(pool.map(lambda n: client.list_companies(n, capacity), batch))
            for answer in pages:
                seen.add(answer)
                if answer.is_last(capacity):
                    return seen
            page = batch.stop


class _Companies:
    """Companies read so far, by id, with the latest total Codat reported."""

    def __init__(self, on_page: Progress | None) -> None:
        self._by_id: dict[str, Mapping[str, Any]] = {}
        self._on_page = on_page
        self.total = 0
        self.shrank = False
        self.last_page = 0

    @property
    def count(self) -> int:
        return len(self._by_id)

    def add(self, page: CompaniesPage) -> None:
        for company in page.results:
            # A company pushed onto the next page by an insert appears twice: keep one.
            self._by_id.setdefault(company["id"], company)
        self.last_page = max(self.last_page, page.number)
        if page.total is not None:
            self.shrank = self.shrank or page.total < self.total
            self.total = page.total
        if self._on_page is not None:
            self._on_page(self.count, max(self.total, self.count))

    def state(self) -> LiveState:
        companies = []
        for body in self._by_id.values():
            try:
                companies.append(LiveCompany.from_api(body))
            except ValueError as err:
                raise CodatError(f"GET /companies: Codat answered with {err}") from None
        return LiveState(companies=tuple(companies))
