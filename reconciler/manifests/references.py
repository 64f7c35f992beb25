"""Secret references in authorization values: parsing, their boundary, optional check.

A manifest never holds a secret's value, only where it lives. Values are read
only when needed (apply, or `validate --check-secrets`), and no message here
ever includes one.

Whoever can merge a manifest chooses where its values come from, so references
have a boundary, checked when manifests are loaded (before any call to Codat):
`{env: NAME}` never names a variable of the tool itself or a CI job credential
(reconciler/environment.py), nor, when the team gives an allowlist
(`--secret-env` / CODAT_SECRET_ENV), one outside it; `{file: PATH}` stays inside
the manifests' repository after symlinks, and out of Git's own folder.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase, translate
from functools import cache
from pathlib import Path
from typing import Any

from reconciler import environment
from reconciler.manifests.model import AuthValue, LiteralValue, SecretRef, SecretUnavailable

# Letters, digits and _ as in a variable name, plus the shell-style wildcards.
_PATTERN = re.compile(r"[A-Za-z0-9_*?\[\]!]+")


@dataclass(frozen=True, slots=True)
class EnvAllowlist:
    """The environment variable names `{env: NAME}` may use: shell-style patterns,
    matched with letter case (as Linux and macOS name variables)."""

    patterns: tuple[str, ...]
    # How the user gave it ("--secret-env" or "CODAT_SECRET_ENV"), named in refusals.
    given_as: str

    @classmethod
    def parse(cls, texts: Iterable[str], given_as: str) -> EnvAllowlist:
        """Patterns separated by commas or whitespace; ValueError says what is wrong."""
        patterns = tuple(p for text in texts for p in re.split(r"[,\s]+", text) if p)
        if not patterns:
            raise ValueError("no pattern given (e.g. 'ACME_*')")
        for pattern in patterns:
            if not _PATTERN.fullmatch(pattern):
                raise ValueError(
                    f"'{pattern}' is not a variable name pattern: letters, digits, _ "
                    "and the wildcards * ? [ ]"
                )
        return cls(patterns, given_as)

    def allows(self, name: str) -> bool:
        return _union(self.patterns).match(name) is not None


@cache
def repository_root(directory: Path) -> Path:
    """The nearest ancestor of `directory` holding `.git` (a folder, or the file
    of a worktree or submodule), else `directory` itself.

    `{file: ...}` references must stay below it. Without a Git checkout the
    manifest's own folder is the boundary, whichever way the manifest was named
    on the command line.
    """
    for candidate in (directory, *directory.parents):
        try:
            if (candidate / ".git").exists():
                return candidate
        except OSError:
            # A folder we may not search (permissions) cannot show a .git: the
            # manifest's folder is the narrower boundary, so containment stays safe.
            break
    return directory


def auth_value(
    raw: Any,
    manifest_dir: Path,
    root: Path,
    known: dict[tuple[str, str], AuthValue | str] | None = None,
    allowlist: EnvAllowlist | None = None,
) -> AuthValue | str:
    """The model value for one schema-valid authorization entry, or why it is refused.

    `known` memoises references within one file's load: thousands of merchants often
    share one variable or key file, resolving a file walks the disk, and the values are
    immutable, so one is shared. Never across loads, so a long-running process sees a
    link that changed."""
    if isinstance(raw, str):
        return LiteralValue(raw)
    kind, written = ("env", raw["env"]) if "env" in raw else ("file", raw["file"])
    reference = (kind, str(written))
    if known is not None and reference in known:
        return known[reference]
    value = (
        _env_value(reference[1], allowlist)
        if kind == "env"
        else _file_value(reference[1], manifest_dir, root)
    )
    if known is not None:
        known[reference] = value
    return value


def _env_value(name: str, allowlist: EnvAllowlist | None) -> AuthValue | str:
    refusal = env_refusal(name, allowlist)
    return SecretRef("env", name) if refusal is None else refusal


def _file_value(written: str, manifest_dir: Path, root: Path) -> AuthValue | str:
    if Path(written).is_absolute():
        return f"secret file '{written}' must be a path relative to the manifest"
    target = _contained(manifest_dir, written, root)
    if isinstance(target, str):
        return target
    return SecretRef("file", written, path=target)


def env_refusal(name: str, allowlist: EnvAllowlist | None = None) -> str | None:
    """Why `{env: name}` may not be an authorization value, or None."""
    if _RESERVED.match(name):
        return _reserved(name)
    if allowlist is not None and not allowlist.allows(name):
        return (
            f"environment variable {name} is not allowed by {allowlist.given_as} "
            f"({', '.join(allowlist.patterns)}): an authorization value comes only from "
            "a variable matching one of these"
        )
    return None


@cache
def _union(patterns: tuple[str, ...], flags: int = 0) -> re.Pattern[str]:
    """One expression for all the patterns: a manifest has thousands of references."""
    return re.compile("|".join(translate(p) for p in patterns), flags)


# Without letter case: on Windows `codat_api_key` reads CODAT_API_KEY.
_OWN = _union(environment.OWN, re.IGNORECASE)
_RESERVED = _union((*environment.OWN, *environment.CI_CREDENTIALS), re.IGNORECASE)


def _reserved(name: str) -> str:
    if _OWN.match(name):
        return (
            f"environment variable {name} is one codat-reconciler reads for itself "
            f"({_which(name, environment.OWN)}): an authorization value never comes from it; "
            "give the merchant's credential a variable of its own"
        )
    return (
        f"environment variable {name} holds the CI job's own credential "
        f"({_which(name, environment.CI_CREDENTIALS)}): an authorization value never "
        "comes from it"
    )


def _which(name: str, patterns: tuple[str, ...]) -> str:
    """The first pattern matching `name` regardless of case (for the message)."""
    return next(p for p in patterns if fnmatchcase(name.upper(), p.upper()))


def _contained(manifest_dir: Path, written: str, root: Path) -> Path | str:
    """The resolved secret file, or why it is refused."""
    # resolve() follows symlinks, so a link pointing outside is caught too.
    target = (manifest_dir / written).resolve()
    boundary = root.resolve()
    if not target.is_relative_to(boundary):
        where = (
            f"the repository ({root})"
            if (root / ".git").exists()
            else f"this manifest's folder ({root}; there is no .git above it)"
        )
        return f"secret file '{written}' is outside {where}"
    # Git's folder holds the remote's credentials (actions/checkout keeps the job's
    # token in .git/config); a worktree's or submodule's gitdir is in one too.
    # Compared without letter case: on macOS and Windows `.GIT` opens `.git`.
    if any(part.lower() == ".git" for part in target.parts):
        return (
            f"secret file '{written}' is inside Git's own folder (.git): an authorization "
            "value never comes from it"
        )
    return target


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
