"""Options shared by the commands: output, secrets, pruning, throughput and targeting.

The options choosing a Codat are in cli/target.py, with what they choose.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any, TypeVar, overload

import click

from reconciler import render
from reconciler.cli.progress import Reporter
from reconciler.environment import SECRET_ENV
from reconciler.manifests.references import EnvAllowlist
from reconciler.plan.guard import DEFAULT_MAX_DELETES

F = TypeVar("F", bound=Callable[..., Any])


@overload
def output_options(command: Callable[..., Any]) -> Callable[..., Any]: ...
@overload
def output_options(*, verbose: bool) -> Callable[[Callable[..., Any]], Callable[..., Any]]: ...
def output_options(command: Callable[..., Any] | None = None, *, verbose: bool = False) -> Any:
    """--quiet and --log-format (and --verbose, for commands with details to hide), handed
    to the command as one `reporter: Reporter`. `@output_options` or
    `@output_options(verbose=True)`."""
    if command is None:
        return functools.partial(output_options, verbose=verbose)

    takes_verbose = verbose

    @functools.wraps(command)
    def with_reporter(*args: Any, quiet: bool, log_format: str, **kwargs: Any) -> Any:
        # A command with a --verbose of its own (validate's) keeps it.
        more = bool(kwargs.pop("verbose")) if takes_verbose else False
        if quiet and more:
            raise click.UsageError("--quiet and --verbose ask for opposite things: give one")
        reporter = Reporter(quiet=quiet, verbose=more, log_format=log_format)
        return command(*args, reporter=reporter, **kwargs)

    f: Callable[..., Any] = with_reporter
    f = click.option(
        "--log-format",
        type=click.Choice(["text", "json"]),
        default="text",
        show_default=True,
        help="json: every line on stderr is a JSON object with time (RFC 3339, UTC) and level "
        "(API calls, changes applied, progress, notes, errors).",
    )(f)
    if verbose:
        f = click.option(
            "--verbose",
            "-v",
            is_flag=True,
            help="List every note one by one (by default they are summarised by kind).",
        )(f)
    f = click.option(
        "--quiet",
        "-q",
        is_flag=True,
        help="Only the summary line and errors: no progress, no notes (such as the "
        "'Codat: ...' line), no line per change.",
    )(f)
    return f


def _allowlist(
    ctx: click.Context, param: click.Parameter, value: tuple[str, ...]
) -> EnvAllowlist | None:
    if not value:
        return None
    source = ctx.get_parameter_source(param.name or "")
    given_as = SECRET_ENV if source is click.core.ParameterSource.ENVIRONMENT else "--secret-env"
    try:
        return EnvAllowlist.parse(value, given_as)
    except ValueError as exc:
        raise click.BadParameter(f"{given_as}: {exc}", ctx=ctx, param=param) from None


def secret_env_option(f: F) -> F:
    """--secret-env PATTERN (repeatable; CODAT_SECRET_ENV), handed to the command as
    `secret_env: EnvAllowlist | None`."""
    return click.option(
        "--secret-env",
        "secret_env",
        multiple=True,
        envvar=SECRET_ENV,
        callback=_allowlist,
        metavar="PATTERN",
        help="Authorization values may come only from environment variables matching "
        "PATTERN (shell-style, e.g. 'ACME_*'; letter case counts; repeatable). Env: "
        f"{SECRET_ENV}, patterns separated by commas or spaces; a flag beats it. "
        "Variables of codat-reconciler itself (CODAT_*) and CI job tokens are always refused.",
    )(f)


FORMATS = click.Choice(render.FORMATS)


def prune_options(f: F) -> F:
    f = click.option(
        "--max-deletes",
        type=click.IntRange(min=0),
        metavar="N",
        help=f"Refuse a plan deleting more than N companies: those --prune deletes and the "
        f"tool's own unused twins (default {DEFAULT_MAX_DELETES}; required to prune with an "
        "empty manifest set).",
    )(f)
    f = click.option(
        "--prune",
        is_flag=True,
        help="Also unlink connections and delete companies the manifests no longer declare "
        "(only on companies carrying the ownership tag).",
    )(f)
    return f


def throughput_options(f: F) -> F:
    """--parallelism and --max-rate, for commands that make many calls."""
    f = click.option(
        "--max-rate",
        type=click.IntRange(min=0),
        default=1000,
        show_default=True,
        help="At most N requests in any 60 seconds (Codat's per-IP limit is 1,000); "
        "0 for no limit (sandboxes).",
    )(f)
    f = click.option(
        "--parallelism",
        type=click.IntRange(min=1),
        default=10,
        show_default=True,
        help="Merchants worked on at once.",
    )(f)
    return f


def merchant_options(help: str) -> Callable[[F], F]:
    """--merchant NAME and --exclude NAME (both repeatable, both taking shell-style
    patterns), the first's help worded for the command that takes them."""

    def decorate(f: F) -> F:
        f = click.option(
            "--exclude",
            multiple=True,
            metavar="NAME",
            help="Leave this merchant alone (repeatable); NAME may be a shell-style pattern "
            "such as 'uk-*'. A NAME matching no declared merchant is an error.",
        )(f)
        return click.option(
            "--merchant",
            "merchants",
            multiple=True,
            metavar="NAME",
            help=help + " NAME may be a shell-style pattern such as 'uk-*'.",
        )(f)

    return decorate


def stdin_is_terminal() -> bool:
    # Indirection so tests can run the prompt path through a pseudo-terminal.
    return os.isatty(0)
