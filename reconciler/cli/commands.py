"""The list of commands, in the order `--help` shows them."""

from __future__ import annotations

import click

from reconciler.cli.sandbox import sandbox
from reconciler.cli.validate import validate

ALL: list[click.Command] = [validate, sandbox]
