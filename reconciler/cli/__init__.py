"""The `codat-reconciler` command line: one module per command (cli/commands.py)."""

from __future__ import annotations

import sys

import click

from reconciler import __version__
from reconciler.cli.commands import LazyGroup
from reconciler.cli.interrupt import RunSignals, Terminated
from reconciler.cli.progress import Reporter
from reconciler.errors import ReconcilerError


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="codat-reconciler")
def cli() -> None:
    """Manage Codat Sync for Commerce merchants from YAML manifests in Git.

    \b
    Typical flow:
      codat-reconciler validate manifests/
      codat-reconciler plan manifests/ --out plan.json
      codat-reconciler apply --plan plan.json
    """


def main(argv: list[str] | None = None) -> None:
    """Entry point: every user-caused failure ends as a message and exit 1, never a traceback."""
    # One handler for the whole run (cli/interrupt.py): a signal ends the client's
    # waits at once, in every thread, and ends the command unless it stops gracefully.
    signals = RunSignals()
    with signals.installed():
        _run(argv, signals)


def _run(argv: list[str] | None, signals: RunSignals) -> None:
    args = sys.argv[1:] if argv is None else argv
    log = Reporter(log_format="json" if asks_for_json_log(args) else "text")
    try:
        code = cli.main(args=args, prog_name="codat-reconciler", standalone_mode=False, obj=signals)
    except ReconcilerError as err:
        log.tell("error", str(err), prefix=err.prefix, level="error")
        sys.exit(err.exit_code)
    except click.exceptions.Abort as err:
        if isinstance(err.__cause__, KeyboardInterrupt):  # click wraps Ctrl-C in Abort
            log.tell("error", "Interrupted.", level="error")
            sys.exit(130)
        log.tell("error", "Aborted.", level="error")
        sys.exit(1)
    except Terminated:
        log.tell("error", "Terminated (SIGTERM).", level="error")
        sys.exit(143)
    except click.ClickException as err:
        # Usage errors exit 1, not click's 2: exit 2 means "plan has changes" to CI.
        if log.is_json:
            log.tell("error", err.format_message(), level="error")
        else:
            err.show()
        sys.exit(1)
    except KeyboardInterrupt:
        log.tell("error", "Interrupted.", level="error")
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)


def asks_for_json_log(args: list[str]) -> bool:
    """`--log-format json` among the options, known before click parses (and maybe refuses) them.

    Errors click raises while parsing must be JSON lines too, and by then no
    command has seen its options.
    """
    for i, arg in enumerate(args):
        if arg == "--":
            break
        if arg == "--log-format=json" or [arg, *args[i + 1 : i + 2]] == ["--log-format", "json"]:
            return True
    return False
