"""`sync-url PATH... --merchant NAME`: a fresh sync flow URL for one merchant."""

from __future__ import annotations

from typing import Any

import click

from reconciler.cli.options import codat_options, output_options, reporter_from
from reconciler.cli.planning import load_targeted, read_live
from reconciler.cli.target import connection_from, open_client
from reconciler.errors import ReconcilerError


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
    desired = load_targeted(paths, [merchant_name])
    merchant = next(m for m in desired.merchants if m.name == merchant_name)
    flow = merchant.sync_flow
    missing = [k for k, v in (("commerceKey", flow.commerce_key),
                              ("accountingKey", flow.accounting_key)) if not v]
    if missing:
        raise ReconcilerError(
            f"{merchant.location}: merchant \"{merchant_name}\" has no syncFlow "
            f"{' or '.join(missing)}; declare it on the merchant or in its file's defaults"
        )
    with open_client(connection, reporter) as client:
        live = read_live(client, reporter)
        if merchant.company_id:
            matches = [c for c in live.companies if c.id == merchant.company_id]
        else:
            matches = [c for c in live.companies if c.name == merchant_name]
        if len(matches) != 1:
            problem = "does not exist in Codat yet: run apply first" if not matches else (
                f"matches {len(matches)} companies: pin one with companyId")
            raise ReconcilerError(f'merchant "{merchant_name}" {problem}')
        assert flow.commerce_key and flow.accounting_key
        url = client.sync_flow_url(
            flow.commerce_key, flow.accounting_key, matches[0].id, flow.redirect_url
        )
    click.echo(url)
