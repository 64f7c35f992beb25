from __future__ import annotations

from email.utils import formatdate

import httpx
import pytest

from reconciler.codat.headers import Quota, quota, seconds_until

NOW = 1_750_000_000.0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("7", 7.0),
        ("0", 0.0),
        ("2.5", 2.5),
        (str(int(NOW + 30)), 30.0),  # epoch seconds
        (str(int((NOW + 30) * 1000)), 30.0),  # epoch milliseconds
        (formatdate(NOW + 12, usegmt=True), 12.0),  # HTTP date
        ("2025-06-15T15:07:00Z", 1_750_000_020.0 - NOW),  # ISO 8601
        (formatdate(NOW - 100, usegmt=True), 0.0),  # in the past: no wait
    ],
)
def test_seconds_until_reads_every_form(value: str, expected: float) -> None:
    assert seconds_until(value, NOW) == pytest.approx(expected)


@pytest.mark.parametrize("value", [None, "", "soon", "-3", "nan", "2025-06-15T15:07:00"])
def test_seconds_until_unreadable_is_none(value: str | None) -> None:
    assert seconds_until(value, NOW) is None


def test_quota_from_headers() -> None:
    response = httpx.Response(
        200,
        headers={
            "X-Rate-Limit-Limit": "1000",
            "X-Rate-Limit-Remaining": "12",
            "X-Rate-Limit-Reset": "40",
        },
    )
    assert quota(response, NOW) == Quota(limit=1000, remaining=12, reset_in=40.0)
    assert quota(httpx.Response(200), NOW) is None
