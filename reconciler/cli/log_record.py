"""One line of a log on stderr: a JSON object a log shipper accepts, or text with a time.

Every JSON record starts with `time` (RFC 3339, UTC, milliseconds) and `level`
(`info`, `warning` or `error`), so Loki, Elasticsearch or CloudWatch can order
and filter them without a parsing rule; the event's own fields follow.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Literal

Level = Literal["info", "warning", "error"]
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def rfc3339(moment: datetime) -> str:
    """`2026-12-06T00:48:02.123Z`."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def json_line(level: Level, fields: Mapping[str, Any], clock: Clock = utc_now) -> str:
    """The record as one line, without the newline."""
    record = {"time": rfc3339(clock()), "level": level, **fields}
    return json.dumps(record, separators=(",", ":"))


def text_line(message: str, clock: Clock = utc_now) -> str:
    """A text log line of a long-running service: its time first, to the second."""
    stamp = clock().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{stamp} {message}"
