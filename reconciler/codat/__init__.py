"""Talking to Codat: the HTTP client, its rate limiter, retries and errors."""

from reconciler.codat.client import CodatClient, new_idempotency_key
from reconciler.codat.config import resolve_base_url
from reconciler.codat.errors import CodatAPIError, CodatConnectionError, CodatError, Stopped
from reconciler.codat.observe import ApiCall, Retrying

__all__ = [
    "ApiCall",
    "CodatAPIError",
    "CodatClient",
    "CodatConnectionError",
    "CodatError",
    "Retrying",
    "Stopped",
    "new_idempotency_key",
    "resolve_base_url",
]
