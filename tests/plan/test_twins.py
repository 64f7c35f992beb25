"""Twins the tool made, extra connections, live look-alikes, and problems as data:
the planner on plain data."""

from __future__ import annotations

import pytest

from reconciler.credentials import Unverifiable
from reconciler.live.model import AUTH_TAG, LiveCompany, LiveConnection
from reconciler.manifests.model import Location
from reconciler.plan.model import Action, Cause, ConflictKind, Kind, NoteKind, ProblemKind
from tests.plan.test_planner import FP, OWNED, company, conn, live_conn, merchant, plan


def twin(
    id: str, created: str, *conns: LiveConnection, record: str | None = None, **kw: object
) -> LiveCompany:
    tags = {**OWNED, **({AUTH_TAG: record} if record else {})}
    found = company("m1", *conns, id=id, tags=tags, **kw)  # type: ignore[arg-type]
    return LiveCompany(
        found.id, found.name, found.description, found.tags, found.connections, created
    )


OLD, NEW = "2026-01-01T00:00:00Z", "2026-01-01T00:00:01Z"


def deletes(p: object) -> list[tuple[str | None, Cause | None]]:
    return [
        (c.company_id, c.cause)
        for c in p.changes  # type: ignore[attr-defined]
        if c.action is Action.DELETE
    ]


def test_unused_twins_keep_the_older_and_delete_the_other_without_prune() -> None:
    p = plan([merchant("m1")], [twin("b", NEW), twin("a", OLD)])
    assert p.conflicts == ()
    assert deletes(p) == [("b", Cause.TWIN)]
    change = p.changes[-1]
    assert "twin of a (the older" in change.reason and "never used" in change.reason
    assert change.before is not None and change.before["keeps"] == "a"


def test_the_twin_in_use_is_kept_and_the_unused_older_one_deleted() -> None:
    """An apply killed after its create left an empty twin; the other got its connection
    authorized: that one stays, and the merchant is planned against it."""
    used = twin("b", NEW, live_conn("Linked", id="k1"), record="dfxm:fp-new")
    empty = twin("a", OLD, record="dfxm:fp-new")
    p = plan([merchant("m1", conn())], [empty, used], FP)
    assert deletes(p) == [("a", Cause.TWIN)]
    assert "twin of b (the one in use" in p.changes[-1].reason
    assert len(p.changes) == 1  # b is converged: nothing else to do


def test_a_pending_connection_the_tool_made_is_no_sign_of_use() -> None:
    a = twin("a", OLD, live_conn("PendingAuth", id="k1"), record="dfxm")
    b = twin("b", NEW, live_conn("PendingAuth", id="k2"), record="dfxm")
    assert deletes(plan([merchant("m1", conn(auth=False))], [a, b])) == [("b", Cause.TWIN)]


@pytest.mark.parametrize(
    ("sign", "kwargs"),
    [
        ("was not made by this tool", {"conns": (live_conn("PendingAuth", key="gbol"),)}),
        ("is Linked", {"conns": (live_conn("Linked"),), "record": "dfxm:fp-new"}),
        ("is Deauthorized", {"conns": (live_conn("Deauthorized"),), "record": "dfxm:fp-new"}),
        ("description", {"description": "typed by hand"}),
        ("tags", {"tags_extra": {"owner": "ops"}}),
    ],
)
def test_two_twins_in_use_stay_a_conflict(sign: str, kwargs: dict[str, object]) -> None:
    conns = kwargs.get("conns", ())
    record = kwargs.get("record")
    in_use = twin("a", OLD, live_conn("Linked", id="k0"), record="dfxm:fp-new")
    other = twin(
        "b",
        NEW,
        *conns,
        record=record,  # type: ignore[arg-type]
        description=kwargs.get("description"),
    )
    if "tags_extra" in kwargs:
        other = LiveCompany(
            other.id,
            other.name,
            other.description,
            {**other.tags, **kwargs["tags_extra"]},  # type: ignore[dict-item]
            other.connections,
            other.created,
        )
    p = plan([merchant("m1", conn())], [in_use, other], FP, prune=True)
    assert p.changes == ()
    assert [(c.merchant, c.kind) for c in p.conflicts] == [("m1", ConflictKind.TWINS_IN_USE)]
    assert sign in p.conflicts[0].message and "companyId" in p.conflicts[0].message


