"""The planner on plain data: no sandbox, no files, no network."""

from __future__ import annotations

from typing import Any

from reconciler.credentials import Credentials, Fingerprint, Unverifiable, collect
from reconciler.live.model import AUTH_TAG, LiveCompany, LiveConnection, LiveState
from reconciler.manifests.model import (
    DesiredConnection,
    DesiredState,
    LiteralValue,
    Location,
    Merchant,
    SecretRef,
)
from reconciler.plan.authorization import LAST_APPLIED, UNKNOWN
from reconciler.plan.model import Action, Kind, Plan
from reconciler.plan.planner import PlanOptions, make_plan

HERE = Location("m.yaml", 1, 1)
OWNED = {"managed-by": "codat-reconciler"}


def merchant(name: str, *conns: DesiredConnection, **kw: object) -> Merchant:
    return Merchant(name=name, location=HERE, connections=conns, **kw)  # type: ignore[arg-type]


def conn(key: str = "dfxm", auth: bool = True) -> DesiredConnection:
    authorization = (
        {"apiToken": SecretRef("env", "TOKEN"), "storeId": LiteralValue("s-1")} if auth else None
    )
    return DesiredConnection(key, authorization, HERE)


def company(
    name: str,
    *conns: LiveConnection,
    id: str | None = None,
    tags: dict[str, str] | None = None,
    description: str | None = None,
) -> LiveCompany:
    return LiveCompany(
        id=id or f"id-{name}",
        name=name,
        description=description,
        tags=dict(OWNED if tags is None else tags),
        connections=conns,
    )


def live_conn(status: str, key: str = "dfxm", id: str = "c1", created: str = "") -> LiveConnection:
    return LiveConnection(id=id, platform_key=key, status=status, created=created)


def plan(
    declared: list[Merchant],
    companies: list[LiveCompany],
    creds: Credentials | None = None,
    **opts: Any,
) -> Plan:
    desired, live = DesiredState(tuple(declared)), LiveState(tuple(companies))
    return make_plan(desired, live, creds or {}, PlanOptions(**opts))


FP = {("m1", "dfxm"): Fingerprint("fp-new")}


def test_new_merchant_creates_company_connection_and_authorizes_in_order() -> None:
    p = plan([merchant("m1", conn(), description="Acme", tags={"region": "uk"})], [], FP)
    assert [(c.action, c.kind) for c in p.changes] == [
        (Action.CREATE, Kind.COMPANY),
        (Action.CREATE, Kind.CONNECTION),
        (Action.AUTHORIZE, Kind.CONNECTION),
    ]
    create = p.changes[0]
    assert create.body == {
        "name": "m1",
        "description": "Acme",
        "tags": {"region": "uk", "managed-by": "codat-reconciler", AUTH_TAG: "dfxm:fp-new"},
    }
    assert p.changes[1].address == 'merchant["m1"].connection["dfxm"]'
    assert p.changes[2].after == {
        "authorization": {"apiToken": "(sensitive: env TOKEN)", "storeId": "(sensitive: literal)"}
    }


def test_converged_merchant_has_no_changes() -> None:
    live = company("m1", live_conn("Linked"), tags={**OWNED, AUTH_TAG: "dfxm:fp-new"})
    p = plan([merchant("m1", conn())], [live], FP)
    assert p.changes == () and not p.has_changes


def test_rotated_credentials_authorize_then_record_fingerprint() -> None:
    live = company("m1", live_conn("Linked"), tags={**OWNED, AUTH_TAG: "dfxm:fp-old"})
    p = plan([merchant("m1", conn())], [live], FP)
    (auth,) = p.changes  # the fingerprint is recorded by the authorization's follow-up PATCH
    assert auth.action is Action.AUTHORIZE
    assert auth.reason == "declared credentials changed since last applied"
    assert auth.connection_id == "c1" and auth.company_id == "id-m1"
    assert auth.record == {"tags": {**OWNED, AUTH_TAG: "dfxm:fp-new"}}
    assert auth.before == {
        "status": "Linked",
        "authorization": {"apiToken": LAST_APPLIED, "storeId": LAST_APPLIED},
        "companyTags": {AUTH_TAG: "dfxm:fp-old"},
    }
    assert auth.after is not None and auth.after["companyTags"] == {AUTH_TAG: "dfxm:fp-new"}


