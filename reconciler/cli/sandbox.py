"""`sandbox serve`: the Codat-compatible sandbox as an HTTP server."""

from __future__ import annotations

import secrets
import sqlite3
import sys
import tempfile
from pathlib import Path

import click

from reconciler.cli.interrupt import signals_of
from reconciler.engine.target import state_file_problem
from reconciler.errors import ReconcilerError
from reconciler.sandbox.app import DATE_HEADER_MODES, SandboxApp
from reconciler.sandbox.faults import FaultSpec, parse_fault
from reconciler.sandbox.resources import DEFAULT_INTEGRATIONS
from reconciler.sandbox.server import SandboxServer
from reconciler.sandbox.validation import PLATFORM_KEY
from reconciler.sandbox.webhooks import signing_key, webhook_url


@click.group()
def sandbox() -> None:
    """A local, Codat-compatible API for tests and demos."""


def _faults(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> list[FaultSpec]:
    try:
        return [parse_fault(value) for value in values]
    except ValueError as err:
        raise click.BadParameter(str(err), ctx=ctx, param=param) from None


def _platform_keys(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> tuple[str, ...]:
    for value in values:
        if not PLATFORM_KEY.fullmatch(value):
            message = f"{value!r} is not four lowercase letters"
            raise click.BadParameter(message, ctx=ctx, param=param)
    return values


def _webhook_url(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    try:
        return None if value is None else webhook_url(value)
    except ValueError as err:
        raise click.BadParameter(str(err), ctx=ctx, param=param) from None


def _webhook_secret(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    try:
        if value is not None:
            signing_key(value)  # its message never repeats the secret
        return value
    except ValueError as err:
        raise click.BadParameter(str(err), ctx=ctx, param=param) from None


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
    help="Inject a fault (repeatable). KIND: 500, 503 (before the change), 500-after "
    "(the change commits, the answer is 500), 429, timeout, lost (the change commits, "
    "no answer). A keyed POST/PATCH keeps a 500/503 and replays it, as Codat does. "
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
@click.option(
    "--daily-quota",
    type=click.IntRange(1),
    default=None,
    help="At most N requests per UTC day; beyond it 429 with a Retry-After reaching "
    "to 00:00 UTC. X-Rate-Limit-* report this quota.",
)
@click.option(
    "--clock-skew-ms",
    type=int,
    default=0,
    show_default=True,
    help="Run the Date header N ms ahead of the clock that stamps `created` "
    "(behind when negative), as Codat's edge and API servers may disagree.",
)
@click.option(
    "--date-header",
    type=click.Choice(DATE_HEADER_MODES),
    default="send",
    show_default=True,
    help="omit or repeat the Date header, as a proxy may.",
)
@click.option("--seed", type=int, default=None, help="Seed for fault decisions (repeatable runs).")
@click.option(
    "--integration",
    "integrations",
    multiple=True,
    callback=_platform_keys,
    metavar="KEY",
    help="Accept this platform key too (repeatable), besides the built-in ones: "
    + ", ".join(sorted(DEFAULT_INTEGRATIONS))
    + ".",
)
@click.option(
    "--disabled-integration",
    "disabled_integrations",
    multiple=True,
    callback=_platform_keys,
    metavar="KEY",
    help="List this integration as not enabled and refuse it a connection (repeatable).",
)
@click.option(
    "--webhook-url",
    callback=_webhook_url,
    metavar="URL",
    help="Deliver Svix-signed events (connection.created, .connected, .disconnected, "
    "company.deleted) to this loopback URL. Needs --webhook-secret.",
)
@click.option(
    "--webhook-secret",
    callback=_webhook_secret,
    envvar="CODAT_SANDBOX_WEBHOOK_SECRET",
    metavar="whsec_...",
    help="The signing secret: whsec_ followed by base64 of 24-64 bytes "
    "(or CODAT_SANDBOX_WEBHOOK_SECRET).",
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
    daily_quota: int | None,
    clock_skew_ms: int,
    date_header: str,
    seed: int | None,
    integrations: tuple[str, ...],
    disabled_integrations: tuple[str, ...],
    webhook_url: str | None,
    webhook_secret: str | None,
) -> None:
    """Run the sandbox as an HTTP server until SIGINT or SIGTERM.

    Prints two lines, `Sandbox listening on http://HOST:PORT` and `API key: KEY`
    (the sandbox's own throwaway key), then serves.

    \b
    Example:
      codat-reconciler sandbox serve --port 8980 --state world.sqlite \\
          --fault lost:POST:/companies:0.5 --fault 429:*:/companies:first:3 --seed 7
    \b
    Webhooks to a local consumer:
      codat-reconciler sandbox serve --webhook-url http://127.0.0.1:9000/codat \\
          --webhook-secret whsec_IofZ7FOAOFVSblSG8fcfWd5plR5PZNGY
    """
    if (webhook_url is None) != (webhook_secret is None):
        raise click.UsageError("--webhook-url and --webhook-secret go together")
    known = {*DEFAULT_INTEGRATIONS, *integrations}
    unknown = sorted(set(disabled_integrations) - known)
    if unknown:
        message = f"unknown integration {', '.join(unknown)} (add it with --integration)"
        raise click.BadParameter(message, param_hint="--disabled-integration")
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
                integrations=[*DEFAULT_INTEGRATIONS, *integrations],
                disabled_integrations=disabled_integrations,
                webhook_url=webhook_url,
                webhook_secret=webhook_secret,
                daily_quota=daily_quota,
                clock_skew_ms=clock_skew_ms,
                date_header=date_header,
            )
        except (OSError, sqlite3.Error) as exc:
            raise ReconcilerError(state_file_problem(path, exc, "--state")) from None
        try:
            server = SandboxServer(app, host, port)
        except OSError as err:
            raise click.ClickException(f"cannot listen on {host}:{port}: {err}") from None
        signals = signals_of(click.get_current_context())
        with signals.quietly():  # SIGINT or SIGTERM: stop serving, exit 0
            server.start()
            click.echo(f"Sandbox listening on {server.base_url}")
            click.echo(f"API key: {app.api_key}")
            sys.stdout.flush()  # the two lines are a contract: scripts wait for them
            while not signals.stop.wait(0.5):
                pass
        server.stop()
        app.store.close()
