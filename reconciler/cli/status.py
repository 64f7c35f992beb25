"""`status PATH...`: which declared merchants can sync, and what each is waiting for."""

from __future__ import annotations

import json

import click

from reconciler import engine
from reconciler.cli.options import (
    merchant_options,
    output_options,
    secret_env_option,
    throughput_options,
)
from reconciler.cli.output import detail_of
from reconciler.cli.progress import Reporter
from reconciler.cli.target import CodatChoice, codat_options, open_client
from reconciler.manifests.references import EnvAllowlist
from reconciler.readiness.model import MerchantStatus, ReadinessState
from reconciler.readiness.render import render_json, render_text
from reconciler.readiness.webhook import watch_consumer
from reconciler.render.wording import plural


@click.command()
# No `exists=True`: the loader names a missing PATH like every other manifest problem.
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@merchant_options("Report only this merchant (repeatable).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format (json: see docs/reference/status-json.md).",
)
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 2 when a merchant is not ready, 0 when all are (1 when something "
    "could not be read).",
)
@throughput_options
@secret_env_option
@codat_options
@output_options(verbose=True)
def status(
    paths: tuple[str, ...],
    merchants: tuple[str, ...],
    exclude: tuple[str, ...],
    fmt: str,
    detailed_exitcode: bool,
    parallelism: int,
    max_rate: int,
    secret_env: EnvAllowlist | None,
    codat: CodatChoice,
    reporter: Reporter,
) -> int:
    """Show which declared merchants can sync, and what each is waiting for.

    A merchant is `ready` when it has one company, every declared connection is
    Linked, the merchant completed the sync flow (configured and enabled) and
    its latest sync, if any, did not fail. Otherwise it is `waiting` (the reasons
    say what for and who acts), `missing` (no company yet: run apply),
    `conflict` (no single company) or `error` (a read failed; the message has
    Codat's correlationId). Reads one company listing, then two calls per
    merchant that has a company, read-only. When the manifests' client section
    declares the webhook consumer `watch` listens on (a URL ending in
    /webhooks/codat), it also says whether that consumer exists and is enabled.

    \b
    Examples:
      codat-reconciler status manifests/
      codat-reconciler status manifests/ --merchant 12345678
      codat-reconciler status manifests/ --verbose        # every merchant's reasons in full
      codat-reconciler status manifests/ --format json | jq '.merchants[].waitingFor[]'
      codat-reconciler status manifests/ --detailed-exitcode  # a scheduled job: 2 = not all ready
    """
    desired = engine.load_manifests(paths, secret_env=secret_env)
    targets = engine.select_merchants(desired, merchants, exclude, paths)
    with open_client(codat, reporter, max_rate=max_rate, parallelism=parallelism) as client:
        statuses = engine.status(
            client,
            desired,
            merchants=targets,
            paths=paths,
            parallelism=parallelism,
            progress=reporter,
        )
        consumer = watch_consumer(client, desired)
    text = render_json(statuses) if fmt == "json" else render_text(statuses, detail_of(reporter))
    if consumer is not None and fmt == "json":
        document = json.loads(text)
        document["watchConsumer"] = {"url": consumer.url, "state": consumer.state.value}
        text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    elif consumer is not None:
        text += consumer.sentence() + "\n"
    click.echo(text, nl=False)
    return _exit_code(statuses, detailed_exitcode, reporter)


def _exit_code(statuses: list[MerchantStatus], detailed: bool, reporter: Reporter) -> int:
    unread = [s.name for s in statuses if s.state is ReadinessState.ERROR]
    if unread:
        names = ", ".join(f'"{n}"' for n in unread)
        reporter.tell(
            "error",
            f"could not read the status of "
            f"{plural(len(unread), 'merchant', 'merchants')} ({names}); the reasons, "
            "with Codat's correlationId, are in their waitingFor.",
            prefix="Error: ",
            merchants=unread,
        )
        return 1
    if detailed and any(s.state is not ReadinessState.READY for s in statuses):
        return 2
    return 0
