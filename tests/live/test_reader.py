from __future__ import annotations

import math
import threading
from typing import Any

import httpx
import pytest

from reconciler.codat import CodatError
from reconciler.live.reader import read_live_state
from tests.codat.fakes import make_client


def company(i: int) -> dict[str, Any]:
    return {
        "id": f"00000000-0000-0000-0000-{i:012d}",
        "name": f"{i:08d}",
        "description": None,
        "tags": {"managed-by": "codat-reconciler"} if i % 2 else {},
        "dataConnections": [
            {"id": f"conn-{i}", "integrationKey": "dfxm", "status": "Linked", "created": "x"}
        ],
        "created": "2026-01-01T00:00:00Z",
    }


class FakeCodat:
    """GET /companies over `companies`, serving at most `cap` per page whatever is asked."""

    def __init__(self, n: int, cap: int = 5000, next_links: bool = True) -> None:
        self.companies = [company(i) for i in range(n)]
        self.cap = cap
        self.next_links = next_links
        self.requests: list[tuple[int, int]] = []
        self.lock = threading.Lock()
        self.active = 0
        self.max_active = 0
        self.gate: threading.Barrier | None = None

    def page(self, number: int, size: int) -> dict[str, Any]:
        size = min(size, self.cap)
        results = self.companies[(number - 1) * size : number * size]
        links: dict[str, Any] = {"self": {"href": "/companies"}}
        if self.next_links and number * size < len(self.companies):
            links["next"] = {"href": f"/companies?page={number + 1}&pageSize={size}"}
        return {
            "results": results,
            "pageNumber": number,
            "pageSize": size,
            "totalResults": len(self.companies),
            "_links": links,
        }

    def lie(self, total: int | None = None, *, drop_next: bool = False) -> None:
        """From now on, pages claim `total` companies and/or carry no next link."""
        honest = self.page

        def lying(number: int, size: int) -> dict[str, Any]:
            body = honest(number, size)
            if total is not None:
                body["totalResults"] = total
            if drop_next:
                body["_links"].pop("next", None)
            return body

        self.page = lying  # type: ignore[method-assign]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/companies", "no per-company call while reading"
        number = int(request.url.params["page"])
        size = int(request.url.params["pageSize"])
        with self.lock:
            self.requests.append((number, size))
            self.active += 1
            self.max_active = max(self.max_active, self.active)
            body = self.page(number, size)
        try:
            if number > 1 and self.gate is not None:
                # Every later page waits for the others: passes only if asked in parallel.
                self.gate.wait(timeout=5)
            return httpx.Response(200, json=body)
        finally:
            with self.lock:
                self.active -= 1


def read(fake: FakeCodat, **kwargs: Any) -> Any:
    client, _ = make_client(fake)
    return read_live_state(client, **kwargs)


def test_reads_everything_in_ceil_n_over_5000_calls_when_honoured() -> None:
    fake = FakeCodat(12_000)
    state = read(fake)
    assert len(state.companies) == 12_000
    assert len(fake.requests) == math.ceil(12_000 / 5000)
    first = state.companies[0]
    assert first.connections[0].platform_key == "dfxm"


def test_a_full_last_page_is_no_proof_of_the_end_so_one_more_is_read() -> None:
    fake = FakeCodat(10_000)
    assert len(read(fake).companies) == 10_000
    assert [n for n, _ in fake.requests] == [1, 2, 3]


def test_a_count_too_low_without_a_next_link_does_not_hide_companies() -> None:
    fake = FakeCodat(12_000)
    fake.lie(5000, drop_next=True)
    assert len(read(fake).companies) == 12_000


def test_an_absurd_count_is_an_error_after_a_bounded_number_of_reads() -> None:
    fake = FakeCodat(10)
    fake.lie(50_000_000)
    with pytest.raises(CodatError, match=r"counts 50000000 companies but its pages ended after 10"):
        read(fake, parallelism=4)
    # Each of the three tries read page 1 only: a short page without a next link ends it.
    assert len(fake.requests) == 3


def test_an_absurd_count_with_full_pages_reads_only_a_window_at_a_time() -> None:
    fake = FakeCodat(4000, cap=1000)
    fake.lie(50_000_000)
    with pytest.raises(CodatError, match="cannot be right"):
        read(fake, parallelism=4)
    # Per try: page 1, then windows of at most 4 pages until the empty page 5.
    assert max(n for n, _ in fake.requests) <= 1 + 4 + 4
    assert len(fake.requests) <= 3 * 9


