"""`apply`: plan, confirm, then carry the plan out (or carry out a saved plan)."""

from __future__ import annotations

import select
import signal
import sys
from typing import TYPE_CHECKING

import click

from reconciler import credentials, engine
from reconciler.cli.fingerprints import given_key
from reconciler.cli.interrupt import EXIT_CODES, signals_of
from reconciler.cli.options import (
    merchant_options,
    output_options,
    prune_options,
    secret_env_option,
    stdin_is_terminal,
    throughput_options,
)
from reconciler.cli.output import detail_of, show_plan
from reconciler.cli.progress import Reporter
from reconciler.cli.target import CodatChoice, codat_options, open_client
from reconciler.errors import ReconcilerError
from reconciler.manifests.references import EnvAllowlist
from reconciler.plan.model import Action, Plan
from reconciler.render.wording import plural

if TYPE_CHECKING:
    from reconciler.apply.executor import ApplyResult
    from reconciler.codat.client import CodatClient

ANSWER_POLL = 0.2  # seconds a Ctrl-C at the prompt may wait to be seen


class Cancelled(ReconcilerError):
    """Ctrl-C at the confirmation prompt: nothing had started."""

    exit_code = 130


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@click.option(
    "--plan",
    "plan_file",
    metavar="FILE",
    type=click.Path(dir_okay=False),
    help="Carry out this saved plan exactly, without asking (it was reviewed); "
    "refused if Codat changed since it was made.",
)
@click.option("--auto-approve", is_flag=True, help="Do not ask for confirmation.")
@click.option(
    "--no-fingerprints",
    is_flag=True,
    help=f"Authorize connections although {credentials.KEY_ENV} is not set, so no "
    "fingerprint of the credentials is recorded (a warning says so). Without it, "
    "such an apply is refused.",
)
@prune_options
@throughput_options
@merchant_options(
    "Apply only this merchant's changes (repeatable); the others are left as they are."
)
@secret_env_option
@codat_options
@output_options(verbose=True)
def apply(
    paths: tuple[str, ...],
    plan_file: str | None,
    auto_approve: bool,
    no_fingerprints: bool,
    prune: bool,
    max_deletes: int | None,
    parallelism: int,
    max_rate: int,
    merchants: tuple[str, ...],
    exclude: tuple[str, ...],
    secret_env: EnvAllowlist | None,
    codat: CodatChoice,
    reporter: Reporter,
) -> int:
    """Make Codat match the manifests: plan, confirm, carry out.

    \b
    Examples:
      codat-reconciler apply manifests/                 # asks for 'yes' first
      codat-reconciler apply manifests/ --auto-approve  # in CI, on merge
      codat-reconciler apply --plan plan.json           # exactly what was reviewed

    Each change prints a line as it completes (`merchant["X"]: company created
    [id=...]`); a failure prints as it happens.

    Authorizations are refused without CODAT_RECONCILER_KEY (the key that
    fingerprints the credentials sent, so later plans notice a rotated secret)
    unless --no-fingerprints is given. The embedded --sandbox needs no key.

    Ctrl-C or SIGTERM while changes are made: no new change starts, those in flight
    finish, a summary says what was not started; exit 130 (SIGINT) or 143 (SIGTERM).
    A second Ctrl-C stops at once.
    """
    if plan_file:
        if paths or prune or merchants or exclude:
            raise click.UsageError(
                "--plan takes no PATH, --prune, --merchant or --exclude: the saved plan "
                "already fixes them"
            )
        if no_fingerprints:
            raise click.UsageError(
                f"--plan takes no --no-fingerprints: a saved plan's secrets are checked "
                f"against it with {credentials.KEY_ENV}, so it is needed either way"
            )
        return _apply_saved(
            plan_file,
            codat,
            reporter,
            parallelism=parallelism,
            max_rate=max_rate,
            secret_env=secret_env,
        )
    if not paths:
        raise click.UsageError("give the manifest PATHs to apply, or --plan FILE")

    loading = engine.start_loading(paths, merchants, exclude, secret_env=secret_env)
    run = engine.PlanRun(
        prune,
        merchants,
        max_deletes,
        require_secrets=True,
        exclude=exclude,
        fingerprint_key=given_key(),
    )
    with open_client(codat, reporter, max_rate=max_rate, parallelism=parallelism) as client:
        planned = engine.plan(client, loading, run, progress=reporter)
        show_plan(planned.plan, "text", detail=detail_of(reporter))
        engine.guard_deletes(planned, run)
        if not planned.plan.has_changes:
            return 1 if planned.plan.blocked else 0
        _check_fingerprints(planned.plan, client, no_fingerprints, reporter)
        if not auto_approve:
            _confirm()
        result, stopped_by = _execute(client, planned, parallelism, reporter)
    return _report(result, planned.plan, reporter, stopped_by)


def _check_fingerprints(
    plan: Plan, client: CodatClient, no_fingerprints: bool, reporter: Reporter
) -> None:
    """Authorizations sent without the fingerprint key leave no trace of what was sent: the
    next plan with the key must send them all again. Only on purpose, then."""
    sent = plan.count(Action.AUTHORIZE)
    key = credentials.fingerprint_key(given_key(), embedded_sandbox=client.embedded_sandbox)
    if not sent or key is not None:
        return
    authorizations = plural(sent, "authorization", "authorizations", "{:,}".format)
    if not no_fingerprints:
        raise ReconcilerError(
            f"refusing to apply: {authorizations} would be sent without "
            f"{credentials.KEY_ENV}, the key that fingerprints the credentials sent (it never "
            "goes to Codat), so later plans notice a rotated secret. Set it to a random "
            "secret kept with your CI secrets, the same for every run (e.g. `openssl rand "
            "-hex 32`), or pass --no-fingerprints to authorize without recording fingerprints. "
            "Nothing was changed."
        )
    reporter.warn(
        "no_fingerprints",
        f"--no-fingerprints: {authorizations} sent without {credentials.KEY_ENV}, so no "
        "fingerprint is recorded; the first apply with the key set sends them again to "
        "record one.",
        authorizations=sent,
    )


