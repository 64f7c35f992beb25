"""Sending one operation to Codat: auth, rate limits, retries, errors.

Every call goes through `RequestSender.request`: `_attempt` is one send,
`_after` the retry decision on what it brought. POST and PATCH carry an
Idempotency-Key (a fresh one per operation unless the caller gives one), and a
retry after a lost answer, a 409 (the first attempt still running) or a 429
repeats it, so a request whose answer was lost is replayed by Codat rather than
done twice.

Codat stores the first answer to a key whatever it was, a 5xx included, and
replays it for 90 minutes: retrying a keyed request that got a 5xx under the
same key only gets the same 5xx back, and proves nothing about whether the
change happened. So a PATCH (absolute values: doing it twice is harmless) is
retried under a new key, and a POST is not retried at all: it raises a
CodatError with `may_have_applied` set, and the caller reads back to find out.
"""

from __future__ import annotations

import base64
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlencode

import httpx

from reconciler import __version__
from reconciler.codat.config import DEFAULT_BASE_URL, resolve_base_url
from reconciler.codat.errors import (
    CodatAPIError,
    CodatConnectionError,
    QuotaExhausted,
    Stopped,
    describe_transport_error,
    header_correlation_id,
    status_phrase,
    transport_cause,
)
from reconciler.codat.headers import quota, seconds_until
from reconciler.codat.observe import ApiCall, Observer, Retrying, RetryObserver
from reconciler.codat.ratelimit import RequestPacer
from reconciler.codat.retry import MAX_RETRY_AFTER, NOT_SENT, backoff, should_retry

KEYED_METHODS = frozenset({"POST", "PATCH"})
_ERROR_TEXT_LIMIT = 200


def new_idempotency_key() -> str:
    """A fresh key for one operation; reuse it for every retry of that operation."""
    return str(uuid.uuid4())


@dataclass(frozen=True, slots=True)
class _Unanswered:
    reason: str
    sent: bool  # False when it failed before a byte left: it cannot have been applied
    cause: str  # short, for the retry line: "a timeout"


@dataclass(slots=True)
class _Sending:
    """One operation being sent, across its attempts."""

    method: str
    path: str
    url: str  # for what people read: retry lines, the error of giving up
    keyed: bool
    key: str | None  # replaced after a keyed 5xx
    hidden: tuple[str, ...]  # secrets to scrub from any error text
    gone_ok: bool
    maybe_applied: bool = False  # some attempt may have reached Codat
    wait_said: bool = False  # the retry line said how long the next attempt waits


