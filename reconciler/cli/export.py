"""`export`: write manifests describing live Codat state."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from reconciler.cli.options import codat_options, output_options, reporter_from
from reconciler.cli.planning import read_live
from reconciler.cli.target import connection_from, open_client
from reconciler.errors import ReconcilerError
from reconciler.manifests.export import export_documents


@click.command()
@click.option("--out", "out_dir", metavar="DIR", type=click.Path(file_okay=False),
              help="Write merchants-NNNN.yaml files into DIR (created if missing); "
              "without it, print the manifest to stdout.")
@click.option("--merchant", "merchants", multiple=True, metavar="NAME",
              help="Export only this company (repeatable).")
@click.option("--auth-field", "auth_fields", multiple=True, metavar="FIELD",
              help="Authorization body field to write as an {env: ...} placeholder on Linked "
              "connections (repeatable; default apiToken).")
@codat_options
@output_options
def export(
    out_dir: str | None, merchants: tuple[str, ...], auth_fields: tuple[str, ...], **kwargs: Any
) -> None:
    """Write manifests describing the companies and connections in Codat.

    Use it once to move an existing merchant base to Git: export, commit, then
    `plan` shows what adopting them would change (only the ownership tag on
    companies the tool did not create). Credentials are never exported: Linked
    connections get placeholders named CODAT_AUTH_<MERCHANT>_<PLATFORMKEY>_<FIELD>.

    \b
    Examples:
      codat-reconciler export --out manifests/exported
      codat-reconciler export --merchant 12345678 --auth-field apiToken --auth-field storeId
    """
    connection = connection_from(kwargs)
    reporter = reporter_from(kwargs)
    with open_client(connection, reporter) as client:
        live = read_live(client, reporter)
    files, warnings = export_documents(
        live, merchants=merchants, auth_fields=auth_fields or ("apiToken",)
    )
    for warning in warnings:
        reporter.tell("warning", f"Warning: {warning}")
    found = {c.name for c in live.companies}
    for name in sorted(set(merchants) - found):
        reporter.tell("warning", f'Warning: no company named "{name}" in Codat')
    if out_dir is None:
        for _, text in files:
            click.echo(text, nl=False)
        return
    target = Path(out_dir)
    try:
        target.mkdir(parents=True, exist_ok=True)
        for name, text in files:
            (target / name).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ReconcilerError(f"{out_dir}: cannot write the manifests: {exc.strerror}") from None
    total = sum(text.count("\n  - name:") + text.count("\n- name:") for _, text in files)
    reporter.tell("written", f"Wrote {len(files)} file(s) to {target}/ ({total} merchants).",
                  files=len(files), merchants=total)
