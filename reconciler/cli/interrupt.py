"""Ctrl-C and SIGTERM: every wait ends at once; during `apply`, no new change starts.

One stop event per run (made by `main()`, found with `stop_of`) is the client's:
setting it ends every wait the client is in (a Retry-After, a rate-limit pause, a
backoff) at once, so a signal is never waited out. Outside `apply` and `watch` the
signal also ends the command (main() turns it into exit 130 or 143).

During `apply` the first SIGINT or SIGTERM sets that event, which the executor
checks before each change, and says so on stderr; the changes in flight finish
(each bounded by the request timeout; one that would have to wait to be retried
stops instead), then the summary lists what was done and what was not started,
and the process exits 130 (SIGINT) or 143 (SIGTERM). A second SIGINT stops at
once, as a person pressing Ctrl-C twice means.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

import click

from reconciler.cli.log_record import json_line, text_line

EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}


def stop_of(ctx: click.Context) -> threading.Event:
    """The stop event of this run: main()'s, or a fresh one when called without it."""
    made = ctx.find_root().obj
    return made if isinstance(made, threading.Event) else threading.Event()


class GracefulStop:
    def __init__(
        self,
        json_log: bool = False,
        event: threading.Event | None = None,
        timestamps: bool = False,
    ) -> None:
        self.event = event or threading.Event()
        self.signal: signal.Signals | None = None
        self._json = json_log
        self._timestamps = timestamps

    def _say(self, event: str, message: str) -> None:
        # Straight to stderr, no lock: a handler runs between two bytecodes of the main
        # thread, which may hold any lock at that moment.
        if self._json:
            line = json_line("warning", {"event": event, "message": message})
        elif self._timestamps:
            line = text_line(message)
        else:
            line = "\n" + message
        sys.stderr.write(line + "\n")
        sys.stderr.flush()

    @property
    def exit_code(self) -> int | None:
        return None if self.signal is None else EXIT_CODES[self.signal]

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        received = signal.Signals(signum)
        if self.signal is not None and received is signal.SIGINT:
            self._say("stopped", "Stopped at once: changes in flight may or may not be done. "
                      "Run plan to see where things stand.")
            os._exit(130)
        if self.signal is None:
            self.signal = received
            self.event.set()
            self._say("stopping", f"{received.name} received: no new change starts; waiting "
                      "for those in flight (Ctrl-C again to stop at once).")


@contextmanager
def graceful_stop(
    json_log: bool = False, event: threading.Event | None = None, timestamps: bool = False
) -> Iterator[GracefulStop]:
    """Handlers for SIGINT and SIGTERM while the block runs (main thread only) that set
    `event` (give the client's, so its waits end too); `timestamps`: a text message starts
    with the time, as a service's log lines do."""
    stop = GracefulStop(json_log, event, timestamps)
    if threading.current_thread() is not threading.main_thread():
        yield stop  # signals reach only the main thread: nothing to install here
        return
    previous = {s: signal.signal(s, stop._handle) for s in EXIT_CODES}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
