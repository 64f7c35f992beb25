"""MerchantStatus values as a table a person reads, or as versioned JSON
(docs/reference/status-json.md).

The table keeps to 100 columns: one row per merchant (merchant, state, company
id, sync flow, last sync); a name too long for its column gets a line of its own.
What the merchants wait for follows, one line per kind of reason with its count
and an example, so thousands of merchants waiting for one thing take one line.
With `--verbose`, each row has its connections on the line below and each of its
reasons wrapped under that; with `--quiet`, only the summary line shows.
"""

from __future__ import annotations

import json
import textwrap
from collections import Counter
from collections.abc import Sequence
from typing import Any

from reconciler.readiness.model import (
    ConnectionStatus,
    LastSync,
    MerchantStatus,
    ReadinessState,
    SyncFlowStatus,
)
from reconciler.render.detail import Detail

FORMAT_VERSION = 1
WIDTH = 100
INDENT = "  "
_HELD = "\x00"
_HEADERS = ("MERCHANT", "STATE", "COMPANY ID", "SYNC FLOW", "LAST SYNC (UTC)")


def render_json(statuses: Sequence[MerchantStatus]) -> str:
    counts = Counter(s.state for s in statuses)
    document = {
        "format_version": FORMAT_VERSION,
        "merchants": [_merchant(s) for s in statuses],
        "summary": {
            "total": len(statuses),
            **{state.value: counts[state] for state in ReadinessState},
        },
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _merchant(status: MerchantStatus) -> dict[str, Any]:
    return {
        "name": status.name,
        "companyId": status.company_id,
        "state": status.state.value,
        "waitingFor": list(status.waiting_for),
        "connections": [_connection(c) for c in status.connections],
        "syncFlow": _sync_flow(status.sync_flow),
        "lastSync": _last_sync(status.last_sync),
    }


def _connection(conn: ConnectionStatus) -> dict[str, Any]:
    return {
        "platformKey": conn.platform_key,
        "status": conn.status,
        "managed": conn.managed,
        "id": conn.id,
    }


def _sync_flow(flow: SyncFlowStatus | None) -> dict[str, Any] | None:
    return None if flow is None else {"configured": flow.configured, "enabled": flow.enabled}


def _last_sync(sync: LastSync | None) -> dict[str, Any] | None:
    if sync is None:
        return None
    return {
        "status": sync.status,
        "statusCode": sync.code,
        "syncUtc": sync.at,
        "failed": sync.failed,
        "dataPushed": sync.data_pushed,
        "errorMessage": sync.error_message,
    }


def render_text(statuses: Sequence[MerchantStatus], detail: Detail = Detail.NORMAL) -> str:
    if not statuses:
        return "No merchants declared.\n"
    if detail is Detail.QUIET:
        return _summary(statuses) + "\n"
    rows = [
        (s.name, s.state.value, s.company_id or "-", _flow_word(s), _sync_words(s))
        for s in statuses
    ]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(_HEADERS)]
    # The name column gets what the others leave of the 100.
    rest = sum(widths[1:]) + 2 * (len(widths) - 1)
    widths[0] = max(len(_HEADERS[0]), min(widths[0], WIDTH - rest))
    lines = [_row(_HEADERS, widths)]
    for status, row in zip(statuses, rows, strict=True):
        if len(row[0]) > widths[0]:
            lines.append(row[0])
            row = ("", *row[1:])
        lines.append(_row(row, widths))
        if detail is not Detail.VERBOSE:
            continue
        if status.connections:
            lines += _wrapped(
                "connections: " + ", ".join(map(_connection_words, status.connections))
            )
        for reason in status.waiting_for:
            lines += _wrapped("- " + reason)
    if detail is not Detail.VERBOSE:
        lines += _waiting_summary(statuses)
    lines += ["", _summary(statuses)]
    return "\n".join(lines) + "\n"


def _waiting_summary(statuses: Sequence[MerchantStatus]) -> list[str]:
    """One line per kind of reason: `3,000 merchants have not completed the sync flow, e.g.
    NAME: <its reason in full>`; a kind one merchant has shows that merchant's reason."""
    # kind -> merchant name -> its first reason of that kind
    kinds: dict[str, dict[str, str]] = {}
    for status in statuses:
        labels = status.waiting_kinds
        for i, reason in enumerate(status.waiting_for):
            kind = labels[i] if i < len(labels) else reason
            kinds.setdefault(kind, {}).setdefault(status.name, reason)
    if not kinds:
        return []
    lines = ["", "Waiting for:"]
    for kind, found in kinds.items():
        example = "{}: {}".format(*next(iter(found.items())))
        lines += _wrapped(
            f"- {example}" if len(found) == 1 else f"- {len(found):,} {kind}, e.g. {example}"
        )
    if any(len(found) > 1 for found in kinds.values()):
        lines.append("(--verbose lists each merchant's connections and reasons)")
    return lines


def _row(cells: Sequence[str], widths: Sequence[int]) -> str:
    return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()


def _wrapped(text: str) -> list[str]:
    # Hanging indent: a reason's continuation lines sit under its first word.
    hang = INDENT + " " * (2 if text.startswith("- ") else len("connections: "))
    # A `command` that fits a line stays on one, to be copied whole: its spaces
    # are held out of textwrap's reach (it breaks on ASCII whitespace only).
    room = WIDTH - len(hang) - 2
    parts = text.split("`")
    held = "`".join(
        p.replace(" ", _HELD) if i % 2 and len(p) <= room else p for i, p in enumerate(parts)
    )
    lines = textwrap.wrap(
        held,
        WIDTH,
        initial_indent=INDENT,
        subsequent_indent=hang,
        break_on_hyphens=False,
        break_long_words=False,
    )
    return [line.replace(_HELD, " ") for line in lines]


def _flow_word(status: MerchantStatus) -> str:
    flow = status.sync_flow
    if flow is None:
        return "-"
    return "done" if flow.done else "off" if flow.configured else "not done"


def _sync_words(status: MerchantStatus) -> str:
    sync = status.last_sync
    if sync is None:
        # Only a merchant whose reads all succeeded is known to have had no sync.
        return "none yet" if status.state in (ReadinessState.READY, ReadinessState.WAITING) else "-"
    return f"{sync.label} {sync.minute}" if sync.minute else sync.label


def _connection_words(conn: ConnectionStatus) -> str:
    words = f"{conn.platform_key} {conn.status or 'not in Codat'}"
    return words if conn.managed else f"{words} (not declared)"


def _summary(statuses: Sequence[MerchantStatus]) -> str:
    counts = Counter(s.state for s in statuses)
    parts = [f"{counts[state]:,} {state.value}" for state in ReadinessState if counts[state]]
    noun = "merchant" if len(statuses) == 1 else "merchants"
    return f"{len(statuses):,} {noun}: {', '.join(parts)}."
