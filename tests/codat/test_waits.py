"""The client's waits: each retry said as it starts, every wait ended by a stop,
and Codat's daily quota met at any time of day on injected clocks."""

from __future__ import annotations

import re
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from reconciler.codat import CodatAPIError, CodatClient
from reconciler.codat.errors import QuotaExhausted, Stopped
from reconciler.codat.observe import Retrying
from reconciler.sandbox.clock import Clock
from reconciler.sandbox.transport import SandboxTransport
from tests.codat.fakes import API_KEY, FakeClock, error_json, make_client, scripted

OK = httpx.Response(200, json={"id": "c1", "name": "12345678"})
UNAVAILABLE = httpx.Response(503, json=error_json(503, "try later"))
URL = "https://api.codat.io/companies/c1"
# A hang guard for the threads below: a stop is seen in milliseconds.
HANG_GUARD = 30.0


def test_each_retry_is_said_with_method_url_attempt_and_cause() -> None:
    handler, seen = scripted(
        httpx.ReadTimeout("timed out"),
        UNAVAILABLE,
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
        httpx.Response(429, headers={"Retry-After": "7"}, json=error_json(429, "slow down")),
        OK,
    )
    retries: list[Retrying] = []
    client, _ = make_client(handler, on_retry=retries.append)
    assert client.get_company("c1")["id"] == "c1"
    assert len(seen) == 5
    lines = [r.describe() for r in retries]
    assert lines[0] == f"retrying GET {URL} (attempt 2 of 6) after a timeout"
    assert lines[1] == f"retrying GET {URL} (attempt 3 of 6) after 503 Service Unavailable"
    assert lines[2] == f"retrying GET {URL} (attempt 4 of 6) after a connection reset"
    assert lines[3] == (
        f"retrying GET {URL} (attempt 5 of 6) after 429 Too Many Requests (Retry-After), in 7 s"
    )
    assert retries[3].wait_s == 7.0


def test_the_retry_line_names_the_query_and_no_secret() -> None:
    handler, _ = scripted(UNAVAILABLE, httpx.Response(200, json={"results": []}))
    retries: list[Retrying] = []
    client, _ = make_client(handler, on_retry=retries.append)
    client.list_companies(1, query='name="Acme & Co"')
    (retry,) = retries
    assert retry.url == (
        "https://api.codat.io/companies?page=1&pageSize=5000&query=name%3D%22Acme+%26+Co%22"
    )
    assert API_KEY not in repr(retry)


def test_authorization_values_never_reach_a_retry_line() -> None:
    handler, _ = scripted(UNAVAILABLE, httpx.Response(200, json={"id": "x", "status": "Linked"}))
    retries: list[Retrying] = []
    client, _ = make_client(handler, on_retry=retries.append)
    client.authorize_connection("c1", "x", {"apiToken": "tok-secret-42"})
    (retry,) = retries
    assert retry.method == "PUT" and "tok-secret-42" not in repr(retry)


def test_giving_up_names_the_url_and_the_attempts() -> None:
    handler, seen = scripted(UNAVAILABLE)
    retries: list[Retrying] = []
    client, _ = make_client(handler, on_retry=retries.append)
    with pytest.raises(CodatAPIError) as err:
        client.list_companies(1)
    assert len(seen) == 6 and [r.attempt for r in retries] == [2, 3, 4, 5, 6]
    assert str(err.value).startswith(
        "GET https://api.codat.io/companies?page=1&pageSize=5000 failed after 6 attempts: "
        "503 Service Unavailable: try later"
    )


def test_an_error_without_retries_names_the_path_only() -> None:
    handler, _ = scripted(httpx.Response(404, json=error_json(404, "no such company")))
    client, _ = make_client(handler)
    with pytest.raises(CodatAPIError, match=r"^GET /companies/c1 failed: 404 Not Found"):
        client.get_company("c1")


def test_a_stop_ends_a_long_retry_after_at_once() -> None:
    """The real wait (no injected sleep): 55 s of Retry-After ends when stop is set."""
    handler, seen = scripted(
        httpx.Response(429, headers={"Retry-After": "55"}, json=error_json(429, "slow down")), OK
    )
    told = threading.Event()
    client = CodatClient(
        "https://api.codat.io",
        API_KEY,
        transport=httpx.MockTransport(handler),
        max_rate=0,
        on_retry=lambda retry: told.set(),
    )
    outcome: list[BaseException | dict[str, object]] = []

    def call() -> None:
        try:
            outcome.append(client.get_company("c1"))
        except Stopped as exc:
            outcome.append(exc)

    worker = threading.Thread(target=call)
    worker.start()
    assert told.wait(HANG_GUARD)
    stopped_at = time.monotonic()
    client.stop.set()
    worker.join(HANG_GUARD)
    assert time.monotonic() - stopped_at < 2.0
    (error,) = outcome
    assert isinstance(error, Stopped) and not error.sent and len(seen) == 1
    assert str(error) == (f"GET {URL}: stopped while waiting to send it; Codat has not acted on it")


