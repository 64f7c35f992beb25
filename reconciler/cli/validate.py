"""`validate PATH...`: load and check manifests offline."""

from __future__ import annotations

import json
from typing import Any

import click

from reconciler.cli.options import output_options, secret_env_option
from reconciler.cli.progress import Reporter
from reconciler.manifests.errors import ManifestErrors
from reconciler.manifests.loader import check
from reconciler.manifests.references import EnvAllowlist
from reconciler.render.json_format import manifest_file_list

# Bump only for incompatible changes, as for plan JSON (docs/reference/plan-json.md).
FORMAT_VERSION = 1


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option(
    "--check-secrets",
    is_flag=True,
    help="Also resolve every {env: NAME} and {file: PATH} reference and report those "
    "that cannot be read. Values are never printed.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: one object on stdout with format_version, valid, merchants, "
    "manifest_files [{path, sha256}] and errors [{file, line, column, message}].",
)
@click.option(
    "-v", "--verbose", is_flag=True, help="Text format: also list every manifest file read."
)
@secret_env_option
@output_options
def validate(
    paths: tuple[str, ...],
    check_secrets: bool,
    fmt: str,
    verbose: bool,
    secret_env: EnvAllowlist | None,
    reporter: Reporter,
) -> None:
    """Check manifests offline: no API key, no network call.

    PATH is a manifest file or a directory: every *.yaml / *.yml below it, any
    letter case (x.YAML too), in sorted order. Folders whose name starts with
    '.' (.git) are skipped; symlinked folders are followed, each real folder
    once. A file or folder that cannot be read (no permission, a broken link,
    a symlink loop, a FIFO or device named like a manifest) is an error naming
    it, never skipped. Every problem of every file is reported on stderr as
    FILE:LINE:COLUMN: message, and the exit code is 1 if there is any.

    \b
    Examples:
      codat-reconciler validate manifests/
      codat-reconciler validate manifests/ --verbose          # list the files read
      codat-reconciler validate manifests/ --format json | jq '.manifest_files[].path'
      codat-reconciler validate manifests/uk.yaml --check-secrets
      codat-reconciler validate manifests/ --quiet --log-format json   # errors as JSON lines
    """
    if reporter.quiet and verbose:
        raise click.UsageError("--quiet and --verbose ask for opposite things: give one")
    try:
        checked = check(paths, check_secrets=check_secrets, secret_env=secret_env)
    except ManifestErrors as problems:
        _report(fmt, verbose, problems.files, None, problems)
        raise
    _report(fmt, verbose, checked.files, checked.merchants, None)


def _report(
    fmt: str,
    verbose: bool,
    files: tuple[tuple[str, str], ...],
    merchants: int | None,
    problems: ManifestErrors | None,
) -> None:
    """stdout: the JSON document, or the files read (--verbose) and the OK line.

    Errors themselves go to stderr as the usual report, in every format.
    """
    if fmt == "json":
        document = _document(files, merchants, problems)
        click.echo(json.dumps(document, indent=2, ensure_ascii=False))
        return
    if verbose:
        for path, _ in files:
            click.echo(path)
    if merchants is not None:
        count = len(files)
        click.echo(
            f"OK: {merchants} merchant{'s' if merchants != 1 else ''} "
            f"in {count} file{'s' if count != 1 else ''}"
        )


def _document(
    files: tuple[tuple[str, str], ...], merchants: int | None, problems: ManifestErrors | None
) -> dict[str, Any]:
    errors = problems.errors if problems is not None else ()
    return {
        "format_version": FORMAT_VERSION,
        "valid": problems is None,
        "merchants": merchants,
        "manifest_files": manifest_file_list(files),
        "errors": [
            {
                "file": e.location.file,
                "line": e.location.line,
                "column": e.location.column,
                "message": e.message,
            }
            for e in errors
        ],
    }
