"""`watch`: a long-running service keeping Codat converged, driven by Codat's webhooks."""

from __future__ import annotations

import os
import signal

import click

from reconciler import engine
from reconciler.cli.fingerprints import given_key
from reconciler.cli.interrupt import signals_of
from reconciler.cli.options import (
    output_options,
    prune_options,
    secret_env_option,
    throughput_options,
)
from reconciler.cli.progress import Reporter
from reconciler.cli.target import CodatChoice, codat_options, open_client
from reconciler.credentials import KEY_ENV, fingerprint_key
from reconciler.errors import ReconcilerError
from reconciler.manifests.references import EnvAllowlist

SECRET_ENV = "CODAT_WEBHOOK_SECRET"


def _address(ctx: click.Context, param: click.Parameter, value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")  # [::1]:8080
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise click.BadParameter(
            "give HOST:PORT, e.g. 0.0.0.0:8080 or 127.0.0.1:8080", ctx=ctx, param=param
        )
    return host, int(port)


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option(
    "--listen",
    required=True,
    metavar="HOST:PORT",
    callback=_address,
    help="Where to serve POST /webhooks/codat, /healthz, /readyz and /metrics.",
)
@click.option(
    "--interval",
    type=click.FloatRange(min=1.0),
    default=300.0,
    show_default=True,
    metavar="SECONDS",
    help="Reconcile everything this often, re-reading the manifests.",
)
@click.option(
    "--no-fingerprints",
    is_flag=True,
    help=f"Run although {KEY_ENV} is not set: authorizations are then sent without "
    "recording fingerprints (a warning says so). Without it, watch refuses to start.",
)
@prune_options
@throughput_options
@secret_env_option
@codat_options
@output_options
def watch(
    paths: tuple[str, ...],
    listen: tuple[str, int],
    interval: float,
    no_fingerprints: bool,
    prune: bool,
    max_deletes: int | None,
    parallelism: int,
    max_rate: int,
    secret_env: EnvAllowlist | None,
    codat: CodatChoice,
    reporter: Reporter,
) -> int:
    """Keep Codat converged: reconcile at start, every --interval, and on Codat's webhooks.

    \b
    Deliveries to POST /webhooks/codat are verified with CODAT_WEBHOOK_SECRET (the
    whsec_... secret of the Codat webhook consumer); connection.disconnected,
    connection.created and company.deleted reconcile that one merchant.
    GET /healthz, /readyz (first reconcile done) and /metrics (Prometheus).
    SIGTERM: the change in flight finishes, then exit 0.
    Needs CODAT_RECONCILER_KEY (see apply), unless --no-fingerprints or --sandbox.
    Text logs carry the time (UTC) on each line.
    Needs the watch extra: pip install 'codat-reconciler[watch]'.

    \b
    Example:
      codat-reconciler watch manifests/ --listen 0.0.0.0:8080 --log-format json
    """
    from reconciler.watch.loop import WatchSettings

    reporter.timestamps = True  # a service's log is read later: each line says when
    secret = os.environ.get(SECRET_ENV)
    if not secret:
        raise ReconcilerError(
            f"set {SECRET_ENV} to the whsec_... secret of the Codat webhook "
            "consumer: deliveries cannot be verified without it"
        )
    key = given_key()
    if fingerprint_key(key, embedded_sandbox=codat.target.sandbox) is None:
        # Checked once at start: the manifests, re-read each time, may declare
        # authorizations at any moment, and watch sends them unattended.
        if not no_fingerprints:
            raise ReconcilerError(
                f"set {KEY_ENV}: watch authorizes connections, and without the key that "
                "fingerprints the credentials sent no later run can tell a rotated secret. "
                "Use a random secret, the same as apply's (e.g. `openssl rand -hex 32`), or "
                "pass --no-fingerprints to run without recording fingerprints."
            )
        reporter.warn(
            "no_fingerprints",
            f"--no-fingerprints: {KEY_ENV} is not set, so "
            "authorizations are sent without recording fingerprints; the first run "
            "with the key set sends them again to record one.",
        )
    settings = WatchSettings(
        paths, interval, prune, max_deletes, parallelism, fingerprint_key=key, secret_env=secret_env
    )
    signals = signals_of(click.get_current_context())
    with open_client(codat, reporter, max_rate=max_rate, parallelism=parallelism) as client:
        service = engine.watch_service(
            client, settings, listen=listen, webhook_secret=secret, log=reporter, progress=reporter
        )
        endpoint = service.endpoint
        try:
            reporter.also_observe(endpoint.metrics.api_call)
            reporter.note(
                "listening",
                f"Listening on {endpoint.url}: POST /webhooks/codat, GET /healthz /readyz /metrics",
                url=endpoint.url,
            )
            with signals.graceful(reporter.is_json, reporter.timestamps) as taken:
                service.run_until(signals.stop)
        finally:
            endpoint.server_close()
    # A stop asked for is a clean end, but Ctrl-C keeps its usual meaning for a shell.
    return 130 if taken.signal is signal.SIGINT else 0
