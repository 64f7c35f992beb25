"""`sync-url PATH... --merchant NAME`: a fresh sync flow URL for one merchant."""

from __future__ import annotations

from typing import Any

import click

from reconciler import engine
from reconciler.cli.options import codat_options, output_options, reporter_from
from reconciler.cli.target import connection_from, open_client


@click.command("sync-url")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--merchant", "merchant_name", required=True, metavar="NAME",
              help="The declared merchant to hand off to the sync flow.")
@codat_options
@output_options
def sync_url(paths: tuple[str, ...], merchant_name: str, **kwargs: Any) -> None:
    """Print a fresh sync flow URL for a declared merchant.

    The URL carries a one-time code that expires 30 seconds after it is issued,
    so it is requested now, just before printing: redirect the merchant to it
    straight away, never store it.

    \b
    Example:
      codat-reconciler sync-url manifests/ --merchant 12345678
    """
    connection = connection_from(kwargs)
    reporter = reporter_from(kwargs)
    desired = engine.load_manifests(paths, [merchant_name])
    with open_client(connection, reporter) as client:
        url = engine.sync_flow_url(client, desired, merchant_name, progress=reporter)
    click.echo(url)
