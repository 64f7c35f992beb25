"""Reading Codat's rate-limit headers: `Retry-After` and `X-Rate-Limit-*`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime

import httpx

# Values above this are absolute epoch times, below it a number of seconds.
_EPOCH_SECONDS = 1e9
_EPOCH_MILLIS = 1e12


def seconds_until(value: str | None, now: float) -> float | None:
    """Seconds from `now` (epoch) until the time `value` names, never negative.

    Accepts what servers send for Retry-After and rate-limit resets: a number of
    seconds, an epoch timestamp (seconds or milliseconds), an HTTP date or an
    ISO 8601 date. None when absent or unreadable.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        number = float(text)
    except ValueError:
        when = _parse_date(text)
        return None if when is None else max(0.0, when - now)
    if number != number or number < 0:  # NaN or negative
        return None
    if number >= _EPOCH_MILLIS:
        return max(0.0, number / 1000 - now)
    if number >= _EPOCH_SECONDS:
        return max(0.0, number - now)
    return number


def _parse_date(text: str) -> float | None:
    try:
        return parsedate_to_datetime(text).timestamp()
    except (TypeError, ValueError, IndexError):
        pass
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.timestamp() if parsed.tzinfo else None


@dataclass(frozen=True, slots=True)
class Quota:
    """What the server says is left: `remaining` of `limit` until `reset_in` s from now."""

    limit: int
    remaining: int
    reset_in: float | None


def quota(response: httpx.Response, now: float) -> Quota | None:
    try:
        limit = int(response.headers["x-rate-limit-limit"])
        remaining = int(response.headers["x-rate-limit-remaining"])
    except (KeyError, ValueError):
        return None
    reset_in = seconds_until(response.headers.get("x-rate-limit-reset"), now)
    return Quota(limit=limit, remaining=max(0, remaining), reset_in=reset_in)
