"""What Codat holds: live companies and their connections, as plain values.

Built from the `GET /companies` pages (connections embedded as
`dataConnections`); read by the planner; digested so a saved plan can tell
whether the world it was made from has changed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reconciler.live.client import LiveClientSettings

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

    @classmethod
    def from_api(cls, body: Mapping[str, Any]) -> LiveConnection:
        return cls(
            id=str(body["id"]),
            platform_key=str(body.get("integrationKey") or ""),
            status=str(body.get("status") or ""),
            created=str(body.get("created") or ""),
        )


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
        """A company from Codat's JSON; ValueError names what is not the documented shape."""
        tags = body.get("tags") or {}
        if not isinstance(tags, dict):
            raise ValueError(f"company {body.get('id')}: `tags` is not an object")
        connections = body.get("dataConnections") or []
        if not isinstance(connections, list) or not all(
            isinstance(c, dict) and isinstance(c.get("id"), str) and c["id"] for c in connections
        ):
            raise ValueError(
                f"company {body.get('id')}: `dataConnections` is not a list of connections"
            )
        description = body.get("description")
        return cls(
            id=str(body["id"]),
            name=str(body.get("name") or ""),
            description=description if isinstance(description, str) else None,
            tags={str(k): str(v) for k, v in tags.items()},
            connections=tuple(LiveConnection.from_api(c) for c in connections),
            created=str(body.get("created") or ""),
        )


@dataclass(frozen=True, slots=True)
class LiveState:
    companies: tuple[LiveCompany, ...]
    # The client-wide settings read, when the manifests declare some (live/client.py).
    client: LiveClientSettings | None = None

    def digest(self) -> str:
        """sha256 over what the planner reads, in a canonical order.

        A saved plan keeps it; `apply --plan` refuses when Codat's digest differs.
        """
        h = hashlib.sha256()
        for c in sorted(self.companies, key=lambda c: c.id):
            conns = sorted((x.id, x.platform_key, x.status.lower()) for x in c.connections)
            row = [c.id, c.name, c.description, sorted(c.tags.items()), conns]
            h.update(json.dumps(row).encode())
        if self.client is not None:
            h.update(self.client.digest().encode())
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
