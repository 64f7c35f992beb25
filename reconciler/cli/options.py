"""Options shared by every command that talks to Codat, and the client they open."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import click

from reconciler import render
from reconciler.cli.progress import Reporter
from reconciler.codat.client import CodatClient
from reconciler.codat.config import load_api_key, resolve_base_url
from reconciler.codat.observe import ApiCall
from reconciler.errors import ReconcilerError
from reconciler.plan.guard import DEFAULT_MAX_DELETES

F = TypeVar("F", bound=Callable[..., Any])

# The embedded sandbox is reached through an in-process transport; this URL is
# never dialled, it only gives requests a well-formed address.
SANDBOX_URL = "http://127.0.0.1"


@dataclass(frozen=True, slots=True)
class Connection:
    base_url: str | None
    api_key_file: str | None
    sandbox: str | None
    timeout: float = 30.0

    @property
    def is_sandbox(self) -> bool:
        """True for the embedded sandbox and for sandbox servers on loopback."""
        if self.sandbox:
            return True
        return resolve_base_url(self.base_url).startswith("http://")


def _refuse_api_key_flag(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is not None:
        raise click.BadParameter(
            "the API key is never accepted as a flag value: it would show in `ps` and CI logs. "
            "Set CODAT_API_KEY in the environment or pass --api-key-file PATH.",
            ctx=ctx,
            param=param,
        )


def codat_options(f: F) -> F:
    """--base-url, --api-key-file and --sandbox, gathered into a `connection` argument."""

    f = click.option(
        "--api-key",
        hidden=True,
        expose_value=False,
        callback=_refuse_api_key_flag,
        help="Refused: use CODAT_API_KEY or --api-key-file.",
    )(f)
    f = click.option(
        "--timeout",
        type=click.FloatRange(min=0.1),
        default=30.0,
        show_default=True,
        envvar="CODAT_TIMEOUT",
        metavar="SECONDS",
        help="Give up on one attempt of a Codat call after this long (it is then retried). "
        "Env: CODAT_TIMEOUT.",
    )(f)
    f = click.option(
        "--sandbox",
        envvar="CODAT_SANDBOX",
        metavar="PATH",
        help="Use the embedded Codat sandbox with its state in the SQLite file PATH "
        "(created if missing); no network, no API key. Env: CODAT_SANDBOX.",
    )(f)
    f = click.option(
        "--api-key-file",
        metavar="PATH",
        type=click.Path(dir_okay=False),
        help="Read the Codat API key from PATH instead of CODAT_API_KEY.",
    )(f)
    f = click.option(
        "--base-url",
        envvar="CODAT_BASE_URL",
        metavar="URL",
        help="Codat API base URL (default https://api.codat.io; plain http only to "
        "loopback). Env: CODAT_BASE_URL.",
    )(f)
    return f


def output_options(f: F) -> F:
    """--quiet and --log-format, gathered into a Reporter by `reporter_from`."""
    f = click.option(
        "--log-format",
        type=click.Choice(["text", "json"]),
        default="text",
        show_default=True,
        help="json: one line per API call and per change applied, on stderr.",
    )(f)
    f = click.option("--quiet", "-q", is_flag=True, help="No progress output.")(f)
    return f


def reporter_from(kwargs: dict[str, Any]) -> Reporter:
    return Reporter(quiet=kwargs.pop("quiet"), log_format=kwargs.pop("log_format"))


FORMATS = click.Choice(render.FORMATS)


def prune_options(f: F) -> F:
    f = click.option(
        "--max-deletes",
        type=click.IntRange(min=0),
        metavar="N",
        help=f"With --prune: refuse a plan deleting more than N companies "
        f"(default {DEFAULT_MAX_DELETES}; required to prune with an empty manifest set).",
    )(f)
    f = click.option(
        "--prune",
        is_flag=True,
        help="Also unlink connections and delete companies the manifests no longer declare "
        "(only on companies carrying the ownership tag).",
    )(f)
    return f


def throughput_options(f: F) -> F:
    """--parallelism and --max-rate, for commands that make many calls."""
    f = click.option(
        "--max-rate",
        type=click.IntRange(min=0),
        default=1000,
        show_default=True,
        help="At most N requests in any 60 seconds (Codat's per-IP limit is 1,000); "
        "0 for no limit (sandboxes).",
    )(f)
    f = click.option(
        "--parallelism",
        type=click.IntRange(min=1),
        default=10,
        show_default=True,
        help="Merchants worked on at once.",
    )(f)
    return f


def merchant_option(f: F) -> F:
    return click.option(
        "--merchant",
        "merchants",
        multiple=True,
        metavar="NAME",
        help="Plan only this merchant (repeatable).",
    )(f)


def connection_from(kwargs: dict[str, Any]) -> Connection:
    """Pop the three connection options out of a command's keyword arguments."""
    return Connection(
        base_url=kwargs.pop("base_url"),
        api_key_file=kwargs.pop("api_key_file"),
        sandbox=kwargs.pop("sandbox"),
        timeout=kwargs.pop("timeout"),
    )


def open_client(
    connection: Connection,
    *,
    max_rate: int = 1000,
    parallelism: int = 10,
    observer: Callable[[ApiCall], None] | None = None,
) -> CodatClient:
    if connection.sandbox:
        from reconciler.sandbox.transport import SandboxTransport

        try:
            transport = SandboxTransport(connection.sandbox)
        except (OSError, sqlite3.Error) as exc:
            raise ReconcilerError(
                f"cannot open the sandbox state file {connection.sandbox}: {exc} "
                "(--sandbox / CODAT_SANDBOX names an SQLite file, created if missing)"
            ) from None
        return CodatClient(
            SANDBOX_URL,
            api_key=None,
            transport=transport,
            timeout=connection.timeout,
            max_rate=max_rate,
            observer=observer,
            pool_size=parallelism + 4,
        )
    return CodatClient(
        resolve_base_url(connection.base_url),
        api_key=load_api_key(connection.api_key_file),
        timeout=connection.timeout,
        max_rate=max_rate,
        observer=observer,
        pool_size=parallelism + 4,
    )


def stdin_is_terminal() -> bool:
    # Indirection so tests can run the prompt path through a pseudo-terminal.
    return os.isatty(0)
