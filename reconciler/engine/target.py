"""Which Codat to talk to, and the client that talks to it.

A Target is a base URL or the embedded sandbox's state file. `connect` gives a
CodatClient for it; the API key is only needed for a URL.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler.codat.config import DEFAULT_BASE_URL, looks_base64_encoded, resolve_base_url
from reconciler.codat.observe import ApiCall, RetryObserver
from reconciler.errors import ReconcilerError

if TYPE_CHECKING:
    import httpx

    from reconciler.codat.client import CodatClient

# The embedded sandbox is reached through an in-process transport; this URL is
# never dialled, it only gives requests a well-formed address.
SANDBOX_URL = "http://127.0.0.1"


@dataclass(frozen=True, slots=True)
class Target:
    """A Codat: a base URL, or the embedded sandbox's state file; and who chose it."""

    location: str
    sandbox: bool
    chosen_by: str = "the caller"  # for messages: "--base-url", "CODAT_SANDBOX", ...

    @classmethod
    def codat(cls, base_url: str = DEFAULT_BASE_URL, chosen_by: str = "the caller") -> Target:
        """Codat at `base_url` (https, or http to loopback only)."""
        return cls(resolve_base_url(base_url), sandbox=False, chosen_by=chosen_by)

    @classmethod
    def embedded_sandbox(cls, state: str | Path, chosen_by: str = "the caller") -> Target:
        """The in-process sandbox whose world is the SQLite file `state` (made if missing)."""
        return cls(os.path.abspath(state), sandbox=True, chosen_by=chosen_by)

    def describe(self) -> str:
        return f"embedded sandbox {self.location}" if self.sandbox else self.location


@contextmanager
def connect(
    target: Target,
    *,
    api_key: str | None = None,
    timeout: float = 30.0,
    max_rate: int = 1000,
    parallelism: int = 10,
    observer: Callable[[ApiCall], None] | None = None,
    on_retry: RetryObserver | None = None,
    stop: threading.Event | None = None,
) -> Iterator[CodatClient]:
    """A client for `target`; `api_key` is required for a URL, ignored for the sandbox.

    Setting `stop` ends the client's waits at once (see RequestSender)."""
    # The client (and httpx under it) is imported here, where a client is made: a Target
    # is chosen while a command's options are parsed, `--help` included, and a command
    # shown or refused there must not pay for the HTTP stack.
    from reconciler.codat.client import CodatClient
    from reconciler.codat.errors import CodatAPIError

    options: dict[str, Any] = {
        "timeout": timeout,
        "max_rate": max_rate,
        "observer": observer,
        "on_retry": on_retry,
        "stop": stop,
        "pool_size": parallelism + 4,
    }
    if target.sandbox:
        with CodatClient(
            SANDBOX_URL, transport=_sandbox_transport(target), embedded_sandbox=True, **options
        ) as client:
            yield client
        return
    if not api_key:
        raise ReconcilerError("no Codat API key: set CODAT_API_KEY or pass --api-key-file PATH")
    try:
        with CodatClient(target.location, api_key=api_key, **options) as client:
            yield client
    except CodatAPIError as err:
        if err.status == 401 and looks_base64_encoded(api_key):
            raise ReconcilerError(
                f"{err}; the key looks base64-encoded already: give the key itself, "
                "the tool encodes it"
            ) from None
        raise


def _sandbox_transport(target: Target) -> httpx.BaseTransport:
    from reconciler.sandbox.transport import SandboxTransport

    try:
        return SandboxTransport(target.location)
    except (OSError, sqlite3.Error) as exc:
        raise ReconcilerError(
            state_file_problem(Path(target.location), exc, target.chosen_by)
        ) from None


def state_file_problem(path: Path, exc: Exception, option: str) -> str:
    """Why a sandbox state file would not open, in words that say what to change."""
    if not path.parent.is_dir():
        reason = (
            f"the folder {path.parent} does not exist; create it, or name a file in an "
            "existing folder"
        )
    elif path.is_dir():
        reason = "it is a folder; name an SQLite file (created if missing)"
    elif getattr(exc, "sqlite_errorname", "") == "SQLITE_NOTADB":
        reason = (
            "it is not an SQLite database; name a new file (created if missing) or one "
            "a sandbox made"
        )
    elif isinstance(exc, OSError):
        reason = exc.strerror or type(exc).__name__
    else:
        reason = str(exc)
    return f"{option}: cannot open the sandbox state file {path}: {reason}"
