"""`plan PATH...`: read live state and show what `apply` would do."""

from __future__ import annotations

import click

from reconciler import engine
from reconciler.cli.fingerprints import given_key
from reconciler.cli.options import (
    FORMATS,
    merchant_options,
    output_options,
    prune_options,
    secret_env_option,
)
from reconciler.cli.output import detail_of, plan_exit_code, show_plan
from reconciler.cli.progress import Reporter
from reconciler.cli.target import CodatChoice, codat_options, open_client
from reconciler.manifests.references import EnvAllowlist


@click.command()
# No `exists=True`: the loader names a missing PATH like every other manifest problem.
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option(
    "--out",
    metavar="FILE",
    type=click.Path(dir_okay=False),
    help="Also save the plan to FILE for `apply --plan FILE`.",
)
@click.option(
    "--format", "fmt", type=FORMATS, default="text", show_default=True, help="Output format."
)
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 2 when the plan has changes, 0 when none, 1 on error.",
)
@prune_options
@merchant_options("Plan only this merchant (repeatable); the others are left out of the plan.")
@secret_env_option
@codat_options
@output_options(verbose=True)
def plan(
    paths: tuple[str, ...],
    out: str | None,
    fmt: str,
    detailed_exitcode: bool,
    prune: bool,
    max_deletes: int | None,
    merchants: tuple[str, ...],
    exclude: tuple[str, ...],
    secret_env: EnvAllowlist | None,
    codat: CodatChoice,
    reporter: Reporter,
) -> int:
    """Show what `apply` would change in Codat to match the manifests.

    PATH is a manifest file or a directory, read as `validate` reads it (every
    *.yaml / *.yml below it in any letter case, hidden folders skipped,
    symlinked folders followed once; a file that cannot be read is an error).
    With --format json, `manifest_files` lists every manifest file read.

    \b
    Examples:
      codat-reconciler plan manifests/
      codat-reconciler plan manifests/ --format markdown > plan.md
      codat-reconciler plan manifests/ --out plan.json --prune
      codat-reconciler plan manifests/ --detailed-exitcode   # drift check: exit 2 on changes
      codat-reconciler plan manifests/ --merchant 'uk-*' --exclude uk-0042
    """
    loading = engine.start_loading(paths, merchants, exclude, secret_env=secret_env)
    run = engine.PlanRun(
        prune, merchants, max_deletes, exclude=exclude, fingerprint_key=given_key()
    )
    with open_client(codat, reporter) as client:
        planned = engine.plan(client, loading, run, progress=reporter)
    desired = planned.desired
    show_plan(planned.plan, fmt, desired.files, detail=detail_of(reporter))
    engine.guard_deletes(planned, run)
    if out:
        engine.save_plan(planned, out, paths=paths, run=run, target=codat.target)
        reporter.tell(
            "saved",
            f"\nSaved the plan to {out}. To carry it out exactly: "
            f"codat-reconciler apply --plan {out}",
            file=out,
        )
    return plan_exit_code(planned.plan, detailed_exitcode)
