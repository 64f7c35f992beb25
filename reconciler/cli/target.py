"""Which Codat a command talks to, and the client that talks to it.

A flag beats an environment variable, so an exported CODAT_SANDBOX never
silently redirects an explicit `--base-url` (or the reverse). Two targets given
the same way, both as flags or both in the environment, are an error naming both:
guessing would be the silent redirect again.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import httpx
from click.core import ParameterSource

from reconciler.cli.progress import Reporter
from reconciler.codat.client import CodatClient
from reconciler.codat.config import load_api_key, looks_base64_encoded, resolve_base_url
from reconciler.codat.errors import CodatAPIError
from reconciler.errors import ReconcilerError

# The embedded sandbox is reached through an in-process transport; this URL is
# never dialled, it only gives requests a well-formed address.
SANDBOX_URL = "http://127.0.0.1"

_FLAGS = {"base_url": "--base-url", "sandbox": "--sandbox"}
_ENVS = {"base_url": "CODAT_BASE_URL", "sandbox": "CODAT_SANDBOX"}


@dataclass(frozen=True, slots=True)
class Target:
    """A Codat: a base URL, or the embedded sandbox's state file; and who chose it."""

    location: str
    sandbox: bool
    chosen_by: str  # "--base-url", "CODAT_BASE_URL", "--sandbox", "CODAT_SANDBOX" or "default"

    def describe(self) -> str:
        return f"embedded sandbox {self.location}" if self.sandbox else self.location


@dataclass(frozen=True, slots=True)
class Connection:
    target: Target
    api_key_file: str | None
    timeout: float = 30.0

    @property
    def is_sandbox(self) -> bool:
        """Only the embedded sandbox: a loopback URL may be a proxy in front of real Codat."""
        return self.target.sandbox


def connection_from(kwargs: dict[str, Any]) -> Connection:
    """Pop the connection options out of a command's keyword arguments and pick the target."""
    values = {name: kwargs.pop(name) or None for name in _FLAGS}
    ctx = click.get_current_context()
    sources = {name: ctx.get_parameter_source(name) for name in _FLAGS}
    given = [name for name, value in values.items() if value is not None]
    if len(given) == 2:
        flags = [n for n in given if sources[n] is ParameterSource.COMMANDLINE]
        if len(flags) == 2:
            raise click.UsageError(
                "--sandbox and --base-url name two different Codats: give one of them"
            )
        if not flags:
            raise ReconcilerError(
                "CODAT_SANDBOX and CODAT_BASE_URL are both set and name two different "
                "Codats: unset one, or choose with --sandbox PATH or --base-url URL"
            )
        given = flags  # a flag beats an environment variable
    return Connection(
        _target(given[0] if given else None, values, sources),
        api_key_file=kwargs.pop("api_key_file"),
        timeout=kwargs.pop("timeout"),
    )


def _target(
    name: str | None, values: dict[str, str | None], sources: dict[str, ParameterSource | None]
) -> Target:
    if name is None:
        return Target(resolve_base_url(None), sandbox=False, chosen_by="default")
    value = values[name]
    assert value is not None
    by = _FLAGS[name] if sources[name] is ParameterSource.COMMANDLINE else _ENVS[name]
    if name == "sandbox":
        return Target(os.path.abspath(value), sandbox=True, chosen_by=by)
    try:
        return Target(resolve_base_url(value), sandbox=False, chosen_by=by)
    except ReconcilerError as err:
        raise ReconcilerError(f"{by}: {err}") from None


@contextmanager
def open_client(
    connection: Connection, reporter: Reporter, *, max_rate: int = 1000, parallelism: int = 10
) -> Iterator[CodatClient]:
    """The client for the chosen Codat, after saying on stderr which Codat that is."""
    target = connection.target
    reporter.note(
        "target",
        f"Codat: {target.describe()} (from {target.chosen_by})",
        codat=target.location,
        sandbox=target.sandbox,
        chosen_by=target.chosen_by,
    )
    options: dict[str, Any] = {
        "timeout": connection.timeout,
        "max_rate": max_rate,
        "observer": reporter.api_call,
        "pool_size": parallelism + 4,
    }
    if target.sandbox:
        with CodatClient(SANDBOX_URL, transport=_sandbox_transport(target), **options) as client:
            yield client
        return
    key = load_api_key(connection.api_key_file)
    try:
        with CodatClient(target.location, api_key=key, **options) as client:
            yield client
    except CodatAPIError as err:
        if err.status == 401 and looks_base64_encoded(key):
            raise ReconcilerError(
                f"{err}; the key looks base64-encoded already: give the key itself, "
                "the tool encodes it"
            ) from None
        raise


def _sandbox_transport(target: Target) -> httpx.BaseTransport:
    from reconciler.sandbox.transport import SandboxTransport

    try:
        return SandboxTransport(target.location)
    except (OSError, sqlite3.Error) as exc:
        raise ReconcilerError(
            state_file_problem(Path(target.location), exc, target.chosen_by)
        ) from None


def state_file_problem(path: Path, exc: Exception, option: str) -> str:
    """Why a sandbox state file would not open, in words that say what to change."""
    if not path.parent.is_dir():
        reason = (f"the folder {path.parent} does not exist; create it, or name a file in an "
                  "existing folder")
    elif path.is_dir():
        reason = "it is a folder; name an SQLite file (created if missing)"
    elif getattr(exc, "sqlite_errorname", "") == "SQLITE_NOTADB":
        reason = ("it is not an SQLite database; name a new file (created if missing) or one "
                  "a sandbox made")
    elif isinstance(exc, OSError):
        reason = exc.strerror or type(exc).__name__
    else:
        reason = str(exc)
    return f"{option}: cannot open the sandbox state file {path}: {reason}"
