"""Every authorization value, in every form Codat can echo it, is redacted."""

from __future__ import annotations

import json
from urllib.parse import quote

import httpx
import pytest

from reconciler.codat.errors import CodatAPIError
from reconciler.codat.redaction import REDACTED, redact


@pytest.mark.parametrize("secret", ['pa"ss', "pa\\ss", "naïve-tök", "x y&z=1", "tab\tnew\nline"])
def test_escaped_forms_are_redacted(secret: str) -> None:
    echoed = [secret, json.dumps(secret), json.dumps(secret, ensure_ascii=True),
              json.dumps(json.dumps({"apiToken": secret})), quote(secret, safe="")]
    for text in echoed:
        shown = redact(f"Invalid value {text} for apiToken", [secret])
        assert secret not in shown and REDACTED in shown, (text, shown)
        escaped = json.dumps(secret)[1:-1]
        assert escaped not in shown or escaped == REDACTED


@pytest.mark.parametrize("secret", ["a", "12", "xyz"])
def test_short_values_are_redacted_where_they_stand_alone(secret: str) -> None:
    body = json.dumps({"error": f"storeId {secret} is not valid", "value": secret})
    shown = redact(body, [secret])
    assert f" {secret} " not in shown and f'"{secret}"' not in shown
    # Inside a longer word it reveals nothing and stays, so the message stays readable.
    assert redact(f"status 401{secret}x", [secret]) == f"status 401{secret}x"


def test_codat_error_messages_echoing_the_body_are_redacted_for_the_user_and_logs() -> None:
    secret = 'p"w'
    body = {"statusCode": 400, "error": f"Bad authorization {json.dumps({'pin': secret})}",
            "correlationId": "c-1"}
    request = httpx.Request("PUT", "https://api.codat.io/x")
    response = httpx.Response(400, json=body, request=request)
    error = CodatAPIError.from_response("PUT", "/x", response, secrets=[secret])
    text = str(error) + error.codat_message
    assert secret not in text and json.dumps(secret)[1:-1] not in text
    assert "c-1" in text
