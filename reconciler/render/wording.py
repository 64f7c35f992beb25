"""Words every format shares, so text, JSON and markdown never disagree on a count
or on how an action is named."""

from __future__ import annotations

import re
from collections.abc import Callable

from reconciler.plan.model import Action, Change, Plan

# The order of the summary line, as in Terraform's "to add, to change, to destroy":
# the harmless actions first, the removals last where the eye lands.
ACTION_ORDER: tuple[Action, ...] = (
    Action.CREATE,
    Action.UPDATE,
    Action.AUTHORIZE,
    Action.UNLINK,
    Action.DELETE,
)

NO_CHANGES = "No changes. Codat matches the manifests."
# Not "No changes": a plan that showed creates, then held back by errors, would read as
# if Codat matched the manifests.
HELD_BACK = "Nothing can be changed until the errors above are resolved."

# Control characters can move a terminal's cursor or recolour it, and bidi overrides can
# make a name read as another; names and messages come partly from live Codat data, so
# they are shown escaped rather than trusted.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    return _UNPRINTABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def counts(plan: Plan) -> dict[Action, int]:
    """Each action's count, in ACTION_ORDER; `replace` (webhook consumers) only in a plan
    that has one, after `update`."""
    tally = dict.fromkeys(ACTION_ORDER, 0)
    for change in plan.changes:
        tally[change.action] = tally.get(change.action, 0) + 1
    if Action.REPLACE in tally:
        order = (*ACTION_ORDER[:2], Action.REPLACE, *ACTION_ORDER[2:])
        tally = {action: tally[action] for action in order}
    return tally


def plural(n: int, one: str, many: str, number: Callable[[int], str] = str) -> str:
    return f"{number(n)} {one if n == 1 else many}"


def summary_line(plan: Plan, number: Callable[[int], str] = str) -> str:
    """`Plan: 3 to create, ... 0 to delete.`, or the no-changes sentence."""
    if not plan.has_changes:
        return HELD_BACK if plan.blocked else NO_CHANGES
    tally = counts(plan)
    return "Plan: " + ", ".join(f"{number(n)} to {a.value}" for a, n in tally.items()) + "."


def conflicts_line(plan: Plan, number: Callable[[int], str] = str) -> str:
    """Why a plan with conflicts or problems is not the whole story; empty when there are
    none."""
    n = len(plan.blocked)
    if not n:
        return ""
    return (
        plural(n, "merchant", "merchants", number)
        + f" left unchanged by {_why(plan, n)}; "
        + f"resolve {'it' if n == 1 else 'them'} and plan again."
    )


def _why(plan: Plan, n: int = 2) -> str:
    conflicts = ("a conflict" if n == 1 else "conflicts") if plan.conflicts else ""
    problems = ("a problem" if n == 1 else "problems") if plan.problems else ""
    if conflicts and problems:
        return "conflicts and problems" if n > 1 else "a conflict and a problem"
    return conflicts or problems


def action_phrase(change: Change) -> str:
    """`create company`, `unlink connection`: the verb and what it acts on."""
    return f"{change.action.value} {change.kind.value.replace('_', ' ')}"


def removals(plan: Plan, action: Action) -> list[Change]:
    return [c for c in plan.changes if c.action is action]
