"""Codat's 400 echoing the authorization it was sent, in any spelling, shows no secret:
through real HTTP and the real command line, in text and in JSON logs."""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Callable, Mapping
from pathlib import Path

from reconciler.sandbox.messages import JSON_TYPE, SandboxResponse
from tests.codat.test_redaction import FORMS, SECRET, reveals
from tests.fixtures.cli import CliFn
from tests.fixtures.sandbox import SandboxHandle

PIN = "k9"  # short: redacted where it stands alone

MANIFEST = """\
version: 1
merchants:
  - name: "10000001"
    connections:
      - platformKey: dfxm
        authorization:
          apiToken: {env: ACME_TOKEN}
          pin: {env: ACME_PIN}
"""


def echo_every_form(sb: SandboxHandle) -> list[str]:
    """Answer each PUT .../authorization with a 400 echoing what it was sent, in every
    spelling of FORMS at once; returns the bodies it was sent."""
    original = sb.app.handle
    sent: list[str] = []

    def handle(
        method: str, path: str, query: str, headers: Mapping[str, str], body: bytes
    ) -> SandboxResponse:
        if method != "PUT" or not path.endswith("/authorization"):
            return original(method, path, query, headers, body)
        sent.append(body.decode())
        values = json.loads(body)
        token = values["apiToken"]
        echoes = " | ".join(f"{name}: {spell(token)}" for name, spell in FORMS.items())
        answer = {
            "statusCode": 400,
            "service": "PublicApi",
            "error": f"Invalid authorization {echoes}",
            "correlationId": "corr-echo-400",
            "validation": {
                "errors": [
                    {"itemId": "apiToken", "message": f"{token!r} is not a token"},
                    {"itemId": "pin", "message": f"pin {values['pin']} refused"},
                ]
            },
        }
        return SandboxResponse(400, {"Content-Type": JSON_TYPE}, json.dumps(answer).encode())

    sb.app.handle = handle  # type: ignore[method-assign]
    return sent


def test_an_echoed_secret_is_redacted_in_every_form_in_text_and_json_logs(
    cli: CliFn, sandbox_server: Callable[..., SandboxHandle], tmp_path: Path
) -> None:
    manifest = tmp_path / "merchants.yaml"
    manifest.write_text(textwrap.dedent(MANIFEST))
    sb = sandbox_server()
    sent = echo_every_form(sb)
    env = {
        "CODAT_API_KEY": sb.api_key,
        "CODAT_RECONCILER_KEY": "echo-test-fingerprint-key",
        "ACME_TOKEN": SECRET,
        "ACME_PIN": PIN,
    }
    base = ["apply", str(manifest), "--auto-approve", "--base-url", sb.base_url]
    for log in (["--log-format", "text"], ["--log-format", "json"]):
        run = cli(*base, *log, env=env)
        assert run.code == 1, run
        # The failure is shown, with its correlationId, and only the secret is masked.
        assert "400" in run.output and "corr-echo-400" in run.output, run
        assert "Invalid authorization raw: ***" in run.output, run
        assert reveals(run.output, SECRET) == [], run
        assert re.search(rf"(?<![A-Za-z0-9]){PIN}(?![A-Za-z0-9])", run.output) is None, run
        assert "pin *** refused" in run.output, run
    # Codat was sent the real values: redaction is only in what is shown.
    assert len(sent) == 2 and all(json.loads(b)["apiToken"] == SECRET for b in sent)