def test_a_twin_made_by_hand_is_a_duplicate_name_conflict() -> None:
    p = plan([merchant("m1")], [twin("a", OLD), company("m1", id="b", tags={})])
    assert p.changes == ()
    assert [c.kind for c in p.conflicts] == [ConflictKind.DUPLICATE_NAME]


def test_twin_deletions_are_planned_for_a_targeted_merchant_only() -> None:
    live = [twin("a", OLD), twin("b", NEW)]
    assert deletes(plan([merchant("m1"), merchant("z")], live, merchants=frozenset({"z"}))) == []


# -- two active connections of one platform ------------------------------------


def test_an_extra_pending_connection_the_tool_made_is_unlinked() -> None:
    live = company(
        "m1",
        live_conn("PendingAuth", id="k2", created=NEW),
        live_conn("PendingAuth", id="k1", created=OLD),
        tags={**OWNED, AUTH_TAG: "dfxm"},
    )
    p = plan([merchant("m1", conn(auth=False))], [live])
    unlinks = [c for c in p.changes if c.action is Action.UNLINK]
    assert [(c.connection_id, c.cause) for c in unlinks] == [("k2", Cause.EXTRA_CONNECTION)]
    assert "k1 (PendingAuth) stays" in unlinks[0].reason


def test_two_linked_connections_the_tool_authorizes_keep_one() -> None:
    """`apply` and `watch` both added the connection and both authorized it."""
    live = company(
        "m1",
        live_conn("Linked", id="k1", created=OLD),
        live_conn("Linked", id="k2", created=NEW),
        tags={**OWNED, AUTH_TAG: "dfxm:fp-new"},
    )
    p = plan([merchant("m1", conn())], [live], FP)
    assert [(c.action, c.kind, c.connection_id) for c in p.changes] == [
        (Action.UNLINK, Kind.CONNECTION, "k2")
    ]


def test_a_second_linked_connection_the_tool_does_not_authorize_is_only_noted() -> None:
    """No declared authorization: the merchant links it in the sync flow, and may use
    either: nothing is unlinked."""
    live = company(
        "m1",
        live_conn("Linked", id="k1"),
        live_conn("Linked", id="k2"),
        tags={**OWNED, AUTH_TAG: "dfxm"},
    )
    p = plan([merchant("m1", conn(auth=False))], [live])
    assert p.changes == ()
    assert [(n.kind, "k2" in n.message) for n in p.notes] == [(NoteKind.EXTRA_CONNECTION, True)]


def test_extra_connections_on_an_unmanaged_company_or_not_the_tools_are_never_touched() -> None:
    extra = (live_conn("PendingAuth", id="k1"), live_conn("PendingAuth", id="k2"))
    # The record does not claim dfxm: the merchant's.
    p = plan([merchant("m1", conn(auth=False))], [company("m1", *extra)])
    assert [c for c in p.changes if c.action is Action.UNLINK] == []
    assert [n.kind for n in p.notes].count(NoteKind.EXTRA_CONNECTION) == 1


# -- look-alikes -----------------------------------------------------------------


@pytest.mark.parametrize(
    "live_name", ["Acme Coffee ", "Acme  Coffee", "Acme\tCoffee", " acme coffee", "ACME COFFEE"]
)
def test_a_lookalike_is_a_conflict_and_nothing_is_created(live_name: str) -> None:
    p = plan([merchant("Acme Coffee")], [company(live_name, id="x", tags={})])
    assert p.changes == ()
    assert [(c.merchant, c.kind) for c in p.conflicts] == [("Acme Coffee", ConflictKind.LOOKALIKE)]
    message = p.conflicts[0].message
    assert "(x) reads the same" in message and "onLookalike" in message


