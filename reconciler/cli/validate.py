"""`validate PATH...`: load and check manifests offline."""

from __future__ import annotations

import click

from reconciler.manifests.loader import load


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option(
    "--check-secrets",
    is_flag=True,
    help="Also resolve every {env: NAME} and {file: PATH} reference and report those "
    "that cannot be read. Values are never printed.",
)
def validate(paths: tuple[str, ...], check_secrets: bool) -> None:
    """Check manifests offline: no API key, no network call.

    PATH is a manifest file or a directory (every *.yaml / *.yml below it,
    hidden directories skipped). Every problem of every file is reported as
    FILE:LINE:COLUMN: message, and the exit code is 1 if there is any.

    \b
    Examples:
      codat-reconciler validate manifests/
      codat-reconciler validate manifests/uk.yaml --check-secrets
    """
    state = load(paths, check_secrets=check_secrets)
    merchants = len(state.merchants)
    files = len(state.files)
    click.echo(
        f"OK: {merchants} merchant{'s' if merchants != 1 else ''} "
        f"in {files} file{'s' if files != 1 else ''}"
    )
