"""Where Codat is and how to prove who we are: base URL and API key."""

from __future__ import annotations

import base64
import binascii
import ipaddress
from urllib.parse import SplitResult, urlsplit

from reconciler.errors import ReconcilerError

DEFAULT_BASE_URL = "https://api.codat.io"


def resolve_base_url(url: str | None = None) -> str:
    """`url` (the CLI's --base-url or CODAT_BASE_URL), checked; production when None.

    Plain http would send the API key in clear text, so it is only allowed to
    this machine (a local sandbox).
    """
    chosen = url or DEFAULT_BASE_URL
    parts = _split(chosen)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ReconcilerError(
            f"base URL {chosen!r} is not an http(s) URL; use e.g. {DEFAULT_BASE_URL}"
        )
    if parts.username or parts.password:
        raise ReconcilerError(
            "base URL must not contain credentials; "
            "set CODAT_API_KEY or pass --api-key-file instead"
        )
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ReconcilerError(
            f"base URL {chosen!r} uses plain http to a host other than this machine, "
            "which would send the API key unencrypted; use https:// "
            "(plain http is only allowed to localhost, 127.0.0.0/8 or ::1)"
        )
    return chosen.rstrip("/")


def _split(url: str) -> SplitResult:
    """The URL's parts, or a ReconcilerError for what urllib cannot parse (`http://[::1`)."""
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise ReconcilerError(
            f"base URL {url!r} is not a valid URL ({exc}); use e.g. {DEFAULT_BASE_URL}"
        ) from None
    try:
        port = parts.port  # parsed lazily: an out-of-range port only fails here
    except ValueError:
        port = 0
    if port == 0:
        # Refused here: dialled, it would only read as "could not connect".
        raise ReconcilerError(
            f"base URL {url!r} has no valid port: a port is a number from 1 to 65535"
        )
    return parts


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def looks_base64_encoded(key: str) -> bool:
    """True for a key that is already the base64 of printable text.

    Codat wants `Basic <base64 of the key>`, and the tool does the encoding; a
    key pasted from an Authorization header would be encoded twice and refused.
    """
    try:
        decoded = base64.b64decode(key, validate=True)
    except (binascii.Error, ValueError):
        return False
    if len(decoded) < 8 or base64.b64encode(decoded).decode("ascii") != key:
        return False
    return all(0x21 <= byte <= 0x7E for byte in decoded)
