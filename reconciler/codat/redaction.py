"""Removing secrets from text Codat sends back.

Codat's error bodies can echo parts of the request, and an echo may spell a
value any way its encoder likes, so a secret is looked for in every spelling,
character by character, however they are mixed:

- as it is;
- JSON-escaped, with non-ASCII kept (`pa\\"ss-wörd`) or as `\\uXXXX` (`pa\\"ss-w\\u00f6rd`),
  with `/` as `\\/`, any character as `\\uXXXX` in either letter case (encoders that
  write `"` as `\\u0022` or `<` as `\\u003C`), and escaped again (a body quoted inside
  a message: `\\\\\\"`);
- URL-encoded (`%XX` of its UTF-8 bytes in either letter case, space as `%20` or `+`);
- base64 of it (standard or URL-safe alphabet, padded or not), also where the value
  is part of a longer encoded text such as `user:secret`: every 3-byte alignment.
  Base64 of its JSON-escaped spelling too (an echoed request body, encoded).

A value of four characters or more is redacted wherever it occurs; a shorter one
only where it stands alone (not inside a longer word), since `1` inside `401`
reveals nothing and shredding every digit would make the message useless; its
base64 is then looked for only as the whole of a word. Over-redacting is safe;
a secret shown is not.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable
from functools import lru_cache
from itertools import groupby

REDACTED = "***"
# Shorter values are only redacted where they stand alone.
_SUBSTRING_LENGTH = 4
_ALONE_BEFORE = r"(?<![A-Za-z0-9])"
_ALONE_AFTER = r"(?![A-Za-z0-9])"
# JSON's short escapes: `\"` for `"`, and so on. A backslash may be doubled any
# number of times (escaped again), so each is matched as one or more backslashes.
_JSON_SHORT = {'"': '"', "/": "/", "\b": "b", "\f": "f", "\n": "n", "\r": "r", "\t": "t"}
_BACKSLASHES = r"\\+"
_BASE64_WORD = r"[A-Za-z0-9+/=_-]"


def _hex(value: int, digits: int) -> str:
    """`value` in hexadecimal, each letter in either case."""
    text = f"{value:0{digits}x}"
    return "".join(f"[{c}{c.upper()}]" if c.isalpha() else c for c in text)


def _spellings(char: str) -> str:
    """A regular expression for every way one character can be written."""
    found = [re.escape(char)]
    if char in _JSON_SHORT:
        found.append(_BACKSLASHES + re.escape(_JSON_SHORT[char]))
    code = ord(char)
    if code > 0xFFFF:  # JSON writes it as a surrogate pair
        high, low = divmod(code - 0x10000, 0x400)
        found.append(
            f"{_BACKSLASHES}u{_hex(0xD800 + high, 4)}{_BACKSLASHES}u{_hex(0xDC00 + low, 4)}"
        )
    else:
        found.append(f"{_BACKSLASHES}u{_hex(code, 4)}")
    found.append("".join(f"%{_hex(byte, 2)}" for byte in char.encode("utf-8")))
    if char == " ":
        found.append(r"\+")
    return "(?:" + "|".join(found) + ")"


def _base64_spellings(secret: str) -> tuple[set[str], set[str]]:
    """(whole, inner): the secret's base64 on its own, and the parts of a longer
    base64 text that only its bytes decide, for each of the 3 byte alignments."""
    whole: set[str] = set()
    inner: set[str] = set()
    texts = {secret, json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1]}
    for text in texts:
        data = text.encode("utf-8")
        for offset in range(3):
            encoded = base64.b64encode(bytes(offset) + data).decode("ascii")
            # Characters mixing bits of the bytes before or after are left out.
            start = -(-offset * 8 // 6)
            end = (offset + len(data)) * 8 // 6
            if offset == 0:
                whole.update({encoded, encoded.rstrip("=")})
            inner.add(encoded[start:end])
    both = (whole, inner)
    for found in both:
        found.update({s.replace("+", "-").replace("/", "_") for s in found})
    return both


def _backslashes(count: int) -> str:
    """A run of backslashes: as is, JSON-escaped once or twice, as \\u005c or %5C.

    A run is one expression of exact counts: a backslash per character, each
    free to take one or more from the text, would try every way of sharing a
    long run of backslashes among them (exponential in the secret's length)."""
    escaped = f"(?:{_BACKSLASHES}u{_hex(0x5C, 4)}|%{_hex(0x5C, 2)}){{{count}}}"
    return f"(?:\\\\{{{4 * count}}}|\\\\{{{2 * count}}}|\\\\{{{count}}}|{escaped})"


def _spelled(secret: str) -> str:
    parts = []
    for char, run in groupby(secret):
        count = len(list(run))
        parts.append(_backslashes(count) if char == "\\" else _spellings(char) * count)
    return "".join(parts)


@lru_cache(maxsize=256)
def _pattern(secret: str) -> re.Pattern[str]:
    spelled = _spelled(secret)
    whole, inner = _base64_spellings(secret)
    if len(secret) >= _SUBSTRING_LENGTH:
        encoded = [re.escape(s) for s in sorted(whole | inner, key=len, reverse=True) if s]
        choices = [spelled, *encoded]
        return re.compile("|".join(choices))
    alone = [f"{_ALONE_BEFORE}(?:{spelled}){_ALONE_AFTER}"]
    alone += [
        f"(?<!{_BASE64_WORD}){re.escape(s)}(?!{_BASE64_WORD})"
        for s in sorted(whole, key=len, reverse=True)
    ]
    return re.compile("|".join(alone))


def redact(text: str, secrets: Iterable[str]) -> str:
    # Longest first, so a value holding a shorter one is redacted whole.
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = _pattern(secret).sub(REDACTED, text)
    return text
