"""`assess` on plain data: every state and reason, without a sandbox or a file."""

from __future__ import annotations

import pytest

from reconciler.live.model import LiveCompany, LiveConnection, LiveState
from reconciler.manifests.model import (
    DesiredConnection,
    DesiredState,
    LiteralValue,
    Location,
    Merchant,
    SyncFlow,
)
from reconciler.readiness.assess import StatusRequest, assess, companies_to_read
from reconciler.readiness.model import (
    CompanyReads,
    ConnectionStatus,
    LastSync,
    MerchantStatus,
    ReadFailure,
    ReadinessState,
    SyncFlowStatus,
)

HERE = Location("m.yaml", 1, 1)
FLOW = SyncFlow("lqai", "gbol")
DONE = SyncFlowStatus(configured=True, enabled=True)
NOT_DONE = SyncFlowStatus(configured=False, enabled=False)
COMPLETE = LastSync("Complete", 2000, "2026-11-27T10:22:31Z", True, None)


def merchant(name: str, *conns: DesiredConnection, **kw: object) -> Merchant:
    kw.setdefault("sync_flow", FLOW)
    return Merchant(name=name, location=HERE, connections=conns, **kw)  # type: ignore[arg-type]


def declared(key: str = "dfxm", auth: bool = True) -> DesiredConnection:
    return DesiredConnection(key, {"apiToken": LiteralValue("t")} if auth else None, HERE)


def company(name: str, *conns: LiveConnection, id: str | None = None) -> LiveCompany:
    return LiveCompany(
        id=id or f"id-{name}", name=name, description=None, tags={}, connections=conns
    )


def live(status: str, key: str = "dfxm", id: str = "c1") -> LiveConnection:
    return LiveConnection(id=id, platform_key=key, status=status)


def one(
    m: Merchant,
    c: LiveCompany,
    flow: SyncFlowStatus | ReadFailure = DONE,
    last: LastSync | ReadFailure | None = COMPLETE,
) -> MerchantStatus:
    reads = {c.id: CompanyReads(flow, last)}
    request = StatusRequest(paths=("manifests/",))
    [status] = assess(DesiredState((m,)), LiveState((c,)), reads, request)
    return status


def test_ready_needs_linked_connections_a_finished_flow_and_no_failed_sync() -> None:
    status = one(merchant("m1", declared()), company("m1", live("Linked")))
    assert status == MerchantStatus(
        "m1",
        "id-m1",
        ReadinessState.READY,
        (),
        (ConnectionStatus("dfxm", "Linked", True, "c1"),),
        DONE,
        COMPLETE,
    )


def test_ready_before_any_sync_and_with_a_sync_in_progress() -> None:
    m, c = merchant("m1"), company("m1")
    assert one(m, c, last=None).state is ReadinessState.READY
    pending = LastSync("Pending", 1000, None, None, None)
    assert one(m, c, last=pending).state is ReadinessState.READY


@pytest.mark.parametrize(
    ("status", "auth", "reason"),
    [
        ("Deauthorized", True, "connection dfxm is Deauthorized: run apply, or check the token"),
        (
            "Deauthorized",
            False,
            "connection dfxm is Deauthorized: the merchant must authorize it "
            "again (or declare its authorization and run apply)",
        ),
        (
            "PendingAuth",
            False,
            "connection dfxm is PendingAuth: the merchant must authorize it "
            "(or declare its authorization and run apply)",
        ),
        (
            "PendingAuth",
            True,
            "connection dfxm is PendingAuth: run apply to send its declared authorization",
        ),
        (
            "pendingAuth",
            False,
            "connection dfxm is pendingAuth: the merchant must authorize it "
            "(or declare its authorization and run apply)",
        ),
    ],
)
def test_a_connection_not_linked_says_who_acts(status: str, auth: bool, reason: str) -> None:
    result = one(merchant("m1", declared(auth=auth)), company("m1", live(status)))
    assert (result.state, result.waiting_for) == (ReadinessState.WAITING, (reason,))


def test_a_declared_connection_codat_lacks_or_unlinked_waits_for_apply() -> None:
    for conns in [(), (live("Unlinked"),)]:
        result = one(merchant("m1", declared()), company("m1", *conns))
        assert result.waiting_for == (
            "connection dfxm does not exist in Codat yet: run apply to create it",
        )
        assert result.connections == (ConnectionStatus("dfxm", None, True, None),)


def test_connections_prefer_linked_and_list_the_merchants_own_after_the_declared() -> None:
    c = company(
        "m1",
        live("Deauthorized", id="old"),
        live("Linked", id="new"),
        live("Linked", "gbol", "acct"),
        live("Unlinked", "qhyg", "gone"),
    )
    result = one(merchant("m1", declared()), c)
    assert result.connections == (
        ConnectionStatus("dfxm", "Linked", True, "new"),
        ConnectionStatus("gbol", "Linked", False, "acct"),
    )
    assert result.state is ReadinessState.READY  # an undeclared connection is never waited for


def test_the_sync_flow_not_done_quotes_the_sync_url_command() -> None:
    result = one(merchant("Acme Coffee"), company("Acme Coffee"), flow=NOT_DONE, last=None)
    assert result.waiting_for == (
        "the merchant has not completed the sync flow: send them "
        "`codat-reconciler sync-url manifests/ --merchant 'Acme Coffee'`",
    )


