"""What Codat holds: live companies and their connections, as plain values.

Built from the `GET /companies` pages (connections embedded as
`dataConnections`); read by the planner; digested so a saved plan can tell
whether the world it was made from has changed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# Companies the tool creates or adopts carry this tag; only those can be pruned.
OWNERSHIP_TAG = ("managed-by", "codat-reconciler")
# The tool's record: the connections it made, fingerprints of the credentials it
# last applied (see reconciler/plan/record.py and reconciler/credentials.py).
AUTH_TAG = "codat-reconciler-auth"
TOOL_TAG_KEYS = frozenset({OWNERSHIP_TAG[0], AUTH_TAG})

# Matching preference among a company's connections with one platform key;
# Unlinked ones count as gone.
STATUS_PREFERENCE = {"linked": 0, "pendingauth": 1, "deauthorized": 2}


@dataclass(frozen=True, slots=True)
class LiveConnection:
    id: str
    platform_key: str
    status: str  # as Codat spells it; compare with `status_is`
    created: str = ""

    def status_is(self, status: str) -> bool:
        # Some Codat docs print `pendingAuth`: compare case-insensitively.
        return self.status.lower() == status.lower()


@dataclass(frozen=True, slots=True)
class LiveCompany:
    id: str
    name: str
    description: str | None
    tags: dict[str, str]
    connections: tuple[LiveConnection, ...] = ()
    created: str = ""

    @property
    def managed(self) -> bool:
        return self.tags.get(OWNERSHIP_TAG[0]) == OWNERSHIP_TAG[1]

    @property
    def user_tags(self) -> dict[str, str]:
        return {k: v for k, v in self.tags.items() if k not in TOOL_TAG_KEYS}

    @classmethod
    def from_api(cls, body: Mapping[str, Any]) -> LiveCompany:
        return cls(
            id=str(body["id"]),
            name=str(body.get("name") or ""),
            description=body.get("description"),
            tags={str(k): str(v) for k, v in (body.get("tags") or {}).items()},
            connections=tuple(
                LiveConnection(
                    id=str(c["id"]),
                    platform_key=str(c.get("integrationKey") or ""),
                    status=str(c.get("status") or ""),
                    created=str(c.get("created") or ""),
                )
                for c in body.get("dataConnections") or ()
            ),
            created=str(body.get("created") or ""),
        )


@dataclass(frozen=True, slots=True)
class LiveState:
    companies: tuple[LiveCompany, ...]
    # Codat's clock (the Date header) when the read began; None if it sent none.
    # The executor compares it with `created` to spot a replayed idempotent
    # answer that describes something deleted since (see apply/executor.py).
    read_at: datetime | None = field(default=None, compare=False)

    def digest(self) -> str:
        """sha256 over what the planner reads, in a canonical order.

        A saved plan keeps it; `apply --plan` refuses when Codat's digest differs.
        """
        h = hashlib.sha256()
        for c in sorted(self.companies, key=lambda c: c.id):
            conns = sorted((x.id, x.platform_key, x.status.lower()) for x in c.connections)
            row = [c.id, c.name, c.description, sorted(c.tags.items()), conns]
            h.update(json.dumps(row).encode())
        return "sha256:" + h.hexdigest()


def parse_timestamp(value: object) -> datetime | None:
    """Codat's `created` ("2022-11-10T10:45:18.1950523Z": up to 7 fraction digits) as UTC."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip().removesuffix("Z")
    head, _, fraction = text.partition(".")
    try:
        moment = datetime.fromisoformat(head + (f".{fraction[:6]:0<6}" if fraction else ""))
    except ValueError:
        return None
    return moment.replace(tzinfo=moment.tzinfo or UTC)
