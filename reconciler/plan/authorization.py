"""Authorizing a connection: the change, and why it is needed again.

Codat never returns a connection's credentials, so the plan shows stand-ins for
what it holds, and the tool's record (reconciler/plan/record.py) tells a
re-authorization's cause: the declared secret, the fingerprint key, a fingerprint
the tool could not make when it authorized, or a connection the tool never
authorized. Each reason is said only when the record shows it is so.
"""

from __future__ import annotations

from reconciler.credentials import Fingerprint
from reconciler.live.model import LiveCompany, LiveConnection
from reconciler.manifests.model import DesiredConnection, connection_address
from reconciler.plan.model import Action, Change, Kind
from reconciler.plan.record import UNFINGERPRINTED, Record

# Stand-ins for the authorization a connection holds.
LAST_APPLIED = "(sensitive: last applied)"
UNKNOWN = "(sensitive: unknown)"

CREDENTIALS_CHANGED = "declared credentials changed since last applied"
KEY_CHANGED = "CODAT_RECONCILER_KEY changed since the fingerprints were written"
EITHER_CHANGED = (
    "declared credentials or CODAT_RECONCILER_KEY changed since last applied "
    "(the record predates key ids, so which one cannot be told)"
)
NO_FINGERPRINT = (
    "this tool authorized it without a fingerprint (CODAT_RECONCILER_KEY was not set), so "
    "whether the declared credentials changed since cannot be told: sent again to record one"
)
NOT_RECORDED = (
    "no authorization of it recorded: this tool created it, and either someone else linked "
    "it or it was authorized before this tool recorded authorizations without a fingerprint"
)
NEVER_AUTHORIZED = "never authorized by this tool (adopted, or linked by someone else)"
RENAMED = (
    "the company was renamed since this tool authorized it: its fingerprint was made for "
    "the former name"
)


def reauthorize_reason(
    recorded: Record, platform_key: str, credential: Fingerprint, *, renamed: bool
) -> str:
    """Why a Linked connection whose fingerprint does not match is authorized again.
    `renamed`: the company's name is not the merchant's (the record was made for another)."""
    value = recorded.fingerprint(platform_key)
    if value is None:
        return NOT_RECORDED if recorded.owns(platform_key) else NEVER_AUTHORIZED
    if renamed:
        return RENAMED
    if value == UNFINGERPRINTED:
        return NO_FINGERPRINT
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
