"""Ctrl-C and SIGTERM, handled one way for the whole run.

`main()` makes one `RunSignals` per run and installs its handler for SIGINT and
SIGTERM. Its `stop` event is the client's (found with `signals_of`): any signal
sets it, which ends every wait the client is in (a Retry-After, a rate-limit
pause, a backoff) at once, so a signal is never waited out. What else happens
depends on what the command is doing:

- by default the signal also ends the command: main() turns it into exit 130
  (SIGINT) or 143 (SIGTERM);
- inside `graceful()` (`apply` making changes, `watch` serving) it is only
  recorded and said on stderr: the executor checks the event before each change,
  the changes in flight finish (each bounded by the request timeout; one that would
  have to wait to be retried stops instead), and the command maps the signal it saw
  to its exit code. A second SIGINT stops at once, as a person pressing Ctrl-C
  twice means;
- inside `quietly()` (`sandbox serve`) it is only recorded: the command stops
  serving and exits 0.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType

import click

from reconciler.cli.log_record import json_line, text_line

EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}


class Terminated(BaseException):
    """SIGTERM while the command is not stopping gracefully: nothing was changing."""


@dataclass(slots=True)
class GracefulStop:
    """How a signal is taken inside `graceful()`, and the signal seen (None: none yet)."""

    json_log: bool = False
    timestamps: bool = False
    say: bool = True
    signal: signal.Signals | None = None

    @property
    def exit_code(self) -> int | None:
        return None if self.signal is None else EXIT_CODES[self.signal]

    def tell(self, event: str, message: str) -> None:
        if not self.say:
            return
        # Straight to stderr, no lock: a handler runs between two bytecodes of the main
        # thread, which may hold any lock at that moment.
        if self.json_log:
            line = json_line("warning", {"event": event, "message": message})
        elif self.timestamps:
            line = text_line(message)
        else:
            line = "\n" + message
        sys.stderr.write(line + "\n")
        sys.stderr.flush()


class RunSignals:
    """The run's signal handler and its stop event (see the module doc)."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self._graceful: GracefulStop | None = None
        self._installed = False

    @contextmanager
    def installed(self) -> Iterator[None]:
        """The handler for SIGINT and SIGTERM while the block runs (main thread only:
        signals reach no other)."""
        if self._installed or threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {s: signal.signal(s, self._handle) for s in EXIT_CODES}
        self._installed = True
        try:
            yield
        finally:
            self._installed = False
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    @contextmanager
    def graceful(self, json_log: bool = False, timestamps: bool = False) -> Iterator[GracefulStop]:
        """While the block runs a signal sets `stop` and is recorded, not raised;
        `timestamps`: a text message starts with the time, as a service's lines do."""
        with self._taking(GracefulStop(json_log, timestamps)) as taken:
            yield taken

    @contextmanager
    def quietly(self) -> Iterator[GracefulStop]:
        """While the block runs a signal sets `stop` and is recorded, saying nothing."""
        with self._taking(GracefulStop(say=False)) as taken:
            yield taken

    @contextmanager
    def _taking(self, taken: GracefulStop) -> Iterator[GracefulStop]:
        outer = self._graceful
        self._graceful = taken
        try:
            with self.installed():
                yield taken
        finally:
            self._graceful = outer

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        received = signal.Signals(signum)
        self.stop.set()
        taken = self._graceful
        if taken is None:
            if received is signal.SIGINT:
                raise KeyboardInterrupt()
            raise Terminated()
        if taken.signal is not None and received is signal.SIGINT and taken.say:
            taken.tell(
                "stopped",
                "Stopped at once: changes in flight may or may not be done. "
                "Run plan to see where things stand.",
            )
            os._exit(130)
        if taken.signal is None:
            taken.signal = received
            taken.tell(
                "stopping",
                f"{received.name} received: no new change starts; waiting "
                "for those in flight (Ctrl-C again to stop at once).",
            )


def signals_of(ctx: click.Context) -> RunSignals:
    """The signals of this run: main()'s, or fresh ones (installed only by `graceful`
    or `quietly`) when the command runs without it."""
    made = ctx.find_root().obj
    if isinstance(made, RunSignals):
        return made
    fresh = RunSignals()
    ctx.find_root().obj = fresh
    return fresh
