"""The key credential fingerprints are made with, as the operator gives it.

The CLI alone reads the environment: the engine is handed the key (PlanRun's
`fingerprint_key`, open_saved_plan's, WatchSettings'), and decides itself, from
the client, whether the embedded sandbox's well-known key stands in for it.
"""

from __future__ import annotations

import os

from reconciler.credentials import KEY_ENV


def given_key() -> bytes | None:
    """CODAT_RECONCILER_KEY's value; None when unset or empty."""
    raw = os.environ.get(KEY_ENV)
    return raw.encode("utf-8") if raw else None
