"""One merchant's changes: its company, its connections, their authorizations, and
the tool's record on the company (see reconciler/plan/record.py).

Changes come in the order the executor makes them: the company (created, or
updated once: description, tags, adoption, and whatever of the record may be
written before anything else), then each connection's creation and
authorization, then (with --prune) unlinks. What may only be recorded after the
fact (the fingerprint of credentials sent to a Linked connection: written
earlier, a failed authorization would look applied; the end of the tool's claim
on a connection it unlinks) rides on the last such change as its `record`: one
PATCH after it, never a second change to the company.

A connection the tool is about to create or authorize from PendingAuth or
Deauthorized is recorded up front, as a new company's record rides in its
create call: if that change then fails, the next run makes it again whatever
the record says.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from reconciler.credentials import Credentials, Fingerprint, Unverifiable
from reconciler.live.model import (
    AUTH_TAG,
    LiveCompany,
    LiveConnection,
)
from reconciler.manifests.model import DesiredConnection, Merchant, connection_address
from reconciler.plan import record
from reconciler.plan.authorization import authorize, reauthorize_reason
from reconciler.plan.company import plan_company, tool_tags, user_tags
from reconciler.plan.matching import match_connection
from reconciler.plan.model import Action, Cause, Change, Kind, Note, NoteKind


@dataclass(slots=True)
class _Merchant:
    """What planning one merchant builds up."""

    merchant: Merchant
    company: LiveCompany | None
    recorded: record.Record
    # Fingerprints recorded under the company's former name no longer apply.
    renamed: bool
    # The record as it may be written before any connection change.
    entries: dict[str, str | None]
    credentials: Credentials
    # The plan's notes, shared by all merchants; this merchant's start at `first_note`.
    notes: list[Note]
    first_note: int
    changes: list[Change] = field(default_factory=list)
    key_id: str = ""
    # Fingerprints recorded only once the re-authorization carrying them went through
    # (None: nothing; most merchants have nothing, and 50,000 empty containers cost
    # the planner's budget).
    pending_fingerprints: dict[str, str] | None = None
    unlinked: set[str] | None = None
    carrier: int | None = None  # index in `changes` of the change that records them

    def fresh(self, key: str, value: str | None) -> bool:
        """Whether `value` is the fingerprint of the declared credentials as they are now."""
        credential = self.credentials.get((self.merchant.name, key))
        return isinstance(credential, Fingerprint) and credential.value == value

    def applied(self, key: str) -> bool:
        """Whether the tool applied the credentials the connection holds, as far as the
        record tells: a fingerprint, made for this name."""
        return self.recorded.fingerprint(key) is not None and not self.renamed

    def authorize(
        self, conn: DesiredConnection, live_conn: LiveConnection | None, reason: str
    ) -> Change:
        return authorize(
            self.merchant.name,
            conn,
            self.company,
            live_conn,
            reason,
            applied=self.applied(conn.platform_key),
        )

    def note(self, note: Note) -> None:
        if note not in self.notes[self.first_note :]:
            self.notes.append(note)


def plan_merchant(
    merchant: Merchant,
    company: LiveCompany | None,
    credentials: Credentials,
    notes: list[Note],
    *,
    prune: bool,
) -> list[Change]:
    """The merchant's changes, in order; its notes are appended to `notes`."""
    recorded = record.parse(company.tags.get(AUTH_TAG)) if company else record.EMPTY
    declared = {c.platform_key for c in merchant.connections}
    entries = dict(recorded.entries)
    if company is not None and not entries.keys() <= declared:
        # A claim on a connection that is gone and undeclared is dropped; a fingerprint
        # of an undeclared connection says nothing any more, its ownership still counts.
        active = {c.platform_key for c in company.connections if not c.status_is("Unlinked")}
        entries = {
            k: (v if k in declared else None)
            for k, v in entries.items()
            if k in declared or k in active
        }
    work = _Merchant(
        merchant,
        company,
        recorded,
        renamed=company is not None and company.name != merchant.name,
        entries=entries,
        credentials=credentials,
        notes=notes,
        first_note=len(notes),
    )
    connections = merchant.connections
    if len(connections) > 1:
        connections = tuple(sorted(connections, key=lambda c: c.platform_key))
    for conn in connections:
        _plan_connection(work, conn, credentials.get((merchant.name, conn.platform_key)))
    if company is not None and company.managed:
        for conn in connections:
            _unlink_extras(work, conn)
    if prune and company is not None and company.managed:
        _prune_connections(work, declared)
    return _with_company(work)


