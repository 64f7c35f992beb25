"""How commands show plans and results on the terminal."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

import click

from reconciler.cli.progress import Reporter
from reconciler.plan.model import Plan
from reconciler.render import Detail, render


def use_color() -> bool:
    # Colour only for a person at a terminal that shows it: never under NO_COLOR
    # (no-color.org), nor on a terminal that declares it has no colours (TERM=dumb).
    return (
        sys.stdout.isatty() and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"
    )


def show_plan(
    plan: Plan,
    fmt: str,
    manifest_files: Sequence[tuple[str, str]] = (),
    *,
    detail: Detail = Detail.NORMAL,
) -> None:
    color = use_color() and fmt == "text"
    text = render(plan, fmt, color=color, manifest_files=manifest_files, detail=detail)
    click.echo(text, nl=False)


def detail_of(reporter: Reporter) -> Detail:
    return Detail.of(quiet=reporter.quiet, verbose=reporter.verbose)


def plan_exit_code(plan: Plan, detailed: bool) -> int:
    if plan.blocked:
        return 1
    if detailed and plan.has_changes:
        return 2
    return 0
