"""`sandbox serve`: the Codat-compatible sandbox as an HTTP server."""

from __future__ import annotations

import secrets
import signal
import sqlite3
import sys
import tempfile
import threading
from pathlib import Path
from types import FrameType

import click

from reconciler.cli.target import state_file_problem
from reconciler.errors import ReconcilerError
from reconciler.sandbox.app import SandboxApp
from reconciler.sandbox.faults import FaultSpec, parse_fault
from reconciler.sandbox.resources import DEFAULT_INTEGRATIONS
from reconciler.sandbox.server import SandboxServer
from reconciler.sandbox.validation import PLATFORM_KEY


@click.group()
def sandbox() -> None:
    """A local, Codat-compatible API for tests and demos."""


def _faults(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> list[FaultSpec]:
    try:
        return [parse_fault(value) for value in values]
    except ValueError as err:
        raise click.BadParameter(str(err), ctx=ctx, param=param) from None


def _integrations(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> list[str]:
    for value in values:
        if not PLATFORM_KEY.fullmatch(value):
            message = f"{value!r} is not four lowercase letters"
            raise click.BadParameter(message, ctx=ctx, param=param)
    return [*DEFAULT_INTEGRATIONS, *values]


@sandbox.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="Port to bind; 0 picks a free one (printed on start).",
)
@click.option(
    "--state",
    type=click.Path(dir_okay=False, path_type=Path),
    help="SQLite file holding the sandbox's world (created if missing). "
    "Default: a fresh file in a temporary directory, removed on exit.",
)
@click.option("--api-key", help="The key clients must send (Basic auth). Default: a random key.")
@click.option(
    "--latency-ms",
    type=click.IntRange(0),
    default=0,
    show_default=True,
    help="Every request takes at least this long.",
)
@click.option(
    "--fault",
    "faults",
    multiple=True,
    callback=_faults,
    metavar="KIND:METHOD:PATH_GLOB:RATE",
    help="Inject a fault (repeatable). KIND: 500, 503, 429, timeout, lost. "
    "RATE: a probability 0..1 or first:N.",
)
@click.option(
    "--rate-limit",
    type=click.IntRange(1),
    default=None,
    help="At most N requests per minute; beyond it 429 with Retry-After.",
)
@click.option(
    "--max-page-size",
    type=click.IntRange(1),
    default=None,
    help="Serve pages no bigger than N, whatever pageSize asks.",
)
@click.option("--seed", type=int, default=None, help="Seed for fault decisions (repeatable runs).")
@click.option(
    "--integration",
    "integrations",
    multiple=True,
    callback=_integrations,
    metavar="KEY",
    help="Accept this platform key too (repeatable), besides those in API-NOTES.md.",
)
def serve(
    host: str,
    port: int,
    state: Path | None,
    api_key: str | None,
    latency_ms: int,
    faults: list[FaultSpec],
    rate_limit: int | None,
    max_page_size: int | None,
    seed: int | None,
    integrations: list[str],
) -> None:
    """Run the sandbox as an HTTP server until SIGINT or SIGTERM.

    Prints two lines, `Sandbox listening on http://HOST:PORT` and `API key: KEY`
    (the sandbox's own throwaway key), then serves.

    \b
    Example:
      codat-reconciler sandbox serve --port 8980 --state world.sqlite \\
          --fault lost:POST:/companies:0.5 --fault 429:*:/companies:first:3 --seed 7
    """
    with tempfile.TemporaryDirectory(prefix="codat-sandbox-") as scratch:
        path = state or Path(scratch) / "sandbox.sqlite"
        try:
            app = SandboxApp(
                path,
                api_key=api_key or secrets.token_urlsafe(24),
                latency_ms=latency_ms,
                faults=faults,
                seed=seed,
                rate_limit=rate_limit,
                max_page_size=max_page_size,
                integrations=integrations,
            )
        except (OSError, sqlite3.Error) as exc:
            raise ReconcilerError(state_file_problem(path, exc, "--state")) from None
        try:
            server = SandboxServer(app, host, port)
        except OSError as err:
            raise click.ClickException(f"cannot listen on {host}:{port}: {err}") from None
        stop = threading.Event()

        def on_signal(signum: int, frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGINT, on_signal)
        signal.signal(signal.SIGTERM, on_signal)
        server.start()
        click.echo(f"Sandbox listening on {server.base_url}")
        click.echo(f"API key: {app.api_key}")
        sys.stdout.flush()  # the two lines are a contract: scripts wait for them
        while not stop.wait(0.5):
            pass
        server.stop()
        app.store.close()