def test_adopt_manages_the_lookalike_and_renames_it() -> None:
    p = plan(
        [merchant("Blue Bottle", on_lookalike="adopt")], [company("Blue  Bottle", id="x", tags={})]
    )
    assert p.conflicts == ()
    [change] = p.changes
    assert (change.action, change.company_id) == (Action.UPDATE, "x")
    assert change.body["name"] == "Blue Bottle" and change.body["tags"] == OWNED
    assert 'onLookalike: adopt "Blue  Bottle"' in change.reason


def test_adopt_among_several_lookalikes_is_a_conflict() -> None:
    live = [company("crown bakery", id="x", tags={}), company("Crown\tBakery", id="y", tags={})]
    p = plan([merchant("Crown Bakery", on_lookalike="adopt")], live)
    assert p.changes == () and p.conflicts[0].kind is ConflictKind.LOOKALIKE


def test_create_makes_a_new_company_beside_the_lookalike_and_says_so() -> None:
    p = plan(
        [merchant("Crown Bakery", on_lookalike="create")],
        [company("Crown\tBakery", id="y", tags={})],
    )
    assert [(c.action, c.kind) for c in p.changes] == [(Action.CREATE, Kind.COMPANY)]
    assert [n.kind for n in p.notes] == [NoteKind.LOOKALIKE]


def test_a_lookalike_beside_the_exact_name_is_noted_and_left_alone() -> None:
    live = [company("m1", tags=OWNED), company("M1 ", id="x", tags={})]
    p = plan([merchant("m1")], live, prune=True)
    assert p.changes == () and p.conflicts == ()
    assert [n.kind for n in p.notes] == [NoteKind.LOOKALIKE]


def test_declared_names_that_differ_in_case_are_not_each_others_lookalikes() -> None:
    live = [company("acme", id="a"), company("Acme", id="b")]
    p = plan([merchant("acme"), merchant("Acme")], live)
    assert p.conflicts == () and p.notes == () and p.changes == ()


def test_a_pinned_company_is_nobodys_lookalike() -> None:
    live = [company("ACME", id="p", tags={})]
    p = plan([merchant("acme"), merchant("other", company_id="p")], live)
    assert [c.kind for c in p.conflicts] == []
    assert next((c.action, c.merchant) for c in p.changes) == (Action.CREATE, "acme")


# -- problems ---------------------------------------------------------------------


def test_an_unknown_platform_is_a_problem_at_the_connections_position() -> None:
    declared = conn("zzzz")
    declared = type(declared)("zzzz", None, Location("shops.yaml", 12, 9))
    p = plan([merchant("m1", declared)], [], integrations=frozenset({"dfxm"}))
    assert p.changes == () and p.conflicts == ()
    [problem] = p.problems
    assert (problem.merchant, problem.kind, problem.location) == (
        "m1",
        ProblemKind.UNKNOWN_PLATFORM,
        "shops.yaml:12:9",
    )
    assert p.blocked == {"m1"}


def test_a_missing_secret_is_a_problem_for_apply_and_a_note_for_plan() -> None:
    creds = {
        ("m1", "dfxm"): Unverifiable("environment variable TOKEN is not set", secret_missing=True)
    }
    applying = plan([merchant("m1", conn())], [], creds, require_secrets=True)
    assert applying.changes == ()
    assert [(p.kind, p.location) for p in applying.problems] == [
        (ProblemKind.SECRET_MISSING, "m.yaml:1:1")
    ]
    planning = plan([merchant("m1", conn())], [], creds)
    assert planning.problems == () and planning.changes
    assert [n.kind for n in planning.notes] == [NoteKind.SECRET_MISSING]
