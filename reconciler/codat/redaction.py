"""Removing secrets from text Codat sends back.

Codat's error bodies can echo parts of the request, so an authorization value
may come back verbatim, JSON-escaped (`pa\\"ss`, `\\u00e9`), URL-encoded, or
inside a longer string. Every form is redacted, whatever the value's length:
a value of four characters or more wherever it occurs; a shorter one wherever it
stands alone (not inside a longer word), since `1` inside `401` reveals nothing
and shredding every digit would make the message useless. Over-redacting is
safe; a secret shown is not.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

REDACTED = "***"
# Shorter values are only redacted where they stand alone.
_SUBSTRING_LENGTH = 4


def forms(secret: str) -> set[str]:
    """Every spelling in which `secret` can come back in a text."""
    found = {
        secret,
        json.dumps(secret)[1:-1],  # JSON-escaped, non-ASCII kept
        json.dumps(secret, ensure_ascii=True)[1:-1],  # JSON-escaped, \\uXXXX
        json.dumps(json.dumps(secret))[3:-3],  # escaped twice (a body inside a message)
        quote(secret, safe=""),
        quote_plus(secret, safe=""),
    }
    return {f for f in found if f}


def redact(text: str, secrets: Iterable[str]) -> str:
    # Longest first, so a value's escaped form is not half-replaced by a shorter value.
    for spelling in sorted({f for s in secrets if s for f in forms(s)}, key=len, reverse=True):
        if len(spelling) >= _SUBSTRING_LENGTH:
            text = text.replace(spelling, REDACTED)
        else:
            pattern = r"(?<![A-Za-z0-9])" + re.escape(spelling) + r"(?![A-Za-z0-9])"
            text = re.sub(pattern, REDACTED, text)
    return text