class RequestSender:
    """The connection to Codat and the one request path; CodatClient adds the calls.

    Every wait (backoff, Retry-After, rate-limit spacing) goes through `sleep`,
    by default `stop.wait`: setting `stop` (the CLI does on SIGTERM and Ctrl-C)
    ends every wait at once, and the request waiting raises Stopped instead of
    being sent. `clock` (monotonic) times waits, `wall_clock` (epoch) reads
    Codat's dates; tests inject all three.

    `embedded_sandbox`: the transport is the tool's in-process sandbox, which holds
    no real credentials (set by engine.connect; read where that matters).
    """

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        api_key: str | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
        max_attempts: int = 6,
        max_rate: int = 1000,
        observer: Observer | None = None,
        on_retry: RetryObserver | None = None,
        sleep: Callable[[float], object] | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        stop: threading.Event | None = None,
        pool_size: int = 16,
        rng: random.Random | None = None,
        embedded_sandbox: bool = False,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        # A caller-supplied transport decides itself where bytes go (tests, the
        # in-process sandbox); a real network connection must obey the URL rules.
        base_url = base_url if transport is not None else resolve_base_url(base_url)
        headers = {"User-Agent": f"codat-reconciler/{__version__}", "Accept": "application/json"}
        self._secrets: tuple[str, ...] = ()
        if api_key:
            token = base64.b64encode(api_key.encode()).decode()
            headers["Authorization"] = f"Basic {token}"
            self._secrets = (api_key, token)
        self._http = httpx.Client(
            base_url=base_url,
            headers=headers,
            transport=transport,
            timeout=httpx.Timeout(timeout),
            limits=httpx.Limits(max_connections=pool_size, max_keepalive_connections=pool_size),
            follow_redirects=False,
        )
        self._base_url = str(self._http.base_url).rstrip("/")
        self.embedded_sandbox = embedded_sandbox
        self._max_attempts = max_attempts
        self._observer = observer
        self._on_retry = on_retry
        self.stop = stop or threading.Event()
        self._sleep = sleep or self.stop.wait
        self._clock = clock
        self._wall_clock = wall_clock
        self._rng = rng or random.Random()
        self.pacer = RequestPacer(max_rate, clock=clock, sleep=self._wait)
        self._quota_lock = threading.Lock()
        self._refused_until = 0.0  # epoch seconds: Codat's quota is used up until then

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self._http.base_url)!r})"

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- the one request path ---------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        json: Any = None,
        idempotency_key: str | None = None,
        gone_ok: bool = False,
        secrets: Iterable[str] = (),
    ) -> httpx.Response:
        """Send one operation, retrying what is safe to retry (see the module doc).

        `gone_ok`: for DELETE, a 404 after an attempt that may have reached
        Codat means that attempt did the work. A 404 on the first try is an error.
        """
        method = method.upper()
        now = self._wall_clock()
        if now < self._refused_until:
            # Every later call would only be refused too: none is sent.
            raise QuotaExhausted(method, path, self._refused_until, now=now)
        keyed = method in KEYED_METHODS
        key = (idempotency_key or new_idempotency_key()) if keyed else None
        url = self._url(path, params)
        op = _Sending(method, path, url, keyed, key, (*self._secrets, *secrets), gone_ok)
        try:
            for attempt in range(1, self._max_attempts + 1):
                held = None if op.wait_said else self._held_back(op, attempt)
                op.wait_said = False
                outcome = self._attempt(
                    method, path, params, json, op.key, attempt, op.hidden, held
                )
                answer = self._after(op, outcome, attempt)
                if answer is not None:
                    return answer
        except Stopped:
            pass  # raised below with what was sent, outside the `except`: nothing chained
        else:
            raise AssertionError("unreachable: the last attempt returns or raises")
        raise Stopped(method, url, sent=op.maybe_applied)

    def _url(self, path: str, params: Mapping[str, str | int] | None) -> str:
        # The key rides in a header, never here; the query holds only paging,
        # names and ids.
        query = f"?{urlencode(params)}" if params else ""
        return f"{self._base_url}{path}{query}"

    def _wait(self, seconds: float) -> None:
        """Every wait of this client: Stopped, at once, when `stop` is set."""
        if not self.stop.is_set():
            self._sleep(seconds)
        if self.stop.is_set():
            raise Stopped()

    def _held_back(self, op: _Sending, attempt: int) -> Callable[[float], None]:
        def say(wait: float) -> None:
            if self._on_retry is not None:
                self._on_retry(
                    Retrying(
                        op.method,
                        op.url,
                        attempt,
                        self._max_attempts,
                        "held back by the rate limit",
                        wait,
                        retry=False,
                    )
                )

        return say

    def _retrying(self, op: _Sending, attempt: int, cause: str, wait: float) -> None:
        if self._on_retry is not None:
            self._on_retry(
                Retrying(op.method, op.url, attempt + 1, self._max_attempts, cause, wait)
            )

    def _after(
        self, op: _Sending, outcome: httpx.Response | _Unanswered, attempt: int
    ) -> httpx.Response | None:
        """The retry decision on one attempt: its answer, None once it is time to try
        again, or the error that ends the operation."""
        last = attempt == self._max_attempts
        if isinstance(outcome, _Unanswered):
            op.maybe_applied = op.maybe_applied or outcome.sent
            if last:
                lost = CodatConnectionError(op.method, op.path, attempt, outcome.reason, url=op.url)
                lost.may_have_applied = op.keyed and op.maybe_applied
                raise lost
            wait = backoff(attempt, self._rng)
            self._retrying(op, attempt, outcome.cause, wait)
            self._wait(wait)
            return None
        response = outcome
        status = response.status_code
        if 200 <= status < 300 or (op.gone_ok and status == 404 and op.maybe_applied):
            return response
        retry = should_retry(response, idempotent_key=op.keyed)
        # A keyed 5xx is kept and replayed by Codat: the same key cannot tell more.
        ambiguous = op.keyed and status >= 500 and op.method == "POST"
        retried = attempt > 1  # giving up: the error names the URL the retry lines named
        error = CodatAPIError.from_response(
            op.method,
            op.path,
            response,
            secrets=op.hidden,
            retryable=retry and not ambiguous,
            url=op.url if retried else None,
            attempts=attempt,
        )
        error.may_have_applied = ambiguous
        # A 429 holds back every thread, even when this operation gives up.
        pause = self._pause_as_told(response, attempt) if status == 429 else 0.0
        if pause is None:
            raise self._quota_exhausted(error)
        if not retry or ambiguous or last:
            raise error
        if op.keyed and status >= 500:
            op.key = new_idempotency_key()  # a PATCH sets absolute values: safe to redo
        op.maybe_applied = op.maybe_applied or status >= 500
        cause = f"{status} {status_phrase(status)}"
        if status == 429:
            # The wait is the pacer's, before the next attempt: every thread keeps it.
            told = " (Retry-After)" if "retry-after" in response.headers else ""
            self._retrying(op, attempt, cause + told, pause)
            op.wait_said = True
        else:
            wait = backoff(attempt, self._rng)
            self._retrying(op, attempt, cause, wait)
            self._wait(wait)
        return None

    def _attempt(
        self,
        method: str,
        path: str,
        params: Mapping[str, str | int] | None,
        json: Any,
        key: str | None,
        attempt: int,
        hidden: tuple[str, ...],
        held: Callable[[float], None] | None,
    ) -> httpx.Response | _Unanswered:
        """One send: the response, or why there was none. `held` hears a long wait
        for the rate limit first."""
        self.pacer.acquire(held)
        started = self._clock()
        headers = {"Idempotency-Key": key} if key else {}
        failure: _Unanswered | None = None
        try:
            response = self._http.request(method, path, params=params, json=json, headers=headers)
        except httpx.TransportError as exc:
            failure = _Unanswered(
                describe_transport_error(exc), not isinstance(exc, NOT_SENT), transport_cause(exc)
            )
        if failure is not None:
            # Returned outside the `except`: httpx's exception (whose request
            # holds the Authorization header) must not ride along as __context__.
            self._observe(method, path, None, started, attempt, None, failure.reason)
            return failure
        status = response.status_code
        if (q := quota(response, self._wall_clock())) is not None:
            self.pacer.observe(q, self._clock())
        correlation = header_correlation_id(response)
        message = None
        if status >= 300:
            error = CodatAPIError.from_response(method, path, response, secrets=hidden)
            correlation, message = error.correlation_id, error.codat_message or str(status)
        self._observe(method, path, status, started, attempt, correlation, message)
        return response

    def _pause_as_told(self, response: httpx.Response, attempt: int) -> float | None:
        """Pause all requests for Retry-After, and say how long; None when that is too
        long to wait here."""
        now = self._wall_clock()
        wait = seconds_until(response.headers.get("retry-after"), now)
        if wait is None:
            wait = backoff(attempt, self._rng)
        elif wait > MAX_RETRY_AFTER:
            with self._quota_lock:
                self._refused_until = max(self._refused_until, now + wait)
            return None
        self.pacer.pause(wait)
        return wait

    def _quota_exhausted(self, error: CodatAPIError) -> QuotaExhausted:
        # Codat's daily quota resets at 00:00 UTC: hours away is "stop and say when",
        # never a sleep in CI.
        return QuotaExhausted(
            error.method,
            error.path,
            self._refused_until,
            correlation_id=error.correlation_id,
            now=self._wall_clock(),
        )

    def _observe(
        self,
        method: str,
        path: str,
        status: int | None,
        started: float,
        attempt: int,
        correlation: str | None,
        error: str | None = None,
    ) -> None:
        if self._observer is None:
            return
        self._observer(
            ApiCall(
                method=method,
                path=path,
                status=status,
                duration_ms=round((self._clock() - started) * 1000, 3),
                attempt=attempt,
                correlation_id=correlation,
                error=error[:_ERROR_TEXT_LIMIT] if error else None,
            )
        )
