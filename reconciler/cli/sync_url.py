"""`sync-url PATH... --merchant NAME`: a fresh sync flow URL for one merchant."""

from __future__ import annotations

import click

from reconciler import engine
from reconciler.cli.options import output_options, secret_env_option
from reconciler.cli.progress import Reporter
from reconciler.cli.target import CodatChoice, codat_options, open_client
from reconciler.manifests.references import EnvAllowlist


@click.command("sync-url")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option(
    "--merchant",
    "merchant_name",
    required=True,
    metavar="NAME",
    help="The declared merchant to hand off to the sync flow.",
)
@secret_env_option
@codat_options
@output_options
def sync_url(
    paths: tuple[str, ...],
    merchant_name: str,
    secret_env: EnvAllowlist | None,
    codat: CodatChoice,
    reporter: Reporter,
) -> None:
    """Print a fresh sync flow URL for a declared merchant.

    The URL carries a one-time code that expires 30 seconds after it is issued,
    so it is requested now, just before printing: redirect the merchant to it
    straight away, never store it.

    \b
    Example:
      codat-reconciler sync-url manifests/ --merchant 12345678
    """
    desired = engine.load_manifests(paths, [merchant_name], secret_env=secret_env)
    with open_client(codat, reporter) as client:
        url = engine.sync_flow_url(client, desired, merchant_name, progress=reporter)
    click.echo(url)
