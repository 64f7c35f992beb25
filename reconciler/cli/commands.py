"""The list of commands, in the order `--help` shows them."""

from __future__ import annotations

import click

from reconciler.cli.apply import apply
from reconciler.cli.export import export
from reconciler.cli.plan import plan
from reconciler.cli.sandbox import sandbox
from reconciler.cli.show import show
from reconciler.cli.status import status
from reconciler.cli.sync_url import sync_url
from reconciler.cli.validate import validate
from reconciler.cli.watch import watch

ALL: list[click.Command] = [validate, plan, apply, status, show, export, sync_url, sandbox, watch]