def test_linked_connection_never_authorized_by_the_tool_is_authorized_once() -> None:
    live = company("m1", live_conn("Linked"))
    p = plan([merchant("m1", conn())], [live], FP)
    (auth,) = p.changes
    assert auth.action is Action.AUTHORIZE
    assert auth.reason == "never authorized by this tool (adopted, or linked by someone else)"
    assert auth.before is not None and auth.before["authorization"]["apiToken"] == UNKNOWN
    assert auth.record == {"tags": {**OWNED, AUTH_TAG: "dfxm:fp-new"}}


def test_unverifiable_credentials_leave_linked_connection_alone_with_a_note() -> None:
    live = company("m1", live_conn("Linked"), tags={**OWNED, AUTH_TAG: "dfxm:fp-old"})
    creds = {("m1", "dfxm"): Unverifiable("environment variable TOKEN is not set")}
    p = plan([merchant("m1", conn())], [live], creds)
    assert p.changes == ()
    assert [n.message for n in p.notes] == [
        "could not check for changed credentials: environment variable TOKEN is not set"
    ]


def test_deauthorized_connection_is_reauthorized() -> None:
    live = company("m1", live_conn("Deauthorized"), tags={**OWNED, AUTH_TAG: "dfxm:fp-new"})
    p = plan([merchant("m1", conn())], [live], FP)
    assert [c.action for c in p.changes] == [Action.AUTHORIZE]
    assert p.changes[0].reason == "connection is Deauthorized (access lost)"


def test_pending_auth_matches_case_insensitively_and_is_authorized() -> None:
    live = company("m1", live_conn("pendingAuth"), tags={**OWNED, AUTH_TAG: "dfxm:fp-new"})
    p = plan([merchant("m1", conn())], [live], FP)
    assert [c.action for c in p.changes] == [Action.AUTHORIZE]


def test_unlinked_connection_counts_as_gone() -> None:
    live = company("m1", live_conn("Unlinked"))
    p = plan([merchant("m1", conn())], [live], FP)
    assert [(c.action, c.kind) for c in p.changes] == [
        (Action.UPDATE, Kind.COMPANY),  # the new fingerprint can go before authorizing
        (Action.CREATE, Kind.CONNECTION),
        (Action.AUTHORIZE, Kind.CONNECTION),
    ]


def test_connection_preference_linked_over_pending_over_deauthorized() -> None:
    live = company(
        "m1",
        live_conn("Deauthorized", id="a"),
        live_conn("PendingAuth", id="b"),
        live_conn("Linked", id="c"),
        tags={**OWNED, AUTH_TAG: "dfxm:fp-new"},
    )
    # The Linked one is kept: nothing is sent to it; the tool's extras are unlinked.
    changes = plan([merchant("m1", conn())], [live], FP).changes
    assert [(c.action, c.connection_id) for c in changes] == [
        (Action.UNLINK, "a"),
        (Action.UNLINK, "b"),
    ]
    live2 = company(
        "m1",
        live_conn("Deauthorized", id="a"),
        live_conn("PendingAuth", id="b"),
        tags={**OWNED, AUTH_TAG: "dfxm:fp-new"},
    )
    p = plan([merchant("m1", conn())], [live2], FP)
    assert p.changes[0].connection_id == "b"


def test_no_declared_authorization_waits_for_the_merchant() -> None:
    p = plan([merchant("m1", conn(auth=False))], [company("m1", live_conn("PendingAuth"))])
    assert p.changes == ()
    assert "waiting for the merchant to authorize dfxm" in p.notes[0].message


def test_adoption_adds_ownership_tag_with_one_update() -> None:
    live = company("m1", tags={"region": "uk"})
    p = plan([merchant("m1")], [live])
    assert len(p.changes) == 1
    change = p.changes[0]
    assert change.action is Action.UPDATE and change.reason.startswith("adopt:")
    assert change.body == {"tags": {"region": "uk", **OWNED}}


