"""The tool's record in the planner: which connections are the tool's, one company
change per merchant, and re-authorization reasons that say which thing changed."""

from __future__ import annotations

from reconciler.credentials import Fingerprint, Unverifiable
from reconciler.live.model import AUTH_TAG
from reconciler.plan.authorization import (
    CREDENTIALS_CHANGED,
    EITHER_CHANGED,
    KEY_CHANGED,
    LAST_APPLIED,
    NEVER_AUTHORIZED,
    NO_FINGERPRINT,
    NOT_RECORDED,
    RENAMED,
)
from reconciler.plan.model import Action, Kind, NoteKind
from tests.plan.test_planner import OWNED, company, conn, live_conn, merchant, plan

NEW = {("m1", "dfxm"): Fingerprint("fp-new", "kNEW")}


def tagged(record: str, **extra: str) -> dict[str, str]:
    return {**OWNED, AUTH_TAG: record, **extra}


def test_new_merchant_records_its_connections_in_the_create_call() -> None:
    p = plan([merchant("m1", conn(), conn("lqai", auth=False))], [], NEW)
    assert [(c.action, c.kind) for c in p.changes] == [
        (Action.CREATE, Kind.COMPANY),
        (Action.CREATE, Kind.CONNECTION),
        (Action.AUTHORIZE, Kind.CONNECTION),
        (Action.CREATE, Kind.CONNECTION),
    ]
    assert p.changes[0].body["tags"] == tagged("@kNEW,dfxm:fp-new,lqai")
    assert all(c.record is None for c in p.changes)  # nothing to write afterwards


def test_a_connection_created_on_an_existing_company_is_claimed_in_its_one_patch() -> None:
    live = company("m1", live_conn("Linked"), tags=tagged("@kNEW,dfxm:fp-new", region="uk"))
    p = plan([merchant("m1", conn(), conn("lqai", auth=False), tags={"region": "us"})], [live], NEW)
    assert [(c.action, c.kind) for c in p.changes] == [
        (Action.UPDATE, Kind.COMPANY),
        (Action.CREATE, Kind.CONNECTION),
    ]
    assert p.changes[0].body == {"tags": tagged("@kNEW,dfxm:fp-new,lqai", region="us")}


def test_rotation_and_tag_change_make_one_company_change_and_a_recording_authorization() -> None:
    live = company("m1", live_conn("Linked"), tags=tagged("@kNEW,dfxm:fp-old", region="uk"))
    p = plan([merchant("m1", conn(), tags={"region": "us"})], [live], NEW)
    update, auth = p.changes
    assert [c.action for c in p.changes] == [Action.UPDATE, Action.AUTHORIZE]
    assert update.body == {"tags": tagged("@kNEW,dfxm:fp-old", region="us")}
    assert auth.reason == CREDENTIALS_CHANGED
    assert auth.record == {"tags": tagged("@kNEW,dfxm:fp-new", region="us")}


def test_converged_companies_need_no_call_whatever_the_record_version() -> None:
    for record in ("@kNEW,dfxm:fp-new", "dfxm:fp-new", "@kNEW,dfxm:fp-new,gbol"):
        live = company(
            "m1", live_conn("Linked"), live_conn("Linked", key="gbol", id="g"), tags=tagged(record)
        )
        assert plan([merchant("m1", conn())], [live], NEW).changes == ()


def test_reasons_say_which_thing_changed() -> None:
    def reason(record: str, name: str = "m1", **kw: object) -> str:
        live = company(name, live_conn("Linked"), id="c", tags=tagged(record))
        p = plan([merchant("m1", conn(), **kw)], [live], NEW)
        return next(c.reason for c in p.changes if c.action is Action.AUTHORIZE)

    assert reason("@kNEW,dfxm:fp-old") == CREDENTIALS_CHANGED
    assert reason("@kOLD,dfxm:fp-old") == KEY_CHANGED
    assert reason("dfxm:fp-old") == EITHER_CHANGED  # written before key ids: cannot tell
    assert reason("@kNEW,dfxm") == NOT_RECORDED  # created by the tool, no authorization recorded
    assert reason("@kNEW,lqai:x") == NEVER_AUTHORIZED
    assert reason("dfxm:-") == NO_FINGERPRINT  # the tool authorized it without the key
    assert reason("@kOLD,dfxm:-,lqai:x") == NO_FINGERPRINT
    # Pinned to a company still named otherwise: its fingerprint was made for that name.
    assert reason("@kNEW,dfxm:fp-new", name="old-name", company_id="c") == RENAMED


def test_a_changed_key_keeps_only_ownership_of_what_it_cannot_fingerprint_again() -> None:
    live = company(
        "m1",
        live_conn("Linked"),
        live_conn("Linked", key="lqai", id="l"),
        tags=tagged("@kOLD,dfxm:fp-old,lqai:fp-lqai"),
    )
    creds = {**NEW, ("m1", "lqai"): Unverifiable("environment variable L is not set")}
    p = plan([merchant("m1", conn(), conn("lqai"))], [live], creds)
    (auth,) = p.changes
    assert auth.reason == KEY_CHANGED
    assert auth.record == {"tags": tagged("@kNEW,dfxm:fp-new,lqai")}