def test_configured_but_switched_off_and_no_sync_flow_keys_declared() -> None:
    off = SyncFlowStatus(configured=True, enabled=False)
    result = one(merchant("m1", sync_flow=SyncFlow(commerce_key="lqai")), company("m1"), flow=off)
    assert result.waiting_for == (
        "the merchant has switched its sync off (configured, not enabled): declare its syncFlow "
        "accountingKey, then send them `codat-reconciler sync-url manifests/ --merchant m1` "
        "to switch it back on",
    )
    enabled_only = SyncFlowStatus(configured=False, enabled=True)
    assert one(merchant("m1"), company("m1"), flow=enabled_only).state is ReadinessState.WAITING


@pytest.mark.parametrize(
    ("sync", "failed"),
    [
        (LastSync("PushError", 5130, None, False, "x"), True),
        (LastSync("ValidateError", 4000, None, False, None), True),
        (LastSync("MapCoreError", 4200, None, False, None), True),
        (LastSync(None, 4001, None, None, None), True),
        (LastSync("PushError", None, None, None, None), True),  # no code: judged by its name
        (LastSync("Complete", 2040, None, False, None), False),  # nothing to push is a success
        (LastSync("Started", 1000, None, None, None), False),
        (LastSync("NotStarted", None, None, None, None), False),
    ],
)
def test_which_syncs_count_as_failed(sync: LastSync, failed: bool) -> None:
    assert sync.failed is failed
    assert one(merchant("m1"), company("m1"), last=sync).state is (
        ReadinessState.WAITING if failed else ReadinessState.READY
    )


def test_a_failed_sync_says_what_and_when() -> None:
    sync = LastSync.from_api(
        {
            "syncStatus": "PushError",
            "syncStatusCode": 5130,
            "syncUtc": "2026-11-27T10:22:54.5359678Z",
            "dataPushed": False,
        }
    )
    result = one(merchant("m1"), company("m1"), last=sync)
    assert result.waiting_for == ("the latest sync failed (PushError) on 2026-11-27 10:22 UTC",)


def test_missing_and_conflicts_need_no_reads() -> None:
    ms = (merchant("new"), merchant("twin"), merchant("pinned", company_id="gone"), merchant("ok"))
    cs = (company("twin", id="t1"), company("twin", id="t2"), company("ok"))
    desired, world = DesiredState(ms), LiveState(cs)
    assert companies_to_read(desired, world, StatusRequest()) == ["id-ok"]
    statuses = assess(desired, world, {"id-ok": CompanyReads(DONE, None)})
    assert [(s.name, s.state, s.company_id) for s in statuses] == [
        ("new", ReadinessState.MISSING, None),
        ("ok", ReadinessState.READY, "id-ok"),
        ("pinned", ReadinessState.CONFLICT, None),
        ("twin", ReadinessState.CONFLICT, None),
    ]
    by_name = {s.name: s for s in statuses}
    assert by_name["new"].waiting_for == (
        'no company named "new" in Codat yet: run apply to create it',
    )
    assert "pinned companyId gone does not exist in Codat" in by_name["pinned"].waiting_for[0]
    assert "(ids: t1, t2)" in by_name["twin"].waiting_for[0]
    assert all(
        s.connections == () and s.sync_flow is None and s.last_sync is None
        for s in statuses
        if s.state is not ReadinessState.READY
    )


def test_a_pinned_company_is_its_merchants_even_under_another_merchants_name() -> None:
    # The planner's rule: the name match leaves out companies other merchants pin.
    ms = (merchant("acme"), merchant("legacy", company_id="p1"))
    cs = (company("acme", id="p1"), company("acme", id="a2"))
    desired, world = DesiredState(ms), LiveState(cs)
    assert companies_to_read(desired, world, StatusRequest()) == ["a2", "p1"]
    reads = {i: CompanyReads(DONE, None) for i in ("a2", "p1")}
    assert [(s.name, s.company_id) for s in assess(desired, world, reads)] == [
        ("acme", "a2"),
        ("legacy", "p1"),
    ]


def test_scope_limits_the_merchants_and_their_reads() -> None:
    desired = DesiredState((merchant("a"), merchant("b")))
    world = LiveState((company("a"), company("b")))
    request = StatusRequest(merchants=frozenset({"b"}))
    assert companies_to_read(desired, world, request) == ["id-b"]
    [status] = assess(desired, world, {"id-b": CompanyReads(DONE, None)}, request)
    assert status.name == "b"


def test_a_failed_read_is_that_merchants_error_with_what_is_known() -> None:
    failure = ReadFailure("the latest sync", "GET /x failed: 500 (correlationId: corr-9)")
    result = one(
        merchant("m1", declared(auth=False)),
        company("m1", live("PendingAuth")),
        flow=NOT_DONE,
        last=failure,
    )
    assert result.state is ReadinessState.ERROR
    assert result.waiting_for[0] == (
        "could not read the latest sync: GET /x failed: 500 (correlationId: corr-9)"
    )
    assert len(result.waiting_for) == 3  # the connection and the sync flow are still told
    assert result.sync_flow == NOT_DONE and result.last_sync is None
