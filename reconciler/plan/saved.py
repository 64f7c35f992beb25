"""Saved plans: `plan --out FILE` writes one, `apply --plan FILE` and `show FILE` read it.

A saved plan holds what it will do (every change with its request body, which
never contains a secret: authorization values are resolved from the manifests
at apply time), the inputs it was made from (manifest paths, the folder they
are relative to and their sha256, prune and target options, the Codat it was
planned against), a digest of the live state it was planned against,
and a checksum over all of that so a hand-edited file is refused.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from reconciler.errors import ReconcilerError
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

# 2: conflicts carry their merchant and kind, changes their cause; problems added.
FORMAT_VERSION = 2
KIND = "codat-reconciler/saved-plan"


class SavedPlanError(ReconcilerError):
    pass


@dataclass(frozen=True, slots=True)
class SavedPlan:
    plan: Plan
    paths: tuple[str, ...]
    manifests: tuple[tuple[str, str], ...]  # (path, sha256) of every manifest file read
    live_digest: str
    prune: bool
    # Only these merchants were planned; None: every merchant.
    merchants: tuple[str, ...] | None
    # Where it was made: the folder its manifest paths are relative to, and the Codat
    # it was planned against (a base URL, or "sandbox PATH"). None in older plans.
    base: str | None = None
    target: str | None = None


def _checksum(body: dict[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def dumps(saved: SavedPlan) -> str:
    body: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "kind": KIND,
        "paths": list(saved.paths),
        "manifests": [list(m) for m in saved.manifests],
        "live_digest": saved.live_digest,
        "prune": saved.prune,
        # "targets" is the field's name in format 2 as released; renaming it would need 3.
        "targets": list(saved.merchants) if saved.merchants is not None else None,
        "base": saved.base,
        "target": saved.target,
        "changes": [asdict(c) for c in saved.plan.changes],
        "conflicts": [asdict(c) for c in saved.plan.conflicts],
        "notes": [asdict(n) for n in saved.plan.notes],
        "problems": [asdict(p) for p in saved.plan.problems],
    }
    body["checksum"] = _checksum(body)
    return json.dumps(body, indent=2, ensure_ascii=False) + "\n"


def write(saved: SavedPlan, path: str | Path) -> None:
    """Write atomically: a reader never sees half a plan, and a failure leaves no file."""
    target = Path(path)
    temporary = target.with_name(f".{target.name}.tmp")
    try:
        temporary.write_text(dumps(saved), encoding="utf-8")
        os.replace(temporary, target)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise SavedPlanError(f"{path}: cannot write the plan: {exc.strerror}") from None


def read(path: str | Path) -> SavedPlan:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SavedPlanError(f"{path}: cannot read saved plan: {exc}") from None
    return loads(text, source=str(path))


def loads(text: str, *, source: str = "<plan>") -> SavedPlan:
    try:
        body = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SavedPlanError(
            f"{source}:{exc.lineno}:{exc.colno}: not a saved plan (invalid JSON: {exc.msg})"
        ) from None
    if not isinstance(body, dict) or body.get("kind") != KIND:
        raise SavedPlanError(f"{source}: not a codat-reconciler saved plan")
    if body.get("format_version") != FORMAT_VERSION:
        raise SavedPlanError(
            f"{source}: saved plan format_version {body.get('format_version')!r} is not "
            f"supported (this version reads {FORMAT_VERSION}); make the plan again"
        )
    claimed = body.pop("checksum", None)
    if claimed != _checksum(body):
        raise SavedPlanError(
            f"{source}: the saved plan was modified after it was made (checksum mismatch); "
            "refusing to apply it. Make a new plan with `plan --out`."
        )
    try:
        plan = Plan(
            changes=tuple(_change(c) for c in body["changes"]),
            conflicts=tuple(_conflict(c) for c in body["conflicts"]),
            notes=tuple(_note(n) for n in body["notes"]),
            problems=tuple(_problem(p) for p in body["problems"]),
        )
        merchants = body["targets"]
        return SavedPlan(
            plan=plan,
            paths=tuple(body["paths"]),
            manifests=tuple((str(p), str(h)) for p, h in body["manifests"]),
            live_digest=str(body["live_digest"]),
            prune=bool(body["prune"]),
            merchants=tuple(merchants) if merchants is not None else None,
            base=_optional(body.get("base")),
            target=_optional(body.get("target")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise SavedPlanError(f"{source}: malformed saved plan ({exc})") from None


def _change(raw: dict[str, Any]) -> Change:
    fields = dict(raw)
    fields["action"] = Action(fields["action"])
    fields["kind"] = Kind(fields["kind"])
    fields["cause"] = Cause(fields["cause"]) if fields.get("cause") else None
    return Change(**fields)


def _conflict(raw: dict[str, Any]) -> Conflict:
    return Conflict(
        str(raw["address"]), str(raw["message"]), str(raw["merchant"]), ConflictKind(raw["kind"])
    )


def _problem(raw: dict[str, Any]) -> Problem:
    return Problem(
        str(raw["address"]),
        str(raw["message"]),
        str(raw["merchant"]),
        ProblemKind(raw["kind"]),
        str(raw["location"]),
    )


def _note(raw: dict[str, Any]) -> Note:
    kind = raw.get("kind")
    return Note(str(raw["address"]), str(raw["message"]), NoteKind(kind) if kind else None)


def _optional(value: object) -> str | None:
    return None if value is None else str(value)
