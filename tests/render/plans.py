"""Plans built by hand, shaped like the planner's (see reconciler/plan/model.py)."""

from __future__ import annotations

from reconciler.plan.model import (
    Action,
    Cause,
    Change,
    Conflict,
    ConflictKind,
    Kind,
    Note,
    NoteKind,
    Plan,
    Problem,
    ProblemKind,
)

# Appears only in request bodies: no renderer may ever show it.
BODY_SECRET = "s3cr3t-b0dy-value-never-rendered"


def company(name: str) -> str:
    return f'merchant["{name}"]'


def connection(name: str, platform: str) -> str:
    return f'{company(name)}.connection["{platform}"]'


def create_company(name: str, description: str = "Acme Coffee Ltd") -> Change:
    return Change(
        address=company(name),
        action=Action.CREATE,
        kind=Kind.COMPANY,
        reason="not found in Codat",
        merchant=name,
        after={
            "name": name,
            "description": description,
            "tags": {"region": "uk", "managed-by": "codat-reconciler"},
        },
        body={"name": name, "description": description, "token": BODY_SECRET},
    )


def update_company(name: str) -> Change:
    return Change(
        address=company(name),
        action=Action.UPDATE,
        kind=Kind.COMPANY,
        reason="description and tags differ",
        merchant=name,
        before={"description": "old", "tags": {"region": "eu", "tier": "gold", "legacy": "y"}},
        after={"description": "new", "tags": {"region": "uk", "tier": "gold", "team": "ops"}},
        company_id=f"co-{name}",
        body={"description": "new", "note": BODY_SECRET},
    )


def create_connection(name: str, platform: str = "dfxm") -> Change:
    return Change(
        address=connection(name, platform),
        action=Action.CREATE,
        kind=Kind.CONNECTION,
        reason=f"no active {platform} connection",
        merchant=name,
        after={"platformKey": platform, "status": "PendingAuth"},
        platform_key=platform,
        body={"platformKey": platform},
    )


def authorize(name: str, platform: str = "dfxm", *, linked: bool = False) -> Change:
    """A new connection's first authorization, or (`linked`) a rotation: then the
    authorization replaces the last one applied, and the fingerprint follows."""
    markers = {
        "apiToken": "(sensitive: env ACME_DFXM_TOKEN)",
        "signingKey": "(sensitive: file secrets/acme.key)",
        "storeId": "(sensitive: literal)",
    }
    before: dict[str, object] | None = None
    after: dict[str, object] = {"authorization": markers}
    if linked:
        before = {
            "status": "Linked",
            "authorization": dict.fromkeys(markers, "(sensitive: last applied)"),
            "companyTags": {"codat-reconciler-auth": f"@Ab3x,{platform}:AAAAAAAAAAAA"},
        }
        after["companyTags"] = {"codat-reconciler-auth": f"@Ab3x,{platform}:BBBBBBBBBBBB"}
    return Change(
        address=connection(name, platform),
        action=Action.AUTHORIZE,
        kind=Kind.CONNECTION,
        reason="declared credentials changed since last applied" if linked else "new connection",
        merchant=name,
        before=before,
        after=after,
        platform_key=platform,
        company_id=f"co-{name}" if linked else None,
        connection_id=f"cn-{name}" if linked else None,
        body={"apiToken": BODY_SECRET},
        record={"tags": {"x": BODY_SECRET}} if linked else None,
    )


def unlink(name: str, platform: str = "dfxm") -> Change:
    return Change(
        address=connection(name, platform),
        action=Action.UNLINK,
        kind=Kind.CONNECTION,
        reason="not declared (prune)",
        merchant=name,
        before={"platformKey": platform, "status": "Linked", "id": f"cn-{name}"},
        after={"status": "Unlinked"},
        platform_key=platform,
        company_id=f"co-{name}",
        connection_id=f"cn-{name}",
        body={"status": "Unlinked", "x": BODY_SECRET},
    )


def delete(name: str) -> Change:
    return Change(
        address=company(name),
        action=Action.DELETE,
        kind=Kind.COMPANY,
        reason="not declared in any manifest (prune)",
        merchant=name,
        before={"name": name, "id": f"co-{name}", "connections": 2},
        company_id=f"co-{name}",
        body={"x": BODY_SECRET},
        cause=Cause.PRUNE,
    )


def duplicate_names(name: str) -> Conflict:
    return Conflict(
        company(name),
        f'2 companies named "{name}" (ids: a, b): pin one with companyId; merchant left unchanged',
        name,
        ConflictKind.DUPLICATE_NAME,
    )


def waiting(name: str, platform: str = "dfxm") -> Note:
    return Note(
        connection(name, platform),
        f"waiting for the merchant to authorize {platform} through the sync flow",
        NoteKind.WAITING_FOR_MERCHANT,
    )


def undeclared(n: int = 3) -> Note:
    """A note about the plan as a whole: it has no address."""
    return Note(
        "",
        f"{n} managed companies are not declared in any manifest; --prune would delete them: "
        '"gone-1", "gone-2", "gone-3"',
        NoteKind.UNDECLARED_COMPANIES,
    )


def every_action() -> Plan:
    """One change of each kind the planner makes, plus a conflict and a note."""
    return Plan(
        changes=(
            create_company("12345678"),
            create_connection("12345678"),
            authorize("12345678"),
            update_company("22222222"),
            authorize("22222222", "gbol", linked=True),
            unlink("33333333"),
            delete("44444444"),
        ),
        conflicts=(duplicate_names("55555555"),),
        notes=(waiting("12345678"), undeclared()),
        problems=(unknown_platform("66666666"),),
    )


def unknown_platform(name: str, platform: str = "zzzz") -> Problem:
    return Problem(
        connection(name, platform),
        f"platform key {platform} is not an enabled integration of this Codat account",
        name,
        ProblemKind.UNKNOWN_PLATFORM,
        "manifests/merchants.yaml:12:9",
    )


def many(n: int, *, deletes: int = 0) -> Plan:
    """A large plan: `n` creates (a company and its connection, alternating) and then
    `deletes` deletes."""
    creates = [
        create_company(f"{i:08d}") if i % 2 == 0 else create_connection(f"{i - 1:08d}")
        for i in range(n)
    ]
    doomed = [delete(f"gone-{i:06d}") for i in range(deletes)]
    return Plan(changes=(*creates, *doomed))
