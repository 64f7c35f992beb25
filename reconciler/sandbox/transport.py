"""`--sandbox PATH`: the sandbox in-process, behind an ordinary httpx client.

    client = httpx.Client(base_url="https://api.codat.io", transport=SandboxTransport(path))

No socket and no API key. Faults act out as a real network would show them:
`lost` raises httpx.RemoteProtocolError after the change was committed, and
`timeout` raises httpx.ReadTimeout at once (the client would have given up).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from reconciler.sandbox.app import SandboxApp
from reconciler.sandbox.store import SandboxStore


class SandboxTransport(httpx.BaseTransport):
    def __init__(self, path: str | Path | SandboxStore | SandboxApp, **options: Any) -> None:
        """`path` is the SQLite file (created if missing); options are SandboxApp's."""
        self.app = path if isinstance(path, SandboxApp) else SandboxApp(path, **options)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        path, _, query = request.url.raw_path.decode("ascii").partition("?")
        answer = self.app.handle(request.method, path, query, request.headers, body)
        if answer.fault == "lost":
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            )
        if answer.fault == "timeout":
            raise httpx.ReadTimeout("The read operation timed out", request=request)
        return httpx.Response(
            answer.status, headers=answer.headers, content=answer.body, request=request
        )

    def close(self) -> None:
        self.app.stop()
        self.app.store.close()
