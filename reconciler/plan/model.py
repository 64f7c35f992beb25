"""A plan is data: the changes `apply` would make, each with why.

Modelled on Terraform's plans package: every change has an address, an action,
a reason, and before/after values (secrets as markers, never values). Renderers
and the executor read a Plan; only the planner makes one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Action(StrEnum):
    CREATE = "create"  # POST a company or a connection
    UPDATE = "update"  # PATCH a company (description, tags, adoption)
    AUTHORIZE = "authorize"  # PUT a connection's authorization
    UNLINK = "unlink"  # PATCH a connection to Unlinked (prune)
    DELETE = "delete"  # DELETE a company (prune)
    REPLACE = "replace"  # DELETE then POST a webhook consumer (Codat has no update)

    @property
    def symbol(self) -> str:
        return {"create": "+", "update": "~", "authorize": "!", "unlink": "-", "delete": "-",
                "replace": "-/+"}[self.value]  # fmt: skip


class Kind(StrEnum):
    COMPANY = "company"
    CONNECTION = "connection"
    # Client-wide settings (reconciler/plan/client.py): `merchant` is "" for these.
    WEBHOOK = "webhook"
    SYNC_SETTING = "sync_setting"
    SYNC_FLOW_TEXT = "sync_flow_text"
    VISIBLE_ACCOUNTS = "visible_accounts"


class Operation(StrEnum):
    """The one API call a change makes: what the executor dispatches on."""

    CREATE_COMPANY = "create_company"  # POST /companies
    UPDATE_COMPANY = "update_company"  # PATCH /companies/{id}
    DELETE_COMPANY = "delete_company"  # DELETE /companies/{id}
    CREATE_CONNECTION = "create_connection"  # POST .../connections
    UNLINK_CONNECTION = "unlink_connection"  # PATCH .../connections/{id}, status Unlinked
    AUTHORIZE_CONNECTION = "authorize_connection"  # PUT .../connections/{id}/authorization
    CREATE_WEBHOOK = "create_webhook"  # POST /webhooks
    REPLACE_WEBHOOK = "replace_webhook"  # DELETE /webhooks/{id}, then POST /webhooks
    DELETE_WEBHOOK = "delete_webhook"  # DELETE /webhooks/{id}
    SET_SYNC_SETTING = "set_sync_setting"  # POST /profile/syncSettings (the whole list)
    SET_SYNC_FLOW_TEXT = "set_sync_flow_text"  # PATCH /sync/commerce/config/ui/text
    SET_VISIBLE_ACCOUNTS = "set_visible_accounts"  # POST .../ui/accounts/platform/{key}


_OPERATIONS = {
    (Kind.COMPANY, Action.CREATE): Operation.CREATE_COMPANY,
    (Kind.COMPANY, Action.UPDATE): Operation.UPDATE_COMPANY,
    (Kind.COMPANY, Action.DELETE): Operation.DELETE_COMPANY,
    (Kind.CONNECTION, Action.CREATE): Operation.CREATE_CONNECTION,
    (Kind.CONNECTION, Action.UNLINK): Operation.UNLINK_CONNECTION,
    (Kind.CONNECTION, Action.AUTHORIZE): Operation.AUTHORIZE_CONNECTION,
    (Kind.WEBHOOK, Action.CREATE): Operation.CREATE_WEBHOOK,
    (Kind.WEBHOOK, Action.REPLACE): Operation.REPLACE_WEBHOOK,
    (Kind.WEBHOOK, Action.DELETE): Operation.DELETE_WEBHOOK,
    (Kind.SYNC_SETTING, Action.UPDATE): Operation.SET_SYNC_SETTING,
    (Kind.SYNC_FLOW_TEXT, Action.UPDATE): Operation.SET_SYNC_FLOW_TEXT,
    (Kind.VISIBLE_ACCOUNTS, Action.UPDATE): Operation.SET_VISIBLE_ACCOUNTS,
}

CLIENT_KINDS = frozenset(
    {Kind.WEBHOOK, Kind.SYNC_SETTING, Kind.SYNC_FLOW_TEXT, Kind.VISIBLE_ACCOUNTS}
)


class NoteKind(StrEnum):
    """What a note is about, for scripts (see docs/reference/plan-json.md)."""

    WAITING_FOR_MERCHANT = "waiting_for_merchant"
    CREDENTIALS_NOT_CHECKED = "credentials_not_checked"
    MERCHANT_CONNECTION = "merchant_connection"  # left alone by --prune: not the tool's
    RECORD_FULL = "record_full"
    UNDECLARED_COMPANIES = "undeclared_companies"  # managed, undeclared, kept without --prune
    SECRET_MISSING = "secret_missing"  # apply will not start this merchant without it
    LOOKALIKE = "lookalike"  # a live company that reads like the merchant's, left alone
    EXTRA_CONNECTION = "extra_connection"  # a second active connection, not known as the tool's
    UNDECLARED_WEBHOOKS = "undeclared_webhooks"  # consumers no manifest names: never touched


class Cause(StrEnum):
    """Why a change is planned, for scripts and for the executor (as Terraform's
    ActionReason): the prose `reason` is for people."""

    PRUNE = "prune"  # declared no more, removed with --prune
    TWIN = "twin"  # a second company the tool made for one merchant, never used
    EXTRA_CONNECTION = "extra_connection"  # a second active connection the tool made


class ConflictKind(StrEnum):
    """Why a merchant is left alone until a person resolves it (see docs/plan-json.md)."""

    DUPLICATE_NAME = "duplicate_name"  # several companies have its name, not all the tool's
    TWINS_IN_USE = "twins_in_use"  # the tool's twins, more than one of them used
    PINNED_MISSING = "pinned_missing"  # its companyId does not exist
    LOOKALIKE = "lookalike"  # no exact name, but companies that read the same


class ProblemKind(StrEnum):
    """What in the manifests (or where they run) keeps a merchant from being started."""

    UNKNOWN_PLATFORM = "unknown_platform"  # not an enabled integration of the account
    SECRET_MISSING = "secret_missing"  # apply: an authorization secret is not available


@dataclass(frozen=True, slots=True)
class Change:
    """One API call's worth of change.

    `company_id` / `connection_id` are the live ids when the target exists;
    None when an earlier change in the same merchant creates it (the executor
    carries the new id forward). `body` is the request body to send, already
    free of secrets: for AUTHORIZE it is empty and the executor resolves the
    merchant's declared authorization at the moment of the call.

    `record`, when set, is the body of one company PATCH to send once this
    change went through: the tool's record (reconciler/plan/record.py) of what
    can only be recorded after the fact, such as the fingerprint of credentials
    just sent to a Linked connection. `before`/`after` show it as `companyTags`.
    """

    address: str
    action: Action
    kind: Kind
    reason: str
    merchant: str
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    platform_key: str | None = None
    company_id: str | None = None
    connection_id: str | None = None
    body: dict[str, Any] = field(default_factory=dict)
    record: dict[str, Any] | None = None
    cause: Cause | None = None

    def __post_init__(self) -> None:
        # A change no API call carries out cannot exist, even read from a saved plan.
        if (self.kind, self.action) not in _OPERATIONS:
            raise ValueError(f"no API call can {self.action} a {self.kind} ({self.address})")

    @property
    def operation(self) -> Operation:
        return _OPERATIONS[self.kind, self.action]


@dataclass(frozen=True, slots=True)
class Conflict:
    """A merchant the plan leaves alone until a person resolves it in Codat or by a
    word in its manifest (a pin, `onLookalike`)."""

    address: str
    message: str
    merchant: str
    kind: ConflictKind


@dataclass(frozen=True, slots=True)
class Problem:
    """A merchant not started because of its manifest or the secrets where it runs,
    named at its position there (`location`: FILE:LINE:COLUMN)."""

    address: str
    message: str
    merchant: str
    kind: ProblemKind
    location: str


@dataclass(frozen=True, slots=True)
class Note:
    """Something worth telling that is neither a change nor an error
    (a connection waiting for the merchant to authorize, a check that could not
    be made without secrets). `address` is empty for a note about the whole plan."""

    address: str
    message: str
    kind: NoteKind | None = None


# How many names a note lists before "and N more": a fleet's note stays one line.
NAMED_IN_NOTE = 5


def first_few(names: Sequence[str]) -> str:
    """`names` for a note: the first NAMED_IN_NOTE, then how many more there are."""
    more = f" and {len(names) - NAMED_IN_NOTE} more" if len(names) > NAMED_IN_NOTE else ""
    return ", ".join(names[:NAMED_IN_NOTE]) + more


@dataclass(frozen=True, slots=True)
class Plan:
    changes: tuple[Change, ...]
    conflicts: tuple[Conflict, ...] = ()
    notes: tuple[Note, ...] = ()
    problems: tuple[Problem, ...] = ()

    @property
    def has_changes(self) -> bool:
        return bool(self.changes)

    @property
    def blocked(self) -> frozenset[str]:
        """The merchants left unchanged by a conflict or a problem."""
        return frozenset(c.merchant for c in self.conflicts) | {p.merchant for p in self.problems}

    def count(self, action: Action) -> int:
        return sum(1 for c in self.changes if c.action is action)

    @property
    def delete_count(self) -> int:
        return self.count(Action.DELETE)
