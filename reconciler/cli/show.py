"""`show FILE`: render a saved plan."""

from __future__ import annotations

import click

from reconciler.cli.options import FORMATS
from reconciler.cli.output import show_plan
from reconciler.plan import saved


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
def show(file: str, fmt: str) -> None:
    """Render a plan saved with `plan --out FILE`.

    \b
    Example:
      codat-reconciler show plan.json --format markdown
    """
    plan_saved = saved.read(file)
    show_plan(plan_saved.plan, fmt, plan_saved.manifests)