def _plan_connection(
    work: _Merchant, conn: DesiredConnection, credential: Fingerprint | Unverifiable | None
) -> None:
    merchant, company, key = work.merchant, work.company, conn.platform_key
    live_conn = match_connection(company, key) if company else None
    linked = live_conn is not None and live_conn.status_is("Linked")
    if live_conn is None:
        work.entries[key] = None  # the tool creates it: it is the tool's
        work.changes.append(_create_connection(merchant, conn, company))
        if conn.authorization is not None:
            work.changes.append(
                work.authorize(conn, None, "new connection" if company else "the company is new")
            )
    elif conn.authorization is not None and not linked:
        lost = " (access lost)" if live_conn.status_is("Deauthorized") else ""
        work.changes.append(
            work.authorize(conn, live_conn, f"connection is {live_conn.status}{lost}")
        )

    if conn.authorization is None:
        if key in work.entries:
            work.entries[key] = None  # nothing declared to compare a fingerprint with
        if not linked:
            work.note(
                Note(
                    connection_address(merchant.name, key),
                    f"waiting for the merchant to authorize {key} "
                    "through the sync flow (no authorization declared)",
                    NoteKind.WAITING_FOR_MERCHANT,
                )
            )
        return
    if isinstance(credential, Fingerprint):
        work.key_id = credential.key_id or work.key_id
        if not linked:  # authorized in this run whatever the record says
            work.entries[key] = credential.value
        elif credential.value != work.recorded.fingerprint(key) or work.renamed:
            work.pending_fingerprints = {**(work.pending_fingerprints or {}), key: credential.value}
            work.carrier = len(work.changes)
            work.changes.append(
                work.authorize(
                    conn,
                    live_conn,
                    reauthorize_reason(work.recorded, key, credential, renamed=work.renamed),
                )
            )
    elif not linked:
        # Authorized now, with values it cannot fingerprint: recorded as such, so a later
        # plan with the key says why it sends them again.
        work.entries[key] = record.UNFINGERPRINTED
    else:
        reason = credential.reason if credential is not None else "no fingerprint"
        work.note(
            Note(
                connection_address(merchant.name, key),
                f"could not check for changed credentials: {reason}",
                NoteKind.CREDENTIALS_NOT_CHECKED,
            )
        )


def _create_connection(
    merchant: Merchant, conn: DesiredConnection, company: LiveCompany | None
) -> Change:
    key = conn.platform_key
    return Change(
        address=connection_address(merchant.name, key),
        action=Action.CREATE,
        kind=Kind.CONNECTION,
        reason=f"no active {key} connection" if company else "the company is new",
        merchant=merchant.name,
        after={"platformKey": key, "status": "PendingAuth"},
        platform_key=key,
        company_id=company.id if company else None,
        body={"platformKey": key},
    )


def _unlink_extras(work: _Merchant, conn: DesiredConnection) -> None:
    """A second active connection of one declared platform (two applies, or `apply` and
    `watch`, adding it at once): the one matching keeps; an extra is unlinked when the
    tool can account for it, and only told of otherwise.

    Codat keeps no mark on a connection, and the record is per platform, so the tool
    can account for an extra only where nobody else could have made it usable: one
    never authorized (PendingAuth) on a platform the tool made connections of, or any
    on a platform whose credentials the tool itself sends (declared, fingerprinted)."""
    assert work.company is not None
    key, company = conn.platform_key, work.company
    active = [
        c for c in company.connections if c.platform_key == key and not c.status_is("Unlinked")
    ]
    if len(active) < 2:
        return
    keep = match_connection(company, key)
    assert keep is not None
    tool_sends = conn.authorization is not None and work.recorded.fingerprint(key) is not None
    address = connection_address(work.merchant.name, key)
    for extra in sorted((c for c in active if c.id != keep.id), key=lambda c: c.id):
        if work.recorded.owns(key) and (extra.status_is("PendingAuth") or tool_sends):
            reason = f"a second active {key} connection made by this tool; {keep.id} "
            reason += f"({keep.status}) stays"
            work.changes.append(_unlink(work, extra, reason, Cause.EXTRA_CONNECTION))
        else:
            work.note(
                Note(
                    address,
                    f"a second active {key} connection, {extra.id} ({extra.status}), beside "
                    f"{keep.id} ({keep.status}): not known to be this tool's, so left alone; "
                    "unlink the one not used in Codat",
                    NoteKind.EXTRA_CONNECTION,
                )
            )


