"""What a command tells the operator while it works: progress and API-call logs.

All of it goes to stderr, so stdout stays the plan (pipeable, diffable).
- On a terminal: one progress bar, redrawn in place.
- Without a terminal (CI): a plain line now and then, never a bar.
- Each change `apply` completes: one line (`merchant["X"]: company created
  [id=...]`) as it completes, a failure as it happens (see reconciler/cli/log_record.py
  for what a line looks like in a service's log, with its time).
- `--quiet`: no progress, no notes (which Codat) and no line per change; what the
  operator must act on or keep (errors, failed changes, files written) still shows.
- `--log-format json`: every line on stderr is one JSON object with `time` and
  `level`: every API call attempt, every change applied, progress (a bar would
  corrupt the stream), notes and errors. Records carry no header or body, so no
  secret can reach them.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import Any, TextIO

from reconciler.cli.log_record import Clock, Level, json_line, text_line, utc_now
from reconciler.codat.observe import ApiCall, Retrying
from reconciler.plan.model import Change, Operation

BAR_WIDTH = 30
LINE_INTERVAL = 5.0  # seconds between plain progress lines in CI
REDRAW_INTERVAL = 0.1
# Work done faster than this shows no progress at all: a flash of a bar, or CI
# lines for a read of five companies, would only be noise.
QUIET_START = 1.0
LINE_WIDTH = 100  # what a redrawn bar, or a line written over one, covers

# What a completed change did, after its address (`merchant["X"]: company created`).
_DONE = {
    Operation.CREATE_COMPANY: "company created",
    Operation.UPDATE_COMPANY: "company updated",
    Operation.DELETE_COMPANY: "company deleted",
    Operation.CREATE_CONNECTION: "connection created",
    Operation.UNLINK_CONNECTION: "unlinked",
    Operation.AUTHORIZE_CONNECTION: "authorized",
    Operation.CREATE_WEBHOOK: "webhook consumer created",
    Operation.REPLACE_WEBHOOK: "webhook consumer replaced",
    Operation.DELETE_WEBHOOK: "webhook consumer deleted",
    Operation.SET_SYNC_SETTING: "sync setting updated",
    Operation.SET_SYNC_FLOW_TEXT: "text updated",
    Operation.SET_VISIBLE_ACCOUNTS: "visible accounts updated",
}


def created_id(change: Change) -> str | None:
    """The id of what a completed create made (the executor fills it in)."""
    if change.operation is Operation.CREATE_COMPANY:
        return change.company_id
    if change.operation is Operation.CREATE_CONNECTION:
        return change.connection_id
    return None


def done_line(change: Change) -> str:
    """`merchant["X"]: company created [id=...]`: what a completed change did."""
    made = created_id(change)
    return f"{change.address}: {_DONE[change.operation]}" + (f" [id={made}]" if made else "")


class Reporter:
    def __init__(
        self,
        *,
        quiet: bool = False,
        verbose: bool = False,
        log_format: str = "text",
        stream: TextIO | None = None,
        terminal: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Clock = utc_now,
    ) -> None:
        self._stream = stream or sys.stderr
        self._quiet = quiet
        self._verbose = verbose
        self._json = log_format == "json"
        self._wall_clock = wall_clock
        # A service's text log carries the time on each line (set by `watch`).
        self.timestamps = False
        # Failures already told as they happened (address, message): the end of a run
        # repeats only those it learnt later.
        self.failures_told: set[tuple[str, str]] = set()
        self._terminal = self._stream.isatty() if terminal is None else terminal
        self._clock = clock
        self._lock = threading.Lock()
        self._observers: list[Callable[[ApiCall], None]] = []
        self._task: tuple[str, int] | None = None
        self._done = 0
        self._failed = 0
        self._started = 0.0
        self._last_shown = float("-inf")
        self._shown_any = False

    @property
    def is_json(self) -> bool:
        return self._json

    @property
    def quiet(self) -> bool:
        return self._quiet

    @property
    def verbose(self) -> bool:
        return self._verbose

    # -- logs ---------------------------------------------------------------

    def also_observe(self, observer: Callable[[ApiCall], None]) -> None:
        """Hand every API call to `observer` too (watch counts them for /metrics)."""
        self._observers.append(observer)

    def api_call(self, call: ApiCall) -> None:
        for observer in self._observers:
            observer(call)
        if self._json:
            trouble = call.error is not None or call.status is None or call.status >= 429
            self._emit(
                "warning" if trouble else "info",
                {
                    "event": "api_call",
                    "method": call.method,
                    "path": call.path,
                    "status": call.status,
                    "duration_ms": round(call.duration_ms, 1),
                    "attempt": call.attempt,
                    "correlationId": call.correlation_id,
                    **({"error": call.error} if call.error else {}),
                },
            )

    def retrying(self, retry: Retrying) -> None:
        """A call sent again or held back: one line each, so a slow or failing Codat never
        looks hung. Shown with --quiet too: a silent minute is what it must never be."""
        if self._json:
            self._emit(
                "warning",
                {
                    "event": retry.event,
                    "message": retry.describe(),
                    "method": retry.method,
                    "url": retry.url,
                    "attempt": retry.attempt,
                    "attempts": retry.attempts,
                    "cause": retry.cause,
                    "wait_s": round(retry.wait_s, 1),
                },
            )
        else:
            self._over_bar(retry.describe())

    def change_applied(self, change: Change, error: str | None) -> None:
        if self._json:
            self._emit(
                "error" if error else "info",
                {
                    "event": "change",
                    "address": change.address,
                    "action": change.action.value,
                    "result": "failed" if error else "ok",
                    **({"id": made} if (made := created_id(change)) and not error else {}),
                    **({"error": error} if error else {}),
                },
            )
        elif error:
            self.failures_told.add((change.address, error))
            self._over_bar(f"Error: {change.address}: {error}")
        elif not self._quiet:
            self._over_bar(done_line(change))
        if error:
            with self._lock:
                self._failed += 1
        self.advance()

    def _over_bar(self, line: str) -> None:
        """A line of its own, over the bar when one is drawn; the bar is drawn again below."""
        with self._lock:
            over = self._terminal and self._shown_any and self._task is not None
            self._last_shown = float("-inf")
        self._line(("\r" + line).ljust(LINE_WIDTH) if over else line)

    # -- messages -----------------------------------------------------------

    def note(self, event: str, message: str, **fields: Any) -> None:
        """Context the operator may want (which Codat); --quiet hides it."""
        if not self._quiet:
            self.tell(event, message, **fields)

    def tell(
        self,
        event: str,
        message: str,
        *,
        prefix: str = "",
        level: Level | None = None,
        **fields: Any,
    ) -> None:
        """What the operator must see even with --quiet: errors, results, what to do next.

        `prefix` ("Error: ") is for people: a JSON record's event and level say it already.
        The level is `error` after an "Error" prefix, `warning` after "Warning", else `info`.
        """
        if level is None:
            level = (
                "error"
                if prefix.startswith("Error")
                else "warning"
                if prefix.startswith("Warning")
                else "info"
            )
        if self._json:
            self._emit(level, {"event": event, "message": message.strip(), **fields})
        else:
            self._line(f"{prefix}{message}")

    def warn(self, event: str, message: str, **fields: Any) -> None:
        """Something the operator chose that weakens a guarantee: shown even with --quiet."""
        self.tell(event, message, prefix="Warning: ", **fields)

    def record(self, event: str, *, level: Level = "info", **fields: Any) -> None:
        """Data only a log reader wants (text output says it on stdout already)."""
        if self._json:
            self._emit(level, {"event": event, **fields})

    # -- progress -----------------------------------------------------------

    def start(self, label: str, total: int) -> None:
        with self._lock:
            self._task = (label, total)
            self._done = 0
            self._failed = 0
            self._started = self._clock()
            self._last_shown = float("-inf")
            self._shown_any = False

    def update(self, done: int, total: int | None = None) -> None:
        with self._lock:
            if self._task is None:
                return
            if total is not None:
                self._task = (self._task[0], total)
            self._done = done
        self._show()

    def advance(self) -> None:
        with self._lock:
            if self._task is None:
                return
            self._done += 1
        self._show()

    def finish(self) -> None:
        if self._shown_any:
            self._show(force=True)
        with self._lock:
            task, self._task = self._task, None
            drawn = self._shown_any
        if task is not None and drawn and self._terminal and not self._json:
            self._write("\n")

    def _show(self, force: bool = False) -> None:
        if self._quiet:
            return
        with self._lock:
            if self._task is None:
                return
            label, total = self._task
            done, failed, now = self._done, self._failed, self._clock()
            interval = REDRAW_INTERVAL if self._terminal and not self._json else LINE_INTERVAL
            if not force and (
                now - self._started < QUIET_START or now - self._last_shown < interval
            ):
                return
            self._last_shown = now
            self._shown_any = True
        elapsed = now - self._started
        if self._json:
            self._emit(
                "info",
                {
                    "event": "progress",
                    "task": label,
                    "done": done,
                    "total": total,
                    "failed": failed,
                    "elapsed_s": round(elapsed, 1),
                },
            )
            return
        tail = f"  {_clock(elapsed)} elapsed"
        if 0 < done < total:
            tail += f", about {_clock(elapsed / done * (total - done))} left"
        if failed:
            tail += f", {failed} failed"
        if self._terminal:
            filled = BAR_WIDTH * done // total if total else BAR_WIDTH
            bar = "#" * filled + "-" * (BAR_WIDTH - filled)
            # Pad so a shorter line fully covers the one it redraws.
            self._write(f"\r{label} [{bar}] {done}/{total}{tail}".ljust(LINE_WIDTH))
        else:
            self._line(f"{label}: {done}/{total}{tail}")

    def _emit(self, level: Level, record: dict[str, Any]) -> None:
        self._write(json_line(level, record, self._wall_clock) + "\n")

    def _line(self, text: str) -> None:
        """A text line (text that may start with the \\r of a line over the bar)."""
        if self.timestamps:
            over = text.startswith("\r")
            text = ("\r" if over else "") + text_line(text.removeprefix("\r"), self._wall_clock)
        self._write(text + "\n")

    def _write(self, text: str) -> None:
        with self._lock:
            self._stream.write(text)
            self._stream.flush()


def _clock(seconds: float) -> str:
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"
