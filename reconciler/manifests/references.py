"""Secret references in authorization values: parsing, containment, optional check.

A manifest never holds a secret's value, only where it lives. Values are read
only when needed (apply, or `validate --check-secrets`), and no message here
ever includes one.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any

from reconciler.manifests.model import AuthValue, LiteralValue, SecretRef, SecretUnavailable


@cache
def repository_root(directory: Path, fallback: Path) -> Path:
    """The nearest ancestor of `directory` holding `.git`, else `fallback`.

    `{file: ...}` references must stay below it. Without a Git checkout the
    fallback is what the user pointed at (the directory given, or the given
    file's directory), so a manifest cannot reach outside what was handed over.
    """
    for candidate in (directory, *directory.parents):
        try:
            if (candidate / ".git").exists():
                return candidate
        except OSError:
            # A folder we may not search (permissions) cannot show a .git: the
            # fallback is the narrower boundary, so containment stays safe.
            break
    return fallback


def auth_value(
    raw: Any, manifest_dir: Path, root: Path, resolved: dict[str, Path | None] | None = None
) -> AuthValue | str:
    """The model value for one schema-valid authorization entry, or why it is refused.

    `resolved` memoises containment per written path within one file's load (thousands
    of merchants often share one key file, and resolving walks the disk); never across
    loads, so a long-running process sees a link that changed."""
    if isinstance(raw, str):
        return LiteralValue(raw)
    if "env" in raw:
        return SecretRef("env", raw["env"])
    written = str(raw["file"])
    if Path(written).is_absolute():
        return f"secret file '{written}' must be a path relative to the manifest"
    if resolved is None or written not in resolved:
        target = _contained(manifest_dir, written, root)
        if resolved is not None:
            resolved[written] = target
    else:
        target = resolved[written]
    if target is None:
        return f"secret file '{written}' is outside the repository ({root})"
    return SecretRef("file", written, path=target)


def _contained(manifest_dir: Path, written: str, root: Path) -> Path | None:
    """The resolved secret file, or None when it leaves `root`."""
    # resolve() follows symlinks, so a link pointing outside is caught too.
    target = (manifest_dir / written).resolve()
    return target if target.is_relative_to(root.resolve()) else None


def check(value: AuthValue) -> str | None:
    """Why the value cannot be resolved now, or None. Never includes the value."""
    if isinstance(value, LiteralValue):
        return None
    if value.kind == "env":
        if value.name not in os.environ:
            return f"environment variable {value.name} is not set"
        if not os.environ[value.name]:
            return f"environment variable {value.name} is empty"
        return None
    assert value.path is not None
    if not value.path.exists():
        return f"secret file {value.name} does not exist"
    if not value.path.is_file():
        return f"secret file {value.name} is not a regular file"
    try:
        resolved = value.resolve()
    except SecretUnavailable as exc:
        return str(exc)
    return None if resolved else f"secret file {value.name} is empty"
