"""`apply`: plan, confirm, then carry the plan out (or carry out a saved plan)."""

from __future__ import annotations

import click

from reconciler import engine
from reconciler.apply.executor import ApplyResult
from reconciler.cli.interrupt import graceful_stop
from reconciler.cli.options import (
    codat_options,
    merchant_option,
    output_options,
    prune_options,
    secret_env_option,
    stdin_is_terminal,
    throughput_options,
)
from reconciler.cli.output import show_plan
from reconciler.cli.progress import Reporter
from reconciler.cli.target import Connection, open_client
from reconciler.codat.client import CodatClient
from reconciler.errors import ReconcilerError
from reconciler.manifests.references import EnvAllowlist
from reconciler.plan.model import Plan


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@click.option("--plan", "plan_file", metavar="FILE", type=click.Path(dir_okay=False),
              help="Carry out this saved plan exactly, without asking (it was reviewed); "
              "refused if Codat changed since it was made.")
@click.option("--auto-approve", is_flag=True, help="Do not ask for confirmation.")
@prune_options
@throughput_options
@merchant_option("Apply only this merchant's changes (repeatable); the others are left as "
                 "they are.")
@secret_env_option
@codat_options
@output_options
def apply(
    paths: tuple[str, ...],
    plan_file: str | None,
    auto_approve: bool,
    prune: bool,
    max_deletes: int | None,
    parallelism: int,
    max_rate: int,
    merchants: tuple[str, ...],
    secret_env: EnvAllowlist | None,
    connection: Connection,
    reporter: Reporter,
) -> int:
    """Make Codat match the manifests: plan, confirm, carry out.

    \b
    Examples:
      codat-reconciler apply manifests/                 # asks for 'yes' first
      codat-reconciler apply manifests/ --auto-approve  # in CI, on merge
      codat-reconciler apply --plan plan.json           # exactly what was reviewed

    Ctrl-C or SIGTERM while changes are made: no new change starts, those in flight
    finish, a summary says what was not started; exit 130 (SIGINT) or 143 (SIGTERM).
    A second Ctrl-C stops at once.
    """
    if plan_file:
        if paths or prune or merchants:
            raise click.UsageError(
                "--plan takes no PATH, --prune or --merchant: the saved plan already fixes them"
            )
        return _apply_saved(
            plan_file, connection, reporter, parallelism=parallelism, max_rate=max_rate,
            secret_env=secret_env,
        )
    if not paths:
        raise click.UsageError("give the manifest PATHs to apply, or --plan FILE")

    loading = engine.start_loading(paths, merchants, secret_env=secret_env)
    run = engine.PlanRun(prune, merchants, max_deletes, require_secrets=True)
    with open_client(connection, reporter, max_rate=max_rate, parallelism=parallelism) as client:
        planned = engine.plan(client, loading, run, sandbox=connection.is_sandbox,
                              progress=reporter)
        show_plan(planned.plan, "text")
        engine.guard_deletes(planned, run)
        if not planned.plan.has_changes:
            return 1 if planned.plan.blocked else 0
        if not auto_approve:
            _confirm()
        result = _execute(client, planned, parallelism, reporter)
    return _report(result, planned.plan, reporter)


def _confirm() -> None:
    if not stdin_is_terminal():
        raise ReconcilerError(
            "refusing to apply without confirmation: no terminal to ask on. "
            "Pass --auto-approve (e.g. in CI), or apply a reviewed plan with --plan FILE."
        )
    answer = click.prompt(
        "\nDo you want to perform these actions? Only 'yes' will be accepted",
        default="",
        show_default=False,
    )
    if answer.strip() != "yes":
        raise ReconcilerError("apply cancelled: nothing was changed")


def _execute(
    client: CodatClient, planned: engine.Planned, parallelism: int, reporter: Reporter
) -> ApplyResult:
    with graceful_stop(reporter.is_json, client.stop) as stop:
        result = engine.apply(
            client, planned, parallelism=parallelism, progress=reporter, stop=stop.event
        )
    if stop.exit_code is not None:
        result.stopped = f"stopped by {stop.signal.name if stop.signal else 'a signal'}"
        result.exit_code = stop.exit_code
    return result


def _apply_saved(
    plan_file: str,
    connection: Connection,
    reporter: Reporter,
    *,
    parallelism: int,
    max_rate: int,
    secret_env: EnvAllowlist | None,
) -> int:
    """Every check that needs no call comes first: a refused plan changes nothing."""
    target = connection.target
    plan_saved, desired = engine.open_saved_plan(plan_file, target, secret_env=secret_env)
    with open_client(connection, reporter, max_rate=max_rate, parallelism=parallelism) as client:
        planned = engine.verify_saved_plan(
            client, plan_saved, desired, target=target, source=plan_file, progress=reporter
        )
        show_plan(planned.plan, "text")
        result = _execute(client, planned, parallelism, reporter)
    return _report(result, planned.plan, reporter)


def _report(result: ApplyResult, plan: Plan, reporter: Reporter) -> int:
    for failure in result.failed:
        address = failure.change.address
        reporter.tell("failed", f"{address}: {failure.message}", prefix="Error: ", address=address)
    for change in result.skipped:
        reporter.tell("skipped", f"  skipped {change.address} ({change.action.value}): an earlier "
                      "change of this merchant failed", address=change.address,
                      action=change.action.value)
    if result.not_started:
        reporter.tell("not_started", f"  not started: {len(result.not_started)} changes "
                      f"({result.stopped or 'the run was stopped'})",
                      changes=len(result.not_started))
    counts = {"done": len(result.done), "failed": len(result.failed),
              "skipped": len(result.skipped), "not_started": len(result.not_started)}
    state = "interrupted" if result.exit_code else "complete" if result.ok else "incomplete"
    not_started = f", {counts['not_started']} not started" if result.not_started else ""
    click.echo(
        f"\nApply {state}: {counts['done']} done, "
        f"{counts['failed']} failed, {counts['skipped']} skipped{not_started}."
    )
    reporter.record("summary", complete=result.ok, **counts)
    if not result.ok:
        reporter.tell("hint", "Re-run apply to finish: it plans again from what did get done.")
    if result.exit_code:
        return result.exit_code
    if plan.blocked:
        reporter.tell("conflicts", f"{len(plan.blocked)} merchant(s) left alone because of "
                      "conflicts or problems (see the plan above).", merchants=len(plan.blocked))
    return 0 if result.ok and not plan.blocked else 1
