"""Play one merchant on the embedded sandbox, for `python3 dev.py demo`.

    python scripts/demo_merchant.py STATE_FILE MERCHANT_NAME

What only a merchant can do in Codat: authorize its commerce connections that
wait for it (the declared ones without an authorization), finish the sync flow
with Xero (`gbol`), and have a sync complete. It talks to the sandbox's own
API and `/_sandbox/` hooks in-process, on the same SQLite file the demo's
`codat-reconciler` runs use, so the next `status` sees it.
"""

from __future__ import annotations

import sys
from typing import Any

import httpx

from reconciler.sandbox.transport import SandboxTransport

ACCOUNTING_KEY = "gbol"


def play(state_file: str, name: str) -> None:
    transport = SandboxTransport(state_file)
    with httpx.Client(base_url="http://sandbox", transport=transport) as codat:

        def call(method: str, path: str, body: dict[str, Any]) -> None:
            answer = codat.request(method, path, json=body)
            if answer.status_code != 200:
                raise SystemExit(f"{method} {path}: {answer.status_code} {answer.text}")

        companies = codat.get("/companies", params={"pageSize": 5000}).json()["results"]
        company = next((c for c in companies if c["name"] == name), None)
        if company is None:
            raise SystemExit(f'no company named "{name}": run apply first')
        base = f"/companies/{company['id']}"
        waiting = [
            c
            for c in company.get("dataConnections") or []
            if c["status"] == "PendingAuth" and c["sourceType"] == "Commerce"
        ]
        for connection in waiting:
            call(
                "PUT",
                f"{base}/connections/{connection['id']}/authorization",
                {"merchantConsent": "given in the sync flow"},
            )
            print(f"{name}: authorized {connection['integrationKey']} in the sync flow")
        call("POST", f"/_sandbox{base}/sync-flow/complete", {"accountingKey": ACCOUNTING_KEY})
        print(f"{name}: finished the sync flow, linking {ACCOUNTING_KEY}")
        call("POST", f"/_sandbox{base}/syncs", {"status": "Completed"})
        print(f"{name}: a sync completed")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    play(sys.argv[1], sys.argv[2])