def test_page_cap_lower_than_asked_is_not_trusted() -> None:
    fake = FakeCodat(12_345, cap=2000)
    state = read(fake)
    assert len({c.id for c in state.companies}) == 12_345
    assert len(fake.requests) == math.ceil(12_345 / 2000)
    assert fake.requests[0] == (1, 5000)
    # Later pages ask for the size really served, so page N means the same rows to both sides.
    assert {size for _, size in fake.requests[1:]} == {2000}


def test_pages_after_the_first_are_fetched_in_parallel() -> None:
    fake = FakeCodat(4500, cap=1000)
    fake.gate = threading.Barrier(4)  # pages 2..5
    state = read(fake, parallelism=4)
    assert len(state.companies) == 4500
    assert fake.max_active == 4
    assert not fake.gate.broken


def test_single_page_and_empty() -> None:
    fake = FakeCodat(3)
    assert len(read(fake).companies) == 3
    assert len(fake.requests) == 1
    empty = FakeCodat(0)
    assert read(empty).companies == ()
    assert len(empty.requests) == 1


def test_companies_created_at_the_end_during_the_read_are_read_too() -> None:
    fake = FakeCodat(4000, cap=2000)
    original = fake.page

    def page_after_append(number: int, size: int) -> dict[str, Any]:
        if number == 2 and len(fake.companies) == 4000:
            fake.companies.append(company(90_001))
        return original(number, size)

    fake.page = page_after_append  # type: ignore[method-assign]
    state = read(fake)
    assert len(state.companies) == 4001
    assert [n for n, _ in fake.requests] == [1, 2, 3]


def test_companies_created_at_the_front_during_the_read_are_not_missed() -> None:
    fake = FakeCodat(4000, cap=2000)
    original = fake.page

    def page_after_insert(number: int, size: int) -> dict[str, Any]:
        # Two companies created at the front after page 1 was served: page 2
        # repeats two rows of page 1, and the new ones sit where page 1 was.
        if number == 2 and len(fake.companies) == 4000:
            fake.companies[:0] = [company(90_001), company(90_002)]
        return original(number, size)

    fake.page = page_after_insert  # type: ignore[method-assign]
    state = read(fake)
    ids = [c.id for c in state.companies]
    assert len(ids) == len(set(ids)) == 4002
    assert company(90_001)["id"] in ids


def test_next_link_is_followed_beyond_the_computed_pages() -> None:
    fake = FakeCodat(2500, cap=1000)
    original = fake.page

    def understated_total(number: int, size: int) -> dict[str, Any]:
        body = original(number, size)
        if number == 1:
            body["totalResults"] = 1000  # a stale count; `next` still says more
        return body

    fake.page = understated_total  # type: ignore[method-assign]
    state = read(fake)
    assert len(state.companies) == 2500
    assert [n for n, _ in fake.requests] == [1, 2, 3]


def test_a_company_missed_by_a_shifting_read_is_read_again_not_planned_on() -> None:
    fake = FakeCodat(4000, cap=2000)
    original = fake.page
    deletes = {"left": 1}

    def page_after_delete(number: int, size: int) -> dict[str, Any]:
        # One company deleted at the front after page 1: page 2 skips one row.
        if number == 2 and deletes["left"]:
            deletes["left"] -= 1
            del fake.companies[0]
        return original(number, size)

    fake.page = page_after_delete  # type: ignore[method-assign]
    state = read(fake)
    # Counts match after the first read (the deleted one was read, its neighbour
    # skipped) but the total fell mid-read: read again, and the skipped one is there.
    assert len(state.companies) == 3999
    assert company(2000)["id"] in {c.id for c in state.companies}
    assert company(0)["id"] not in {c.id for c in state.companies}
    assert [n for n, _ in fake.requests] == [1, 2, 1, 2]


def test_a_read_that_never_settles_is_an_error() -> None:
    fake = FakeCodat(10)
    fake.lie(11, drop_next=True)
    with pytest.raises(CodatError, match=r"counts 11 companies but its pages ended after 10"):
        read(fake)


def test_progress_is_reported_per_page() -> None:
    fake = FakeCodat(5000, cap=2000)
    seen: list[tuple[int, int]] = []
    read(fake, on_page=lambda done, total: seen.append((done, total)))
    assert seen == [(2000, 5000), (4000, 5000), (5000, 5000)]
