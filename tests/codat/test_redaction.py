"""Every authorization value, in every form Codat can echo it, is redacted."""

from __future__ import annotations

import base64
import contextlib
import json
from collections.abc import Callable
from urllib.parse import quote, quote_plus

import httpx
import pytest

from reconciler.codat.errors import CodatAPIError
from reconciler.codat.redaction import REDACTED, redact


@pytest.mark.parametrize("secret", ['pa"ss', "pa\\ss", "naïve-tök", "x y&z=1", "tab\tnew\nline"])
def test_escaped_forms_are_redacted(secret: str) -> None:
    echoed = [
        secret,
        json.dumps(secret),
        json.dumps(secret, ensure_ascii=True),
        json.dumps(json.dumps({"apiToken": secret})),
        quote(secret, safe=""),
    ]
    for text in echoed:
        shown = redact(f"Invalid value {text} for apiToken", [secret])
        assert secret not in shown and REDACTED in shown, (text, shown)
        escaped = json.dumps(secret)[1:-1]
        assert escaped not in shown or escaped == REDACTED


SECRET = 'pa"ss wörd-XK29/<&>\\🔑'


def _all_u(text: str, upper: bool = False) -> str:
    """Every character as \\uXXXX (a surrogate pair beyond the BMP)."""
    units = text.encode("utf-16-be")
    spelled = "".join(f"\\u{units[i]:02x}{units[i + 1]:02x}" for i in range(0, len(units), 2))
    return spelled.upper().replace("\\U", "\\u") if upper else spelled


def _b64(data: bytes, urlsafe: bool = False, pad: bool = True) -> str:
    text = (base64.urlsafe_b64encode if urlsafe else base64.b64encode)(data).decode()
    return text if pad else text.rstrip("=")


# Each way an echo can spell the secret, as Codat's encoders (or a proxy's) might.
FORMS: dict[str, Callable[[str], str]] = {
    "raw": lambda s: s,
    "json, non-ASCII kept": lambda s: json.dumps(s, ensure_ascii=False)[1:-1],
    "json, \\uXXXX": lambda s: json.dumps(s)[1:-1],
    "json, \\/ for /": lambda s: json.dumps(s, ensure_ascii=False)[1:-1].replace("/", "\\/"),
    "json, HTML-safe (\\u0022 \\u003C)": lambda s: (
        json.dumps(s, ensure_ascii=False)[1:-1]
        .replace('\\"', "\\u0022")
        .replace("<", "\\u003C")
        .replace("&", "\\u0026")
    ),
    "every char \\uxxxx": _all_u,
    "every char \\uXXXX": lambda s: _all_u(s, upper=True),
    "json twice": lambda s: json.dumps(json.dumps(s))[3:-3],
    "url quote": lambda s: quote(s, safe=""),
    "url quote, lower-case hex": lambda s: quote(s, safe="").replace("%C3%B6", "%c3%b6"),
    "url quote_plus": lambda s: quote_plus(s, safe=""),
    "base64": lambda s: _b64(s.encode()),
    "base64 unpadded": lambda s: _b64(s.encode(), pad=False),
    "base64 url-safe": lambda s: _b64(s.encode(), urlsafe=True),
    "base64 inside user:secret": lambda s: _b64(b"user:" + s.encode()),
    "base64 inside u:secret": lambda s: _b64(b"u:" + s.encode() + b"!"),
    "base64 inside us:secret": lambda s: _b64(b"us:" + s.encode() + b"!!"),
    "base64 of the JSON body": lambda s: _b64(json.dumps({"apiToken": s}).encode()),
    "base64 of the JSON body, url-safe": lambda s: _b64(
        json.dumps({"apiToken": s}, ensure_ascii=False).encode(), urlsafe=True, pad=False
    ),
}


def reveals(shown: str, secret: str) -> list[str]:
    """The spellings of `secret` still readable in `shown` (none may be)."""
    found = [name for name, spell in FORMS.items() if spell(secret) in shown]
    decoded = []
    for word in shown.replace("***", " ").split():
        for decode in (base64.b64decode, base64.urlsafe_b64decode):
            with contextlib.suppress(ValueError):  # not base64: nothing to decode
                decoded.append(decode(word + "==").decode("utf-8", "replace"))
    return found + [f"base64 of {d!r}" for d in decoded if secret in d]


@pytest.mark.parametrize("form", FORMS)
def test_every_form_of_a_secret_is_redacted(form: str) -> None:
    echoed = FORMS[form](SECRET)
    shown = redact(f"Invalid value {echoed} for apiToken", [SECRET])
    assert REDACTED in shown
    assert reveals(shown, SECRET) == [], shown


def test_forms_can_be_mixed_within_one_echo() -> None:
    mixed = "pa\\u0022ss+w%C3%B6rd-XK29\\/\\u003c&>\\\\\\ud83d\\udd11"
    assert redact(f"bad: {mixed}.", [SECRET]) == "bad: ***."


@pytest.mark.parametrize("secret", ["a", "12", "xyz"])
def test_short_values_are_redacted_where_they_stand_alone(secret: str) -> None:
    body = json.dumps({"error": f"storeId {secret} is not valid", "value": secret})
    shown = redact(body, [secret])
    assert f" {secret} " not in shown and f'"{secret}"' not in shown
    # Inside a longer word it reveals nothing and stays, so the message stays readable.
    assert redact(f"status 401{secret}x", [secret]) == f"status 401{secret}x"


def test_codat_error_messages_echoing_the_body_are_redacted_for_the_user_and_logs() -> None:
    secret = 'p"w'
    body = {
        "statusCode": 400,
        "error": f"Bad authorization {json.dumps({'pin': secret})}",
        "correlationId": "c-1",
    }
    request = httpx.Request("PUT", "https://api.codat.io/x")
    response = httpx.Response(400, json=body, request=request)
    error = CodatAPIError.from_response("PUT", "/x", response, secrets=[secret])
    text = str(error) + error.codat_message
    assert secret not in text and json.dumps(secret)[1:-1] not in text
    assert "c-1" in text


SHORT_FORMS = [
    "raw",
    "json, non-ASCII kept",
    "json, \\uXXXX",
    "every char \\uxxxx",
    "json twice",
    "url quote",
    "base64",
    "base64 unpadded",
]


@pytest.mark.parametrize("secret", ["a", '1"', "é9"])
def test_short_values_in_every_form_are_redacted_where_they_stand_alone(secret: str) -> None:
    for form in SHORT_FORMS:
        echoed = FORMS[form](secret)
        assert redact(f"pin {echoed} refused", [secret]) == "pin *** refused", form


def test_a_run_of_backslashes_in_any_spelling_is_redacted_without_backtracking() -> None:
    secret = "k" + "\\" * 12 + "z"
    for echoed in (
        secret,
        json.dumps(secret)[1:-1],
        json.dumps(json.dumps(secret))[3:-3],
        quote(secret, safe=""),
        "k" + "\\u005C" * 12 + "z",
    ):
        assert redact(f"bad {echoed}.", [secret]) == "bad ***.", echoed
    # Sharing 400 backslashes among 12 characters one way after another would not end
    # in any test's lifetime: a run is matched as a whole.
    text = "k" + "\\" * 400 + "y"
    assert redact(text, [secret]) == text
