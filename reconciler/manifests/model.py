"""What the manifests declare: the desired state, as plain immutable values.

The loader builds these; the planner reads them. Secret values are never held
here, only references to where they live (resolved by `SecretRef.resolve` at
the moment a value is needed).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from reconciler.manifests.client import ClientSettings


@dataclass(frozen=True, slots=True)
class Location:
    """Where a node sits in a manifest file (1-based line and column)."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


class SecretUnavailable(Exception):
    """A secret reference could not be resolved (variable unset, file unreadable).

    The message names the reference, never a value.
    """


@dataclass(frozen=True, slots=True)
class SecretRef:
    """An authorization value that lives outside the manifest.

    kind "env": `name` is an environment variable.
    kind "file": `name` is the path as written; `path` is it resolved against the
    manifest's directory (the loader has already refused paths escaping the repo).
    """

    kind: Literal["env", "file"]
    name: str
    path: Path | None = None

    def describe(self) -> str:
        """The marker shown in plans instead of the value."""
        return f"(sensitive: {self.kind} {self.name})"

    def resolve(self) -> str:
        if self.kind == "env":
            value = os.environ.get(self.name)
            if value is None:
                raise SecretUnavailable(f"environment variable {self.name} is not set")
            return value
        assert self.path is not None
        try:
            return self.path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise SecretUnavailable(
                f"cannot read secret file {self.name}: {exc.__class__.__name__}"
            ) from None


@dataclass(frozen=True, slots=True)
class LiteralValue:
    """A literal authorization value written in the manifest.

    Still treated as sensitive: never printed, logged or written to a plan file,
    and kept out of repr() so a debug print or a test failure cannot show it.
    """

    value: str = field(repr=False)

    def describe(self) -> str:
        return "(sensitive: literal)"

    def resolve(self) -> str:
        return self.value


AuthValue = SecretRef | LiteralValue


@dataclass(frozen=True, slots=True)
class DesiredConnection:
    platform_key: str
    # None: no authorization declared; the merchant authorizes through the sync flow.
    authorization: dict[str, AuthValue] | None
    location: Location

    def resolve_authorization(self) -> dict[str, str]:
        """The PUT .../authorization body. Raises SecretUnavailable."""
        assert self.authorization is not None
        return {k: v.resolve() for k, v in sorted(self.authorization.items())}


@dataclass(frozen=True, slots=True)
class SyncFlow:
    commerce_key: str | None = None
    accounting_key: str | None = None
    redirect_url: str | None = None


@dataclass(frozen=True, slots=True)
class Merchant:
    """One declared merchant = one Codat company.

    `description` and `tags` are None when not declared: the tool leaves them
    alone on the live company. `tags` holds only the user's tags, never the
    tool's own (ownership, credential fingerprints).
    """

    name: str
    location: Location
    description: str | None = None
    tags: dict[str, str] | None = None
    company_id: str | None = None
    # What to do about a live company whose name only reads the same (whitespace, case)
    # when none has the exact name: None leaves the merchant a conflict.
    on_lookalike: Literal["adopt", "create"] | None = None
    sync_flow: SyncFlow = field(default_factory=SyncFlow)
    connections: tuple[DesiredConnection, ...] = ()

    @property
    def address(self) -> str:
        return merchant_address(self.name)


@dataclass(frozen=True, slots=True)
class DesiredState:
    merchants: tuple[Merchant, ...]
    # The manifest files read, with the sha256 of their bytes: a saved plan
    # records them so `apply --plan` can tell the manifests changed since.
    files: tuple[tuple[str, str], ...] = ()
    # The one `client:` section, if a manifest has it (reconciler/manifests/client.py).
    client: ClientSettings | None = None


def merchant_address(name: str) -> str:
    return f'merchant["{name}"]'


def connection_address(merchant_name: str, platform_key: str) -> str:
    return f'{merchant_address(merchant_name)}.connection["{platform_key}"]'
