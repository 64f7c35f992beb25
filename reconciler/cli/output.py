"""How commands show plans and results on the terminal."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

import click

from reconciler.plan.model import Plan
from reconciler.render import render


def use_color() -> bool:
    # Colour only for a person at a terminal, and never under NO_COLOR (no-color.org).
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def show_plan(plan: Plan, fmt: str, manifest_files: Sequence[tuple[str, str]] = ()) -> None:
    color = use_color() and fmt == "text"
    click.echo(render(plan, fmt, color=color, manifest_files=manifest_files), nl=False)


def plan_exit_code(plan: Plan, detailed: bool) -> int:
    if plan.blocked:
        return 1
    if detailed and plan.has_changes:
        return 2
    return 0
