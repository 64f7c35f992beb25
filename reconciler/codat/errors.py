"""Failures talking to Codat, worded for the person who has to act on them.

Messages carry Codat's `correlationId` (support asks for it) and never a
secret: the API key, authorization values and request bodies are scrubbed or
never included, and no httpx exception is chained (its text is not ours to vet).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

import httpx

from reconciler.codat.redaction import redact
from reconciler.errors import ReconcilerError


class CodatError(ReconcilerError):
    """Anything that went wrong between this tool and Codat.

    `may_have_applied`: a creating request whose outcome is unknown (a 5xx that
    Codat keeps for its key, or no answer at all): the change may exist. Only a
    read can tell.
    """

    may_have_applied: bool = False


class CodatAPIError(CodatError):
    """Codat answered with an error status."""

    def __init__(
        self,
        method: str,
        path: str,
        status: int,
        *,
        codat_message: str = "",
        correlation_id: str | None = None,
        retryable: bool = False,
        url: str | None = None,
        attempts: int = 1,
    ) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.codat_message = codat_message
        self.correlation_id = correlation_id
        self.retryable = retryable
        # Set when the request was retried and given up on: the message then names
        # the whole URL and the attempts, as the retry lines before it did.
        self.url = url
        self.attempts = attempts
        super().__init__(self._describe())

    def _describe(self) -> str:
        where = self.url or self.path
        after = f" after {self.attempts} attempts" if self.attempts > 1 else ""
        text = f"{self.method} {where} failed{after}: {self.status} {status_phrase(self.status)}"
        if self.codat_message:
            text += f": {self.codat_message}"
        if self.correlation_id:
            text += f" (correlationId: {self.correlation_id})"
        if self.status == HTTPStatus.UNAUTHORIZED:
            text += (
                ". Codat did not accept the API key: check CODAT_API_KEY or the file given "
                "to --api-key-file (the key as Codat's portal shows it)"
            )
        return text

    @classmethod
    def from_response(
        cls,
        method: str,
        path: str,
        response: httpx.Response,
        *,
        secrets: Iterable[str] = (),
        retryable: bool = False,
        url: str | None = None,
        attempts: int = 1,
    ) -> CodatAPIError:
        body = error_body(response)
        return cls(
            method,
            path,
            response.status_code,
            codat_message=redact(codat_message(body), tuple(secrets)),
            correlation_id=correlation_id(response, body),
            retryable=retryable,
            url=url,
            attempts=attempts,
        )


class QuotaExhausted(CodatAPIError):
    """Codat refuses requests until `resume_at` (epoch seconds): its daily quota is used up."""

    def __init__(
        self,
        method: str,
        path: str,
        resume_at: float,
        *,
        correlation_id: str | None = None,
        now: float | None = None,
    ) -> None:
        self.resume_at = resume_at
        self._now = time.time() if now is None else now
        super().__init__(method, path, 429, correlation_id=correlation_id)

    def _describe(self) -> str:
        when = datetime.fromtimestamp(self.resume_at, UTC).strftime("%Y-%m-%d %H:%M UTC")
        left = max(0, round(self.resume_at - self._now))
        text = (
            f"{self.method} {self.path}: Codat's request quota is used up until {when} "
            f"(in {left // 3600} h {left % 3600 // 60} min); run again after that"
        )
        if self.correlation_id:
            text += f" (correlationId: {self.correlation_id})"
        return text


class CodatConnectionError(CodatError):
    """No usable answer from Codat, even after retrying."""

    def __init__(
        self, method: str, path: str, attempts: int, reason: str, *, url: str | None = None
    ) -> None:
        self.method = method
        self.path = path
        self.url = url
        self.attempts = attempts
        self.reason = reason
        plural = "attempt" if attempts == 1 else "attempts"
        super().__init__(f"{method} {url or path} failed after {attempts} {plural}: {reason}")


class Stopped(CodatError):
    """A stop (SIGTERM, Ctrl-C) ended a wait before the request was sent (again).

    `sent`: an earlier attempt of this request reached Codat and may have done
    its work; False means Codat never saw it.
    """

    def __init__(self, method: str = "", url: str = "", *, sent: bool = False) -> None:
        self.method = method
        self.url = url
        self.sent = sent
        request = f"{method} {url}".strip() or "a request"
        if sent:
            text = (
                f"{request}: stopped while waiting to retry it; an earlier attempt may or "
                "may not have been applied (run plan to see)"
            )
        else:
            text = f"{request}: stopped while waiting to send it; Codat has not acted on it"
        super().__init__(text)


def status_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def error_body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def codat_message(body: dict[str, Any]) -> str:
    """Codat's `error` text followed by its validation errors, one clause each."""
    parts = []
    if isinstance(body.get("error"), str) and body["error"].strip():
        parts.append(body["error"].strip())
    validation = body.get("validation")
    errors = validation.get("errors") if isinstance(validation, dict) else None
    for item in errors if isinstance(errors, list) else ():
        if not isinstance(item, dict) or not item.get("message"):
            continue
        where = item.get("itemId")
        parts.append(f"{where}: {item['message']}" if where else str(item["message"]))
    return "; ".join(parts)


def correlation_id(response: httpx.Response, body: dict[str, Any]) -> str | None:
    value = body.get("correlationId")
    if isinstance(value, str) and value:
        return value
    return header_correlation_id(response)


def header_correlation_id(response: httpx.Response) -> str | None:
    value = response.headers.get("x-correlation-id") or response.headers.get("correlation-id")
    return str(value) if value else None


def transport_cause(exc: httpx.TransportError) -> str:
    """What went wrong, short, for the line saying a request is retried after it."""
    if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
        return "a connect timeout"
    if isinstance(exc, httpx.TimeoutException):
        return "a timeout"
    if isinstance(exc, httpx.ConnectError):
        return "a failed connection"
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError):
        return "a connection reset"
    return f"a transport error ({type(exc).__name__})"


def describe_transport_error(exc: httpx.TransportError) -> str:
    """A fixed phrase per failure kind: httpx's own text is never shown.

    Connection failures name the server (scheme, host and port; the key rides in
    a header, never in the URL), since a wrong base URL is their usual cause.
    """
    where = _server_of(exc)
    if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
        return f"timed out connecting to {where}"
    if isinstance(exc, httpx.TimeoutException):
        return "timed out waiting for a response"
    if isinstance(exc, httpx.ConnectError):
        return (
            f"could not connect to {where} (connection refused, DNS or TLS failure); "
            "check --base-url / CODAT_BASE_URL"
        )
    if isinstance(exc, httpx.RemoteProtocolError):
        return "the server closed the connection without a response"
    return f"transport error ({type(exc).__name__})"


def _server_of(exc: httpx.TransportError) -> str:
    try:
        url = exc.request.url
    except RuntimeError:  # an exception raised without a request
        return "the server"
    host = f"[{url.host}]" if ":" in url.host else url.host
    port = f":{url.port}" if url.port is not None else ""
    return f"{url.scheme}://{host}{port}"