def _unlink(work: _Merchant, connection: LiveConnection, reason: str, cause: Cause) -> Change:
    """The PATCH that sets one of the company's connections to Unlinked."""
    assert work.company is not None
    key = connection.platform_key
    return Change(
        address=connection_address(work.merchant.name, key),
        action=Action.UNLINK,
        kind=Kind.CONNECTION,
        reason=reason,
        merchant=work.merchant.name,
        before={"id": connection.id, "platformKey": key, "status": connection.status},
        after={"status": "Unlinked"},
        platform_key=key,
        company_id=work.company.id,
        connection_id=connection.id,
        body={"status": "Unlinked"},
        cause=cause,
    )


def _prune_connections(work: _Merchant, declared: set[str]) -> None:
    """Unlink the undeclared connections the tool made; leave the merchant's alone."""
    assert work.company is not None
    name, company = work.merchant.name, work.company
    for c in sorted(company.connections, key=lambda c: (c.platform_key, c.id)):
        key = c.platform_key
        if key in declared or c.status_is("Unlinked"):
            continue
        address = connection_address(name, key)
        if work.recorded.owns(key):
            work.unlinked = {*(work.unlinked or ()), key}
            # Still the tool's until the unlink went through: recorded after it.
            work.entries[key] = work.recorded.fingerprint(key)
            work.carrier = len(work.changes)
            work.changes.append(_unlink(work, c, f"{key} is not declared (prune)", Cause.PRUNE))
        else:
            work.note(
                Note(
                    address,
                    f"connection {key} was made by the merchant, not by this tool: left alone",
                    NoteKind.MERCHANT_CONNECTION,
                )
            )


def _with_company(work: _Merchant) -> list[Change]:
    """The merchant's changes with the company's own change first and the record's
    follow-up attached to its carrier."""
    company, recorded = work.company, work.recorded
    foreign = work.renamed or bool(
        work.key_id and recorded.key_id and recorded.key_id != work.key_id
    )
    key_id = work.key_id or recorded.key_id
    # The record tag the company's own change writes, before any connection change...
    if company is not None and work.entries == recorded.entries:
        upfront_tag: str | None = company.tags.get(AUTH_TAG)  # nothing to record up front
    else:
        upfront_tag = _format(work, _record(work, work.entries, foreign, key_id))
    changes = work.changes
    if work.carrier is not None and company is not None:
        # ...and the one the carrier's follow-up writes once the connections changed.
        final_entries = {**work.entries, **(work.pending_fingerprints or {})}
        for key in work.unlinked or ():
            final_entries.pop(key, None)
        final_tag = _format(work, _record(work, final_entries, foreign, key_id))
        if final_tag != upfront_tag:
            carrier = changes[work.carrier]
            changes[work.carrier] = replace(
                carrier,
                before={**(carrier.before or {}), "companyTags": {AUTH_TAG: upfront_tag}},
                after={**(carrier.after or {}), "companyTags": {AUTH_TAG: final_tag}},
                record={"tags": {**user_tags(work.merchant, company), **tool_tags(final_tag)}},
            )
    company_change = plan_company(work.merchant, company, upfront_tag)
    return [company_change, *changes] if company_change else changes


def _record(
    work: _Merchant, entries: dict[str, str | None], foreign: bool, key_id: str | None
) -> record.Record:
    if foreign:
        # Fingerprints made with another key or under another name: ownership only. An
        # authorization without a fingerprint was made with no key: only a rename ends it.
        entries = {
            k: (
                v
                if work.fresh(k, v) or (v == record.UNFINGERPRINTED and not work.renamed)
                else None
            )
            for k, v in entries.items()
        }
    return record.Record(entries, key_id)


def _format(work: _Merchant, rec: record.Record) -> str | None:
    text, left_out = rec.format({c.platform_key for c in work.merchant.connections})
    for key in left_out:
        if key in (work.unlinked or ()):
            continue  # unlinked in this run anyway
        work.note(
            Note(
                connection_address(work.merchant.name, key),
                f"the record of the tool's connections is full (Codat allows 100 characters a "
                f"tag): {key} is not recorded as the tool's, so --prune will leave it alone",
                NoteKind.RECORD_FULL,
            )
        )
    return text
