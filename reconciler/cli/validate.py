"""`validate PATH...`: load and check manifests offline."""

from __future__ import annotations

import click


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
def validate(paths: tuple[str, ...]) -> None:
    """Check manifests offline (placeholder until the loader lands)."""
    raise click.ClickException("not implemented yet")
