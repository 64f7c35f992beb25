"""The status table a person reads in 100 columns, and the JSON of docs/reference/status-json.md."""

from __future__ import annotations

import json

from reconciler.readiness.model import (
    ConnectionStatus,
    LastSync,
    MerchantStatus,
    ReadinessState,
    SyncFlowStatus,
)
from reconciler.readiness.render import render_json, render_text
from reconciler.render.detail import Detail

COMPANY = "0498e921-9b53-4396-a412-4f2f5983b0a2"
FAILED = LastSync("ValidateError", 4000, "2026-11-27T10:22:00Z", False, "Customer is archived")
COMMAND = "`codat-reconciler sync-url manifests/ --merchant 'Acme Coffee Roasters'`"
WAITING = MerchantStatus(
    "Acme Coffee Roasters of the Greater London Area",
    COMPANY,
    ReadinessState.WAITING,
    (
        "connection dfxm is Deauthorized: run apply, or check the token",
        f"the merchant has not completed the sync flow: send them {COMMAND}",
        "the latest sync failed (ValidateError) on 2026-11-27 10:22 UTC",
    ),
    (
        ConnectionStatus("dfxm", "Deauthorized", True, "c1"),
        ConnectionStatus("lqai", None, True, None),
        ConnectionStatus("gbol", "Linked", False, "c2"),
    ),
    SyncFlowStatus(configured=False, enabled=False),
    FAILED,
)
MISSING = MerchantStatus("10000002", None, ReadinessState.MISSING, ("no company named ...",))


def test_the_table_fits_100_columns_and_keeps_commands_whole() -> None:
    text = render_text([WAITING, MISSING], Detail.VERBOSE)
    lines = text.splitlines()
    assert max(map(len, lines)) <= 100, text
    assert lines[0].split() == [
        "MERCHANT",
        "STATE",
        "COMPANY",
        "ID",
        "SYNC",
        "FLOW",
        "LAST",
        "SYNC",
        "(UTC)",
    ]
    # The long name gets a line of its own; its row follows under the columns.
    assert lines[1] == WAITING.name
    assert lines[2].split() == [
        "waiting",
        COMPANY,
        "not",
        "done",
        "ValidateError",
        "2026-11-27",
        "10:22",
    ]
    assert "connections: dfxm Deauthorized, lqai not in Codat, gbol Linked (not declared)" in text
    assert any(COMMAND in line for line in lines)  # copied whole, never split across lines
    assert lines[-1] == "2 merchants: 1 waiting, 1 missing."
    missing_row = next(line for line in lines if line.startswith("10000002"))
    assert missing_row.split() == ["10000002", "missing", "-", "-", "-"]


def test_short_names_share_the_row() -> None:
    ready = MerchantStatus(
        "10000001", COMPANY, ReadinessState.READY, (), (), SyncFlowStatus(True, True), None
    )
    lines = render_text([ready]).splitlines()
    assert lines[1].split() == ["10000001", "ready", COMPANY, "done", "none", "yet"]
    assert lines[-1] == "1 merchant: 1 ready."


def test_json_has_exactly_the_documented_keys() -> None:
    doc = json.loads(render_json([WAITING, MISSING]))
    assert list(doc) == ["format_version", "merchants", "summary"] and doc["format_version"] == 1
    assert doc["summary"] == {
        "total": 2,
        "ready": 0,
        "waiting": 1,
        "missing": 1,
        "conflict": 0,
        "error": 0,
    }
    keys = ["name", "companyId", "state", "waitingFor", "connections", "syncFlow", "lastSync"]
    assert all(list(m) == keys for m in doc["merchants"])
    first, second = doc["merchants"]
    assert first["connections"][1] == {
        "platformKey": "lqai",
        "status": None,
        "managed": True,
        "id": None,
    }
    assert first["syncFlow"] == {"configured": False, "enabled": False}
    assert first["lastSync"] == {
        "status": "ValidateError",
        "statusCode": 4000,
        "syncUtc": "2026-11-27T10:22:00Z",
        "failed": True,
        "dataPushed": False,
        "errorMessage": "Customer is archived",
    }
    assert second == {
        "name": "10000002",
        "companyId": None,
        "state": "missing",
        "waitingFor": ["no company named ..."],
        "connections": [],
        "syncFlow": None,
        "lastSync": None,
    }


def _waiting_for_the_flow(name: str) -> MerchantStatus:
    return MerchantStatus(
        name,
        COMPANY,
        ReadinessState.WAITING,
        (f"the merchant has not completed the sync flow: send them `sync-url {name}`",),
        (ConnectionStatus("dfxm", "Linked", True, "c1"),),
        SyncFlowStatus(configured=False, enabled=False),
        waiting_kinds=("merchants have not completed the sync flow",),
    )


def test_what_merchants_wait_for_is_one_line_per_kind_and_quiet_is_the_summary() -> None:
    statuses = [*map(_waiting_for_the_flow, ("m1", "m2", "m3")), MISSING]
    lines = render_text(statuses).splitlines()
    assert lines[5:] == [
        "",
        "Waiting for:",
        "  - 3 merchants have not completed the sync flow, e.g. m1: the merchant has not "
        "completed the sync",
        "    flow: send them `sync-url m1`",
        "  - 10000002: no company named ...",  # a kind of one: that merchant's reason
        "(--verbose lists each merchant's connections and reasons)",
        "",
        "4 merchants: 3 waiting, 1 missing.",
    ]
    assert "connections:" not in "\n".join(lines)
    assert render_text(statuses, Detail.QUIET) == "4 merchants: 3 waiting, 1 missing.\n"
