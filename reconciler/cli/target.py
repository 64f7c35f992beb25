"""Which Codat a command talks to, and its API key, from the flags and environment.

A flag beats an environment variable, so an exported CODAT_SANDBOX never
silently redirects an explicit `--base-url` (or the reverse). Two targets given
the same way, both as flags or both in the environment, are an error naming both:
guessing would be the silent redirect again.
"""

from __future__ import annotations

import functools
import math
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import click
from click.core import ParameterSource

from reconciler.cli.interrupt import signals_of
from reconciler.cli.progress import Reporter
from reconciler.codat.config import resolve_base_url
from reconciler.engine.target import Target, connect
from reconciler.errors import ReconcilerError

if TYPE_CHECKING:
    from reconciler.codat.client import CodatClient

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


def _refuse_api_key_flag(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is not None:
        raise click.BadParameter(
            "the API key is never accepted as a flag value: it would show in `ps` and CI logs. "
            "Set CODAT_API_KEY in the environment or pass --api-key-file PATH.",
            ctx=ctx,
            param=param,
        )


MAX_TIMEOUT = 3600.0


def _a_number(ctx: click.Context, param: click.Parameter, value: float) -> float:
    # FloatRange lets nan through (every comparison with nan is false); the
    # socket layer then crashes on it.
    if math.isnan(value):
        raise click.BadParameter("nan is not a number of seconds", ctx=ctx, param=param)
    return value


def codat_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--base-url, --api-key-file, --sandbox and --timeout, handed to the command as one
    typed `codat: CodatChoice` argument."""

    @functools.wraps(command)
    def with_codat(
        *args: Any,
        base_url: str | None,
        api_key_file: str | None,
        sandbox: str | None,
        timeout: float,
        **kwargs: Any,
    ) -> Any:
        codat = codat_choice_from(base_url, sandbox, api_key_file, timeout)
        return command(*args, codat=codat, **kwargs)

    f = with_codat
    f = click.option(
        "--api-key",
        hidden=True,
        expose_value=False,
        callback=_refuse_api_key_flag,
        help="Refused: use CODAT_API_KEY or --api-key-file.",
    )(f)
    f = click.option(
        "--timeout",
        type=click.FloatRange(0.1, MAX_TIMEOUT),
        callback=_a_number,
        default=30.0,
        show_default=True,
        envvar="CODAT_TIMEOUT",
        metavar="SECONDS",
        help="Give up on one attempt of a Codat call after this long (it is then retried); "
        f"0.1 to {MAX_TIMEOUT:g}. Env: CODAT_TIMEOUT.",
    )(f)
    f = click.option(
        "--sandbox",
        envvar="CODAT_SANDBOX",
        metavar="PATH",
        help="Use the embedded Codat sandbox with its state in the SQLite file PATH "
        "(created if missing); no network, no API key. Env: CODAT_SANDBOX. A flag beats "
        "the environment; --sandbox with --base-url is an error.",
    )(f)
    f = click.option(
        "--api-key-file",
        metavar="PATH",
        type=click.Path(dir_okay=False),
        help="Read the Codat API key from PATH instead of CODAT_API_KEY.",
    )(f)
    f = click.option(
        "--base-url",
        envvar="CODAT_BASE_URL",
        metavar="URL",
        help="Codat API base URL (default https://api.codat.io; plain http only to "
        "loopback). Env: CODAT_BASE_URL. A flag beats the environment.",
    )(f)
    return f


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