def test_reauthorizing_a_deauthorized_connection_updates_its_authorization() -> None:
    live = company("m1", live_conn("Deauthorized"), tags=tagged("@kNEW,dfxm:fp-new"))
    (auth,) = plan([merchant("m1", conn())], [live], NEW).changes
    assert auth.before == {
        "status": "Deauthorized",
        "authorization": {"apiToken": LAST_APPLIED, "storeId": LAST_APPLIED},
    }
    pending = company("m1", live_conn("PendingAuth"), tags=tagged("@kNEW,dfxm:fp-new"))
    (auth,) = plan([merchant("m1", conn())], [pending], NEW).changes
    assert auth.before == {"status": "PendingAuth"}  # it never held credentials


def test_prune_unlinks_what_the_record_lists_and_leaves_the_merchants_connections() -> None:
    live = company(
        "m1",
        live_conn("Linked", key="dfxm", id="d"),
        live_conn("Linked", key="gbol", id="g"),  # linked by the merchant in the sync flow
        live_conn("PendingAuth", key="lqai", id="l"),
        tags=tagged("dfxm:fp-old,lqai:fp-l"),  # a record from before ownership
    )
    p = plan([merchant("m1", conn("zzzz", auth=False))], [live], NEW, prune=True)
    unlinks = [c for c in p.changes if c.action is Action.UNLINK]
    assert [c.connection_id for c in unlinks] == ["d", "l"]
    assert [c.record for c in unlinks] == [None, {"tags": tagged("zzzz")}]  # one PATCH, last
    assert [
        (n.address, n.message, n.kind)
        for n in p.notes
        if n.kind is not NoteKind.WAITING_FOR_MERCHANT
    ] == [
        (
            'merchant["m1"].connection["gbol"]',
            "connection gbol was made by the merchant, not by this tool: left alone",
            NoteKind.MERCHANT_CONNECTION,
        )
    ]
    assert sum(c.action is Action.UPDATE for c in p.changes) == 1  # claims zzzz up front


def test_a_claim_on_a_connection_gone_and_undeclared_is_dropped() -> None:
    live = company("m1", live_conn("Unlinked", key="gbol"), tags=tagged("gbol"))
    (update,) = plan([merchant("m1")], [live]).changes
    assert update.body == {"tags": OWNED}


def test_undeclared_managed_companies_are_noted_without_prune() -> None:
    live = [company(f"gone{i}") for i in range(7)] + [company("foreign", tags={})]
    p = plan([merchant("kept")], [*live, company("kept")])
    (note,) = p.notes
    assert note.address == "" and note.kind is NoteKind.UNDECLARED_COMPANIES
    assert note.message == (
        "7 managed companies are not declared in any manifest; --prune would delete them: "
        '"gone0", "gone1", "gone2", "gone3", "gone4" and 2 more'
    )
    assert (
        plan([merchant("kept")], live[:1])
        .notes[0]
        .message.startswith(
            "1 managed company is not declared in any manifest; --prune would delete it"
        )
    )
    assert plan([merchant("kept")], live, prune=True).notes == ()
    assert plan([merchant("kept")], live, merchants=frozenset({"kept"})).notes == ()


def test_a_full_record_leaves_out_undeclared_connections_first_and_says_so() -> None:
    keys = ["aaaa", "bbbb", "cccc", "dddd", "eeee"]
    fps = {(f"m{0}", k): Fingerprint(f"fp-{k}-00000"[:12], "kNEW") for k in keys}
    gone = ",".join(f"{k}:{'x' * 12}" for k in ("vvvv", "wwww"))
    live = company(
        "m0",
        *(live_conn("PendingAuth", key=k, id=k) for k in keys),
        live_conn("Linked", key="vvvv", id="v"),
        live_conn("Linked", key="wwww", id="w"),
        tags=tagged(gone),
    )
    for prune, noted in ((False, ["wwww"]), (True, [])):
        p = plan([merchant("m0", *(conn(k) for k in keys))], [live], fps, prune=prune)
        text = p.changes[0].body["tags"][AUTH_TAG]
        assert len(text) <= 100 and all(f"{k}:fp-{k}" in text for k in keys)
        assert "wwww" not in text
        full = [n.address for n in p.notes if n.kind is NoteKind.RECORD_FULL]
        assert full == [f'merchant["m0"].connection["{k}"]' for k in noted]


def test_an_authorization_without_the_key_is_recorded_then_named_as_the_reason() -> None:
    keyless = {("m1", "dfxm"): Unverifiable("CODAT_RECONCILER_KEY is not set")}
    made = plan([merchant("m1", conn())], [], keyless)
    assert [c.action for c in made.changes] == [Action.CREATE, Action.CREATE, Action.AUTHORIZE]
    assert made.changes[0].body["tags"] == tagged("dfxm:-")  # no key id: no key was used
    # Once the key is set, the record says why the credentials are sent again.
    live = company("m1", live_conn("Linked"), tags=tagged("dfxm:-"))
    (auth,) = plan([merchant("m1", conn())], [live], NEW).changes
    assert auth.reason == NO_FINGERPRINT
    assert auth.before is not None
    assert auth.before["authorization"] == {"apiToken": LAST_APPLIED, "storeId": LAST_APPLIED}
    assert auth.record == {"tags": tagged("@kNEW,dfxm:fp-new")}
    # Still without the key, a Linked connection is left alone, its record kept.
    again = plan([merchant("m1", conn())], [live], keyless)
    assert again.changes == ()
    assert [n.kind for n in again.notes] == [NoteKind.CREDENTIALS_NOT_CHECKED]
