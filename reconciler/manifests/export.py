"""Live state written back as manifests, so an existing merchant base moves to Git.

Pure: takes a LiveState, returns file names and YAML text. Codat never returns
credentials, so a Linked connection's authorization is written as `{env: ...}`
placeholders with generated names (`env_name`), which stay unresolved (and so
unchecked, never sent) until someone sets them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import yaml

from reconciler.live.model import STATUS_PREFERENCE, LiveCompany, LiveState
from reconciler.manifests import schema as manifest_schema

MERCHANTS_PER_FILE = 1000  # keeps each file far below the loader's 5 MiB cap
HEADER = """\
# Written by `codat-reconciler export` from live Codat state.
# Authorization values are never exported (Codat does not return them): each
# Linked connection names environment variables to hold them; set those (or
# replace them with {file: ...}) before the tool can check or rotate credentials.
"""


def env_name(merchant: str, platform_key: str, field: str) -> str:
    """AUTH_<MERCHANT>_<PLATFORMKEY>_<FIELD>, upper case, other characters as `_`.

    Not CODAT_*: those are the tool's own variables, never an authorization value."""
    raw = f"AUTH_{merchant}_{platform_key}_{field}".upper()
    return re.sub(r"[^A-Z0-9]+", "_", raw).strip("_")


@dataclass(frozen=True, slots=True)
class Export:
    files: list[tuple[str, str]]  # (file name, YAML text)
    warnings: list[str]
    merchants: int  # how many companies the files declare


def export_documents(
    live: LiveState,
    *,
    schema: str,
    merchants: Sequence[str] = (),
    auth_fields: Sequence[str] = ("apiToken",),
) -> Export:
    """The manifest files for the chosen companies (all when none named).

    `schema` is the manifest schema's reference for editors, as seen from the files.
    """
    counts = Counter(c.name for c in live.companies)
    wanted = set(merchants)
    warnings = [
        f'{n} companies are named "{name}": not exported; pin each with companyId by hand'
        for name, n in sorted(counts.items())
        if n > 1 and (not wanted or name in wanted)
    ]
    chosen = sorted(
        (c for c in live.companies if counts[c.name] == 1 and (not wanted or c.name in wanted)),
        key=lambda c: c.name,
    )
    files = []
    for start in range(0, len(chosen), MERCHANTS_PER_FILE):
        batch = chosen[start : start + MERCHANTS_PER_FILE]
        doc = {"version": 1, "merchants": [_merchant(c, auth_fields) for c in batch]}
        number = start // MERCHANTS_PER_FILE + 1
        warnings.extend(_refused(doc, batch, f"merchants-{number:04d}.yaml"))
        text = f"# yaml-language-server: $schema={schema}\n{HEADER}" + yaml.safe_dump(
            doc, sort_keys=False, allow_unicode=True, width=100
        )
        files.append((f"merchants-{number:04d}.yaml", text))
    return Export(files, warnings, len(chosen))


def _refused(doc: dict[str, object], batch: Sequence[LiveCompany], file: str) -> list[str]:
    """What `validate` will refuse in a file about to be written: Codat accepts names and
    tags the manifests do not (a trailing space, a look-alike character). Written all the
    same, so nothing is silently left out; said, so it is fixed by hand first."""
    out = []
    for problem in manifest_schema.problems(doc):
        where = problem.path
        if len(where) >= 2 and where[0] == "merchants" and isinstance(where[1], int):
            company = batch[where[1]]
            out.append(
                f"{file}: company {company.id}: {problem.message}; `validate` refuses "
                "it until you edit the file (or rename the company in Codat)"
            )
    return out


def _merchant(company: LiveCompany, auth_fields: Sequence[str]) -> dict[str, object]:
    out: dict[str, object] = {"name": company.name}
    if company.description:
        out["description"] = company.description
    out["tags"] = company.user_tags
    connections = []
    best: dict[str, str] = {}
    for conn in company.connections:
        rank = STATUS_PREFERENCE.get(conn.status.lower())
        if rank is None:
            continue  # Unlinked counts as gone
        current = best.get(conn.platform_key)
        if current is None or rank < STATUS_PREFERENCE[current.lower()]:
            best[conn.platform_key] = conn.status
    for key, status in sorted(best.items()):
        entry: dict[str, object] = {"platformKey": key}
        # Only Linked connections were authorized by someone; others wait for
        # the merchant, and declaring placeholders there would plan an authorize.
        if status.lower() == "linked" and auth_fields:
            entry["authorization"] = {
                f: {"env": env_name(company.name, key, f)} for f in auth_fields
            }
        connections.append(entry)
    if connections:
        out["connections"] = connections
    return out
