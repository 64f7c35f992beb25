"""Codat's webhook events, as `watch` reads them once their signature is verified.

Body (Codat's docs): `{id, eventType, generatedDate, payload}`; connection events
name the company in `payload.referenceCompany`, `company.deleted` carries the
company itself as its payload.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

# A merchant's company or connection changed under us: reconcile that merchant.
MERCHANT_EVENTS = frozenset({"connection.disconnected", "connection.created", "company.deleted"})
# Nothing to repair (a connection became Linked), but a consumer may well subscribe to it.
NOTHING_TO_DO = frozenset({"connection.connected"})
RATE_LIMIT_REACHED = "client.rateLimit.reached"
RATE_LIMIT_RESET = "client.rateLimit.reset"
KNOWN_EVENTS = MERCHANT_EVENTS | NOTHING_TO_DO | {RATE_LIMIT_REACHED, RATE_LIMIT_RESET}


class BadEvent(ValueError):
    """A verified body that is not an event `watch` knows; the message names why."""


@dataclass(frozen=True, slots=True)
class Event:
    type: str
    company_id: str | None = None
    company_name: str | None = None

    @property
    def deleted(self) -> bool:
        return self.type == "company.deleted"


def parse_event(body: bytes) -> Event:
    try:
        event = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise BadEvent("the body is not JSON") from None
    if not isinstance(event, dict) or not isinstance(event.get("eventType"), str):
        raise BadEvent("the body has no eventType")
    kind = event["eventType"]
    if kind not in KNOWN_EVENTS:
        raise BadEvent(f"unknown event type {kind[:80]!r}")
    if kind not in MERCHANT_EVENTS:
        return Event(kind)
    company = _company(event.get("payload"))
    if company is None:
        raise BadEvent(f"{kind} names no company")
    name = company.get("name")
    return Event(kind, company["id"], name if isinstance(name, str) else None)


def _company(payload: Any) -> dict[str, Any] | None:
    if not isinstance(payload, dict):
        return None
    reference = payload.get("referenceCompany")
    company = reference if isinstance(reference, dict) else payload
    company_id = company.get("id")
    return company if isinstance(company_id, str) and company_id else None
