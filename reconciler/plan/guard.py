"""The guard against mass deletion, checked before anything is carried out."""

from __future__ import annotations

from reconciler.errors import ReconcilerError
from reconciler.plan.model import Action, Kind, Plan

DEFAULT_MAX_DELETES = 10


class DeleteGuardError(ReconcilerError):
    pass


def check_deletes(plan: Plan, *, max_deletes: int | None, declared_merchants: int) -> None:
    """Refuse a plan deleting more companies than allowed.

    `max_deletes` is None when the user did not pass `--max-deletes`: an empty
    manifest set then is refused outright, since the likeliest cause is a wrong
    path or a botched merge, not a wish to delete the whole merchant base.
    """
    deletes = plan.delete_count
    consumers = sum(1 for c in plan.changes if c.kind is Kind.WEBHOOK and c.action is Action.DELETE)
    if declared_merchants == 0 and deletes - consumers and max_deletes is None:
        raise DeleteGuardError(
            f"refusing to prune: the manifests declare no merchants, so this plan would delete "
            f"{'the one managed company' if deletes == 1 else f'all {deletes} managed companies'}"
            ". If that is really what you want, pass "
            f"--max-deletes {deletes} explicitly; otherwise check the manifest path."
        )
    limit = DEFAULT_MAX_DELETES if max_deletes is None else max_deletes
    if deletes > limit:
        raise DeleteGuardError(
            f"refusing to delete: this plan deletes {deletes} "
            f"{_deleted(deletes, consumers)}, more than "
            f"--max-deletes {limit}. Deleting a company is irreversible (its connections and "
            f"data go too); nothing was changed. Review the plan, then re-run with "
            f"--max-deletes {deletes} if every deletion is intended."
        )


def _deleted(deletes: int, consumers: int) -> str:
    """What the deletions are: companies, and (counted with them) webhook consumers."""
    companies = deletes - consumers
    if not consumers:
        return "company" if deletes == 1 else "companies"
    if not companies:
        return "webhook consumer" if deletes == 1 else "webhook consumers"
    return (
        f"({companies} {'company' if companies == 1 else 'companies'} and {consumers} "
        f"webhook {'consumer' if consumers == 1 else 'consumers'})"
    )