def test_description_and_tag_changes_are_described() -> None:
    live = company("m1", tags={**OWNED, "region": "uk", "old": "x"}, description="Old")
    p = plan([merchant("m1", description="New", tags={"region": "us", "team": "a"})], [live])
    (change,) = p.changes
    assert change.reason == (
        "description changed; tag old removed; tag region changed; tag team added"
    )
    assert change.before == {"description": "Old", "tags": live.tags}
    assert change.body["description"] == "New"


def test_undeclared_description_and_tags_are_left_alone() -> None:
    live = company("m1", tags={**OWNED, "region": "uk"}, description="Whatever")
    assert plan([merchant("m1")], [live]).changes == ()


def test_duplicate_names_are_a_conflict_and_the_merchant_is_untouched() -> None:
    # One of them made by hand: not the tool's twins (tests/plan/test_twins.py).
    p = plan([merchant("m1", conn())], [company("m1", id="a"), company("m1", id="b", tags={})], FP)
    assert p.changes == ()
    assert p.conflicts[0].message.startswith('2 companies are named "m1" (ids: a, b)')
    assert "companyId" in p.conflicts[0].message


def test_pinned_company_id_resolves_a_duplicate_name() -> None:
    live = [company("m1", id="a", tags={}), company("m1", id="b")]
    p = plan([merchant("m1", company_id="a")], live)
    assert p.conflicts == ()
    assert [(c.action, c.company_id) for c in p.changes] == [(Action.UPDATE, "a")]


def test_pinned_company_that_does_not_exist_is_a_conflict() -> None:
    p = plan([merchant("m1", company_id="nope")], [])
    assert p.changes == () and "does not exist" in p.conflicts[0].message


def test_prune_deletes_only_managed_undeclared_companies() -> None:
    live = [company("gone"), company("foreign", tags={}), company("kept")]
    p = plan([merchant("kept")], live, prune=True)
    assert [(c.action, c.address) for c in p.changes] == [(Action.DELETE, 'merchant["gone"]')]
    assert plan([merchant("kept")], live).changes == ()  # no prune, no delete


def test_prune_unlinks_undeclared_connections_of_the_tool_on_managed_companies_only() -> None:
    linked = live_conn("Linked", key="lqai", id="x")
    owned = {**OWNED, AUTH_TAG: "lqai:fp-old"}
    p = plan([merchant("m1")], [company("m1", linked, tags=owned)], prune=True)
    assert [(c.action, c.connection_id) for c in p.changes] == [(Action.UNLINK, "x")]
    p2 = plan([merchant("m1", tags={})], [company("m1", linked, tags={})], prune=True)
    assert [c.action for c in p2.changes] == [Action.UPDATE]  # adoption only


def test_prune_never_deletes_companies_of_a_conflicted_merchant() -> None:
    p = plan([merchant("m1")], [company("m1", id="a"), company("m1", id="b", tags={})], prune=True)
    assert p.changes == ()


def test_chosen_merchants_limit_the_plan_and_skip_company_prune() -> None:
    p = plan([merchant("a"), merchant("b")], [company("z")], prune=True, merchants=frozenset({"b"}))
    assert [c.address for c in p.changes] == ['merchant["b"]']


def test_order_is_deterministic_by_merchant_name() -> None:
    ms = [merchant(n) for n in ("c", "a", "b")]
    assert [c.merchant for c in plan(ms, []).changes] == ["a", "b", "c"]
    assert plan(ms, []) == plan(list(reversed(ms)), [])


def test_credentials_are_resolved_for_the_planned_merchants_only(
    monkeypatch: Any,
) -> None:
    """watch reconciles one merchant of thousands: it reads that merchant's secrets,
    not every merchant's (each may be a file to read)."""
    monkeypatch.setenv("TOKEN", "a-token")
    desired = DesiredState((merchant("a", conn()), merchant("b", conn()), merchant("c", conn())))
    assert set(collect(desired, b"k" * 32)) == {("a", "dfxm"), ("b", "dfxm"), ("c", "dfxm")}
    assert set(collect(desired, b"k" * 32, {"b"})) == {("b", "dfxm")}
