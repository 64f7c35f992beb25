"""What `status` reports per merchant, as plain immutable values.

Built by `assess` (pure) from the manifests, the company listing and the two
Sync for Commerce reads per company; rendered as a table or JSON.

Which syncs count as failed: Codat's Sync for Commerce status codes are 1xxx
in progress (NotStarted, Pending, Started, Pushing: 1000), 2xxx done (2000
Complete with data pushed, 2040 Complete with nothing to push), 4xxx a
configuration, validation or mapping error (4000 ValidateError, 4200
MapCoreError) and 5xxx a push error (5130 PushError). A sync failed when its
code is 4000 or above, or, should Codat leave the code out, when its status
names an error (`...Error`). A sync in progress has not failed: the merchant
stays ready.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC
from enum import StrEnum
from typing import Any

from reconciler.live.model import parse_timestamp

FAILED_FROM_CODE = 4000


class ReadinessState(StrEnum):
    READY = "ready"  # one company, declared connections Linked, flow done and on, no failed sync
    WAITING = "waiting"  # one company, something listed in waitingFor is still to happen
    MISSING = "missing"  # no company in Codat yet: apply creates it
    CONFLICT = "conflict"  # no single company to report on (see waitingFor)
    ERROR = "error"  # a read failed: what it waits for is not fully known


@dataclass(frozen=True, slots=True)
class ConnectionStatus:
    """A connection of the merchant's company, or a declared one Codat does not have."""

    platform_key: str
    status: str | None  # as Codat spells it; None: declared, no active connection in Codat
    managed: bool  # declared in the manifests (the merchant's own, e.g. from the flow: False)
    id: str | None = None


@dataclass(frozen=True, slots=True)
class SyncFlowStatus:
    """`GET /config/companies/{id}/sync/commerce`: has the merchant finished the flow?"""

    configured: bool
    enabled: bool

    @classmethod
    def from_api(cls, body: Mapping[str, Any]) -> SyncFlowStatus:
        # Left out means not (yet): Codat's docs say to check `enable && configured`.
        return cls(configured=body.get("configured") is True, enabled=body.get("enable") is True)

    @property
    def done(self) -> bool:
        return self.configured and self.enabled


@dataclass(frozen=True, slots=True)
class LastSync:
    """`GET .../sync/commerce/syncs/latest/status`: how the latest sync went."""

    status: str | None  # `syncStatus`, e.g. Complete, PushError
    code: int | None  # `syncStatusCode`
    at: str | None  # `syncUtc`, as Codat wrote it
    data_pushed: bool | None
    error_message: str | None

    @classmethod
    def from_api(cls, body: Mapping[str, Any]) -> LastSync:
        def text(key: str) -> str | None:
            value = body.get(key)
            return value if isinstance(value, str) and value else None

        code = body.get("syncStatusCode")
        pushed = body.get("dataPushed")
        return cls(
            status=text("syncStatus"),
            code=code if isinstance(code, int) and not isinstance(code, bool) else None,
            at=text("syncUtc"),
            data_pushed=pushed if isinstance(pushed, bool) else None,
            error_message=text("errorMessage") or text("syncExceptionMessage"),
        )

    @property
    def failed(self) -> bool:
        if self.code is not None:
            return self.code >= FAILED_FROM_CODE
        return (self.status or "").endswith("Error")

    @property
    def label(self) -> str:
        return self.status or (f"code {self.code}" if self.code is not None else "unknown")

    @property
    def minute(self) -> str | None:
        """`syncUtc` to the minute, UTC, for people: `2026-11-27 10:22`."""
        moment = parse_timestamp(self.at)
        return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if moment else self.at


@dataclass(frozen=True, slots=True)
class ReadFailure:
    """A per-company read that failed; `message` carries Codat's correlationId."""

    what: str  # "the sync flow configuration", "the latest sync"
    message: str


@dataclass(frozen=True, slots=True)
class CompanyReads:
    """The two Sync for Commerce reads of one company."""

    sync_flow: SyncFlowStatus | ReadFailure
    last_sync: LastSync | ReadFailure | None  # None: no sync yet (Codat answers 404)


@dataclass(frozen=True, slots=True)
class MerchantStatus:
    name: str
    company_id: str | None
    state: ReadinessState
    waiting_for: tuple[str, ...]
    connections: tuple[ConnectionStatus, ...] = ()
    sync_flow: SyncFlowStatus | None = None  # None: not read (no single company, or failed)
    last_sync: LastSync | None = None  # None: no sync yet, or not read
    # What each of `waiting_for` is about, in words for many merchants at once
    # ("merchants have not completed the sync flow"): the text summary groups by it.
    waiting_kinds: tuple[str, ...] = ()
