"""The plan for scripts: versioned JSON, documented field by field in docs/reference/plan-json.md.

(Not `json.py`: beside the stdlib module of that name it would only confuse readers.)
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from reconciler.plan.model import Change, Plan
from reconciler.render.wording import counts

# Bump only for incompatible changes (a field removed, renamed or retyped); new fields
# keep version 1, so consumers must ignore fields they do not know.
FORMAT_VERSION = 1


def plan_document(plan: Plan, manifest_files: Sequence[tuple[str, str]] = ()) -> dict[str, Any]:
    """The JSON document as Python data. `Change.body` is left out on purpose: the plan
    shows intent, and a body is the executor's business. `manifest_files` are the
    (path, sha256) of the manifests the plan was made from."""
    summary: dict[str, Any] = {action.value: n for action, n in counts(plan).items()}
    summary["has_changes"] = plan.has_changes
    return {
        "format_version": FORMAT_VERSION,
        "changes": [_change(c) for c in plan.changes],
        "conflicts": [
            {
                "address": c.address,
                "message": c.message,
                "merchant": c.merchant,
                "kind": c.kind.value,
            }
            for c in plan.conflicts
        ],
        "problems": [
            {
                "address": p.address,
                "message": p.message,
                "merchant": p.merchant,
                "kind": p.kind.value,
                "location": p.location,
            }
            for p in plan.problems
        ],
        "notes": [
            {"address": n.address, "message": n.message, "kind": n.kind and n.kind.value}
            for n in plan.notes
        ],
        "summary": summary,
        "manifest_files": manifest_file_list(manifest_files),
    }


def manifest_file_list(files: Sequence[tuple[str, str]]) -> list[dict[str, str]]:
    """Every manifest file read, so a file left out cannot go unnoticed (also `validate`'s)."""
    return [{"path": path, "sha256": digest} for path, digest in files]


def render_json(plan: Plan, manifest_files: Sequence[tuple[str, str]] = ()) -> str:
    """Indented, keys in documented order, changes in plan order; ends with a newline,
    like every rendered plan, so it can be printed or saved as is."""
    document = plan_document(plan, manifest_files)
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _change(change: Change) -> dict[str, Any]:
    return {
        "address": change.address,
        "action": change.action.value,
        "kind": change.kind.value,
        "reason": change.reason,
        "cause": change.cause and change.cause.value,
        "merchant": change.merchant,
        "platform_key": change.platform_key,
        "company_id": change.company_id,
        "connection_id": change.connection_id,
        "before": change.before,
        "after": change.after,
    }