def test_a_stop_during_an_attempt_ends_the_backoff_after_it() -> None:
    """A signal arriving while a PATCH is in flight: it finishes, and is not retried."""
    client: CodatClient | None = None

    def lost(request: httpx.Request) -> httpx.Response:
        assert client is not None
        client.stop.set()
        raise httpx.RemoteProtocolError("Server disconnected without sending a response.")

    client, calls = make_client(lost)
    with pytest.raises(Stopped) as err:
        client.update_company("c1", {"description": "x"})
    assert len(calls) == 1 and err.value.sent
    assert "may or may not have been applied" in str(err.value)
    assert err.value.__cause__ is None and err.value.__context__ is None


def test_a_stop_ends_the_rate_limit_pacing() -> None:
    """At most 1 request a minute: the second waits for the window, until stopped."""
    client: CodatClient | None = None

    def first(request: httpx.Request) -> httpx.Response:
        assert client is not None
        client.stop.set()
        return OK

    clock = FakeClock()
    client, calls = make_client(first, clock, max_rate=1)
    client.get_company("c1")
    with pytest.raises(Stopped) as err:
        client.get_company("c1")
    assert len(calls) == 1 and not err.value.sent and clock.sleeps == []


# 2026-06-01 23:58:00 UTC: two minutes before Codat's daily quota resets.
FIVE_TO_MIDNIGHT = datetime(2026, 6, 1, 23, 58, tzinfo=UTC).timestamp()
NOON = datetime(2026, 6, 1, 12, 0, tzinfo=UTC).timestamp()
LISTING = "https://api.codat.io/companies?page=1&pageSize=5000"


def quota_client(tmp_path: Path, start: float) -> tuple[CodatClient, FakeClock, list[Retrying]]:
    """The in-process sandbox with a daily quota of 2 and a client, on one injected wall
    clock starting at `start`: the client's waits move it, nothing is slept."""
    wall = FakeClock(start)
    transport = SandboxTransport(tmp_path / "quota.sqlite", daily_quota=2, clock=Clock(wall))
    retries: list[Retrying] = []
    client = CodatClient(
        "https://api.codat.io",
        transport=transport,
        max_rate=0,
        sleep=wall.sleep,
        clock=wall,
        wall_clock=wall,
        on_retry=retries.append,
    )
    return client, wall, retries


def test_a_quota_used_up_two_minutes_before_midnight_is_waited_out(tmp_path: Path) -> None:
    client, wall, retries = quota_client(tmp_path, FIVE_TO_MIDNIGHT)
    client.list_companies(1)
    client.list_companies(1)  # "0 remaining": the client holds back a minute (at most)
    assert len(client.list_companies(1).results) == 0  # refused at 23:59, waited, served
    assert wall.sleeps == [60.0, 60.0]
    assert [r.describe() for r in retries] == [
        f"waiting 60 s before GET {LISTING}: held back by the rate limit",
        f"retrying GET {LISTING} (attempt 2 of 6) after 429 Too Many Requests (Retry-After), "
        "in 60 s",
    ]
    assert datetime.fromtimestamp(wall(), UTC).strftime("%H:%M") == "00:00"


def test_a_quota_used_up_at_noon_stops_the_run_and_says_when(tmp_path: Path) -> None:
    client, wall, retries = quota_client(tmp_path, NOON)
    client.list_companies(1)
    client.list_companies(1)
    with pytest.raises(QuotaExhausted) as err:
        client.list_companies(1)  # sent at 12:01, after the minute held back
    assert re.fullmatch(
        r"GET /companies: Codat's request quota is used up until 2026-06-02 00:00 UTC "
        r"\(in 11 h 59 min\); run again after that \(correlationId: \w+\)",
        str(err.value),
    )
    assert wall.sleeps == [60.0]
    assert [(r.event, r.wait_s) for r in retries] == [("wait", 60.0)]
