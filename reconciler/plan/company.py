"""A merchant's company: created with everything in one call, or updated once.

The one update carries the description, the user's tags, adoption (the
ownership tag) and the tool's record as it may be written before any
connection change (see reconciler/plan/merchant.py).
"""

from __future__ import annotations

from reconciler.live.model import AUTH_TAG, OWNERSHIP_TAG, LiveCompany
from reconciler.manifests.model import Merchant
from reconciler.plan.fields import describe_field_changes
from reconciler.plan.model import Action, Change, Kind


def user_tags(merchant: Merchant, company: LiveCompany) -> dict[str, str]:
    # Undeclared tags are left as they are; declared ones replace the user's set.
    return merchant.tags if merchant.tags is not None else company.user_tags


def tool_tags(record_text: str | None) -> dict[str, str]:
    tags = {OWNERSHIP_TAG[0]: OWNERSHIP_TAG[1]}
    if record_text:
        tags[AUTH_TAG] = record_text
    return tags


def plan_company(
    merchant: Merchant, company: LiveCompany | None, record_text: str | None
) -> Change | None:
    if company is None:
        body: dict[str, object] = {"name": merchant.name}
        if merchant.description is not None:
            body["description"] = merchant.description
        body["tags"] = {**(merchant.tags or {}), **tool_tags(record_text)}
        return Change(
            address=merchant.address,
            action=Action.CREATE,
            kind=Kind.COMPANY,
            reason=f'no company named "{merchant.name}" in Codat',
            merchant=merchant.name,
            after=dict(body),
            body=body,
        )

    tags = {**user_tags(merchant, company), **tool_tags(record_text)}
    want: dict[str, object] = {"tags": tags}
    have: dict[str, object] = {"tags": company.tags}
    if merchant.description is not None:
        want["description"] = merchant.description
        have["description"] = company.description or ""  # Codat may answer null or ""
    # A pinned or adopted look-alike company takes the declared name, so the name
    # matches from then on.
    if company.name != merchant.name:
        want["name"] = merchant.name
        have["name"] = company.name
    if want == have:
        return None
    changed = sorted(k for k in want if want[k] != have[k])
    reasons = describe_field_changes({k: have[k] for k in changed}, {k: want[k] for k in changed})
    if not company.managed:
        reasons.insert(0, "adopt: existing company taken under management (ownership tag)")
    if not merchant.company_id and company.name != merchant.name:
        reasons.insert(0, f'onLookalike: adopt "{company.name}", which reads the same')
    return Change(
        address=merchant.address,
        action=Action.UPDATE,
        kind=Kind.COMPANY,
        reason="; ".join(reasons),
        merchant=merchant.name,
        before={k: have[k] for k in changed},
        after={k: want[k] for k in changed},
        company_id=company.id,
        body={k: want[k] for k in changed},
    )
