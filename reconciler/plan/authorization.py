"""Authorizing a connection: the change, and why it is needed again.

Codat never returns a connection's credentials, so the plan shows stand-ins for
what it holds, and the tool's record (reconciler/plan/record.py) tells a
re-authorization's cause: the declared secret, the fingerprint key, or a
connection the tool never authorized.
"""

from __future__ import annotations

from reconciler.credentials import Fingerprint
from reconciler.live.model import LiveCompany, LiveConnection
from reconciler.manifests.model import DesiredConnection, connection_address
from reconciler.plan.model import Action, Change, Kind
from reconciler.plan.record import Record

# Stand-ins for the authorization a connection holds.
LAST_APPLIED = "(sensitive: last applied)"
UNKNOWN = "(sensitive: unknown)"

CREDENTIALS_CHANGED = "declared credentials changed since last applied"
KEY_CHANGED = "CODAT_RECONCILER_KEY changed since the fingerprints were written"
EITHER_CHANGED = (
    "declared credentials or CODAT_RECONCILER_KEY changed since last applied "
    "(the record predates key ids, so which one cannot be told)"
)
NEVER_AUTHORIZED = "never authorized by this tool (adopted or renamed)"


def reauthorize_reason(recorded: Record, credential: Fingerprint, *, applied: bool) -> str:
    """Why a Linked connection whose fingerprint does not match is authorized again.
    `applied`: the record holds a fingerprint the tool made for this merchant name."""
    if not applied:
        return NEVER_AUTHORIZED
    if credential.key_id and recorded.key_id and recorded.key_id != credential.key_id:
        return KEY_CHANGED
    if credential.key_id and not recorded.key_id:
        return EITHER_CHANGED
    return CREDENTIALS_CHANGED


def authorize(
    merchant: str,
    conn: DesiredConnection,
    company: LiveCompany | None,
    live_conn: LiveConnection | None,
    reason: str,
    *,
    applied: bool,
) -> Change:
    assert conn.authorization is not None
    markers = {k: v.describe() for k, v in sorted(conn.authorization.items())}
    before: dict[str, object] | None = None
    if live_conn is not None:
        before = {"status": live_conn.status}
        if not live_conn.status_is("PendingAuth"):
            # It holds credentials, so sending others updates them.
            before["authorization"] = dict.fromkeys(markers, LAST_APPLIED if applied else UNKNOWN)
    return Change(
        address=connection_address(merchant, conn.platform_key),
        action=Action.AUTHORIZE,
        kind=Kind.CONNECTION,
        reason=reason,
        merchant=merchant,
        before=before,
        after={"authorization": markers},
        platform_key=conn.platform_key,
        company_id=company.id if company else None,
        connection_id=live_conn.id if live_conn else None,
    )
