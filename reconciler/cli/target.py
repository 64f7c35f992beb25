"""Which Codat a command talks to, and its API key, from the flags and environment.

A flag beats an environment variable, so an exported CODAT_SANDBOX never
silently redirects an explicit `--base-url` (or the reverse). Two targets given
the same way, both as flags or both in the environment, are an error naming both:
guessing would be the silent redirect again.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import click
from click.core import ParameterSource

from reconciler.cli.interrupt import signals_of
from reconciler.cli.progress import Reporter
from reconciler.codat.client import CodatClient
from reconciler.codat.config import resolve_base_url
from reconciler.engine.target import Target, connect
from reconciler.errors import ReconcilerError

_FLAGS = {"base_url": "--base-url", "sandbox": "--sandbox"}
_ENVS = {"base_url": "CODAT_BASE_URL", "sandbox": "CODAT_SANDBOX"}


@dataclass(frozen=True, slots=True)
class CodatChoice:
    """The Codat a command talks to (`target`) and how: its API key's file, the
    request timeout, and the run's stop event."""

    target: Target
    api_key_file: str | None
    timeout: float = 30.0
    # Set by SIGTERM / Ctrl-C: ends every wait of the client at once (cli/interrupt.py).
    stop: threading.Event = field(default_factory=threading.Event, compare=False)


def codat_choice_from(
    base_url: str | None, sandbox: str | None, api_key_file: str | None, timeout: float
) -> CodatChoice:
    """The Codat the options choose (see the module doc)."""
    values = {"base_url": base_url or None, "sandbox": sandbox or None}
    ctx = click.get_current_context()
    sources = {name: ctx.get_parameter_source(name) for name in _FLAGS}
    given = [name for name, value in values.items() if value is not None]
    if len(given) == 2:
        flags = [n for n in given if sources[n] is ParameterSource.COMMANDLINE]
        if len(flags) == 2:
            raise click.UsageError(
                "--sandbox and --base-url name two different Codats: give one of them"
            )
        if not flags:
            raise ReconcilerError(
                "CODAT_SANDBOX and CODAT_BASE_URL are both set and name two different "
                "Codats: unset one, or choose with --sandbox PATH or --base-url URL"
            )
        given = flags  # a flag beats an environment variable
    return CodatChoice(
        _target(given[0] if given else None, values, sources),
        api_key_file=api_key_file,
        timeout=timeout,
        stop=signals_of(ctx).stop,
    )


def _target(
    name: str | None, values: dict[str, str | None], sources: dict[str, ParameterSource | None]
) -> Target:
    if name is None:
        return Target.codat(resolve_base_url(None), chosen_by="default")
    value = values[name]
    assert value is not None
    by = _FLAGS[name] if sources[name] is ParameterSource.COMMANDLINE else _ENVS[name]
    if name == "sandbox":
        return Target.embedded_sandbox(value, chosen_by=by)
    try:
        return Target.codat(value, chosen_by=by)
    except ReconcilerError as err:
        raise ReconcilerError(f"{by}: {err}") from None


@contextmanager
def open_client(
    codat: CodatChoice, reporter: Reporter, *, max_rate: int = 1000, parallelism: int = 10
) -> Iterator[CodatClient]:
    """The client for the chosen Codat, after saying on stderr which Codat that is."""
    target = codat.target
    reporter.note(
        "target",
        f"Codat: {target.describe()} (from {target.chosen_by})",
        codat=target.location,
        sandbox=target.sandbox,
        chosen_by=target.chosen_by,
    )
    key = None if target.sandbox else load_api_key(codat.api_key_file)
    with connect(
        target,
        api_key=key,
        timeout=codat.timeout,
        max_rate=max_rate,
        parallelism=parallelism,
        observer=reporter.api_call,
        on_retry=reporter.retrying,
        stop=codat.stop,
    ) as client:
        yield client


def load_api_key(api_key_file: str | None = None) -> str:
    """The API key from `--api-key-file`, else CODAT_API_KEY.

    Never taken as a flag value: it would show in `ps` and CI logs.
    """
    if api_key_file:
        try:
            with open(api_key_file, encoding="utf-8") as f:
                key = f.read().strip()
        except OSError as err:
            # strerror only: the OSError's own text is fine, but keep one wording.
            raise ReconcilerError(
                f"cannot read API key file {api_key_file}: {err.strerror}"
            ) from None
        except UnicodeDecodeError:
            # The decoder's message quotes the offending bytes: part of the key.
            raise ReconcilerError(
                f"API key file {api_key_file} is not UTF-8 text: it should hold the key "
                "as Codat shows it, on one line"
            ) from None
        if not key:
            raise ReconcilerError(f"API key file {api_key_file} is empty")
        return key
    key = os.environ.get("CODAT_API_KEY", "").strip()
    if not key:
        raise ReconcilerError("no Codat API key: set CODAT_API_KEY or pass --api-key-file PATH")
    return key