def _confirm() -> None:
    if not stdin_is_terminal():
        raise ReconcilerError(
            "refusing to apply without confirmation: no terminal to ask on. "
            "Pass --auto-approve (e.g. in CI), or apply a reviewed plan with --plan FILE."
        )
    try:
        answer = _ask("\nDo you want to perform these actions? Only 'yes' will be accepted: ")
    except KeyboardInterrupt:
        click.echo()  # end the prompt's line: the answer never came
        raise Cancelled("apply interrupted at the prompt: nothing was changed") from None
    except EOFError:
        click.echo()
        raise ReconcilerError("apply cancelled (no answer): nothing was changed") from None
    if answer.strip() != "yes":
        raise ReconcilerError("apply cancelled: nothing was changed")


def _ask(question: str) -> str:
    """The line typed in answer; EOFError at the end of input.

    Waits in short polls, not one blocking read: Ctrl-C's SIGINT may be delivered to
    another thread (the embedded sandbox has one), and a main thread blocked in read()
    would never run the handler that raises KeyboardInterrupt.
    """
    click.echo(question, nl=False)
    stdin = sys.stdin
    try:
        stdin.fileno()
    except (AttributeError, OSError, ValueError):
        pass  # not a file (a test's input): nothing to wait for
    else:
        while not select.select([stdin], [], [], ANSWER_POLL)[0]:
            pass
    line = stdin.readline()
    if not line:
        raise EOFError
    return line


def _execute(
    client: CodatClient, planned: engine.Planned, parallelism: int, reporter: Reporter
) -> tuple[ApplyResult, signal.Signals | None]:
    """The result, and the signal that stopped the run (None: it ran to its end)."""
    signals = signals_of(click.get_current_context())
    with signals.graceful(reporter.is_json) as taken:
        result = engine.apply(
            client, planned, parallelism=parallelism, progress=reporter, stop=signals.stop
        )
    if taken.signal is not None:
        result.stopped = f"stopped by {taken.signal.name}"
    return result, taken.signal


def _apply_saved(
    plan_file: str,
    codat: CodatChoice,
    reporter: Reporter,
    *,
    parallelism: int,
    max_rate: int,
    secret_env: EnvAllowlist | None,
) -> int:
    """Every check that needs no call comes first: a refused plan changes nothing (one
    with authorizations, without CODAT_RECONCILER_KEY, among them)."""
    key = given_key()
    plan_saved, desired = engine.open_saved_plan(
        plan_file, codat.target, secret_env=secret_env, fingerprint_key=key
    )
    with open_client(codat, reporter, max_rate=max_rate, parallelism=parallelism) as client:
        planned = engine.verify_saved_plan(
            client, plan_saved, desired, source=plan_file, fingerprint_key=key, progress=reporter
        )
        show_plan(planned.plan, "text", detail=detail_of(reporter))
        result, stopped_by = _execute(client, planned, parallelism, reporter)
    return _report(result, planned.plan, reporter, stopped_by)


def _report(
    result: ApplyResult, plan: Plan, reporter: Reporter, stopped_by: signal.Signals | None
) -> int:
    for failure in result.failed:
        address = failure.change.address
        if reporter.is_json or (address, failure.message) not in reporter.failures_told:
            reporter.tell(
                "failed", f"{address}: {failure.message}", prefix="Error: ", address=address
            )
    for change in result.skipped:
        reporter.tell(
            "skipped",
            f"  skipped {change.address} ({change.action.value}): an earlier "
            "change of this merchant failed",
            level="warning",
            address=change.address,
            action=change.action.value,
        )
    if result.not_started:
        changes = plural(len(result.not_started), "change", "changes", "{:,}".format)
        reporter.tell(
            "not_started",
            f"  not started: {changes} ({result.stopped or 'the run was stopped'})",
            level="warning",
            changes=len(result.not_started),
        )
    counts = {
        "done": len(result.done),
        "failed": len(result.failed),
        "skipped": len(result.skipped),
        "not_started": len(result.not_started),
    }
    state = "interrupted" if stopped_by else "complete" if result.ok else "incomplete"
    not_started = f", {counts['not_started']:,} not started" if result.not_started else ""
    click.echo(
        f"\nApply {state}: {counts['done']:,} done, "
        f"{counts['failed']:,} failed, {counts['skipped']:,} skipped{not_started}."
    )
    reporter.record("summary", level="info" if result.ok else "error", complete=result.ok, **counts)
    if not result.ok:
        reporter.tell("hint", "Re-run apply to finish: it plans again from what did get done.")
    if stopped_by is not None:
        return EXIT_CODES[stopped_by]
    if plan.blocked:
        merchants = plural(len(plan.blocked), "merchant", "merchants", "{:,}".format)
        reporter.tell(
            "conflicts",
            f"{merchants} left alone because of conflicts or problems (see the plan above).",
            level="error",
            merchants=len(plan.blocked),
        )
    return 0 if result.ok and not plan.blocked else 1
