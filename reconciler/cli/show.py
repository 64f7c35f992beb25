"""`show FILE`: render a saved plan."""

from __future__ import annotations

import click

from reconciler.cli.options import FORMATS
from reconciler.cli.output import show_plan
from reconciler.plan import saved
from reconciler.render import Detail


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
@click.option(
    "--verbose",
    "-v",
    is_flag=True,
    help="Text format: list every note one by one (by default they are summarised by kind).",
)
def show(file: str, fmt: str, verbose: bool) -> None:
    """Render a plan saved with `plan --out FILE`.

    \b
    Example:
      codat-reconciler show plan.json --format markdown
    """
    plan_saved = saved.read(file)
    detail = Detail.VERBOSE if verbose else Detail.NORMAL
    show_plan(plan_saved.plan, fmt, plan_saved.manifests, detail=detail)
