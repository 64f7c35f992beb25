"""`export`: write manifests describing live Codat state."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import click

from reconciler import engine
from reconciler.cli.options import output_options
from reconciler.cli.progress import Reporter
from reconciler.cli.target import CodatChoice, codat_options, open_client
from reconciler.errors import ReconcilerError
from reconciler.manifests.client_export import client_document
from reconciler.manifests.export import Export, export_documents
from reconciler.manifests.schema import SCHEMA_RESOURCE
from reconciler.render.wording import plural

# Where a checkout keeps the schema (a copy, or this repository's symlink).
CHECKOUT_SCHEMA = Path("schemas") / SCHEMA_RESOURCE


@click.command()
@click.option(
    "--out",
    "out_dir",
    metavar="DIR",
    type=click.Path(file_okay=False),
    help="Write merchants-NNNN.yaml files into DIR (created if missing); "
    "without it, print the manifest to stdout.",
)
@click.option(
    "--force", is_flag=True, help="With --out: replace files of the same name already in DIR."
)
@click.option(
    "--merchant",
    "merchants",
    multiple=True,
    metavar="NAME",
    help="Export only this company (repeatable); an unknown name is an error.",
)
@click.option(
    "--auth-field",
    "auth_fields",
    multiple=True,
    metavar="FIELD",
    help="Authorization body field to write as an {env: ...} placeholder on Linked "
    "connections (repeatable; default apiToken).",
)
@click.option(
    "--client/--no-client",
    "with_client",
    default=None,
    help="Write client.yaml, the client-wide settings (webhook consumers, sync settings, "
    "sync flow texts that differ from Codat's defaults). Default: with --out and no "
    "--merchant.",
)
@codat_options
@output_options
def export(
    out_dir: str | None,
    force: bool,
    merchants: tuple[str, ...],
    auth_fields: tuple[str, ...],
    with_client: bool | None,
    codat: CodatChoice,
    reporter: Reporter,
) -> None:
    """Write manifests describing the companies and connections in Codat.

    Use it once to move an existing merchant base to Git: export, commit, then
    `plan` shows what adopting them would change (only the ownership tag on
    companies the tool did not create). Credentials are never exported: Linked
    connections get placeholders named AUTH_<MERCHANT>_<PLATFORMKEY>_<FIELD>.

    With --out (and no --merchant), client.yaml holds the client-wide settings
    too: webhook consumers, sync settings, and the sync flow texts that differ
    from Codat's defaults (--no-client leaves it out).

    Existing files are never replaced without --force. Each file starts with a
    `# yaml-language-server: $schema=...` line for editors: a relative path when
    DIR is inside a checkout holding schemas/manifest.schema.json, else the
    absolute file: URI of the schema installed with the tool.

    \b
    Examples:
      codat-reconciler export --out manifests/exported
      codat-reconciler export --out manifests/exported --no-client
      codat-reconciler export --merchant 12345678 --auth-field apiToken --auth-field storeId
    """
    if force and out_dir is None:
        raise click.UsageError("--force only applies with --out DIR")
    if with_client and out_dir is None:
        raise click.UsageError("--client only applies with --out DIR")
    if with_client is None:
        with_client = out_dir is not None and not merchants
    with open_client(codat, reporter) as client:
        live = engine.read_live(client, reporter)
        client_file = (
            client_document(client, schema=schema_reference(Path(out_dir)))
            if with_client and out_dir is not None
            else None
        )
    unknown = sorted(set(merchants) - {c.name for c in live.companies})
    if unknown:
        names = ", ".join(f'"{n}"' for n in unknown)
        raise ReconcilerError(
            f"--merchant {names}: no company of that name in Codat; nothing was exported "
            "(merchant names are the Codat company names)"
        )
    target = Path(out_dir) if out_dir is not None else None
    exported = export_documents(
        live,
        schema=schema_reference(target),
        merchants=merchants,
        auth_fields=auth_fields or ("apiToken",),
    )
    if client_file is not None:
        exported.files.append(client_file)
    for warning in exported.warnings:
        reporter.warn("warning", warning)
    if target is None:
        for _, text in exported.files:
            click.echo(text, nl=False)
        return
    _write(target, exported, force=force, reporter=reporter)


def _write(target: Path, exported: Export, *, force: bool, reporter: Reporter) -> None:
    files = exported.files
    existing = [name for name, _ in files if (target / name).exists()]
    if existing and not force:
        raise ReconcilerError(
            f"{target}: {', '.join(existing)} already exist{'s' if len(existing) == 1 else ''} "
            "(maybe edited by hand); nothing was written. Pass --force to replace them, "
            "or export to another folder and compare."
        )
    try:
        target.mkdir(parents=True, exist_ok=True)
        for name, text in files:
            (target / name).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ReconcilerError(f"{target}: cannot write the manifests: {exc.strerror}") from None
    written = {name for name, _ in files}
    for stale in sorted(p.name for p in target.glob("merchants-*.yaml")):
        if stale not in written:
            reporter.warn(
                "warning",
                f"{target / stale} is from an earlier export and "
                "was left as it is; delete it if its merchants are in the new files",
                file=str(target / stale),
            )
    total = exported.merchants
    reporter.tell(
        "written",
        f"Wrote {plural(len(files), 'file', 'files')} to {target}/ "
        f"({plural(total, 'merchant', 'merchants', '{:,}'.format)}).",
        files=len(files),
        merchants=total,
    )


def schema_reference(out_dir: Path | None) -> str:
    """The `$schema` reference for files written to out_dir (None: stdout, place unknown).

    Relative when out_dir is inside a checkout holding the schema, so the files
    work in every clone; else the absolute URI of the installed schema, which
    works on this machine.
    """
    if out_dir is not None:
        folder = Path(os.path.abspath(out_dir))
        for parent in (folder, *folder.parents):
            if (parent / CHECKOUT_SCHEMA).is_file():
                relative = Path(os.path.relpath(parent / CHECKOUT_SCHEMA, folder)).as_posix()
                # The modeline ends at whitespace: such a path needs the URI form.
                if not any(c.isspace() for c in relative):
                    return relative
                return (parent / CHECKOUT_SCHEMA).as_uri()
            if (parent / ".git").exists():
                break  # the checkout's root: a schema above it is not the checkout's
    installed = resources.files("reconciler.schemas").joinpath(SCHEMA_RESOURCE)
    return Path(str(installed)).resolve().as_uri()
