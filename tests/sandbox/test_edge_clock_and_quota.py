"""Codat's edge: the Date header's own clock, proxies that drop or repeat it, the daily quota."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from reconciler.sandbox.ratelimit import DAY_SECONDS
from tests.sandbox.conftest import ClientFactory, app_of


def _created_and_date(api: httpx.Client) -> tuple[datetime, datetime]:
    answer = api.post("/companies", json={"name": "Acme"}, headers={"Idempotency-Key": "k"})
    created = datetime.fromisoformat(answer.json()["created"].replace("Z", "+00:00"))
    return created, parsedate_to_datetime(answer.headers["Date"])


def test_date_runs_ahead_of_created_by_the_skew(make_api: ClientFactory) -> None:
    created, date = _created_and_date(make_api(clock_skew_ms=3000))
    # Date has whole seconds: ahead by the skew, give or take that truncation.
    assert 2.0 <= (date - created).total_seconds() <= 3.0


def test_date_runs_behind_with_a_negative_skew(make_api: ClientFactory) -> None:
    created, date = _created_and_date(make_api(clock_skew_ms=-5000))
    assert -6.0 <= (date - created).total_seconds() <= -4.0


def test_date_can_be_omitted_or_repeated(make_api: ClientFactory) -> None:
    assert "date" not in make_api(date_header="omit").get("/companies").headers
    repeated = make_api(date_header="repeat").get("/companies").headers["date"]
    first, _, _ = repeated.partition(", ")
    assert first and repeated.count("GMT") == 2


def test_rate_limit_reset_is_the_date_of_the_next_utc_midnight(api: httpx.Client) -> None:
    response = api.get("/companies")
    reset = parsedate_to_datetime(response.headers["X-Rate-Limit-Reset"])
    now = app_of(api).clock.now()
    assert reset.timestamp() == (math.floor(now / DAY_SECONDS) + 1) * DAY_SECONDS
    assert reset.hour == reset.minute == reset.second == 0 and reset.tzinfo is not None


def test_daily_quota_refuses_until_midnight_utc(make_api: ClientFactory) -> None:
    api = make_api(daily_quota=3)
    clock = app_of(api).clock
    # Half past eleven at night, UTC: the quota resets in about thirty minutes.
    now = clock.now()
    clock.advance((math.floor(now / DAY_SECONDS) + 1) * DAY_SECONDS - 1800 - now)
    remaining = [api.get("/companies").headers["X-Rate-Limit-Remaining"] for _ in range(3)]
    assert remaining == ["2", "1", "0"]
    refused = api.get("/companies")
    assert refused.status_code == 429 and refused.headers["X-Rate-Limit-Limit"] == "3"
    wait = int(refused.headers["Retry-After"])
    assert 1790 <= wait <= 1800
    until = datetime.fromtimestamp(clock.now() + wait, UTC)
    assert (until.hour, until.minute) in ((0, 0), (23, 59))
    clock.advance(wait)
    again = api.get("/companies")
    assert again.status_code == 200 and again.headers["X-Rate-Limit-Remaining"] == "2"
