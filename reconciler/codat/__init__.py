"""Talking to Codat: the HTTP client, its rate limiter, retries and errors.

The names below are re-exported, but each is imported from its module only when
first used: importing one light module of this package (observe.py's records of
API calls, config.py's base URL rules) must not load the client and httpx, which
a command that never calls Codat (`validate`) would otherwise pay for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reconciler.lazy_names import importer

if TYPE_CHECKING:
    from reconciler.codat.client import CodatClient, new_idempotency_key
    from reconciler.codat.config import resolve_base_url
    from reconciler.codat.errors import CodatAPIError, CodatConnectionError, CodatError, Stopped
    from reconciler.codat.observe import ApiCall, Retrying

_HOME = {
    "ApiCall": "reconciler.codat.observe",
    "CodatAPIError": "reconciler.codat.errors",
    "CodatClient": "reconciler.codat.client",
    "CodatConnectionError": "reconciler.codat.errors",
    "CodatError": "reconciler.codat.errors",
    "Retrying": "reconciler.codat.observe",
    "Stopped": "reconciler.codat.errors",
    "new_idempotency_key": "reconciler.codat.client",
    "resolve_base_url": "reconciler.codat.config",
}

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


__getattr__ = importer(__name__, _HOME, globals())
