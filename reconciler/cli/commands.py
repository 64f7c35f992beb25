"""The commands, each loaded only when it runs or its help is shown.

A command's module imports what that command needs (the HTTP client, the
planner, the sandbox server), and a run of one command must not pay for the
others: `validate` of 100,000 merchants has a budget measured against reading
their YAML, whole process included. So the group knows each command by the
module that defines it and imports that module only when asked for it, as
click documents for lazily loaded subcommands.
"""

from __future__ import annotations

import importlib

import click

# Name -> "module:attribute". `--help` lists them in click's order (sorted by name).
COMMANDS = {
    "validate": "reconciler.cli.validate:validate",
    "plan": "reconciler.cli.plan:plan",
    "apply": "reconciler.cli.apply:apply",
    "status": "reconciler.cli.status:status",
    "show": "reconciler.cli.show:show",
    "export": "reconciler.cli.export:export",
    "sync-url": "reconciler.cli.sync_url:sync_url",
    "sandbox": "reconciler.cli.sandbox:sandbox",
    "watch": "reconciler.cli.watch:watch",
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported from COMMANDS on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        loaded = self.commands.get(cmd_name)
        if loaded is not None or cmd_name not in COMMANDS:
            return loaded
        module_name, attribute = COMMANDS[cmd_name].split(":")
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{COMMANDS[cmd_name]} is not a click command")
        self.add_command(command, cmd_name)
        return command

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        if args and args[0] not in COMMANDS and args[0] not in self.commands:
            # A name that is none of ours: click suggests a near one among the commands
            # loaded, so load them all (an error path: the time does not matter).
            for name in COMMANDS:
                self.get_command(ctx, name)
        return super().resolve_command(ctx, args)
