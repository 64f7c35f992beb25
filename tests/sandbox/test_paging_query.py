"""Paging exactly as Codat's, `--max-page-size`, and the `query` / `tags` filters."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from reconciler.sandbox.query import QueryError, column_resolver, compile_filter
from tests.sandbox.conftest import ClientFactory, app_of


def _seed(api: httpx.Client, count: int, **extra: Any) -> list[str]:
    items = [{"name": f"Company {i:03d}", **extra} for i in range(count)]
    ids: list[str] = app_of(api).store.seed(items)
    return ids


@pytest.mark.parametrize("size", ["0", "5001", "-1", "ten"])
def test_page_size_out_of_range_is_400(api: httpx.Client, size: str) -> None:
    response = api.get("/companies", params={"pageSize": size})
    assert response.status_code == 400
    assert response.json()["validation"]["errors"][0]["itemId"] == "pageSize"


@pytest.mark.parametrize("page", ["0", "-3", "x"])
def test_page_below_one_is_400(api: httpx.Client, page: str) -> None:
    assert api.get("/companies", params={"page": page}).status_code == 400


def test_default_page_size_is_100_and_links_walk_the_pages(api: httpx.Client) -> None:
    ids = _seed(api, 250)
    first = api.get("/companies").json()
    assert first["pageSize"] == 100 and first["pageNumber"] == 1
    assert first["totalResults"] == 250 and len(first["results"]) == 100
    assert first["_links"]["self"] == {"href": "/companies"}
    assert first["_links"]["current"] == {"href": "/companies?page=1&pageSize=100"}
    assert "previous" not in first["_links"]

    seen, href = [], "/companies?page=1&pageSize=100"
    while True:
        page = api.get(href).json()
        seen += [c["id"] for c in page["results"]]
        if "next" not in page["_links"]:
            break
        href = page["_links"]["next"]["href"]
    assert seen == ids  # insertion order, nothing skipped or repeated
    assert page["pageNumber"] == 3 and len(page["results"]) == 50
    assert page["_links"]["previous"]["href"] == "/companies?page=2&pageSize=100"


def test_page_5000_is_allowed_and_past_the_end_is_empty(api: httpx.Client) -> None:
    _seed(api, 3)
    assert len(api.get("/companies", params={"pageSize": 5000}).json()["results"]) == 3
    past = api.get("/companies", params={"page": 9, "pageSize": 2}).json()
    assert past["results"] == [] and past["totalResults"] == 3


def test_max_page_size_serves_smaller_pages_than_asked(make_api: ClientFactory) -> None:
    api = make_api(max_page_size=7)
    _seed(api, 20)
    page = api.get("/companies", params={"pageSize": 5000}).json()
    assert len(page["results"]) == 7 and page["pageSize"] == 7
    assert page["totalResults"] == 20
    assert page["_links"]["next"]["href"] == "/companies?page=2&pageSize=7"


def test_connections_list_pages_too(api: httpx.Client) -> None:
    [company_id] = app_of(api).store.seed(
        [{"name": "A", "connections": [{"platformKey": "gbol"}] * 3}]
    )
    page = api.get(f"/companies/{company_id}/connections", params={"pageSize": 2}).json()
    assert page["totalResults"] == 3 and len(page["results"]) == 2
    assert page["_links"]["next"]["href"].startswith(f"/companies/{company_id}/connections?")


@pytest.fixture
def named(api: httpx.Client) -> tuple[httpx.Client, dict[str, str]]:
    names = ["Acme Coffee", "Acme Tea", "Bravo", "Charlie & Co"]
    items = [
        {"name": name, "tags": {"region": region, "managed-by": "codat-reconciler"}}
        for name, region in zip(names, ["uk", "us", "uk", "de"], strict=True)
    ]
    ids = app_of(api).store.seed(items)
    return api, dict(zip(names, ids, strict=True))


def _names(api: httpx.Client, **params: str) -> list[str]:
    response = api.get("/companies", params=params)
    assert response.status_code == 200, response.text
    return [c["name"] for c in response.json()["results"]]


def test_query_filter_operators(named: tuple[httpx.Client, dict[str, str]]) -> None:
    api, ids = named
    assert _names(api, query="name=Bravo") == ["Bravo"]
    assert _names(api, query="name!=Bravo") == ["Acme Coffee", "Acme Tea", "Charlie & Co"]
    assert _names(api, query="name~acme") == ["Acme Coffee", "Acme Tea"]
    assert _names(api, query="name~acme&&name~tea") == ["Acme Tea"]
    assert _names(api, query="name=Bravo || name=Acme Tea") == ["Acme Tea", "Bravo"]
    assert _names(api, query=f"id={ids['Bravo']}") == ["Bravo"]
    assert _names(api, query=f"id!={ids['Bravo']}&&name~a") == [
        "Acme Coffee",
        "Acme Tea",
        "Charlie & Co",
    ]
    assert _names(api, query='name="Charlie & Co"') == ["Charlie & Co"]
    assert _names(api, query="{name=Bravo||name=Acme Tea}&&name~a") == ["Acme Tea", "Bravo"]
    assert api.get("/companies", params={"query": "name=Bravo"}).json()["totalResults"] == 1


def test_tags_filter(named: tuple[httpx.Client, dict[str, str]]) -> None:
    api, _ = named
    assert _names(api, tags="region=uk") == ["Acme Coffee", "Bravo"]
    assert _names(api, tags="region=uk && managed-by=codat-reconciler") == ["Acme Coffee", "Bravo"]
    assert _names(api, tags="region!=uk") == ["Acme Tea", "Charlie & Co"]
    assert _names(api, tags="region~u") == ["Acme Coffee", "Acme Tea", "Bravo"]
    assert _names(api, tags="missing=x") == []
    assert _names(api, tags="region=uk", query="name~acme") == ["Acme Coffee"]


@pytest.mark.parametrize("bad", ["name", "colour=red", "name=a &&", "{name=a", "name>a", "&&"])
def test_malformed_query_is_400(named: tuple[httpx.Client, dict[str, str]], bad: str) -> None:
    api, _ = named
    response = api.get("/companies", params={"query": bad})
    assert response.status_code == 400
    assert response.json()["error"].startswith("Error parsing query")


def test_and_binds_tighter_than_or() -> None:
    sql, params = compile_filter("name=a||name=b&&id=c", column_resolver({"name": "n", "id": "i"}))
    assert sql == "(n = ? OR (n = ? AND i = ?))" and params == ["a", "b", "c"]
    with pytest.raises(QueryError):
        compile_filter('name="open', column_resolver({"name": "n"}))
