"""What goes into and comes out of the sandbox, independent of HTTP plumbing.

Every error leaves as Codat's error body (`ErrorMessage` in the specs) with a
fresh `correlationId`, whatever raised it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote

JSON_TYPE = "application/json; charset=utf-8"
MAX_BODY_BYTES = 1024 * 1024

_REASONS = {
    400: "Bad request",
    401: "Unauthorized",
    404: "Not found",
    405: "Method not allowed",
    403: "Forbidden",
    409: "Conflict",
    411: "Length required",
    413: "Request body larger than 1 MiB",
    415: "Unsupported content type",
    422: "Unprocessable entity",
    429: "You have made too many requests in a given amount of time; please retry later.",
    500: "There is a problem with our server. Please try again later.",
    503: "The Codat API is temporarily offline for maintenance. Please try again later.",
}


@dataclass(frozen=True, slots=True)
class SandboxResponse:
    status: int
    headers: dict[str, str]
    body: bytes
    # "timeout" (never answer) or "lost" (change committed, connection dropped):
    # the server or transport acts these out instead of sending the response.
    fault: str | None = None

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(slots=True)
class SandboxRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes
    params: dict[str, str] = field(default_factory=dict)  # from the path template

    @classmethod
    def build(
        cls, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes
    ) -> SandboxRequest:
        parsed = parse_qs(query, keep_blank_values=True)
        return cls(
            method=method.upper(),
            path=unquote(path),
            query={k: v[0] for k, v in parsed.items()},
            headers={k.lower(): v for k, v in headers.items()},
            body=body,
        )

    def json_body(self) -> Any:
        """The body as JSON; 415 for another content type, 400 if it does not parse."""
        content_type = self.headers.get("content-type", "")
        if content_type.split(";")[0].strip().lower() != "application/json":
            raise ApiError(415, f"Content-Type must be application/json, not {content_type!r}")
        try:
            return json.loads(self.body)
        except (ValueError, RecursionError):
            raise ApiError(400, "Error processing request - the body is not valid JSON.") from None

    def json_object(self) -> dict[str, Any]:
        body = self.json_body()
        if not isinstance(body, dict):
            raise ApiError(400, "Error processing request - the body must be a JSON object.")
        return body


class ApiError(Exception):
    """Raised anywhere while handling; becomes Codat's error body."""

    def __init__(
        self,
        status: int,
        message: str | None = None,
        *,
        errors: list[tuple[str, str]] | None = None,
        retry_after: int | None = None,
        retryable: bool | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message or _REASONS.get(status, "Error"))
        self.status = status
        self.message = message or _REASONS.get(status, "Error")
        self.errors = errors  # (itemId, message) pairs for `validation.errors`
        self.retry_after = retry_after
        self.headers = dict(headers or {})  # e.g. a 405's Allow
        # A 409 is retryable when it means "busy" (a key still in flight), not when
        # it means "conflicts with the company's state": the caller says which.
        self.retryable = status in (409, 429, 500, 503) if retryable is None else retryable

    def response(self) -> SandboxResponse:
        validation = None
        if self.errors:
            validation = {
                "errors": [
                    {"itemId": item, "message": message, "validatorName": "SandboxValidator"}
                    for item, message in self.errors
                ],
                "warnings": [],
            }
        body = {
            "statusCode": self.status,
            "service": "PublicApi",
            "error": self.message,
            "correlationId": uuid.uuid4().hex,
            "validation": validation,
            "canBeRetried": "True" if self.retryable else "False",
            "detailedErrorCode": 0,
        }
        headers = {"Content-Type": JSON_TYPE, **self.headers}
        if self.retry_after is not None:
            headers["Retry-After"] = str(self.retry_after)
        return SandboxResponse(self.status, headers, json.dumps(body).encode())


def json_response(status: int, body: Any) -> SandboxResponse:
    return SandboxResponse(status, {"Content-Type": JSON_TYPE}, json.dumps(body).encode())


def text_json_response(status: int, body: str) -> SandboxResponse:
    """For bodies assembled from stored JSON text."""
    return SandboxResponse(status, {"Content-Type": JSON_TYPE}, body.encode())
